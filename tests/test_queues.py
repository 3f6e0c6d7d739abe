"""Tests for `helpers.queues`."""

import os
import queue
import signal
import time

import pytest

from helpers.queues import (
    MAX_ITEMS,
    SENTINEL,
    QueueTimeout,
    WorkReport,
    collect_reports,
    drain,
    in_producer_order,
    interleaved,
    join_within,
    put_numbered,
    put_payload,
    put_squares,
    put_tagged,
    put_unpicklable,
    share_work,
    start_consumers,
    take,
    take_until_empty,
    take_until_sentinel,
)
from helpers.running import ChildError, ChildTimeout, run, start, wait

# A failure must reach the caller well within this many seconds (the course's promise).
PROMPT = 5.0


@pytest.fixture
def queues(ctx):
    """Two fresh queues, closed afterwards whatever the test did."""
    made = [ctx.Queue(), ctx.Queue()]
    yield made
    for q in made:
        q.cancel_join_thread()
        q.close()


def test_seed_producer_then_empty_consumer_moves_the_squares(ctx, queues):
    squares, results = queues
    run(ctx, put_squares, squares, [1, 2, 3, 4], timeout=20)
    run(ctx, take_until_empty, squares, results, timeout=20)
    assert collect_reports(results, 1) == {"consumer": [1, 4, 9, 16]}


def test_empty_consumer_quits_before_a_slow_producer_has_put_anything(ctx, queues):
    squares, results = queues
    go = ctx.Event()
    producer = start(ctx, put_squares, squares, [1, 2, 3, 4], go=go)
    run(ctx, take_until_empty, squares, results, timeout=20)
    assert collect_reports(results, 1) == {"consumer": []}
    go.set()
    producer.wait(20)
    assert take(squares, 4) == [1, 4, 9, 16]


def test_empty_says_false_then_another_consumer_takes_the_last_item(ctx, queues):
    squares, results = queues
    run(ctx, put_squares, squares, [5], timeout=20)
    assert squares.empty() is False
    run(ctx, take_until_empty, squares, results, timeout=20)
    with pytest.raises(queue.Empty):
        squares.get(timeout=0.5)
    assert collect_reports(results, 1) == {"consumer": [25]}


def test_sentinel_consumer_waits_for_a_producer_that_starts_later(ctx, queues):
    squares, results = queues
    consumer = start(ctx, take_until_sentinel, squares, results, label="patient")
    run(ctx, put_squares, squares, [1, 2, 3, 4], timeout=20)
    squares.put(SENTINEL)
    assert collect_reports(results, 1, watch=[consumer]) == {"patient": [1, 4, 9, 16]}
    consumer.wait(20)


def test_one_sentinel_per_consumer_stops_them_all(ctx, queues):
    tasks, results = queues
    consumers = start_consumers(ctx, tasks, results, 3)
    for n in range(1, 13):
        tasks.put(n)
    for _ in consumers:
        tasks.put(SENTINEL)
    reports = collect_reports(results, 3, watch=consumers)
    wait(consumers, timeout=20)
    assert sorted(reports) == ["consumer-1", "consumer-2", "consumer-3"]
    assert sorted(n for items in reports.values() for n in items) == list(range(1, 13))


def test_too_few_sentinels_time_out_with_a_hint(ctx, queues):
    tasks, results = queues
    consumers = start_consumers(ctx, tasks, results, 2)
    tasks.put(SENTINEL)
    assert len(collect_reports(results, 1, watch=consumers)) == 1
    with pytest.raises(QueueTimeout) as info:
        collect_reports(results, 1, timeout=0.5)
    assert str(info.value) == (
        "waited 0.5 s for 1 consumer report and got 0: did every consumer get a sentinel?"
    )
    tasks.put(SENTINEL)
    collect_reports(results, 1, watch=consumers)
    wait(consumers, timeout=20)


def test_a_consumer_without_items_gives_up_after_its_own_timeout(ctx, queues):
    tasks, results = queues
    # start() passes `timeout` on to the worker: its limit for each get().
    child = start(ctx, take_until_sentinel, tasks, results, timeout=0.3, name="idle")
    with pytest.raises(ChildError) as info:
        child.wait(20)
    assert info.value.exc_type == "QueueTimeout"
    assert info.value.exc_message == "waited 0.3 s for an item or a sentinel, got neither"


def test_a_producer_that_dies_is_reported_promptly(ctx, queues):
    squares, results = queues
    consumer = start(ctx, take_until_sentinel, squares, results)
    producer = start(ctx, put_squares, squares, [1, 2, "three"], name="producer")
    producer.process.join(30)  # dead now; how soon does the consumer's side hear of it?
    began = time.monotonic()
    with pytest.raises(ChildError) as info:
        collect_reports(results, 1, watch=[producer, consumer], timeout=30)
    assert time.monotonic() - began < PROMPT
    assert str(info.value) == (
        "child 'producer' raised TypeError: can't multiply sequence by non-int of type 'str'"
    )
    squares.put(SENTINEL)
    assert collect_reports(results, 1, watch=[consumer]) == {"consumer": [1, 4]}
    consumer.wait(20)


class _ItemStillArriving:
    """A queue whose get() takes 0.3 s to hand over its item: a big item being received."""

    def get(self, timeout):
        time.sleep(0.3)
        return "item"


def test_a_child_that_failed_meanwhile_does_not_cost_the_item_being_received(ctx):
    # A get under way is never abandoned: the item it returns would be lost, and the
    # next reader (lesson 03's next cell, say) would wait for it in vain.
    failed = start(ctx, put_squares, None, ["three"], name="producer")
    failed.process.join(30)
    assert take(_ItemStillArriving(), 1, watch=[failed], timeout=10) == ["item"]


def test_a_killed_consumer_is_reported_promptly(ctx, queues):
    tasks, results = queues
    consumer = start(ctx, take_until_sentinel, tasks, results, name="victim")
    time.sleep(0.2)
    os.kill(consumer.process.pid, signal.SIGKILL)
    began = time.monotonic()
    with pytest.raises(ChildError, match="child 'victim' was killed by signal 9"):
        collect_reports(results, 1, watch=[consumer], timeout=30)
    assert time.monotonic() - began < PROMPT


def test_a_killed_producer_is_reported_promptly_to_whoever_takes(ctx, queues):
    squares, _ = queues
    go = ctx.Event()  # never set: the producer is still "loading" when it is killed
    producer = start(ctx, put_squares, squares, [1, 2], go=go, name="producer")
    time.sleep(0.2)
    os.kill(producer.process.pid, signal.SIGKILL)
    producer.process.join(30)
    began = time.monotonic()
    with pytest.raises(ChildError, match="child 'producer' was killed by signal 9"):
        take(squares, 2, watch=[producer], timeout=30)
    assert time.monotonic() - began < PROMPT


def test_a_producer_waiting_for_go_gives_up_with_a_clear_error(ctx, queues):
    squares, _ = queues
    go = ctx.Event()  # kept alive here: a spawned child must find its semaphore
    child = start(ctx, put_squares, squares, [1], go=go, timeout=0.3)
    with pytest.raises(ChildError) as info:
        child.wait(20)
    assert info.value.exc_type == "QueueTimeout"
    assert info.value.exc_message == "the producer waited 0.3 s for its go signal"


def test_joinable_queue_join_returns_once_every_task_is_done(ctx, queues):
    _, results = queues
    tasks = ctx.JoinableQueue()
    consumers = start_consumers(ctx, tasks, results, 2, mark_done=True)
    for n in range(10):
        tasks.put(n)
    assert join_within(tasks, timeout=20) is True
    for _ in consumers:
        tasks.put(SENTINEL)
    reports = collect_reports(results, 2, watch=consumers)
    wait(consumers, timeout=20)
    assert sorted(n for items in reports.values() for n in items) == list(range(10))
    tasks.close()
    tasks.join_thread()


def test_join_within_says_false_when_nobody_marks_tasks_done(ctx):
    tasks = ctx.JoinableQueue()
    tasks.put("never marked")
    assert join_within(tasks, timeout=0.3) is False
    assert tasks.get(timeout=5) == "never marked"
    tasks.task_done()  # releases the helper thread that still waits in join()
    assert join_within(tasks, timeout=5) is True
    tasks.close()
    tasks.join_thread()


def test_a_child_cannot_exit_before_its_large_payload_is_drained(ctx, queues):
    big, _ = queues
    child = ctx.Process(target=put_payload, args=(big, 1_000_000))
    child.start()
    child.join(timeout=0.5)
    assert child.is_alive()
    assert len(big.get(timeout=20)) == 1_000_000
    child.join(timeout=20)
    assert child.exitcode == 0


def test_each_producer_items_come_out_in_its_own_order(ctx, queues):
    tasks, _ = queues
    producers = [
        start(ctx, put_tagged, tasks, f"producer-{n}", list(range(20)), pause=0.001)
        for n in (1, 2, 3)
    ]
    taken = take(tasks, 60, watch=producers)
    wait(producers, timeout=20)
    assert in_producer_order(taken)
    assert (
        sorted(label for label, _, _ in taken)
        == ["producer-1"] * 20 + ["producer-2"] * 20 + ["producer-3"] * 20
    )


def test_take_times_out_naming_what_it_waited_for(ctx, queues):
    q, _ = queues
    q.put("only one")
    with pytest.raises(QueueTimeout, match=r"^waited 0.5 s for 2 items and got 1$"):
        take(q, 2, timeout=0.5)


@pytest.fixture(scope="module")
def shared_work(ctx):
    """One run of 40 items from 3 producers to 2 consumers, read by the tests of its report
    and its timeline: neither changes it, and each run starts 5 children."""
    return share_work(ctx, 40, 3, 2, work=0.001)


def test_share_work_loses_nothing(shared_work):
    report = shared_work
    assert report.summary() == (
        "40 items from 3 producers to 2 consumers\n"
        "taken: 40, lost: 0, duplicated: 0\n"
        "checksum: 820 (expected 820)\n"
        "each producer's items arrived in order"
    )
    assert sorted(report.handled) == ["consumer-1", "consumer-2"]
    assert str(report).startswith("consumer-1 took ")
    assert str(report).endswith(report.summary())


def test_share_work_with_one_of_each_says_so_in_the_singular(ctx):
    assert share_work(ctx, 1, 1, 1).summary().splitlines()[0] == (
        "1 item from 1 producer to 1 consumer"
    )


def test_work_report_counts_lost_and_duplicated_items():
    report = WorkReport(
        n_items=3,
        n_producers=1,
        n_consumers=2,
        handled={
            "consumer-1": [("producer-1", 0, 1), ("producer-1", 2, 3)],
            "consumer-2": [("producer-1", 0, 1)],
        },
    )
    assert (report.lost, report.duplicated, report.checksum) == (1, 1, 5)
    assert report.in_order is True
    assert str(report).splitlines()[:2] == [
        "consumer-1 took 2 items: 2 from producer-1",
        "consumer-2 took 1 item: 1 from producer-1",
    ]


def test_in_producer_order_spots_a_swap_and_a_repeat():
    assert in_producer_order([]) is True
    assert in_producer_order([("a", 0, 1), ("b", 0, 2), ("a", 1, 3), ("b", 1, 4)]) is True
    assert in_producer_order([("a", 1, 3), ("a", 0, 1)]) is False
    assert in_producer_order([("a", 0, 1), ("a", 0, 1)]) is False


def test_duplicate_consumer_labels_are_refused(ctx, queues):
    _, results = queues
    results.put(("twin", []))
    results.put(("twin", []))
    with pytest.raises(ValueError) as info:
        collect_reports(results, 2, timeout=10)
    assert str(info.value) == "two consumers reported as 'twin': give each its own label"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_items": 0}, ValueError, "n_items must be at least 1, not 0"),
        ({"n_items": -5}, ValueError, "n_items must be at least 1, not -5"),
        ({"n_items": "20"}, TypeError, "n_items must be a whole number, not str '20'"),
        ({"n_items": 2.5}, TypeError, "n_items must be a whole number, not float 2.5"),
        ({"n_items": True}, TypeError, "n_items must be a whole number, not bool True"),
        (
            {"n_items": MAX_ITEMS + 1},
            ValueError,
            f"n_items must be at most {MAX_ITEMS}, not {MAX_ITEMS + 1}",
        ),
        ({"n_producers": 0}, ValueError, "n_producers must be at least 1, not 0"),
        ({"n_producers": None}, TypeError, "n_producers must be a whole number, not NoneType None"),
        ({"n_consumers": 0}, ValueError, "n_consumers must be at least 1, not 0"),
        ({"n_consumers": 8}, ValueError, "n_consumers must be at most 7, not 8"),
        (
            {"n_producers": 5, "n_consumers": 4},
            ValueError,
            "n_producers + n_consumers must be at most 8 processes, not 9",
        ),
        ({"work": "1ms"}, TypeError, "work must be a number of seconds per item, not str"),
        ({"work": -0.001}, ValueError, "work must be between 0 and 0.01 s per item, not -0.001"),
        ({"work": 0.5}, ValueError, "work must be between 0 and 0.01 s per item, not 0.5"),
        (
            {"n_items": 10_000, "n_consumers": 1, "work": 0.01},
            ValueError,
            "10000 items × 0.01 s of work / 1 consumers would keep them busy for 100 s; "
            "keep it under 10 s",
        ),
        (
            {"timeout": 0},
            ValueError,
            "timeout must be a positive, finite number of seconds, not 0",
        ),
    ],
)
def test_share_work_refuses_bad_input_before_starting_anything(ctx, kwargs, error, message):
    arguments = {"n_items": 10, "n_producers": 2, "n_consumers": 2, **kwargs}
    began = time.monotonic()
    with pytest.raises(error) as info:
        share_work(ctx, **arguments)
    assert type(info.value) is error
    assert str(info.value) == message
    assert time.monotonic() - began < PROMPT
    assert ctx.active_children() == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda q: take(q, 0), ValueError, "count must be at least 1, not 0"),
        (lambda q: take(q, "3"), TypeError, "count must be a whole number, not str '3'"),
        (
            lambda q: take(q, 1, timeout=-1),
            ValueError,
            "timeout must be a positive, finite number of seconds, not -1",
        ),
        (
            lambda q: take(q, 1, watch=5),
            TypeError,
            "watch must be a list of children from start(), not 5",
        ),
        (
            lambda q: collect_reports(q, 1, watch=[42]),
            TypeError,
            "watch must hold children from start(), not 42",
        ),
        (
            lambda q: collect_reports(q, 1.0),
            TypeError,
            "count must be a whole number, not float 1.0",
        ),
        (
            lambda q: collect_reports(q, 1, timeout="soon"),
            TypeError,
            "timeout must be a number of seconds, not str 'soon'",
        ),
        (
            lambda q: join_within(q, timeout=1),
            TypeError,
            "join_within needs a JoinableQueue, not Queue",
        ),
        (
            lambda q: join_within(q, timeout=float("inf")),
            ValueError,
            "timeout must be a positive, finite number of seconds, not inf",
        ),
    ],
)
def test_parent_helpers_refuse_bad_input(queues, call, error, message):
    with pytest.raises(error) as info:
        call(queues[0])
    assert type(info.value) is error
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("count", "options", "message"),
    [
        (0, {}, "count must be at least 1, not 0"),
        (9, {}, "count must be at most 8, not 9"),
        (2, {"timeout": 0}, "timeout must be a positive, finite number of seconds, not 0"),
    ],
)
def test_start_consumers_refuses_bad_input(ctx, queues, count, options, message):
    with pytest.raises(ValueError) as info:
        start_consumers(ctx, *queues, count, **options)
    assert type(info.value) is ValueError
    assert str(info.value) == message
    assert ctx.active_children() == []


# --- the pitfalls lesson 03 now shows live ------------------------------------------------


def test_producers_held_at_a_barrier_interleave_and_keep_their_own_order(ctx, queues):
    mixed, _ = queues
    together = ctx.Barrier(3)
    producers = [
        start(ctx, put_tagged, mixed, name, list(range(5)), pause=0.02, together=together)
        for name in "ABC"
    ]
    taken = take(mixed, 15, watch=producers, timeout=30)
    wait(producers, timeout=30)
    assert interleaved(taken)
    assert in_producer_order(taken)


def test_interleaved_counts_blocks_not_labels():
    assert not interleaved([])
    assert not interleaved([("A", 0, 1), ("B", 0, 2), ("B", 1, 3)])
    assert interleaved([("A", 0, 1), ("B", 0, 2), ("A", 1, 3)])


def test_a_producer_that_cancels_its_join_thread_exits_unread_and_loses_items(ctx, queues):
    leaving, _ = queues
    child = ctx.Process(target=put_numbered, args=(leaving, 1000, 1000), kwargs={"leave": True})
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    arrived = drain(leaving)
    assert len(arrived) < 1000
    assert [position for position, _ in arrived] == list(range(len(arrived)))


@pytest.mark.slow  # waits on a lock nobody will release, on purpose
def test_a_terminated_producer_leaves_the_queue_s_write_lock_taken(ctx, queues):
    broken, _ = queues
    all_put = ctx.Event()
    child = ctx.Process(target=put_numbered, args=(broken, 1000, 1000), kwargs={"done": all_put})
    child.start()
    assert all_put.wait(timeout=30)
    child.join(timeout=0.5)
    child.terminate()
    child.join(timeout=30)
    assert len(drain(broken)) < 1000
    with pytest.raises(ChildTimeout):
        run(ctx, put_squares, broken, [7], timeout=2)
    assert drain(broken, quiet=0.2) == []


def test_an_unpicklable_item_is_dropped_and_reported_only_on_stderr(ctx, queues, tmp_path):
    q, _ = queues
    log_path = tmp_path / "stderr.txt"
    run(ctx, put_unpicklable, q, str(log_path), timeout=30)
    assert drain(q) == ["before", "after"]
    lines = log_path.read_text().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "TypeError: cannot pickle '_thread.lock' object" in lines


def test_share_work_records_one_timeline_event_per_item(shared_work):
    events = shared_work.events
    assert len(events) == 40
    assert {event.process for event in events} <= {"consumer-1", "consumer-2"}
    assert {event.what for event in events} == {"producer-1", "producer-2", "producer-3"}
    assert all(event.start >= shared_work.t0 for event in events)
    assert shared_work.draw().axes  # a chart with axes, drawn without a display
