"""Measure every channel of the course against this machine's limits: lesson 05.

Experiments (each timed in the parent, warmed up, repeated, median and spread):

* **bulk** — move ``size`` bytes from a child to the parent through each
  channel, and through two limits that do the same work the fastest way:
  ``memcpy`` (the shared-memory copy, made into the child's own memory) and a
  raw ``os.pipe`` (the same bytes through the same enlarged pipe, unframed).
  The child sends a CRC-32 of what it had; the parent checks what it got.
* **latency** — one small message there and back (ping-pong), in µs.
* **startup** — start and join one child under each start method, with the
  fork server preloaded or not.
* **seed** — element-by-element writes into a locked ``Array`` against one
  bulk numpy write; plus **first touch** and **chunks**.

The package is split along those lines: :mod:`~helpers.bench.workers` (what
children run — the only module a child imports, and a light one),
:mod:`~helpers.bench.channels`, :mod:`~helpers.bench.experiments`,
:mod:`~helpers.bench.latency`, :mod:`~helpers.bench.startup`,
:mod:`~helpers.bench.results` (measurements and tables),
:mod:`~helpers.bench.advice`, :mod:`~helpers.bench.plots`, and the terminal
version in ``__main__`` (``python -m helpers.bench --help``).

Names are loaded from their module on first use, so importing this package
(which a child does before it imports the workers) costs nothing.

>>> from helpers.bench import format_size, parse_size
>>> format_size(64 * 1024), parse_size("4 MiB")
('64 KiB', 4194304)
"""

from __future__ import annotations

import importlib

# Children import this package: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WHERE = {
    "advice": (
        "FORKSERVER_GOAL GUIDE_NEEDS LIMIT_OF MEMCPY_GOAL NOISE PIPE_GOAL conclusions "
        "decision_guide format_goals goals measured"
    ),
    "experiments": (
        "MAX_REPEATS TRANSFER_TIMEOUT measure_bulk measure_chunks measure_first_touch "
        "measure_array_writes measure_seed_writes sweep"
    ),
    "latency": "MAX_ROUND_TRIPS measure_latency",
    "plots": "plot_bulk plot_latency",
    "results": (
        "BULK_CHANNELS BULK_LIMITS DEFAULT_REPEATS FULL_SIZES LARGEST_SIZE LATENCY_CHANNELS "
        "HELD_TO LATENCY_LIMITS Measurement Results duration format_size held_to parse_size rate "
        "size_ladder"
    ),
    "startup": "PRELOAD measure_startup plot_startup preload_forkserver",
    "workers": (
        "MANAGER_CHUNK PIPE_BUFFER PIPE_CHUNK QUEUE_CHUNK RAW_PIPE_WRITE KiB MiB enlarge_pipe "
        "make_payload shared_memory_sender"
    ),
    "__main__": "EXPERIMENTS main",
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names.split()}

__all__ = [
    "BULK_CHANNELS",
    "BULK_LIMITS",
    "DEFAULT_REPEATS",
    "EXPERIMENTS",
    "FORKSERVER_GOAL",
    "FULL_SIZES",
    "GUIDE_NEEDS",
    "HELD_TO",
    "LARGEST_SIZE",
    "LATENCY_CHANNELS",
    "LATENCY_LIMITS",
    "LIMIT_OF",
    "MANAGER_CHUNK",
    "MAX_REPEATS",
    "MAX_ROUND_TRIPS",
    "MEMCPY_GOAL",
    "NOISE",
    "PIPE_BUFFER",
    "PIPE_CHUNK",
    "PIPE_GOAL",
    "PRELOAD",
    "QUEUE_CHUNK",
    "RAW_PIPE_WRITE",
    "TRANSFER_TIMEOUT",
    "KiB",
    "Measurement",
    "MiB",
    "Results",
    "conclusions",
    "decision_guide",
    "duration",
    "enlarge_pipe",
    "format_goals",
    "format_size",
    "goals",
    "held_to",
    "main",
    "make_payload",
    "measure_array_writes",
    "measure_bulk",
    "measure_chunks",
    "measure_first_touch",
    "measure_latency",
    "measure_seed_writes",
    "measure_startup",
    "measured",
    "parse_size",
    "plot_bulk",
    "plot_latency",
    "plot_startup",
    "preload_forkserver",
    "rate",
    "shared_memory_sender",
    "size_ladder",
    "sweep",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'helpers.bench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"helpers.bench.{module}"), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])
