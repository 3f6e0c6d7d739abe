"""Lesson 06 (Coordination): Lock, RLock, Semaphore, Event, Condition and Barrier.

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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers import timeline
from helpers.running import start, stop, wait
from helpers.timeline import Event
from helpers.validation import require_choice, require_context, require_positive_int
from helpers.workers.synchronize import (
    DEFAULT_WAIT,
    add_units,
    answer_after,
    arrive_at_barrier,
    keep_slot,
    mark_start,
    spin_on_value,
    take_two_locks,
    use_slot,
    wait_for_go,
    wait_for_notice,
    wait_for_threshold,
    wait_on_event,
    work_in_phases,
)

if TYPE_CHECKING:
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

MAX_PROCESSES = 8  # more only queue up for the same cores
PRIMITIVES = ("Lock", "Semaphore", "Event", "Barrier")  # the playground's choices
WORK = 0.1  # seconds of pretend work per process in the playground


# --------------------------------------------------------------------------
# Workers: each runs in a child and records its events on the timeline queue
# --------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Demo:
    """What :func:`demonstrate` ran: its events (for :func:`helpers.timeline.draw`) and verdict."""

    primitive: str
    processes: int
    slots: int
    events: list[Event]
    t0: int
    conclusion: str
    holds: bool

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
