"""Lesson 04 (Pipes): two connected ends, each with ``send()`` and ``recv()``.

``ctx.Pipe()`` returns two connection objects.  What one end sends, the other
end receives, in the same order.  By default both ends can send and receive
(a **duplex** pipe); ``ctx.Pipe(duplex=False)`` returns ``(read_end,
write_end)`` instead.

Lifecycle: each process closes the ends it does not use, as soon as the child
that needs them has started.  Only then does ``recv()`` raise ``EOFError``
once every writer is gone, instead of waiting for ever.  Under fork a child
also inherits a copy of every end the parent holds at that moment, which is
why the functions here close each end right after starting the child that
uses it, and watch the children themselves as well.

Every receive in this module is bounded: ``poll(timeout)`` first, then
``recv()``.  Workers send their results back through a pipe, because the
notebook needs them as values, in an order it controls; the notebook prints them.

>>> from helpers.context import get_context
>>> pass_messages(get_context(), ["hello", "hey", "hru?", "END"])
['hello', 'hey', 'hru?']
"""

from __future__ import annotations

import contextlib
import gc
import os
import reprlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for_any
from multiprocessing.reduction import ForkingPickler
from typing import TYPE_CHECKING, Any

from helpers.running import Child, ChildError, ChildTimeout, start, stop, wait
from helpers.validation import _kind, require_context, require_positive_int, require_timeout
from helpers.workers import pipes as _child
from helpers.workers.pipes import (
    _HEADER,
    _STOP,
    END_MARKER,
    MAX_MESSAGE_BYTES,
    MESSAGE_TIMEOUT,
    OPERATIONS,
    read_shared,
    receive_until,
    send_all,
    serve,
    write_numbered,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "END_MARKER",
    "MAX_MESSAGES",
    "MAX_MESSAGE_BYTES",
    "MESSAGE_TIMEOUT",
    "OPERATIONS",
    "SharingReport",
    "deliver_typed",
    "open_ends",
    "parse_messages",
    "pass_messages",
    "read_raw",
    "read_shared",
    "receive",
    "receive_bytes",
    "receive_until",
    "request",
    "send_all",
    "serve",
    "share_one_end",
    "wire_size",
    "write_numbered",
]

MAX_MESSAGES = 1000
# Children have already done their work when this applies: it only bounds
# their exit, so it can be short.
EXIT_TIMEOUT = 10.0
# How long a child that is already failing gets to finish and say why.
GRACE = 1.0
_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


# --------------------------------------------------------------------------
# Validation, in the caller's process
# --------------------------------------------------------------------------


def _require_connection(
    conn: Any, name: str = "conn", *, receives: bool = False, sends: bool = False
) -> Any:
    """Return ``conn`` if it is an open end that can do what the caller needs."""
    # Duck-typed on purpose: exercise checkers pass ends of the `multiprocess`
    # fork, whose Connection class is a different one with the same methods.
    needed = ("send", "recv", "poll", "close", "closed", "readable", "writable")
    if not all(hasattr(conn, attribute) for attribute in needed):
        raise TypeError(f"{name} must be one end of a Pipe (a Connection), not {_kind(conn)}")
    if conn.closed:
        raise ValueError(f"{name} is closed: a closed end can neither send nor receive")
    if receives and not conn.readable:
        raise ValueError(f"{name} cannot receive: it is the write end of a Pipe(duplex=False)")
    if sends and not conn.writable:
        raise ValueError(f"{name} cannot send: it is the read end of a Pipe(duplex=False)")
    return conn


def _pickled(value: Any, name: str) -> bytes:
    """Pickle ``value`` exactly as ``send()`` will, or say clearly why it cannot travel."""
    try:
        # bytes() at once: dumps returns a view of a buffer, and a view caught in a
        # traceback cycle makes Python 3.13 complain when the cycle is collected.
        data = bytes(ForkingPickler.dumps(value))
    except Exception:
        raise TypeError(
            f"{name} is a {_kind(value)} that cannot be pickled, so send() cannot carry it; "
            "send plain data such as str, numbers, lists or dicts"
        ) from None
    try:
        # The receiving process must rebuild it, and some objects pickle fine
        # but cannot be rebuilt: better to find out here than in a child.
        ForkingPickler.loads(data)
    except Exception:
        raise TypeError(
            f"{name} is a {_kind(value)} that pickles but cannot be rebuilt from its pickle, "
            "so the receiving process could not unpickle it; send plain data such as str, "
            "numbers, lists or dicts"
        ) from None
    return data


def _require_small(value: Any, name: str) -> int:
    size = len(_pickled(value, name))
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(
            f"{name} is {size:,} bytes once pickled; the limit is {MAX_MESSAGE_BYTES:,} bytes: "
            "send big data in chunks with send_bytes(), or use shared memory"
        )
    return size


def _require_end_marker(end_marker: Any) -> str:
    if not isinstance(end_marker, str):
        raise TypeError(f"end_marker must be text such as 'END', not {_kind(end_marker)}")
    if not end_marker.strip():
        raise ValueError(
            "end_marker is missing: give the word that tells the receiver to stop, e.g. 'END'"
        )
    return end_marker


def _require_messages(messages: Any, end_marker: str) -> list[Any]:
    """Check a seed-style list: messages, then the end marker as the last item."""
    if not isinstance(messages, (list, tuple)):
        raise TypeError(
            f"messages must be a list such as ['hello', 'hey', 'END'], not {_kind(messages)}"
        )
    if not messages:
        raise ValueError(f"messages is empty: give at least the end marker, e.g. [{end_marker!r}]")
    if len(messages) > MAX_MESSAGES:
        raise ValueError(f"messages has {len(messages):,} items; the limit is {MAX_MESSAGES:,}")
    last = messages[-1]
    if not (isinstance(last, str) and last == end_marker):
        raise ValueError(
            f"messages must end with the end marker {end_marker!r}, or the receiver never "
            f"stops; the last item is {_short.repr(last)}"
        )
    for position, message in enumerate(messages[:-1]):
        if isinstance(message, str) and message == end_marker:
            raise ValueError(
                f"messages[{position}] is the end marker {end_marker!r}: the receiver would stop "
                "there and never read the rest; only the last item may be the end marker"
            )
        _require_small(message, f"messages[{position}]")
    return list(messages)


# --------------------------------------------------------------------------
# Bounded receiving
# --------------------------------------------------------------------------


def receive(conn: Any, *, timeout: float = MESSAGE_TIMEOUT, waiting_for: str = "a message") -> Any:
    """Wait at most ``timeout`` seconds for one object on ``conn`` and return it.

    ``poll(timeout)`` first, so a silent peer gives ``TimeoutError`` instead of
    a hang; a peer that has closed its end (or died) gives ``EOFError`` at
    once.  Both messages say what was being waited for. This is the checked
    version of :func:`helpers.workers.pipes.receive`, which children call.

    >>> from helpers.context import get_context
    >>> here, there = get_context().Pipe()
    >>> here.send("hi"); receive(there, timeout=1)
    'hi'
    >>> here.close(); there.close()
    """
    _require_connection(conn, receives=True)
    return _child.receive(conn, timeout=require_timeout(timeout), waiting_for=waiting_for)


def receive_bytes(
    conn: Any,
    *,
    timeout: float = MESSAGE_TIMEOUT,
    maxlength: int = MAX_MESSAGE_BYTES,
    waiting_for: str = "a message",
) -> bytes:
    """Like :func:`receive`, but return the message's raw bytes, unpickled.

    ``maxlength`` refuses a message longer than it (``OSError: bad message
    length``) instead of reading gigabytes that a corrupted length promises.
    """
    _require_connection(conn, receives=True)
    return _child.receive_bytes(
        conn,
        timeout=require_timeout(timeout),
        maxlength=require_positive_int(maxlength, "maxlength"),
        waiting_for=waiting_for,
    )


def read_raw(conn: Any, size: int, *, timeout: float = MESSAGE_TIMEOUT) -> bytes:
    """Read exactly ``size`` raw bytes from ``conn``'s file descriptor (Linux and macOS).

    This bypasses ``recv()`` to show what it reads: a 4-byte length, then the
    body.  Each read is bounded by ``poll(timeout)``.
    """
    _require_connection(conn, receives=True)
    size = require_positive_int(size, "size", maximum=MAX_MESSAGE_BYTES)
    timeout = require_timeout(timeout)
    if sys.platform == "win32":
        raise NotImplementedError("read_raw needs Linux or macOS: a Windows pipe is not a file")
    chunks: list[bytes] = []
    missing = size
    while missing:
        if not conn.poll(timeout):
            raise TimeoutError(
                f"only {size - missing} of {size} bytes arrived within {timeout:g} s"
            )
        chunk = os.read(conn.fileno(), missing)
        if not chunk:
            raise EOFError(f"the other end is closed after {size - missing} of {size} bytes")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def wire_size(obj: Any) -> int:
    """How many bytes ``send(obj)`` writes: the pickled object, plus a 4-byte length.

    >>> wire_size(b"hello") > len(b"hello") + _HEADER.size
    True
    """
    return len(_pickled(obj, "obj")) + _HEADER.size


# --------------------------------------------------------------------------
# The seed example: a sender, a receiver and an end marker
# --------------------------------------------------------------------------


def _await_report(report: Any, children: list[Child], timeout: float, what: str) -> Any:
    """Wait for one object on ``report`` while watching ``children``.

    Returns it, or stops every child and raises the first child's failure (or
    ``TimeoutError``) as soon as a child fails, not only when time runs out.
    """
    deadline = time.monotonic() + timeout
    watched = list(children)
    while True:
        remaining = deadline - time.monotonic()
        # A process's sentinel becomes ready when it ends: a crash or a kill is
        # seen at once, even when the dead child's end is held open elsewhere.
        ready = wait_for_any([report] + [c.process.sentinel for c in watched], max(0.0, remaining))
        if report in ready:
            with contextlib.suppress(EOFError, ConnectionResetError):
                return report.recv()
            break
        if any(c.process.exitcode not in (None, 0) for c in children) or remaining <= 0:
            break
        watched = [c for c in watched if c.process.exitcode is None]
    # Something went wrong.  A failing child may still be on its way out (its
    # ends close a moment before it can be reaped): let it finish and report.
    grace = time.monotonic() + GRACE
    for child in children:
        child.process.join(max(0.0, grace - time.monotonic()))
    failed = [c for c in children if c.process.exitcode not in (None, 0)]
    for child in children:
        stop(child.process)
    try:
        # The first failure in start order is the cause: a sender that died
        # comes before the receiver that then saw EOF.
        wait(failed + [c for c in children if c not in failed], timeout=EXIT_TIMEOUT)
    except ChildError:
        if failed:
            raise
    raise TimeoutError(f"no {what} arrived within {timeout:g} s; the children were stopped")


def pass_messages(
    ctx: Context,
    messages: Sequence[Any],
    *,
    end_marker: str = END_MARKER,
    timeout: float = MESSAGE_TIMEOUT,
) -> list[Any]:
    """The seed example in one call: a sender child, a receiver child, one pipe.

    ``messages`` ends with ``end_marker``, as in the seed's
    ``["hello", "hey", "hru?", "END"]``.  The receiver sends what it got back
    through a second, one-way pipe, and this function returns it.  Everything
    is checked here first; every end is closed and both children joined
    before it returns.  A child that fails raises
    :class:`~helpers.running.ChildError` here, within moments.
    """
    require_context(ctx, needs=("Pipe",))
    end_marker = _require_end_marker(end_marker)
    messages = _require_messages(messages, end_marker)
    timeout = require_timeout(timeout)
    receiving_end, sending_end = ctx.Pipe()
    report_in = report_out = None
    try:
        sender = start(ctx, send_all, sending_end, messages, name="sender")
        # Closed before the receiver starts, so under fork the receiver does
        # not inherit a copy: the sender's exit then means EOF for it.
        sending_end.close()
        report_in, report_out = ctx.Pipe(duplex=False)
        receiver = start(
            ctx,
            receive_until,
            receiving_end,
            end_marker,
            report_out,
            timeout=timeout,
            name="receiver",
        )
        receiving_end.close()
        report_out.close()
        received = _await_report(report_in, [sender, receiver], timeout, "report from the receiver")
        wait([sender, receiver], timeout=EXIT_TIMEOUT)
        return received
    finally:
        for end in (receiving_end, sending_end, report_in, report_out):
            if end is not None:
                end.close()  # closing twice is harmless


def parse_messages(text: Any) -> list[str]:
    """Split what a learner typed into messages, one per line; blank lines are skipped.

    >>> parse_messages("hello\\n\\n  hey  \\nhru?")
    ['hello', 'hey', 'hru?']
    """
    if not isinstance(text, str):
        raise TypeError(f"messages must be text, one message per line, not {_kind(text)}")
    lines = [line.strip() for line in text.splitlines()]
    messages = [line for line in lines if line]
    if not messages:
        raise ValueError("no messages: type at least one message, one per line")
    return messages


def deliver_typed(
    ctx: Context, text: Any, end_marker: Any, *, timeout: float = MESSAGE_TIMEOUT
) -> str:
    """Behind the lesson's widget: send typed lines through a pipe and say what arrived.

    Checks the input here first (no messages, a missing end marker, the end
    marker typed as a message), then runs :func:`pass_messages` and returns a
    printable summary.
    """
    require_context(ctx, needs=("Pipe",))
    messages = parse_messages(text)
    end_marker = _require_end_marker(end_marker).strip()
    for number, message in enumerate(messages, start=1):
        if message == end_marker:
            raise ValueError(
                f"line {number} is the end marker {end_marker!r}: the receiver would stop there "
                "and never read what follows; choose another end marker"
            )
    received = pass_messages(ctx, [*messages, end_marker], end_marker=end_marker, timeout=timeout)
    lines = [
        f"sent {len(messages)} message(s), then {end_marker!r}",
        f"received {len(received)}, all in order: {received == messages}",
    ]
    lines += [f"  {number}. {message!r}" for number, message in enumerate(received, start=1)]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Request and reply: a small server child
# --------------------------------------------------------------------------


def request(
    conn: Any, operation: Any, value: Any = None, *, timeout: float = MESSAGE_TIMEOUT
) -> Any:
    """Send one request to a :func:`serve` child through ``conn`` and return its answer.

    ``operation`` is one of :data:`OPERATIONS` or ``"stop"``.  A failed
    operation raises ``ValueError`` here, with the server's reason; a server
    that has exited or died raises ``EOFError``; a silent one ``TimeoutError``.
    """
    _require_connection(conn, receives=True, sends=True)
    known = sorted([*OPERATIONS, _STOP])
    if not isinstance(operation, str) or operation not in known:
        raise ValueError(f"operation {operation!r} is unknown: choose one of {', '.join(known)}")
    _require_small(value, "value")
    timeout = require_timeout(timeout)
    try:
        conn.send((operation, value))
    except (BrokenPipeError, ConnectionResetError):
        raise EOFError("the server has hung up: its end is closed (it exited or died)") from None
    try:
        status, answer = receive(conn, timeout=timeout, waiting_for=f"the reply to {operation!r}")
    except EOFError:
        raise EOFError("the server has hung up: its end is closed (it exited or died)") from None
    if status == "error":
        raise ValueError(f"the server could not {operation} {_short.repr(value)}: {answer}")
    return answer


# --------------------------------------------------------------------------
# Two readers on one end, with and without a lock
# --------------------------------------------------------------------------


@dataclass(slots=True)
class SharingReport:
    """What :func:`share_one_end` saw: how many messages arrived whole, exactly once."""

    sent: int
    readers: int
    intact: list[int] = field(default_factory=list)
    mangled: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def all_intact(self) -> bool:
        """True if every message arrived whole, exactly once, and nothing went wrong."""
        return sorted(self.intact) == list(range(self.sent)) and not (self.mangled or self.problems)


def _gather(reports: list[Any], result: SharingReport, timeout: float) -> None:
    """Add each reader's report to ``result``; a reader that never reports is a problem too."""
    for number, report in enumerate(reports, start=1):
        try:
            intact, mangled, problem = receive(
                report, timeout=timeout, waiting_for=f"reader {number}'s report"
            )
        except (TimeoutError, EOFError) as exc:
            result.problems.append(f"reader {number}: {exc}")
            continue
        result.intact += intact
        result.mangled += mangled
        if problem is not None:
            result.problems.append(f"reader {number}: {problem}")


def share_one_end(
    ctx: Context,
    *,
    readers: int = 2,
    messages: int = 200,
    size: int = 20_000,
    use_lock: bool = True,
    timeout: float = MESSAGE_TIMEOUT,
) -> SharingReport:
    """One writer child, ``readers`` reader children, ALL readers on the same read end.

    With ``use_lock`` (the safe way) each reader holds a shared lock for a
    whole message.  Without it a reader can start in the middle of another's
    message: expect mangled messages, "bad message length" or stuck readers —
    or, on a lucky run, nothing.  Stuck readers are stopped after ``timeout``.
    Every end is closed and every child joined before this returns.
    """
    require_context(ctx, needs=("Pipe",))
    readers = require_positive_int(readers, "readers", maximum=8)
    messages = require_positive_int(messages, "messages", maximum=10_000)
    size = require_positive_int(size, "size", maximum=MAX_MESSAGE_BYTES)
    if size < _HEADER.size + 1:
        raise ValueError(f"size must be at least {_HEADER.size + 1} bytes, not {size}")
    timeout = require_timeout(timeout)
    lock = ctx.Lock() if use_lock else None
    shared_end, writer_end = ctx.Pipe(duplex=False)
    children: list[Child] = []
    reports: list[Any] = []
    result = SharingReport(sent=messages, readers=readers)
    try:
        children.append(
            start(ctx, write_numbered, writer_end, messages, size, readers, name="writer")
        )
        writer_end.close()
        for number in range(1, readers + 1):
            report_in, report_out = ctx.Pipe(duplex=False)
            reports.append(report_in)
            children.append(
                start(
                    ctx,
                    read_shared,
                    shared_end,
                    lock,
                    report_out,
                    size=size,
                    timeout=timeout,
                    name=f"reader {number}",
                )
            )
            report_out.close()
        shared_end.close()
        _gather(reports, result, timeout)
        # A writer whose readers gave up may be stuck in send() for ever:
        # after trouble it only gets a moment before it is stopped.
        exit_timeout = GRACE if result.problems else EXIT_TIMEOUT
        try:
            wait(children, timeout=exit_timeout)
        except (ChildError, ChildTimeout) as exc:
            if use_lock:
                raise
            result.problems.append(str(exc))
    finally:
        for end in (shared_end, writer_end, *reports):
            end.close()
        for child in children:
            stop(child.process)
    if use_lock and result.problems:
        raise RuntimeError(
            "with the lock held, readers still failed: " + "; ".join(result.problems)
        )
    return result


def open_ends() -> list[Any]:
    """The pipe ends (connection objects) this process still holds open.

    Used by the lesson's cleanup section to show that nothing was left open.
    """
    gc.collect()  # ends that are already unreachable are closed by their finaliser
    return [
        obj
        for obj in gc.get_objects()
        if type(obj).__module__ in ("multiprocessing.connection", "multiprocess.connection")
        and type(obj).__name__ in ("Connection", "PipeConnection")
        and not obj.closed
    ]
