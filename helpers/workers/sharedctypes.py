"""Lesson 01 (Shared ctypes: Value and Array): the workers, which run in a child.

Each child writes into a shared ``Value`` or ``Array`` it was given and sends
nothing back: the parent reads the shared memory after joining. Standard
library only.
"""

from __future__ import annotations

import threading
import time

from helpers.workers.running import DEFAULT_TIMEOUT

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from helpers.context import Context


def square_into(numbers: list[int], squares: Any, total: Any) -> None:
    """Runs in a child: write ``numbers[k] ** 2`` into ``squares[k]`` and their sum into ``total``.

    ``squares`` is a shared ``Array`` and ``total`` a shared ``Value``: the child
    sends nothing back, the parent reads both after joining. It checks nothing,
    like any C code: a square too big for the typecode wraps around silently —
    :func:`fill_squares` is the checked way to run it.
    """
    for position, number in enumerate(numbers):
        squares[position] = number * number
    # Read back from shared memory, so the sum is of what the array really holds.
    total.value = sum(squares[: len(numbers)])


def _pass_gate(gate: Any, timeout: float) -> None:
    """Wait at the start barrier, so every adder begins at the same moment."""
    try:
        gate.wait(timeout)
    except threading.BrokenBarrierError:
        raise TimeoutError(f"waited {timeout:g} s at the start gate for the other adders") from None


def add_without_lock(counter: Any, gate: Any, times: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Runs in each racing child: wait at ``gate``, then ``counter.value += 1``, ``times`` times.

    Sends nothing back: the parent reads ``counter`` after joining. The
    ``Value``'s own lock guards the read and, separately, the write; between the
    two another child can write, and its increment is then overwritten (lost).
    """
    _pass_gate(gate, timeout)
    for _ in range(times):
        counter.value += 1


def add_with_lock(counter: Any, gate: Any, times: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Like :func:`add_without_lock`, but holds ``counter.get_lock()`` from read to write.

    No other child can write in between, so no increment is lost.
    """
    _pass_gate(gate, timeout)
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def add_both_ways(
    locked_counter: Any, free_counter: Any, gate: Any, times: int, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Runs in each of the playground's racing children: both races, one after the other.

    First :func:`add_with_lock` on ``locked_counter``, then :func:`add_without_lock`
    on ``free_counter``; the gate (a ``Barrier`` can be passed again and again)
    lines the children up before each. Sends nothing back: the parent reads both
    counters after joining. One child for both races halves the processes started.
    """
    add_with_lock(locked_counter, gate, times, timeout)
    add_without_lock(free_counter, gate, times, timeout)


def increment_paused(
    counter: Any, seen: Any, has_read: Any, may_write: Any, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Runs in child A of the step-by-step race: read, pause until told, write back read + 1.

    Stores what it read in ``seen[0]``, sets ``has_read``, waits for ``may_write``.
    """
    value = counter.value
    seen[0] = value
    has_read.set()
    if not may_write.wait(timeout):
        raise TimeoutError(f"child A waited {timeout:g} s for permission to write")
    counter.value = value + 1


def increment_in_between(
    counter: Any, seen: Any, has_read: Any, may_write: Any, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Runs in child B: once A has read, do a whole increment, then let A write.

    Stores what it read in ``seen[1]``; A then writes back its stale value + 1.
    """
    if not has_read.wait(timeout):
        raise TimeoutError(f"child B waited {timeout:g} s for child A to read")
    value = counter.value
    seen[1] = value
    counter.value = value + 1
    may_write.set()


def square_slice(numbers: list[int], squares: Any, begin: int, end: int) -> None:
    """Runs in a child: write the squares of ``numbers[begin:end]`` into ``squares[begin:end]``.

    Touches only its own slice, so several children can share one lock-free
    ``RawArray`` as long as their slices do not overlap; the parent reads after joining.
    """
    for position in range(begin, end):
        squares[position] = numbers[position] * numbers[position]


def add_squares_into(total: Any, numbers: list[int]) -> None:
    """Runs in a child: add the sum of the squares of ``numbers`` to the shared ``total``.

    The shared-state way to split a job: every child adds its part to one
    ``Value``, so it needs the lock around ``+=`` and a typecode wide enough for
    the whole sum, and the parent must read only after joining them all.
    """
    part = sum(number * number for number in numbers)
    with total.get_lock():  # read, add and write as one step
        total.value += part


def send_sum_of_squares(numbers: list[int], results: Any) -> None:
    """Runs in a child: put the sum of the squares of ``numbers`` on the queue ``results``.

    The message-passing way to split the same job: the child owns its part,
    sends one plain Python int, and shares nothing — no lock, no typecode.
    """
    results.put(sum(number * number for number in numbers))


def try_lock(lock: Any, took: Any, timeout: float) -> None:
    """Runs in a child: try to take ``lock`` for ``timeout`` s; write 1 into ``took`` if it could.

    ``took`` is a shared ``Value``: 0 means the lock was held by another process.
    A lock the child did take is released at once.
    """
    got_it = lock.acquire(timeout=timeout)
    took.value = 1 if got_it else 0
    if got_it:
        lock.release()


def try_module_lock(took: Any, timeout: float) -> None:
    """Runs in a child: try to take the global ``LOCK`` of :mod:`helpers.workers.module_lock`.

    Writes 1 into the shared ``Value`` ``took`` if it could (see :func:`try_lock`).
    The module is imported here, when the child runs, as the child's own code
    would import it. (Imported while the child is still loading its target, a
    forkserver child would make its ``LOCK`` before it resets its clean-up list,
    and that lock's named semaphore would outlive the child.)
    """
    from helpers.workers import module_lock  # made in the child, at run time

    try_lock(module_lock.LOCK, took, timeout)


def hold_lock(lock: Any, holding: Any, seconds: float) -> None:
    """Runs in a child: take ``lock``, set the event ``holding``, keep the lock ``seconds`` s.

    Sends nothing back but the event. A child terminated while it sleeps here
    never reaches the end of its ``with`` block, so it never releases the lock.
    """
    with lock:
        holding.set()
        time.sleep(seconds)


class CountingLock:
    """A re-entrant lock that counts, in shared memory, how often it is taken.

    ``outer`` counts the acquisitions no other acquisition in the same process
    encloses (``with total.get_lock():`` once, or each bare ``total.value``
    read and write); ``inner`` the ones inside another (``total.value`` inside
    ``with total.get_lock():``). Give it to ``ctx.Value(..., lock=CountingLock(ctx))``
    and pass the value to children as usual: every process counts into the same two numbers.
    Its counting runs in every process that takes it, children included: it lives here.
    """

    def __init__(self, ctx: Context) -> None:
        self._lock = ctx.RLock()
        self._counts = ctx.RawArray("q", 2)  # outer, inner: written only with _lock held
        self._depth = 0  # this process's nesting; RLock is held by one thread at a time

    def __getstate__(self) -> tuple[Any, Any]:
        return self._lock, self._counts

    def __setstate__(self, state: tuple[Any, Any]) -> None:
        self._lock, self._counts = state
        self._depth = 0

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        got = self._lock.acquire(block, timeout)
        if got:
            self._counts[1 if self._depth else 0] += 1
            self._depth += 1
        return got

    def release(self) -> None:
        self._depth -= 1
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def outer(self) -> int:
        return int(self._counts[0])

    @property
    def inner(self) -> int:
        return int(self._counts[1])
