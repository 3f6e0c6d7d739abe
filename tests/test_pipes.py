"""Tests for `helpers.pipes`."""

import os
import re
import signal
import struct
import time

import pytest
from support.pipes import Fussy

from helpers.pipes import (
    MAX_MESSAGE_BYTES,
    MAX_MESSAGES,
    SharingReport,
    _await_report,
    deliver_typed,
    open_ends,
    parse_messages,
    pass_messages,
    read_raw,
    receive,
    receive_bytes,
    receive_until,
    request,
    serve,
    share_one_end,
    wire_size,
)
from helpers.running import ChildError, run, start, wait

SEED = ["hello", "hey", "hru?", "END"]


def exactly(error, message):
    """pytest.raises that also insists on the whole message, not a fragment."""
    return pytest.raises(error, match="^" + re.escape(message) + "$")


@pytest.fixture
def pipe(ctx):
    """A duplex pipe whose two ends are closed after the test, whatever happens."""
    here, there = ctx.Pipe()
    yield here, there
    here.close()
    there.close()


# ---- the seed example ------------------------------------------------------------------


def test_the_seed_messages_arrive_in_order_without_the_end_marker(ctx):
    assert pass_messages(ctx, SEED) == ["hello", "hey", "hru?"]


def test_any_picklable_messages_and_another_end_marker(ctx):
    messages = [1, 2.5, None, ("a", [b"x"]), {"name": "Sam", "score": 10}, "ünïcode ✓", "STOP"]
    assert pass_messages(ctx, messages, end_marker="STOP") == messages[:-1]


def test_only_the_end_marker_means_nothing_to_receive(ctx):
    assert pass_messages(ctx, ["END"]) == []


def test_the_widget_function_reports_what_arrived(ctx):
    assert deliver_typed(ctx, "hello\nhey\n\nhru?\n", " END ") == (
        "sent 3 message(s), then 'END'\n"
        "received 3, all in order: True\n"
        "  1. 'hello'\n"
        "  2. 'hey'\n"
        "  3. 'hru?'"
    )


def test_typed_lines_are_stripped_and_blank_ones_skipped():
    assert parse_messages("  a  \n\n\tb\n") == ["a", "b"]


@pytest.mark.parametrize(
    ("messages", "error", "message"),
    [
        (
            "hello END",
            TypeError,
            "messages must be a list such as ['hello', 'hey', 'END'], not str",
        ),
        (
            {"hello", "END"},
            TypeError,
            "messages must be a list such as ['hello', 'hey', 'END'], not set",
        ),
        ([], ValueError, "messages is empty: give at least the end marker, e.g. ['END']"),
        (
            ["hello", "hey"],
            ValueError,
            "messages must end with the end marker 'END', or the receiver never stops; "
            "the last item is 'hey'",
        ),
        (
            ["hello", "END", "hey", "END"],
            ValueError,
            "messages[1] is the end marker 'END': the receiver would stop there and never read "
            "the rest; only the last item may be the end marker",
        ),
        (
            ["hello", lambda: 1, "END"],
            TypeError,
            "messages[1] is a function that cannot be pickled, so send() cannot carry it; "
            "send plain data such as str, numbers, lists or dicts",
        ),
        (
            ["x" * MAX_MESSAGE_BYTES, "END"],
            ValueError,
            f"messages[0] is {MAX_MESSAGE_BYTES + 9:,} bytes once pickled; the limit is "
            f"{MAX_MESSAGE_BYTES:,} bytes: send big data in chunks with send_bytes(), "
            "or use shared memory",
        ),
        (
            ["hi"] * MAX_MESSAGES + ["END"],
            ValueError,
            f"messages has {MAX_MESSAGES + 1:,} items; the limit is {MAX_MESSAGES:,}",
        ),
    ],
    ids=[
        "text",
        "set",
        "empty",
        "no-end-marker",
        "end-marker-among",
        "unpicklable",
        "too-big",
        "too-many",
    ],
)
def test_bad_messages_are_refused_before_any_child_starts(ctx, messages, error, message):
    with exactly(error, message):
        pass_messages(ctx, messages)
    assert ctx.active_children() == []


@pytest.mark.parametrize(
    ("end_marker", "error", "message"),
    [
        (None, TypeError, "end_marker must be text such as 'END', not NoneType"),
        (
            "  ",
            ValueError,
            "end_marker is missing: give the word that tells the receiver to stop, e.g. 'END'",
        ),
    ],
)
def test_a_bad_end_marker_is_refused(ctx, end_marker, error, message):
    with exactly(error, message):
        pass_messages(ctx, ["hi", "  "], end_marker=end_marker)


def test_a_message_that_cannot_be_rebuilt_is_refused(ctx):
    with exactly(
        TypeError,
        "messages[0] is a Fussy that pickles but cannot be rebuilt from its pickle, so the "
        "receiving process could not unpickle it; send plain data such as str, numbers, "
        "lists or dicts",
    ):
        pass_messages(ctx, [Fussy(1, 2), "END"])


@pytest.mark.parametrize(
    "call",
    [
        lambda: pass_messages("spawn", SEED),
        lambda: deliver_typed("spawn", "hello", "END"),
        lambda: share_one_end("spawn"),
    ],
    ids=["pass_messages", "deliver_typed", "share_one_end"],
)
def test_a_start_method_name_is_not_a_context(call):
    with exactly(TypeError, "ctx must be a multiprocessing context from get_context(), not str"):
        call()


def test_a_bad_timeout_is_refused(ctx):
    with exactly(ValueError, "timeout must be a positive, finite number of seconds, not 0"):
        pass_messages(ctx, SEED, timeout=0)


@pytest.mark.parametrize(
    ("text", "end_marker", "error", "message"),
    [
        (b"hello", "END", TypeError, "messages must be text, one message per line, not bytes"),
        ("\n  \n", "END", ValueError, "no messages: type at least one message, one per line"),
        (
            "hello",
            "",
            ValueError,
            "end_marker is missing: give the word that tells the receiver to stop, e.g. 'END'",
        ),
        (
            "hello\nEND\nhey",
            "END",
            ValueError,
            "line 2 is the end marker 'END': the receiver would stop there and never read "
            "what follows; choose another end marker",
        ),
        (
            "x" * MAX_MESSAGE_BYTES,
            "END",
            ValueError,
            f"messages[0] is {MAX_MESSAGE_BYTES + 9:,} bytes once pickled; the limit is "
            f"{MAX_MESSAGE_BYTES:,} bytes: send big data in chunks with send_bytes(), "
            "or use shared memory",
        ),
    ],
    ids=["bytes", "blank", "no-end-marker", "end-marker-typed", "too-long"],
)
def test_bad_widget_input_is_refused(ctx, text, end_marker, error, message):
    with exactly(error, message):
        deliver_typed(ctx, text, end_marker)


# ---- bounded receiving -----------------------------------------------------------------


def test_receive_returns_what_was_sent(pipe):
    here, there = pipe
    here.send({"n": 1})
    assert receive(there, timeout=1) == {"n": 1}


def test_receive_gives_up_after_the_timeout_and_says_on_what(pipe):
    _, there = pipe
    with exactly(TimeoutError, "nothing arrived within 0.2 s while waiting for the reply"):
        receive(there, timeout=0.2, waiting_for="the reply")


def test_receive_raises_eof_when_the_other_end_is_closed(pipe):
    here, there = pipe
    here.close()
    with exactly(EOFError, "the other end is closed, so a message will never arrive"):
        receive(there, timeout=5)


def test_a_peer_gone_in_the_middle_of_a_message_is_eof_too(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    try:
        # A length that promises 100 bytes, then only 10, then the writer is gone:
        # what a reader sees when its sender is killed mid-message.
        os.write(writer.fileno(), struct.pack("!i", 100) + b"x" * 10)
        writer.close()
        with exactly(
            EOFError,
            "the other end is closed in the middle of a message, so a message will never arrive",
        ):
            receive_bytes(reader, timeout=5)
    finally:
        reader.close()
        writer.close()


def test_a_peer_that_dies_is_noticed_within_seconds(ctx, pipe):
    here, there = pipe
    child = start(ctx, serve, there, timeout=30, name="server")
    there.close()
    assert request(here, "square", 4, timeout=20) == 16
    os.kill(child.process.pid, signal.SIGKILL)
    began = time.monotonic()
    with exactly(EOFError, "the other end is closed, so a message will never arrive"):
        receive(here, timeout=30)
    assert time.monotonic() - began < 5
    with exactly(ChildError, "child 'server' was killed by signal 9 before it finished"):
        wait([child], timeout=10)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda end: 42, TypeError, "conn must be one end of a Pipe (a Connection), not int"),
        (
            lambda end: end.close() or end,
            ValueError,
            "conn is closed: a closed end can neither send nor receive",
        ),
    ],
    ids=["not-a-connection", "closed"],
)
def test_receive_refuses_what_is_not_an_open_end(pipe, make, error, message):
    with exactly(error, message):
        receive(make(pipe[0]), timeout=1)


def test_the_write_end_of_a_one_way_pipe_cannot_receive(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    try:
        with exactly(
            ValueError, "conn cannot receive: it is the write end of a Pipe(duplex=False)"
        ):
            receive(writer, timeout=1)
        with exactly(ValueError, "conn cannot send: it is the read end of a Pipe(duplex=False)"):
            request(reader, "square", 2)
    finally:
        reader.close()
        writer.close()


def test_receive_bytes_shows_the_pickle_and_refuses_long_messages(pipe):
    here, there = pipe
    here.send_bytes(b"hello")
    assert receive_bytes(there, timeout=1) == b"hello"
    here.send("hello")
    assert receive_bytes(there, timeout=1).startswith(b"\x80")  # a pickle, protocol 2 or later
    here.send_bytes(b"x" * 100)
    with exactly(OSError, "bad message length"):
        receive_bytes(there, timeout=1, maxlength=10)


def test_read_raw_shows_the_length_before_the_body(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    try:
        writer.send_bytes(b"hello")
        assert read_raw(reader, 9, timeout=1) == b"\x00\x00\x00\x05hello"
        writer.send_bytes(b"hi")
        with exactly(TimeoutError, "only 6 of 7 bytes arrived within 0.2 s"):
            read_raw(reader, 7, timeout=0.2)
        with exactly(ValueError, f"size must be at most {MAX_MESSAGE_BYTES}, not 10000000"):
            read_raw(reader, 10_000_000)
    finally:
        reader.close()
        writer.close()


def test_wire_size_counts_the_pickle_and_the_length():
    assert wire_size(b"") > 4
    assert wire_size("hello") == wire_size(b"hello")
    with exactly(
        TypeError,
        "obj is a generator that cannot be pickled, so send() cannot carry it; "
        "send plain data such as str, numbers, lists or dicts",
    ):
        wire_size(x for x in "ab")


# ---- failures in children reach the caller ---------------------------------------------


def test_a_receiver_whose_sender_hangs_up_early_says_so(ctx):
    receiving_end, sending_end = ctx.Pipe()
    report_in, report_out = ctx.Pipe(duplex=False)
    try:
        sending_end.send("hello")
        sending_end.close()  # hang up without the end marker
        with exactly(
            ChildError,
            "child 'receive_until' raised EOFError: the sender closed its end before "
            "sending the end marker 'END'",
        ):
            run(ctx, receive_until, receiving_end, "END", report_out, timeout=20)
    finally:
        for end in (receiving_end, sending_end, report_in, report_out):
            end.close()


def _silent_sender_and_receiver(ctx):
    """Start a sender that holds its end without sending, and a receiver waiting on it."""
    receiving_end, sending_end = ctx.Pipe()
    # A server never sends unless asked: a "sender" that holds its end, silent.
    sender = start(ctx, serve, sending_end, timeout=30, name="sender")
    sending_end.close()
    report_in, report_out = ctx.Pipe(duplex=False)
    receiver = start(
        ctx, receive_until, receiving_end, "END", report_out, timeout=30, name="receiver"
    )
    receiving_end.close()
    report_out.close()
    return sender, receiver, report_in


def test_a_killed_sender_is_reported_within_seconds(ctx):
    sender, receiver, report_in = _silent_sender_and_receiver(ctx)
    try:
        os.kill(sender.process.pid, signal.SIGKILL)
        began = time.monotonic()
        with exactly(ChildError, "child 'sender' was killed by signal 9 before it finished"):
            _await_report(report_in, [sender, receiver], 30, "report")
        assert time.monotonic() - began < 5
        assert not sender.process.is_alive() and not receiver.process.is_alive()
    finally:
        report_in.close()


@pytest.mark.slow  # waits out a silent child on purpose
def test_silence_is_bounded_and_the_children_are_stopped(ctx):
    sender, receiver, report_in = _silent_sender_and_receiver(ctx)
    try:
        with exactly(TimeoutError, "no report arrived within 0.5 s; the children were stopped"):
            _await_report(report_in, [sender, receiver], 0.5, "report")
        assert ctx.active_children() == []
    finally:
        report_in.close()


# ---- request and reply -----------------------------------------------------------------


def test_a_server_answers_until_told_to_stop(ctx, pipe):
    client, server_end = pipe
    server = start(ctx, serve, server_end, name="server")
    server_end.close()
    assert request(client, "square", 7, timeout=20) == 49
    assert request(client, "upper", "pipe") == "PIPE"
    assert request(client, "reverse", [1, 2, 3]) == [3, 2, 1]
    with exactly(
        ValueError,
        "the server could not square 'seven': TypeError: can't multiply sequence by "
        "non-int of type 'str'",
    ):
        request(client, "square", "seven")
    assert request(client, "square", 12) == 144  # the server survived the bad request
    assert request(client, "stop") == "stopped"
    server.wait(timeout=10)
    with exactly(EOFError, "the server has hung up: its end is closed (it exited or died)"):
        request(client, "square", 3)


def test_a_server_stops_quietly_when_the_client_hangs_up(ctx):
    client, server_end = ctx.Pipe()
    # Under fork the server inherits the client's end too: it must close that copy.
    server = start(ctx, serve, server_end, also_close=[client], name="server")
    server_end.close()
    client.close()
    server.wait(timeout=20)  # raises if it did not end cleanly
    assert server.process.exitcode == 0


@pytest.mark.parametrize(
    ("operation", "value", "error", "message"),
    [
        (
            "shout",
            "hi",
            ValueError,
            "operation 'shout' is unknown: choose one of reverse, square, stop, upper",
        ),
        (
            None,
            None,
            ValueError,
            "operation None is unknown: choose one of reverse, square, stop, upper",
        ),
        (
            "upper",
            lambda: 1,
            TypeError,
            "value is a function that cannot be pickled, so send() cannot carry it; "
            "send plain data such as str, numbers, lists or dicts",
        ),
        (
            "reverse",
            b"x" * MAX_MESSAGE_BYTES,
            ValueError,
            f"value is {MAX_MESSAGE_BYTES + 9:,} bytes once pickled; the limit is "
            f"{MAX_MESSAGE_BYTES:,} bytes: send big data in chunks with send_bytes(), "
            "or use shared memory",
        ),
    ],
    ids=["unknown", "none", "unpicklable", "too-big"],
)
def test_bad_requests_are_refused_before_sending(pipe, operation, value, error, message):
    client, other = pipe
    with exactly(error, message):
        request(client, operation, value)
    assert not other.poll(0)  # nothing was sent


# ---- two readers on one end ------------------------------------------------------------


def test_two_readers_with_a_lock_get_every_message_whole(ctx):
    report = share_one_end(ctx, readers=2, messages=200, timeout=20)
    assert isinstance(report, SharingReport)
    assert report.all_intact
    assert sorted(report.intact) == list(range(200))
    assert ctx.active_children() == []


def test_readers_without_a_lock_are_bounded_and_leave_nothing(ctx):
    # Corruption is likely but never certain, so only the bounds are asserted.
    report = share_one_end(ctx, readers=2, messages=100, use_lock=False, timeout=2)
    assert len(report.intact) <= 100
    assert ctx.active_children() == []


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"readers": 0}, ValueError, "readers must be at least 1, not 0"),
        ({"readers": 9}, ValueError, "readers must be at most 8, not 9"),
        ({"messages": "10"}, TypeError, "messages must be a whole number, not str '10'"),
        ({"size": 4}, ValueError, "size must be at least 5 bytes, not 4"),
        (
            {"size": MAX_MESSAGE_BYTES + 1},
            ValueError,
            f"size must be at most {MAX_MESSAGE_BYTES}, not {MAX_MESSAGE_BYTES + 1}",
        ),
    ],
)
def test_share_one_end_refuses_bad_options(ctx, options, error, message):
    with exactly(error, message):
        share_one_end(ctx, **options)


# ---- hygiene ---------------------------------------------------------------------------


def test_open_ends_sees_an_open_end_and_forgets_a_closed_one(ctx):
    before = len(open_ends())
    here, there = ctx.Pipe()
    assert len(open_ends()) == before + 2
    here.close()
    there.close()
    assert len(open_ends()) == before
