"""Checkers for lesson 05's exercises: read a results table, send bytes in chunks.

Exercise 1 is about reading measurements, not about processes: the learner's
``pick(rows, size)`` runs in a helper thread of this process, on tables made
up for the check, and a function that never returns is reported after a
timeout (its thread is abandoned, the checker does not hang).

Exercise 2 asks for a sender written in a notebook cell, so it runs with
``multiprocess`` (whose dill pickling sends the function's code to the child)
and only ``multiprocess`` objects go near it. The checker is the receiver at
the other end of the pipe; every wait has a timeout, and a sender that never
finishes is stopped.
"""

from __future__ import annotations

import inspect
import pickle
import time
from typing import Any

from helpers.bench import KiB, format_size, make_payload
from helpers.checking import CHECK_TIMEOUT, Verdict, fail, ok
from helpers.context import get_multiprocess_context
from helpers.running import CallTimeout, ChildError, ChildTimeout, call_with_timeout, start, wait

__all__ = [
    "CHECK_TIMEOUT",
    "CHUNK",
    "PICK_TIMEOUT",
    "SIZE",
    "check_pick",
    "check_send_in_chunks",
    "pick_tables",
]

PICK_TIMEOUT = 5.0
# Exercise 2 sends SIZE bytes in CHUNK-byte messages: SIZE is not a multiple
# of CHUNK, so a sender that forgets the last, shorter chunk is caught.
CHUNK = 64 * KiB
SIZE = 1000 * KiB + 321
_LIMITS = ("memcpy", "os_pipe")


# ---- exercise 1: pick the fastest channel ---------------------------------------------


def _row(name: str, size: int, seconds: float) -> dict[str, Any]:
    kind = "limit" if name in _LIMITS else "channel"
    return {"name": name, "kind": kind, "size": size, "seconds": seconds}


def pick_tables() -> list[tuple[list[dict[str, Any]], int, str]]:
    """The made-up tables exercise 1 is checked on: ``(rows, size, fastest channel)``.

    Built so that each wrong idea gives a wrong answer: a limit is the
    fastest row, the fastest channel differs between sizes, and rows are not
    sorted.
    """
    big, small = 64 * 1024 * KiB, 4 * KiB
    rows = [
        _row("manager", big, 0.52),
        _row("memcpy", big, 0.006),
        _row("pipe_bytes", big, 0.041),
        _row("shared_memory", big, 0.007),
        _row("os_pipe", big, 0.031),
        _row("array", big, 0.008),
        _row("pipe_bytes", small, 0.000021),
        _row("memcpy", small, 0.0000004),
        _row("shared_memory", small, 0.000034),
        _row("manager", small, 0.00019),
    ]
    return [
        (rows, big, "shared_memory"),
        (rows, small, "pipe_bytes"),
        (rows[::-1], big, "shared_memory"),
    ]


def _attempt(pick: Any, rows: list, size: int, timeout: float) -> tuple[str, Any]:
    """``pick(rows, size)`` bounded: ("ok", answer), ("error", exc) or ("late", None)."""
    try:
        answer = call_with_timeout(
            lambda: pick([dict(r) for r in rows], size), timeout=timeout, what="pick() under check"
        )
    except CallTimeout:
        return "late", None
    except Exception as exc:  # reported to the learner
        return "error", exc
    return "ok", answer


def _pick_hint(answer: Any, rows: list, size: int, expected: str) -> str:  # noqa: PLR0911
    # One return per mistake: the first that explains the answer wins.
    channels = [r for r in rows if r["kind"] == "channel"]
    at_size = [r for r in channels if r["size"] == size]
    if isinstance(answer, dict):
        return "you returned a whole row: return just its name, row['name']"
    if not isinstance(answer, str):
        return (
            f"return the channel's name, a str such as 'pipe_bytes', not a {type(answer).__name__}"
        )
    if answer in _LIMITS:
        return (
            f"{answer!r} is a limit — a yardstick measured for comparison, not a channel: "
            "skip the rows whose kind is 'limit'"
        )
    if at_size and answer == max(at_size, key=lambda r: r["seconds"])["name"]:
        return "you picked the slowest channel: fewer seconds means faster (min, not max)"
    if answer == min(channels, key=lambda r: r["seconds"])["name"]:
        return (
            f"{answer!r} is the fastest over all sizes, not at {format_size(size)}: keep only "
            "the rows whose size equals the size asked for"
        )
    if answer not in {r["name"] for r in at_size}:
        return (
            f"{answer!r} was not measured at {format_size(size)}: keep only the rows whose "
            "size equals the size asked for"
        )
    return (
        f"at {format_size(size)} the fastest channel is {expected!r}, not {answer!r}: "
        "among the rows of that size whose kind is 'channel', take the one with the fewest seconds"
    )


def check_pick(pick: Any, *, timeout: float = PICK_TIMEOUT) -> Verdict:
    """Exercise 1: ``pick(rows, size)`` returns the name of the fastest channel at ``size``.

    ``rows`` are dicts like ``Results.rows()`` gives: name, kind ('channel' or
    'limit'), size (bytes) and seconds (the median).
    """
    if not callable(pick):
        return fail(f"pass your function itself: check_pick(pick), not a {type(pick).__name__}")
    try:
        inspect.signature(pick).bind([], 0)
    except TypeError:
        return fail("your function must take two parameters: def pick(rows, size): ...")
    except ValueError:
        pass  # no signature to inspect: let the call decide
    tables = pick_tables()
    for rows, size, expected in tables:
        status, answer = _attempt(pick, rows, size, timeout)
        if status == "late":
            return fail(
                f"pick() did not return within {timeout:g} s: is there a loop that never ends?"
            )
        if status == "error":
            message = f"pick() raised {type(answer).__name__}: {answer}"
            if isinstance(answer, KeyError):
                message += " — each row is a dict with the keys name, kind, size and seconds"
            return fail(message)
        if answer != expected:
            return fail(_pick_hint(answer, rows, size, expected))
    return ok(f"pick() chose the fastest channel in all {len(tables)} tables, skipping the limits")


# ---- exercise 2: send bytes in chunks ------------------------------------------------


def _drain(reader: Any, deadline: float) -> tuple[list[bytes], bool]:
    """Receive messages until the sender hangs up; (messages, finished in time)."""
    messages = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not reader.poll(left):
            return messages, False
        try:
            messages.append(reader.recv_bytes())
        except (EOFError, OSError):
            return messages, True


def _looks_pickled(message: bytes) -> bool:
    if not message.startswith(b"\x80"):
        return False
    try:
        pickle.loads(message)
    except Exception:
        return False
    return True


def _chunk_hint(messages: list[bytes], data: bytes, chunk: int) -> str | None:  # noqa: PLR0911
    messages = [m for m in messages if m]  # an empty end marker is fine
    joined = b"".join(messages)
    if not messages:
        return "nothing arrived: call conn.send_bytes(...) once for each chunk of data"
    if _looks_pickled(messages[0]):
        return (
            "the messages were pickled objects: conn.send() pickles what it is given; "
            "conn.send_bytes() sends the bytes themselves"
        )
    if len(messages) == 1 and joined == data:
        return (
            f"everything arrived in one message of {format_size(len(data))}: send at most "
            f"chunk={chunk} bytes per conn.send_bytes() call"
        )
    biggest = max(map(len, messages))
    if biggest > chunk:
        return (
            f"a message of {biggest} bytes arrived, more than chunk={chunk}: "
            "send data[offset:offset + chunk]"
        )
    if len(joined) < len(data) and data.startswith(joined):
        return (
            f"only {len(joined)} of {len(data)} bytes arrived: did you send the last, shorter "
            "chunk? range(0, len(data), chunk) gives every offset"
        )
    if joined != data:
        return (
            f"{len(joined)} bytes arrived but not the {len(data)} bytes of data in order: send "
            "data[offset:offset + chunk] for offset = 0, chunk, 2 * chunk, …"
        )
    smallest = min(map(len, messages[:-1]), default=chunk)
    if smallest < chunk:
        return (
            f"the data arrived, but in {len(messages)} messages, some of only {smallest} bytes: "
            "each send costs a system call and Python's overhead, so fill every message but "
            "the last with chunk bytes"
        )
    return None


def _run_sender(send_in_chunks: Any, data: bytes, timeout: float) -> tuple[list[bytes], str | None]:
    """Run the learner's sender in a multiprocess child; (messages received, hint or None)."""
    ctx = get_multiprocess_context()
    reader, writer = ctx.Pipe(duplex=False)
    try:
        try:
            child = start(ctx, send_in_chunks, writer, data, CHUNK, name="send_in_chunks")
        except Exception as exc:  # dill could not pickle it
            return [], f"your function could not be sent to a child: {type(exc).__name__}: {exc}"
        finally:
            writer.close()  # so the reader sees end-of-file when the child ends
        messages, finished = _drain(reader, time.monotonic() + timeout)
        try:
            wait([child], timeout=1.0 if finished else 0.1)
        except ChildError as err:
            if err.exc_type is not None:
                return messages, f"your send_in_chunks() raised {err.exc_type}: {err.exc_message}"
            return messages, f"your send_in_chunks() died (exit code {err.exitcode})"
        except ChildTimeout:
            return messages, (
                f"your send_in_chunks() did not finish within {timeout:g} s and was stopped: "
                "does its loop end once every chunk is sent?"
            )
    finally:
        reader.close()
    return messages, None


def check_send_in_chunks(send_in_chunks: Any, *, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Exercise 2: ``send_in_chunks(conn, data, chunk)`` sends ``data`` in ``chunk``-byte pieces.

    It runs in a ``multiprocess`` child with ``data`` of 1000 KiB + 321 bytes
    and ``chunk`` = 64 KiB; the checker receives with ``recv_bytes()`` until
    the child hangs up, then compares what arrived with ``data``.
    """
    if not callable(send_in_chunks):
        return fail(
            "pass your function itself: check_send_in_chunks(send_in_chunks), "
            f"not a {type(send_in_chunks).__name__}"
        )
    data = bytes(make_payload(SIZE))
    messages, hint = _run_sender(send_in_chunks, data, timeout)
    hint = hint or _chunk_hint(messages, data, CHUNK)
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {len(data)} bytes arrived intact, in {len([m for m in messages if m])} messages "
        f"of at most {CHUNK} bytes"
    )
