"""Tests for `helpers.exercises.managers`.

Exercise 2's programs live in `learner_programs_managers`, a module a spawned
child can import, as it imports the learner's ``my_workers_02``. They run under
the start method of COURSE_START_METHOD: run this file under each of the three.
"""

import learner_programs_managers as programs
import pytest

from helpers.exercises.managers import check_add_score, check_merge_scores

# ---- exercise 1: answers a learner might write ------------------------------------------


def add_score_reference(scores, name, points):
    points_so_far = scores.get(name, [])
    points_so_far.append(points)
    scores[name] = points_so_far  # storing it back is what sends the change to the manager


def add_score_on_a_copy(scores, name, points):
    scores.setdefault(name, []).append(points)  # the returned list is a copy


def add_score_replacing(scores, name, points):
    scores[name] = [points]


def add_score_only_for_known_names(scores, name, points):
    scores[name] = [*scores[name], points]


def add_score_that_raises(scores, name, points):
    raise ValueError(f"no room for {name}")


@pytest.mark.worked_answer
def test_the_reference_answer_to_exercise_1_passes():
    verdict = check_add_score(add_score_reference, timeout=20)
    assert verdict.passed
    assert repr(verdict) == (
        "✔ Sam has [10, 7] and Jeff has [8] in the manager, where every process sees them"
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            add_score_on_a_copy,
            "Sam's list is still [10]: append changed a copy that lived only in the child; "
            "store the changed list back with scores[name] = ...",
        ),
        (
            add_score_replacing,
            "Sam's list is now [7]: his earlier 10 was lost; read the list, append to it, "
            "then store it back",
        ),
        (
            add_score_only_for_known_names,
            "a new name raised KeyError: start an empty list when the name is not there yet, "
            "e.g. scores.get(name, [])",
        ),
        (add_score_that_raises, "your function raised ValueError in the child: no room for Sam"),
    ],
)
def test_typical_wrong_answers_to_exercise_1_get_a_specific_hint(answer, hint):
    verdict = check_add_score(answer, timeout=20)
    assert not verdict.passed
    assert verdict.message == hint


# ---- the checkers' own arguments ------------------------------------------------------------


def test_checkers_want_the_function_itself():
    assert check_add_score("add_score").message == (
        "pass your function itself, e.g. check_add_score(add_score), not a str"
    )
    assert check_merge_scores(None).message == (
        "pass your function itself, e.g. check_merge_scores(merge_scores), not a NoneType"
    )


# ---- exercise 2: a whole program --------------------------------------------------------


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
            "every list is as it was before: `scores[name].append(...)` appends to a copy"
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
