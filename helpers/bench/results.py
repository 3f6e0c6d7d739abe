"""Sizes, measurements and the tables they print as: lesson 05's results.

A :class:`Measurement` is repeated timings of one thing (seconds per
transfer, round trip or start); :class:`Results` holds one experiment's
measurements and prints as a table (``str(results)``). Sizes are read and
written in binary units.

>>> format_size(64 * 1024), parse_size("4 MiB")
('64 KiB', 4194304)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from helpers.workers.bench import KiB, MiB

__all__ = [
    "BULK_CHANNELS",
    "BULK_LIMITS",
    "DEFAULT_REPEATS",
    "FULL_SIZES",
    "HELD_TO",
    "LARGEST_SIZE",
    "LATENCY_CHANNELS",
    "LATENCY_LIMITS",
    "Measurement",
    "Results",
    "duration",
    "format_size",
    "held_to",
    "parse_size",
    "rate",
    "size_ladder",
]

# 1 KiB, 4 KiB, ... 256 MiB: each step ×4, so ten sizes span the range.
FULL_SIZES = tuple(KiB * 4**step for step in range(10))
LARGEST_SIZE = 1024 * MiB
DEFAULT_REPEATS = 5

BULK_CHANNELS = {
    "array": "Array + numpy",
    "shared_memory": "SharedMemory + numpy",
    "pipe_bytes": "Pipe.send_bytes chunks",
    "queue": "Queue of byte chunks",
    "pipe_pickle": "pickled ndarray on Pipe",
    "manager": "Manager list of chunks",
}
# Each limit does the same work as the channels it bounds, the fastest way:
# memcpy is the shared-memory copy made into the child's own memory, and the
# raw pipe moves the same bytes through the same pipe with no framing.
BULK_LIMITS = {"memcpy": "memcpy (same copy, private memory)", "os_pipe": "raw os.pipe"}
LATENCY_CHANNELS = {
    "pipe": "Pipe (duplex)",
    "pipe_oneway": "two one-way Pipes",
    "queue": "Queue",
    "manager": "Manager proxy call",
    "value": "Value with its lock",
}
# A duplex Pipe is a socket pair on Unix; a one-way Pipe is an os.pipe. Each
# limit moves one byte there and back over the same kind of descriptor, raw;
# the lock-free RawValue is what a Value's spinning costs without its lock.
LATENCY_LIMITS = {
    "socket": "raw socket pair",
    "os_pipe": "raw os.pipe",
    "raw_value": "RawValue, no lock",
}
# The limit each channel is held to (``held_to`` in the JSON), like for like.
HELD_TO = {
    "array": "memcpy",
    "shared_memory": "memcpy",
    "manager_bulk": "memcpy",
    "pipe_bytes": "os_pipe",
    "queue_bulk": "os_pipe",
    "pipe_pickle": "os_pipe",
    "pipe": "socket",
    "pipe_oneway": "os_pipe",
    "queue": "os_pipe",
    "manager": "socket",
    "value": "raw_value",
}


def held_to(experiment: str, name: str) -> str | None:
    """The limit channel ``name`` is held to in ``experiment`` (None for a limit itself).

    >>> held_to("bulk", "queue"), held_to("latency", "queue"), held_to("latency", "os_pipe")
    ('os_pipe', 'os_pipe', None)
    """
    if experiment in ("bulk", "chunks") and name in ("queue", "manager"):
        return HELD_TO[f"{name}_bulk"]
    if experiment not in ("bulk", "chunks", "latency"):
        return None
    return HELD_TO.get(name)


# --------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------


def format_size(size: int) -> str:
    """``65536`` → ``'64 KiB'``; whole binary units where possible."""
    for unit, scale in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB,
    "kib": KiB,
    "m": MiB,
    "mib": MiB,
    "g": 1024 * MiB,
    "gib": 1024 * MiB,
}


def parse_size(text: Any, name: str = "size") -> int:
    """Parse ``'64 KiB'``, ``'4MiB'``, ``'1k'`` or ``'512'`` (bytes) into a byte count.

    >>> parse_size("256 MiB")
    268435456
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise TypeError(f"{name} must be a size such as '64 KiB', not {type(text).__name__}")
    if isinstance(text, int):
        return _require_size(text, name)
    cleaned = text.strip().lower().replace(" ", "")
    digits = cleaned.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = cleaned[len(digits) :]
    if not digits.isdigit() or unit not in _UNITS:
        raise ValueError(f"{name}: {text!r} is not a size; write e.g. 512, 64 KiB, 4 MiB")
    return _require_size(int(digits) * _UNITS[unit], name)


def _require_size(size: int, name: str) -> int:
    if size < 1 or size > LARGEST_SIZE:
        raise ValueError(f"{name} must be between 1 B and {format_size(LARGEST_SIZE)}, not {size}")
    return size


def size_ladder(smallest: Any, largest: Any) -> list[int]:
    """Sizes from ``smallest`` to ``largest``, each ×4 the one before (both included).

    >>> [format_size(s) for s in size_ladder("1 KiB", "64 KiB")]
    ['1 KiB', '4 KiB', '16 KiB', '64 KiB']
    """
    low, high = parse_size(smallest, "smallest"), parse_size(largest, "largest")
    if low > high:
        raise ValueError(
            f"smallest ({format_size(low)}) must not be larger than largest ({format_size(high)})"
        )
    sizes = [low]
    while sizes[-1] * 4 < high:
        sizes.append(sizes[-1] * 4)
    if sizes[-1] != high:
        sizes.append(high)
    return sizes


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """Repeated timings of one thing: seconds per transfer, round trip or start."""

    name: str
    label: str
    size: int
    samples: tuple[float, ...]
    limit: bool = False
    verified: bool = True
    chunk: int | None = None
    warm_up: float | None = None

    @property
    def median(self) -> float:
        ordered = sorted(self.samples)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2

    @property
    def best(self) -> float:
        """The fastest repeat: a busy machine only ever adds time."""
        return min(self.samples)

    @property
    def spread(self) -> float:
        """(slowest − fastest) / median: how much the repeats disagreed."""
        return (max(self.samples) - min(self.samples)) / self.median if self.median else 0.0

    @property
    def throughput(self) -> float:
        """Bytes per second at the median."""
        return self.size / self.median

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "size": self.size,
            "chunk": self.chunk,
            "limit": self.limit,
            "verified": self.verified,
            "samples": list(self.samples),
            "warm_up": self.warm_up,
            "median": self.median,
            "spread": self.spread,
        }


@dataclass
class Results:
    """The measurements of one experiment, printable as a table (``str(results)``)."""

    experiment: str
    measurements: list[Measurement] = field(default_factory=list)
    repeats: int = DEFAULT_REPEATS
    # Start-up only: the phases of each method's last start (timeline events,
    # ns from its start() call) and what its child found in memory at once.
    phases: list[Any] = field(default_factory=list)
    memory: dict[str, dict[str, int]] = field(default_factory=dict)

    def get(self, name: str, size: int | None = None, chunk: int | None = None) -> Measurement:
        for m in self.measurements:
            if m.name == name and size in (None, m.size) and chunk in (None, m.chunk):
                return m
        where = "" if size is None else f" at {format_size(size)}"
        raise KeyError(f"no {self.experiment} measurement of {name!r}{where}")

    def names(self) -> list[str]:
        return list(dict.fromkeys(m.name for m in self.measurements))

    def sizes(self) -> list[int]:
        return sorted({m.size for m in self.measurements})

    def channels(self) -> list[str]:
        return list(dict.fromkeys(m.name for m in self.measurements if not m.limit))

    @property
    def intact(self) -> bool:
        """True when every transfer arrived with the checksum the child sent."""
        return all(m.verified for m in self.measurements)

    def percent_of(self, name: str, limit: str, size: int | None = None) -> float:
        """How fast ``name`` was, as a percentage of ``limit``'s speed (same size)."""
        return 100 * self.get(limit, size).median / self.get(name, size).median

    def rows(self) -> list[dict[str, Any]]:
        """Plain dicts (name, kind, size, seconds), e.g. for an exercise."""
        return [
            {
                "name": m.name,
                "kind": "limit" if m.limit else "channel",
                "size": m.size,
                "seconds": m.median,
            }
            for m in self.measurements
        ]

    def summary(self) -> str:
        """One stable line: what was measured and whether every transfer was intact."""
        channels, limits = len(self.channels()), len(self.names()) - len(self.channels())
        sizes = len(self.sizes())
        what = f"{channels} channel{'s' * (channels != 1)}"
        if limits:
            what += f" + {limits} limit{'s' * (limits != 1)}"
        line = f"{self.experiment}: {', '.join(self.names())}"
        if self.experiment in ("bulk", "chunks"):
            line = f"{self.experiment}: {what} × {sizes} size{'s' * (sizes != 1)}"
        line += f", {self.repeats} timed repeats each"
        if self.experiment in ("bulk", "chunks", "first touch"):
            line += ", every transfer intact: " + str(self.intact)
        return line

    def as_dict(self) -> dict[str, Any]:
        extra = {"memory": self.memory} if self.memory else {}
        return {
            **extra,
            "experiment": self.experiment,
            "repeats": self.repeats,
            "measurements": [
                {**m.as_dict(), "held_to": held_to(self.experiment, m.name)}
                for m in self.measurements
            ],
        }

    def __str__(self) -> str:
        return _TABLES[self.experiment](self)


def _spread(m: Measurement) -> str:
    return f"±{50 * m.spread:.0f} %"


def rate(bytes_per_second: float) -> str:
    """``2.5e9`` → ``'2.5 GB/s'``."""
    return f"{bytes_per_second / 1e9:.3g} GB/s"


def duration(seconds: float) -> str:
    """Seconds in the unit that reads best: ``0.0021`` → ``'2.1 ms'``."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _times(ratio: float) -> str:
    return f"{ratio:.0f}×" if ratio >= 100 else f"{ratio:.3g}×"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *map(list, rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _percent(results: Results, m: Measurement, limit: str | None) -> str:
    try:
        percent = 100 * results.get(limit, m.size).median / m.median if limit else None
    except KeyError:
        percent = None
    if percent is None:
        return "—"
    return f"{percent:.0f} %" if percent >= 100 else f"{percent:.3g} %"


def _held_to(results: Results, m: Measurement) -> tuple[str, str]:
    """(the limit's label, the channel's speed as % of it), or dashes for a limit."""
    limit = held_to(results.experiment, m.name)
    labels = {**BULK_LIMITS, **LATENCY_LIMITS}
    if limit is None:
        return "—", "—"
    return labels[limit], _percent(results, m, limit)


def _bulk_table(results: Results) -> str:
    rows = []
    for size in results.sizes():
        for m in (m for m in results.measurements if m.size == size):
            rows.append(
                [
                    m.label + (" (limit)" if m.limit else ""),
                    format_size(m.size),
                    duration(m.median),
                    _spread(m),
                    rate(m.throughput),
                    *_held_to(results, m),
                    "✔" if m.verified else "✘",
                ]
            )
    header = ["channel", "size", "median", "spread", "speed", "held to", "% of it", "intact"]
    return _table(header, rows) + _footnote(results)


def _chunk_table(results: Results) -> str:
    rows = [
        [
            m.label,
            format_size(m.size),
            "—" if m.chunk is None else format_size(m.chunk),
            duration(m.median),
            _spread(m),
            rate(m.throughput),
            _percent(results, m, "os_pipe"),
            "✔" if m.verified else "✘",
        ]
        for m in results.measurements
    ]
    header = ["channel", "size", "chunk", "median", "spread", "speed", "% os.pipe", "intact"]
    return _table(header, rows) + _footnote(results)


def _latency_table(results: Results) -> str:
    rows = [
        [
            m.label + (" (limit)" if m.limit else ""),
            f"{m.median * 1e6:.3g} µs",
            _spread(m),
            *_held_to(results, m),
        ]
        for m in results.measurements
    ]
    header = ["round trip", "median", "spread", "held to", "% of its speed"]
    return _table(header, rows) + _footnote(results)


def _startup_table(results: Results) -> str:
    fastest = min(m.median for m in results.measurements)
    rows = [
        [m.label, duration(m.median), _spread(m), _times(m.median / fastest)]
        for m in results.measurements
    ]
    return _table(["start + join", "median", "spread", "× fastest"], rows) + _footnote(results)


def _seed_table(results: Results) -> str:
    slowest = max(m.median for m in results.measurements)
    rows = [
        [
            m.label,
            format_size(m.size),
            duration(m.median),
            _spread(m),
            _times(slowest / m.median),
        ]
        for m in results.measurements
    ]
    header = ["write into a locked Array", "size", "median", "spread", "speed-up"]
    return _table(header, rows) + _footnote(results)


def _first_touch_table(results: Results) -> str:
    rows = [
        [m.label, format_size(m.size), duration(m.median), _spread(m), rate(m.throughput)]
        for m in results.measurements
    ]
    header = ["destination", "size", "median", "spread", "speed"]
    return _table(header, rows) + _footnote(results)


def _footnote(results: Results) -> str:
    return (
        f"\nmedian of {results.repeats} timed repeats after one untimed warm-up;"
        " spread = ±half of (slowest − fastest) / median"
    )


_TABLES: dict[str, Callable[[Results], str]] = {
    "bulk": _bulk_table,
    "chunks": _chunk_table,
    "latency": _latency_table,
    "startup": _startup_table,
    "seed": _seed_table,
    "first touch": _first_touch_table,
}
