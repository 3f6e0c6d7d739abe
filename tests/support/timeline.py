"""Workers for `tests/test_timeline.py`: children import them from here (test-only)."""

from __future__ import annotations

import time

from helpers.timeline import Recorder


def record_work(channel, seconds: float) -> None:
    """Runs in a child: record a mark, then one span of ``seconds`` of sleep."""
    rec = Recorder(channel)
    rec.mark("started")
    with rec.span("work"):
        time.sleep(seconds)
