"""Measure every channel of the course against this machine's limits: lesson 05.

Four experiments, each timed in the parent with ``time.perf_counter`` and
repeated (one untimed warm-up first, then ``repeats`` timed runs whose median
is reported together with their spread):

* **bulk** — move ``size`` bytes from a child to the parent through each
  channel, and through the two limits: ``memcpy`` inside one process
  (``numpy.copyto``) and a raw ``os.pipe`` between two processes (which takes
  turns with ``Pipe.send_bytes`` through the same pipe, so the two see the
  same conditions). The child sends a CRC-32 of what it had; the parent
  checks what it got against it.
* **latency** — one small message there and back (ping-pong), in µs.
* **startup** — start and join one child under each start method.
* **seed** — the seed example's element-by-element writes into a locked
  ``Array`` against one bulk numpy write.

Plus two focused ones: **first touch** (a fresh shared memory segment per
transfer against a reused one) and **chunks** (``Pipe.send_bytes`` at several
chunk sizes against the raw pipe).

Lifecycle: every function here starts its children through
:mod:`helpers.running`, joins them before it returns (terminating any that
overrun), shuts down the managers it starts, and closes and unlinks exactly
once — in a ``finally`` — every shared memory segment it creates. Every wait
is bounded by ``timeout`` seconds. Children never print: they send data,
checksums and errors back, and the caller prints.

numpy, matplotlib and tqdm are imported inside the functions that use them,
because children import this module and should not pay for them.

Run ``python -m helpers.bench --help`` for the terminal version.

>>> format_size(64 * 1024), parse_size("4 MiB")
('64 KiB', 4194304)
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any

from helpers.context import START_METHODS, get_context
from helpers.running import Child, ChildError, ChildTimeout, receive, start, stop, wait
from helpers.validation import require_context, require_positive_int, require_timeout

if TYPE_CHECKING:
    import argparse

__all__ = [
    "BULK_CHANNELS",
    "BULK_LIMITS",
    "DEFAULT_REPEATS",
    "EXPERIMENTS",
    "FULL_SIZES",
    "GUIDE_NEEDS",
    "LATENCY_CHANNELS",
    "LATENCY_LIMITS",
    "MANAGER_CHUNK",
    "PIPE_CHUNK",
    "QUEUE_CHUNK",
    "TRANSFER_TIMEOUT",
    "KiB",
    "Measurement",
    "MiB",
    "Results",
    "array_sender",
    "conclusions",
    "decision_guide",
    "format_size",
    "format_targets",
    "fresh_segment_sender",
    "main",
    "make_payload",
    "manager_sender",
    "measure_bulk",
    "measure_chunks",
    "measure_first_touch",
    "measure_latency",
    "measure_seed_writes",
    "measure_startup",
    "os_pipe_echo",
    "parse_size",
    "pipe_echo",
    "pipe_pickle_sender",
    "pipe_sender",
    "plot_bulk",
    "plot_latency",
    "queue_echo",
    "queue_sender",
    "seed_writer",
    "shared_memory_sender",
    "size_ladder",
    "sweep",
    "targets",
    "value_echo",
]

KiB = 1024
MiB = 1024 * KiB
# 1 KiB, 4 KiB, ... 256 MiB: each step ×4, so ten sizes span the range.
FULL_SIZES = tuple(KiB * 4**step for step in range(10))
LARGEST_SIZE = 1024 * MiB
DEFAULT_REPEATS = 5
MAX_REPEATS = 50
MAX_ROUND_TRIPS = 100_000
# Per transfer (or per batch of round trips): generous, because a 256 MiB
# transfer through a Manager takes seconds on a busy laptop.
TRANSFER_TIMEOUT = 120.0
# A child that failed first gets this long to report before it is stopped.
_GRACE = 2.0

# Chunk sizes, chosen by measuring (see ``measure_chunks``). A Linux pipe holds
# 64 KiB: one pipeful per message keeps the extra copies Connection makes in
# the CPU cache. Here 16 KiB to 1 MiB all do well (which wins depends on
# whether the two processes share a CPU); 1 KiB pays Python's per-message cost
# on every kilobyte, and 16 MiB makes Connection allocate fresh memory for
# each message (page faults).
PIPE_CHUNK = 64 * KiB
# Queue pickles each chunk in a feeder thread: a few hundred KiB amortises
# the per-item cost without big fresh allocations.
QUEUE_CHUNK = 256 * KiB
# Every Manager call is a round trip to the server, so bigger items pay fewer.
MANAGER_CHUNK = 1 * MiB
# The payload repeats a random block whose length is prime, so no chunk of
# a power-of-two size equals another: lost, duplicated or reordered chunks
# change the CRC-32.
_PERIOD = 65521

BULK_CHANNELS = {
    "array": "Array + numpy",
    "shared_memory": "SharedMemory + numpy",
    "pipe_bytes": "Pipe.send_bytes chunks",
    "queue": "Queue of byte chunks",
    "pipe_pickle": "pickled ndarray on Pipe",
    "manager": "Manager list of chunks",
}
BULK_LIMITS = {"memcpy": "memcpy (numpy.copyto)", "os_pipe": "raw os.pipe"}
LATENCY_CHANNELS = {
    "pipe": "Pipe",
    "queue": "Queue",
    "manager": "Manager proxy call",
    "value": "Value with its lock",
}
LATENCY_LIMITS = {"os_pipe": "raw os.pipe"}


# --------------------------------------------------------------------------
# Sizes and payloads
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


def make_payload(size: int) -> bytearray:
    """The bytes a child sends: deterministic, not periodic in any power of two.

    Filled in place, block by block, so a 256 MiB payload needs 256 MiB, not twice that.
    """
    block = random.Random(_PERIOD).randbytes(_PERIOD)
    payload = bytearray(size)
    for offset in range(0, size, _PERIOD):
        payload[offset : offset + _PERIOD] = block[: size - offset]
    return payload


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
        return {
            "experiment": self.experiment,
            "repeats": self.repeats,
            "measurements": [m.as_dict() for m in self.measurements],
        }

    def __str__(self) -> str:
        return _TABLES[self.experiment](self)


def _spread(m: Measurement) -> str:
    return f"±{50 * m.spread:.0f} %"


def _rate(bytes_per_second: float) -> str:
    return f"{bytes_per_second / 1e9:.3g} GB/s"


def _duration(seconds: float) -> str:
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


def _percent(results: Results, m: Measurement, limit: str) -> str:
    try:
        percent = 100 * results.get(limit, m.size).median / m.median
    except KeyError:
        return "—"
    return f"{percent:.0f} %" if percent >= 100 else f"{percent:.3g} %"


def _bulk_table(results: Results) -> str:
    rows = []
    for size in results.sizes():
        for m in (m for m in results.measurements if m.size == size):
            rows.append(
                [
                    m.label + (" (limit)" if m.limit else ""),
                    format_size(m.size),
                    _duration(m.median),
                    _spread(m),
                    _rate(m.throughput),
                    _percent(results, m, "memcpy"),
                    _percent(results, m, "os_pipe"),
                    "✔" if m.verified else "✘",
                ]
            )
    header = ["channel", "size", "median", "spread", "speed", "% memcpy", "% os.pipe", "intact"]
    return _table(header, rows) + _footnote(results)


def _chunk_table(results: Results) -> str:
    rows = [
        [
            m.label,
            format_size(m.size),
            "—" if m.chunk is None else format_size(m.chunk),
            _duration(m.median),
            _spread(m),
            _rate(m.throughput),
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
            _percent(results, m, "os_pipe"),
        ]
        for m in results.measurements
    ]
    header = ["round trip", "median", "spread", "% os.pipe speed"]
    return _table(header, rows) + _footnote(results)


def _startup_table(results: Results) -> str:
    fastest = min(m.median for m in results.measurements)
    rows = [
        [m.label, _duration(m.median), _spread(m), _times(m.median / fastest)]
        for m in results.measurements
    ]
    return _table(["start + join", "median", "spread", "× fastest"], rows) + _footnote(results)


def _seed_table(results: Results) -> str:
    slowest = max(m.median for m in results.measurements)
    rows = [
        [
            m.label,
            format_size(m.size),
            _duration(m.median),
            _spread(m),
            _times(slowest / m.median),
        ]
        for m in results.measurements
    ]
    header = ["write into a locked Array", "size", "median", "spread", "speed-up"]
    return _table(header, rows) + _footnote(results)


def _first_touch_table(results: Results) -> str:
    rows = [
        [m.label, format_size(m.size), _duration(m.median), _spread(m), _rate(m.throughput)]
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


# --------------------------------------------------------------------------
# Bounded waits
# --------------------------------------------------------------------------


def _left(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"{what} did not happen before the deadline")
    return left


def _receive(conn: Any, deadline: float, what: str) -> Any:
    """Wait (bounded by ``deadline``) for one object on ``conn``."""
    return receive(conn, timeout=_left(deadline, what), waiting_for=what)


def _expect(conn: Any, deadline: float, word: str, what: str) -> tuple:
    message = _receive(conn, deadline, what)
    if message[0] != word:
        raise RuntimeError(f"expected {word!r} from the child, got {message!r}")
    return message


def _stop_after_failure(child: Child, failure: BaseException) -> None:
    """After the parent failed: stop ``child``; if it had failed first, raise its error."""
    child.process.join(_GRACE)
    failed_first = not child.process.is_alive()
    try:
        wait([child], timeout=_GRACE)
    except ChildError as error:
        # A timeout or Ctrl-C is the parent's own story; otherwise the
        # child's exception is the one that explains what went wrong.
        if failed_first and not isinstance(failure, (KeyboardInterrupt, TimeoutError)):
            raise error from failure
    except ChildTimeout:
        pass


@contextmanager
def _child(
    ctx: BaseContext, target: Callable[..., Any], *args: Any, timeout: float
) -> Iterator[Child]:
    """Start ``target`` in a child; join it on exit (stop it if the block failed)."""
    child = start(ctx, target, *args)
    try:
        yield child
    except BaseException as failure:
        _stop_after_failure(child, failure)
        raise
    child.wait(timeout)


@contextmanager
def _watchdog(seconds: float, on_expiry: Callable[[], None], what: str) -> Iterator[None]:
    """Call ``on_expiry`` if the block runs longer than ``seconds``; then raise TimeoutError.

    For waits that take no timeout, or whose per-call timeout would cost as
    much as what is measured (``poll()`` before every ``recv()`` doubles a
    Pipe round trip here): stopping the other process makes the blocked call
    fail at once, so the block ends within ``seconds`` anyway.
    """
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        on_expiry()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as error:
        if fired.is_set():
            raise TimeoutError(f"{what} took longer than {seconds:g} s and was stopped") from error
        raise
    finally:
        timer.cancel()


# --------------------------------------------------------------------------
# Workers: each runs in a child and sends the payload to the parent
# --------------------------------------------------------------------------


def _serve(ctrl: Any, send: Callable[..., None], timeout: float) -> None:
    """Runs in the child: obey the parent's commands on ``ctrl`` until "stop".

    ``("size", n)`` builds the payload and answers ``("ready", crc32)``;
    ``("go", chunk, *extra)`` calls ``send(payload, chunk, *extra)``.
    """
    payload = memoryview(b"")
    while True:
        if not ctrl.poll(timeout):
            raise TimeoutError(f"the parent sent no command for {timeout:g} s")
        command = ctrl.recv()
        if command[0] == "stop":
            return
        if command[0] == "size":
            payload = memoryview(make_payload(command[1]))
            ctrl.send(("ready", zlib.crc32(payload)))
        else:
            send(payload, *command[1:])


def array_sender(ctrl: Any, array: Any, timeout: float) -> None:
    """Runs in the child: on "go", copy the payload into the shared ``Array``, say "done".

    One numpy copy under one acquisition of the Array's lock; the parent then
    reads the same memory, so nothing else moves.
    """
    import numpy as np  # noqa: PLC0415 - only this child needs it

    whole = np.frombuffer(array.get_obj(), dtype=np.uint8)

    def send(payload: memoryview, chunk: int) -> None:
        with array.get_lock():
            np.copyto(whole[: len(payload)], np.frombuffer(payload, dtype=np.uint8))
        ctrl.send(("done",))

    _serve(ctrl, send, timeout)


def _copy_into_segment(segment: Any, payload: memoryview) -> None:
    import numpy as np  # noqa: PLC0415 - only children that use shared memory need it

    # The view lives only inside this call: a numpy view still alive when
    # segment.close() runs would make close() fail ("exported pointers exist").
    view = np.ndarray((len(payload),), dtype=np.uint8, buffer=segment.buf)
    np.copyto(view, np.frombuffer(payload, dtype=np.uint8))


def shared_memory_sender(ctrl: Any, name: str, timeout: float) -> None:
    """Runs in the child: attach segment ``name`` once; on each "go" copy the payload in.

    Reusing one segment means its pages are faulted in once, by the warm-up.
    The child closes its mapping; the parent, who created it, unlinks it.
    """
    from multiprocessing import shared_memory  # noqa: PLC0415 - keeps `import helpers.bench` light

    segment = shared_memory.SharedMemory(name=name)
    try:

        def send(payload: memoryview, chunk: int) -> None:
            _copy_into_segment(segment, payload)
            ctrl.send(("done",))

        _serve(ctrl, send, timeout)
    finally:
        segment.close()


def fresh_segment_sender(ctrl: Any, timeout: float) -> None:
    """Runs in the child: on ("go", 0, name) attach that new segment, copy in, close, say "done".

    Every transfer writes to pages nobody has touched yet: the first-touch case.
    """
    from multiprocessing import shared_memory  # noqa: PLC0415 - keeps `import helpers.bench` light

    def send(payload: memoryview, chunk: int, name: str) -> None:
        segment = shared_memory.SharedMemory(name=name)
        try:
            _copy_into_segment(segment, payload)
        finally:
            segment.close()
        ctrl.send(("done",))

    _serve(ctrl, send, timeout)


def pipe_sender(ctrl: Any, conn: Any, timeout: float) -> None:
    """Runs in the child: send the payload through one pipe, raw or framed, as told.

    ``("go", chunk, "os_pipe")``: ``os.write`` of ``chunk``-byte pieces straight
    to the descriptor — no framing, no Python objects: the limit for anything
    that uses a pipe. ``("go", chunk, "pipe_bytes")``: ``conn.send_bytes(buffer,
    offset, size)`` per chunk — it writes from the buffer without copying, plus
    a 4-byte header. Both go through the same pipe between the same two
    processes, in the same pieces, so they are compared under the same conditions.
    """

    def send(payload: memoryview, chunk: int, how: str) -> None:
        if how == "os_pipe":
            written = 0
            while written < len(payload):
                written += os.write(conn.fileno(), payload[written : written + chunk])
            return
        for offset in range(0, len(payload), chunk):
            conn.send_bytes(payload, offset, min(chunk, len(payload) - offset))

    _serve(ctrl, send, timeout)


def queue_sender(ctrl: Any, queue: Any, timeout: float) -> None:
    """Runs in the child: on "go", put the payload on ``queue`` as ``bytes`` chunks.

    A Queue pickles what it is given, so each chunk is copied into a bytes object.
    """

    def send(payload: memoryview, chunk: int) -> None:
        for offset in range(0, len(payload), chunk):
            queue.put(payload[offset : offset + chunk].tobytes())

    _serve(ctrl, send, timeout)


def pipe_pickle_sender(ctrl: Any, conn: Any, timeout: float) -> None:
    """Runs in the child: on "go", ``conn.send`` the payload as one numpy array (pickled)."""
    import numpy as np  # noqa: PLC0415 - only this child needs it

    def send(payload: memoryview, chunk: int) -> None:
        conn.send(np.frombuffer(payload, dtype=np.uint8))

    _serve(ctrl, send, timeout)


def manager_sender(ctrl: Any, chunks: Any, timeout: float) -> None:
    """Runs in the child: on "go", append the payload to a Manager list in chunks; say "done".

    Each append is a round trip to the manager's server process, which keeps
    the chunks; the parent then fetches them from the server: two hops.
    """

    def send(payload: memoryview, chunk: int) -> None:
        for offset in range(0, len(payload), chunk):
            chunks.append(payload[offset : offset + chunk].tobytes())
        ctrl.send(("done",))

    _serve(ctrl, send, timeout)


# --------------------------------------------------------------------------
# The parent's side of each bulk channel
# --------------------------------------------------------------------------


@dataclass
class _Channel:
    """What the parent needs to run a channel: the child's worker and a receiver.

    ``receivers[name](ctrl, size, deadline)`` returns a buffer holding what
    arrived (two names share one child when they are compared head to head);
    ``reset()`` runs after each (untimed) check; ``stop()`` is the watchdog's
    way to end a wait on something other than the child (a Manager's server).
    ``named``: the child serves several names, so each "go" says which.
    """

    worker: Callable[..., None]
    args: tuple
    receivers: dict[str, Callable[[Any, int, float], Any]]
    after_start: Callable[[], None] = lambda: None
    named: bool = False
    reset: Callable[[], None] = lambda: None
    stop: Callable[[], None] = lambda: None


def _check_shm_room(size: int) -> None:
    # A segment is created sparse; if /dev/shm is too small (64 MiB in many
    # containers), the child's first write past the limit dies with SIGBUS.
    if os.path.isdir("/dev/shm"):
        stats = os.statvfs("/dev/shm")
        free = stats.f_bavail * stats.f_frsize
        if free < size:
            raise ValueError(
                f"/dev/shm has only {format_size(free)} free, too little for a "
                f"{format_size(size)} segment: choose smaller sizes"
            )


def _open_array(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    import numpy as np  # noqa: PLC0415

    array = ctx.Array("B", largest)  # zero-filled here, so the parent touches it first
    whole = np.frombuffer(array.get_obj(), dtype=np.uint8)

    def receive(ctrl: Any, size: int, deadline: float) -> Any:
        _expect(ctrl, deadline, "done", "the child's copy into the Array")
        return whole[:size]  # read in place: nothing more to move

    return _Channel(array_sender, (array,), {"array": receive})


def _open_shared_memory(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    from multiprocessing import shared_memory  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    _check_shm_room(largest)
    segment = shared_memory.SharedMemory(create=True, size=largest)
    stack.callback(segment.unlink)  # runs after close(): exactly once, whatever happens
    stack.callback(segment.close)
    holder: list[Any] = []

    def receive(ctrl: Any, size: int, deadline: float) -> Any:
        _expect(ctrl, deadline, "done", "the child's copy into the segment")
        holder[:] = [np.ndarray((size,), dtype=np.uint8, buffer=segment.buf)]
        return holder[0]

    receivers = {"shared_memory": receive}
    return _Channel(shared_memory_sender, (segment.name,), receivers, reset=holder.clear)


def _pipe_channel(ctx: BaseContext, stack: ExitStack) -> tuple:
    reader, writer = ctx.Pipe(duplex=False)  # the same kind of pipe as os.pipe()
    stack.callback(reader.close)
    # Once the child has its copy, the parent closes the writing end, so a
    # child that dies makes the reader see end-of-file instead of waiting.
    return reader, writer, writer.close


def _open_pipes(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    """One pipe, read raw (the os.pipe limit) or framed (Pipe.send_bytes), into one buffer."""
    reader, writer, after_start = _pipe_channel(ctx, stack)
    raw = open(reader.fileno(), "rb", buffering=0, closefd=False)  # closed by the stack
    stack.callback(raw.close)
    destination = memoryview(bytearray(largest))  # reused: faulted in once, by the warm-up

    bounce = memoryview(bytearray(PIPE_CHUNK))

    def receive_raw(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:  # no select() per read: the watchdog bounds this loop
            # A pipeful at a time into a small buffer that stays in the CPU
            # cache, then copied out: the pipe is drained fast, so the writer
            # never waits while we write to the big destination. (Reading
            # megabytes straight into it holds the pipe up, and the "limit"
            # then loses to Pipe.send_bytes, which drains the same way.)
            count = raw.readinto(bounce[: min(PIPE_CHUNK, size - got)])
            if not count:
                raise EOFError("the child closed the pipe before sending everything")
            destination[got : got + count] = bounce[:count]
            got += count
        return destination[:size]

    def receive_framed(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:  # no poll() per chunk: the watchdog bounds this loop
            got += reader.recv_bytes_into(destination, got)
        return destination[:size]

    receivers = {"os_pipe": receive_raw, "pipe_bytes": receive_framed}
    return _Channel(pipe_sender, (writer,), receivers, after_start, named=True)


def _open_queue(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    import queue as queue_module  # noqa: PLC0415

    queue = ctx.Queue()
    stack.callback(queue.join_thread)
    stack.callback(queue.close)
    destination = bytearray(largest)

    def receive(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:
            try:
                chunk = queue.get(timeout=_left(deadline, "the Queue transfer"))
            except queue_module.Empty:
                raise TimeoutError(
                    "the Queue transfer did not finish before the deadline"
                ) from None
            destination[got : got + len(chunk)] = chunk
            got += len(chunk)
        return memoryview(destination)[:size]

    return _Channel(queue_sender, (queue,), {"queue": receive})


def _open_pipe_pickle(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    reader, writer, after_start = _pipe_channel(ctx, stack)

    def receive(ctrl: Any, size: int, deadline: float) -> Any:
        return reader.recv()  # bounded by the watchdog

    return _Channel(pipe_pickle_sender, (writer,), {"pipe_pickle": receive}, after_start)


def _open_manager(ctx: BaseContext, largest: int, stack: ExitStack) -> _Channel:
    manager = stack.enter_context(ctx.Manager())
    chunks = manager.list()
    destination = bytearray(largest)

    def receive(ctrl: Any, size: int, deadline: float) -> Any:
        _expect(ctrl, deadline, "done", "the child's appends to the Manager list")
        fetched = chunks[:]  # one call: the server sends every chunk back
        got = 0
        for chunk in fetched:
            destination[got : got + len(chunk)] = chunk
            got += len(chunk)
        return memoryview(destination)[:size]

    def reset() -> None:
        del chunks[:]

    # A proxy call has no timeout: the watchdog shuts the server down instead.
    receivers = {"manager": receive}
    return _Channel(manager_sender, (chunks,), receivers, reset=reset, stop=manager.shutdown)


_OPENERS: dict[str, Callable[[BaseContext, int, ExitStack], _Channel]] = {
    "array": _open_array,
    "shared_memory": _open_shared_memory,
    "pipe_bytes": _open_pipes,
    "queue": _open_queue,
    "pipe_pickle": _open_pipe_pickle,
    "manager": _open_manager,
    "os_pipe": _open_pipes,
}


def _progress(total: int, enabled: bool | None, what: str) -> Any:
    """A tqdm.auto bar, or a stand-in that ignores updates.

    Off by default under pytest (nbval sets PYTEST_CURRENT_TEST in the kernel),
    where a widget would only clutter the checked outputs.
    """
    if enabled is None:
        enabled = "PYTEST_CURRENT_TEST" not in os.environ
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm  # noqa: PLC0415 - optional display dependency

    return tqdm(total=total, desc=what, unit="step", leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _time_memcpy(sizes: Sequence[int], repeats: int, bar: Any) -> list[Measurement]:
    import numpy as np  # noqa: PLC0415

    source = np.frombuffer(make_payload(max(sizes)), dtype=np.uint8)
    destination = np.empty(max(sizes), dtype=np.uint8)
    out = []
    for size in sizes:
        samples = []
        for _ in range(repeats + 1):  # the first run faults the destination in
            started = time.perf_counter()
            np.copyto(destination[:size], source[:size])
            samples.append(time.perf_counter() - started)
        intact = zlib.crc32(destination[:size]) == zlib.crc32(source[:size])
        out.append(_measurement(("memcpy", 0), size, samples, intact))
        bar.update()
    return out


def _key(name: str, chunk: int) -> tuple[str, int | None]:
    """(name, chunk), with chunk None for the channels that do not send in chunks."""
    return name, chunk if name in ("pipe_bytes", "queue", "manager") else None


def _measurement(variant: tuple[str, int], size: int, samples: list, intact: bool) -> Measurement:
    name, chunk = _key(*variant)
    return Measurement(
        name,
        {**BULK_CHANNELS, **BULK_LIMITS}[name],
        size,
        tuple(samples[1:]),
        limit=name in BULK_LIMITS,
        verified=intact,
        chunk=chunk,
        warm_up=samples[0],
    )


def _time_channel(
    ctx: BaseContext,
    variants: Sequence[tuple[str, int]],
    sizes: Sequence[int],
    *,
    repeats: int,
    timeout: float,
    bar: Any,
) -> list[Measurement]:
    """Time each (channel name, chunk) of ``variants`` at each size, with one child.

    Variants that share a child (the raw and the framed pipe) take turns
    transfer by transfer, so a change on the machine hits them alike.
    """
    samples: dict[tuple, list[float]] = {}
    intact: dict[tuple, bool] = {}
    with ExitStack() as stack:
        channel = _OPENERS[variants[0][0]](ctx, max(sizes), stack)
        ctrl, child_ctrl = ctx.Pipe()
        stack.callback(ctrl.close)
        args = (child_ctrl, *channel.args, timeout)
        with _child(ctx, channel.worker, *args, timeout=timeout) as child:
            child_ctrl.close()
            channel.after_start()

            def stop_both() -> None:  # whatever the parent waits on, this ends the wait
                child.process.terminate()
                channel.stop()

            for size in sizes:
                deadline = time.monotonic() + timeout
                ctrl.send(("size", size))
                crc = _expect(ctrl, deadline, "ready", "the child's payload")[1]
                what = f"sending {format_size(size)} through {variants[0][0]} {repeats + 1} times"
                budget = timeout * (repeats + 1) * len(variants)
                with _watchdog(budget, stop_both, what):
                    for _ in range(repeats + 1):  # the first round is the warm-up
                        for name, chunk in variants:
                            key = (name, chunk, size)
                            deadline = time.monotonic() + timeout
                            started = time.perf_counter()
                            ctrl.send(("go", chunk, name) if channel.named else ("go", chunk))
                            received = channel.receivers[name](ctrl, size, deadline)
                            samples.setdefault(key, []).append(time.perf_counter() - started)
                            good = zlib.crc32(received) == crc
                            intact[key] = intact.get(key, True) and good
                            del received
                            channel.reset()
                bar.update(len(variants))
            ctrl.send(("stop",))
    return [
        _measurement((name, chunk), size, samples[name, chunk, size], intact[name, chunk, size])
        for name, chunk in variants
        for size in sizes
    ]


# --------------------------------------------------------------------------
# Argument checks (in the caller's process, before any child starts)
# --------------------------------------------------------------------------


def _require_names(names: Any, valid: dict[str, str], what: str) -> list[str]:
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if not isinstance(names, Iterable):
        raise TypeError(f"{what} must be a list of names, not {type(names).__name__}")
    names = list(names)
    if not names:
        raise ValueError(f"{what} is empty: choose from {', '.join(valid)}")
    for name in names:
        if name not in valid:
            raise ValueError(f"{what}: {name!r} is not one of {', '.join(valid)}")
    return list(dict.fromkeys(names))


def _require_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, int)):
        sizes = [sizes] if isinstance(sizes, int) else sizes.split(",")
    if not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a list of sizes, not {type(sizes).__name__}")
    parsed = [parse_size(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if not parsed:
        raise ValueError("sizes is empty: give at least one size, e.g. 64 KiB")
    return sorted(set(parsed))


def _check_common(ctx: Any, repeats: Any, timeout: Any) -> tuple[BaseContext, int, float]:
    return (
        require_context(ctx, needs=("Pipe",)),
        require_positive_int(repeats, "repeats", maximum=MAX_REPEATS),
        require_timeout(timeout),
    )


# --------------------------------------------------------------------------
# The experiments
# --------------------------------------------------------------------------


def measure_bulk(
    ctx: BaseContext,
    sizes: Any = FULL_SIZES,
    *,
    channels: Any = tuple(BULK_CHANNELS),
    limits: Any = tuple(BULK_LIMITS),
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """Time moving ``sizes`` bytes from a child to the parent through each channel.

    One child per channel serves every size; the parent times from its "go"
    to holding the data, and checks the CRC-32. ``limits`` (``memcpy``,
    ``os_pipe``) are measured the same way for comparison; pass ``()`` to skip.
    """
    ctx, repeats, timeout = _check_common(ctx, repeats, timeout)
    sizes = _require_sizes(sizes)
    names = _require_names(limits, BULK_LIMITS, "limits") if limits else []
    names += _require_names(channels, BULK_CHANNELS, "channels")
    if "shared_memory" in names:
        _check_shm_room(max(sizes))
    variants = [(name, _default_chunk(name)) for name in names]
    return _run(ctx, "bulk", variants, sizes, repeats=repeats, timeout=timeout, progress=progress)


def _default_chunk(name: str) -> int:
    return {"queue": QUEUE_CHUNK, "manager": MANAGER_CHUNK}.get(name, PIPE_CHUNK)


def _run(
    ctx: BaseContext,
    experiment: str,
    variants: list[tuple[str, int]],
    sizes: list[int],
    *,
    repeats: int,
    timeout: float,
    progress: bool | None,
) -> Results:
    """Time every variant at every size: one child per channel (the two pipe ones share)."""
    groups: dict[Any, list[tuple[str, int]]] = {}
    for name, chunk in variants:
        groups.setdefault(_OPENERS.get(name, name), []).append((name, chunk))
    bar = _progress(len(variants) * len(sizes), progress, experiment)
    measured: list[Measurement] = []
    try:
        for group in groups.values():
            bar.set_postfix_str(" + ".join({**BULK_CHANNELS, **BULK_LIMITS}[n] for n, _ in group))
            if group[0][0] == "memcpy":
                measured += _time_memcpy(sizes, repeats, bar)
            else:
                measured += _time_channel(
                    ctx, group, sizes, repeats=repeats, timeout=timeout, bar=bar
                )
    finally:
        bar.close()
    # Back in the order asked for, whatever order the children ran in.
    order = {_key(*variant): number for number, variant in enumerate(variants)}
    measured.sort(key=lambda m: order[m.name, m.chunk])
    return Results(experiment, measured, repeats=repeats)


def measure_chunks(
    ctx: BaseContext,
    size: Any = 64 * MiB,
    chunks: Any = (1 * KiB, 16 * KiB, 64 * KiB, 1 * MiB, 16 * MiB),
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """Time ``Pipe.send_bytes`` moving ``size`` bytes in each chunk size, against raw os.pipe."""
    ctx, repeats, timeout = _check_common(ctx, repeats, timeout)
    size = parse_size(size, "size")
    chunks = [parse_size(c, f"chunks[{i}]") for i, c in enumerate(_as_list(chunks, "chunks"))]
    if not chunks:
        raise ValueError("chunks is empty: give at least one chunk size, e.g. 64 KiB")
    variants = [("os_pipe", PIPE_CHUNK)] + [("pipe_bytes", chunk) for chunk in chunks]
    return _run(
        ctx, "chunks", variants, [size], repeats=repeats, timeout=timeout, progress=progress
    )


def _as_list(values: Any, name: str) -> list:
    if isinstance(values, (str, int)):
        return [values] if isinstance(values, int) else values.split(",")
    if not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list, not {type(values).__name__}")
    return list(values)


def sweep(
    ctx: BaseContext,
    smallest: Any = "1 KiB",
    largest: Any = "256 MiB",
    *,
    channels: Any = tuple(BULK_CHANNELS),
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """The playground's function: :func:`measure_bulk` (limits included) over a size ladder."""
    sizes = size_ladder(smallest, largest)
    return measure_bulk(
        ctx, sizes, channels=channels, repeats=repeats, timeout=timeout, progress=progress
    )


def measure_first_touch(
    ctx: BaseContext,
    size: Any = 64 * MiB,
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Fresh memory for every copy against memory used before, in-process and child→parent.

    The first write to each 4 KiB page of a new mapping traps into the kernel,
    which finds a zeroed page for it (a **page fault**); reusing the same
    memory pays that once.
    """
    ctx, repeats, timeout = _check_common(ctx, repeats, timeout)
    size = parse_size(size, "size")
    _check_shm_room(size)
    results = Results("first touch", repeats=repeats)
    results.measurements += _memcpy_fresh_and_reused(size, repeats)
    results.measurements.append(_fresh_segments(ctx, size, repeats, timeout))
    reused = _time_channel(
        ctx, [("shared_memory", 0)], [size], repeats=repeats, timeout=timeout, bar=_NoBar()
    )[0]
    results.measurements.append(
        Measurement(
            "reused segment",
            "child → reused segment",
            size,
            reused.samples,
            verified=reused.verified,
            warm_up=reused.warm_up,
        )
    )
    return results


def _memcpy_fresh_and_reused(size: int, repeats: int) -> list[Measurement]:
    import mmap  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    source = np.frombuffer(make_payload(size), dtype=np.uint8)
    fresh, reused = [], []
    kept = mmap.mmap(-1, size)
    try:
        for _ in range(repeats + 1):
            new = mmap.mmap(-1, size)  # a new anonymous mapping: no page touched yet
            started = time.perf_counter()
            np.copyto(np.frombuffer(new, dtype=np.uint8), source)
            fresh.append(time.perf_counter() - started)
            new.close()
            started = time.perf_counter()
            np.copyto(np.frombuffer(kept, dtype=np.uint8), source)
            reused.append(time.perf_counter() - started)
    finally:
        kept.close()
    return [
        Measurement(
            "fresh memory", "memcpy → fresh memory", size, tuple(fresh[1:]), warm_up=fresh[0]
        ),
        Measurement(
            "reused memory", "memcpy → reused memory", size, tuple(reused[1:]), warm_up=reused[0]
        ),
    ]


def _fresh_segments(ctx: BaseContext, size: int, repeats: int, timeout: float) -> Measurement:
    from multiprocessing import shared_memory  # noqa: PLC0415

    samples, intact = [], True
    ctrl, child_ctrl = ctx.Pipe()
    with ExitStack() as stack:
        stack.callback(ctrl.close)
        with _child(ctx, fresh_segment_sender, child_ctrl, timeout, timeout=timeout):
            child_ctrl.close()
            deadline = time.monotonic() + timeout
            ctrl.send(("size", size))
            crc = _expect(ctrl, deadline, "ready", "the child's payload")[1]
            for _ in range(repeats + 1):
                deadline = time.monotonic() + timeout
                started = time.perf_counter()
                segment = shared_memory.SharedMemory(create=True, size=size)
                try:
                    ctrl.send(("go", 0, segment.name))
                    _expect(ctrl, deadline, "done", "the child's copy into a fresh segment")
                    samples.append(time.perf_counter() - started)
                    intact = intact and zlib.crc32(segment.buf[:size]) == crc
                finally:
                    segment.close()
                    segment.unlink()
            ctrl.send(("stop",))
    return Measurement(
        "fresh segment",
        "child → fresh segment",
        size,
        tuple(samples[1:]),
        verified=intact,
        warm_up=samples[0],
    )


def measure_startup(
    methods: Any = START_METHODS,
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time ``Process(target=os.getpid).start()`` + ``join()`` under each start method.

    Each method gets its own context explicitly (that is what is compared);
    the untimed warm-up also starts forkserver's server.
    """
    methods = _require_names(methods, {m: m for m in START_METHODS}, "methods")
    repeats = require_positive_int(repeats, "repeats", maximum=MAX_REPEATS)
    timeout = require_timeout(timeout)
    results = Results("startup", repeats=repeats)
    for method in methods:
        method_ctx = get_context(method)
        samples = []
        for _ in range(repeats + 1):
            started = time.perf_counter()
            # A built-in target: the child imports nothing of ours, so this is
            # the start method's own cost, not the cost of importing a module.
            process = method_ctx.Process(target=os.getpid)
            process.start()
            process.join(timeout)
            samples.append(time.perf_counter() - started)
            if process.is_alive():
                stop(process, grace=_GRACE)
                raise TimeoutError(f"a {method} child did not finish within {timeout:g} s")
            if process.exitcode != 0:
                raise ChildError(f"getpid ({method})", process.exitcode)
        results.measurements.append(
            Measurement(method, method, 0, tuple(samples[1:]), warm_up=samples[0])
        )
    return results


# --------------------------------------------------------------------------
# Latency: ping-pong
# --------------------------------------------------------------------------


def pipe_echo(conn: Any, rounds: int) -> None:
    """Runs in the child: send back each of ``rounds`` objects that arrive on ``conn``.

    No ``poll()`` before ``recv()``: here it would cost as much as the round
    trip itself. The wait is still bounded: the parent's watchdog stops this
    child if it overruns, and a parent that goes away closes the pipe (EOF).
    """
    for _ in range(rounds):
        conn.send(conn.recv())


def queue_echo(inbox: Any, outbox: Any, rounds: int, timeout: float) -> None:
    """Runs in the child: put on ``outbox`` each of ``rounds`` items taken from ``inbox``."""
    for _ in range(rounds):
        outbox.put(inbox.get(timeout=timeout))


def os_pipe_echo(inbox: Any, outbox: Any, rounds: int) -> None:
    """Runs in the child: write back each byte read from ``inbox``'s descriptor, raw.

    Bounded like :func:`pipe_echo`: by the parent's watchdog, or EOF.
    """
    fd_in, fd_out = inbox.fileno(), outbox.fileno()
    for _ in range(rounds):
        os.write(fd_out, os.read(fd_in, 1))


def _spin_until(value: Any, wanted: int, deadline: float) -> None:
    # Reading value.value takes and releases the Value's lock each time.
    while value.value != wanted:
        # Offer the CPU to others between looks: on a machine with fewer free
        # cores than spinners, the process we wait for may need this one.
        os.sched_yield()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Value did not become {wanted} before the deadline")


def value_echo(value: Any, rounds: int, timeout: float) -> None:
    """Runs in the child: wait (spinning) for each odd number in ``value``, answer it + 1.

    No message at all: both processes poll the same shared int, so this is the
    floor for shared memory — and it keeps a CPU core busy while it waits.
    """
    for number in range(1, 2 * rounds, 2):
        _spin_until(value, number, time.monotonic() + timeout)
        value.value = number + 1


def _pipe_ping(ctx: BaseContext, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    here, there = ctx.Pipe()  # duplex: what Pipe() gives by default
    stack.callback(here.close)

    def one_round(number: int) -> None:
        here.send(number)
        here.recv()

    return pipe_echo, (there, rounds), there.close, one_round


def _queue_ping(ctx: BaseContext, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    inbox, outbox = ctx.Queue(), ctx.Queue()
    for q in (inbox, outbox):
        stack.callback(q.join_thread)
        stack.callback(q.close)

    def one_round(number: int) -> None:
        inbox.put(number)
        outbox.get(timeout=timeout)

    return queue_echo, (inbox, outbox, rounds, timeout), lambda: None, one_round


def _value_ping(ctx: BaseContext, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    value = ctx.Value("q", 0)

    def one_round(number: int) -> None:
        value.value = 2 * number + 1
        _spin_until(value, 2 * number + 2, time.monotonic() + timeout)

    return value_echo, (value, rounds, timeout), lambda: None, one_round


def _os_pipe_ping(ctx: BaseContext, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    from_parent, to_child = ctx.Pipe(duplex=False)  # (reader, writer)
    from_child, to_parent = ctx.Pipe(duplex=False)
    for end in (to_child, from_child):
        stack.callback(end.close)

    def after_start() -> None:
        from_parent.close()
        to_parent.close()

    def one_round(number: int) -> None:
        os.write(to_child.fileno(), b"!")
        if not os.read(from_child.fileno(), 1):
            raise EOFError("the child closed the raw pipe")

    return os_pipe_echo, (from_parent, to_parent, rounds), after_start, one_round


_PINGS = {"pipe": _pipe_ping, "queue": _queue_ping, "value": _value_ping, "os_pipe": _os_pipe_ping}


def _open_ping(
    ctx: BaseContext, name: str, stack: ExitStack, rounds: int, timeout: float
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Open channel ``name`` and start its echoing child: (one round trip, how to stop it)."""
    if name == "manager":  # the server is the other side: no child of ours
        manager = stack.enter_context(ctx.Manager())
        state = manager.dict({"ping": 0})
        return (lambda number: state.get("ping")), manager.shutdown
    worker, args, after_start, one_round = _PINGS[name](ctx, stack, rounds, timeout)
    child = stack.enter_context(_child(ctx, worker, *args, timeout=timeout))
    after_start()
    return one_round, child.process.terminate


def _ping_pongs(
    ctx: BaseContext, names: list[str], rounds: int, repeats: int, timeout: float
) -> dict[str, list[float]]:
    """Open every channel in ``names``, then time ``rounds`` round trips each, in turns.

    Taking turns batch by batch means a change in the machine's load during
    the run hits every channel alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in names}
    with ExitStack() as stack:
        opened = {
            name: _open_ping(ctx, name, stack, rounds * (repeats + 1), timeout) for name in names
        }

        def stop_all() -> None:
            for _, stop in opened.values():
                stop()

        budget = timeout * (repeats + 1) * len(names)
        with _watchdog(budget, stop_all, "the round trips"):
            for repeat in range(repeats + 1):
                for name, (one_round, _) in opened.items():
                    started = time.perf_counter()
                    for number in range(repeat * rounds, (repeat + 1) * rounds):
                        one_round(number)
                    samples[name].append((time.perf_counter() - started) / rounds)
    return samples


def measure_latency(
    ctx: BaseContext,
    *,
    channels: Any = tuple(LATENCY_CHANNELS),
    limits: Any = tuple(LATENCY_LIMITS),
    round_trips: int = 2000,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time one small message there and back (a **round trip**) through each channel.

    Each repeat times ``round_trips`` round trips and keeps the average. The
    message channels take turns, repeat by repeat; the ``Value`` goes last, on
    its own, because its child spins on a CPU while it waits. ``timeout``
    bounds every wait.
    """
    ctx, repeats, timeout = _check_common(ctx, repeats, timeout)
    round_trips = require_positive_int(round_trips, "round_trips", maximum=MAX_ROUND_TRIPS)
    names = _require_names(limits, LATENCY_LIMITS, "limits") if limits else []
    names += _require_names(channels, LATENCY_CHANNELS, "channels")
    samples: dict[str, list[float]] = {}
    for batch in ([n for n in names if n != "value"], [n for n in names if n == "value"]):
        if batch:
            samples.update(_ping_pongs(ctx, batch, round_trips, repeats, timeout))
    labels = {**LATENCY_CHANNELS, **LATENCY_LIMITS}
    return Results(
        "latency",
        [
            Measurement(
                name,
                labels[name],
                0,
                tuple(samples[name][1:]),
                limit=name in LATENCY_LIMITS,
                warm_up=samples[name][0],
            )
            for name in names
        ],
        repeats=repeats,
    )


# --------------------------------------------------------------------------
# The seed example: element by element, or in bulk
# --------------------------------------------------------------------------


def seed_writer(array: Any, outbox: Any, repeats: int) -> None:
    """Runs in the child: write squares into the locked ``array`` both ways, send timings.

    For each run it sends ``(loop_seconds, bulk_seconds, loop_crc, bulk_crc)``:
    element by element (the seed's ``result[i] = n * n``: one lock round per
    element), then, after zeroing, one numpy copy under one lock.
    """
    import numpy as np  # noqa: PLC0415 - only this child needs it

    squares = np.arange(len(array), dtype=np.int64) ** 2
    as_list = squares.tolist()
    whole = np.frombuffer(array.get_obj(), dtype=np.int64)
    for _ in range(repeats + 1):
        started = time.perf_counter()
        for index, square in enumerate(as_list):
            array[index] = square
        looped = time.perf_counter() - started
        loop_crc = zlib.crc32(whole)
        whole[:] = 0
        started = time.perf_counter()
        with array.get_lock():
            np.copyto(whole, squares)
        outbox.send((looped, time.perf_counter() - started, loop_crc, zlib.crc32(whole)))


def measure_seed_writes(
    ctx: BaseContext,
    count: int = 100_000,
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time the seed's element-by-element writes into a locked ``Array`` against one bulk write."""
    import numpy as np  # noqa: PLC0415

    ctx, repeats, timeout = _check_common(ctx, repeats, timeout)
    count = require_positive_int(count, "count", maximum=LARGEST_SIZE // 8)
    array = ctx.Array("q", count)  # 'q': 64-bit ints, so the squares fit
    expected = zlib.crc32(np.arange(count, dtype=np.int64) ** 2)
    reader, writer = ctx.Pipe(duplex=False)
    runs = []
    try:
        with _child(ctx, seed_writer, array, writer, repeats, timeout=timeout):
            writer.close()
            for _ in range(repeats + 1):
                runs.append(_receive(reader, time.monotonic() + timeout, "a seed timing"))
    finally:
        reader.close()
    intact = all(loop_crc == bulk_crc == expected for _, _, loop_crc, bulk_crc in runs)
    size = 8 * count
    loops, bulks = [r[0] for r in runs], [r[1] for r in runs]
    return Results(
        "seed",
        [
            Measurement(
                "loop",
                "element by element",
                size,
                tuple(loops[1:]),
                verified=intact,
                warm_up=loops[0],
            ),
            Measurement(
                "bulk",
                "one bulk numpy write",
                size,
                tuple(bulks[1:]),
                verified=intact,
                warm_up=bulks[0],
            ),
        ],
        repeats=repeats,
    )


# --------------------------------------------------------------------------
# Reading the results: targets, conclusions, a decision guide
# --------------------------------------------------------------------------


def targets(bulk: Results) -> dict[str, Any]:
    """The two ratios the lesson aims for, at the largest size measured.

    ``fastest_percent_of_memcpy``: the fastest channel against memcpy (aim ≥ 60 %);
    ``pipe_percent_of_os_pipe``: ``Pipe.send_bytes`` against raw os.pipe (aim ≥ 50 %).
    Either is ``None`` when what it needs was not measured.
    """
    size = max(bulk.sizes())
    at_size = [m for m in bulk.measurements if m.size == size and not m.limit]
    fastest = min(at_size, key=lambda m: m.median) if at_size else None
    out: dict[str, Any] = {"size": size, "fastest": fastest.name if fastest else None}
    out["fastest_percent_of_memcpy"] = _maybe(lambda: bulk.percent_of(fastest.name, "memcpy", size))
    out["pipe_percent_of_os_pipe"] = _maybe(lambda: bulk.percent_of("pipe_bytes", "os_pipe", size))
    return out


def _maybe(compute: Callable[[], float]) -> float | None:
    try:
        return compute()
    except (KeyError, AttributeError):
        return None


def format_targets(bulk: Results) -> str:
    """The targets as two printable lines (figures vary; "reached" is the point)."""
    t = targets(bulk)
    size = format_size(t["size"])
    lines = []
    if t["fastest_percent_of_memcpy"] is not None:
        pct = t["fastest_percent_of_memcpy"]
        label = BULK_CHANNELS[t["fastest"]]
        verdict = "reached" if pct >= 60 else "not reached"
        lines.append(
            f"fastest channel at {size}: {label}, {pct:.1f} % of memcpy (target ≥ 60 %): {verdict}"
        )
    if t["pipe_percent_of_os_pipe"] is not None:
        pct = t["pipe_percent_of_os_pipe"]
        verdict = "reached" if pct >= 50 else "not reached"
        lines.append(
            f"Pipe.send_bytes at {size}: {pct:.1f} % of raw os.pipe (target ≥ 50 %): {verdict}"
        )
    return "\n".join(lines)


def _fastest(results: Results, names: Iterable[str], size: int | None = None) -> Measurement | None:
    found = [_maybe(lambda n=n: results.get(n, size)) for n in names]
    found = [m for m in found if m is not None]
    return min(found, key=lambda m: m.median) if found else None


# Each line of the decision guide: a need, and the channels (or start methods)
# that can meet it. The guide names whichever of them measured fastest.
GUIDE_NEEDS: dict[str, tuple[str, ...]] = {
    "big arrays": tuple(BULK_CHANNELS),
    "a stream of bytes": ("pipe_bytes", "queue", "pipe_pickle"),
    "small messages, request/reply": ("pipe", "queue"),
    "a flag or a counter": ("value",),
    "Python objects several processes edit": ("manager",),
    "starting workers": START_METHODS,
}


def decision_guide(
    bulk: Results | None = None,
    latency: Results | None = None,
    startup: Results | None = None,
    first_touch: Results | None = None,
) -> str:
    """ "Use X for …", each line naming the fastest measured candidate and quoting its numbers."""
    lines = []
    if bulk is not None:
        lines += _bulk_advice(bulk, first_touch)
    if latency is not None:
        lines += _latency_advice(latency)
    if startup is not None and startup.measurements:
        quick = _fastest(startup, GUIDE_NEEDS["starting workers"])
        slow = max(startup.measurements, key=lambda m: m.median)
        lines.append(
            f"• Starting workers: {quick.name} started one in {_duration(quick.median)}, "
            f"{slow.name} in {_duration(slow.median)} — start workers once and reuse them."
        )
    return "Decision guide, from this run's numbers:\n" + "\n".join(lines)


def _bulk_advice(bulk: Results, first_touch: Results | None) -> list[str]:
    size = max(bulk.sizes())
    best = _fastest(bulk, GUIDE_NEEDS["big arrays"], size)
    if best is None:
        return []
    line = f"• Big arrays ({format_size(size)}): {best.label} — {_rate(best.throughput)}"
    if _maybe(lambda: bulk.get("memcpy", size)):
        line += f", {bulk.percent_of(best.name, 'memcpy', size):.0f} % of memcpy"
    lines = [line + "."]
    if first_touch is not None:
        fresh, reused = first_touch.get("fresh segment"), first_touch.get("reused segment")
        lines.append(
            f"  Reuse the segment: a fresh one per transfer ran at {_rate(fresh.throughput)}, "
            f"a reused one at {_rate(reused.throughput)} ({format_size(fresh.size)})."
        )
    stream = _fastest(bulk, GUIDE_NEEDS["a stream of bytes"], size)
    if stream is not None:
        line = f"• A stream of bytes: {stream.label} — {_rate(stream.throughput)}"
        if _maybe(lambda: bulk.get("os_pipe", size)):
            line += f", {bulk.percent_of(stream.name, 'os_pipe', size):.0f} % of raw os.pipe"
        if stream.name != best.name:
            line += f"; {stream.median / best.median:.1f}× the time of {best.label}"
        lines.append(line + ".")
    manager = _maybe(lambda: bulk.get("manager", size))
    if manager is not None and manager.name != best.name:
        lines.append(
            f"• Not bulk data through a Manager: {_rate(manager.throughput)} at "
            f"{format_size(size)}, {manager.median / best.median:.0f}× the time of {best.label}."
        )
    return lines


def _latency_advice(latency: Results) -> list[str]:
    lines = []
    best = _fastest(latency, GUIDE_NEEDS["small messages, request/reply"])
    if best is not None:
        line = f"• Small messages, request/reply: {best.label} — {_duration(best.median)}"
        line += " per round trip"
        raw = _maybe(lambda: latency.get("os_pipe"))
        if raw is not None:
            line += f" (raw os.pipe: {_duration(raw.median)})"
        lines.append(line + ".")
    value = _fastest(latency, GUIDE_NEEDS["a flag or a counter"])
    if value is not None:
        lines.append(
            f"• A flag or a counter: {value.label} — {_duration(value.median)} per round trip "
            "and no message at all, but whoever waits for a change spins a CPU core."
        )
    manager = _fastest(latency, GUIDE_NEEDS["Python objects several processes edit"])
    if manager is not None:
        line = f"• Python objects several processes edit: a Manager — {_duration(manager.median)}"
        line += " per proxy call"
        if best is not None:
            line += f", {manager.median / best.median:.1f}× a {best.label} round trip"
        lines.append(line + ": few calls, each doing a lot.")
    return lines


def conclusions(
    bulk: Results | None = None,
    latency: Results | None = None,
    startup: Results | None = None,
    seed: Results | None = None,
    first_touch: Results | None = None,
) -> str:
    """Comparisons that hold by a wide margin on any machine, as ``claim: True`` lines."""
    lines = []
    if bulk is not None:
        size = max(bulk.sizes())
        lines.append(f"every transfer intact: {bulk.intact}")
        shm = _fastest(bulk, ("array", "shared_memory"), size)
        manager = _maybe(lambda: bulk.get("manager", size))
        if shm is not None and manager is not None:
            faster = shm.median < manager.median
            lines.append(f"shared memory faster than Manager at {format_size(size)}: {faster}")
    if startup is not None:
        spawn, fork = _maybe(lambda: startup.get("spawn")), _maybe(lambda: startup.get("fork"))
        if spawn is not None and fork is not None:
            lines.append(f"spawn slower to start than fork: {spawn.median > fork.median}")
        # Microseconds against milliseconds: true on a busy machine too, where
        # the order of two round trips (Pipe or Queue first?) is not.
        pipe = _maybe(lambda: latency.get("pipe")) if latency is not None else None
        if spawn is not None and pipe is not None:
            many = spawn.median > 100 * pipe.median
            lines.append(f"starting a spawn child costs more than 100 Pipe round trips: {many}")
    if seed is not None:
        faster = seed.get("bulk").median < seed.get("loop").median
        lines.append(f"one bulk write faster than element by element: {faster}")
        lines.append(f"both wrote the same squares: {seed.intact}")
    if first_touch is not None:
        fresh, reused = first_touch.get("fresh segment"), first_touch.get("reused segment")
        lines.append(f"reused segment faster than a fresh one: {reused.median < fresh.median}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Plots (matplotlib's Figure directly: no pyplot state, no double display)
# --------------------------------------------------------------------------


def _plain_log_axis(axis: Any, values: Sequence[float]) -> None:
    """A log y axis with plain numbers (0.01, 1, 100), starting below the smallest value."""
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    axis.set_yscale("log")
    axis.set_ylim(bottom=min(values) / 3)
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    axis.grid(True, axis="y", which="major", alpha=0.3)


def _size_axis(axis: Any, sizes: Sequence[int]) -> None:
    axis.set_xscale("log", base=2)
    axis.set_xticks(list(sizes), [format_size(s) for s in sizes], rotation=45, ha="right")
    axis.minorticks_off()
    axis.set_xlabel("bytes per transfer")


def plot_bulk(bulk: Results) -> Any:
    """Speed against size (log–log), and each channel as % of memcpy at each size."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(11, 4.2), layout="constrained")
    speed, share = figure.subplots(1, 2)
    sizes = bulk.sizes()
    for name in bulk.names():
        points = [m for m in bulk.measurements if m.name == name]
        style = (
            {"linestyle": "--", "color": "black" if name == "memcpy" else "grey"}
            if points[0].limit
            else {"marker": "o"}
        )
        speed.plot(
            [m.size for m in points],
            [m.throughput / 1e9 for m in points],
            label=points[0].label,
            **style,
        )
        if not points[0].limit and "memcpy" in bulk.names():
            share.plot(
                [m.size for m in points],
                [bulk.percent_of(name, "memcpy", m.size) for m in points],
                marker="o",
                label=points[0].label,
            )
    for axis in (speed, share):
        _size_axis(axis, sizes)
        values = [y for line in axis.get_lines() for y in line.get_ydata()]
        _plain_log_axis(axis, values)
    speed.set_ylabel("GB/s (median)")
    speed.set_title("Child → parent: speed")
    share.set_ylabel("% of memcpy")
    share.set_title("As % of memcpy (the limit)")
    share.axhline(100, color="black", linestyle="--", linewidth=1)
    speed.legend(fontsize="small")
    return figure


def plot_latency(latency: Results) -> Any:
    """Round-trip time per channel (log), and each as % of raw os.pipe's speed."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(11, 3.8), layout="constrained")
    times, share = figure.subplots(1, 2)
    labels = [m.label for m in latency.measurements]
    colours = ["grey" if m.limit else "tab:blue" for m in latency.measurements]
    microseconds = [m.median * 1e6 for m in latency.measurements]
    times.bar(labels, microseconds, color=colours)
    _plain_log_axis(times, microseconds)
    times.set_ylabel("µs per round trip (median)")
    times.set_title("Small-message round trip")
    if "os_pipe" in latency.names():
        percents = [latency.percent_of(m.name, "os_pipe") for m in latency.measurements]
        share.bar(labels, percents, color=colours)
        share.axhline(100, color="black", linestyle="--", linewidth=1)
        _plain_log_axis(share, percents)
    share.set_ylabel("% of raw os.pipe's speed")
    share.set_title("As % of raw os.pipe (the limit)")
    for axis in (times, share):
        axis.tick_params(axis="x", rotation=20)
    return figure


# --------------------------------------------------------------------------
# The terminal version: python -m helpers.bench
# --------------------------------------------------------------------------

EXPERIMENTS = ("bulk", "latency", "startup", "seed", "first-touch", "chunks")


def _argument(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Turn our TypeError/ValueError into argparse's clean "error: argument ..." line."""
    import argparse  # noqa: PLC0415 - only the terminal version needs it

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


def _parser() -> argparse.ArgumentParser:
    import argparse  # noqa: PLC0415 - only the terminal version needs it

    parser = argparse.ArgumentParser(
        prog="python -m helpers.bench",
        description="Measure every channel of the course against this machine's limits.",
    )
    parser.add_argument(
        "--sizes",
        type=_argument(lambda t: _require_sizes(t.split(","))),
        default=list(FULL_SIZES),
        help="comma-separated sizes for the bulk test, e.g. 64KiB,4MiB (default 1 KiB … 256 MiB)",
    )
    parser.add_argument(
        "--channels",
        type=_argument(lambda t: _require_names(t, BULK_CHANNELS, "--channels")),
        default=list(BULK_CHANNELS),
        help="comma-separated bulk channels: " + ", ".join(BULK_CHANNELS),
    )
    parser.add_argument(
        "--experiments",
        type=_argument(lambda t: _require_names(t, dict.fromkeys(EXPERIMENTS), "--experiments")),
        default=list(EXPERIMENTS),
        help="comma-separated: " + ", ".join(EXPERIMENTS) + " (default: all)",
    )
    parser.add_argument(
        "--repeats",
        type=_argument(
            lambda t: require_positive_int(_int(t, "--repeats"), "--repeats", maximum=MAX_REPEATS)
        ),
        default=DEFAULT_REPEATS,
        help=f"timed repeats per measurement (default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--round-trips",
        type=_argument(
            lambda t: require_positive_int(
                _int(t, "--round-trips"), "--round-trips", maximum=MAX_ROUND_TRIPS
            )
        ),
        default=2000,
        help="round trips per latency repeat (default 2000)",
    )
    parser.add_argument(
        "--timeout",
        type=_argument(lambda t: require_timeout(_float(t, "--timeout"), "--timeout")),
        default=TRANSFER_TIMEOUT,
        help=f"seconds allowed for any one transfer or wait (default {TRANSFER_TIMEOUT:g})",
    )
    parser.add_argument(
        "--start-method",
        choices=START_METHODS,
        default=None,
        help="default: COURSE_START_METHOD, else spawn",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (for comparing machines)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None


def _run_experiments(args: argparse.Namespace, ctx: BaseContext) -> dict[str, Results]:
    progress = False if args.no_progress else None
    common = {"repeats": args.repeats, "timeout": args.timeout}
    focus = min(max(args.sizes), 64 * MiB)  # first touch and chunks: one size
    runs: dict[str, Callable[[], Results]] = {
        "bulk": lambda: measure_bulk(
            ctx, args.sizes, channels=args.channels, progress=progress, **common
        ),
        "latency": lambda: measure_latency(ctx, round_trips=args.round_trips, **common),
        "startup": lambda: measure_startup(**common),
        "seed": lambda: measure_seed_writes(ctx, **common),
        "first-touch": lambda: measure_first_touch(ctx, focus, **common),
        "chunks": lambda: measure_chunks(ctx, focus, progress=progress, **common),
    }
    return {name: runs[name]() for name in args.experiments}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen experiments and print tables (or JSON); 0 when every transfer was intact."""
    import json  # noqa: PLC0415 - only the terminal version needs these
    import platform  # noqa: PLC0415

    args = _parser().parse_args(argv)
    ctx = get_context(args.start_method)
    results = _run_experiments(args, ctx)
    intact = all(r.intact for r in results.values())
    if args.json:
        report = {
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "start_method": ctx.get_start_method(),
            },
            "results": {name: r.as_dict() for name, r in results.items()},
            "targets": targets(results["bulk"]) if "bulk" in results else None,
            "intact": intact,
        }
        print(json.dumps(report, indent=2))
        return 0 if intact else 1
    print(
        f"start method: {ctx.get_start_method()}; {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}"
    )
    for name, result in results.items():
        print(f"\n== {name} ==\n{result}")
    if "bulk" in results:
        print("\n== targets ==\n" + format_targets(results["bulk"]))
    guide = decision_guide(
        results.get("bulk"),
        results.get("latency"),
        results.get("startup"),
        results.get("first-touch"),
    )
    print("\n" + guide)
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())
