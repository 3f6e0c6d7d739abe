"""Lesson 04 (Pipes): the senders, receivers and the small server, which run in a child.

Standard library only.
"""

from __future__ import annotations

import struct

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


END_MARKER = "END"


# How long a receiver waits for the next message.  A spawned child needs a
# fraction of a second to start on a busy laptop; ten seconds of silence means
# something is wrong, and the learner gets an error instead of a frozen kernel.
MESSAGE_TIMEOUT = 10.0


# One Linux pipe buffer.  A message this small can be written even while the
# reader is busy, and anything bigger belongs in send_bytes() chunks or in
# shared memory (lessons 01 and 05), not in one pickled object.
MAX_MESSAGE_BYTES = 64 * 1024


# recv_bytes() reads a 4-byte big-endian length before each message body.
_HEADER = struct.Struct("!I")


def _peer_gone(exc: BaseException, waiting_for: str) -> BaseException:
    """Turn the ways a vanished peer shows up in ``recv()`` into one clear ``EOFError``.

    A socket-based (duplex) end reports it as a reset; a peer that died in the
    middle of a message leaves ``OSError("got end of file during message")``.
    Any other error (such as "bad message length") is returned unchanged.
    """
    if isinstance(exc, EOFError | ConnectionResetError):
        return EOFError(f"the other end is closed, so {waiting_for} will never arrive")
    if str(exc) == "got end of file during message":
        return EOFError(
            f"the other end is closed in the middle of a message, so {waiting_for} "
            "will never arrive"
        )
    return exc


def receive(conn: Any, *, timeout: float = MESSAGE_TIMEOUT, waiting_for: str = "a message") -> Any:
    """Wait at most ``timeout`` seconds for one object on ``conn`` and return it.

    ``poll(timeout)`` first, so a silent peer gives ``TimeoutError`` instead of
    a hang; a peer that has closed its end (or died) gives ``EOFError`` at
    once.  Both messages say what was being waited for.
    """
    if not conn.poll(timeout):
        raise TimeoutError(f"nothing arrived within {timeout:g} s while waiting for {waiting_for}")
    try:
        return conn.recv()
    except (EOFError, OSError) as exc:
        raise _peer_gone(exc, waiting_for) from None


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
    if not conn.poll(timeout):
        raise TimeoutError(f"nothing arrived within {timeout:g} s while waiting for {waiting_for}")
    try:
        return conn.recv_bytes(maxlength)
    except (EOFError, OSError) as exc:
        raise _peer_gone(exc, waiting_for) from None


def send_all(conn: Any, messages: Sequence[Any]) -> None:
    """Runs in the sender child: send each message in order, then close ``conn``.

    It sends nothing back to the notebook.  Closing ``conn`` is its last word:
    once the reader has taken everything, its next ``recv()`` raises
    ``EOFError`` (provided nobody else still holds this end open).
    """
    try:
        for message in messages:
            conn.send(message)
    finally:
        conn.close()


def receive_until(
    conn: Any, end_marker: str, report: Any, *, timeout: float = MESSAGE_TIMEOUT
) -> None:
    """Runs in the receiver child: receive until ``end_marker``, then report.

    Sends the list of messages it received (the end marker left out) through
    ``report``, a pipe to the notebook, which needs them as values.  Raises
    ``EOFError`` if the sender hangs up before the end marker and
    ``TimeoutError`` after ``timeout`` seconds of silence;
    :mod:`helpers.running` carries either back to the notebook.
    """
    received = []
    try:
        while True:
            try:
                message = receive(conn, timeout=timeout, waiting_for="the next message")
            except EOFError:
                raise EOFError(
                    f"the sender closed its end before sending the end marker {end_marker!r}"
                ) from None
            if isinstance(message, str) and message == end_marker:
                break
            received.append(message)
        report.send(received)
    finally:
        report.close()
        conn.close()


def _square(value: Any) -> Any:
    return value * value


def _upper(value: Any) -> Any:
    return value.upper()


def _reverse(value: Any) -> Any:
    return value[::-1]


OPERATIONS = {"square": _square, "upper": _upper, "reverse": _reverse}


_STOP = "stop"


def serve(conn: Any, *, timeout: float = MESSAGE_TIMEOUT, also_close: Sequence[Any] = ()) -> None:
    """Runs in the server child: answer ``(operation, value)`` requests on ``conn``.

    Replies ``("ok", result)``, or ``("error", "TypeError: ...")`` when an
    operation fails, and keeps serving.  Stops after replying to
    ``("stop", None)``, or quietly when the client closes its end.  Raises
    ``TimeoutError`` after ``timeout`` seconds without a request, so a
    forgotten server cannot live for ever.

    ``also_close`` lists ends this child must not keep.  Under fork a child
    inherits a copy of every end its parent held, the client's included, and
    while that copy is open the client's hang-up never reaches the server.
    """
    for end in also_close:
        end.close()
    try:
        while True:
            try:
                operation, value = receive(conn, timeout=timeout, waiting_for="a request")
            except EOFError:
                return  # the client hung up: nobody is left to answer
            if operation == _STOP:
                conn.send(("ok", "stopped"))
                return
            try:
                conn.send(("ok", OPERATIONS[operation](value)))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _numbered(index: int, size: int) -> bytes:
    # The index, then a filler byte that depends on it: a reader can tell at
    # once whether a message arrived whole and unmixed.
    return _HEADER.pack(index) + bytes([index % 251]) * (size - _HEADER.size)


def write_numbered(conn: Any, count: int, size: int, stops: int) -> None:
    """Runs in the writer child: send ``count`` numbered messages of ``size`` bytes.

    Then one empty message per reader, so each reader knows when to stop.
    Sends nothing else back.
    """
    try:
        for index in range(count):
            conn.send_bytes(_numbered(index, size))
        for _ in range(stops):
            conn.send_bytes(b"")
    finally:
        conn.close()


def read_shared(
    conn: Any, lock: Any, report: Any, *, size: int, timeout: float = MESSAGE_TIMEOUT
) -> None:
    """Runs in each reader child; several of them read the same end ``conn``.

    Holds ``lock`` (unless it is None) around each whole message, so no other
    reader can start reading in the middle of it.  Sends
    ``(intact_indices, mangled_count, problem)`` through ``report``, where
    ``problem`` describes an error that stopped it, or is None.
    """
    intact: list[int] = []
    mangled, problem = 0, None
    try:
        while True:
            if lock is not None and not lock.acquire(timeout=timeout):
                raise TimeoutError(f"the lock was not free within {timeout:g} s")
            try:  # the header AND the body are read while the lock is held
                data = receive_bytes(conn, timeout=timeout, maxlength=size)
            finally:
                if lock is not None:
                    lock.release()
            if not data:
                break  # the empty message: this reader's stop signal
            index = _HEADER.unpack_from(data)[0] if len(data) >= _HEADER.size else -1
            if index >= 0 and data == _numbered(index, size):
                intact.append(index)
            else:
                mangled += 1
    except (OSError, EOFError, TimeoutError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    report.send((intact, mangled, problem))
    report.close()
    conn.close()
