"""The parent's side of each bulk channel, and how one child's transfers are timed.

Lifecycle: every function here starts its children through
:mod:`helpers.running`, joins them before it returns (stopping any that
overrun), shuts down the managers it starts, and closes and unlinks exactly
once — in a ``finally`` — every shared memory segment it creates. Every wait
is bounded by ``timeout`` seconds.

The channels that compete head to head share one child and take turns,
transfer by transfer, so a change in the machine's load hits them alike:
Array, SharedMemory and the memcpy limit (one child copying the same payload
into each); Pipe.send_bytes and the raw os.pipe limit (one child, one pipe).
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.bench.results import BULK_CHANNELS, BULK_LIMITS, Measurement, format_size
from helpers.running import Child, ChildError, ChildTimeout, start, wait
from helpers.validation import require_shm_room
from helpers.workers import bench as workers
from helpers.workers.pipes import receive

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "GRACE",
    "child",
    "expect",
    "left",
    "progress_bar",
    "time_channel",
    "watchdog",
]

# A child that failed first gets this long to report before it is stopped.
GRACE = 2.0


# --------------------------------------------------------------------------
# Bounded waits
# --------------------------------------------------------------------------


def left(deadline: float, what: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"{what} did not happen before the deadline")
    return left


def receive_by(conn: Any, deadline: float, what: str) -> Any:
    """Wait (bounded by ``deadline``) for one object on ``conn``."""
    return receive(conn, timeout=left(deadline, what), waiting_for=what)


def expect(conn: Any, deadline: float, word: str, what: str) -> tuple:
    message = receive_by(conn, deadline, what)
    if message[0] != word:
        raise RuntimeError(f"expected {word!r} from the child, got {message!r}")
    return message


def _stop_after_failure(child: Child, failure: BaseException) -> None:
    """After the parent failed: stop ``child``; if it had failed first, raise its error."""
    child.process.join(GRACE)
    failed_first = not child.process.is_alive()
    try:
        wait([child], timeout=GRACE)
    except ChildError as error:
        # A timeout or Ctrl-C is the parent's own story; otherwise the
        # child's exception is the one that explains what went wrong.
        if failed_first and not isinstance(failure, (KeyboardInterrupt, TimeoutError)):
            raise error from failure
    except ChildTimeout:
        pass


@contextmanager
def child(ctx: Context, target: Callable[..., Any], *args: Any, timeout: float) -> Iterator[Child]:
    """Start ``target`` in a child; join it on exit (stop it if the block failed)."""
    started = start(ctx, target, *args)
    try:
        yield started
    except BaseException as failure:
        _stop_after_failure(started, failure)
        raise
    started.wait(timeout)


@contextmanager
def watchdog(seconds: float, on_expiry: Callable[[], None], what: str) -> Iterator[None]:
    """Call ``on_expiry`` if the block runs longer than ``seconds``; then raise TimeoutError.

    For waits that take no timeout, or whose per-call timeout would cost as
    much as what is measured (``poll()`` before every ``recv()`` doubles a
    Pipe round trip here): stopping the other process makes the blocked call
    fail at once, so the block ends within ``seconds`` anyway.
    """
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        on_expiry()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as error:
        if fired.is_set():
            raise TimeoutError(f"{what} took longer than {seconds:g} s and was stopped") from error
        raise
    finally:
        timer.cancel()


# --------------------------------------------------------------------------
# The parent's side of each bulk channel
# --------------------------------------------------------------------------


def _nothing() -> None:
    """What a channel does when it has nothing to do at that step."""


@dataclass
class _Channel:
    """What the parent needs to run a channel: the child's worker and a receiver per name.

    ``receivers[name](ctrl, size, deadline)`` returns a buffer holding what
    arrived; ``reset()`` runs after each (untimed) check; ``stop()`` is the
    watchdog's way to end a wait on something other than the child (a
    Manager's server).
    """

    worker: Callable[..., None]
    args: tuple[Any, ...]
    receivers: Mapping[str, Callable[[Any, int, float], Any]]
    after_start: Callable[[], None] = _nothing
    reset: Callable[[], None] = _nothing
    stop: Callable[[], None] = _nothing


def _open_memory(ctx: Context, largest: int, stack: ExitStack, names: set[str]) -> _Channel:
    """Array, SharedMemory and memcpy: one child copies the payload into each in turn."""
    from multiprocessing import shared_memory

    import numpy as np

    # zero-filled here, so the parent touches it first, like a segment it reuses
    array = ctx.Array("B", largest) if "array" in names else None
    require_shm_room(largest, "the largest payload")
    segment = shared_memory.SharedMemory(create=True, size=largest)
    stack.callback(segment.unlink)  # runs after close(): exactly once, whatever happens
    stack.callback(segment.close)
    views: list[Any] = []

    def receiver(name: str) -> Callable[[Any, int, float], Any]:
        def receive_in_place(ctrl: Any, size: int, deadline: float) -> Any:
            expect(ctrl, deadline, "done", f"the child's copy ({name})")
            if name == "array" and array is not None:
                shared: Any = array.get_obj()
                return np.frombuffer(shared, dtype=np.uint8, count=size)
            # memcpy: the copy stayed in the child. The parent still reads as many
            # bytes of the segment (untimed, unchecked), as it does after the other
            # two, so that every transfer follows the same work: otherwise, in the
            # turns they take, the limit always came right after a 256 MiB check
            # and the channels only some of the time.
            views[:] = [np.ndarray((size,), dtype=np.uint8, buffer=segment.buf)]
            return views[0]

        return receive_in_place

    receivers = {name: receiver(name) for name in ("array", "shared_memory", "memcpy")}
    return _Channel(workers.memory_sender, (array, segment.name), receivers, reset=views.clear)


def _pipe_ends(ctx: Context, stack: ExitStack) -> tuple[Any, Any, Callable[[], None]]:
    reader, writer = ctx.Pipe(duplex=False)  # the same kind of pipe as os.pipe()
    stack.callback(reader.close)
    # Once the child has its copy, the parent closes the writing end, so a
    # child that dies makes the reader see end-of-file instead of waiting.
    return reader, writer, writer.close


def _open_pipes(ctx: Context, largest: int, stack: ExitStack, names: set[str]) -> _Channel:
    """One enlarged pipe, read raw (the os.pipe limit) or framed (Pipe.send_bytes)."""
    reader, writer, after_start = _pipe_ends(ctx, stack)
    workers.enlarge_pipe(writer.fileno())
    destination = memoryview(bytearray(largest))  # reused: faulted in once, by the warm-up
    # The raw reader takes the same steps as recv_bytes_into, less the header and
    # the Python objects: each piece into one small buffer, then copied into place.
    # (Letting the kernel write straight into the big destination ran slower here.)
    bounce = memoryview(bytearray(workers.RAW_PIPE_WRITE))
    fd = reader.fileno()

    def receive_raw(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:  # no select() per read: the watchdog bounds this loop
            count = os.readv(fd, [bounce[: min(len(bounce), size - got)]])
            if not count:
                raise EOFError("the child closed the pipe before sending everything")
            destination[got : got + count] = bounce[:count]
            got += count
        return destination[:size]

    def receive_framed(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:  # no poll() per chunk: the watchdog bounds this loop
            got += reader.recv_bytes_into(destination, got)
        return destination[:size]

    receivers = {"os_pipe": receive_raw, "pipe_bytes": receive_framed}
    return _Channel(workers.pipe_sender, (writer,), receivers, after_start)


def _open_queue(ctx: Context, largest: int, stack: ExitStack, names: set[str]) -> _Channel:
    import queue as queue_module

    queue = ctx.Queue()
    stack.callback(queue.join_thread)
    stack.callback(queue.close)
    destination = bytearray(largest)

    def receive_chunks(ctrl: Any, size: int, deadline: float) -> Any:
        got = 0
        while got < size:
            try:
                chunk = queue.get(timeout=left(deadline, "the Queue transfer"))
            except queue_module.Empty:
                raise TimeoutError(
                    "the Queue transfer did not finish before the deadline"
                ) from None
            destination[got : got + len(chunk)] = chunk
            got += len(chunk)
        return memoryview(destination)[:size]

    return _Channel(workers.queue_sender, (queue,), {"queue": receive_chunks})


def _open_pipe_pickle(ctx: Context, largest: int, stack: ExitStack, names: set[str]) -> _Channel:
    reader, writer, after_start = _pipe_ends(ctx, stack)

    def receive_array(ctrl: Any, size: int, deadline: float) -> Any:
        return reader.recv()  # bounded by the watchdog

    receivers = {"pipe_pickle": receive_array}
    return _Channel(workers.pipe_pickle_sender, (writer,), receivers, after_start)


def _open_manager(ctx: Context, largest: int, stack: ExitStack, names: set[str]) -> _Channel:
    manager = stack.enter_context(ctx.Manager())
    chunks = manager.list()
    destination = bytearray(largest)

    def receive_list(ctrl: Any, size: int, deadline: float) -> Any:
        expect(ctrl, deadline, "done", "the child's appends to the Manager list")
        fetched = chunks[:]  # one call: the server sends every chunk back
        got = 0
        for chunk in fetched:
            destination[got : got + len(chunk)] = chunk
            got += len(chunk)
        return memoryview(destination)[:size]

    def reset() -> None:
        del chunks[:]

    # A proxy call has no timeout: the watchdog shuts the server down instead.
    receivers = {"manager": receive_list}
    return _Channel(
        workers.manager_sender, (chunks,), receivers, reset=reset, stop=manager.shutdown
    )


Opener = Callable[["Context", int, ExitStack, set[str]], _Channel]
# Which opener serves each name: names that share an opener share one child.
OPENERS: dict[str, Opener] = {
    "array": _open_memory,
    "shared_memory": _open_memory,
    "memcpy": _open_memory,
    "pipe_bytes": _open_pipes,
    "os_pipe": _open_pipes,
    "queue": _open_queue,
    "pipe_pickle": _open_pipe_pickle,
    "manager": _open_manager,
}


def progress_bar(total: int, enabled: bool | None, what: str) -> Any:
    """A tqdm.auto bar, or a stand-in that ignores updates.

    Off by default under pytest (nbval sets PYTEST_CURRENT_TEST in the kernel),
    where a widget would only clutter the checked outputs.
    """
    if enabled is None:
        enabled = "PYTEST_CURRENT_TEST" not in os.environ
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm  # optional display dependency

    return tqdm(total=total, desc=what, unit="step", leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def key(name: str, chunk: int) -> tuple[str, int | None]:
    """(name, chunk), with chunk None for the channels that do not send in chunks."""
    return name, chunk if name in ("pipe_bytes", "queue", "manager") else None


def measurement(
    variant: tuple[str, int], size: int, samples: list[float], intact: bool
) -> Measurement:
    """A bulk :class:`Measurement`: the first sample is the warm-up."""
    name, chunk = key(*variant)
    return Measurement(
        name,
        {**BULK_CHANNELS, **BULK_LIMITS}[name],
        size,
        tuple(samples[1:]),
        limit=name in BULK_LIMITS,
        verified=intact,
        chunk=chunk,
        warm_up=samples[0],
    )


def time_channel(
    ctx: Context,
    variants: Sequence[tuple[str, int]],
    sizes: Sequence[int],
    *,
    repeats: int,
    timeout: float,
    bar: Any,
) -> list[Measurement]:
    """Time each (channel name, chunk) of ``variants`` at each size, with one child.

    The variants share that child and take turns transfer by transfer, so a
    change on the machine hits them alike. The parent times from its "go" to
    holding the data, then (untimed) checks its CRC-32 against the child's.
    """
    samples: dict[tuple[str, int, int], list[float]] = {}
    intact: dict[tuple[str, int, int], bool] = {}
    with ExitStack() as stack:
        names = {name for name, _ in variants}
        channel = OPENERS[variants[0][0]](ctx, max(sizes), stack, names)
        ctrl, child_ctrl = ctx.Pipe()
        stack.callback(ctrl.close)
        args = (child_ctrl, *channel.args, timeout)
        with child(ctx, channel.worker, *args, timeout=timeout) as running:
            child_ctrl.close()
            channel.after_start()

            def stop_both() -> None:  # whatever the parent waits on, this ends the wait
                running.process.terminate()
                channel.stop()

            for size in sizes:
                deadline = time.monotonic() + timeout
                ctrl.send(("size", size))
                crc = expect(ctrl, deadline, "ready", "the child's payload")[1]
                what = f"sending {format_size(size)} through {variants[0][0]} {repeats + 1} times"
                budget = timeout * (repeats + 1) * len(variants)
                with watchdog(budget, stop_both, what):
                    for repeat in range(repeats + 1):  # the first round is the warm-up
                        # Each round starts with the next variant, so none is always first.
                        turn = repeat % len(variants)
                        for name, chunk in [*variants[turn:], *variants[:turn]]:
                            key = (name, chunk, size)
                            deadline = time.monotonic() + timeout
                            began = time.perf_counter()
                            ctrl.send(("go", chunk, name))
                            received = channel.receivers[name](ctrl, size, deadline)
                            samples.setdefault(key, []).append(time.perf_counter() - began)
                            # Untimed, and for a limit too: each transfer follows the same work.
                            checksum = zlib.crc32(received)
                            good = name == "memcpy" or checksum == crc
                            intact[key] = intact.get(key, True) and good
                            del received
                            channel.reset()
                bar.update(len(variants))
            ctrl.send(("stop",))
    return [
        measurement((name, chunk), size, samples[name, chunk, size], intact[name, chunk, size])
        for name, chunk in variants
        for size in sizes
    ]
