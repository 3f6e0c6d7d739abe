"""Checkers for lesson 06's exercises: a ring buffer run by two Semaphores, and a Barrier.

The learner writes the worker in a module (``%%writefile``) and a function that
creates the primitive and the channel, starts the processes, collects, joins
and returns the result. Each checker runs that function for real with
:func:`helpers.checking.run_program`, names the mistakes every lesson checks
(:func:`helpers.checking.common_mistake`), and then this lesson's own: which
primitive the processes were given, whether they all got the same one, and
what the result says about who ran when.

>>> check_ring_buffer("ring_transfer")
✘ pass your function itself, e.g. check_ring_buffer(ring_transfer), not a str
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from multiprocessing import synchronize
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    FAULT_TIMEOUT,
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    context_for,
    fail,
    not_a_function,
    ok,
)
from helpers.checking import run_program as run_bounded

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "PHASE_NUMBERS",
    "RING_ITEMS",
    "RING_SLOTS",
    "check_ring_buffer",
    "check_two_phases",
    "expected_totals",
]

RING_ITEMS, RING_SLOTS = 300, 4  # the whole run: every item must arrive, in order
RING_CONSUMER = "consume"  # the name of the learner's consumer function: the one killed
# The faulty run streams enough items that the consumer is still at work when it is
# killed, on a fast machine too; the kill comes this long after its start().
RING_LONG_STREAM = 2_000_000
RING_KILL_AFTER = 0.5
PHASE_NUMBERS = (1, 2, 3, 4)


def expected_totals(values: tuple[int, ...] = PHASE_NUMBERS) -> list[int]:
    """Each square plus its right neighbour's (the last wraps round to the first).

    >>> expected_totals((1, 2, 3, 4))
    [5, 13, 25, 17]
    """
    squares = [v * v for v in values]
    return [squares[i] + squares[(i + 1) % len(squares)] for i in range(len(squares))]


def _given(run: ProgramRun, kind: type) -> list[list[Any]]:
    """Per process started, the objects of ``kind`` it was given as arguments."""
    found = []
    for record in run.started:
        found.append([value for value in record.passed if isinstance(value, kind)])
    return found


def _one_shared(given: list[list[Any]]) -> tuple[Any, int]:
    """The one primitive every process got (or None), and how many distinct ones were passed."""
    distinct = {id(p): p for each in given for p in each}
    shared = next(iter(distinct.values())) if len(distinct) == 1 else None
    if shared is not None and not all(each for each in given):
        shared = None  # some process got none
    return shared, len(distinct)


# --------------------------------------------------------------------------
# Exercise 1: a ring buffer in shared memory (two Semaphores), consumer killed mid-stream
# --------------------------------------------------------------------------


class _KillsTheConsumer:
    """A context whose ``consume`` process is killed ``after`` seconds into its run.

    Everything else is the real context's: the learner's program cannot tell,
    until its consumer is gone.
    """

    def __init__(self, ctx: Any, after: float) -> None:
        self._ctx, self._after = ctx, after
        self.killed: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def Process(self, *args: Any, **kwargs: Any) -> Any:
        process = self._ctx.Process(*args, **kwargs)
        if getattr(kwargs.get("target"), "__name__", None) != RING_CONSUMER:
            return process
        watcher = threading.Thread(target=self._kill_once_started, args=(process,), daemon=True)
        watcher.start()
        return process

    def _kill_once_started(self, process: Any) -> None:
        """Wait for ``process`` to start (its pid appears), then kill it ``after`` seconds on."""
        deadline = time.monotonic() + FAULT_TIMEOUT
        while process.pid is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(self._after)
        self._kill(process)

    def _kill(self, process: Any) -> None:
        if process.is_alive():
            process.kill()
            self.killed.append(process)


def _ring_result_hint(result: Any, items: list[int]) -> str | None:
    if not isinstance(result, list) or len(result) != len(items):
        size = len(result) if isinstance(result, list) else type(result).__name__
        return f"return the list of {len(items)} items the consumer read, in order, not {size}"
    if result == items:
        return None
    if sorted(result) == items:
        return (
            "every item arrived but out of order: item i goes in slot i % slots, and the "
            "consumer reads the slots in the same order"
        )
    repeated = len(result) - len(set(result))
    return (
        f"items were lost or read twice ({repeated} repeated): the producer must acquire "
        "empty before it writes a slot and release full after; the consumer acquires full "
        "before it reads and releases empty after — full = Semaphore(0), empty = "
        "Semaphore(slots)"
    )


def _after_the_kill(run: ProgramRun, killing: _KillsTheConsumer) -> str | None:
    if not killing.killed:
        return None  # the consumer finished before the kill: nothing to judge
    still = [p.name for p in run.started if p.exitcode is None]
    if run.timed_out:
        return (
            "the checker killed your consumer mid-stream and your program never finished: "
            "the producer waits for a free slot that nobody will empty — give "
            "empty.acquire() a timeout and give up, and join with a timeout"
        )
    if still:
        return (
            f"the checker killed your consumer mid-stream; your program returned but left "
            f"{', '.join(still)} running: a producer must give up when no slot frees up "
            "(empty.acquire(timeout=...) returning False)"
        )
    if run.error is None:
        return (
            "the checker killed your consumer mid-stream, yet your program returned as if "
            "all went well: after joining, look at the consumer's exitcode and raise an "
            "error when it is not 0"
        )
    return None


def check_ring_buffer(
    program: Callable[..., Any],
    *,
    items: int = RING_ITEMS,
    slots: int = RING_SLOTS,
    kill_after: float = RING_KILL_AFTER,
    ctx: Context | None = None,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, items, slots)`` twice: whole, then with the consumer killed.

    The first run must return every item in order. In the second the checker
    kills the process running ``consume`` ``kill_after`` seconds after it
    started, mid-stream: the program must then raise within the time limit,
    with no process left waiting.
    """
    wrong = not_a_function(program, "check_ring_buffer(ring_transfer)")
    if wrong is not None:
        return wrong
    ctx = context_for(ctx)
    wanted = list(range(1, items + 1))
    run = run_bounded(program, ctx, wanted, slots, shared_memory=False, timeout=timeout)
    hint = common_mistake(run) or _ring_result_hint(run.result, wanted)
    if hint is not None:
        return fail(hint)
    killing = _KillsTheConsumer(ctx, kill_after)
    long_stream = list(range(1, RING_LONG_STREAM + 1))
    faulty = run_bounded(
        program, killing, long_stream, slots, shared_memory=False, timeout=FAULT_TIMEOUT
    )
    hint = _after_the_kill(faulty, killing)
    if hint is not None:
        return fail(hint)
    return ok(
        f"{items} items through {slots} slots, in order; with the consumer killed mid-stream "
        f"your program raised {type(faulty.error).__name__} and left nothing running"
        if killing.killed
        else f"{items} items through {slots} slots, in order"
    )


# --------------------------------------------------------------------------
# Exercise 2: a two-phase computation (Barrier)
# --------------------------------------------------------------------------


def _barrier_hint(run: ProgramRun, workers: int) -> str | None:
    given = _given(run, synchronize.Barrier)
    shared, distinct = _one_shared(given)
    if distinct > 1:
        return (
            f"your {len(run.started)} processes were given {distinct} different barriers: a "
            f"barrier only holds the processes that share it — create ONE ctx.Barrier({workers}) "
            "and pass that same object to every process"
        )
    if shared is not None and shared.parties != workers:
        return (
            f"your Barrier has {shared.parties} parties for {workers} workers: it opens when "
            f"exactly `parties` processes have called wait() — use ctx.Barrier({workers})"
        )
    return None


def _no_barrier(run: ProgramRun, workers: int) -> str | None:
    if not any(_given(run, synchronize.Barrier)):
        return (
            "your processes were given no Barrier, so phase 2 could start before phase 1 had "
            f"finished everywhere: create ctx.Barrier({workers}), pass it to every process, and "
            "call barrier.wait(timeout=...) between the two phases"
        )
    return None


def _totals_hint(result: Any, values: tuple[int, ...]) -> str | None:
    wanted = expected_totals(values)
    try:
        got = [int(x) for x in result]
    except (TypeError, ValueError):
        return (
            f"two_phases should return the {len(values)} totals as a list of whole numbers, "
            f"e.g. list(totals), not {result!r}"
        )
    if got == wanted:
        return None
    if len(got) != len(wanted):
        return f"two_phases returned {len(got)} totals for {len(values)} numbers: one per worker"
    squares = [v * v for v in values]
    wrong = next(i for i, (a, b) in enumerate(zip(got, wanted, strict=True)) if a != b)
    if got[wrong] == squares[wrong]:
        return (
            f"worker {wrong} found its neighbour's square still 0: phase 2 read it before "
            "phase 1 had written it — every worker must wait at the barrier after writing "
            "its square and before reading its neighbour's"
        )
    return (
        f"total {wrong} is {got[wrong]}, expected {wanted[wrong]} "
        f"({squares[wrong]} + {squares[(wrong + 1) % len(values)]}): phase 2 adds a worker's "
        "square and its right neighbour's (the last one's neighbour is the first)"
    )


def check_two_phases(
    program: Callable[..., Any],
    *,
    values: tuple[int, ...] = PHASE_NUMBERS,
    ctx: Context | None = None,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, values)`` and check the totals and the barrier between the phases."""
    wrong = not_a_function(program, "check_two_phases(two_phases)")
    if wrong is not None:
        return wrong
    run = run_bounded(program, context_for(ctx), list(values), shared_memory=False, timeout=timeout)
    hint = (
        _barrier_hint(run, len(values))
        or common_mistake(run)
        or _no_barrier(run, len(values))
        or _totals_hint(run.result, values)
    )
    if hint is not None:
        return fail(hint)
    return ok(
        f"totals {expected_totals(values)}: every worker waited at one Barrier({len(values)}) "
        "between the phases, and all were joined"
    )
