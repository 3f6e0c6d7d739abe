"""Checkers for the exercises of lesson 01 (shared memory with ``Array`` and ``Value``).

Both checkers run the learner's code for real, in a child process started with
the dill-based ``multiprocess`` package, so that a function defined in a
notebook cell can run in a child under every start method. That is also why
they create every shared object through the ``multiprocess`` context: its
objects cannot be mixed with those of ``multiprocessing``. Each wait has a
timeout, so a learner's endless loop gives a hint, never a frozen kernel.
"""

from __future__ import annotations

import reprlib
import time
from typing import Any

from helpers.checking import Verdict, fail, ok
from helpers.context import get_multiprocess_context
from helpers.running import ChildError, ChildTimeout, run, start, wait
from helpers.sharedctypes import square_slice
from helpers.validation import require_timeout

__all__ = [
    "CHECK_TIMEOUT",
    "RUNNING_NUMBERS",
    "SLICE_CASES",
    "check_running_totals",
    "check_slices",
]

# Generous for a spawned child on a busy laptop, short enough to be a hint.
from helpers.checking import CHECK_TIMEOUT

# The numbers exercise 1's worker gets; its answer is [3, 4, 8, 9, 14, 23, 25, 31].
RUNNING_NUMBERS = (3, 1, 4, 1, 5, 9, 2, 6)
# (array length, processes) for exercise 2: even, uneven, more processes than items.
SLICE_CASES = ((8, 2), (10, 3), (3, 4), (1, 1))
_REAL_RUN = 1  # the case that is also run with real children


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


def _plan_slices(make_slices: Any, cases: list[tuple[int, int]], results: Any) -> None:
    """Runs in a ``multiprocess`` child: call the learner's ``make_slices`` for each case.

    Sends back, through ``results``, one ``(kind, detail)`` per case, so that an
    endless loop in the learner's function stops at the parent's timeout.
    """
    answers: list[tuple[str, Any]] = []
    for length, processes in cases:
        try:
            answer = make_slices(length, processes)
        except Exception as exc:
            answers.append(("raised", f"{type(exc).__name__}: {exc}"))
            continue
        try:
            answers.append(("returned", [tuple(pair) for pair in answer]))
        except TypeError:
            answers.append(("shape", reprlib.repr(answer)))
    results.send(answers)
    results.close()


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _judge_plan(length: int, processes: int, kind: str, detail: Any) -> str | None:
    """A hint about one case's answer, or None if its slices are right."""
    call = f"make_slices({length}, {processes})"
    if kind == "raised":
        return f"{call} raised {detail}"
    if kind == "shape":
        return f"{call} returned {detail}: return a list of (start, stop) pairs"
    if len(detail) != processes:
        return (
            f"{call} returned {len(detail)} slices: return exactly one (start, stop) pair"
            " per process, even if some are empty"
        )
    for pair in detail:
        if len(pair) != 2 or not all(_whole(end) for end in pair):
            return f"{call} returned {pair!r}: each slice is a pair of whole numbers"
        if not 0 <= pair[0] <= pair[1] <= length:
            return (
                f"{call}: slice {pair!r} does not fit an array of length {length}"
                f" (need 0 <= start <= stop <= {length})"
            )
    return _coverage_hint(call, length, detail)


def _coverage_hint(call: str, length: int, slices: list[tuple[int, int]]) -> str | None:
    """A hint if two slices share an index or an index is in none, else None."""
    owner: dict[int, int] = {}
    for number, (begin, end) in enumerate(slices):
        for index in range(begin, end):
            if index in owner:
                return (
                    f"{call}: index {index} is in slices {owner[index]} and {number}, so two"
                    " children would write the same element: slices must not overlap"
                )
            owner[index] = number
    missing = [index for index in range(length) if index not in owner]
    if missing:
        return (
            f"{call}: index {missing[0]} is in no slice, so its square would never be"
            f" written — together the slices must cover 0 to {length}"
        )
    return None


def _plans_from_child(mctx: Any, make_slices: Any, timeout: float) -> list | Verdict:
    """Run :func:`_plan_slices` in a child; its answers, or a failing verdict."""
    reader, writer = mctx.Pipe(duplex=False)
    try:
        planner = start(mctx, _plan_slices, make_slices, list(SLICE_CASES), writer, name="planner")
    finally:
        writer.close()  # the parent only reads: EOF then means the child has gone
    # Read before joining: a child blocked on a full pipe would never exit.
    deadline = time.monotonic() + timeout
    try:
        answers = reader.recv() if reader.poll(timeout) else None
    except (EOFError, OSError):
        answers = None  # the child died before sending: wait() below says how
    finally:
        reader.close()
    try:
        wait([planner], timeout=max(deadline - time.monotonic(), 1.0))
    except ChildTimeout:
        return fail(f"make_slices did not return within {timeout:g} s: does a loop never end?")
    except ChildError as err:
        return _child_failure(err, "make_slices", "make_slices(length, processes)")
    if answers is None:
        return fail("make_slices sent nothing back: did its process end early?")
    return answers


def check_slices(make_slices: Any, *, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Exercise 2: check ``make_slices(length, processes)``, then use it for real.

    It must return one ``(start, stop)`` pair per process, covering every index
    of the array exactly once. The plan is computed in a child (so an endless
    loop cannot freeze the kernel); then children square numbers into one
    lock-free ``RawArray``, each writing only its own slice.
    """
    require_timeout(timeout)
    if not callable(make_slices):
        return fail(
            "pass your function itself, e.g. check_slices(make_slices),"
            f" not {type(make_slices).__name__}"
        )
    mctx = get_multiprocess_context()
    answers = _plans_from_child(mctx, make_slices, timeout)
    if isinstance(answers, Verdict):
        return answers
    for (length, processes), (kind, detail) in zip(SLICE_CASES, answers, strict=True):
        hint = _judge_plan(length, processes, kind, detail)
        if hint is not None:
            return fail(hint)
    # Now for real, with the uneven case: 10 items over 3 processes.
    length, processes = SLICE_CASES[_REAL_RUN]
    plan = answers[_REAL_RUN][1]
    numbers = list(range(1, length + 1))
    squares = mctx.RawArray("q", length)
    children = [start(mctx, square_slice, numbers, squares, b, e) for b, e in plan]
    wait(children, timeout=timeout)
    if squares[:] != [n * n for n in numbers]:
        return fail(f"the squares came back as {squares[:]}: were the slices used as planned?")
    return ok(
        f"{processes} children filled all {length} squares of one lock-free RawArray,"
        " each writing only its own slice"
    )
