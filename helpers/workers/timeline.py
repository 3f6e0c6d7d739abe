"""The timeline's recording side (lessons 03, 06, 07, 08), which runs in a child.

A child wraps the channel it was given in a :class:`Recorder` and records
spans and marks; plain tuples travel, and :func:`helpers.timeline.collect`
turns them into events in the parent. Standard library only.
"""

from __future__ import annotations

import time
from multiprocessing import current_process

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def now() -> int:
    """The shared clock: ``time.monotonic_ns()``, comparable across processes."""
    return time.monotonic_ns()


class _Span:
    """``with rec.span(what):`` records one span from entry to exit, even if it raised."""

    __slots__ = ("recorder", "start", "what")

    def __init__(self, recorder: Recorder, what: str) -> None:
        self.recorder, self.what, self.start = recorder, what, 0

    def __enter__(self) -> _Span:
        self.start = now()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.recorder.record(self.what, self.start, now())


class Recorder:
    """The child's side: puts ``(process, what, start, end)`` tuples on ``channel``.

    ``channel`` is anything with ``put`` (a ``ctx.Queue()``; a ``queue.Queue()``
    inside one process). ``name`` defaults to the current process's name.
    Plain tuples travel; :func:`collect` turns them into :class:`Event`.
    """

    __slots__ = ("channel", "name")

    def __init__(self, channel: Any, name: str | None = None) -> None:
        if not callable(getattr(channel, "put", None)):
            raise TypeError(
                f"channel must be a queue with put() (ctx.Queue()), not {type(channel).__name__}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be text or None, not {type(name).__name__} {name!r}")
        self.channel = channel
        self.name = current_process().name if name is None else name

    def __repr__(self) -> str:
        return f"Recorder(channel={self.channel!r}, name={self.name!r})"

    def record(self, what: str, start: int, end: int) -> None:
        """Record that this process did ``what`` from ``start`` to ``end`` (from :func:`now`)."""
        self.channel.put((self.name, what, start, end))

    def mark(self, what: str) -> None:
        """Record an instant: ``what`` happened now (an acquisition, a wake-up)."""
        moment = now()
        self.channel.put((self.name, what, moment, moment))

    def span(self, what: str) -> _Span:
        """A context manager recording ``what`` from entry to exit: ``with rec.span("work"):``."""
        return _Span(self, what)


def record_for_cost(events: Any, results: Any, count: int) -> None:
    """Runs in a child: record ``count`` marks on ``events``; send back the CPU they cost.

    Sends ``(CPU ns spent recording, CPU ns of the same loop without recording)``
    on ``results``. The first figure is taken after the queue's feeder thread
    has pickled and written every event (``close()``, ``join_thread()``), so
    it holds the whole of the child's side, not just ``put()``.
    """
    recorder = Recorder(events, "cost")
    began = time.process_time_ns()
    for _ in range(count):
        moment = now()
        (recorder.name, "probe", moment, moment)  # noqa: B018 - the tuple, without the put
    bare = time.process_time_ns() - began
    began = time.process_time_ns()
    for _ in range(count):
        recorder.mark("probe")
    events.close()
    events.join_thread()  # the feeder thread has written every event
    results.put((time.process_time_ns() - began, bare))
