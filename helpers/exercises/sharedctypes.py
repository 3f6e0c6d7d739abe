"""Checkers for the exercises of lesson 01 (shared memory with ``Array`` and ``Value``).

Exercise 1 runs a worker written in a notebook cell, in a child started with
the dill-based ``multiprocess`` package (which can send a cell's function to a
child under every start method), so its shared array is a ``multiprocess`` one
too: the two packages' objects cannot be mixed.

Exercise 2 is a whole program: the learner's function creates the shared
``Value``, starts and joins the processes and returns the total.
:func:`helpers.checking.run_program` runs it within a time limit and records
what it started and joined; the hints name the lesson's own mistakes.
Every wait has a timeout, so a wrong answer gives a hint, never a frozen kernel.
"""

from __future__ import annotations

from typing import Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    Verdict,
    common_mistake,
    fail,
    not_a_function,
    ok,
    run_program,
)
from helpers.context import get_context, get_multiprocess_context
from helpers.running import ChildError, ChildTimeout, run
from helpers.validation import require_timeout

__all__ = [
    "CHECK_TIMEOUT",
    "RUNNING_NUMBERS",
    "SUM_CHUNKS",
    "check_running_totals",
    "check_shared_sum",
    "sum_chunks",
]

# Generous for a spawned child on a busy laptop, short enough to be a hint.
from helpers.checking import CHECK_TIMEOUT

# The numbers exercise 1's worker gets; its answer is [3, 4, 8, 9, 14, 23, 25, 31].
RUNNING_NUMBERS = (3, 1, 4, 1, 5, 9, 2, 6)
# Exercise 2 adds 1 + 2 + … + 200,000 in 4 processes of 50,000 numbers each. The
# sum, 20,000,100,000, does not fit a C int, and 50,000 unlocked `+=` per process
# lost updates in every trial here under each start method. The chunks are
# ranges, so they reach a child at once even under spawn, and the children overlap.
SUM_CHUNKS = 4
SUM_CHUNK_SIZE = 50_000
# A C number of 1, 2, 4 or 8 bytes keeps only the low bits of a bigger sum.
_WRAPS = (2**8, 2**16, 2**32, 2**64)


def _child_failure(err: ChildError, who: str, call: str) -> Verdict:
    if err.exc_type is not None:
        return fail(f"{who} raised {err.exc_type}: {err.exc_message} (it is called as {call})")
    return fail(f"{who} ended with exit code {err.exitcode} before it finished")


def check_running_totals(worker: Any, *, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Exercise 1: run ``worker(numbers, totals)`` in a child and check the shared array.

    ``totals`` is a shared ``Array('q', 8)``; after the child ends, ``totals[k]``
    must hold ``numbers[0] + … + numbers[k]``.
    """
    require_timeout(timeout)
    if not callable(worker):
        return fail(
            "pass your worker function itself, e.g. check_running_totals(running_totals),"
            f" not {type(worker).__name__}"
        )
    numbers = list(RUNNING_NUMBERS)
    want = [sum(numbers[: k + 1]) for k in range(len(numbers))]
    mctx = get_multiprocess_context()
    totals = mctx.Array("q", len(numbers))
    try:
        run(mctx, worker, numbers, totals, timeout=timeout, name="your worker")
    except ChildTimeout:
        return fail(
            f"your worker did not finish within {timeout:g} s: does a loop never end,"
            " or does it wait for something?"
        )
    except ChildError as err:
        return _child_failure(err, "your worker", "worker(numbers, totals)")
    got = totals[:]
    if got == want:
        return ok(f"your worker ran in a child process and wrote all {len(want)} running totals")
    return fail(_totals_hint(numbers, got, want))


def _totals_hint(numbers: list[int], got: list[int], want: list[int]) -> str:
    """The most specific hint for a wrong ``totals`` array."""
    typical = [
        (
            not any(got),
            "the shared array is still all zeros: write each total into totals[k] — a child's"
            " return value, or a new list bound to the name totals, never reaches the notebook",
        ),
        (
            got == [0, *want[:-1]],
            "each slot holds the total before its own number: add numbers[k] first, then"
            f" store (totals[0] should be {want[0]})",
        ),
        (
            got == numbers,
            "you stored the numbers themselves: each slot must hold the running total",
        ),
    ]
    for wrong, hint in typical:
        if wrong:
            return hint
    k = next(k for k, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
    return f"totals[{k}] is {got[k]} but should be {want[k]}: numbers[0] + … + numbers[{k}]"


def sum_chunks() -> list[range]:
    """Exercise 2's input: 1 … 200,000 as four ranges, one per process."""
    size = SUM_CHUNK_SIZE
    return [range(k * size + 1, (k + 1) * size + 1) for k in range(SUM_CHUNKS)]


def _total_hint(total: Any, want: int) -> str | None:
    """A hint about the returned total, or None when it is right or merely short."""
    if hasattr(total, "get_lock") or hasattr(total, "_wrapper"):
        return (
            "your function returned the shared Value itself: return the number in it,"
            " total.value, read after every process has been joined"
        )
    if isinstance(total, bool) or not isinstance(total, int):
        return f"return the total as a whole number (total.value), not a {type(total).__name__}"
    if total == want:
        return None
    # A negative sum of positive numbers, or the sum's low bits alone, is a wrap-around.
    if total < 0 or any(total < size and (want - total) % size == 0 for size in _WRAPS):
        return (
            f"the total wrapped around: {total:,} instead of {want:,} — the typecode of"
            " your Value is too narrow for the sum (a C int, 'i', stops at"
            " 2,147,483,647): use ctx.Value('q', 0)"
        )
    if 0 <= total < want:
        return None  # short: lost updates or read too early, told apart by running again
    return f"the total is {total:,}, not {want:,}: is a number added twice, or subtracted?"


def check_shared_sum(shared_sum: Any, *, timeout: float = PROGRAM_TIMEOUT) -> Verdict:
    """Exercise 2: ``shared_sum(ctx, chunks)`` adds every number of ``chunks`` in its processes.

    Runs the program under the notebook's start method. When the total comes
    back short, it runs it again with all the numbers in one chunk: one process
    cannot race with itself, so a right total then means updates were lost (no
    lock), and a short one that the total was read before the processes ended.
    """
    verdict = not_a_function(shared_sum, "check_shared_sum(shared_sum)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    ctx = get_context()
    chunks = sum_chunks()
    want = sum(sum(chunk) for chunk in chunks)
    # A Value makes no named shared-memory segment, so none is looked for.
    run = run_program(shared_sum, ctx, chunks, timeout=timeout, shared_memory=False)
    hint = common_mistake(run) or _total_hint(run.result, want)
    if hint is not None:
        return fail(hint)
    if run.result == want:
        return ok(
            f"{len(run.started)} processes added 1 + 2 + … + {chunks[-1][-1]:,} into"
            f" one shared Value: {want:,}, not one update lost"
        )
    alone = run_program(
        shared_sum, ctx, [range(1, chunks[-1][-1] + 1)], timeout=timeout, shared_memory=False
    )
    hint = common_mistake(alone) or _total_hint(alone.result, want)
    if hint is not None:
        return fail(hint)
    if alone.result == want:
        return fail(
            f"updates were lost: {len(run.started)} processes made {run.result:,}, not"
            f" {want:,} (one process alone gets it right) — `total.value += n` is a read and"
            " then a write; hold the lock from one to the other:"
            " `with total.get_lock(): total.value += n`"
        )
    return fail(
        f"even one process came up short ({alone.result:,} of {want:,}): read total.value"
        " only after join() has returned for every process"
    )
