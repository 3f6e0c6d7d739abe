"""Tests for `helpers.exercises.synchronize`: the reference passes, each mistake gets its hint."""

from __future__ import annotations

import pytest
from support import synchronize as programs

from helpers.exercises.synchronize import (
    _ring_result_hint,
    check_ring_buffer,
    check_two_phases,
    expected_totals,
)


@pytest.mark.worked_answer
def test_the_reference_ring_buffer_passes_and_survives_its_consumer_killed(ctx):
    verdict = check_ring_buffer(programs.ring_transfer, ctx=ctx)
    assert verdict.passed, verdict.message
    assert "with the consumer killed mid-stream your program raised RuntimeError" in (
        verdict.message
    )


@pytest.mark.slow  # each waits out the producer's patience after the kill
@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.ring_returns_anyway, "the checker killed your consumer mid-stream, yet"),
        (programs.ring_producer_waits_for_ever, "the checker killed your consumer mid-stream; "),
    ],
    ids=["returns as if all went well", "producer waits for ever"],
)
def test_each_ring_fault_mistake_gets_its_own_hint(ctx, program, hint):
    verdict = check_ring_buffer(program, ctx=ctx)
    assert not verdict.passed
    assert verdict.message.startswith(hint), verdict.message


def test_a_ring_out_of_order_is_named(ctx):
    verdict = check_ring_buffer(programs.ring_out_of_order, ctx=ctx, items=20)
    assert verdict.message.startswith("every item arrived but out of order"), verdict.message


@pytest.mark.parametrize(
    ("result", "hint"),
    [
        ([1, 2, 2, 4], "items were lost or read twice (1 repeated)"),
        ([1, 2], "return the list of 4 items the consumer read, in order, not 2"),
        (None, "return the list of 4 items the consumer read, in order, not NoneType"),
    ],
)
def test_wrong_ring_results_are_explained(result, hint):
    assert _ring_result_hint(result, [1, 2, 3, 4]).startswith(hint)


def test_a_ring_program_that_is_not_a_function_is_named():
    assert repr(check_ring_buffer(None)) == (
        "✘ pass your function itself, e.g. check_ring_buffer(ring_transfer), not a NoneType"
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
