"""Tests for `helpers.timeline`."""

from __future__ import annotations

import queue
import subprocess
import sys
from pathlib import Path

import pytest
from support.timeline import record_work

from helpers import running, timeline
from helpers.timeline import Event, Recorder, TimelineTimeout

ROOT = Path(__file__).resolve().parent.parent


def test_a_span_and_a_mark_come_back_as_events_in_start_order():
    channel = queue.Queue()
    rec = Recorder(channel, "w")
    with rec.span("work"):
        rec.mark("inside")
    events = timeline.collect(channel, expected=2, timeout=1)
    assert [(e.process, e.what, e.is_mark) for e in events] == [
        ("w", "work", False),
        ("w", "inside", True),
    ]
    work, inside = events
    assert work.start <= inside.start <= work.end
    assert work.seconds >= 0 and inside.seconds == 0.0


def test_a_span_is_recorded_even_when_its_body_raises():
    channel = queue.Queue()
    with pytest.raises(ZeroDivisionError), Recorder(channel, "w").span("work"):
        1 / 0  # noqa: B018
    assert [e.what for e in timeline.collect(channel, expected=1, timeout=1)] == ["work"]


def test_the_default_name_is_the_current_process_name():
    assert Recorder(queue.Queue()).name == "MainProcess"


@pytest.mark.parametrize(
    ("channel", "name", "message"),
    [
        ([], None, "channel must be a queue with put() (ctx.Queue()), not list"),
        (queue.Queue(), 3, "name must be text or None, not int 3"),
    ],
)
def test_a_recorder_refuses_what_it_cannot_use(channel, name, message):
    with pytest.raises(TypeError) as caught:
        Recorder(channel, name)
    assert str(caught.value) == message


def test_collect_names_how_many_events_came_when_it_runs_out_of_time():
    channel = queue.Queue()
    Recorder(channel, "w").mark("only")
    with pytest.raises(TimelineTimeout, match=r"^received 1 of 3 events within 0.2 s$"):
        timeline.collect(channel, expected=3, timeout=0.2)


def test_collect_without_a_count_takes_what_is_there_and_stops():
    channel = queue.Queue()
    rec = Recorder(channel, "w")
    for what in ("a", "b", "c"):
        rec.mark(what)
    assert [e.what for e in timeline.collect(channel, timeout=5)] == ["a", "b", "c"]
    assert timeline.collect(channel, timeout=5) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"expected": -1}, ValueError),
        ({"expected": 1.5}, TypeError),
        ({"expected": True}, TypeError),
        ({"timeout": 0}, ValueError),
        ({"timeout": "1"}, TypeError),
    ],
)
def test_collect_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        timeline.collect(queue.Queue(), **kwargs)


def ev(process, start, end, what="in"):
    return Event(process, what, start, end)


def test_max_overlap_counts_open_spans_exactly():
    spans = [ev("a", 0, 10), ev("b", 5, 20), ev("c", 10, 30), ev("d", 12, 13)]
    assert timeline.max_overlap(spans) == 3  # b, c and d at 12


def test_a_span_ending_when_another_starts_does_not_overlap_it():
    assert timeline.max_overlap([ev("a", 0, 10), ev("b", 10, 20), ev("c", 20, 30)]) == 1


def test_max_overlap_ignores_marks_and_other_kinds():
    events = [ev("a", 0, 10), ev("b", 5, 5), ev("c", 2, 8, what="wait")]
    assert timeline.max_overlap(events, what="in") == 1
    assert timeline.max_overlap(events) == 2
    assert timeline.max_overlap([]) == 0


def test_start_spread_and_first_starts():
    events = [ev("b", 3_000_000, 9_000_000), ev("a", 1_000_000, 2_000_000, "go"), ev("c", 5, 5)]
    assert timeline.start_spread(events, what="in") == pytest.approx(0.002999995)
    assert timeline.first_starts(events) == ["c", "a", "b"]
    assert timeline.processes(events) == ["c", "a", "b"]
    assert timeline.select(events, what="go") == [events[1]]
    assert timeline.select(events, process="b") == [events[0]]
    with pytest.raises(ValueError, match="no events of kind 'nothing' to measure"):
        timeline.start_spread(events, what="nothing")


def test_events_from_children_share_the_parents_clock(ctx):
    channel = ctx.Queue()
    t0 = timeline.now()
    children = [running.start(ctx, record_work, channel, 0.05, name=f"w{i}") for i in range(3)]
    events = timeline.collect(channel, expected=6, timeout=30)
    running.wait(children, timeout=30)
    after = timeline.now()
    channel.close()
    assert sorted(timeline.processes(events)) == ["w0", "w1", "w2"]
    # A child's clock reads between the parent's readings before start() and after join().
    assert all(t0 <= e.start <= e.end <= after for e in events)
    assert all(e.seconds >= 0.05 for e in timeline.select(events, what="work"))


def test_draw_gives_one_row_per_process():
    events = [ev("a", 0, 10_000_000), ev("b", 5_000_000, 5_000_000, "go"), ev("b", 0, 4, "wait")]
    figure = timeline.draw(events, t0=0, title="demo")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["a", "b"]
    assert axes.get_title() == "demo"
    assert sorted(t.get_text() for t in axes.get_legend().get_texts()) == ["go", "in", "wait"]
    with pytest.raises(ValueError, match="no events to draw"):
        timeline.draw([])


def test_overhead_counts_the_childs_side_and_the_parents(ctx):
    child, parent = timeline.overhead(ctx, events=200)
    assert child > 0 and parent > 0
    with pytest.raises(ValueError, match="events must be a whole number of at least 1"):
        timeline.overhead(ctx, events=0)


def test_each_kind_has_one_colour_wherever_it_appears():
    first = timeline.colours_for(["work", "wait", "inside", "died"])
    second = timeline.colours_for(["died", "producer-1", "inside", "work", "wait", "wait for B"])
    assert all(second[kind] == colour for kind, colour in first.items())
    assert second["wait for B"] == first["wait"]
    assert timeline.colours_for(["producer-1", "producer-2"]) == {
        "producer-1": "tab:blue",
        "producer-2": "tab:orange",
    }


def test_deaths_marks_the_children_that_have_ended(ctx):
    import time

    ended = running.start(ctx, time.sleep, 0, name="ended")
    ended.process.join(timeout=30)
    ended.report.close()
    running_still = running.start(ctx, time.sleep, 5, name="running")
    try:
        marks = timeline.deaths([ended, running_still], at=7)
    finally:
        running.stop(running_still.process)
        running_still.report.close()
    assert marks == [Event("ended", "died", 7, 7)]


def test_draw_shows_held_locks_under_the_row_and_a_death_as_a_cross():
    events = [
        ev("A then B", 0, 9_000_000, "holds lock A"),
        ev("A then B", 1_000_000, 8_000_000, "wait"),
        ev("B then A", 9_500_000, 9_500_000, "died"),
    ]
    axes = timeline.draw(events, t0=0).axes[0]
    held = next(c for c in axes.collections if c.get_label() == "holds lock A")
    (path,) = held.get_paths()
    assert path.get_extents().height == pytest.approx(0.15)  # a strip, not a full bar
    (cross,) = [line for line in axes.get_lines() if line.get_label() == "died"]
    assert cross.get_marker() == "X"


def test_a_child_importing_the_timeline_loads_nothing_heavy():
    heavy = ["dataclasses", "inspect", "typing", "numpy", "ipywidgets", "matplotlib"]
    probe = (
        f"import sys; sys.path[:0] = [{str(ROOT)!r}]\n"
        "import helpers.workers.timeline\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_collect_gives_up_early_when_every_watched_child_has_ended(ctx):
    import time

    channel = ctx.Queue()
    child = running.start(ctx, time.sleep, 0)  # records nothing, and ends
    began = time.monotonic()
    with pytest.raises(TimelineTimeout, match="received 0 of 1 events: every process recording"):
        timeline.collect(channel, expected=1, timeout=60, watch=[child])
    assert time.monotonic() - began < 30  # long before the timeout (a bound, not a benchmark)
    running.wait([child], timeout=30)
    channel.close()


def test_collect_with_watch_and_no_count_drains_until_every_child_has_ended(ctx):
    channel = ctx.Queue()
    children = [running.start(ctx, record_work, channel, 0.2, name=f"w{i}") for i in range(2)]
    events = timeline.collect(channel, timeout=30, watch=children)  # no pause ends it early
    running.wait(children, timeout=30)
    channel.close()
    assert sorted((e.process, e.what) for e in events) == [
        ("w0", "started"),
        ("w0", "work"),
        ("w1", "started"),
        ("w1", "work"),
    ]
