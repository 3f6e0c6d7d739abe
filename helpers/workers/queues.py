"""Lesson 03 (Queues): the producers and consumers, which run in a child.

Each sends its result through a queue. Standard library only.
"""

from __future__ import annotations

import queue
import sys
import threading
import time

from helpers.workers.timeline import Recorder, now

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# "No more items." None survives pickling as the very same object, so every
# process can test `item is SENTINEL`; it only works because None is never a
# real item in this course.
SENTINEL = None


# How long a child waits for its next item before it gives up. Generous,
# because a spawned producer on a busy laptop can take seconds to start; but
# finite, so an orphaned consumer never waits forever.
DEFAULT_GET_TIMEOUT = 30.0


class QueueTimeout(TimeoutError):
    """Waiting on a queue ran out of time; the message says what was awaited."""


def put_squares(
    q: Any, numbers: list[int], *, go: Any = None, timeout: float = DEFAULT_GET_TIMEOUT
) -> None:
    """Runs in a producer child: put ``n * n`` on ``q`` for each ``n``, in order.

    If ``go`` (an ``Event``) is given, wait for it first: that is how the
    lesson plays a slow producer without relying on timing. Sends nothing else.
    """
    if go is not None and not go.wait(timeout):
        raise QueueTimeout(f"the producer waited {timeout:g} s for its go signal")
    for n in numbers:
        q.put(n * n)


def put_tagged(
    q: Any,
    label: str,
    values: list[int],
    *,
    pause: float = 0.0,
    together: Any = None,
    timeout: float = DEFAULT_GET_TIMEOUT,
) -> None:
    """Runs in a producer child: put ``(label, position, value)`` for each value.

    The label and position let whoever takes the items check that one
    producer's items come out in the order it put them. ``together`` (a
    ``Barrier``) holds this producer until all of them are ready, and ``pause``
    (seconds between puts) keeps them putting at the same time. Sends nothing else.
    """
    if together is not None:
        together.wait(timeout)  # raises BrokenBarrierError after timeout seconds
    for position, value in enumerate(values):
        q.put((label, position, value))
        if pause:
            time.sleep(pause)


def put_payload(q: Any, size: int) -> None:
    """Runs in a child: put one ``bytes`` object of ``size`` zero bytes on ``q``.

    A payload larger than the pipe's buffer keeps this child alive after the
    function returns, until someone gets the payload: the lesson's deadlock.
    """
    q.put(bytes(size))


def put_numbered(q: Any, count: int, size: int, *, done: Any = None, leave: bool = False) -> None:
    """Runs in a producer child: put ``(position, size zero bytes)`` for 0 … count - 1.

    Then sets ``done`` (an ``Event``), if given: every ``put()`` has returned.
    With ``leave``, it first calls ``q.cancel_join_thread()``, so this child
    exits without waiting for its feeder thread, and whatever that thread has
    not written into the pipe by then is lost. Sends nothing else.
    """
    if leave:
        q.cancel_join_thread()
    for position in range(count):
        q.put((position, bytes(size)))
    if done is not None:
        done.set()


def put_unpicklable(q: Any, log_path: str) -> None:
    """Runs in a producer child: put "before", a lock (it cannot be pickled), then "after".

    This child's stderr goes to the file ``log_path``, so that the notebook can
    read what the feeder thread reports about the lock. Sends the items it can.
    """
    with open(log_path, "w") as log:
        sys.stderr = log  # the feeder thread prints its errors here
        q.put("before")
        q.put(threading.Lock())  # returns at once: the pickling happens later
        q.put("after")
        q.close()
        q.join_thread()  # wait until the feeder thread has dealt with every item


def take_until_empty(
    q: Any, results: Any, *, label: str = "consumer", timeout: float = DEFAULT_GET_TIMEOUT
) -> None:
    """Runs in a consumer child: take items while ``q.empty()`` is False — the UNSAFE way.

    Sends ``(label, items taken)`` on ``results`` once, when it stops. Between
    processes ``empty()`` is only a snapshot: it says True before a slow
    producer has put anything, and False just before another consumer takes
    the last item (the ``get`` then waits, here at most ``timeout`` seconds).
    """
    taken = []
    while not q.empty():
        try:
            taken.append(q.get(timeout=timeout))
        except queue.Empty:
            raise QueueTimeout(
                f"empty() said an item was there, but none came in {timeout:g} s"
            ) from None
    results.put((label, taken))


def take_until_sentinel(
    q: Any,
    results: Any,
    *,
    label: str = "consumer",
    mark_done: bool = False,
    work: float = 0.0,
    events: Any = None,
    timeout: float = DEFAULT_GET_TIMEOUT,
) -> None:
    """Runs in a consumer child: take items until the :data:`SENTINEL` arrives.

    Sends ``(label, items taken)`` on ``results`` once, after the sentinel.
    With ``mark_done`` (for a ``JoinableQueue``) it calls ``task_done()`` for
    every item, the sentinel included. ``work`` seconds of sleep per item
    stand in for real work on it. With ``events`` (a queue), it also records
    each item on a :mod:`helpers.timeline`: when it took it, and from whom. A
    wait longer than ``timeout`` seconds raises :class:`QueueTimeout`, which
    the parent receives as a ``ChildError``.
    """
    taken = []
    timeline = None if events is None else Recorder(events, label)
    while True:
        try:
            item = q.get(timeout=timeout)
        except queue.Empty:
            raise QueueTimeout(
                f"waited {timeout:g} s for an item or a sentinel, got neither"
            ) from None
        if item is not SENTINEL:
            taken.append(item)
            began = now()
            if work:
                time.sleep(work)
            if timeline is not None:  # a bar for the work, or a mark if there was none
                source = item[0] if isinstance(item, tuple) else "item"
                timeline.record(source, began, now() if work else began)
        if mark_done:
            q.task_done()  # after the item is handled: join() may return once all are
        if item is SENTINEL:
            break
    results.put((label, taken))
