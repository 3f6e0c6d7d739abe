"""Fault and load tests: the course's mechanisms pushed hard and broken on purpose.

Every test here is bounded twice: each wait inside has a timeout, and the
test as a whole has a pytest timeout. "The parent learns within 5 s" is a
safety bound, not a benchmark. Run with ``pytest -m slow``.
"""

from __future__ import annotations

import os
import queue
import signal
import struct
import time

import pytest
from support.stress import (
    count_with_lock,
    echo_until_closed,
    hold_lock,
    move_through_queue,
    peak_rss_bytes,
    pipe_transfer,
    produce_numbers,
    send_then_hang_up,
    stream_bytes,
)

from helpers.pipes import receive_bytes
from helpers.queues import QueueTimeout, put_payload, take
from helpers.running import ChildError, start, wait

# Unix only: SIGKILL, and FIONREAD to see a message half-way through a pipe.
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")

pytestmark = pytest.mark.slow

# How soon the parent must learn that a child died or hung up.
NOTICE = 5.0
# Far more than any test sends: the child is killed long before it finishes.
ENDLESS = 1 << 40
GIB = 1 << 30
MIB = 1 << 20
# Connection.send_bytes() writes a 4-byte length before every message.
HEADER_BYTES = 4


def _kill(child) -> float:
    os.kill(child.process.pid, signal.SIGKILL)
    return time.monotonic()


def _wait_until_mid_message(fd: int) -> None:
    """Return once more than a length header is waiting in the pipe ``fd``: a message is half-sent.

    The messages used here are far larger than a pipe holds, so the sender
    is then stuck in the middle of one until somebody reads.
    """
    deadline = time.monotonic() + NOTICE
    waiting = struct.pack("i", 0)
    while struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, waiting))[0] <= HEADER_BYTES:
        assert time.monotonic() < deadline, "the sender never started its message"
        time.sleep(0.01)


def _expect_killed(child, killed_at: float) -> None:
    with pytest.raises(ChildError, match=r"was killed by signal 9 before it finished") as info:
        wait([child], timeout=NOTICE)
    assert info.value.exitcode == -signal.SIGKILL
    assert time.monotonic() - killed_at < NOTICE


@pytest.mark.timeout(30)
def test_a_sender_killed_mid_transfer_ends_the_receivers_wait_with_eof(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    child = start(ctx, stream_bytes, writer, ENDLESS, MIB, name="sender")
    writer.close()  # our copy would keep the pipe open after the child's death
    try:
        for _ in range(3):  # the transfer is really under way
            assert reader.poll(NOTICE)
            assert len(reader.recv_bytes()) == MIB
        killed_at = _kill(child)
        # What was already in the pipe, then EOF: between messages an EOFError, in
        # the middle of one (the likelier case) an OSError saying so.
        with pytest.raises((EOFError, OSError)) as info:
            while reader.poll(NOTICE):
                reader.recv_bytes()
        assert type(info.value) is EOFError or str(info.value) == "got end of file during message"
        assert time.monotonic() - killed_at < NOTICE
        _expect_killed(child, killed_at)
    finally:
        reader.close()
        child.process.kill()
        child.process.join(NOTICE)


@pytest.mark.timeout(30)
def test_a_producer_killed_mid_stream_is_reported_by_the_runner(ctx):
    q = ctx.Queue()
    child = start(ctx, produce_numbers, q, 0, ENDLESS, name="producer")
    try:
        assert [q.get(timeout=NOTICE) for _ in range(100)] == list(range(100))
        killed_at = _kill(child)
        _expect_killed(child, killed_at)
    finally:
        child.process.kill()
        child.process.join(NOTICE)
        q.close()
        q.join_thread()


@pytest.mark.timeout(30)
def test_a_child_killed_while_holding_a_lock_leaves_it_locked_but_nothing_hangs(ctx):
    lock = ctx.Lock()
    ready_reader, ready_writer = ctx.Pipe(duplex=False)
    child = start(ctx, hold_lock, lock, ready_writer, 60.0, name="holder")
    ready_writer.close()
    try:
        assert ready_reader.poll(NOTICE)
        assert ready_reader.recv() == "locked"
        killed_at = _kill(child)
        _expect_killed(child, killed_at)
        # Nobody will ever release it: only a timeout keeps this from hanging.
        assert lock.acquire(timeout=0.5) is False
    finally:
        ready_reader.close()
        child.process.kill()
        child.process.join(NOTICE)


@pytest.mark.timeout(30)
def test_a_peer_that_hangs_up_gives_eof_after_its_last_message(ctx):
    ours, theirs = ctx.Pipe()
    child = start(ctx, send_then_hang_up, theirs, ["hello", "hey", "hru?"], ours, name="talker")
    theirs.close()
    try:
        received = []
        began = time.monotonic()
        with pytest.raises(EOFError):
            while ours.poll(NOTICE):  # poll() is True at EOF too; recv() then raises
                received.append(ours.recv())
        assert time.monotonic() - began < NOTICE
        assert received == ["hello", "hey", "hru?"]
        wait([child], timeout=NOTICE)
    finally:
        ours.close()


@pytest.mark.timeout(30)
def test_a_child_learns_that_the_parent_hung_up_and_exits_cleanly(ctx):
    ours, theirs = ctx.Pipe()
    child = start(ctx, echo_until_closed, theirs, ours, name="echo")
    theirs.close()
    try:
        for message in ["ping", ("pong", 2), {"three": [3]}]:
            ours.send(message)
            assert ours.poll(NOTICE)
            assert ours.recv() == message
    finally:
        ours.close()
    began = time.monotonic()
    wait([child], timeout=NOTICE)  # raises if the child failed or never noticed
    assert time.monotonic() - began < NOTICE


@pytest.mark.timeout(30)
def test_sending_to_a_dead_peer_raises_instead_of_blocking(ctx):
    ours, theirs = ctx.Pipe()
    child = start(ctx, echo_until_closed, theirs, ours, name="echo")
    theirs.close()
    try:
        ours.send("are you there?")
        assert ours.poll(NOTICE)
        assert ours.recv() == "are you there?"
        killed_at = _kill(child)
        _expect_killed(child, killed_at)
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(64):  # more than fits in the socket's buffer
                ours.send_bytes(bytes(MIB))
        assert time.monotonic() - killed_at < NOTICE
    finally:
        ours.close()


@pytest.mark.timeout(90)
def test_four_producers_and_four_consumers_move_100_000_messages_intact(ctx):
    tally = move_through_queue(ctx, producers=4, consumers=4, messages=100_000, timeout=60)
    assert (tally.count, tally.checksum) == (100_000, tally.expected_checksum)
    assert tally.intact


@pytest.mark.timeout(60)
def test_eight_processes_add_5000_each_to_a_locked_shared_value(ctx):
    assert count_with_lock(ctx, processes=8, increments=5_000, timeout=45) == 40_000


@pytest.mark.timeout(90)
def test_eight_processes_add_5000_each_to_a_managed_value_under_a_managed_lock(ctx):
    total = count_with_lock(ctx, processes=8, increments=5_000, managed=True, timeout=75)
    assert total == 40_000


@pytest.mark.timeout(90)
def test_a_gibibyte_through_a_pipe_arrives_with_the_same_sha256(ctx):
    before = peak_rss_bytes()
    transfer = pipe_transfer(ctx, GIB, chunk_bytes=MIB, timeout=75)
    assert transfer.received_bytes == GIB
    assert transfer.sent_digest == transfer.received_digest
    # Chunked on both sides: neither end ever held more than a few chunks.
    assert peak_rss_bytes() - before < 64 * MIB
    # A forked sender starts with our memory; any other starts small.
    assert transfer.sender_peak_bytes - before < 64 * MIB


@pytest.mark.timeout(30)
def test_a_queue_whose_producer_died_times_out_instead_of_hanging(ctx):
    q = ctx.Queue()
    child = start(ctx, produce_numbers, q, 0, 10, name="producer")
    try:
        assert [q.get(timeout=NOTICE) for _ in range(10)] == list(range(10))
        wait([child], timeout=NOTICE)
        began = time.monotonic()
        with pytest.raises(queue.Empty):
            q.get(timeout=0.5)
        assert time.monotonic() - began < NOTICE
    finally:
        q.close()
        q.join_thread()


@pytest.mark.timeout(30)
def test_a_sender_killed_mid_message_gives_the_pipe_lesson_s_eof_error(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    child = start(ctx, stream_bytes, writer, ENDLESS, 8 * MIB, name="sender")
    writer.close()
    try:
        _wait_until_mid_message(reader.fileno())
        killed_at = _kill(child)
        _expect_killed(child, killed_at)
        with pytest.raises(EOFError) as info:
            receive_bytes(reader, maxlength=16 * MIB, timeout=NOTICE, waiting_for="the chunk")
        assert str(info.value) == (
            "the other end is closed in the middle of a message, so the chunk will never arrive"
        )
        assert time.monotonic() - killed_at < NOTICE
    finally:
        reader.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("watched", [True, False], ids=["producer watched", "nobody watched"])
def test_a_producer_killed_mid_item_does_not_leave_take_waiting_for_ever(ctx, watched):
    # Queue.get's own timeout only bounds the wait for an item to begin: without
    # the lesson helper's guard, take() would wait for the rest of it for ever.
    q = ctx.Queue()
    child = start(ctx, put_payload, q, 8 * MIB, name="producer")
    try:
        _wait_until_mid_message(q._reader.fileno())
        killed_at = _kill(child)
        if watched:
            with pytest.raises(ChildError, match="child 'producer' was killed by signal 9"):
                take(q, 1, watch=[child], timeout=30)
        else:
            with pytest.raises(QueueTimeout) as info:
                take(q, 1, timeout=1)
            assert str(info.value) == (
                "an item began to arrive but was not finished before the deadline: "
                "did its producer die while putting it?"
            )
        assert time.monotonic() - killed_at < NOTICE
    finally:
        child.process.kill()
        child.process.join(NOTICE)
        child.report.close()
        # Our copy of the write end is all that keeps the reader from seeing EOF:
        # closing it releases take()'s helper thread, still waiting for the rest.
        q._writer.close()
        q.close()
        q.join_thread()
