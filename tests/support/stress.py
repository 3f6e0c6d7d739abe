"""Workers and drivers for the course's fault and load tests (test-only: not in ``helpers``).

The lessons show each mechanism on four numbers; the tests behind them push
the same mechanisms hard (a gibibyte through a ``Pipe``, a hundred thousand
queue messages, tens of thousands of locked increments) and break them on
purpose (a child killed mid-transfer, a peer that hangs up). Those workers
live here, in an importable module, because a child started under spawn or
forkserver can only run a function it can import.

Workers run in a child and never print: they send what they produced back
through the channel under test, and a failure reaches the parent through
:mod:`helpers.running`. Drivers run in the caller's process: they validate
their arguments before any child starts, wait with timeouts, and leave no
process, pipe or manager behind, even when they raise.

>>> from helpers.context import get_context
>>> move_through_queue(get_context(), producers=1, consumers=1, messages=10).intact
True
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import sys
import time
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

from helpers.running import DEFAULT_TIMEOUT, Child, start, stop, wait
from helpers.validation import require_positive_int, require_timeout

__all__ = [
    "CHUNK_BYTES",
    "END_OF_STREAM",
    "MAX_LOAD_PROCESSES",
    "Tally",
    "Transfer",
    "add_locked",
    "add_managed",
    "checksum",
    "consume_numbers",
    "count_with_lock",
    "echo_queue",
    "echo_until_closed",
    "hold_lock",
    "move_through_queue",
    "pattern_chunk",
    "peak_rss_bytes",
    "pipe_transfer",
    "produce_numbers",
    "receive_stream",
    "send_then_hang_up",
    "stream_bytes",
]

# One mebibyte per message: big enough that per-message overhead is small,
# small enough that neither side ever holds more than a few of them.
CHUNK_BYTES = 1 << 20
# A zero-length message cannot be a chunk (chunks are never empty), so it can
# mark the end of a byte stream without any escaping.
END_OF_STREAM = b""
# More processes than this on a laptop only measures the scheduler.
MAX_LOAD_PROCESSES = 64
# The largest chunk a driver accepts: two of them must fit in memory easily.
MAX_CHUNK_BYTES = 64 << 20
# The hash both ends of a byte stream use; sha256 is hardware-accelerated on
# most CPUs, so hashing a gibibyte costs well under a second.
HASH_NAME = "sha256"
# How long a worker waits for its next message before giving up: longer than
# any pause a loaded machine causes, short enough that a lost sentinel ends in
# an error the parent sees instead of a child that never exits.
IDLE_TIMEOUT = 30.0
# How long a driver waits for a child it is about to stop anyway.
_GRACE = 1.0
# A checksum is a sum of 64-bit digests, kept to 64 bits.
_CHECKSUM_MODULUS = 1 << 64


def checksum(numbers: Any) -> int:
    """An order-independent checksum of whole numbers: the sum of their digests.

    Unlike a plain sum, a lost message and a duplicated one cannot cancel out.

    >>> checksum([1, 2, 3]) == checksum([3, 1, 2]) != checksum([1, 2, 2])
    True
    """
    total = 0
    for number in numbers:
        digest = hashlib.blake2b(number.to_bytes(8, "little", signed=True), digest_size=8)
        total += int.from_bytes(digest.digest(), "little")
    return total % _CHECKSUM_MODULUS


def pattern_chunk(index: int, size: int) -> bytes:
    """The ``index``-th chunk of a byte stream: ``size`` bytes that differ per chunk.

    Both the sender and a test can rebuild any chunk, so nothing needs to be
    stored; the index written into every 8-byte word makes reordered or
    repeated chunks change the stream's hash.
    """
    word = index.to_bytes(8, "little")
    return (word * (size // 8 + 1))[:size]


def peak_rss_bytes() -> int:
    """The most memory this process has held resident so far, in bytes (0 where unknown).

    A forked child starts with its parent's figure, since it starts as a copy.
    """
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB


# --- workers: each runs in a child --------------------------------------------------------


def stream_bytes(conn: Any, total_bytes: int, chunk_bytes: int) -> None:
    """Runs in the child: send ``total_bytes`` through ``conn``, then say what was sent.

    Sends chunks of at most ``chunk_bytes`` with ``send_bytes``, then
    :data:`END_OF_STREAM`, then ``(hex digest of everything sent, its own
    peak_rss_bytes())``, and closes its end of the pipe.
    """
    digest = hashlib.new(HASH_NAME)
    index = sent = 0
    while sent < total_bytes:
        chunk = pattern_chunk(index, min(chunk_bytes, total_bytes - sent))
        digest.update(chunk)  # hash what really goes out, on this side
        conn.send_bytes(chunk)
        sent += len(chunk)
        index += 1
    conn.send_bytes(END_OF_STREAM)
    conn.send((digest.hexdigest(), peak_rss_bytes()))
    conn.close()


def produce_numbers(q: Any, first: int, stop: int) -> None:
    """Runs in a producer child: put every whole number in ``range(first, stop)`` on ``q``.

    Sends nothing else; the parent adds the sentinels once every producer is done.
    """
    for number in range(first, stop):
        q.put(number)
    q.close()
    q.join_thread()  # exit only once every number has left this process


def consume_numbers(q: Any, results: Any) -> None:
    """Runs in a consumer child: take numbers off ``q`` until a ``None`` sentinel.

    Puts one ``(count, checksum)`` pair on ``results`` for what it took. A
    queue that stays silent for :data:`IDLE_TIMEOUT` seconds raises
    ``queue.Empty`` here, which the parent receives as a :class:`ChildError`.
    """
    count = 0
    taken = []
    while (number := q.get(timeout=IDLE_TIMEOUT)) is not None:
        taken.append(number)
        count += 1
    results.put((count, checksum(taken)))
    results.close()
    results.join_thread()


def echo_queue(inbox: Any, outbox: Any) -> None:
    """Runs in the child: put every item taken off ``inbox`` on ``outbox``, until ``None``.

    Sends each item back unchanged and in order, so one child can carry many
    round trips; a silent ``inbox`` for :data:`IDLE_TIMEOUT` seconds raises
    ``queue.Empty``, which the parent receives as a :class:`ChildError`.
    """
    while (item := inbox.get(timeout=IDLE_TIMEOUT)) is not None:
        outbox.put(item)
    outbox.close()
    outbox.join_thread()


def add_locked(value: Any, increments: int) -> None:
    """Runs in a child: add 1 to a shared ``Value`` ``increments`` times, each under its lock.

    Sends nothing back: the total in ``value`` is the result.
    """
    lock = value.get_lock()
    for _ in range(increments):
        with lock:  # read, add and write back as one step
            value.value += 1


def add_managed(value: Any, lock: Any, increments: int) -> None:
    """Runs in a child: add 1 to a managed value ``increments`` times, each under ``lock``.

    ``value`` and ``lock`` are proxies to objects in a manager's process; a
    managed ``Value`` carries no lock of its own, so a managed ``Lock`` guards it.
    """
    for _ in range(increments):
        with lock:
            value.value += 1


def send_then_hang_up(conn: Any, messages: list[Any], unused_end: Any = None) -> None:
    """Runs in the child: send each of ``messages`` through ``conn``, then close it.

    Also closes ``unused_end`` (the parent's end, when given) first, so that
    the parent's next ``recv()`` after the last message raises ``EOFError``.
    """
    if unused_end is not None:
        unused_end.close()
    for message in messages:
        conn.send(message)
    conn.close()


def echo_until_closed(conn: Any, unused_end: Any = None) -> None:
    """Runs in the child: send back every message received, until the parent hangs up.

    Closes ``unused_end`` (the parent's end) first: under fork the child holds
    a copy of it, and while any copy is open ``recv()`` can never see EOF.
    Returns normally on ``EOFError``; a silent parent for :data:`IDLE_TIMEOUT`
    seconds is an error.
    """
    if unused_end is not None:
        unused_end.close()
    while True:
        if not conn.poll(IDLE_TIMEOUT):
            raise TimeoutError(f"no message and no hang-up within {IDLE_TIMEOUT:g} s")
        try:
            message = conn.recv()
        except EOFError:
            break
        conn.send(message)
    conn.close()


def hold_lock(lock: Any, ready: Any, seconds: float) -> None:
    """Runs in the child: take ``lock``, say so through ``ready``, then keep it ``seconds``.

    Used to show what a child killed while holding a lock leaves behind: a
    lock nobody will ever release.
    """
    with lock:
        ready.send("locked")
        ready.close()
        time.sleep(seconds)


# --- drivers: each runs in the caller's process -------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """What :func:`pipe_transfer` saw: bytes received, both ends' digests, the sender's memory.

    ``sender_peak_bytes`` is the sender's :func:`peak_rss_bytes` (a forked
    sender's includes what it inherited from its parent).
    """

    received_bytes: int
    sent_digest: str
    received_digest: str
    sender_peak_bytes: int

    @property
    def intact(self) -> bool:
        """True when both ends hashed the same bytes."""
        return self.sent_digest == self.received_digest


@dataclass(frozen=True)
class Tally:
    """What :func:`move_through_queue` saw: counts and checksums, expected and taken."""

    expected_count: int
    expected_checksum: int
    count: int
    checksum: int

    @property
    def intact(self) -> bool:
        """True when nothing was lost and nothing was duplicated."""
        return (self.count, self.checksum) == (self.expected_count, self.expected_checksum)


def _remaining(deadline: float) -> float:
    # Never zero: a zero timeout means "do not wait at all" to some calls and
    # "wait forever" to none, but a tiny positive one is the same everywhere.
    return max(0.001, deadline - time.monotonic())


def _stop(children: list[Child]) -> None:
    """Stop whichever children still run (helpers.running.stop); report nothing."""
    for child in children:
        stop(child.process, grace=_GRACE)
        child.report.close()


def _poll_or_raise(conn: Any, deadline: float, what: str) -> None:
    if not conn.poll(_remaining(deadline)):
        raise TimeoutError(f"the {what} did not arrive before the deadline")


def receive_stream(conn: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Transfer:
    """Runs in the parent: read a stream sent by :func:`stream_bytes` and hash it.

    Raises ``TimeoutError`` if the whole stream has not arrived within
    ``timeout`` seconds, and ``EOFError`` if the sender hangs up (or dies) early.
    """
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    digest = hashlib.new(HASH_NAME)
    received = 0
    while True:
        _poll_or_raise(conn, deadline, f"chunk after byte {received}")
        chunk = conn.recv_bytes()
        if chunk == END_OF_STREAM:
            break
        digest.update(chunk)
        received += len(chunk)
    _poll_or_raise(conn, deadline, "sender's digest")
    sent_digest, sender_peak_bytes = conn.recv()
    return Transfer(received, sent_digest, digest.hexdigest(), sender_peak_bytes)


def pipe_transfer(
    ctx: BaseContext,
    total_bytes: int,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
) -> Transfer:
    """Send ``total_bytes`` from a child to this process through a one-way ``Pipe``.

    The child hashes what it sends, this process hashes what it receives;
    compare with :attr:`Transfer.intact`. Both ends are closed and the child
    joined before returning.
    """
    require_positive_int(total_bytes, "total_bytes")
    require_positive_int(chunk_bytes, "chunk_bytes", maximum=MAX_CHUNK_BYTES)
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    reader, writer = ctx.Pipe(duplex=False)
    try:
        child = start(ctx, stream_bytes, writer, total_bytes, chunk_bytes)
    finally:
        writer.close()  # only the child writes: its death must end our recv with EOFError
    try:
        transfer = receive_stream(reader, timeout=timeout)
        wait([child], timeout=_remaining(deadline))
    except EOFError:
        # The sender hung up early; its own error (or its signal) says why.
        wait([child], timeout=_GRACE)
        raise
    finally:
        reader.close()  # a sender still writing now fails instead of blocking
        _stop([child])
    return transfer


def move_through_queue(
    ctx: BaseContext,
    *,
    producers: int = 4,
    consumers: int = 4,
    messages: int = 100_000,
    timeout: float = DEFAULT_TIMEOUT,
) -> Tally:
    """Move ``messages`` whole numbers from producer children to consumer children.

    Each consumer gets one ``None`` sentinel after every producer has
    finished, and reports how many numbers it took and their checksum.
    """
    producers = require_positive_int(producers, "producers", maximum=MAX_LOAD_PROCESSES)
    consumers = require_positive_int(consumers, "consumers", maximum=MAX_LOAD_PROCESSES)
    messages = require_positive_int(messages, "messages")
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    work, results = ctx.Queue(), ctx.Queue()
    bounds = [messages * i // producers for i in range(producers + 1)]
    taking: list[Child] = []
    putting: list[Child] = []
    try:
        # Consumers first, so the queue is drained while producers fill it.
        taking += [start(ctx, consume_numbers, work, results) for _ in range(consumers)]
        putting += [
            start(ctx, produce_numbers, work, first, stop)
            for first, stop in itertools.pairwise(bounds)
        ]
        wait(putting, timeout=_remaining(deadline))
        for _ in taking:
            work.put(None)
        # Drain the results before joining the consumers: a child cannot exit
        # while what it put is still waiting in its queue's pipe.
        reports = []
        for _ in taking:
            try:
                reports.append(results.get(timeout=_remaining(deadline)))
            except queue.Empty:
                wait(taking, timeout=_GRACE)  # raises a consumer's own error if one died
                raise TimeoutError(f"the consumers did not report within {timeout:g} s") from None
        wait(taking, timeout=_remaining(deadline))
    finally:
        _stop(taking + putting)  # after an error: nobody is left behind
        for q in (work, results):
            q.close()
            q.join_thread()
    return Tally(
        expected_count=messages,
        expected_checksum=checksum(range(messages)),
        count=sum(count for count, _ in reports),
        checksum=sum(total for _, total in reports) % _CHECKSUM_MODULUS,
    )


def count_with_lock(
    ctx: BaseContext,
    *,
    processes: int = 8,
    increments: int = 5_000,
    managed: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> int:
    """Let ``processes`` children each add 1 ``increments`` times to one counter; return it.

    With ``managed=False`` the counter is a shared-memory ``Value`` and its
    own lock; with ``managed=True`` it is a ``Manager``'s value guarded by a
    managed lock, and the manager is shut down before returning.
    """
    processes = require_positive_int(processes, "processes", maximum=MAX_LOAD_PROCESSES)
    increments = require_positive_int(increments, "increments")
    if not isinstance(managed, bool):
        raise TypeError(f"managed must be True or False, not {type(managed).__name__} {managed!r}")
    require_timeout(timeout)
    if not managed:
        value = ctx.Value("q", 0)  # 64-bit: no count a test can reach overflows it
        wait([start(ctx, add_locked, value, increments) for _ in range(processes)], timeout=timeout)
        return value.value
    with ctx.Manager() as manager:
        value, lock = manager.Value("q", 0), manager.Lock()
        children = [start(ctx, add_managed, value, lock, increments) for _ in range(processes)]
        wait(children, timeout=timeout)
        return value.value
