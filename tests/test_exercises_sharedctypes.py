"""Tests for `helpers.exercises.sharedctypes`.

The learner's answers are defined inside each test, like functions in a
notebook cell, so that ``multiprocess`` has to ship them to the child by value.
"""

import time

import pytest

from helpers.exercises.sharedctypes import check_running_totals, check_slices


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


def test_the_reference_make_slices_passes_and_fills_a_raw_array():
    def make_slices(length, processes):
        size, extra = divmod(length, processes)
        slices, begin = [], 0
        for number in range(processes):
            end = begin + size + (1 if number < extra else 0)
            slices.append((begin, end))
            begin = end
        return slices

    verdict = check_slices(make_slices)
    assert verdict.passed, verdict.message
    assert verdict.message == (
        "3 children filled all 10 squares of one lock-free RawArray, each writing only its"
        " own slice"
    )


def test_slices_that_drop_the_remainder_leave_an_index_unwritten():
    def make_slices(length, processes):
        size = length // processes
        return [(k * size, (k + 1) * size) for k in range(processes)]

    assert check_slices(make_slices).message == (
        "make_slices(10, 3): index 9 is in no slice, so its square would never be written"
        " — together the slices must cover 0 to 10"
    )


def test_overlapping_slices_name_the_shared_index():
    def make_slices(length, processes):
        size = -(-length // processes)  # rounded up
        return [(k * size, min(length, (k + 1) * size + 1)) for k in range(processes)]

    assert check_slices(make_slices).message == (
        "make_slices(8, 2): index 4 is in slices 0 and 1, so two children would write the"
        " same element: slices must not overlap"
    )


def test_a_wrong_number_of_slices_is_named():
    def make_slices(length, processes):
        return [(0, length)]

    assert check_slices(make_slices).message == (
        "make_slices(8, 2) returned 1 slices: return exactly one (start, stop) pair per"
        " process, even if some are empty"
    )


def test_flat_boundaries_instead_of_pairs_are_refused():
    def make_slices(length, processes):
        return list(range(0, length + 1, length // processes))

    assert check_slices(make_slices).message == (
        "make_slices(8, 2) returned [0, 4, 8]: return a list of (start, stop) pairs"
    )


def test_a_slice_past_the_end_is_refused():
    def make_slices(length, processes):
        return [(k * length, (k + 1) * length) for k in range(processes)]

    assert check_slices(make_slices).message == (
        "make_slices(8, 2): slice (8, 16) does not fit an array of length 8"
        " (need 0 <= start <= stop <= 8)"
    )


def test_a_make_slices_that_raises_names_the_call():
    def make_slices(length, processes):
        return [(0, length // (processes - processes))]

    assert check_slices(make_slices).message == (
        "make_slices(8, 2) raised ZeroDivisionError: integer division or modulo by zero"
    )


@pytest.mark.slow  # waits out a stuck answer on purpose
def test_a_make_slices_that_never_returns_is_stopped():
    def make_slices(length, processes):
        begin = 0
        while begin < length:
            pass  # forgot to move begin on
        return []

    began = time.monotonic()
    assert check_slices(make_slices, timeout=3).message == (
        "make_slices did not return within 3 s: does a loop never end?"
    )
    assert time.monotonic() - began < 10
