"""Lesson 03 (Queues): producers put items, consumers get them, a sentinel says "no more".

``ctx.Queue()`` is a first-in, first-out channel between processes. ``put()``
hands an object to a **feeder thread** in the putting process, which pickles
it and writes the bytes into an OS pipe; ``get()`` reads the next message
from that pipe and unpickles it, under a lock, so each item reaches exactly one
consumer. This module holds the workers the lesson's children run, and
notebook-side helpers that check their input first and never wait without a
limit.

Lifecycle: a process that has put items cannot exit until its feeder thread
has written them all into the pipe, so the parent drains a queue *before* it
joins the children that fill it. Whoever is done with a queue calls
``close()``, then ``join_thread()`` to wait until its own items have left.

>>> in_producer_order([("producer-1", 0, 5), ("producer-2", 0, 7), ("producer-1", 1, 6)])
True
"""

from __future__ import annotations

import itertools
import numbers
import queue
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.running import (
    DEFAULT_TIMEOUT,
    CallTimeout,
    Child,
    ChildError,
    ChildTimeout,
    call_with_timeout,
    start,
    wait,
)
from helpers.timeline import Event, collect, now
from helpers.validation import require_context, require_positive_int, require_timeout
from helpers.workers.queues import (
    DEFAULT_GET_TIMEOUT,
    SENTINEL,
    QueueTimeout,
    put_numbered,
    put_payload,
    put_squares,
    put_tagged,
    put_unpicklable,
    take_until_empty,
    take_until_sentinel,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "DEFAULT_GET_TIMEOUT",
    "MAX_ITEMS",
    "MAX_QUEUE_PROCESSES",
    "MAX_WORK",
    "SENTINEL",
    "QueueTimeout",
    "WorkReport",
    "collect_reports",
    "drain",
    "in_producer_order",
    "interleaved",
    "join_within",
    "put_numbered",
    "put_payload",
    "put_squares",
    "put_tagged",
    "put_unpicklable",
    "share_work",
    "start_consumers",
    "take",
    "take_until_empty",
    "take_until_sentinel",
]


# How often a waiting parent looks up from the queue to check on its children:
# a child that dies is noticed within about this long.
POLL_INTERVAL = 0.1
# A get still running this long after its own timeout is stuck inside an item.
STUCK_AFTER = 1.0
MAX_ITEMS = 10_000  # enough to see the work spread; small enough to finish in a second
MAX_QUEUE_PROCESSES = 8  # producers + consumers; more only queue up for the same cores
MAX_WORK = 0.01  # seconds of pretend work per item: enough to spread the load, not to bore
MAX_BUSY = 10.0  # seconds of pretend work per consumer in one share_work call, at most


# --------------------------------------------------------------------------
# Notebook-side helpers: check input first, wait with a limit
# --------------------------------------------------------------------------


def _require_children(watch: Any) -> list[Child]:
    if isinstance(watch, Child) or not isinstance(watch, Iterable):
        raise TypeError(f"watch must be a list of children from start(), not {watch!r}")
    children = list(watch)
    for child in children:
        if not isinstance(child, Child):
            raise TypeError(f"watch must hold children from start(), not {child!r}")
    return children


def _raise_if_one_failed(children: list[Child]) -> None:
    """Raise ``ChildError`` for the first child that has exited with an error."""
    for child in children:
        if child.process.exitcode not in (None, 0):
            try:
                wait([child], timeout=POLL_INTERVAL)  # joins it, reads its report, raises
            except ChildError as err:
                # Raised afresh, without the frames of wait() that hold the error:
                # that cycle would keep the caller's queues alive until the next GC.
                raise err.with_traceback(None) from None


def _get(q: Any, timeout: float, *, deadline: float, children: list[Child]) -> Any:
    """``q.get(timeout=timeout)`` that cannot outlast ``deadline``; ``queue.Empty`` as usual.

    ``Queue.get``'s own timeout bounds only the wait for an item to *begin*. A
    producer killed while writing an item bigger than the pipe leaves half of
    it, and ``get()`` then waits for the rest for ever: this process's own copy
    of the queue's write end keeps end-of-file from arriving. So the get goes
    through :func:`~helpers.running.call_with_timeout`: a missed ``deadline`` is
    raised as :class:`QueueTimeout`, and a get still running :data:`STUCK_AFTER`
    seconds past its own timeout, stuck inside an item, ends at once if one of
    ``children`` failed. A get that may still return is never left behind: the
    item it took would be lost, and the next reader would wait for it in vain.
    The callers check ``children`` between gets.
    """
    stuck_from = time.monotonic() + timeout + STUCK_AFTER

    def if_stuck_check_children() -> None:
        if time.monotonic() >= stuck_from:
            _raise_if_one_failed(children)

    limit = max(timeout + STUCK_AFTER, deadline - time.monotonic())
    try:
        return call_with_timeout(
            lambda: q.get(timeout=timeout),
            timeout=limit,
            what="queue get",
            while_waiting=if_stuck_check_children,
            every=POLL_INTERVAL,
        )
    except CallTimeout:
        raise QueueTimeout(
            "an item began to arrive but was not finished before the deadline: "
            "did its producer die while putting it?"
        ) from None
    except queue.Empty:
        raise queue.Empty from None  # without frames that would pin the queue


def take(
    q: Any, count: int, *, watch: Iterable[Child] = (), timeout: float = DEFAULT_TIMEOUT
) -> list[Any]:
    """In the caller's process: get ``count`` items from ``q`` within ``timeout`` seconds.

    If a child in ``watch`` dies meanwhile, raise its ``ChildError`` at once
    instead of waiting out the timeout.
    """
    count = require_positive_int(count, "count")
    timeout = require_timeout(timeout)
    children = _require_children(watch)
    deadline = time.monotonic() + timeout
    items: list[Any] = []
    while len(items) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueueTimeout(
                f"waited {timeout:g} s for {_plural(count, 'item')} and got {len(items)}"
            )
        try:
            items.append(
                _get(q, min(POLL_INTERVAL, remaining), deadline=deadline, children=children)
            )
        except queue.Empty:
            _raise_if_one_failed(children)
    return items


def drain(q: Any, *, quiet: float = 0.5, limit: int = MAX_ITEMS) -> list[Any]:
    """In the caller's process: get items until none comes for ``quiet`` seconds.

    For a queue whose producers are gone, when nobody knows how many items
    made it. Stops after ``limit`` items, so it always ends.
    """
    quiet = require_timeout(quiet, "quiet")
    limit = require_positive_int(limit, "limit")
    items: list[Any] = []
    while len(items) < limit:
        try:
            items.append(_get(q, quiet, deadline=time.monotonic() + quiet, children=[]))
        except queue.Empty:
            break
    return items


def collect_reports(
    results: Any, count: int, *, watch: Iterable[Child] = (), timeout: float = DEFAULT_TIMEOUT
) -> dict[str, list[Any]]:
    """In the caller's process: get ``count`` consumer reports, as ``{label: items}``.

    Each consumer sends ``(label, items)`` once, when it stops; labels must
    differ. Call this *before* joining the consumers: they cannot exit until
    their report has left. A child in ``watch`` that dies is reported at once.
    """
    count = require_positive_int(count, "count")
    timeout = require_timeout(timeout)
    children = _require_children(watch)
    deadline = time.monotonic() + timeout
    reports: dict[str, list[Any]] = {}
    while len(reports) < count:
        _raise_if_one_failed(children)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueueTimeout(
                f"waited {timeout:g} s for {_plural(count, 'consumer report')} "
                f"and got {len(reports)}: "
                "did every consumer get a sentinel?"
            )
        try:
            label, items = _get(
                results, min(POLL_INTERVAL, remaining), deadline=deadline, children=children
            )
        except queue.Empty:
            continue
        if label in reports:
            raise ValueError(f"two consumers reported as {label!r}: give each its own label")
        reports[label] = items
    return reports


def start_consumers(ctx: Context, q: Any, results: Any, count: int, **options: Any) -> list[Child]:
    """Start ``count`` :func:`take_until_sentinel` children labelled consumer-1, consumer-2, …

    ``options`` go to the worker (``mark_done``, ``work``, ``events``, ``timeout``). The caller owes
    each of them one :data:`SENTINEL`, then collects their reports, then joins them.
    """
    require_context(ctx, needs=("Queue",))
    count = require_positive_int(count, "count", maximum=MAX_QUEUE_PROCESSES)
    if "timeout" in options:
        require_timeout(options["timeout"])
    consumers = []
    for number in range(1, count + 1):
        label = f"consumer-{number}"
        consumers.append(
            start(ctx, take_until_sentinel, q, results, label=label, name=label, **options)
        )
    return consumers


def join_within(q: Any, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """In the caller's process: ``q.join()`` with a limit; True if every task was done.

    ``JoinableQueue.join()`` itself has no timeout, so it runs through
    :func:`~helpers.running.call_with_timeout`. On False, its daemon thread keeps
    waiting until the missing ``task_done()`` calls arrive; it never blocks the kernel.
    """
    timeout = require_timeout(timeout)
    if not callable(getattr(q, "join", None)) or not callable(getattr(q, "task_done", None)):
        raise TypeError(f"join_within needs a JoinableQueue, not {type(q).__name__}")
    try:
        call_with_timeout(q.join, timeout=timeout, what="JoinableQueue.join")
    except CallTimeout:
        return False
    return True


def in_producer_order(taken: Iterable[tuple[str, int, Any]]) -> bool:
    """True if, for each producer label, the positions only ever go up.

    ``taken`` holds ``(label, position, value)`` items as :func:`put_tagged`
    puts them, in the order one consumer took them.

    >>> in_producer_order([("producer-1", 1, 6), ("producer-1", 0, 5)])
    False
    """
    last: dict[str, int] = {}
    for label, position, _value in taken:
        if position <= last.get(label, -1):
            return False
        last[label] = position
    return True


def interleaved(taken: Iterable[tuple[str, int, Any]]) -> bool:
    """True if items of different producers are mixed, not one producer's block after another.

    >>> interleaved([("A", 0, 1), ("A", 1, 2), ("B", 0, 3)])
    False
    >>> interleaved([("A", 0, 1), ("B", 0, 3), ("A", 1, 2)])
    True
    """
    labels = [label for label, _position, _value in taken]
    blocks = sum(1 for _label, _block in itertools.groupby(labels))
    return blocks > len(set(labels))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass(frozen=True)
class WorkReport:
    """What :func:`share_work` saw: which consumer took which ``(producer, position, value)``.

    ``events`` is its timeline (one :class:`helpers.timeline.Event` per item a
    consumer took, named after the consumer and the item's producer), and
    ``t0`` the moment the first child was started, on the same clock.
    """

    n_items: int
    n_producers: int
    n_consumers: int
    handled: dict[str, list[tuple[str, int, int]]]
    events: Sequence[Event] = ()
    t0: int | None = None

    def draw(self) -> Any:
        """The timeline as a chart: one row per consumer, one colour per producer."""
        from helpers.timeline import draw  # only the parent draws

        rows = [f"consumer-{number}" for number in range(1, self.n_consumers + 1)]
        title = "which consumer took which producer's item, and when"
        return draw(self.events, t0=self.t0, rows=rows, title=title)

    @property
    def values(self) -> list[int]:
        return [value for items in self.handled.values() for _label, _pos, value in items]

    @property
    def lost(self) -> int:
        return len(set(range(1, self.n_items + 1)) - set(self.values))

    @property
    def duplicated(self) -> int:
        return len(self.values) - len(set(self.values))

    @property
    def checksum(self) -> int:
        return sum(self.values)

    @property
    def expected_checksum(self) -> int:
        return self.n_items * (self.n_items + 1) // 2  # 1 + 2 + … + n

    @property
    def in_order(self) -> bool:
        return all(in_producer_order(items) for items in self.handled.values())

    def summary(self) -> str:
        """The lines that do not depend on how the work happened to be split."""
        return "\n".join(
            [
                f"{_plural(self.n_items, 'item')} from {_plural(self.n_producers, 'producer')}"
                f" to {_plural(self.n_consumers, 'consumer')}",
                f"taken: {len(self.values)}, lost: {self.lost}, duplicated: {self.duplicated}",
                f"checksum: {self.checksum} (expected {self.expected_checksum})",
                "each producer's items arrived in order"
                if self.in_order
                else "some producer's items arrived out of order",
            ]
        )

    def __str__(self) -> str:
        lines = []
        for consumer in sorted(self.handled, key=lambda label: int(label.rsplit("-", 1)[1])):
            items = self.handled[consumer]
            sources = Counter(label for label, _pos, _value in items)
            split = ", ".join(f"{sources[p]} from {p}" for p in sorted(sources))
            lines.append(f"{consumer} took {_plural(len(items), 'item')}: {split or 'none'}")
        return "\n".join([*lines, self.summary()])


def _require_work(work: Any) -> float:
    if isinstance(work, bool) or not isinstance(work, numbers.Real):
        raise TypeError(f"work must be a number of seconds per item, not {type(work).__name__}")
    if not 0 <= float(work) <= MAX_WORK:
        raise ValueError(f"work must be between 0 and {MAX_WORK:g} s per item, not {work!r}")
    return float(work)


def _stop(children: list[Child]) -> None:
    """Terminate whatever still runs and close every report pipe; errors are already raised."""
    try:
        wait(children, timeout=POLL_INTERVAL)
    except (ChildError, ChildTimeout) as err:
        # Its traceback holds frames that hold our queues, and they hold it:
        # cut the cycle so the queues' semaphores are freed now, not at the next GC.
        err.__traceback__ = None


def share_work(
    ctx: Context,
    n_items: int,
    n_producers: int,
    n_consumers: int,
    *,
    work: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
) -> WorkReport:
    """Move the numbers 1…``n_items`` from producers to consumers through one queue.

    Producers split the numbers round-robin and put them tagged; consumers take
    until their sentinel, each spending ``work`` seconds per item. The parent
    puts one sentinel per consumer once every producer has finished, collects
    the reports, then joins the consumers. Any child that fails is reported at
    once, and everything started is stopped.
    """
    require_context(ctx, needs=("Queue",))
    n_items = require_positive_int(n_items, "n_items", maximum=MAX_ITEMS)
    n_producers = require_positive_int(n_producers, "n_producers", maximum=MAX_QUEUE_PROCESSES - 1)
    n_consumers = require_positive_int(n_consumers, "n_consumers", maximum=MAX_QUEUE_PROCESSES - 1)
    if n_producers + n_consumers > MAX_QUEUE_PROCESSES:
        raise ValueError(
            f"n_producers + n_consumers must be at most {MAX_QUEUE_PROCESSES} processes, "
            f"not {n_producers + n_consumers}"
        )
    work = _require_work(work)
    busy = n_items * work / n_consumers
    if busy > MAX_BUSY:
        raise ValueError(
            f"{n_items} items × {work:g} s of work / {n_consumers} consumers would keep them busy "
            f"for {busy:g} s; keep it under {MAX_BUSY:g} s"
        )
    timeout = require_timeout(timeout)
    deadline = time.monotonic() + timeout
    tasks, results, events = ctx.Queue(), ctx.Queue(), ctx.Queue()
    children: list[Child] = []
    t0 = now()
    try:
        # Consumers first, so the queue is drained while the producers fill it.
        consumers = start_consumers(
            ctx, tasks, results, n_consumers, work=work, events=events, timeout=timeout
        )
        children += consumers
        for number in range(1, n_producers + 1):
            label = f"producer-{number}"
            values = list(range(number, n_items + 1, n_producers))
            children.append(start(ctx, put_tagged, tasks, label, values, name=label))
        producers = children[n_consumers:]
        # Sentinels only after the last producer is done, or a consumer could
        # stop while items are still on their way.
        running = producers
        while running:
            _raise_if_one_failed(children)
            if time.monotonic() > deadline:
                raise QueueTimeout(f"the producers did not finish within {timeout:g} s")
            running[0].process.join(POLL_INTERVAL)
            running = [p for p in producers if p.process.is_alive()]
        wait(producers, timeout=max(POLL_INTERVAL, deadline - time.monotonic()))
        for _ in consumers:
            tasks.put(SENTINEL)
        remaining = max(POLL_INTERVAL, deadline - time.monotonic())
        handled = collect_reports(results, n_consumers, watch=children, timeout=remaining)
        # Every event was put before its consumer's report: all are on their way.
        remaining = max(POLL_INTERVAL, deadline - time.monotonic())
        timeline = collect(events, expected=n_items, timeout=remaining, watch=consumers)
        wait(consumers, timeout=max(POLL_INTERVAL, deadline - time.monotonic()))
    except BaseException:
        _stop(children)
        tasks.cancel_join_thread()  # nobody is left to read our sentinels: don't wait on them
        raise
    finally:
        for q in (tasks, results, events):
            q.close()
            q.join_thread()
    return WorkReport(n_items, n_producers, n_consumers, handled, timeline, t0)
