"""Tests for `helpers.exercises.synchronize`: the reference passes, each mistake gets its hint."""

from __future__ import annotations

import programs_synchronize as programs
import pytest

from helpers.exercises.synchronize import (
    FETCH_LIMIT,
    check_fetcher,
    check_two_phases,
    expected_totals,
)


@pytest.mark.worked_answer
def test_the_reference_fetcher_passes(ctx):
    verdict = check_fetcher(programs.fetch_all, ctx=ctx)
    assert repr(verdict) == (
        "✔ all 6 pages fetched, never more than 2 at once, and all 6 processes joined"
    )


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.fetch_all_unlimited, "your processes were given no Semaphore"),
        (programs.fetch_all_with_a_lock, "your processes were given a Lock"),
        (programs.fetch_all_semaphore_each, "were given 6 different semaphores"),
        pytest.param(  # waits out the program's own 10 s timeout
            programs.fetch_all_never_released,
            f"only {FETCH_LIMIT} of 6 processes finished",
            marks=pytest.mark.slow,
        ),
        (programs.fetch_all_not_joined, "6 of 6 process(es) were never joined"),
    ],
    ids=["no semaphore", "a lock", "a semaphore each", "never released", "not joined"],
)
def test_each_fetcher_mistake_gets_its_own_hint(ctx, program, hint):
    verdict = check_fetcher(program, ctx=ctx)
    assert not verdict.passed
    assert hint in verdict.message, verdict.message


def test_a_fetcher_that_is_not_a_function_is_named():
    assert repr(check_fetcher(None)) == (
        "✘ pass your function itself, e.g. check_fetcher(fetch_all), not a NoneType"
    )


@pytest.mark.worked_answer
def test_the_reference_two_phases_passes(ctx):
    verdict = check_two_phases(programs.two_phases, ctx=ctx)
    assert repr(verdict) == (
        "✔ totals [5, 13, 25, 17]: every worker waited at one Barrier(4) between the phases, "
        "and all were joined"
    )


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.two_phases_no_barrier, "your processes were given no Barrier"),
        pytest.param(  # these two wait out the barrier that never fills, on purpose
            programs.two_phases_one_too_many,
            "your Barrier has 5 parties for 4 workers",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            programs.two_phases_barrier_each,
            "were given 4 different barriers",
            marks=pytest.mark.slow,
        ),
        (programs.two_phases_worker_called, "was given target=None: write target=worker"),
    ],
    ids=["no barrier", "one party too many", "a barrier each", "target=worker()"],
)
def test_each_two_phase_mistake_gets_its_own_hint(ctx, program, hint):
    verdict = check_two_phases(program, ctx=ctx)
    assert not verdict.passed
    assert hint in verdict.message, verdict.message


@pytest.mark.parametrize(
    ("result", "hint"),
    [
        ([5, 4, 25, 17], "worker 1 found its neighbour's square still 0"),
        ([5, 13, 26, 17], "total 2 is 26, expected 25 (9 + 16)"),
        ("totals", "as a list of whole numbers"),
        ([5, 13], "returned 2 totals for 4 numbers"),
    ],
)
def test_wrong_totals_are_explained(result, hint):
    from helpers.exercises.synchronize import _totals_hint

    assert hint in _totals_hint(result, (1, 2, 3, 4))


def test_expected_totals_wrap_round():
    assert expected_totals((2, 3)) == [13, 13]
