"""Tests for `helpers.exercises.managers`.

The programs live in `support.managers`, a module a spawned child can
import, as it imports the learner's ``my_scores`` and ``my_jobs``. They run under
the start method of COURSE_START_METHOD: run this file under each of the three.
"""

import pytest
from support import managers as programs

from helpers.exercises.managers import check_job_board, check_merge_scores

# ---- the checkers' own arguments ------------------------------------------------------------


def test_checkers_want_the_function_itself():
    assert check_job_board("run_jobs").message == (
        "pass your function itself, e.g. check_job_board(my_jobs.run_jobs), not a str"
    )
    assert check_merge_scores(None).message == (
        "pass your function itself, e.g. check_merge_scores(merge_scores), not a NoneType"
    )


# ---- exercise 1: fix the lost points --------------------------------------------------------


@pytest.mark.worked_answer
def test_the_reference_program_passes(ctx):
    assert repr(check_merge_scores(programs.merge_scores)) == (
        "✔ 3 processes added their player's points through one manager:"
        " {'Sam': [10, 7, 3], 'Ada': [9, 8, 6], 'Bo': [4, 4]}"
    )


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (
            programs.nested_mutation,
            "every list is as it was before: `scores[name].extend(...)` changes a copy"
            " that the child then throws away — take the list out, extend it, and store it"
            " back with `scores[name] = ...`",
        ),
        (
            programs.replaces_history,
            "Sam's earlier points are gone ([7, 3], not [10, 7, 3]): read the list, add the"
            " new points, then store it back",
        ),
        (
            programs.returns_the_proxy,
            "your function returned the proxy itself, and its manager is shut down, so it"
            " stands for nothing any more: return a plain copy made inside the with"
            " block, e.g. `return scores.copy()`",
        ),
        pytest.param(  # waits for the server left running, on purpose
            programs.never_shuts_down,
            "the manager's server process was still running after your function returned:"
            " create it with `with ctx.Manager() as manager:`, so that it is shut down when"
            " the block ends, and return a plain copy made inside the block",
            marks=pytest.mark.slow,
        ),
    ],
    ids=lambda value: getattr(value, "__name__", "hint"),
)
def test_typical_wrong_programs_get_their_own_hint(ctx, program, hint):
    verdict = check_merge_scores(program)
    assert not verdict.passed
    assert verdict.message == hint


# ---- exercise 2: design a job board -----------------------------------------------------


@pytest.mark.worked_answer
def test_the_reference_job_board_passes(ctx):
    assert repr(check_job_board(programs.run_jobs)) == (
        "✔ 4 workers took 40 jobs off one managed list: each job done exactly once"
    )


def test_a_job_board_that_pops_and_stops_on_none_passes(ctx):
    assert check_job_board(programs.run_jobs_with_a_lock).passed


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (
            programs.run_jobs_every_worker_all,
            "job 1 was done 4 times (40 jobs more than once): each worker went through the"
            " jobs on its own; take a job *off* the shared list, with one call such as"
            " jobs.pop(), so that no other worker gets it",
        ),
        (
            programs.run_jobs_pop_until_error,
            "4 worker(s) ended with exit code 1: if it was IndexError: pop from empty list,"
            " another worker took the last job between your test of the list and your pop —"
            " pop first, and stop on IndexError (or an empty answer), so the test and the"
            " take are one call",
        ),
        (
            programs.run_jobs_one_each,
            "36 of 40 jobs were never done (job 1 first): every worker should keep taking"
            " jobs until the list is empty",
        ),
        (
            programs.run_jobs_returns_the_proxy,
            "your function returned the proxy itself, and its manager is shut down: return"
            " a plain list made inside the with block, e.g. `return list(done)`",
        ),
    ],
    ids=lambda value: getattr(value, "__name__", "hint"),
)
def test_typical_wrong_job_boards_get_their_own_hint(ctx, program, hint):
    verdict = check_job_board(program)
    assert not verdict.passed
    assert verdict.message == hint
