"""Tests for `helpers.synchronize`: each worker does what its docstring says, under every method."""

from __future__ import annotations

import pytest

from helpers import synchronize, timeline
from helpers.running import ChildError, start, wait
from helpers.synchronize import (
    add_units,
    answer_after,
    demonstrate,
    keep_slot,
    passed_in_groups,
    phases_in_order,
    take_two_locks,
    use_slot,
    wait_for_go,
    wait_for_notice,
    wait_for_threshold,
    woke_after,
    work_in_phases,
)
from helpers.timeline import Event


def run_all(ctx, events, *specs):
    """Start (target, args, kwargs, name) children, join them, and return their events."""
    children = [
        start(ctx, target, *args, name=name, **kwargs) for target, args, kwargs, name in specs
    ]
    wait(children, timeout=30)
    return timeline.collect(events, timeout=5)


def test_opposite_orders_deadlock_and_both_give_up_or_one_gets_through(ctx):
    a, b, events, meet = ctx.Lock(), ctx.Lock(), ctx.Queue(), ctx.Barrier(2)
    recorded = run_all(
        ctx,
        events,
        (take_two_locks, (a, b, events), {"meet": meet, "timeout": 0.5}, "p1"),
        (take_two_locks, (b, a, events), {"meet": meet, "timeout": 0.5}, "p2"),
    )
    assert timeline.select(recorded, what="gave up")
    assert a.acquire(timeout=1) and b.acquire(timeout=1)  # nothing left held


def test_one_global_order_never_deadlocks(ctx):
    a, b, events = ctx.Lock(), ctx.Lock(), ctx.Queue()
    recorded = run_all(
        ctx,
        events,
        *[(take_two_locks, (a, b, events), {"timeout": 10}, f"p{i}") for i in (1, 2)],
    )
    assert not timeline.select(recorded, what="gave up")
    assert timeline.max_overlap(recorded, what="inside") == 1
    assert len(timeline.select(recorded, what="inside")) == 2


def test_a_semaphore_lets_at_most_its_count_inside(ctx):
    slots, events = ctx.Semaphore(2), ctx.Queue()
    recorded = run_all(
        ctx, events, *[(use_slot, (slots, events), {"work": 0.1}, f"w{i}") for i in range(4)]
    )
    assert len(timeline.select(recorded, what="inside")) == 4
    assert timeline.max_overlap(recorded, what="inside") <= 2


def test_a_slot_kept_makes_the_next_one_give_up(ctx):
    slots, events = ctx.Semaphore(1), ctx.Queue()
    kept = run_all(ctx, events, (keep_slot, (slots, events), {"timeout": 5}, "keeper"))
    late = run_all(ctx, events, (keep_slot, (slots, events), {"timeout": 0.3}, "late"))
    assert [e.what for e in kept if e.is_mark] == ["got a slot"]
    assert [e.what for e in late if e.is_mark] == ["gave up"]


def test_an_event_releases_every_waiter(ctx):
    go, events = ctx.Event(), ctx.Queue()
    children = [start(ctx, wait_for_go, go, events, name=f"w{i}") for i in range(3)]
    ready = timeline.collect(events, expected=3, timeout=30, watch=children)
    set_at = timeline.now()
    go.set()
    rest = timeline.collect(events, expected=6, timeout=30, watch=children)
    wait(children, timeout=30)
    assert {e.what for e in ready} == {"ready"}
    assert all(e.start >= set_at for e in timeline.select(rest, what="go"))


def test_an_event_never_set_makes_the_waiter_give_up(ctx):
    events = ctx.Queue()
    recorded = run_all(ctx, events, (wait_for_go, (ctx.Event(), events), {"timeout": 0.2}, "w"))
    assert [e.what for e in recorded if e.is_mark] == ["ready", "gave up"]


@pytest.mark.parametrize("worker", [synchronize.spin_on_value, synchronize.wait_on_event])
def test_both_ways_of_waiting_report_their_cpu_time(ctx, worker):
    flag = ctx.Value("b", 1) if worker is synchronize.spin_on_value else ctx.Event()
    if worker is synchronize.wait_on_event:
        flag.set()
    results, events = ctx.Queue(), ctx.Queue()
    child = start(ctx, worker, flag, events, results, timeout=5)
    how, cpu, checks = results.get(timeout=30)
    wait([child], timeout=30)
    assert [e.what for e in timeline.collect(events, timeout=5)] == ["ready"]
    assert how in ("spinning on a Value", "waiting on an Event")
    assert cpu >= 0 and checks >= 0


def test_a_condition_wakes_the_consumer_only_at_the_threshold(ctx):
    count, cond, events = ctx.Value("i", 0, lock=False), ctx.Condition(), ctx.Queue()
    recorded = run_all(
        ctx,
        events,
        (wait_for_threshold, (count, cond, events), {"threshold": 4}, "consumer"),
        (add_units, (count, cond, events), {"units": 3, "pause": 0.02}, "p1"),
        (add_units, (count, cond, events), {"units": 3, "pause": 0.02}, "p2"),
    )
    assert count.value == 6
    assert woke_after(recorded, threshold=4)
    assert not woke_after(recorded, threshold=7)


def test_notify_wakes_one_and_notify_all_the_rest(ctx):
    cond, events = ctx.Condition(), ctx.Queue()
    children = [start(ctx, wait_for_notice, cond, events, name=f"w{i}") for i in range(3)]
    timeline.collect(events, expected=3, timeout=30, watch=children)
    with cond:
        cond.notify()
    one = timeline.collect(events, expected=2, timeout=30, watch=children)
    with cond:
        cond.notify_all()
    rest = timeline.collect(events, expected=4, timeout=30, watch=children)
    wait(children, timeout=30)
    assert len(timeline.select(one, what="woken")) == 1
    assert len(timeline.select(rest, what="woken")) == 2


def test_a_barrier_keeps_the_phases_in_order(ctx):
    barrier, events = ctx.Barrier(3), ctx.Queue()
    works = [[0.05, 0.1], [0.15, 0.05], [0.1, 0.0]]
    recorded = run_all(
        ctx,
        events,
        *[(work_in_phases, (barrier, events), {"work": w}, f"w{i}") for i, w in enumerate(works)],
    )
    assert phases_in_order(recorded, phase=1)
    assert not timeline.select(recorded, what="broken")


def test_a_party_that_dies_breaks_the_barrier_for_the_others(ctx):
    barrier, events = ctx.Barrier(3), ctx.Queue()
    children = [
        start(ctx, work_in_phases, barrier, events, work=[0.05], timeout=0.5, name="w1"),
        start(ctx, work_in_phases, barrier, events, work=[0.05], timeout=0.5, name="w2"),
        start(ctx, work_in_phases, barrier, events, work=[0.05], fail_in_phase=1, name="w3"),
    ]
    with pytest.raises(ChildError, match="child 'w3' raised RuntimeError: w3 failed in phase 1"):
        wait(children, timeout=30)
    recorded = timeline.collect(events, timeout=5)
    assert sorted(e.process for e in timeline.select(recorded, what="broken")) == ["w1", "w2"]


def test_answer_after_sends_its_name_and_closes(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    events = ctx.Queue()
    child = start(ctx, answer_after, writer, 0.01, events, name="c1")
    writer.close()
    assert reader.recv() == ("c1", 0.01)
    wait([child], timeout=30)
    with pytest.raises(EOFError):
        reader.recv()
    assert [e.what for e in timeline.collect(events, timeout=5)] == ["work", "sent"]


def ev(process, what, start, end=None):
    return Event(process, what, start, start if end is None else end)


def test_phases_in_order_needs_every_end_before_any_next_start():
    good = [ev("a", "phase 1", 0, 5), ev("b", "phase 1", 0, 7), ev("a", "phase 2", 7, 9)]
    assert phases_in_order(good, phase=1)
    assert not phases_in_order([*good, ev("b", "phase 2", 6, 8)], phase=1)
    assert not phases_in_order(good[:2], phase=1)


def test_passed_in_groups_counts_arrivals_before_each_pass():
    arrivals = [ev(p, "wait", t, 10) for p, t in [("a", 0), ("b", 1), ("c", 2), ("d", 3)]]
    passes = [ev(p, "passed", 10) for p in "abcd"]
    assert passed_in_groups(arrivals + passes, parties=2)
    early = [
        ev("a", "wait", 0, 1),
        ev("a", "passed", 1),
        ev("b", "wait", 2, 3),
        ev("b", "passed", 3),
    ]
    assert not passed_in_groups(early, parties=2)
    assert passed_in_groups(early, parties=1)


def test_woke_after_needs_exactly_one_wake_up():
    assert not woke_after([ev("c", "added", 1)], threshold=1)


@pytest.mark.parametrize(
    ("primitive", "processes", "slots", "conclusion"),
    [
        ("Lock", 3, 1, "never more than 1 inside: True"),
        ("Semaphore", 4, 2, "never more than 2 inside: True"),
        ("Event", 3, 1, "all 3 released by one set(): True"),
        ("Barrier", 4, 2, "nobody passed before 2 had arrived: True"),
    ],
)
def test_every_playground_choice_draws_and_holds(ctx, primitive, processes, slots, conclusion):
    demo = demonstrate(ctx, primitive, processes, slots)
    assert str(demo) == conclusion
    workers = [f"worker-{i}" for i in range(1, processes + 1)]
    notebook = ["notebook"] if primitive == "Event" else []  # the set() has its own row
    assert sorted(timeline.processes(demo.events)) == sorted(workers + notebook)
    assert all(e.start >= demo.t0 for e in demo.events)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("Mutex", 2, 1), ValueError,
         "primitive must be one of Lock, Semaphore, Event, Barrier, not 'Mutex'"),
        (("Barrier", 2, 3), ValueError,
         "a Barrier of 3 parties needs at least 3 processes, not 2: "
         "with fewer, it would never open"),
        (("Barrier", 5, 2), ValueError,
         "5 processes do not fill groups of 2 parties: the last 1 would wait at the "
         "Barrier for ever; choose a multiple of 2"),
        (("Lock", 9, 1), ValueError, "processes must be at most 8, not 9"),
        (("Semaphore", 2, 0), ValueError, "slots must be at least 1, not 0"),
        (("Lock", 2.5, 1), TypeError, "processes must be a whole number, not float 2.5"),
    ],
)  # fmt: skip
def test_bad_playground_choices_are_refused_before_any_child(ctx, args, error, message):
    import multiprocessing

    before = set(multiprocessing.active_children())
    with pytest.raises(error) as caught:
        demonstrate(ctx, *args)
    assert str(caught.value) == message
    assert set(multiprocessing.active_children()) <= before


def test_a_child_importing_the_lesson_module_loads_nothing_heavy():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    heavy = ["dataclasses", "inspect", "typing", "numpy", "ipywidgets", "matplotlib"]
    probe = (
        f"import sys; sys.path[:0] = [{str(root)!r}]\n"
        "import helpers.workers.synchronize\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
