"""Lesson 05 (Which channel when): every channel measured against this machine's limits.

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

The package is split along those lines: what children run is
:mod:`helpers.workers.bench` (the only module of the benchmark a child imports,
and a light one); the parent's side is :mod:`~helpers.bench.channels`,
:mod:`~helpers.bench.experiments`, :mod:`~helpers.bench.latency`,
:mod:`~helpers.bench.startup`, :mod:`~helpers.bench.results` (measurements and tables),
:mod:`~helpers.bench.advice`, :mod:`~helpers.bench.plots`, and the terminal
version in ``__main__`` (``python -m helpers.bench --help``).

>>> from helpers.bench import format_size, parse_size
>>> format_size(64 * 1024), parse_size("4 MiB")
('64 KiB', 4194304)
"""

from __future__ import annotations

from helpers.bench.advice import (
    FORKSERVER_GOAL,
    GUIDE_NEEDS,
    LIMIT_OF,
    MEMCPY_GOAL,
    NOISE,
    PIPE_GOAL,
    conclusions,
    decision_guide,
    format_goals,
    goals,
    measured,
)
from helpers.bench.experiments import (
    MAX_REPEATS,
    TRANSFER_TIMEOUT,
    measure_array_writes,
    measure_bulk,
    measure_chunks,
    measure_first_touch,
    measure_seed_writes,
    sweep,
)
from helpers.bench.latency import (
    MAX_ROUND_TRIPS,
    measure_latency,
)
from helpers.bench.plots import (
    plot_bulk,
    plot_latency,
)
from helpers.bench.results import (
    BULK_CHANNELS,
    BULK_LIMITS,
    DEFAULT_REPEATS,
    FULL_SIZES,
    HELD_TO,
    LARGEST_SIZE,
    LATENCY_CHANNELS,
    LATENCY_LIMITS,
    Measurement,
    Results,
    duration,
    format_size,
    held_to,
    parse_size,
    rate,
    size_ladder,
)
from helpers.bench.startup import (
    PRELOAD,
    measure_startup,
    plot_startup,
    preload_forkserver,
)
from helpers.workers import bench as workers
from helpers.workers.bench import (
    MANAGER_CHUNK,
    PIPE_BUFFER,
    PIPE_CHUNK,
    QUEUE_CHUNK,
    RAW_PIPE_WRITE,
    KiB,
    MiB,
    enlarge_pipe,
    make_payload,
    shared_memory_sender,
)

__all__ = [
    "BULK_CHANNELS",
    "BULK_LIMITS",
    "DEFAULT_REPEATS",
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
    "workers",
]
