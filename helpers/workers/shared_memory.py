"""Lesson 07 (Shared memory with NumPy): the workers, which run in a child.

Each attaches to a segment by name; the parent, which created it, unlinks it.
Standard library only at import: a worker that computes with NumPy imports it
when it runs, so only its child pays for it.
"""

from __future__ import annotations

import time
from multiprocessing.shared_memory import ShareableList, SharedMemory

from helpers.workers.running import DEFAULT_TIMEOUT
from helpers.workers.timeline import Recorder, now

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def square_in_place(name: str, shape: tuple[int, ...], dtype: str) -> None:
    """Runs in a child: attach to segment ``name`` and square its array in place.

    Sends nothing back: the parent reads the same memory after joining. The
    child closes its own mapping; the parent, which created the segment,
    unlinks it.
    """
    import numpy as np  # only children that run this pay for numpy

    shm = SharedMemory(name=name)  # attach: no create, no size
    try:
        array = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        np.square(array, out=array)
        del array  # the view goes first, or close() raises BufferError
    finally:
        shm.close()


def read_after_close(name: str, closed: Any) -> float:
    """Runs in a child: view segment ``name`` with ``np.ndarray``, ``close()``, then read the view.

    Sets ``closed`` once ``close()`` has returned. NumPy 2 keeps no hold on the
    buffer of an ``np.ndarray(..., buffer=shm.buf)``, so ``close()`` succeeds
    and unmaps the memory under the array: the read that follows kills this
    child with SIGSEGV. (An array from ``np.frombuffer`` does hold the buffer,
    and there ``close()`` raises ``BufferError`` instead.)
    """
    import numpy as np  # only children that run this pay for numpy

    shm = SharedMemory(name=name)
    array = np.ndarray((1,), dtype=np.float64, buffer=shm.buf)
    shm.close()  # the mistake: the array is still alive
    closed.set()
    return float(array[0])  # reads memory that is no longer mapped


def write_after_unlink(name: str, attached: Any, unlinked: Any, timeout: float) -> None:
    """Runs in a child: attach, say so, wait until the parent unlinked, then write 42.

    Shows that ``unlink()`` removes the name, not the memory: this child's
    mapping still works, and the parent (which has not closed yet) reads the 42.
    """
    import numpy as np  # only children that run this pay for numpy

    shm = SharedMemory(name=name)
    try:
        attached.set()
        if not unlinked.wait(timeout):
            raise TimeoutError(f"the parent did not unlink within {timeout:g} s")
        first = np.ndarray((1,), dtype=np.int64, buffer=shm.buf)
        first[0] = 42
        del first
    finally:
        shm.close()


def transform_slice(  # noqa: PLR0917 - a Process target gets args=(...) by position
    name: str, length: int, begin: int, end: int, rounds: int, barrier: Any, events: Any
) -> None:
    """Runs in a child: apply ``np.sin`` ``rounds`` times to ``array[begin:end]`` in place.

    The array of ``length`` float64 lives in segment ``name``; no other child
    touches this slice, so no lock is needed. The child records on the course's
    timeline (``events``, a queue): a ``"wait"`` span at ``barrier``, until
    every child has attached, a ``"work"`` span, and, on a row of its own, a
    ``"cpu time"`` span from the same start, as long as the CPU time the work
    got: shorter than the work when the child had to wait for a CPU. Nothing
    else is sent back.
    """
    import numpy as np  # only children that run this pay for numpy

    rec = Recorder(events)  # named after this process
    cpu = Recorder(events, f"{rec.name}: CPU time")  # a row of its own
    try:
        shm = SharedMemory(name=name)
    except OSError:
        barrier.abort()  # nobody waits at the barrier for a child that cannot attach
        raise
    try:
        block = np.ndarray((length,), dtype=np.float64, buffer=shm.buf)[begin:end]
        with rec.span("wait"):
            barrier.wait(DEFAULT_TIMEOUT)
        began, cpu_began = now(), time.process_time_ns()
        for _ in range(rounds):
            np.sin(block, out=block)  # CPU-bound: no copy, no temporary array
        rec.record("work", began, now())
        cpu.record("cpu time", began, began + time.process_time_ns() - cpu_began)
        del block
    finally:
        shm.close()


def add_one_to_numbers(name: str) -> None:
    """Runs in a child: attach to the ``ShareableList`` called ``name``, add 1 to each number.

    Text, bytes, booleans and None are left as they are. Sends nothing back:
    the parent reads the same list after joining.
    """
    items: Any = ShareableList(name=name)
    try:
        for k, item in enumerate(items):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                items[k] = item + 1
    finally:
        items.shm.close()  # a ShareableList is closed through its segment
