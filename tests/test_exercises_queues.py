"""Tests for `helpers.exercises.queues`."""

import pytest

from helpers.exercises import queues as exercises
from helpers.exercises.queues import check_pipeline_program, check_squares_program

# --- the whole program: workers, sentinels, joins ---

queue_programs = pytest.importorskip("support.queues")  # tests/, a child imports it by name

# Mistakes named whatever the number of numbers: the worker's source, or a join never
# made. The others need the 20,000 results to overflow a pipe, or test the count.
NAMED_WITH_FEW_NUMBERS = {"stops_on_empty", "never_joined"}


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "squares_program",
            "✔ 3 workers squared 20,000 numbers, every one stopped on its sentinel, "
            "and every one was joined after its results were read",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(  # these three wait out a stuck program on purpose
            "no_sentinel",
            "✘ none of your 3 workers stopped: each is still waiting",
            id="none",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "one_sentinel",
            "✘ 2 of your 3 workers never stopped",
            id="too-few",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "joined_before_draining",
            "✘ your program joined a worker before reading its results",
            id="join-first",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "stops_on_empty",
            "✘ your worker square_until_empty() decides to stop when the queue's empty()",
            id="empty",
        ),
        pytest.param("never_joined", "✘ 3 of 3 process(es) were never joined", id="no-join"),
        pytest.param("target_called", "✘ process ", id="target-called"),
    ],
)
def test_program_checker_names_each_mistake(ctx, program, expected, monkeypatch):
    if program in NAMED_WITH_FEW_NUMBERS:
        monkeypatch.setattr(exercises, "PROGRAM_NUMBERS", tuple(range(1, 201)))
    verdict = check_squares_program(getattr(queue_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_program_checker_wants_the_function_itself():
    assert repr(check_squares_program(42)) == (
        "✘ pass your function itself, e.g. check_squares_program(squares_program), not a int"
    )


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "broken_squares_program",
            "✘ your program joined a worker before reading its results",
            id="as-given",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "half_fixed_squares_program",
            "✘ 2 of your 3 workers never stopped",
            id="read-first-but-one-sentinel",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_the_program_to_fix_is_named_one_mistake_at_a_time(ctx, program, expected):
    verdict = check_squares_program(getattr(queue_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)


# --- the design: a pipeline of two stages ---


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "pipeline_program",
            "✔ 3 squarers and 1 summer added the squares of 1…1,000 (333,833,500)",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(
            "pipeline_stops_at_first_sentinel",
            "✘ your total is ",
            id="first-sentinel",
        ),
        pytest.param(
            "pipeline_sentinel_not_passed_on",
            "✘ your sum_stage() never finished, although every square_stage() had stopped",
            id="not-passed-on",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "pipeline_one_sentinel",
            "✘ 2 of your 3 square_stage() workers never stopped on a sentinel",
            id="one-sentinel",
            marks=pytest.mark.slow,
        ),
        pytest.param("squares_program", "✘ your program started 0 square_stage()", id="shape"),
    ],
)
def test_pipeline_checker_names_each_mistake(ctx, program, expected):
    verdict = check_pipeline_program(getattr(queue_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_pipeline_checker_wants_the_function_itself():
    assert repr(check_pipeline_program("pipeline_program")) == (
        "✘ pass your function itself, e.g. check_pipeline_program(pipeline_program), not a str"
    )
