"""Tests for `helpers.exercises.bench`."""

from __future__ import annotations

import time

import pytest

from helpers.exercises.bench import CHUNK, SIZE, check_pick, check_send_in_chunks

# ---- exercise 1: answers a learner might write ----------------------------------------


def pick_reference(rows, size):
    channels = [r for r in rows if r["size"] == size and r["kind"] == "channel"]
    return min(channels, key=lambda r: r["seconds"])["name"]


def pick_including_limits(rows, size):
    return min((r for r in rows if r["size"] == size), key=lambda r: r["seconds"])["name"]


def pick_the_slowest(rows, size):
    channels = [r for r in rows if r["size"] == size and r["kind"] == "channel"]
    return max(channels, key=lambda r: r["seconds"])["name"]


def pick_ignoring_size(rows, size):
    channels = [r for r in rows if r["kind"] == "channel"]
    return min(channels, key=lambda r: r["seconds"])["name"]


def pick_a_row(rows, size):
    channels = [r for r in rows if r["size"] == size and r["kind"] == "channel"]
    return min(channels, key=lambda r: r["seconds"])


def pick_with_a_wrong_key(rows, size):
    return min(rows, key=lambda r: r["time"])["name"]


def pick_forever(rows, size):
    while True:
        time.sleep(0.01)


def test_reference_pick_passes():
    verdict = check_pick(pick_reference)
    assert verdict.passed
    assert (
        repr(verdict) == "✔ pick() chose the fastest channel in all 3 tables, skipping the limits"
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (pick_including_limits, "'memcpy' is a limit — a yardstick measured for comparison, not a "
         "channel: skip the rows whose kind is 'limit'"),
        (pick_the_slowest, "you picked the slowest channel: fewer seconds means faster "
         "(min, not max)"),
        (pick_ignoring_size, "'pipe_bytes' is the fastest over all sizes, not at 64 MiB: keep only "
         "the rows whose size equals the size asked for"),
        (pick_a_row, "you returned a whole row: return just its name, row['name']"),
        (pick_with_a_wrong_key, "pick() raised KeyError: 'time' — each row is a dict with the keys "
         "name, kind, size and seconds"),
        (lambda rows: None, "your function must take two parameters: def pick(rows, size): ..."),
        (42, "pass your function itself: check_pick(pick), not a int"),
    ],
)  # fmt: skip
def test_wrong_picks_get_a_specific_hint(answer, hint):
    verdict = check_pick(answer)
    assert not verdict.passed
    assert verdict.message == hint


def test_a_pick_that_never_returns_does_not_hang_the_checker():
    began = time.monotonic()
    verdict = check_pick(pick_forever, timeout=0.3)
    assert verdict.message == "pick() did not return within 0.3 s: is there a loop that never ends?"
    assert time.monotonic() - began < 5


# ---- exercise 2: answers a learner might write ----------------------------------------


def send_reference(conn, data, chunk):
    for offset in range(0, len(data), chunk):
        conn.send_bytes(data, offset, min(chunk, len(data) - offset))


def send_all_at_once(conn, data, chunk):
    conn.send_bytes(data)


def send_pickled(conn, data, chunk):
    for offset in range(0, len(data), chunk):
        conn.send(data[offset : offset + chunk])


def send_without_the_last_chunk(conn, data, chunk):
    for number in range(len(data) // chunk):
        conn.send_bytes(data[number * chunk : (number + 1) * chunk])


def send_past_the_end(conn, data, chunk):
    for offset in range(0, len(data), chunk):
        conn.send_bytes(data, offset, chunk)


def test_reference_sender_passes():
    verdict = check_send_in_chunks(send_reference)
    assert (
        repr(verdict)
        == f"✔ all {SIZE} bytes arrived intact, in 16 messages of at most {CHUNK} bytes"
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (send_all_at_once, "everything arrived in one message of 1024321 B: send at most "
         "chunk=65536 bytes per conn.send_bytes() call"),
        (send_pickled, "the messages were pickled objects: conn.send() pickles what it is given; "
         "conn.send_bytes() sends the bytes themselves"),
        (send_without_the_last_chunk, "only 983040 of 1024321 bytes arrived: did you send the "
         "last, shorter chunk? range(0, len(data), chunk) gives every offset"),
    ],
)  # fmt: skip
def test_wrong_senders_get_a_specific_hint(answer, hint):
    verdict = check_send_in_chunks(answer)
    assert not verdict.passed
    assert verdict.message == hint


@pytest.mark.slow
def test_a_sender_that_raises_is_reported_with_its_error():
    verdict = check_send_in_chunks(send_past_the_end)
    assert verdict.message == (
        "your send_in_chunks() raised ValueError: buffer length < offset + size"
    )


def test_a_value_instead_of_a_function_is_refused():
    verdict = check_send_in_chunks("send_in_chunks")
    assert verdict.message == (
        "pass your function itself: check_send_in_chunks(send_in_chunks), not a str"
    )
