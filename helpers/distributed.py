"""Lesson 09 (Beyond one machine): Dask from the notebook; connect, measure, fail over, draw.

The same cells run on a laptop and on a cluster: :func:`connect` joins the
scheduler named by ``DASK_SCHEDULER_ADDRESS`` when that variable is set, and
otherwise starts a ``LocalCluster`` of :data:`WORKERS` worker processes on
this machine. Only the notebook's process imports this module: a
process-pool child imports :func:`busy` from :mod:`helpers.workers.distributed`,
and ``distributed`` is imported inside the functions that use it.

Importing the module turns Dask's own log messages down to errors, in this
process and in the worker processes it starts, so that a worker being
restarted on purpose does not fill a cell with warnings.

Lifecycle: whoever calls :func:`connect` calls :func:`close` once; it closes
the client and, if :func:`connect` started one, the local cluster.

>>> busy(0)
0
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.validation import require_context, require_positive_int, require_timeout
from helpers.workers.distributed import (
    busy,
    first_run_lingers,
    kill_process,
)

if TYPE_CHECKING:
    from distributed import Client, Future

    from helpers.context import Context

__all__ = [
    "HUB_DASHBOARD_LINK",
    "HUB_PREFIX_ENV",
    "SCHEDULER_ENV",
    "WORKERS",
    "ClientOnDemand",
    "Measured",
    "TaskRun",
    "busy",
    "close",
    "connect",
    "draw_task_stream",
    "first_run_lingers",
    "format_measurements",
    "kill_process",
    "link_dashboard_through_the_hub",
    "measure",
    "plot_measurements",
    "replaced",
    "run_tasks",
    "worker_running",
]

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
WORKERS = 2  # a laptop's local cluster; the external one in the course starts two as well
# Long enough for a cluster to start on a loaded laptop (spawned workers import Dask).
CONNECT_TIMEOUT = 60.0
MAX_TASKS = 400
MAX_TASK_MS = 2_000


def _quiet() -> None:
    # Workers started from here read this when they import Dask; this process's
    # loggers are set directly, since Dask may already be imported.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    logging.getLogger("distributed").setLevel(logging.ERROR)


_quiet()

# Where JupyterHub (Binder) serves this server: jupyter-server-proxy forwards
# {prefix}proxy/<port>/ to 127.0.0.1:<port>, where the dashboard listens. Dask
# fills in {JUPYTERHUB_SERVICE_PREFIX} and {port} itself when it formats the link.
HUB_PREFIX_ENV = "JUPYTERHUB_SERVICE_PREFIX"
HUB_DASHBOARD_LINK = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"


def link_dashboard_through_the_hub(environ: Any = None) -> str | None:
    """Make the dashboard link a client prints work behind JupyterHub (Binder).

    When ``JUPYTERHUB_SERVICE_PREFIX`` is set in ``environ`` (``os.environ`` by
    default), sets ``distributed.dashboard.link`` to :data:`HUB_DASHBOARD_LINK`
    (for Dask imported later, through its environment variable in that same
    ``environ``; for Dask already imported, through ``dask.config``)
    and returns it; elsewhere changes nothing and returns None. Called once
    when this module is imported.
    """
    env = os.environ if environ is None else environ
    if not env.get(HUB_PREFIX_ENV):
        return None
    env.setdefault("DASK_DISTRIBUTED__DASHBOARD__LINK", HUB_DASHBOARD_LINK)
    if "dask" in sys.modules:
        import dask  # only where Dask is already loaded

        dask.config.set({"distributed.dashboard.link": HUB_DASHBOARD_LINK})
    return HUB_DASHBOARD_LINK


link_dashboard_through_the_hub()


def connect(*, workers: int = WORKERS, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client of ``DASK_SCHEDULER_ADDRESS``'s cluster if set, else of a new local one.

    The local cluster has ``workers`` worker processes of one thread each, each
    watched by a nanny that restarts it if it dies. Waits (at most ``timeout``
    s) until at least ``workers`` workers are connected either way.
    """
    from distributed import Client, LocalCluster  # the parent's alone

    require_positive_int(workers, "workers", maximum=8)
    require_timeout(timeout)
    address = os.environ.get(SCHEDULER_ENV)
    if address:
        client = Client(address, timeout=timeout)
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, timeout=timeout)
    client.wait_for_workers(workers, timeout=timeout)
    return client


def close(client: Client) -> None:
    """Close ``client`` and, if :func:`connect` started it, its local cluster."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


class ClientOnDemand:
    """A client for a widget: the one given while it is open, else one of its own.

    The notebook's cleanup closes its client; a playground used afterwards
    then connects afresh (:func:`connect`) instead of failing, and
    :meth:`close` closes only a client it made itself.
    """

    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._own = False

    def get(self) -> Client:
        """A running client: the current one, or a new one if it was closed."""
        if self._client is None or self._client.status != "running":
            self._client = connect()
            self._own = True
        return self._client

    def close(self) -> None:
        """Close the client if this object made it (and the cluster it started)."""
        if self._own and self._client is not None and self._client.status == "running":
            close(self._client)
        self._own = False


def worker_running(client: Client, future: Future, *, timeout: float = 30.0) -> str:
    """The address of the worker ``future``'s task is assigned to, once it is; bounded."""
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if future.key in keys:
                return worker
        time.sleep(0.05)
    raise TimeoutError(f"no worker took task {future.key!r} within {timeout:g} s")


def replaced(
    client: Client, gone: list[str], *, workers: int = WORKERS, timeout: float = 60.0
) -> list[str]:
    """Wait until ``workers`` workers are connected, none of them ``gone``; return their addresses.

    After a worker is killed, its nanny starts a fresh one at a new address;
    this waits (at most ``timeout`` s) until the scheduler knows both facts.
    """
    require_positive_int(workers, "workers")
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    while True:
        now = sorted(client.scheduler_info(n_workers=-1)["workers"])
        if len(now) >= workers and not set(gone) & set(now):
            return now
        if time.monotonic() > deadline:
            raise TimeoutError(f"{workers} fresh workers were not connected within {timeout:g} s")
        time.sleep(0.2)


# ---------------------------------------------------------------------------
# Measurements: Dask's per-task cost against a process pool's, on this machine
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One row: ``tasks`` tasks of ``task_ms`` ms each, seconds in a pool and in Dask."""

    task_ms: float
    tasks: int
    pool_s: float
    dask_s: float


def _time_pool(pool: Any, task_ms: float, tasks: int, timeout: float) -> float:
    began = time.perf_counter()
    futures = [pool.submit(busy, task_ms) for _ in range(tasks)]
    for future in futures:
        future.result(timeout=timeout)
    return time.perf_counter() - began


def _time_dask(client: Client, task_ms: float, tasks: int, timeout: float) -> float:
    from distributed import wait  # the parent's alone

    began = time.perf_counter()
    futures = [client.submit(busy, task_ms, pure=False) for _ in range(tasks)]
    wait(futures, timeout=timeout)
    elapsed = time.perf_counter() - began
    client.cancel(futures)
    return elapsed


def measure(
    client: Client,
    ctx: Context,
    *,
    task_ms: tuple[float, ...] = (0, 2, 10),
    tasks: int = 200,
    timeout: float = 60.0,
) -> list[Measured]:
    """Time ``tasks`` tasks of each length on Dask and on a pool of as many processes.

    The pool (``ProcessPoolExecutor`` made with ``ctx``) has one process per
    Dask worker and is warmed up first, so neither side pays start-up here.
    """
    from concurrent.futures import ProcessPoolExecutor

    require_context(ctx)
    require_positive_int(tasks, "tasks", maximum=5_000)
    require_timeout(timeout)
    processes = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    rows = []
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        _time_pool(pool, 0, processes * 2, timeout)  # start every pool process
        _time_dask(client, 0, processes * 2, timeout)
        for ms in task_ms:
            pool_s = _time_pool(pool, ms, tasks, timeout)
            rows.append(Measured(ms, tasks, pool_s, _time_dask(client, ms, tasks, timeout)))
    return rows


def format_measurements(rows: list[Measured]) -> str:
    """The rows as a table: tasks per second on each side, and Dask's extra µs per task."""
    lines = [f"{'task':>7} {'pool tasks/s':>13} {'Dask tasks/s':>13} {'Dask extra µs/task':>19}"]
    for row in rows:
        extra = (row.dask_s - row.pool_s) / row.tasks * 1e6
        lines.append(
            f"{row.task_ms:>4g} ms {row.tasks / row.pool_s:>13,.0f} "
            f"{row.tasks / row.dask_s:>13,.0f} {extra:>19,.0f}"
        )
    return "\n".join(lines)


def plot_measurements(rows: list[Measured]) -> Any:
    """Milliseconds per task on the pool and on Dask, beside the task's own length.

    Where the task is empty, everything drawn is the cost of sending it; the
    grey line is the task's own length, the least either side can take.
    """
    from matplotlib.figure import Figure  # the parent's alone

    figure = Figure(figsize=(6.5, 2.8), layout="constrained")
    axes = figure.subplots()
    labels = [f"{row.task_ms:g} ms tasks" for row in rows]
    places = range(len(rows))
    for shift, side, colour in ((-0.2, "pool", "tab:blue"), (0.2, "Dask", "tab:orange")):
        per_task = [(r.pool_s if side == "pool" else r.dask_s) / r.tasks * 1e3 for r in rows]
        axes.bar([p + shift for p in places], per_task, width=0.4, color=colour, label=side)
    axes.hlines([r.task_ms for r in rows], [p - 0.4 for p in places], [p + 0.4 for p in places],
                colors="grey", linestyles="--", label="the task's own length")  # fmt: skip
    axes.set_xticks(list(places), labels)
    axes.set(ylabel="ms per task (wall clock)", title="What one task costs, end to end")
    axes.legend(fontsize="small")
    return figure


# ---------------------------------------------------------------------------
# The playground: run tasks on chosen workers and draw who ran what, when
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRun:
    """What :func:`run_tasks` did: its inputs, the wall time, the task stream records."""

    tasks: int
    task_ms: int
    workers: int
    seconds: float
    stream: list[dict[str, Any]]


def run_tasks(
    client: Client, tasks: Any, task_ms: Any, workers: Any, *, timeout: float = 120.0
) -> TaskRun:
    """Run ``tasks`` tasks of ``task_ms`` ms on the first ``workers`` workers; record the stream.

    Inputs are checked before anything is sent: at most :data:`MAX_TASKS`
    tasks, :data:`MAX_TASK_MS` ms each, and no more workers than are connected.
    """
    from distributed import get_task_stream, wait  # the parent's alone

    tasks = require_positive_int(tasks, "tasks", maximum=MAX_TASKS)
    task_ms = require_positive_int(task_ms, "task ms", maximum=MAX_TASK_MS)
    connected = sorted(client.scheduler_info(n_workers=-1)["workers"])
    workers = require_positive_int(workers, "workers", maximum=max(1, len(connected)))
    require_timeout(timeout)
    chosen = connected[:workers]
    with get_task_stream(client=client) as stream:
        began = time.perf_counter()
        futures = client.map(busy, [task_ms] * tasks, pure=False, workers=chosen)
        wait(futures, timeout=timeout)
        seconds = time.perf_counter() - began
    client.cancel(futures)
    ours = {future.key for future in futures}  # the stream records every task on the cluster
    return TaskRun(tasks, task_ms, workers, seconds, [r for r in stream.data if r["key"] in ours])


def draw_task_stream(run: TaskRun, ax: Any = None) -> Any:
    """Draw one row per worker and one bar per task it computed, in seconds from the first."""
    import matplotlib.pyplot as plt  # only when drawing

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1 + 0.5 * run.workers))
    spans = [
        (record["worker"], part["start"], part["stop"])
        for record in run.stream
        for part in record["startstops"]
        if part["action"] == "compute"
    ]
    workers = sorted({worker for worker, _, _ in spans})
    origin = min((start for _, start, _ in spans), default=0.0)
    for row, worker in enumerate(workers):
        bars = [(start - origin, stop - start) for w, start, stop in spans if w == worker]
        ax.broken_barh(bars, (row - 0.4, 0.8), edgecolor="white", linewidth=0.5)
    ax.set_yticks(range(len(workers)), [f"worker {n + 1}" for n in range(len(workers))])
    ax.set_xlabel("seconds since the first task started")
    ax.set_title(f"{run.tasks} tasks × {run.task_ms} ms on {run.workers} worker(s)")
    return ax
