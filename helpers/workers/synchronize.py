"""Lesson 06 (Coordination): the workers, which run in a child and record on the timeline.

Standard library only.
"""

from __future__ import annotations

import threading
import time

from helpers.workers.timeline import Recorder, now

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# How long a child waits on a primitive before it gives up: long enough for
# spawned siblings on a loaded laptop to arrive; short enough that a mistake
# ends in a message, not a frozen kernel.
DEFAULT_WAIT = 10.0


def take_two_locks(
    first: Any,
    second: Any,
    events: Any,
    *,
    names: tuple[str, str] = ("A", "B"),
    meet: Any = None,
    work: float = 0.1,
    timeout: float = 1.0,
) -> None:
    """Runs in a child: take ``first``, then ``second``, work holding both, release.

    Records a ``"wait"`` span for each lock, ``"inside"`` while holding both,
    and a ``"holds lock X"`` span for each lock it held (``names`` are the
    two locks' names), or a ``"gave up"`` mark if a lock did not come within
    ``timeout``: it then releases what it holds and returns. ``meet`` (a
    ``Barrier``) makes every child hold its first lock before any reaches
    for its second.
    """
    rec = Recorder(events)
    with rec.span("wait"):
        got_first = first.acquire(timeout=timeout)
    if not got_first:
        rec.mark("gave up")
        return
    held = now()
    try:
        if meet is not None:  # generous: the other child may still be starting
            meet.wait(DEFAULT_WAIT)
        with rec.span("wait"):
            got_second = second.acquire(timeout=timeout)
        if not got_second:
            rec.mark("gave up")
            return
        both = now()
        with rec.span("inside"):
            time.sleep(work)
        rec.record(f"holds lock {names[1]}", both, now())  # read before the release
        second.release()
    finally:
        rec.record(f"holds lock {names[0]}", held, now())
        first.release()


def use_slot(slots: Any, events: Any, *, work: float = 0.2, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: acquire ``slots`` (a Lock or Semaphore), work, release.

    Records a ``"wait"`` span for the acquire, then ``"inside"`` — recorded
    after the acquire and before the release, so counting overlapping
    ``"inside"`` spans counts exactly who held a slot at once. Records
    ``"gave up"`` instead if no slot came within ``timeout``.
    """
    rec = Recorder(events)
    with rec.span("wait"):
        got = slots.acquire(timeout=timeout)
    if not got:
        rec.mark("gave up")
        return
    try:
        with rec.span("inside"):
            time.sleep(work)
    finally:
        slots.release()


def keep_slot(slots: Any, events: Any, *, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: acquire ``slots`` and return WITHOUT releasing it — the mistake.

    Records a ``"wait"`` span, then ``"got a slot"`` or ``"gave up"`` after ``timeout``.
    The slot stays taken after this process has ended: nobody gives it back.
    """
    rec = Recorder(events)
    with rec.span("wait"):
        got = slots.acquire(timeout=timeout)
    rec.mark("got a slot" if got else "gave up")


def mark_start(events: Any) -> None:
    """Runs in a child: record ``"go"`` as soon as it runs — no signal to wait for."""
    Recorder(events).mark("go")


def wait_for_go(go: Any, events: Any, *, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: record ``"ready"``, wait for the ``go`` Event, record ``"go"``.

    Records ``"gave up"`` instead of ``"go"`` if the Event was not set within ``timeout``.
    """
    rec = Recorder(events)
    rec.mark("ready")
    with rec.span("wait"):
        released = go.wait(timeout)
    rec.mark("go" if released else "gave up")


def spin_on_value(flag: Any, events: Any, results: Any, *, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: wait for ``flag.value`` to become true by checking it in a loop.

    The wasteful way: the loop keeps a core busy the whole time. Records a
    ``"ready"`` mark when it starts waiting; sends ``(how, CPU seconds used,
    checks made)`` on ``results`` when it stops.
    """
    rec = Recorder(events)
    rec.mark("ready")
    began, deadline, checks = time.process_time(), time.monotonic() + timeout, 0
    while not flag.value and time.monotonic() < deadline:
        checks += 1
    results.put(("spinning on a Value", time.process_time() - began, checks))


def wait_on_event(flag: Any, events: Any, results: Any, *, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: wait for the ``flag`` Event; the process sleeps until it is set.

    Records a ``"ready"`` mark when it starts waiting; sends ``(how, CPU
    seconds used, checks made)`` on ``results`` when it stops.
    """
    rec = Recorder(events)
    rec.mark("ready")
    began = time.process_time()
    flag.wait(timeout)
    results.put(("waiting on an Event", time.process_time() - began, 1))


def add_units(count: Any, cond: Any, events: Any, *, units: int = 3, pause: float = 0.05) -> None:
    """Runs in a producer child: add 1 to ``count.value`` ``units`` times, under ``cond``.

    After each addition it calls ``cond.notify_all()``, and records an
    ``"added"`` mark while still holding the lock, so the mark comes before any
    waiter can see the new value.
    """
    rec = Recorder(events)
    for _ in range(units):
        time.sleep(pause)
        with cond:
            count.value += 1
            rec.mark("added")
            cond.notify_all()


def wait_for_threshold(
    count: Any, cond: Any, events: Any, *, threshold: int, timeout: float = DEFAULT_WAIT
) -> None:
    """Runs in a consumer child: wait under ``cond`` until ``count.value >= threshold``.

    ``cond.wait_for`` checks the condition each time it is woken; each check
    is recorded as a ``"checked"`` mark. Then records ``"woke"`` (holding the
    lock) or ``"gave up"`` after ``timeout``.
    """
    rec = Recorder(events)

    def reached() -> bool:
        rec.mark("checked")
        return count.value >= threshold

    with cond:
        with rec.span("wait"):
            done = cond.wait_for(reached, timeout)
        rec.mark("woke" if done else "gave up")


def wait_for_notice(cond: Any, events: Any, *, timeout: float = DEFAULT_WAIT) -> None:
    """Runs in a child: record ``"waiting"``, then ``cond.wait(timeout)``.

    Records ``"woken"`` if a notify reached it, ``"gave up"`` if not. The
    ``"waiting"`` mark is made holding the lock: once the parent can take the
    lock itself, this child is inside ``wait()``.
    """
    rec = Recorder(events)
    with cond:
        rec.mark("waiting")
        with rec.span("wait"):
            woken = cond.wait(timeout)
        rec.mark("woken" if woken else "gave up")


def work_in_phases(
    barrier: Any,
    events: Any,
    *,
    work: list[float],
    timeout: float = DEFAULT_WAIT,
    fail_in_phase: int | None = None,
) -> None:
    """Runs in a child: for each phase, work ``work[i]`` seconds, then wait at ``barrier``.

    Records a ``"phase N"`` span per phase and a ``"wait"`` span per barrier.
    If the barrier breaks (a party timed out or died) it records ``"broken"``
    and returns. ``fail_in_phase`` makes this child raise in that phase, to
    play a party that dies.
    """
    rec = Recorder(events)
    for phase, seconds in enumerate(work, start=1):
        with rec.span(f"phase {phase}"):
            time.sleep(seconds)
        if phase == fail_in_phase:
            raise RuntimeError(f"{rec.name} failed in phase {phase}")
        try:
            with rec.span("wait"):
                barrier.wait(timeout)
        except threading.BrokenBarrierError:
            rec.mark("broken")
            return


def arrive_at_barrier(
    barrier: Any, events: Any, *, work: float, timeout: float = DEFAULT_WAIT
) -> None:
    """Runs in a child: work ``work`` seconds, wait at ``barrier``, record ``"passed"``.

    Records ``"broken"`` instead if the barrier broke.
    """
    rec = Recorder(events)
    with rec.span("work"):
        time.sleep(work)
    try:
        with rec.span("wait"):
            barrier.wait(timeout)
    except threading.BrokenBarrierError:
        rec.mark("broken")
        return
    rec.mark("passed")


def answer_after(conn: Any, delay: float, events: Any) -> None:
    """Runs in a child: work ``delay`` seconds, send ``(name, delay)`` on ``conn``, close it.

    Records a ``"work"`` span and a ``"sent"`` mark.
    """
    rec = Recorder(events)
    with rec.span("work"):
        time.sleep(delay)
    conn.send((rec.name, delay))
    rec.mark("sent")
    conn.close()
