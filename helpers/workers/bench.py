"""Lesson 05 (Which channel when): the benchmark's workers, which run in a child.

Each worker sends the payload (or an echo) to the parent. This is the only
module of the benchmark a child imports (:mod:`helpers.bench` is the parent's
side), so it stays
light: the standard library's small modules only — no dataclasses, no typing,
no numpy at import (the workers that copy with numpy import it when they run).
Children never print: they send data, checksums and "done" back.

Every worker that moves a payload obeys the parent's commands on ``ctrl``
(:func:`_serve`): ``("size", n)`` builds the payload and answers
``("ready", crc32)``; ``("go", chunk, name)`` sends it through the channel
called ``name``; ``("stop",)`` ends the child. Every wait has a timeout.

>>> len(make_payload(100_000)), format(PIPE_CHUNK, ",")
(100000, '131,072')
"""

from __future__ import annotations

import os
import random
import time
import zlib

# Children import this module: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "MANAGER_CHUNK",
    "PIPE_BUFFER",
    "PIPE_CHUNK",
    "QUEUE_CHUNK",
    "RAW_PIPE_WRITE",
    "KiB",
    "MiB",
    "enlarge_pipe",
    "fresh_segment_sender",
    "make_payload",
    "manager_sender",
    "memory_at_start",
    "memory_sender",
    "oneway_echo",
    "os_pipe_echo",
    "pipe_echo",
    "pipe_pickle_sender",
    "pipe_sender",
    "queue_echo",
    "queue_sender",
    "raise_after",
    "seed_writer",
    "set_after",
    "shared_memory_sender",
    "started",
    "value_echo",
]

KiB = 1024
MiB = 1024 * KiB

# A Linux pipe holds 64 KiB unless asked for more; an unprivileged process may
# enlarge it up to /proc/sys/fs/pipe-max-size (1 MiB by default). A bigger pipe
# lets the writer run ahead while the reader copies: fewer switches between them.
PIPE_BUFFER = 1 * MiB
# Chunk sizes, chosen by measuring (see ``measure_chunks``). Connection copies
# each message twice on the way in (into a bytes object, then into the
# buffer): a chunk that fits the CPU cache keeps those copies cheap, and an
# eighth of the pipe keeps the writer busy while the reader copies.
PIPE_CHUNK = 128 * KiB
# The raw pipe, the limit for Pipe.send_bytes, writes and reads the same
# pieces as its chunks: the same system calls on the same data, less the
# 4-byte header, the extra read and the copy out of a bytes object.
RAW_PIPE_WRITE = PIPE_CHUNK
# Queue pickles each chunk in a feeder thread: a few hundred KiB amortises
# the per-item cost without big fresh allocations.
QUEUE_CHUNK = 256 * KiB
# Every Manager call is a round trip to the server, so bigger items pay fewer.
MANAGER_CHUNK = 1 * MiB
# The payload repeats a random block whose length is prime, so no chunk of
# a power-of-two size equals another: lost, duplicated or reordered chunks
# change the CRC-32.
_PERIOD = 65521


def make_payload(size: int) -> bytearray:
    """The bytes a child sends: deterministic, not periodic in any power of two.

    Filled in place, block by block, so a 256 MiB payload needs 256 MiB, not twice that.
    """
    block = random.Random(_PERIOD).randbytes(_PERIOD)
    payload = bytearray(size)
    for offset in range(0, size, _PERIOD):
        payload[offset : offset + _PERIOD] = block[: size - offset]
    return payload


def enlarge_pipe(fd: int, size: int = PIPE_BUFFER) -> int:
    """Ask the kernel for a ``size``-byte pipe buffer (Linux); return the size it has now.

    Where ``fcntl.F_SETPIPE_SZ`` does not exist (macOS, Windows), or the kernel
    refuses, the pipe keeps its size.
    """
    try:
        import fcntl  # Unix only
    except ImportError:  # Windows
        return 0
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is None:
        return 0
    try:
        return fcntl.fcntl(fd, setter, size)
    except OSError:
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def _serve(ctrl: Any, send: Callable[..., None], timeout: float) -> None:
    """Runs in the child: obey the parent's commands on ``ctrl`` until "stop"."""
    payload = memoryview(b"")
    while True:
        if not ctrl.poll(timeout):
            raise TimeoutError(f"the parent sent no command for {timeout:g} s")
        command = ctrl.recv()
        if command[0] == "stop":
            return
        if command[0] == "size":
            payload = memoryview(make_payload(command[1]))
            ctrl.send(("ready", zlib.crc32(payload)))
        else:
            send(payload, *command[1:])


def _copy(destination: Any, payload: memoryview) -> None:
    import numpy as np  # only the children that copy need it

    # The views live only inside this call: a numpy view still alive when
    # segment.close() runs would make close() fail ("exported pointers exist").
    into = np.frombuffer(destination, dtype=np.uint8, count=len(payload))
    np.copyto(into, np.frombuffer(payload, dtype=np.uint8))


def memory_sender(ctrl: Any, array: Any, segment_name: str, timeout: float) -> None:
    """Runs in the child: on "go", copy the payload into shared memory (or private), say "done".

    ``"array"``: into the ``Array``, under one acquisition of its lock;
    ``"shared_memory"``: into the segment attached once; ``"memcpy"``: the
    same copy into this child's own memory — the limit, doing the same read
    and write from the same process. Nothing else moves: the parent reads
    shared memory in place.
    """
    import mmap
    from multiprocessing import shared_memory

    segment = shared_memory.SharedMemory(name=segment_name)
    # Page-aligned like the segment, but mapped by this child alone. (A bytearray
    # starts a few bytes into its allocation, and copies into it ran slower.)
    private = mmap.mmap(-1, segment.size)
    try:

        def send(payload: memoryview, chunk: int, name: str) -> None:
            if name == "array":
                with array.get_lock():
                    _copy(array.get_obj(), payload)
            else:
                _copy(segment.buf if name == "shared_memory" else private, payload)
            ctrl.send(("done",))

        _serve(ctrl, send, timeout)
    finally:
        segment.close()
        private.close()


def shared_memory_sender(segment: Any, size: int) -> None:
    """Runs in the child: write ``size`` bytes 0, 1, … 250, 0, 1, … into ``segment``; close it.

    The lesson's fastest path: numpy writes straight into memory the parent
    maps too, so nothing is copied on the way. The parent created the segment:
    it reads the bytes in place, then closes and unlinks it.
    """
    import numpy as np  # only this child needs it

    view = np.ndarray((size,), dtype=np.uint8, buffer=segment.buf)
    view[:] = np.resize(np.arange(251, dtype=np.uint8), size)
    del view  # no view may outlive close()
    segment.close()


def fresh_segment_sender(ctrl: Any, timeout: float) -> None:
    """Runs in the child: on ("go", 0, name) attach that new segment, copy in, close, say "done".

    Every transfer writes to pages nobody has touched yet: the first-touch case.
    """
    from multiprocessing import shared_memory

    def send(payload: memoryview, chunk: int, name: str) -> None:
        segment = shared_memory.SharedMemory(name=name)
        try:
            _copy(segment.buf, payload)
        finally:
            segment.close()
        ctrl.send(("done",))

    _serve(ctrl, send, timeout)


def pipe_sender(ctrl: Any, conn: Any, timeout: float) -> None:
    """Runs in the child: send the payload through one pipe, raw or framed, as told.

    ``"os_pipe"``: ``os.write`` of pipe-sized pieces straight to the
    descriptor — no framing, no Python objects: the limit for anything that
    uses a pipe. ``"pipe_bytes"``: ``conn.send_bytes(buffer, offset, size)``
    per ``chunk`` — no copy of the chunk, plus a 4-byte header. Both use the
    same (enlarged) pipe between the same two processes, taking turns.
    """
    fd = conn.fileno()

    def send(payload: memoryview, chunk: int, name: str) -> None:
        if name == "os_pipe":
            written = 0
            while written < len(payload):
                written += os.write(fd, payload[written : written + RAW_PIPE_WRITE])
            return
        for offset in range(0, len(payload), chunk):
            conn.send_bytes(payload, offset, min(chunk, len(payload) - offset))

    _serve(ctrl, send, timeout)


def queue_sender(ctrl: Any, queue: Any, timeout: float) -> None:
    """Runs in the child: on "go", put the payload on ``queue`` as ``bytes`` chunks.

    A Queue pickles what it is given, so each chunk is copied into a bytes object.
    """

    def send(payload: memoryview, chunk: int, name: str) -> None:
        for offset in range(0, len(payload), chunk):
            queue.put(payload[offset : offset + chunk].tobytes())

    _serve(ctrl, send, timeout)


def pipe_pickle_sender(ctrl: Any, conn: Any, timeout: float) -> None:
    """Runs in the child: on "go", ``conn.send`` the payload as one numpy array (pickled)."""
    import numpy as np  # only this child needs it

    def send(payload: memoryview, chunk: int, name: str) -> None:
        conn.send(np.frombuffer(payload, dtype=np.uint8))

    _serve(ctrl, send, timeout)


def manager_sender(ctrl: Any, chunks: Any, timeout: float) -> None:
    """Runs in the child: on "go", append the payload to a Manager list in chunks; say "done".

    Each append is a round trip to the manager's server process, which keeps
    the chunks; the parent then fetches them from the server: two hops.
    """

    def send(payload: memoryview, chunk: int, name: str) -> None:
        for offset in range(0, len(payload), chunk):
            chunks.append(payload[offset : offset + chunk].tobytes())
        ctrl.send(("done",))

    _serve(ctrl, send, timeout)


def started(report: Any = None) -> None:
    """Runs in the child: import numpy, as the data workers here do, and nothing else.

    What starting such a worker costs, its imports included: a child that
    inherited numpy (from its parent under fork, from a fork server that
    preloaded it) finds it already there. Given ``report`` (a Pipe end), it
    sends ``(ns when it began, ns when numpy was there, memory_at_start())``.
    """
    began, memory = time.monotonic_ns(), memory_at_start()
    import numpy  # noqa: F401 - importing it is the work being timed

    if report is not None:
        report.send((began, time.monotonic_ns(), memory))
        report.close()


def memory_at_start() -> dict:
    """This process's resident memory and page-table size, in KiB (Linux; else ``{}``).

    Read first thing in a child: under fork it is what the child got from its
    parent — fork copies the parent's page tables, entry by entry.
    """
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:  # no /proc (macOS, Windows)
        return {}
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmPTE") if key in fields}


def set_after(flag: Any, seconds: float) -> None:
    """Runs in the child: sleep ``seconds``, then set the ``Event`` ``flag``: "ready"."""
    time.sleep(seconds)
    flag.set()


def raise_after(value: Any, seconds: float) -> None:
    """Runs in the child: sleep ``seconds``, then set the shared ``Value`` to 1: "ready"."""
    time.sleep(seconds)
    value.value = 1


# --------------------------------------------------------------------------
# Latency: each echo runs in a child and sends back what arrives
# --------------------------------------------------------------------------


def pipe_echo(conn: Any, rounds: int) -> None:
    """Runs in the child: send back each of ``rounds`` objects that arrive on ``conn``.

    No ``poll()`` before ``recv()``: here it would cost as much as the round
    trip itself. The wait is still bounded: the parent's watchdog stops this
    child if it overruns, and a parent that goes away closes the pipe (EOF).
    """
    for _ in range(rounds):
        conn.send(conn.recv())


def oneway_echo(inbox: Any, outbox: Any, rounds: int) -> None:
    """Runs in the child: send on ``outbox`` each of ``rounds`` objects from ``inbox``.

    Two one-way Pipes (an ``os.pipe`` each), bounded like :func:`pipe_echo`.
    """
    for _ in range(rounds):
        outbox.send(inbox.recv())


def queue_echo(inbox: Any, outbox: Any, rounds: int, timeout: float) -> None:
    """Runs in the child: put on ``outbox`` each of ``rounds`` items taken from ``inbox``."""
    for _ in range(rounds):
        outbox.put(inbox.get(timeout=timeout))


def os_pipe_echo(inbox: Any, outbox: Any, rounds: int) -> None:
    """Runs in the child: write back each byte read from ``inbox``'s descriptor, raw.

    Two one-way pipes, or one socket pair given twice (``inbox is outbox``).

    Bounded like :func:`pipe_echo`: by the parent's watchdog, or EOF.
    """
    fd_in, fd_out = inbox.fileno(), outbox.fileno()
    for _ in range(rounds):
        os.write(fd_out, os.read(fd_in, 1))


def spin_until(value: Any, wanted: int, deadline: float) -> None:
    """Wait, looking again and again, until the shared ``value`` holds ``wanted``."""
    # Reading value.value takes and releases the Value's lock each time.
    while value.value != wanted:
        # Offer the CPU to others between looks: on a machine with fewer free
        # cores than spinners, the process we wait for may need this one.
        os.sched_yield()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Value did not become {wanted} before the deadline")


def value_echo(value: Any, rounds: int, timeout: float) -> None:
    """Runs in the child: wait (spinning) for each odd number in ``value``, answer it + 1.

    No message at all: both processes poll the same shared int, so this is the
    floor for shared memory — and it keeps a CPU core busy while it waits.
    """
    for number in range(1, 2 * rounds, 2):
        spin_until(value, number, time.monotonic() + timeout)
        value.value = number + 1


def seed_writer(array: Any, outbox: Any, repeats: int) -> None:
    """Runs in the child: write squares into the locked ``array`` both ways, send timings.

    For each run it sends ``(loop_seconds, bulk_seconds, loop_crc, bulk_crc)``:
    element by element (``result[i] = n * n``: one lock round per element),
    then, after zeroing, one numpy copy under one lock.
    """
    import numpy as np  # only this child needs it

    squares = np.arange(len(array), dtype=np.int64) ** 2
    as_list = squares.tolist()
    whole = np.frombuffer(array.get_obj(), dtype=np.int64)
    for _ in range(repeats + 1):
        began = time.perf_counter()
        for index, square in enumerate(as_list):
            array[index] = square
        looped = time.perf_counter() - began
        loop_crc = zlib.crc32(whole.data)
        whole[:] = 0
        began = time.perf_counter()
        with array.get_lock():
            np.copyto(whole, squares)
        outbox.send((looped, time.perf_counter() - began, loop_crc, zlib.crc32(whole.data)))
