"""Tests for `helpers.exercises.sharedctypes`.

Exercise 1's answers are defined inside each test, like functions in a notebook
cell, so that ``multiprocess`` has to ship them to the child by value. Exercise
2's programs live in `learner_programs_sharedctypes`, a module a spawned child
can import, as it imports the learner's ``my_workers_01``. They run under the
start method of COURSE_START_METHOD: run this file under each of the three.
"""

import os
import time

import learner_programs_sharedctypes as programs
import pytest

from helpers.exercises.sharedctypes import check_running_totals, check_shared_sum


@pytest.mark.worked_answer
def test_the_reference_running_totals_worker_passes():
    def running_totals(numbers, totals):
        so_far = 0
        for k, number in enumerate(numbers):
            so_far += number
            totals[k] = so_far

    verdict = check_running_totals(running_totals)
    assert verdict.passed, verdict.message
    assert repr(verdict) == "✔ your worker ran in a child process and wrote all 8 running totals"


def test_a_worker_that_returns_its_totals_is_told_they_never_arrive():
    def running_totals(numbers, totals):
        return [sum(numbers[: k + 1]) for k in range(len(numbers))]

    verdict = check_running_totals(running_totals)
    assert not verdict.passed
    assert verdict.message == (
        "the shared array is still all zeros: write each total into totals[k] — a child's"
        " return value, or a new list bound to the name totals, never reaches the notebook"
    )


def test_a_worker_that_rebinds_the_name_totals_gets_the_same_hint():
    def running_totals(numbers, totals):
        totals = [sum(numbers[: k + 1]) for k in range(len(numbers))]  # noqa: F841

    assert check_running_totals(running_totals).message.startswith(
        "the shared array is still all zeros"
    )


def test_a_worker_that_stores_before_adding_is_told_so():
    def running_totals(numbers, totals):
        so_far = 0
        for k, number in enumerate(numbers):
            totals[k] = so_far
            so_far += number

    assert check_running_totals(running_totals).message == (
        "each slot holds the total before its own number: add numbers[k] first, then"
        " store (totals[0] should be 3)"
    )


def test_a_worker_that_copies_the_numbers_is_told_so():
    def running_totals(numbers, totals):
        for k, number in enumerate(numbers):
            totals[k] = number

    assert check_running_totals(running_totals).message == (
        "you stored the numbers themselves: each slot must hold the running total"
    )


def test_another_wrong_total_is_named_with_its_index():
    def running_totals(numbers, totals):
        for k in range(len(numbers)):
            totals[k] = sum(numbers[:k]) + 2 * numbers[k]

    assert check_running_totals(running_totals).message == (
        "totals[0] is 6 but should be 3: numbers[0] + … + numbers[0]"
    )


def test_a_worker_that_raises_shows_the_childs_error():
    def running_totals(numbers):
        pass

    assert check_running_totals(running_totals).message == (
        "your worker raised TypeError: test_a_worker_that_raises_shows_the_childs_error."
        "<locals>.running_totals() takes 1 positional argument but 2 were given"
        " (it is called as worker(numbers, totals))"
    )


@pytest.mark.slow  # waits out a stuck answer on purpose
def test_a_worker_that_never_ends_is_stopped_with_a_hint():
    def running_totals(numbers, totals):
        while True:
            pass

    began = time.monotonic()
    verdict = check_running_totals(running_totals, timeout=3)
    assert verdict.message == (
        "your worker did not finish within 3 s: does a loop never end, or does it wait for"
        " something?"
    )
    assert time.monotonic() - began < 10


def test_something_that_is_not_a_function_is_refused_without_a_child():
    assert check_running_totals([3, 4, 8]).message == (
        "pass your worker function itself, e.g. check_running_totals(running_totals), not list"
    )


# ---- exercise 2: a whole program ------------------------------------------------------


@pytest.mark.worked_answer
def test_the_reference_program_passes(ctx):
    verdict = check_shared_sum(programs.shared_sum)
    assert repr(verdict) == (
        "✔ 4 processes added 1 + 2 + … + 200,000 into one shared Value:"
        " 20,000,100,000, not one update lost"
    )


def test_a_program_without_the_lock_is_told_updates_were_lost(ctx):
    message = check_shared_sum(programs.without_lock).message
    assert message.startswith("updates were lost: 4 processes made ")
    assert message.endswith(
        "not 20,000,100,000 (one process alone gets it right) — `total.value += n` is a read"
        " and then a write; hold the lock from one to the other:"
        " `with total.get_lock(): total.value += n`"
    )


def test_a_value_of_typecode_i_is_told_the_total_wrapped_around(ctx):
    assert check_shared_sum(programs.int_typecode).message == (
        "the total wrapped around: -1,474,736,480 instead of 20,000,100,000 — the typecode"
        " of your Value is too narrow for the sum (a C int, 'i', stops at 2,147,483,647):"
        " use ctx.Value('q', 0)"
    )


def test_a_total_read_before_join_is_told_to_read_after(ctx):
    message = check_shared_sum(programs.read_before_join).message
    assert message.startswith("even one process came up short (")
    assert message.endswith(
        "of 20,000,100,000): read total.value only after join() has returned for every process"
    )


def test_returning_the_value_itself_asks_for_the_number(ctx):
    assert check_shared_sum(programs.returns_the_value).message == (
        "your function returned the shared Value itself: return the number in it,"
        " total.value, read after every process has been joined"
    )


def test_target_called_in_the_notebook_is_named(ctx):
    message = check_shared_sum(programs.target_called).message
    assert "Process-" in message
    assert "was given target=None: write target=worker (the function itself)" in message


def test_something_that_is_not_a_program_is_refused(ctx):
    assert check_shared_sum(programs.shared_sum(ctx, [range(3)])).message == (
        "pass your function itself, e.g. check_shared_sum(shared_sum), not a int"
    )


@pytest.mark.needs_dev_shm
def test_a_segment_another_program_makes_meanwhile_is_neither_blamed_nor_removed(ctx):
    from multiprocessing import shared_memory

    from helpers.checking import run_program

    made = []

    def program(ctx, chunks):  # stands for another program on the same machine
        made.append(shared_memory.SharedMemory(create=True, size=16))
        return programs.shared_sum(ctx, chunks)

    run = run_program(program, ctx, [range(3)], shared_memory=False)
    try:
        assert run.leftover_segments == []
        assert made[0].name.lstrip("/") in os.listdir("/dev/shm")  # still there
    finally:
        made[0].close()
        made[0].unlink()
