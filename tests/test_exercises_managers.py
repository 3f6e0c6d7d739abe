"""Tests for `helpers.exercises.managers`."""

import time

import pytest

from helpers.exercises.managers import check_add_score, check_exact_counter

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


# ---- exercise 2 ---------------------------------------------------------------------------


def add_ones_reference(counter, lock, times):
    for _ in range(times):
        with lock:
            counter.value += 1


def add_ones_without_the_lock(counter, lock, times):
    for _ in range(times):
        seen = counter.value
        time.sleep(0.001)  # widen the gap another child slips into, so the loss is certain
        counter.value = seen + 1


def add_ones_never_releasing(counter, lock, times):
    for _ in range(times):
        lock.acquire()
        counter.value += 1


def add_ones_too_many(counter, lock, times):
    for _ in range(times):
        with lock:
            counter.value += 2


def test_the_reference_answer_to_exercise_2_passes():
    verdict = check_exact_counter(add_ones_reference, timeout=20)
    assert repr(verdict) == "✔ 3 children × 200 increments = 600, not one update lost"


def test_an_unlocked_answer_is_told_updates_were_lost():
    verdict = check_exact_counter(add_ones_without_the_lock, workers=2, times=50, timeout=20)
    assert not verdict.passed
    assert verdict.message.startswith("updates were lost: the count is ")
    assert verdict.message.endswith(
        ", not 100; hold the lock around the whole read-add-write, "
        "e.g. `with lock: counter.value += 1`"
    )


@pytest.mark.slow  # waits out a stuck answer on purpose
def test_a_lock_never_released_is_named_within_the_timeout():
    began = time.monotonic()
    verdict = check_exact_counter(add_ones_never_releasing, workers=2, times=5, timeout=3)
    assert verdict.message == (
        "your children were still waiting after 3 s because the lock was never released: "
        "every acquire() needs a release(), and `with lock:` does both for you"
    )
    assert time.monotonic() - began < 15


def test_an_answer_that_adds_too_much_is_told_so():
    verdict = check_exact_counter(add_ones_too_many, workers=2, times=10, timeout=20)
    assert verdict.message == (
        "the count is 40, more than 20: each call should add exactly 1, `times` times"
    )


# ---- the checkers' own arguments ------------------------------------------------------------


def test_checkers_want_the_function_itself():
    with pytest.raises(TypeError) as info:
        check_add_score("add_score")
    assert str(info.value) == "pass your function itself, e.g. add_score, not str"
    with pytest.raises(TypeError) as info:
        check_exact_counter(None)
    assert str(info.value) == "pass your function itself, e.g. add_ones_safely, not NoneType"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"workers": 0}, ValueError, "workers must be at least 1, not 0"),
        ({"times": True}, TypeError, "times must be a whole number, not bool True"),
        ({"times": 10**5}, ValueError, "times must be at most 10000, not 100000"),
        (
            {"timeout": -1},
            ValueError,
            "timeout must be a positive, finite number of seconds, not -1",
        ),
    ],
)
def test_check_exact_counter_refuses_bad_options(options, error, message):
    with pytest.raises(error) as info:
        check_exact_counter(add_ones_reference, **options)
    assert type(info.value) is error
    assert str(info.value) == message
