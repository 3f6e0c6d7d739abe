"""Latency: one small message there and back (a round trip), through each channel.

Each echoing child runs a worker of :mod:`helpers.workers.bench`; the message
channels take turns, batch by batch, and the ``Value`` and ``RawValue`` go
last, each on its own, because their children spin on a CPU while they wait.
Each channel is held to a limit of its own kind (:data:`~helpers.bench.results.HELD_TO`):
a duplex ``Pipe`` (a socket pair) and a Manager (a socket) to a raw socket
pair, one-way ``Pipe`` objects and a ``Queue`` to a raw ``os.pipe``, the ``Value``
to a ``RawValue``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from helpers.bench.channels import child, watchdog
from helpers.bench.experiments import TRANSFER_TIMEOUT, check_common, require_names
from helpers.bench.results import (
    DEFAULT_REPEATS,
    LATENCY_CHANNELS,
    LATENCY_LIMITS,
    Measurement,
    Results,
)
from helpers.validation import require_positive_int
from helpers.workers import bench as workers

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["MAX_ROUND_TRIPS", "measure_latency"]

MAX_ROUND_TRIPS = 100_000


def _pipe_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    here, there = ctx.Pipe()  # duplex: what Pipe() gives by default
    stack.callback(here.close)

    def one_round(number: int) -> None:
        here.send(number)
        here.recv()

    return workers.pipe_echo, (there, rounds), there.close, one_round


def _pipe_oneway_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    from_parent, to_child = ctx.Pipe(duplex=False)  # (reader, writer): an os.pipe each
    from_child, to_parent = ctx.Pipe(duplex=False)
    for end in (to_child, from_child):
        stack.callback(end.close)

    def after_start() -> None:
        from_parent.close()
        to_parent.close()

    def one_round(number: int) -> None:
        to_child.send(number)
        from_child.recv()

    return workers.oneway_echo, (from_parent, to_parent, rounds), after_start, one_round


def _socket_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    here, there = ctx.Pipe()  # duplex: a socket pair, read and written raw
    stack.callback(here.close)
    fd = here.fileno()

    def one_round(number: int) -> None:
        os.write(fd, b"!")
        if not os.read(fd, 1):
            raise EOFError("the child closed the socket")

    return workers.os_pipe_echo, (there, there, rounds), there.close, one_round


def _queue_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    inbox, outbox = ctx.Queue(), ctx.Queue()
    for q in (inbox, outbox):
        stack.callback(q.join_thread)
        stack.callback(q.close)

    def one_round(number: int) -> None:
        inbox.put(number)
        outbox.get(timeout=timeout)

    return workers.queue_echo, (inbox, outbox, rounds, timeout), lambda: None, one_round


def _value_ping(
    ctx: Context, stack: ExitStack, rounds: int, timeout: float, *, lock: bool = True
) -> tuple:
    value = ctx.Value("q", 0) if lock else ctx.RawValue("q", 0)

    def one_round(number: int) -> None:
        value.value = 2 * number + 1
        workers.spin_until(value, 2 * number + 2, time.monotonic() + timeout)

    return workers.value_echo, (value, rounds, timeout), lambda: None, one_round


def _os_pipe_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    from_parent, to_child = ctx.Pipe(duplex=False)  # (reader, writer)
    from_child, to_parent = ctx.Pipe(duplex=False)
    for end in (to_child, from_child):
        stack.callback(end.close)

    def after_start() -> None:
        from_parent.close()
        to_parent.close()

    def one_round(number: int) -> None:
        os.write(to_child.fileno(), b"!")
        if not os.read(from_child.fileno(), 1):
            raise EOFError("the child closed the raw pipe")

    return workers.os_pipe_echo, (from_parent, to_parent, rounds), after_start, one_round


def _raw_value_ping(ctx: Context, stack: ExitStack, rounds: int, timeout: float) -> tuple:
    return _value_ping(ctx, stack, rounds, timeout, lock=False)


_PINGS = {
    "pipe": _pipe_ping,
    "pipe_oneway": _pipe_oneway_ping,
    "queue": _queue_ping,
    "value": _value_ping,
    "os_pipe": _os_pipe_ping,
    "socket": _socket_ping,
    "raw_value": _raw_value_ping,
}
# Their children spin while they wait: each runs on its own, after the others.
SPINNERS = ("value", "raw_value")


def _open_ping(
    ctx: Context, name: str, stack: ExitStack, rounds: int, timeout: float
) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Open channel ``name`` and start its echoing child: (one round trip, how to stop it)."""
    if name == "manager":  # the server is the other side: no child of ours
        manager = stack.enter_context(ctx.Manager())
        state = manager.dict({"ping": 0})

        def proxy_call(number: int) -> None:
            state.get("ping")

        def shut_down() -> None:
            manager.shutdown()

        return proxy_call, shut_down
    worker, args, after_start, one_round = _PINGS[name](ctx, stack, rounds, timeout)
    echo = stack.enter_context(child(ctx, worker, *args, timeout=timeout))
    after_start()
    return one_round, echo.process.terminate


def _ping_pongs(
    ctx: Context, names: list[str], rounds: int, repeats: int, timeout: float
) -> dict[str, list[float]]:
    """Open every channel in ``names``, then time ``rounds`` round trips each, in turns.

    Taking turns batch by batch means a change in the machine's load during
    the run hits every channel alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in names}
    with ExitStack() as stack:
        opened = {
            name: _open_ping(ctx, name, stack, rounds * (repeats + 1), timeout) for name in names
        }

        def stop_all() -> None:
            for _, stop in opened.values():
                stop()

        budget = timeout * (repeats + 1) * len(names)
        with watchdog(budget, stop_all, "the round trips"):
            for repeat in range(repeats + 1):
                for name, (one_round, _) in opened.items():
                    started = time.perf_counter()
                    for number in range(repeat * rounds, (repeat + 1) * rounds):
                        one_round(number)
                    samples[name].append((time.perf_counter() - started) / rounds)
    return samples


def measure_latency(
    ctx: Context,
    *,
    channels: Any = tuple(LATENCY_CHANNELS),
    limits: Any = tuple(LATENCY_LIMITS),
    round_trips: int = 2000,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time one small message there and back (a **round trip**) through each channel.

    Each repeat times ``round_trips`` round trips and keeps the average. The
    message channels and their limits take turns, repeat by repeat; the
    ``Value`` and the ``RawValue`` go last, each on its own, because their
    children spin on a CPU while they wait. ``timeout``
    bounds every wait.
    """
    ctx, repeats, timeout = check_common(ctx, repeats, timeout)
    round_trips = require_positive_int(round_trips, "round_trips", maximum=MAX_ROUND_TRIPS)
    names = require_names(limits, LATENCY_LIMITS, "limits") if limits else []
    names += require_names(channels, LATENCY_CHANNELS, "channels")
    samples: dict[str, list[float]] = {}
    batches = [[n for n in names if n not in SPINNERS], *([n] for n in names if n in SPINNERS)]
    for batch in batches:
        if batch:
            samples.update(_ping_pongs(ctx, batch, round_trips, repeats, timeout))
    labels = {**LATENCY_CHANNELS, **LATENCY_LIMITS}
    return Results(
        "latency",
        [
            Measurement(
                name,
                labels[name],
                0,
                tuple(samples[name][1:]),
                limit=name in LATENCY_LIMITS,
                warm_up=samples[name][0],
            )
            for name in names
        ],
        repeats=repeats,
    )
