"""Tests for `helpers.pools`."""

from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import pools, timeline
from helpers.workers import pools as pool_workers

ROOT = Path(__file__).resolve().parent.parent


# --- the tasks, called here as a worker would call them ------------------------------------


def test_small_tasks_answer_as_their_docstrings_say():
    assert pools.square(7) == 49
    assert pools.power(2, 10) == 1024
    assert pools.reciprocal(4) == 0.25
    assert pools.worker_pid() == os.getpid()
    assert pools.nap(0) == 0


@pytest.mark.parametrize(("x", "error"), [(0, ZeroDivisionError), ("x", TypeError)])
def test_reciprocals_raise_for_zero_and_text(x, error):
    with pytest.raises(error):
        pools.reciprocal(x)


def test_burn_uses_the_cpu_time_it_is_given():
    before = time.process_time()
    assert pools.burn(0.05) == 0.05
    assert time.process_time() - before >= 0.05  # CPU time, however long the wall clock took


def test_metered_gives_the_share_of_a_cpu_a_task_had():
    cpu, wall = pools.metered(pools.burn, 0.05)
    assert cpu >= 0.05 and wall >= cpu  # the share, cpu / wall: about 1 on a quiet machine
    cpu, wall = pools.metered(pools.nap, 0.05)
    assert wall >= 0.05 and cpu < 0.1 * wall  # a nap uses almost no CPU, busy or not


def test_metered_threads_share_one_cpu_under_the_gil():
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        pytest.skip("a free-threaded Python runs threads on several CPUs at once")
    began = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        measured = list(pool.map(pools.metered, [pools.burn] * 2, [0.1] * 2))
    cpu_seconds = sum(cpu for cpu, _ in measured)
    assert cpu_seconds / (time.perf_counter() - began) < 1.25  # one CPU busy, however many free


def test_best_of_keeps_the_fastest_run_and_its_share():
    # A clock that says each run took 0.03, 0.01, then 0.02 s, however busy the machine is.
    ticks = iter([0.0, 0.03, 1.0, 1.01, 2.0, 2.02])
    measured = iter([[(0.2, 1), (0.4, 1)], [(0.009, 0.01), (0.01, 0.01)], [(1, 2), (1, 2)]])
    calls = {"only": lambda: next(measured)}

    (run,) = pools._best_of(3, calls, clock=lambda: next(ticks)).values()
    assert run.seconds == pytest.approx(0.01)  # the fastest run
    assert run.share == pytest.approx(0.95)  # its own share, not another run's
    assert run.cpus == pytest.approx(0.019 / 0.01)


def test_timed_burn_says_which_task_who_and_when():
    task, name, start = pools.timed_burn(3, 0.001)
    assert (task, name) == (3, multiprocessing.current_process().name)
    assert start <= timeline.now()


def test_timed_burn_records_a_task_span_once_a_worker_started_recording(monkeypatch):
    monkeypatch.setattr(pool_workers, "_RECORDER", None)  # put back after the test
    channel = queue.Queue()
    pools.start_recording(channel)
    _, name, start = pools.timed_burn(5, 0.001)
    (event,) = timeline.collect(channel, expected=1, timeout=1)
    assert (event.process, event.what, event.start) == (name, "task", start)
    assert event.end > event.start


def test_an_initializer_leaves_the_table_for_later_tasks():
    pools.load_table(b"\x07\x08")
    assert [pools.lookup(i) for i in range(3)] == [7, 8, 7]
    assert pools.lookup_in(b"\x07\x08", 1) == 8


def test_a_queue_given_at_the_start_of_the_pool_reaches_the_task(ctx):
    results = ctx.Queue()
    try:
        with ProcessPoolExecutor(
            1, mp_context=ctx, initializer=pools.attach_queue, initargs=(results,)
        ) as pool:
            pid = pool.submit(pools.report_square, 6).result(timeout=60)
        assert results.get(timeout=30) == (6, 36)
        assert pid != os.getpid()
    finally:
        results.close()
        results.join_thread()


def test_a_queue_passed_with_a_task_is_refused(ctx):
    results = ctx.Queue()
    try:
        with ProcessPoolExecutor(1, mp_context=ctx) as pool:
            future = pool.submit(pools.put_square, results, 3)
            with pytest.raises(RuntimeError, match="through inheritance"):
                future.result(timeout=60)
    finally:
        results.close()
        results.join_thread()


# --- errors come back with the worker's traceback ------------------------------------------


def test_last_frame_names_the_line_that_raised_in_the_worker(ctx):
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        error = pool.submit(pools.reciprocal, 0).exception(timeout=60)
    assert isinstance(error, ZeroDivisionError)
    assert "Traceback" in pools.child_traceback(error)
    assert pools.last_frame(error) == "reciprocal: return 1 / x"


def test_last_frame_of_an_error_raised_here():
    assert pools.last_frame(ValueError("local")) == "(no traceback from a worker)"


# --- measurements ------------------------------------------------------------------------


def test_chunksize_sweep_times_each_chunksize(ctx):
    times = pools.chunksize_sweep(ctx, 200, [1, 50])
    assert list(times) == [1, 50]
    assert all(t > 0 for t in times.values())


def test_initializer_vs_pickling_times_both(ctx):
    once, every = pools.initializer_vs_pickling(ctx, size=1024, tasks=4, workers=1)
    assert once > 0 and every > 0


@pytest.mark.slow  # notebook 08 runs the sweep too
def test_speedup_sweep_times_each_number_of_workers(ctx):
    runs = pools.speedup_sweep(ctx, [1, 2], tasks=2, seconds=0.001, repeats=1)
    assert list(runs) == [1, 2]
    assert all(run.seconds > 0 and 0 < run.share <= 1.05 and run.cpus > 0 for run in runs.values())


@pytest.mark.slow  # three pools, one after another
def test_speedup_sweep_opens_one_pool_at_a_time(ctx, monkeypatch):
    alive, most = [0], [0]
    real = pools._executor

    class Counted:
        def __init__(self, ctx, n):
            self.pool, self.n = real(ctx, n), n

        def __enter__(self):
            alive[0] += self.n
            most[0] = max(most[0], alive[0])
            return self.pool.__enter__()

        def __exit__(self, *exc):
            alive[0] -= self.n
            return self.pool.__exit__(*exc)

    monkeypatch.setattr(pools, "_executor", Counted)
    pools.speedup_sweep(ctx, [1, 2, 3], tasks=2, seconds=0.001, repeats=1)
    assert most[0] == 3


def test_a_sweep_above_the_cap_is_refused(ctx):
    with pytest.raises(ValueError, match="workers"):
        pools.speedup_sweep(ctx, [1, pools.MAX_PLAY_WORKERS + 1], tasks=2, seconds=0.001)


def test_sweep_counts_stop_at_twice_the_usable_cpus_and_at_the_cap(monkeypatch):
    assert pools.sweep_counts(1) == [1, 2]
    assert pools.sweep_counts(3) == [1, 2, 3, 4, 5, 6]
    assert pools.sweep_counts(72) == list(range(1, pools.MAX_PLAY_WORKERS + 1))
    monkeypatch.setattr(pools, "usable_cpu_count", lambda: 72)
    assert pools.sweep_counts() == list(range(1, 9))


def test_the_timeline_has_every_task_once_and_no_more_at_once_than_workers(ctx):
    run = pools.timeline(ctx, workers=2, tasks=6, seconds=0.002, chunksize=2)
    assert sorted(run.task(e) for e in run.events) == list(range(6))
    assert {e.what for e in run.events} == {"task"}
    assert 1 <= len(run.workers()) <= 2
    assert timeline.max_overlap(run.events) <= 2
    assert run.seconds() > 0


@pytest.mark.slow  # notebook 08 runs the comparison too
def test_compare_pools_times_threads_then_processes(ctx):
    threads, processes = pools.compare_pools(ctx, pools.nap, [0.01] * 4, threads=4, processes=1)
    assert threads.seconds > 0 and processes.seconds > 0
    assert threads.share < 0.1 and processes.share < 0.1  # napping uses no CPU


def test_every_pool_kind_gives_the_same_squares(ctx):
    answers = pools.same_answers_everywhere(ctx, [1, 2, 3])
    assert {"threads", "processes"} <= set(answers)
    assert all(a == [1, 4, 9] for a in answers.values())


def test_pool_kinds_reports_three_facts():
    assert set(pools.pool_kinds()) == {
        "free-threaded build",
        "GIL enabled now",
        "InterpreterPoolExecutor",
    }


def test_play_reports_both_runs(ctx):
    result = pools.play(ctx, 2, 1, 4, 1)
    lines = str(result).splitlines()
    assert lines[0] == "4 tasks of 1 ms of CPU each, chunksize 1"
    assert lines[1].startswith("1 worker: ")
    assert lines[2].startswith("2 workers:")
    assert lines[3].startswith("speed-up: ") and lines[3].endswith("(ideal at most 2×)")
    assert sorted(result.run.task(e) for e in result.run.events) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 1, 4, 1), ValueError, "workers must be at least 1, not 0"),
        ((9, 1, 4, 1), ValueError, "workers must be at most 8, not 9"),
        ((2, 5, 4, 1), ValueError, "chunksize must be at most 4, not 5"),
        ((2, 1, 4, -1), ValueError, "work (ms) must be between 0 and 100, not -1"),
        ((2, 1, 4, "1"), TypeError, "work (ms) must be a number, not str '1'"),
        (
            (2, 1, 400, 20),
            ValueError,
            "tasks × work must be at most 4,000 ms of CPU, not 400 × 20 ms = 8,000 ms: "
            "fewer or smaller tasks",
        ),
    ],
)
def test_play_refuses_bad_choices_before_any_process_starts(ctx, args, error, message):
    with pytest.raises(error) as info:
        pools.play(ctx, *args)
    assert str(info.value) == message


def test_plots_are_figures_with_one_axes():
    from matplotlib.figure import Figure

    events = [timeline.Event("A", "task", 0, 10**8), timeline.Event("B", "task", 10, 2 * 10**8)]
    run = pools.Timeline(events, {("A", 0): 0, ("B", 10): 1})
    drawn = pools.plot_timeline(run)
    labels = [label.get_text() for label in drawn.axes[0].get_yticklabels()]
    assert labels == ["worker 1", "worker 2"]
    for figure in (
        pools.plot_chunksizes({1: 1.0, 10: 0.1}),
        pools.plot_speedup({1: pools.Run(1.0, 1.0, 1.0), 2: pools.Run(0.55, 1.0, 1.8)}),
        drawn,
    ):
        assert isinstance(figure, Figure)
        assert len(figure.axes) == 1


def test_a_child_importing_the_pool_workers_loads_nothing_heavy():
    # A pool's child imports the module pickling recorded for its task:
    # helpers.workers.pools, not helpers.pools (the notebook's side).
    heavy = ["dataclasses", "inspect", "typing", "numpy", "matplotlib", "concurrent.futures"]
    probe = (
        f"import sys; sys.path[:0] = [{str(ROOT)!r}]\n"
        "import helpers.workers.pools\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_what_a_worker_writes_to_stderr_lands_in_the_file(ctx, tmp_path):
    log = tmp_path / "workers.txt"
    options = {"initializer": pools.stderr_to, "initargs": (str(log),)}
    with ProcessPoolExecutor(1, mp_context=ctx, **options) as pool:  # type: ignore[call-overload]
        pool.submit(os.write, 2, b"said on fd 2\n").result(timeout=60)
    assert log.read_text() == "said on fd 2\n"


def test_pool_life_puts_start_and_join_beside_the_tasks(ctx):
    life = pools.pool_life(ctx, workers=2, tasks=4, seconds=0.005)
    kinds = sorted((e.process == "notebook", e.what) for e in life.events)
    assert kinds == [(False, "task")] * 4 + [(True, "join"), (True, "start")]
    assert 0 < life.work() < life.seconds and 0 < life.serial() < life.seconds
    assert life.serial() + life.work() <= life.seconds + 1e-3
    one = pools.PoolLife(life.events, life.seconds, 1)
    text = pools.amdahl(one, life)
    assert "Amdahl's law with that serial share: 2 workers at most" in text


def test_amdahl_limit_is_the_law():
    events = [
        timeline.Event("notebook", "start", 0, 250_000_000),
        timeline.Event("w", "task", 250_000_000, 1_000_000_000),
    ]
    one = pools.PoolLife(events, 1.0, 1)
    two = pools.PoolLife(events, 0.625, 2)  # 0.25 serial + 0.75 / 2
    assert "at most 1.60× as fast" in pools.amdahl(one, two)  # 1 / (0.25 + 0.75 / 2)
    assert "1.60× as fast." in pools.amdahl(one, two)


@pytest.mark.slow  # notebook 08 draws the same timeline
def test_threads_and_processes_rows_and_cpu(ctx):
    events = pools.threads_and_processes(ctx, workers=2, tasks=2, seconds=0.01)
    rows = {e.process for e in events}
    assert {"thread 1", "thread 1 CPU", "process 1", "process 1 CPU"} <= rows
    assert pools.worker_rows(events)[:2] == ["thread 1", "thread 1 CPU"]
    assert all(e.start >= 0 for e in events)  # each pool counted from its own first task
    assert 0 < pools.cpus_busy(events, "thread") <= 2.2
    assert pool_workers._RECORDER is None  # the notebook's process stopped recording


def test_busy_share_of_a_timeline(ctx):
    run = pools.timeline(ctx, workers=1, tasks=3, seconds=0.002)
    assert 0 < run.busy() <= 1.0


def test_fragile_task_notes_its_start_then_fails_on_negatives(tmp_path):
    log = tmp_path / "started.txt"
    assert pools.fragile_task(str(log), 3) == 9
    with pytest.raises(ValueError, match="cannot take -1"):
        pools.fragile_task(str(log), -1)
    assert log.read_text().split() == ["3", "-1"]
