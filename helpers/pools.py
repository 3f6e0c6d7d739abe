"""Lesson 08 (Pools): worker processes started once and reused, task after task.

A pool starts a few worker processes and feeds them tasks through a queue;
each worker takes a task, runs it, sends the result (or the exception it
raised) back, and takes the next. The standard library has two:
``concurrent.futures.ProcessPoolExecutor(mp_context=ctx)``, which hands out a
*future* per task, and ``ctx.Pool()``, the older ``multiprocessing.pool.Pool``.

Lifecycle: whoever creates a pool shuts it down. ``with ProcessPoolExecutor(...)``
calls ``shutdown(wait=True)`` at the end of the block, which waits for the
tasks and joins the workers; ``with ctx.Pool(...)`` calls ``terminate()``,
which kills the workers at once, finished or not. Outside a ``with``: call
``shutdown()``, or ``close()`` then ``join()``.

The tasks the lesson's pool workers run live in :mod:`helpers.workers.pools`
(a child imports that light module, not this one) and are re-exported here;
this module holds the measurements and drawings the notebook makes, which
import matplotlib when called.

>>> square(7)
49
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

from helpers.context import usable_cpu_count
from helpers.timeline import Event, collect, draw, now, processes
from helpers.validation import (
    require_context,
    require_number,
    require_positive_int,
)
from helpers.workers.pools import (
    attach_queue,
    burn,
    fragile_task,
    load_table,
    lookup,
    lookup_in,
    metered,
    nap,
    power,
    put_square,
    reciprocal,
    recorded_burn,
    report_square,
    square,
    start_recording,
    stderr_to,
    timed_burn,
    worker_pid,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from helpers.context import Context

__all__ = [
    "MAX_PLAY_TASKS",
    "MAX_PLAY_WORKERS",
    "MAX_PLAY_WORK_MS",
    "RESULT_TIMEOUT",
    "PlayResult",
    "PoolLife",
    "Run",
    "Timeline",
    "amdahl",
    "attach_queue",
    "burn",
    "child_traceback",
    "chunksize_sweep",
    "compare_pools",
    "cpus_busy",
    "fragile_task",
    "initializer_vs_pickling",
    "last_frame",
    "load_table",
    "lookup",
    "lookup_in",
    "metered",
    "nap",
    "play",
    "plot_chunksizes",
    "plot_speedup",
    "plot_timeline",
    "pool_kinds",
    "pool_life",
    "power",
    "put_square",
    "reciprocal",
    "recorded_burn",
    "report_square",
    "same_answers_everywhere",
    "speedup_sweep",
    "square",
    "start_recording",
    "stderr_to",
    "sweep_counts",
    "threads_and_processes",
    "timed_burn",
    "timeline",
    "warm_up",
    "worker_pid",
    "worker_rows",
]

# How long the notebook waits for a pool's results: generous, because a
# loaded laptop runs a measurement several times slower; finite, so a stuck
# pool raises TimeoutError instead of freezing the kernel.
RESULT_TIMEOUT = 120.0
MAX_PLAY_WORKERS = 8
MAX_PLAY_TASKS = 400
MAX_PLAY_WORK_MS = 100.0
MAX_PLAY_CPU_MS = 4_000.0  # tasks × work per run: seconds, not minutes, on one core


# ---------------------------------------------------------------------------
# Tasks: each runs in a pool worker and returns its answer (the pool sends it back)
# ---------------------------------------------------------------------------


# --- data loaded once per worker, by the pool's initializer ----------------
# The pattern needs a module global: the initializer runs once in each worker
# and leaves the data there for every later task of that worker.


# ---------------------------------------------------------------------------
# The notebook's side: errors, measurements, drawings
# ---------------------------------------------------------------------------


def child_traceback(error: BaseException) -> str:
    """The traceback text a pool sent back with ``error``, as the worker saw it.

    Both kinds of pool attach it as the exception's ``__cause__``; "" if none.
    """
    return getattr(error.__cause__, "tb", "")


_FRAME = re.compile(r'^  File "[^"]*", line \d+, in (?P<name>\S+)\n    (?P<code>.+)$', re.M)


def last_frame(error: BaseException) -> str:
    """Where in the worker ``error`` was raised: ``"function: line of code"``.

    Read from the worker's own traceback text, without file paths or line
    numbers, which differ between machines.
    """
    frames = list(_FRAME.finditer(child_traceback(error)))
    if not frames:
        return "(no traceback from a worker)"
    return f"{frames[-1]['name']}: {frames[-1]['code'].strip()}"


def _executor(ctx: Context, workers: int, **options: Any) -> Any:
    from concurrent.futures import ProcessPoolExecutor  # parent only

    return ProcessPoolExecutor(workers, mp_context=ctx, **options)


def warm_up(pool: Any, workers: int) -> None:
    """Make ``pool`` start all ``workers`` now, so that later timings leave start-up out.

    Hands out one short nap per worker at once: with none idle, the pool
    starts a worker for each.
    """
    list(pool.map(nap, [0.2] * workers, timeout=RESULT_TIMEOUT))


def _timed(call: Any, clock: Callable[[], float] = time.perf_counter) -> tuple[float, Any]:
    """The seconds ``call()`` took on ``clock``, and what it returned."""
    began = clock()
    result = call()
    return clock() - began, result


def _seconds(call: Any) -> float:
    return _timed(call)[0]


def chunksize_sweep(
    ctx: Context, items: int, chunksizes: list[int], *, workers: int = 2
) -> dict[int, float]:
    """Seconds to ``map`` :func:`square` over ``range(items)``, for each chunksize.

    One warmed-up pool serves every chunksize, so only the sending is compared.
    """
    require_context(ctx)
    items = require_positive_int(items, "items", maximum=100_000)
    sizes = [require_positive_int(c, "chunksize", maximum=items) for c in chunksizes]
    workers = require_positive_int(workers, "workers", maximum=MAX_PLAY_WORKERS)
    times = {}
    with _executor(ctx, workers) as pool:
        warm_up(pool, workers)
        for size in sizes:
            times[size] = _seconds(
                lambda size=size: list(
                    pool.map(square, range(items), chunksize=size, timeout=RESULT_TIMEOUT)
                )
            )
    return times


def plot_chunksizes(times: dict[int, float]) -> Figure:
    """Time against chunksize, both on log scales."""
    from matplotlib.figure import Figure  # parent only

    figure = Figure(figsize=(6.5, 3.2), layout="constrained")
    axes = figure.subplots()
    axes.plot(list(times), list(times.values()), "o-")
    axes.set(xscale="log", yscale="log", xlabel="chunksize (tasks sent together)")
    axes.set(ylabel="seconds for all tasks", title="Many tiny tasks: the cost is in the sending")
    axes.grid(True, which="both", alpha=0.3)
    return figure


def initializer_vs_pickling(
    ctx: Context, *, size: int, tasks: int, workers: int = 2
) -> tuple[float, float]:
    """Seconds for ``tasks`` lookups in a ``size``-byte table: loaded once per worker
    by the initializer, then sent along with every task. Pool start-up included in both."""
    require_context(ctx)
    size = require_positive_int(size, "size", maximum=64 * 2**20)
    tasks = require_positive_int(tasks, "tasks", maximum=10_000)
    workers = require_positive_int(workers, "workers", maximum=MAX_PLAY_WORKERS)
    table = bytes(range(256)) * (size // 256) or b"\0"

    def once_per_worker() -> None:
        with _executor(ctx, workers, initializer=load_table, initargs=(table,)) as pool:
            list(pool.map(lookup, range(tasks), timeout=RESULT_TIMEOUT))

    def with_every_task() -> None:
        with _executor(ctx, workers) as pool:
            list(pool.map(lookup_in, repeat(table, tasks), range(tasks), timeout=RESULT_TIMEOUT))

    return _seconds(once_per_worker), _seconds(with_every_task)


@dataclass(frozen=True)
class Run:
    """The best of several timed runs of a pool's ``map``: its wall-clock ``seconds``;
    ``share``, the share of a CPU each task had while it ran (the mean over the tasks,
    from :func:`metered`), about 1.0 when each worker had a CPU of its own; and
    ``cpus``, the CPUs its tasks kept busy on average (their CPU time over ``seconds``)."""

    seconds: float
    share: float
    cpus: float


def speedup_sweep(
    ctx: Context, worker_counts: list[int], *, tasks: int, seconds: float, repeats: int = 3
) -> dict[int, Run]:
    """The best of ``repeats`` runs of ``tasks`` CPU-bound tasks, per number of workers.

    One pool at a time, so that no more than the largest count of workers (at most
    :data:`MAX_PLAY_WORKERS`) is ever alive: each pool is started and warmed up
    first, so the times compare the work, not the start-up, then shut down before
    the next one starts.
    """
    require_context(ctx)
    counts = [require_positive_int(n, "workers", maximum=MAX_PLAY_WORKERS) for n in worker_counts]
    tasks = require_positive_int(tasks, "tasks", maximum=1_000)
    seconds = require_number(seconds, "seconds", maximum=1.0)
    repeats = require_positive_int(repeats, "repeats", maximum=10)
    work = [seconds] * tasks
    runs = {}
    for n in counts:
        with _executor(ctx, n) as pool:
            warm_up(pool, n)
            runs[n] = _best_of(repeats, {n: _mapper(pool, burn, work)})[n]
    return runs


def sweep_counts(cpus: int | None = None, *, cap: int = MAX_PLAY_WORKERS) -> list[int]:
    """Worker counts for a sweep: 1 up to twice the usable CPUs, never above ``cap``.

    ``cpus`` defaults to :func:`helpers.context.usable_cpu_count`, not
    ``os.cpu_count()``: on a shared node the machine's count can be 72 while
    this process may use two.

    >>> sweep_counts(2), sweep_counts(72)
    ([1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7, 8])
    """
    cpus = usable_cpu_count() if cpus is None else require_positive_int(cpus, "cpus")
    return list(range(1, min(2 * cpus, cap) + 1))


def _mapper(pool: Any, task: Any, inputs: list[Any]) -> Any:
    """A call that maps ``task`` over ``inputs`` on ``pool``, each task :func:`metered`."""
    return lambda: list(pool.map(metered, repeat(task), inputs, timeout=RESULT_TIMEOUT))


def _best_of(
    repeats: int, calls: dict[Any, Any], *, clock: Callable[[], float] = time.perf_counter
) -> dict[Any, Run]:
    """The fastest of ``repeats`` runs of each call, the calls taking turns, timed on ``clock``."""
    best: dict[Any, Run] = {}
    for _ in range(repeats):
        for key, call in calls.items():
            seconds, measured = _timed(call, clock)
            shares = [cpu / wall for cpu, wall in measured]
            cpu_seconds = sum(cpu for cpu, _ in measured)
            run = Run(seconds, sum(shares) / len(shares), cpu_seconds / seconds)
            if key not in best or run.seconds < best[key].seconds:
                best[key] = run
    return best


def plot_speedup(runs: dict[int, Run]) -> Figure:
    """Speed-up over one worker against the number of workers, beside the ideal line."""
    from matplotlib.figure import Figure  # parent only

    counts = list(runs)
    times = {n: run.seconds for n, run in runs.items()}
    figure = Figure(figsize=(6.5, 3.4), layout="constrained")
    axes = figure.subplots()
    axes.plot(counts, [times[counts[0]] / times[n] for n in counts], "o-", label="measured")
    axes.plot(counts, counts, "--", color="grey", label="ideal: n workers, n times faster")
    axes.axvline(usable_cpu_count(), color="tab:red", alpha=0.4, label="CPUs this process may use")
    axes.set(xlabel="workers", ylabel="speed-up over 1 worker", xticks=counts)
    axes.legend()
    axes.grid(True, alpha=0.3)
    return figure


@dataclass(frozen=True)
class Timeline:
    """What a pool's workers did: the recorded ``"task"`` events, and which task each
    one was (``labels[(process, start)]``)."""

    events: list[Event]
    labels: dict[tuple[str, int], int]

    def workers(self) -> list[str]:
        """The workers' process names, in the order each started its first task."""
        return processes(self.events)

    def task(self, event: Event) -> int:
        """The number of the task an event recorded."""
        return self.labels[event.process, event.start]

    def seconds(self) -> float:
        """From the first task's start to the last one's end."""
        return (max(e.end for e in self.events) - min(e.start for e in self.events)) / 1e9

    def busy(self) -> float:
        """The share of the run the workers spent in tasks: 1.0 when none ever waited
        for its next task (the gaps between a worker's tasks are the sending)."""
        return sum(e.seconds for e in self.events) / (len(self.workers()) * self.seconds())


def _run_choices(ctx: Context, workers: int, tasks: int, seconds: float) -> tuple[int, int, float]:
    """A timed run's choices, checked: a context, at most 8 workers and 400 tasks of at most 1 s."""
    require_context(ctx)
    return (
        require_positive_int(workers, "workers", maximum=MAX_PLAY_WORKERS),
        require_positive_int(tasks, "tasks", maximum=MAX_PLAY_TASKS),
        require_number(seconds, "seconds", maximum=1.0),
    )


def timeline(
    ctx: Context, *, workers: int, tasks: int, seconds: float, chunksize: int = 1
) -> Timeline:
    """Run ``tasks`` CPU-bound tasks on a warmed-up pool of ``workers``; each worker
    records on the timeline which task it ran, and when.

    The timeline's queue reaches the workers the only way a queue can: at the
    pool's start, through ``initializer``/``initargs``.
    """
    workers, tasks, seconds = _run_choices(ctx, workers, tasks, seconds)
    chunksize = require_positive_int(chunksize, "chunksize", maximum=tasks)
    events = ctx.Queue()
    try:
        with _executor(ctx, workers, initializer=start_recording, initargs=(events,)) as pool:
            warm_up(pool, workers)
            done = pool.map(
                timed_burn, range(tasks), repeat(seconds), chunksize=chunksize,
                timeout=RESULT_TIMEOUT,
            )  # fmt: skip
            labels = {(name, start): task for task, name, start in done}
            # Taken before the workers exit: a worker's queue must be drained for it to end.
            recorded = collect(events, expected=tasks, timeout=RESULT_TIMEOUT)
    finally:
        events.close()
        events.join_thread()
    return Timeline(recorded, labels)


@dataclass(frozen=True)
class PoolLife:
    """A pool's whole life on the timeline (:func:`pool_life`): the notebook's
    ``"start"`` span (making the pool until its first task began) and ``"join"``
    span (the last result in until ``shutdown`` returned), the workers' ``"task"``
    spans, and ``seconds`` from making the pool to its shutdown."""

    events: list[Event]
    seconds: float
    workers: int

    def serial(self) -> float:
        """Seconds of the run that no number of workers shortens: the start and the join."""
        return sum(e.seconds for e in self.events if e.what in ("start", "join"))

    def work(self) -> float:
        """Seconds from the first task's start to the last task's end."""
        tasks = [e for e in self.events if e.what == "task"]
        return (max(e.end for e in tasks) - min(e.start for e in tasks)) / 1e9


def pool_life(ctx: Context, *, workers: int, tasks: int, seconds: float) -> PoolLife:
    """Make a pool of ``workers``, run ``tasks`` :func:`timed_burn` tasks of ``seconds``
    of CPU, shut it down: every phase recorded on one timeline.

    The start (spawning the workers, importing what they run) and the join
    (workers finishing, exiting, being joined) are the serial part of the run:
    Amdahl's law says that with a serial share ``s`` of the one-worker run,
    ``n`` workers are at most ``1 / (s + (1 - s) / n)`` times as fast.
    """
    workers, tasks, seconds = _run_choices(ctx, workers, tasks, seconds)
    events = ctx.Queue()
    try:
        began = now()
        with _executor(ctx, workers, initializer=start_recording, initargs=(events,)) as pool:
            list(pool.map(timed_burn, range(tasks), repeat(seconds), timeout=RESULT_TIMEOUT))
            last_result = now()
            recorded = collect(events, expected=tasks, timeout=RESULT_TIMEOUT)
        ended = now()  # shutdown(wait=True) has joined every worker
    finally:
        events.close()
        events.join_thread()
    first_task = min(e.start for e in recorded)
    serial = [
        Event("notebook", "start", began, first_task),
        Event("notebook", "join", last_result, ended),
    ]
    return PoolLife(serial + recorded, (ended - began) / 1e9, workers)


def amdahl(one: PoolLife, many: PoolLife) -> str:
    """The speed-up of ``many`` over ``one``, beside Amdahl's limit from ``one``'s serial share."""
    share = one.serial() / one.seconds
    limit = 1 / (share + (1 - share) / many.workers)
    return (
        f"1 worker: {one.seconds:.2f} s, of which {one.serial():.2f} s serial "
        f"(start and join: {share:.0%}).\n"
        f"Amdahl's law with that serial share: {many.workers} workers at most {limit:.2f}× "
        f"as fast (not {many.workers}×).\n"
        f"{many.workers} workers: {many.seconds:.2f} s, of which {many.serial():.2f} s serial: "
        f"{one.seconds / many.seconds:.2f}× as fast."
    )


def threads_and_processes(ctx: Context, *, workers: int, tasks: int, seconds: float) -> list[Event]:
    """The same :func:`recorded_burn` tasks on a thread pool, then a process pool, both of
    ``workers``: one timeline, rows "thread 1" … "process 1" …, each followed by its
    CPU-time row.

    Each pool is started and warmed up before its tasks, and each pool's times
    count from its own first task (nanoseconds from 0), so the two runs line up.
    """
    from concurrent.futures import ThreadPoolExecutor  # parent only

    workers, tasks, seconds = _run_choices(ctx, workers, tasks, seconds)
    events = ctx.Queue()
    try:
        threads = ThreadPoolExecutor(
            workers, thread_name_prefix="thread", initializer=start_recording, initargs=(events,)
        )
        try:
            with threads:
                warm_up(threads, workers)
                list(threads.map(recorded_burn, [seconds] * tasks, timeout=RESULT_TIMEOUT))
        finally:
            start_recording(None)  # the threads recorded in this process: stop
        with _executor(ctx, workers, initializer=start_recording, initargs=(events,)) as pool:
            warm_up(pool, workers)
            list(pool.map(recorded_burn, [seconds] * tasks, timeout=RESULT_TIMEOUT))
            recorded = collect(events, expected=4 * tasks, timeout=RESULT_TIMEOUT)
    finally:
        events.close()
        events.join_thread()
    return _renamed(recorded)


def _renamed(events: list[Event]) -> list[Event]:
    """Rows named "thread 1", "process 1" … in the order the workers began; CPU rows follow."""
    names: dict[str, str] = {}
    for event in sorted(events, key=lambda e: e.start):
        worker = event.process.removesuffix(" CPU")
        kind = "thread" if worker.startswith("thread") else "process"
        count = sum(name.startswith(kind) for name in names.values())
        names.setdefault(worker, f"{kind} {count + 1}")
    renamed = [
        dataclasses.replace(
            e,
            process=names[e.process.removesuffix(" CPU")]
            + e.process[len(e.process.removesuffix(" CPU")) :],
        )
        for e in events
    ]
    # Each pool from its own first task: the process pool's start-up is not the point here.
    origin = {
        kind: min(e.start for e in renamed if e.process.startswith(kind))
        for kind in ("thread", "process")
    }
    return [
        dataclasses.replace(e, start=e.start - origin[kind], end=e.end - origin[kind])
        for e in renamed
        for kind in ("thread", "process")
        if e.process.startswith(kind)
    ]


def worker_rows(events: list[Event]) -> list[str]:
    """The rows of :func:`threads_and_processes`' timeline in reading order: threads, then
    processes, each worker's task row above its CPU-time row."""
    names = {e.process for e in events}

    def order(name: str) -> tuple[bool, int, bool]:
        kind, number = name.removesuffix(" CPU").split()
        return kind == "process", int(number), name.endswith(" CPU")

    return sorted(names, key=order)


def cpus_busy(events: list[Event], prefix: str) -> float:
    """CPUs kept busy on average by the workers whose rows start with ``prefix``:
    their CPU time over the span from their first task's start to their last one's end.

    >>> one = [Event("thread 1", "task", 0, 10), Event("thread 1 CPU", "cpu time", 0, 5)]
    >>> cpus_busy(one, "thread")
    0.5
    """
    tasks = [e for e in events if e.what == "task" and e.process.startswith(prefix)]
    cpu = [e for e in events if e.what == "cpu time" and e.process.startswith(prefix)]
    span = (max(e.end for e in tasks) - min(e.start for e in tasks)) / 1e9
    return sum(e.seconds for e in cpu) / span


def plot_timeline(run: Timeline, *, title: str = "Which worker ran which task, when") -> Figure:
    """One row per worker ("worker 1" started the first task), one bar per task,
    labelled with the task's number when there are few enough to read."""
    names = run.workers()
    figure = draw(run.events, title=title, rows=names)
    axes = figure.axes[0]
    axes.set_yticks(range(len(names)), [f"worker {n}" for n in range(1, len(names) + 1)])
    axes.get_legend().remove()
    if len(run.events) <= 40:
        origin = min(e.start for e in run.events)
        for event in run.events:
            middle = ((event.start + event.end) / 2 - origin) / 1e6
            row = names.index(event.process)
            axes.text(middle, row, str(run.task(event)), ha="center", va="center", fontsize=8)
    return figure


def compare_pools(
    ctx: Context,
    task: Any,
    inputs: list[Any],
    *,
    threads: int,
    processes: int,
    repeats: int = 7,
) -> tuple[Run, Run]:
    """The best of ``repeats`` runs of ``map(task, inputs)`` on a thread pool, then on
    a process pool; both are warmed up first, and the repeats take turns."""
    from concurrent.futures import ThreadPoolExecutor  # parent only

    require_context(ctx)
    threads = require_positive_int(threads, "threads", maximum=64)
    processes = require_positive_int(processes, "processes", maximum=MAX_PLAY_WORKERS)
    repeats = require_positive_int(repeats, "repeats", maximum=10)
    with ThreadPoolExecutor(threads) as thread_pool, _executor(ctx, processes) as process_pool:
        warm_up(thread_pool, threads)
        warm_up(process_pool, processes)
        best = _best_of(
            repeats,
            {
                "threads": _mapper(thread_pool, task, inputs),
                "processes": _mapper(process_pool, task, inputs),
            },
        )
    return best["threads"], best["processes"]


def pool_kinds() -> dict[str, bool]:
    """What this Python offers beyond processes and threads (facts; they vary by build)."""
    import concurrent.futures  # parent only
    import sysconfig  # parent only

    is_gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)
    return {
        "free-threaded build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "GIL enabled now": is_gil_enabled(),
        "InterpreterPoolExecutor": hasattr(concurrent.futures, "InterpreterPoolExecutor"),
    }


def same_answers_everywhere(ctx: Context, numbers: list[int]) -> dict[str, list[int]]:
    """:func:`square` of each number from every kind of pool this Python has.

    Threads and processes always; interpreters where ``InterpreterPoolExecutor``
    exists (Python 3.14 and later).
    """
    from concurrent import futures  # parent only

    require_context(ctx)
    pools = {
        "threads": lambda: futures.ThreadPoolExecutor(2),
        "processes": lambda: _executor(ctx, 2),
    }
    if hasattr(futures, "InterpreterPoolExecutor"):
        pools["interpreters"] = lambda: futures.InterpreterPoolExecutor(2)  # type: ignore[attr-defined]
    answers = {}
    for name, make in pools.items():
        with make() as pool:
            answers[name] = list(pool.map(square, numbers, timeout=RESULT_TIMEOUT))
    return answers


def _workers(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class PlayResult:
    """The playground's run: one worker, then ``workers``, on the same tasks."""

    workers: int
    chunksize: int
    tasks: int
    work_ms: float
    one_s: float
    many_s: float
    run: Timeline

    @property
    def speedup(self) -> float:
        return self.one_s / self.many_s

    def __str__(self) -> str:
        return "\n".join(
            [
                f"{self.tasks} tasks of {self.work_ms:g} ms of CPU each, "
                f"chunksize {self.chunksize}",
                f"{'1 worker:':10s}{self.one_s * 1000:8.1f} ms",
                f"{_workers(self.workers) + ':':10s}{self.many_s * 1000:8.1f} ms",
                f"speed-up: {self.speedup:.2f}× (ideal at most {min(self.workers, self.tasks)}×)",
                f"workers that ran a task: {len(self.run.workers())} of {self.workers}",
            ]
        )


def play(ctx: Context, workers: int, chunksize: int, tasks: int, work_ms: float) -> PlayResult:
    """The playground: ``tasks`` tasks of ``work_ms`` of CPU, on 1 worker then on ``workers``.

    Every choice is checked before any process starts.
    """
    require_context(ctx)
    workers = require_positive_int(workers, "workers", maximum=MAX_PLAY_WORKERS)
    tasks = require_positive_int(tasks, "tasks", maximum=MAX_PLAY_TASKS)
    chunksize = require_positive_int(chunksize, "chunksize", maximum=tasks)
    work_ms = require_number(work_ms, "work (ms)", maximum=MAX_PLAY_WORK_MS)
    if tasks * work_ms > MAX_PLAY_CPU_MS:
        raise ValueError(
            f"tasks × work must be at most {MAX_PLAY_CPU_MS:,.0f} ms of CPU, "
            f"not {tasks} × {work_ms:g} ms = {tasks * work_ms:,.0f} ms: fewer or smaller tasks"
        )
    one = timeline(ctx, workers=1, tasks=tasks, seconds=work_ms / 1000, chunksize=chunksize)
    many = timeline(ctx, workers=workers, tasks=tasks, seconds=work_ms / 1000, chunksize=chunksize)
    return PlayResult(workers, chunksize, tasks, work_ms, one.seconds(), many.seconds(), many)
