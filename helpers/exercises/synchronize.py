"""Checkers for lesson 06's exercises: whole programs coordinated by a Semaphore and a Barrier.

The learner writes the worker in a module (``%%writefile``) and a function that
creates the primitive and the channel, starts the processes, collects, joins
and returns the result. Each checker runs that function for real with
:func:`helpers.checking.run_program`, names the mistakes every lesson checks
(:func:`helpers.checking.common_mistake`), and then this lesson's own: which
primitive the processes were given, whether they all got the same one, and
what the result says about who ran when.

>>> check_fetcher("fetch_all")
✘ pass your function itself, e.g. check_fetcher(fetch_all), not a str
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from multiprocessing import synchronize
from typing import Any

from helpers.checking import ProgramRun, Verdict, common_mistake, fail, not_a_function, ok
from helpers.checking import run_program as run_bounded
from helpers.context import get_context
from helpers.timeline import Event, max_overlap

__all__ = [
    "FETCH_LIMIT",
    "FETCH_URLS",
    "PHASE_NUMBERS",
    "check_fetcher",
    "check_two_phases",
    "expected_totals",
]

FETCH_URLS = tuple(f"https://example.org/page/{n}" for n in range(1, 7))
FETCH_LIMIT = 2
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
# Exercise 1: a rate-limited fetcher (Semaphore)
# --------------------------------------------------------------------------


def _semaphore_hint(run: ProgramRun, limit: int) -> str | None:
    given = _given(run, synchronize.SemLock)
    if any(isinstance(p, synchronize.Lock) for each in given for p in each):
        return (
            "your processes were given a Lock: it lets one fetch in at a time, but the "
            f"limit is {limit} — create ctx.Semaphore({limit}), which lets {limit} in at once"
        )
    shared, distinct = _one_shared(given)
    if distinct > 1:
        return (
            f"your {len(run.started)} processes were given {distinct} different semaphores: "
            "each one limits only the processes that share it — create ONE "
            f"ctx.Semaphore({limit}) in fetch_all and pass that same object to every process"
        )
    if shared is None:
        return (
            "your processes were given no Semaphore, so nothing limited how many fetched at "
            f"once: create ctx.Semaphore({limit}) in fetch_all and pass it to every process "
            "in args=(...) (one created inside the worker is that process's alone)"
        )
    return None


def _never_released(run: ProgramRun, limit: int) -> str | None:
    done = [p for p in run.started if p.exitcode == 0]
    stuck = [p for p in run.started if p.exitcode != 0]
    if len(run.started) > limit and len(done) == limit and stuck:
        return (
            f"only {limit} of {len(run.started)} processes finished; the others waited for a "
            "slot that never came back — release the semaphore after each fetch (with slots: "
            "does it for you, even if the fetch raises)"
        )
    return None


def _fetch_result_hint(result: Any, urls: tuple[str, ...], limit: int) -> str | None:
    if not isinstance(result, (list, tuple)) or len(result) != len(urls):
        got = f"{type(result).__name__} of {len(result)}" if hasattr(result, "__len__") else result
        return (
            f"fetch_all should return a list of {len(urls)} (url, started, ended) tuples, "
            f"one per url, not {got!r} — take one result per process from the queue"
        )
    shaped = all(
        isinstance(r, (list, tuple))
        and len(r) == 3
        and all(isinstance(t, numbers.Real) for t in r[1:])
        for r in result
    )
    if not shaped:
        return f"each result should be a tuple (url, started, ended), e.g. {result[0]!r} is not"
    if sorted(r[0] for r in result) != sorted(urls):
        return "every url should be fetched exactly once: some are missing or came twice"
    fetches = [Event(url, "fetch", round(a * 1e9), round(b * 1e9)) for url, a, b in result]
    most = max_overlap(fetches)
    if most > limit:
        return (
            f"{most} fetches overlapped in time, but the limit is {limit}: take the slot "
            "before the fetch begins and give it back after it ends — note started and "
            "ended inside `with slots:`"
        )
    return None


def check_fetcher(
    program: Callable[..., Any],
    *,
    urls: tuple[str, ...] = FETCH_URLS,
    limit: int = FETCH_LIMIT,
    ctx: Any = None,
) -> Verdict:
    """Run ``program(ctx, urls, limit)`` and check that at most ``limit`` fetched at once."""
    wrong = not_a_function(program, "check_fetcher(fetch_all)")
    if wrong is not None:
        return wrong
    # These programs make no named shared memory: /dev/shm is left alone.
    run = run_bounded(program, ctx or get_context(), list(urls), limit, shared_memory=False)
    hint = (
        _never_released(run, limit)
        or common_mistake(run)
        or _semaphore_hint(run, limit)
        or _fetch_result_hint(run.result, urls, limit)
    )
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {len(urls)} pages fetched, never more than {limit} at once, "
        f"and all {len(run.started)} processes joined"
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
    program: Callable[..., Any], *, values: tuple[int, ...] = PHASE_NUMBERS, ctx: Any = None
) -> Verdict:
    """Run ``program(ctx, values)`` and check the totals and the barrier between the phases."""
    wrong = not_a_function(program, "check_two_phases(two_phases)")
    if wrong is not None:
        return wrong
    run = run_bounded(program, ctx or get_context(), list(values), shared_memory=False)
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
