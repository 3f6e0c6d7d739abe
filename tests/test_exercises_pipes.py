"""Tests for `helpers.exercises.pipes`."""

import pytest

from helpers.exercises.pipes import check_gather_program, check_lines_program

# Answers that hang are stopped only after PATIENCE, and those that wait out every
# child's pauses take seconds: they run with the slow group.
SLOW = pytest.mark.slow

# ---- the whole program: a pipe, a child, closing the right ends -----------------------

pipe_programs = pytest.importorskip("support.pipes")  # tests/, a child imports it by name


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "lines_program",
            "✔ all 5 lines arrived in order, the receiver stopped at EOFError",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(
            "writer_left_open",
            "✘ your program never closed its own copy of the write end",
            id="writer-open",
            marks=SLOW,
        ),
        pytest.param(
            "closed_the_read_end",
            "✘ your program raised OSError: handle is closed — it closed the end it receives on",
            id="wrong-end",
        ),
        pytest.param(
            "sends_after_close",
            "✘ your worker send_then_close_then_send() sends after it has closed its end",
            id="send-after-close",
        ),
        pytest.param("never_joined", "✘ 1 of 1 process(es) were never joined", id="no-join"),
    ],
)
def test_program_checker_names_each_mistake(ctx, program, expected):
    verdict = check_lines_program(getattr(pipe_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_program_checker_wants_the_function_itself():
    assert repr(check_lines_program("lines_program")) == (
        "✘ pass your function itself, e.g. check_lines_program(lines_program), not a str"
    )


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "gather_program",
            "✔ 3 children sent their squares on pipes of their own, the quick one's arrived",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(
            "gather_in_turn",
            "✘ your program read the children one after another: job 1's squares were ready",
            id="in-turn",
            marks=SLOW,  # waits for each child in turn, pauses included (3 s)
        ),
        pytest.param(
            "gather_writers_open",
            "✘ your program never closed its own copy of a write end",
            id="writers-open",
            marks=SLOW,
        ),
        pytest.param(
            "gather_without_pauses",
            "✘ your program finished in",
            id="no-pause",
        ),
        pytest.param(
            "gather_unordered",
            "✘ your program returned [",
            id="not-pairs",
            marks=SLOW,  # the children's pauses run to the end (3 s)
        ),
    ],
)
def test_gather_checker_names_each_mistake(ctx, program, expected):
    verdict = check_gather_program(getattr(pipe_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_gather_checker_wants_the_function_itself():
    assert repr(check_gather_program(None)) == (
        "✘ pass your function itself, e.g. check_gather_program(gather_program), not a NoneType"
    )
