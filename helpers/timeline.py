"""A process timeline: children record what they did and when; the parent draws it.

Every event is one row, ``Event(process, what, start, end)``: which process,
what it did (``"work"``, ``"wait"``, ``"inside"``, ``"acquired"`` …), and when
it began and ended, in integer nanoseconds of :func:`now`. An event whose
``end`` equals its ``start`` is an instant (a mark); the others are spans (bars).

**The clock.** :func:`now` is ``time.monotonic_ns()``. On Linux, macOS and
Windows it reads one system-wide clock, so a time taken in one process can be
compared with a time taken in another: that is what lets the parent put every
child on one axis. ``time.perf_counter()`` is not guaranteed to do this: its
reference point is undefined, and on some platforms and Python versions it
differs from process to process. (On Windows before Python 3.13,
``monotonic_ns`` ticks only every ~16 ms, which blurs short events.)

**Lifecycle.**

1. The parent creates the channel, ``events = ctx.Queue()``, takes
   ``t0 = now()``, and passes the queue to each child as an argument.
2. Each child wraps the queue in a :class:`Recorder` and records its spans
   (``with rec.span("work"): ...``) and marks (``rec.mark("acquired")``).
   Recording is one ``put`` of a small tuple: about a microsecond. The
   first ``put`` in a process also starts the queue's feeder thread, which
   can take milliseconds on a busy machine.
3. The parent takes the events back with :func:`collect`, which waits at most
   ``timeout`` seconds (and, given ``watch=children``, gives up as soon as they
   have all ended). Take them before joining children that recorded
   thousands of events (like any queue, a child exits only once its items
   have left); a few hundred fit in the pipe, so joining first is fine then.
4. The parent draws them with :func:`draw` (one row per process, times
   relative to ``t0``) and checks a conclusion with the pure functions
   :func:`max_overlap`, :func:`start_spread`, :func:`first_starts`, which
   count recorded events and never depend on how fast the machine was.

>>> import queue
>>> channel = queue.Queue()          # ctx.Queue() when children record
>>> t0 = now()
>>> rec = Recorder(channel, "worker-1")
>>> with rec.span("work"):
...     pass
>>> rec.mark("done")
>>> events = collect(channel, expected=2, timeout=1)
>>> [(e.process, e.what) for e in events]
[('worker-1', 'work'), ('worker-1', 'done')]
>>> max_overlap(events, what="work")
1
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable
from dataclasses import dataclass

# matplotlib is imported inside draw(), so collecting costs nothing to import.
from typing import Any

from helpers.validation import require_timeout
from helpers.workers.timeline import (
    Recorder,
    now,
    record_for_cost,
)

__all__ = [
    "COLOURS",
    "DEFAULT_COLLECT_TIMEOUT",
    "Event",
    "Recorder",
    "TimelineTimeout",
    "collect",
    "colours_for",
    "deaths",
    "draw",
    "first_starts",
    "max_overlap",
    "now",
    "overhead",
    "processes",
    "record_for_cost",
    "select",
    "start_spread",
]

# How long collect() waits for the events it expects: enough for spawned
# children on a loaded laptop to start and finish a short demo.
DEFAULT_COLLECT_TIMEOUT = 30.0
# With no count expected, collect() stops once the channel stays empty this long.
QUIET = 0.05
# With processes to watch, collect() looks up this often to see whether they all ended.
LOOK_UP = 0.1
# overhead() records this many events: enough to swamp the cost of starting the feeder.
OVERHEAD_EVENTS = 2_000


class TimelineTimeout(TimeoutError):
    """:func:`collect` did not receive the events it expected in time."""


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event: ``process`` did ``what`` from ``start`` to ``end`` (ns of :func:`now`).

    Children send plain tuples (see :class:`Recorder`); :func:`collect` makes
    the events here, in the parent. A value: it compares by its fields.
    """

    process: str
    what: str
    start: int
    end: int

    @property
    def seconds(self) -> float:
        """How long the event lasted, in seconds (0.0 for a mark)."""
        return (self.end - self.start) / 1e9

    @property
    def is_mark(self) -> bool:
        """True for an instant (a mark), False for a span (a bar)."""
        return self.end == self.start


# --------------------------------------------------------------------------
# The parent's side: collect, then analyse (pure functions) or draw
# --------------------------------------------------------------------------


def collect(
    channel: Any,
    *,
    expected: int | None = None,
    timeout: float = DEFAULT_COLLECT_TIMEOUT,
    watch: Iterable[Any] = (),
) -> list[Event]:
    """Take recorded events off ``channel``; return them sorted by start time.

    With ``expected``, wait (at most ``timeout`` seconds in all) until that
    many have arrived, else raise :class:`TimelineTimeout` saying how many
    came; ``watch`` (the recording processes, or :class:`helpers.running.Child`
    objects) makes it give up as soon as all of them have ended with events
    still missing. Without ``expected`` but with ``watch``, take events until
    every watched process has ended and the channel is empty: drain, then
    join, however many events there are. Without either, take what arrives
    until the channel stays empty for a moment.
    """
    require_timeout(timeout)
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise TypeError(f"expected must be a whole number or None, not {expected!r}")
    if expected is not None and expected < 0:
        raise ValueError(f"expected must be at least 0, not {expected}")
    watched = [getattr(w, "process", w) for w in watch]
    deadline = time.monotonic() + timeout
    events: list[Event] = []
    if expected is None and watched:
        return _collect_until_ended(channel, watched, deadline, timeout)
    while expected is None or len(events) < expected:
        left = deadline - time.monotonic()
        wait = QUIET if expected is None else min(left, LOOK_UP) if watched else left
        try:
            events.append(Event(*channel.get(timeout=max(0.0, min(wait, left)))))
        except queue.Empty:
            if expected is None:
                break
            if left <= 0:
                raise TimelineTimeout(
                    f"received {len(events)} of {expected} events within {timeout:g} s"
                ) from None
            if watched and not any(p.is_alive() for p in watched) and channel.empty():
                raise TimelineTimeout(
                    f"received {len(events)} of {expected} events: every process recording "
                    "them has ended"
                ) from None
    return sorted(events, key=lambda e: (e.start, e.end))


def _collect_until_ended(
    channel: Any, watched: list[Any], deadline: float, timeout: float
) -> list[Event]:
    """Events until every process in ``watched`` has ended and ``channel`` is empty.

    A process that ended has flushed what it put (its feeder thread finishes
    first), so once all have ended, what is left is already in the channel.
    """
    events: list[Event] = []
    while True:
        ended = not any(p.is_alive() for p in watched)
        left = deadline - time.monotonic()
        try:
            events.append(Event(*channel.get(timeout=QUIET if ended else min(LOOK_UP, left))))
        except queue.Empty:
            if ended:
                return sorted(events, key=lambda e: (e.start, e.end))
            if left <= 0:
                raise TimelineTimeout(
                    f"received {len(events)} events; the processes recording them "
                    f"were still running after {timeout:g} s"
                ) from None


def select(
    events: Iterable[Event], *, what: str | None = None, process: str | None = None
) -> list[Event]:
    """The events of one kind and/or one process, in the order given."""
    return [
        e
        for e in events
        if (what is None or e.what == what) and (process is None or e.process == process)
    ]


def processes(events: Iterable[Event]) -> list[str]:
    """The process names, in the order of each one's first event."""
    seen: dict[str, None] = {}
    for event in sorted(events, key=lambda e: e.start):
        seen.setdefault(event.process, None)
    return list(seen)


def max_overlap(events: Iterable[Event], *, what: str | None = None) -> int:
    """The largest number of spans (of kind ``what``) open at the same moment.

    Exact, not sampled: a sweep over every start and end. A span that ends at
    the very moment another starts does not overlap it.

    >>> spans = [Event("a", "in", 0, 10), Event("b", "in", 5, 20), Event("c", "in", 10, 30)]
    >>> max_overlap(spans)
    2
    """
    edges = []
    for event in select(events, what=what):
        if not event.is_mark:
            edges += [(event.start, 1), (event.end, -1)]
    inside = most = 0
    for _, step in sorted(edges):  # at a tie, -1 sorts first: an end before a start
        inside += step
        most = max(most, inside)
    return most


def start_spread(events: Iterable[Event], *, what: str | None = None) -> float:
    """Seconds between the first and the last start of the events (of kind ``what``).

    >>> go = [Event("a", "go", 1_000_000, 1_000_000), Event("b", "go", 4_000_000, 5_000_000)]
    >>> start_spread(go)
    0.003
    """
    starts = [e.start for e in select(events, what=what)]
    if not starts:
        raise ValueError(f"no events{'' if what is None else f' of kind {what!r}'} to measure")
    return (max(starts) - min(starts)) / 1e9


def first_starts(events: Iterable[Event], *, what: str | None = None) -> list[str]:
    """Process names in the order their first event (of kind ``what``) started."""
    return processes(select(events, what=what))


def overhead(ctx: Any, *, events: int = OVERHEAD_EVENTS) -> tuple[float, float]:
    """What one recorded event costs, in CPU nanoseconds: ``(in the child, in the parent)``.

    A child records ``events`` marks (:func:`record_for_cost`): its figure is
    its CPU time for ``put()`` plus its feeder thread's pickling and writing,
    less the same loop without recording. The parent's figure is its CPU time
    to take the events back with :func:`collect`. Runs in the parent; the
    child is joined within a timeout.
    """
    if isinstance(events, bool) or not isinstance(events, int) or events < 1:
        raise ValueError(f"events must be a whole number of at least 1, not {events!r}")
    channel, results = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=record_for_cost, args=(channel, results, events), name="cost")
    child.start()
    try:
        began = time.process_time_ns()  # this thread's work only when the kernel is idle
        collect(channel, expected=events, timeout=DEFAULT_COLLECT_TIMEOUT, watch=[child])
        taking = time.process_time_ns() - began
        recording, bare = results.get(timeout=DEFAULT_COLLECT_TIMEOUT)
    finally:
        child.join(timeout=DEFAULT_COLLECT_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join(timeout=DEFAULT_COLLECT_TIMEOUT)
        channel.close()
        results.close()
    return max(recording - bare, 0) / events, taking / events


# One colour per kind of event, the same in every lesson that draws a timeline.
# Spans (bars):
COLOURS = {
    "work": "tab:blue",  # the work a process was started for
    "task": "tab:blue",  # one task of a pool: work too
    "cpu time": "tab:green",  # as long as the CPU time the work got
    "inside": "tab:orange",  # holding a lock or a semaphore's slot
    "wait": "tab:gray",  # blocked (drawn pale and hatched)
    "start": "tab:olive",  # serial: starting a process
    "exit": "tab:brown",  # serial: a process ending
    "join": "tab:pink",  # serial: the parent joining its children
    "phase 1": "tab:blue",
    "phase 2": "tab:cyan",
    "holds lock A": "tab:red",  # a lock held (a strip along the bottom of the row)
    "holds lock B": "tab:purple",
    # Marks (points):
    "died": "black",
    "gave up": "tab:red",
    "broken": "tab:red",
    "ready": "tab:gray",
    "go": "tab:green",
    "passed": "tab:green",
    "woke": "tab:green",
    "woken": "tab:green",
    "got a slot": "tab:orange",
    "added": "tab:olive",
    "checked": "tab:cyan",
    "waiting": "tab:gray",
    "sent": "tab:purple",
    "answer taken": "tab:blue",
    "exit seen": "tab:brown",
}
MARKERS = {"died": "X", "gave up": "x", "broken": "x"}  # the rest: a circle
# Kinds not listed above (the producers of lesson 03, say) take these in order of appearance.
SPARE_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink")
HOLDS = "holds "  # "holds lock A": a strip under the row, so waits and work stay visible on it


def colours_for(kinds: Iterable[str]) -> dict[str, str]:
    """The colour of each kind: fixed for the course's kinds, spare colours for the others.

    >>> colours_for(["wait", "work", "producer-1"])
    {'wait': 'tab:gray', 'work': 'tab:blue', 'producer-1': 'tab:blue'}
    """
    colours, spare = {}, 0
    for kind in dict.fromkeys(kinds):
        fixed = COLOURS.get("wait" if kind.startswith("wait ") else kind)
        if fixed is None:
            fixed, spare = SPARE_COLOURS[spare % len(SPARE_COLOURS)], spare + 1
        colours[kind] = fixed
    return colours


def deaths(children: Iterable[Any], *, at: int | None = None) -> list[Event]:
    """A ``"died"`` mark for each of ``children`` that has ended: pass the ones that failed.

    Runs in the parent, once it has seen them end (their ``sentinel`` became
    ready, or ``join`` returned); ``at`` is when (default: :func:`now`). Add
    the marks to the recorded events to draw them: a child that dies records
    nothing more itself.
    """
    moment = now() if at is None else at
    found = [getattr(c, "process", c) for c in children]
    return [Event(p.name, "died", moment, moment) for p in found if p.exitcode is not None]


def draw(
    events: Iterable[Event],
    *,
    t0: int | None = None,
    title: str | None = None,
    rows: list[str] | None = None,
) -> Any:
    """A Gantt chart: one row per process, a bar per span, a mark per instant.

    Times are milliseconds after ``t0`` (the parent's :func:`now` before it
    started the children; default: the first event). ``rows`` fixes the order
    of the processes (default: order of their first event). Each kind of event
    has its colour (:data:`COLOURS`); ``"wait"`` is drawn pale and hatched, a
    ``"holds …"`` span as a strip along the bottom of its row, and ``"died"``
    as a large black cross. Returns a matplotlib ``Figure``: the last
    expression of a cell shows it.
    """
    from matplotlib.figure import Figure  # heavy; only the parent draws

    events = list(events)
    if not events:
        raise ValueError("no events to draw: did the children record anything?")
    origin = min(e.start for e in events) if t0 is None else t0
    names = processes(events) if rows is None else list(rows)
    kinds = list(dict.fromkeys(e.what for e in events))
    colours = colours_for(kinds)
    figure = Figure(figsize=(9, 0.55 * len(names) + 1.4), layout="constrained")
    axes = figure.subplots()
    labelled: set[str] = set()  # one legend entry per kind

    def label(kind: str) -> str | None:
        if kind in labelled:
            return None
        labelled.add(kind)
        return kind

    for kind in kinds:
        waiting, holding = kind.startswith("wait"), kind.startswith(HOLDS)
        for row, name in enumerate(names):
            mine = select(events, what=kind, process=name)
            spans = [
                ((e.start - origin) / 1e6, (e.end - e.start) / 1e6) for e in mine if not e.is_mark
            ]
            points = [(e.start - origin) / 1e6 for e in mine if e.is_mark]
            if spans:
                axes.broken_barh(
                    spans,
                    (row + 0.2, 0.15) if holding else (row - 0.3, 0.5),
                    facecolors=colours[kind],
                    alpha=0.35 if waiting else 0.9,
                    hatch="//" if waiting else None,
                    edgecolor=colours[kind],
                    label=label(kind),
                )
            if points:
                dead = kind == "died"
                axes.plot(
                    points,
                    [row - 0.05] * len(points),
                    linestyle="none",
                    marker=MARKERS.get(kind, "o"),
                    markersize=13 if dead else 7,
                    color=colours[kind],
                    markeredgecolor="white" if dead else "black",
                    label=label(kind),
                    zorder=3,
                )
    axes.set_yticks(range(len(names)), names)
    axes.set_ylim(len(names) - 0.4, -0.6)  # first process on top
    axes.set_xlabel("milliseconds after the start")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    if title:
        axes.set_title(title)
    return figure
