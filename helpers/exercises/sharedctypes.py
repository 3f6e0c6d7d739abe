"""Checkers for lesson 01's exercises: shared memory with ``Array`` and ``Value``.

Exercise 1 runs a worker written in a notebook cell, in a child started with
the dill-based ``multiprocess`` package (which can send a cell's function to a
child under every start method), so its shared array is a ``multiprocess`` one
too: the two packages' objects cannot be mixed.

Exercises 2 and 3 are whole programs, in modules the learner writes with
``%%writefile``. Exercise 2 is given broken (a box office that sells more
tickets than it has seats: a test and a take that are two steps, and ``-=``
without the lock); exercise 3 is a design (a progress counter that stays
exact and close behind its workers while taking its lock as rarely as that
allows). :func:`helpers.checking.run_program` runs each within a time limit
and records what it started and joined; the hints name the mistake. Every wait
has a timeout, so a wrong answer gives a hint, never a frozen kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.checking import (
    CHECK_TIMEOUT,
    PROGRAM_TIMEOUT,
    RecordingContext,
    Verdict,
    common_mistake,
    context_for,
    fail,
    multiprocess_context_for,
    not_a_function,
    ok,
    run_program,
)
from helpers.running import ChildError, ChildTimeout, run
from helpers.sharedctypes import CountingLock
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "BUYERS",
    "CHECK_TIMEOUT",
    "PROGRESS_CHUNK",
    "PROGRESS_STEP",
    "PROGRESS_WORKERS",
    "RUNNING_NUMBERS",
    "SEATS",
    "check_box_office",
    "check_progress",
    "progress_chunks",
]

# The numbers exercise 1's worker gets; its answer is [3, 4, 8, 9, 14, 23, 25, 31].
RUNNING_NUMBERS = (3, 1, 4, 1, 5, 9, 2, 6)
# Exercise 2: 4 buyers share 200,000 seats, about 50,000 unlocked `-=` each: as
# many as the lesson's race, which lost updates in every run measured under load.
SEATS = 200_000
BUYERS = 4
# Exercise 3: 4 workers of 50,000 numbers each; the notebook's counter may be at
# most 1,000 numbers behind any of them, so each must add at least 50 times.
PROGRESS_WORKERS = 4
PROGRESS_CHUNK = 50_000
PROGRESS_STEP = 1_000
# A batch of a few hundred numbers is still cheap; one lock per number is not.
# With the most acquisitions a program may make per update (a bare read and a
# write), this lets batches down to about 1,000 / 4 pass.
_MOST_TAKES = 8


def _child_failure(err: ChildError, who: str, call: str) -> Verdict:
    if err.exc_type is not None:
        return fail(f"{who} raised {err.exc_type}: {err.exc_message} (it is called as {call})")
    return fail(f"{who} ended with exit code {err.exitcode} before it finished")


def check_running_totals(
    worker: Any, *, ctx: Context | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
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
    mctx = multiprocess_context_for(ctx)
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


# ---- exercise 2: fix a box office that sells more tickets than it has -------------------


def _tickets_hint(result: Any) -> str | None:
    """A hint about what ``sell_out`` returned, or None when every seat was sold once."""
    if not (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], list)
        and all(isinstance(n, int) for n in result[0])
        and isinstance(result[1], int)
    ):
        return (
            "sell_out must return (tickets each buyer sold, seats left), e.g. ([50_000, …], 0),"
            f" not {result!r:.80}"
        )
    sold, left = sum(result[0]), result[1]
    if sold > SEATS or left < 0:
        # Lost decrements, or a buyer that passed the test just before the last seat
        # went: either way more tickets than seats, and one fix for both.
        return (
            f"{sold:,} tickets sold for {SEATS:,} seats: the test `seats.value > 0` and the"
            " take `seats.value -= 1` are separate steps (and `-=` is itself a read and a"
            " write), so another buyer got in between and a seat was sold twice — hold"
            " seats.get_lock() from the test to the take, as one step"
        )
    if left > 0 or sold < SEATS:
        return (
            f"{sold:,} tickets sold and {left:,} seats left of {SEATS:,}: every buyer should keep"
            " going until no seat is left, and the tally should be read after every join()"
        )
    return None


def check_box_office(
    sell_out: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 2: ``sell_out(ctx, seats, buyers)`` sells every seat once, no more.

    It returns the tickets each buyer sold and the seats left; right means their
    sum is ``SEATS`` and none is left (or below zero).
    """
    verdict = not_a_function(sell_out, "check_box_office(my_box_office.sell_out)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    # Value and Array make no named shared-memory segment, so none is looked for.
    run = run_program(
        sell_out, context_for(ctx), SEATS, BUYERS, timeout=timeout, shared_memory=False
    )
    hint = common_mistake(run) or _tickets_hint(run.result)
    if hint is not None:
        return fail(hint)
    return ok(
        f"{len(run.started)} buyers sold {SEATS:,} tickets for {SEATS:,} seats:"
        " every seat sold once, none twice"
    )


# ---- exercise 3: a progress counter, exact, close behind, and cheap --------------------


def progress_chunks() -> list[range]:
    """Exercise 3's input: one range of numbers per worker."""
    size = PROGRESS_CHUNK
    return [range(k * size, (k + 1) * size) for k in range(PROGRESS_WORKERS)]


class _CountingContext(RecordingContext):
    """The notebook's context, but every locked ``Value`` counts how often its lock is taken."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.locks: list[CountingLock] = []

    def Value(self, typecode: Any, *args: Any, lock: Any = True) -> Any:
        if lock is True or lock is None:
            lock = CountingLock(self._ctx)
            self.locks.append(lock)
        return self._ctx.Value(typecode, *args, lock=lock)


def _progress_hint(run: Any, counting: _CountingContext) -> str | None:  # noqa: PLR0911 - one early return per hint
    want = PROGRESS_WORKERS * PROGRESS_CHUNK
    result = run.result
    if hasattr(result, "get_lock"):
        return "return the number, done.value, read after every join(), not the Value itself"
    if isinstance(result, bool) or not isinstance(result, int):
        return f"return the count as a whole number (done.value), not a {type(result).__name__}"
    if not counting.locks:
        return (
            "make the counter with ctx.Value('q', 0) (with its lock) and pass it to every"
            " worker: the notebook reads it while they run"
        )
    outer = sum(lock.outer for lock in counting.locks)
    inner = sum(lock.inner for lock in counting.locks)
    least = PROGRESS_WORKERS * (PROGRESS_CHUNK // PROGRESS_STEP)
    if result != want and result < want and inner == 0:
        return (
            f"the counter says {result:,}, not {want:,}: updates were lost — `done.value += n`"
            " is a read and then a write; hold done.get_lock() around it"
        )
    if result != want:
        return f"the counter says {result:,}, not {want:,}: is a number counted twice, or never?"
    if inner == 0 and outer > 1:
        return (
            "the count came out right this time, but `done.value += n` without"
            " done.get_lock() is a read and a write that another worker can split: hold the lock"
        )
    if outer < least:
        return (
            f"the lock was taken {outer:,} times for {least:,} steps of {PROGRESS_STEP:,}"
            " numbers: the counter fell further behind than that — add what you counted"
            f" at least every {PROGRESS_STEP:,} numbers, not once at the end"
        )
    if outer > _MOST_TAKES * least:
        return (
            f"correct, but the lock was taken {outer:,} times, about once per number"
            f" ({want:,} numbers): count in a local variable and add it to done every"
            f" {PROGRESS_STEP:,} numbers"
        )
    return None


def check_progress(
    count_all: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 3: ``count_all(ctx, chunks)`` counts every number, in batches.

    The context it gets makes ``Value``s whose lock counts how often it is
    taken, in every process: right means the count is exact, each update holds
    the lock, and the lock was taken at least once per ``PROGRESS_STEP``
    numbers (so the counter is never further behind) but not once per number.
    """
    verdict = not_a_function(count_all, "check_progress(my_progress.count_all)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    counting = _CountingContext(context_for(ctx))
    run = run_program(count_all, counting, progress_chunks(), timeout=timeout, shared_memory=False)
    hint = common_mistake(run) or _progress_hint(run, counting)
    if hint is not None:
        return fail(hint)
    outer = sum(lock.outer for lock in counting.locks)
    total = PROGRESS_WORKERS * PROGRESS_CHUNK
    return ok(
        f"{len(run.started)} workers counted {total:,} numbers exactly, taking the lock"
        f" {outer:,} times: never more than {PROGRESS_STEP:,} numbers behind, and"
        f" {total // max(outer, 1):,} numbers per lock"
    )
