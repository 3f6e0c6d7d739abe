"""Tests for `helpers.exercises.sharedctypes`.

Exercise 1's answers are defined inside each test, like functions in a notebook
cell, so that ``multiprocess`` has to ship them to the child by value. The
programs of exercises 2 and 3 live in `support.sharedctypes`, a module
a spawned child can import, as it imports the learner's ``box_office`` and
``progress``. They run under the
start method of COURSE_START_METHOD: run this file under each of the three.
"""

import os
import re
import time

import pytest
from support import sharedctypes as programs

from helpers.exercises import sharedctypes as exercises
from helpers.exercises.sharedctypes import check_box_office, check_progress, check_running_totals

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm


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


# ---- exercise 2: fix the box office ---------------------------------------------------


@pytest.fixture
def few_seats(monkeypatch):
    """A box office of 20,000 seats, a tenth of the notebook's, for a mistake seen only after
    every join(), whatever the number of seats: only the buyers' time depends on it.

    Not for a race, nor for a tally read before join(): under fork and a loaded machine a
    buyer can sell 20,000 seats before the parent reads.
    """
    monkeypatch.setattr(exercises, "SEATS", 20_000)


@pytest.mark.worked_answer
def test_the_fixed_box_office_passes(ctx):
    assert repr(check_box_office(programs.sell_out)) == (
        "✔ 4 buyers sold 200,000 tickets for 200,000 seats: every seat sold once, none twice"
    )


@pytest.mark.slow  # notebook 01's cell exercise-2-check runs this program through this checker
def test_the_box_office_as_given_is_told_which_step_to_lock(ctx):
    message = check_box_office(programs.sell_out_as_given).message
    assert re.fullmatch(
        r"[\d,]+ tickets sold for 200,000 seats: the test `seats\.value > 0` and the take"
        r" `seats\.value -= 1` are separate steps \(and `-=` is itself a read and a write\),"
        r" so another buyer got in between and a seat was sold twice — hold"
        r" seats\.get_lock\(\) from the test to the take, as one step",
        message,
    ), message


def test_a_buyer_that_never_counts_its_tickets_is_told_the_tally_is_short(ctx, few_seats):
    assert check_box_office(programs.sell_out_uncounted).message == (
        "0 tickets sold and 0 seats left of 20,000: every buyer should keep going until no"
        " seat is left, and the tally should be read after every join()"
    )


def test_a_tally_read_before_join_is_told_to_read_after(ctx):
    message = check_box_office(programs.sell_out_read_early).message
    assert message.endswith("and the tally should be read after every join()"), message


def test_a_box_office_returning_a_number_is_told_what_to_return(ctx, few_seats):
    assert check_box_office(programs.sell_out_total_only).message == (
        "sell_out must return (tickets each buyer sold, seats left), e.g. ([50_000, …], 0),"
        " not 20000"
    )


def test_something_that_is_not_a_program_is_refused(ctx):
    assert check_box_office(42).message == (
        "pass your function itself, e.g. check_box_office(my_box_office.sell_out), not a int"
    )


# ---- exercise 3: design a progress counter ---------------------------------------------


@pytest.mark.worked_answer
def test_the_batched_progress_counter_passes(ctx):
    assert repr(check_progress(programs.count_all)) == (
        "✔ 4 workers counted 200,000 numbers exactly, taking the lock 205 times: never more"
        " than 1,000 numbers behind, and 975 numbers per lock"
    )


def test_a_lock_per_number_is_told_to_batch(ctx, monkeypatch):
    # 4 chunks of 5,000, not 50,000: 20,001 takes, still far above the 160 the hint allows.
    monkeypatch.setattr(exercises, "PROGRESS_CHUNK", 5_000)
    assert check_progress(programs.count_all_each).message == (
        "correct, but the lock was taken 20,001 times, about once per number (20,000"
        " numbers): count in a local variable and add it to done every 1,000 numbers"
    )


def test_one_update_per_worker_is_told_the_counter_fell_behind(ctx):
    assert check_progress(programs.count_all_at_the_end).message == (
        "the lock was taken 5 times for 200 steps of 1,000 numbers: the counter fell further"
        " behind than that — add what you counted at least every 1,000 numbers, not once at"
        " the end"
    )


def test_unlocked_batches_are_told_to_hold_the_lock_even_when_right(ctx):
    message = check_progress(programs.count_all_unlocked_batches).message  # one run, judged once
    assert message in (
        "the count came out right this time, but `done.value += n` without done.get_lock()"
        " is a read and a write that another worker can split: hold the lock",
        # rarely, two workers' batches do collide
    ) or message.startswith("the counter says "), message


def test_an_unlocked_count_per_number_is_told_updates_were_lost(ctx):
    message = check_progress(programs.count_all_unlocked).message
    assert re.fullmatch(
        r"the counter says [\d,]+, not 200,000: updates were lost — `done\.value \+= n` is a"
        r" read and then a write; hold done\.get_lock\(\) around it",
        message,
    ), message


def test_a_raw_value_is_told_to_use_a_locked_value(ctx):
    assert check_progress(programs.count_all_raw).message == (
        "make the counter with ctx.Value('q', 0) (with its lock) and pass it to every"
        " worker: the notebook reads it while they run"
    )


@pytest.mark.needs_dev_shm
def test_a_segment_another_program_makes_meanwhile_is_neither_blamed_nor_removed(ctx):
    from multiprocessing import shared_memory

    from helpers.checking import run_program

    made = []

    def program(ctx, chunks):  # stands for another program on the same machine
        made.append(shared_memory.SharedMemory(create=True, size=16))
        return programs.count_all(ctx, chunks)

    run = run_program(program, ctx, [range(3)], shared_memory=False)
    try:
        assert run.leftover_segments == []
        assert made[0].name.lstrip("/") in os.listdir("/dev/shm")  # still there
    finally:
        made[0].close()
        made[0].unlink()
