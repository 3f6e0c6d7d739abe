"""Tests for `tests/support/stress.py`, the fault and load tests' workers and drivers.

Small, fast runs of each driver and every validation message; the full-size
load and the deliberate faults are in `tests/test_faults.py` (slow).
"""

import multiprocessing
import time

import pytest
from support.stress import (
    CHUNK_BYTES,
    END_OF_STREAM,
    checksum,
    count_with_lock,
    move_through_queue,
    pattern_chunk,
    pipe_transfer,
)


def test_checksum_ignores_order_but_not_loss_or_duplication():
    assert checksum([5, 1, 3]) == checksum([1, 3, 5])
    assert checksum([1, 3, 5]) != checksum([1, 3])
    assert checksum([1, 3, 5]) != checksum([1, 3, 5, 5])
    # a lost 3 and a duplicated 1 and 2 would cancel in a plain sum
    assert checksum([1, 2, 3]) != checksum([1, 1, 2, 2])
    assert checksum([]) == 0


def test_pattern_chunks_have_the_asked_size_and_differ_by_index():
    assert len(pattern_chunk(0, CHUNK_BYTES)) == CHUNK_BYTES
    assert len(pattern_chunk(7, 13)) == 13
    assert pattern_chunk(1, 64) != pattern_chunk(2, 64)
    assert pattern_chunk(3, 64) == pattern_chunk(3, 64)
    assert END_OF_STREAM == b""


def test_a_small_queue_run_loses_and_duplicates_nothing(ctx):
    tally = move_through_queue(ctx, producers=2, consumers=3, messages=301, timeout=30)
    assert tally.intact
    assert tally.count == tally.expected_count == 301
    assert tally.checksum == checksum(range(301))


@pytest.mark.parametrize("managed", [False, True], ids=["shared Value", "managed value"])
def test_locked_increments_add_up_exactly(ctx, managed):
    assert count_with_lock(ctx, processes=2, increments=50, managed=managed, timeout=30) == 100


def test_a_stream_whose_size_is_not_a_multiple_of_the_chunk_arrives_whole(ctx):
    transfer = pipe_transfer(ctx, 10_001, chunk_bytes=4096, timeout=30)
    assert transfer.intact
    assert transfer.received_bytes == 10_001
    assert len(transfer.sent_digest) == 64


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda c: move_through_queue(c, producers=0),
            ValueError,
            "producers must be at least 1, not 0",
        ),
        (
            lambda c: move_through_queue(c, consumers=65),
            ValueError,
            "consumers must be at most 64, not 65",
        ),
        (
            lambda c: move_through_queue(c, messages=2.5),
            TypeError,
            "messages must be a whole number, not float 2.5",
        ),
        (
            lambda c: move_through_queue(c, timeout=0),
            ValueError,
            "timeout must be a positive, finite number of seconds, not 0",
        ),
        (
            lambda c: count_with_lock(c, processes=True),
            TypeError,
            "processes must be a whole number, not bool True",
        ),
        (
            lambda c: count_with_lock(c, increments=-5),
            ValueError,
            "increments must be at least 1, not -5",
        ),
        (
            lambda c: count_with_lock(c, managed="yes"),
            TypeError,
            "managed must be True or False, not str 'yes'",
        ),
        (
            lambda c: pipe_transfer(c, 0),
            ValueError,
            "total_bytes must be at least 1, not 0",
        ),
        (
            lambda c: pipe_transfer(c, 10, chunk_bytes=(64 << 20) + 1),
            ValueError,
            "chunk_bytes must be at most 67108864, not 67108865",
        ),
        (
            lambda c: pipe_transfer(c, "1 GiB"),
            TypeError,
            "total_bytes must be a whole number, not str '1 GiB'",
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_child_starts(ctx, call, error, message):
    began = time.monotonic()
    with pytest.raises(error) as info:
        call(ctx)
    assert str(info.value) == message
    assert time.monotonic() - began < 5
    assert multiprocessing.active_children() == []
