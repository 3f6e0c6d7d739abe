"""Coordinating processes: Lock, RLock, Semaphore, Event, Condition and Barrier.

The primitives of ``multiprocessing.synchronize`` carry no data: they decide
*when* a process may go on. A ``Lock`` lets one process in at a time, a
``Semaphore(n)`` lets ``n`` in, an ``Event`` lets every waiter go at once, a
``Condition`` wakes waiters when shared data may have changed, and a
``Barrier(n)`` holds each arrival until ``n`` have arrived. Each is made by
the parent (``ctx.Lock()`` …) and passed to the children as an argument.

This module holds the workers the lesson's children run. Each records what
it did on the process timeline (:mod:`helpers.timeline`), so the notebook can
draw it and check its conclusion from the recorded events, never from how fast
the machine happened to be. Every wait in a worker has a timeout.

Lifecycle: the parent creates the primitive and an events queue, starts the
children, collects the events (:func:`helpers.timeline.collect`, bounded),
then joins the children within a timeout. A child that gives up on a wait
records ``"gave up"`` (or ``"broken"`` at a barrier) and returns, so nothing is
left waiting.

>>> passed_in_groups([Event("a", "wait", 0, 5), Event("a", "passed", 5, 5)], parties=1)
True
"""

from __future__ import annotations

import threading
import time
from collections import namedtuple

from helpers import timeline
from helpers.running import start, stop, wait
from helpers.timeline import Event, Recorder, now
from helpers.validation import require_choice, require_context, require_positive_int

# Children import this module: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from helpers.context import Context

__all__ = [
    "DEFAULT_WAIT",
    "MAX_PROCESSES",
    "PRIMITIVES",
    "Demo",
    "add_units",
    "answer_after",
    "arrive_at_barrier",
    "demonstrate",
    "keep_slot",
    "mark_start",
    "passed_in_groups",
    "phases_in_order",
    "spin_on_value",
    "take_two_locks",
    "use_slot",
    "wait_for_go",
    "wait_for_notice",
    "wait_for_threshold",
    "wait_on_event",
    "woke_after",
    "work_in_phases",
]

# How long a child waits on a primitive before it gives up: long enough for
# spawned siblings on a loaded laptop to arrive; short enough that a mistake
# ends in a message, not a frozen kernel.
DEFAULT_WAIT = 10.0
MAX_PROCESSES = 8  # more only queue up for the same cores
PRIMITIVES = ("Lock", "Semaphore", "Event", "Barrier")  # the playground's choices
WORK = 0.1  # seconds of pretend work per process in the playground


# --------------------------------------------------------------------------
# Workers: each runs in a child and records its events on the timeline queue
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Conclusions read off the timeline (pure functions: exact, not timed)
# --------------------------------------------------------------------------


def phases_in_order(events: list[Event], *, phase: int) -> bool:
    """True if no process began ``phase + 1`` before every process ended ``phase``."""
    ends = [e.end for e in timeline.select(events, what=f"phase {phase}")]
    starts = [e.start for e in timeline.select(events, what=f"phase {phase + 1}")]
    return bool(ends) and bool(starts) and min(starts) >= max(ends)


def woke_after(events: list[Event], *, threshold: int) -> bool:
    """True if the ``"woke"`` mark came after at least ``threshold`` ``"added"`` marks."""
    woke = timeline.select(events, what="woke")
    if len(woke) != 1:
        return False
    added = [e for e in timeline.select(events, what="added") if e.start <= woke[0].start]
    return len(added) >= threshold


def passed_in_groups(events: list[Event], *, parties: int) -> bool:
    """True if the j-th process past the barrier passed after the (parties·⌈j/parties⌉)-th arrived.

    An arrival is the start of a ``"wait"`` span (recorded before ``wait()``),
    a pass a ``"passed"`` mark (recorded after it returned): so this holds
    exactly when nobody got through before its group was complete.
    """
    arrivals = sorted(e.start for e in timeline.select(events, what="wait"))
    passes = sorted(e.start for e in timeline.select(events, what="passed"))
    if not passes or len(passes) > len(arrivals):
        return False
    for j, moment in enumerate(passes, start=1):
        needed = parties * -(-j // parties)
        if needed > len(arrivals) or arrivals[needed - 1] > moment:
            return False
    return True


# --------------------------------------------------------------------------
# The playground: one primitive, n processes, drawn and checked
# --------------------------------------------------------------------------


class Demo(namedtuple("Demo", "primitive processes slots events t0 conclusion holds")):
    """What :func:`demonstrate` ran: its events (for :func:`helpers.timeline.draw`) and verdict."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.conclusion}: {self.holds}"


def _refuse_bad_choice(primitive: str, processes: int, slots: int) -> None:
    if primitive == "Barrier" and slots > processes:
        raise ValueError(
            f"a Barrier of {slots} parties needs at least {slots} processes, not {processes}: "
            "with fewer, it would never open"
        )
    if primitive == "Barrier" and processes % slots:
        raise ValueError(
            f"{processes} processes do not fill groups of {slots} parties: the last "
            f"{processes % slots} would wait at the Barrier for ever; choose a multiple of {slots}"
        )


def _launch(
    ctx: Context, children: list[Any], count: int, target: Any, *args: Any, **options: Any
) -> None:
    """Start ``count`` children ``worker-1`` … running ``target(*args, **options)``.

    An option given as a function is called with the child's index. Each child
    is appended to ``children`` as soon as it starts, so a failure part-way
    still leaves every started child in the list, to be stopped.
    """
    for i in range(count):
        chosen = {key: value(i) if callable(value) else value for key, value in options.items()}
        children.append(start(ctx, target, *args, name=f"worker-{i + 1}", **chosen))


def _slots(
    ctx: Context,
    events: Any,
    children: list[Any],
    *,
    primitive: str,
    processes: int,
    slots: int,
    timeout: float,
) -> tuple[Any, list[Event], str, bool]:
    limit = 1 if primitive == "Lock" else slots
    guard = ctx.Lock() if primitive == "Lock" else ctx.Semaphore(slots)
    _launch(ctx, children, processes, use_slot, guard, events, work=WORK)
    recorded = timeline.collect(events, expected=2 * processes, timeout=timeout, watch=children)
    holds = timeline.max_overlap(recorded, what="inside") <= limit
    return guard, recorded, f"never more than {limit} inside", holds


def _event(
    ctx: Context,
    events: Any,
    children: list[Any],
    *,
    primitive: str,
    processes: int,
    slots: int,
    timeout: float,
) -> tuple[Any, list[Event], str, bool]:
    go = ctx.Event()
    _launch(ctx, children, processes, wait_for_go, go, events)
    recorded = timeline.collect(events, expected=processes, timeout=timeout, watch=children)
    set_at = timeline.now()
    go.set()
    recorded += timeline.collect(events, expected=2 * processes, timeout=timeout, watch=children)
    recorded.append(Event("notebook", "set()", set_at, set_at))  # drawn in its own row
    gone = timeline.select(recorded, what="go")
    holds = len(gone) == processes and all(e.start >= set_at for e in gone)
    return go, recorded, f"all {processes} released by one set()", holds


def _barrier(
    ctx: Context,
    events: Any,
    children: list[Any],
    *,
    primitive: str,
    processes: int,
    slots: int,
    timeout: float,
) -> tuple[Any, list[Event], str, bool]:
    barrier = ctx.Barrier(slots)
    # Staggered work, so that the early arrivals visibly wait for their group.
    work = lambda i: WORK * (i % slots + 1)  # noqa: E731
    _launch(ctx, children, processes, arrive_at_barrier, barrier, events, work=work)
    recorded = timeline.collect(events, expected=3 * processes, timeout=timeout, watch=children)
    holds = passed_in_groups(recorded, parties=slots)
    return barrier, recorded, f"nobody passed before {slots} had arrived", holds


_RUNNERS = {"Lock": _slots, "Semaphore": _slots, "Event": _event, "Barrier": _barrier}


def demonstrate(
    ctx: Context, primitive: str, processes: int, slots: int, *, timeout: float = 30.0
) -> Demo:
    """Run ``processes`` children coordinated by ``primitive`` and check what it promises.

    ``slots`` is the Semaphore's count or the Barrier's parties (a Lock has
    one slot; an Event has none). A choice that could never finish is refused
    here, before any child starts.
    """
    require_context(ctx, needs=("Queue", "Lock", "Semaphore", "Event", "Barrier"))
    require_choice(primitive, "primitive", PRIMITIVES)
    require_positive_int(processes, "processes", maximum=MAX_PROCESSES)
    require_positive_int(slots, "slots", maximum=MAX_PROCESSES)
    _refuse_bad_choice(primitive, processes, slots)
    events = ctx.Queue()
    children: list[Any] = []
    t0 = timeline.now()
    try:
        # The primitive stays referenced until the children are joined: under spawn a
        # child rebuilds it from its name, which vanishes once the parent drops it.
        primitive_used, recorded, conclusion, holds = _RUNNERS[primitive](
            ctx,
            events,
            children,
            primitive=primitive,
            processes=processes,
            slots=slots,
            timeout=timeout,
        )
        wait(children, timeout=timeout)
        del primitive_used
    except timeline.TimelineTimeout:
        wait(children, timeout=1.0)  # a child's own error says more; stops any still running
        raise
    except BaseException:
        for child in children:  # nothing outlives a failed demonstration
            stop(child.process)
            child.report.close()
        raise
    finally:
        events.close()
        events.join_thread()
    recorded.sort(key=lambda e: (e.start, e.end))
    return Demo(primitive, processes, slots, recorded, t0, conclusion, holds)
