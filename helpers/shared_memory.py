"""Lesson 07 (Shared memory and NumPy): named segments seen as NumPy arrays.

``multiprocessing.shared_memory.SharedMemory`` is a block of raw bytes with a
**name**. Any process that knows the name can map the same bytes, and
``np.ndarray(shape, dtype, buffer=shm.buf)`` turns them into an array without
copying anything.

Lifecycle, in this order:

1. One process creates the segment: ``SharedMemory(create=True, size=n)``.
2. Every other process attaches by name: ``SharedMemory(name=name)``. Pass the
   name (a ``str``) to a child, not the object.
3. Each process views the bytes: ``np.ndarray(shape, dtype, buffer=shm.buf)``.
4. Each process drops its arrays, then calls ``close()``: a view still alive
   makes ``close()`` raise ``BufferError``.
5. Exactly one process, the creator, calls ``unlink()``, once, in a ``finally``:
   the name leaves ``/dev/shm``, and the memory is freed when the last process
   has closed it.

The workers live in :mod:`helpers.workers.shared_memory`, which a child
imports instead of this module; numpy is imported inside the functions that use it.

>>> from helpers.context import get_context
>>> square_on_a_child(get_context(), [1, 2, 3])
[1, 4, 9]
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory
from typing import TYPE_CHECKING, Any

from helpers import timeline
from helpers.dev_shm import SHM_DIR, can_list, segments
from helpers.running import DEFAULT_TIMEOUT, run, start, wait
from helpers.timeline import Event, collect, max_overlap, now
from helpers.validation import (
    require_context,
    require_int_list,
    require_positive_int,
    require_shm_room,
    require_timeout,
)
from helpers.workers.shared_memory import (
    add_one_to_numbers,
    read_after_close,
    square_in_place,
    transform_slice,
    write_after_unlink,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "DEFAULT_MIB",
    "MAX_CHILDREN",
    "ROUNDS",
    "SIZES_MIB",
    "Comparison",
    "ParallelRun",
    "add_one_to_numbers",
    "compare",
    "draw_comparison",
    "first_line",
    "in_dev_shm",
    "parallel_transform",
    "playground",
    "read_after_close",
    "segments",
    "square_in_place",
    "square_on_a_child",
    "transform_slice",
    "wait_until_gone",
    "write_after_unlink",
]

MIB = 2**20
# The playground's array sizes. The largest fits, with room to spare, in the
# 64 MiB that containers (and Binder) often give /dev/shm.
SIZES_MIB = (4, 8, 16, 32)
DEFAULT_MIB = 16
# Passes of np.sin over every element: about 0.2 s for 16 MiB on one core of a
# laptop, enough that the work, not starting children, dominates the time.
ROUNDS = 10
# A laptop has a handful of cores; more children only slows the lesson down.
MAX_CHILDREN = 8
FLOAT_BYTES = 8  # the arrays here hold float64


def first_line(stream: Any, timeout: float = 30.0) -> str:
    """The first line another program writes to ``stream`` (a pipe), waiting at most ``timeout``."""
    ready, _, _ = select.select([stream], [], [], require_timeout(timeout))
    if not ready:
        raise TimeoutError(f"the program wrote nothing within {timeout:g} s")
    return stream.readline().strip()


def in_dev_shm(name: str, *, wait: float = 0.0, directory: str = SHM_DIR) -> str:
    """Whether segment ``name`` is in ``/dev/shm``, as words a learner reads.

    With ``wait``, give it up to that many seconds to leave first (a resource
    tracker unlinks a little after its program ended). Where there is no
    ``/dev/shm`` (macOS, Windows) it says that it cannot look.

    >>> in_dev_shm("psm_no_such_segment")  # doctest: +SKIP
    'the segment is not in /dev/shm'
    """
    if not can_list(directory):
        return f"cannot look: this system has no {directory}, where Linux lists each segment"
    if wait:
        wait_until_gone(name, wait, directory)
    there = os.path.exists(os.path.join(directory, name))
    return f"the segment is {'in' if there else 'not in'} {directory}"


def wait_until_gone(name: str, timeout: float = 10.0, directory: str = SHM_DIR) -> bool:
    """Wait up to ``timeout`` s until segment ``name`` has left ``directory``; True if it did."""
    deadline = time.monotonic() + require_timeout(timeout)
    while os.path.exists(os.path.join(directory, name)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def square_on_a_child(ctx: Context, numbers: Any, *, timeout: float = DEFAULT_TIMEOUT) -> list:
    """The whole lifecycle, bounded: create, a child squares in place, read, close, unlink."""
    import numpy as np

    require_context(ctx)
    values = require_int_list(numbers)
    require_timeout(timeout)
    if not values:
        raise ValueError("numbers must hold at least one whole number, not []")
    size = require_shm_room(len(values) * FLOAT_BYTES)
    shm = SharedMemory(create=True, size=size)
    try:
        array = np.ndarray((len(values),), dtype=np.int64, buffer=shm.buf)
        array[:] = values
        run(ctx, square_in_place, shm.name, array.shape, "int64", timeout=timeout)
        result = array.tolist()
        del array
    finally:
        shm.close()
        shm.unlink()  # exactly once, whatever happened
    return result


# --------------------------------------------------------------------------
# A real parallel computation: children transform their own slices in place
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParallelRun:
    """One run of :func:`parallel_transform`: its time, its timeline and a checksum."""

    children: int
    seconds: float  # in all: from starting the children until all were joined
    # Each child's "wait", "work" and "cpu time" spans, and the parent's "start"
    # (until every child had attached) and "join" (last work done until all joined).
    events: list[Event]
    t0: int  # when the parent started its children
    checksum: float  # the sum of the transformed array

    @property
    def work_seconds(self) -> float:
        """From the first child's work starting to the last one's ending: the parallel part."""
        work = timeline.select(self.events, what="work")
        return (max(e.end for e in work) - min(e.start for e in work)) / 1e9

    @property
    def serial_seconds(self) -> float:
        """The parent's start and join spans: the part no number of children shortens."""
        return sum(e.seconds for e in self.events if e.process == PARENT)

    @property
    def overlap(self) -> int:
        """How many children were working at the same moment, at most."""
        return max_overlap(self.events, what="work")

    @property
    def cpus(self) -> float:
        """CPUs the children had at once, on average: their CPU time over the work's span."""
        work, cpu = (
            timeline.select(self.events, what="work"),
            timeline.select(self.events, what="cpu time"),
        )
        span = max(e.end for e in work) - min(e.start for e in work)
        return sum(e.end - e.start for e in cpu) / span if span else 0.0

    def __repr__(self) -> str:
        return f"ParallelRun(children={self.children}, seconds={self.seconds:.3f})"


# The row of the timeline where the parent records its serial parts.
PARENT = "notebook"


def _slices(length: int, children: int) -> list[tuple[int, int]]:
    size, extra = divmod(length, children)
    bounds, begin = [], 0
    for k in range(children):
        end = begin + size + (1 if k < extra else 0)
        bounds.append((begin, end))
        begin = end
    return bounds


def _require_mib(size_mib: Any) -> int:
    size_mib = require_positive_int(size_mib, "size_mib", maximum=max(SIZES_MIB) * 4)
    require_shm_room(size_mib * MIB, f"an array of {size_mib} MiB")
    return size_mib


def _transform_in(
    ctx: Context, shm: SharedMemory, length: int, children: int, *, rounds: int, timeout: float
) -> ParallelRun:
    """Fill ``shm`` with ``length`` float64, let ``children`` transform it in slices, time it."""
    import numpy as np

    barrier, events = ctx.Barrier(children + 1), ctx.Queue()
    array = np.ndarray((length,), dtype=np.float64, buffer=shm.buf)
    try:
        array[:] = np.linspace(0.0, 3.0, length)
        t0, args = now(), (shm.name, length)
        running = [
            start(ctx, transform_slice, *args, b, e, rounds, barrier, events, name=f"child-{k}")
            for k, (b, e) in enumerate(_slices(length, children))
        ]
        try:
            barrier.wait(timeout)  # every child attached: the work begins
        finally:
            wait(running, timeout=timeout)  # three events each: they fit the pipe
        finished = now()
        recorded = collect(events, expected=3 * children, timeout=timeout)
        checksum = float(array.sum())
    finally:
        del array  # before the caller's close()
        events.close()
        events.join_thread()
    work = timeline.select(recorded, what="work")
    # Serial until the first child works: starting them, waiting for all to attach,
    # and the barrier waking them (which can take longer than the parent's own wake-up).
    serial = [
        Event(PARENT, "start", t0, min(e.start for e in work)),
        Event(PARENT, "join", max(e.end for e in work), finished),  # their exit, and joins
    ]
    return ParallelRun(children, (finished - t0) / 1e9, serial + recorded, t0, checksum)


def _checked(ctx: Any, size_mib: Any, children: Any, rounds: Any, timeout: Any) -> tuple:
    require_context(ctx, needs=("Barrier", "Queue"))
    return (
        _require_mib(size_mib),
        require_positive_int(children, "children", maximum=MAX_CHILDREN),
        require_positive_int(rounds, "rounds", maximum=100),
        require_timeout(timeout),
    )


def parallel_transform(
    ctx: Context,
    size_mib: int = DEFAULT_MIB,
    children: int = 2,
    *,
    rounds: int = ROUNDS,
    timeout: float = 120.0,
) -> ParallelRun:
    """Fill one float64 array of ``size_mib`` MiB, let ``children`` transform it in slices.

    The bounded version of the notebook's cells: refuses bad input and a
    ``/dev/shm`` too small before creating anything, starts every child through
    :mod:`helpers.running`, and closes and unlinks the segment in a ``finally``.
    """
    size_mib, children, rounds, timeout = _checked(ctx, size_mib, children, rounds, timeout)
    length = size_mib * MIB // FLOAT_BYTES
    shm = SharedMemory(create=True, size=length * FLOAT_BYTES)
    try:
        return _transform_in(ctx, shm, length, children, rounds=rounds, timeout=timeout)
    finally:
        shm.close()
        shm.unlink()


@dataclass(frozen=True, slots=True)
class Comparison:
    """One child against ``children``: the best (shortest in all) of a few repeats of each.

    Two speed-ups that each compare like with like: ``speedup``, of the work
    alone (the span the CPUs figure describes), and ``overall``, from starting the
    children to joining them; and ``amdahl``, the most ``overall`` could be by
    Amdahl's law, given the share of the one-child run that was serial.
    """

    one: list[ParallelRun]
    many: list[ParallelRun]

    @property
    def repeats(self) -> int:
        return len(self.one)

    @property
    def best(self) -> tuple[ParallelRun, ParallelRun]:
        """The shortest run of each side, in all."""
        return min(self.one, key=lambda r: r.seconds), min(self.many, key=lambda r: r.seconds)

    @property
    def children(self) -> int:
        return self.many[0].children

    @property
    def speedup(self) -> float:
        """How many times faster the work itself went (work span against work span)."""
        return self.best[0].work_seconds / self.best[1].work_seconds

    @property
    def overall(self) -> float:
        """How many times faster from start to join, serial parts included."""
        return self.best[0].seconds / self.best[1].seconds

    @property
    def amdahl(self) -> float:
        """Amdahl's limit for ``overall``: ``1 / (s + (1 - s) / n)``, ``s`` the one-child
        run's serial share, ``n`` the children."""
        one = self.best[0]
        share = one.serial_seconds / one.seconds
        return 1 / (share + (1 - share) / self.children)

    @property
    def same_result(self) -> bool:
        return all(r.checksum == self.one[0].checksum for r in self.one + self.many)

    @property
    def label(self) -> str:
        """``"1 child"`` or ``"N children"``: the many side of the comparison."""
        return "1 child" if self.children == 1 else f"{self.children} children"

    def __str__(self) -> str:
        one, many = self.best
        share = one.serial_seconds / one.seconds
        return "\n".join(
            [
                *(
                    f"{label + ':':<12} work {run.work_seconds:.3f} s + start and join "
                    f"{run.serial_seconds:.3f} s = {run.seconds:.3f} s in all"
                    for label, run in (("1 child", one), (self.label, many))
                ),
                f"the work alone: {self.speedup:.2f}× as fast, "
                f"with {many.cpus:.2f} CPUs busy during it",
                f"start to join: {self.overall:.2f}× as fast; Amdahl's law, with the serial "
                f"{share:.0%} of the 1-child run, allows at most {self.amdahl:.2f}×",
                f"(best of {self.repeats} runs each)",
            ]
        )


def compare(
    ctx: Context,
    size_mib: int = DEFAULT_MIB,
    children: int = 2,
    *,
    repeats: int = 3,
    rounds: int = ROUNDS,
) -> Comparison:
    """Run :func:`parallel_transform` with 1 child and with ``children``, ``repeats`` times each.

    Alternating, and keeping the best of each, so that a moment when another
    program took the CPU does not decide the comparison.
    """
    repeats = require_positive_int(repeats, "repeats", maximum=10)
    size_mib, children, rounds, timeout = _checked(ctx, size_mib, children, rounds, 120.0)
    length = size_mib * MIB // FLOAT_BYTES
    one, many = [], []
    shm = SharedMemory(create=True, size=length * FLOAT_BYTES)  # one segment for every run
    try:
        for _ in range(repeats):
            one.append(_transform_in(ctx, shm, length, 1, rounds=rounds, timeout=timeout))
            many.append(_transform_in(ctx, shm, length, children, rounds=rounds, timeout=timeout))
    finally:
        shm.close()
        shm.unlink()
    return Comparison(one, many)


def draw_comparison(comparison: Comparison) -> tuple[Any, Any]:
    """Two figures: the best times as bars, and the timeline of the best run with children."""
    from matplotlib.figure import Figure  # heavy; only the parent draws

    one, many = comparison.best
    bars = Figure(figsize=(6, 1.6), layout="constrained")
    axes = bars.subplots()
    labels = ["1 child", comparison.label]
    axes.barh(labels, [one.work_seconds, many.work_seconds], color="C0", label="work")
    axes.barh(
        labels,
        [one.serial_seconds, many.serial_seconds],
        left=[one.work_seconds, many.work_seconds],
        color="0.6",
        label="start and join",
    )
    axes.invert_yaxis()
    axes.set_xlabel("seconds (best run)")
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title(
        f"work {comparison.speedup:.2f}× as fast; start to join {comparison.overall:.2f}×"
    )
    title = f"who worked when: {comparison.label}, best run"
    rows = sorted(timeline.processes(many.events))  # each child above its CPU time
    return bars, timeline.draw(many.events, t0=many.t0, title=title, rows=rows)


def playground(ctx: Context, size_mib: Any, children: Any) -> Comparison:
    """What the playground's button runs: check the choices, then :func:`compare`."""
    size_mib = _require_mib(size_mib)
    children = require_positive_int(children, "children", maximum=MAX_CHILDREN)
    return compare(ctx, size_mib, children, repeats=2)
