"""Tests for `helpers.exercises.shared_memory`.

The programs, right and wrong, live in `tests/support/shared_memory.py`: under
spawn a child imports its worker by module name. Each checker runs a program
under the start method the tests run under (COURSE_START_METHOD), and removes
what it left in /dev/shm itself (a passing verdict means it left nothing).
"""

from __future__ import annotations

import pytest
from support import shared_memory as programs

from helpers.exercises.shared_memory import (
    BINS,
    CHILDREN,
    FRAMES,
    LENGTH,
    SLOTS,
    check_frames,
    check_histogram,
)

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

# --- exercise 1: a parallel histogram ------------------------------------------------


@pytest.mark.worked_answer
def test_the_reference_histogram_passes(ctx):
    verdict = check_histogram(programs.histogram)
    assert verdict.passed, verdict.message
    assert repr(verdict) == (
        "✔ 3 children counted 10,001 values into shared memory, every child joined, every "
        "segment unlinked"
    )


def test_counting_into_a_copy_is_named():
    assert check_histogram(programs.histogram_into_a_copy).message.startswith(
        "every count is 0: the children's counts never reached the notebook — did a child "
        "count into a copy"
    )


def test_every_child_counting_the_whole_array_is_named():
    assert check_histogram(programs.histogram_whole_array).message == (
        f"every value was counted {CHILDREN} times: each child must count only its own "
        "slice, values[begin:end], not the whole array"
    )


def test_slices_that_drop_the_remainder_are_named():
    message = check_histogram(programs.histogram_drops_the_remainder).message
    assert message.startswith(
        f"the counts add up to {LENGTH - 2}, but there are {LENGTH} values: some were never "
        f"counted. Do the slices reach the end ({LENGTH} is not a multiple of {CHILDREN})?"
    )


def test_children_writing_another_dtype_are_named():
    assert "the same shape and dtype (int64 here)" in (
        check_histogram(programs.histogram_float_counts).message
    )


@pytest.mark.needs_dev_shm
def test_a_program_that_never_unlinks_is_told_and_leaves_nothing():
    message = check_histogram(programs.histogram_never_unlinks).message
    assert message.startswith("shared memory was left behind (psm_")
    assert message.endswith(
        "close() it in every process and unlink() it exactly once, in a finally block"
    )


def test_returning_a_view_of_closed_memory_is_caught_before_it_is_read():
    assert check_histogram(programs.histogram_returns_a_closed_view).message == (
        "you returned a NumPy array that still points into a segment you closed: reading it "
        "would crash the notebook. Return a copy made before close() — .tolist() or .copy()"
    )


@pytest.mark.needs_dev_shm
def test_a_buffer_error_at_close_gets_its_own_hint():
    assert check_histogram(programs.histogram_close_with_frombuffer).message.startswith(
        "close() raised BufferError: an array still used the segment's memory"
    )


def test_a_program_run_without_processes_is_named():
    def histogram(ctx, values, bins, children):
        return [0] * bins

    assert check_histogram(histogram).message.startswith("your program started no process")


def test_calling_the_program_instead_of_passing_it():
    assert repr(check_histogram([1, 2])) == (
        "✘ pass your function itself, e.g. check_histogram(histogram), not a list"
    )


# --- exercise 2: frames through a ring -----------------------------------------------


@pytest.mark.worked_answer
def test_the_reference_stream_passes():
    verdict = check_frames(programs.stream)
    assert verdict.passed, verdict.message
    assert repr(verdict) == (
        f"✔ all {FRAMES} frames arrived in order through {SLOTS} shared slots, none "
        "overwritten before it was read"
    )


def test_a_producer_that_does_not_wait_for_reads_overwrites_frames():
    assert check_frames(programs.stream_join_first_no_back_pressure).message == (
        f"where frame 1 should be you read frame {FRAMES - SLOTS + 1}: the producer had "
        "already written over slot 0. Before reusing a slot, the producer must wait for the "
        "Event that says frame 1 was read"
    )


def test_reading_before_the_ready_event_is_named():
    assert check_frames(programs.stream_without_waiting).message == (
        "frame 1 read as 0, an empty slot: you read it before the producer wrote it — wait "
        "for frame 1's ready Event (with a timeout) first"
    )


def test_a_producer_with_another_dtype_is_named():
    assert check_frames(programs.stream_float_producer).message.endswith(
        "which is no frame's number: the producer and the notebook must view the ring with "
        "the same shape and dtype"
    )


def test_no_producer_process_is_named():
    assert check_frames(programs.stream_in_the_notebook).message.startswith(
        "your program started no process"
    )


def test_the_constants_fit_the_story():
    assert FRAMES > SLOTS and BINS == 10
