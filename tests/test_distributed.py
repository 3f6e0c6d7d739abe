"""Tests for `helpers.distributed`: connect, measure, run and draw tasks, survive a dead worker.

One cluster serves the module: the one named by DASK_SCHEDULER_ADDRESS if set
(as when tools/dask_cluster.sh runs the tests), else a LocalCluster of two workers.
"""

from __future__ import annotations

import os
import signal

import matplotlib
import pytest

from helpers import distributed as course_dask
from helpers.distributed import (
    ClientOnDemand,
    busy,
    close,
    connect,
    draw_task_stream,
    format_measurements,
    measure,
    replaced,
    run_tasks,
    worker_running,
)

matplotlib.use("Agg")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    connected = connect()
    yield connected
    close(connected)


def _workers(client):
    return client.scheduler_info(n_workers=-1)["workers"]


def test_connect_waits_for_two_workers_of_one_thread(client):
    assert len(_workers(client)) >= course_dask.WORKERS
    assert set(client.nthreads().values()) == {1}


def test_connect_uses_the_scheduler_address_when_set(client, monkeypatch):
    monkeypatch.setenv(course_dask.SCHEDULER_ENV, client.scheduler.address)
    other = connect(timeout=30)
    try:
        assert other.cluster is None  # a client of that scheduler; no cluster of its own
        assert other.scheduler.address == client.scheduler.address
    finally:
        close(other)
    assert client.status == "running"  # closing the second client left the first alone


def test_close_stops_a_local_cluster_it_started(monkeypatch):
    monkeypatch.delenv(course_dask.SCHEDULER_ENV, raising=False)
    local = connect(workers=1)
    cluster = local.cluster
    close(local)
    assert local.status == "closed"
    assert cluster.status.name == "closed"


def test_busy_returns_its_duration():
    assert busy(0) == 0
    assert busy(1) == 1


def test_identical_calls_become_one_task_unless_impure(client):
    same = client.map(busy, [0, 0, 0])
    assert len({f.key for f in same}) == 1
    fresh = client.map(busy, [0, 0, 0], pure=False)
    assert len({f.key for f in fresh}) == 3
    distributed.wait([*same, *fresh], timeout=30)


def test_measure_times_both_sides_for_every_task_length(client, ctx):
    rows = measure(client, ctx, task_ms=(0, 1), tasks=20)
    assert [row.task_ms for row in rows] == [0, 1]
    assert all(row.tasks == 20 and row.pool_s > 0 and row.dask_s > 0 for row in rows)
    table = format_measurements(rows).splitlines()
    assert table[0].split() == [
        "task",
        "pool",
        "tasks/s",
        "Dask",
        "tasks/s",
        "Dask",
        "extra",
        "µs/task",
    ]
    assert len(table) == 3


def test_run_tasks_records_every_task_on_the_chosen_workers(client):
    done = run_tasks(client, 6, 20, 1)
    assert (done.tasks, done.task_ms, done.workers) == (6, 20, 1)
    assert len(done.stream) == 6
    assert len({record["worker"] for record in done.stream}) == 1
    assert done.seconds >= 6 * 0.020
    ax = draw_task_stream(done)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["worker 1"]
    assert len(ax.collections) == 1  # one row of bars


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 10, 1), ValueError, "tasks must be at least 1, not 0"),
        ((5, 0, 1), ValueError, "task ms must be at least 1, not 0"),
        ((5, 10, 3), ValueError, "workers must be at most 2, not 3"),
        (("5", 10, 1), TypeError, "tasks must be a whole number, not str '5'"),
        ((401, 10, 1), ValueError, "tasks must be at most 400, not 401"),
    ],
)
def test_run_tasks_refuses_bad_choices_before_sending_anything(client, args, error, message):
    if args[2] == 3 and len(_workers(client)) != 2:
        pytest.skip("the message names how many workers are connected")
    with pytest.raises(error) as info:
        run_tasks(client, *args)
    assert str(info.value) == message


def test_worker_running_names_the_worker_and_gives_up_in_time(client):
    future = client.submit(busy, 300, pure=False)
    assert worker_running(client, future, timeout=30) in _workers(client)
    future.result(timeout=30)
    with pytest.raises(TimeoutError, match="no worker took task"):
        worker_running(client, future, timeout=0.3)  # finished: no longer processing


@pytest.mark.slow  # the notebook shows the same under plain pytest
@pytest.mark.timeout(180)
def test_a_task_whose_worker_is_killed_finishes_on_another_and_the_worker_comes_back(client):
    # Defined here, as a cell would: Dask sends the code of a local function, while one
    # at the top of this module would be sent by name, which an external cluster's
    # workers cannot import.
    def _slow_square(x, seconds):
        import time

        from distributed import get_worker

        time.sleep(seconds)
        return x * x, get_worker().address

    async def _kill(pid):
        os.kill(pid, signal.SIGKILL)

    before = len(_workers(client))
    future = client.submit(_slow_square, 9, 2, pure=False)
    victim = worker_running(client, future, timeout=30)
    pid = client.run(os.getpid, workers=[victim])[victim]
    client.run(_kill, pid, workers=[victim], wait=False)
    square, ran_on = future.result(timeout=90)
    assert square == 81
    assert ran_on != victim
    # The nanny replaced it: as many workers as before, the victim not among them.
    assert len(replaced(client, [victim], workers=before, timeout=90)) >= before


def test_replaced_gives_up_in_time(client):
    with pytest.raises(TimeoutError, match=r"9 fresh workers were not connected within 0\.5 s"):
        replaced(client, [], workers=9, timeout=0.5)


def test_client_on_demand_uses_the_open_client_then_makes_its_own(client, monkeypatch):
    given = ClientOnDemand(client)
    assert given.get() is client
    given.close()  # not its own: left open
    assert client.status == "running"

    # Its own client, here of the same scheduler: connect's local cluster is tested above.
    monkeypatch.setenv(course_dask.SCHEDULER_ENV, client.scheduler.address)
    closed = connect(timeout=30)
    on_demand = ClientOnDemand(closed)
    close(closed)
    fresh = on_demand.get()
    try:
        assert fresh is not closed and fresh.status == "running"
    finally:
        on_demand.close()
    assert fresh.status == "closed"
    assert client.status == "running"


def test_the_dashboard_link_goes_through_the_hub_when_there_is_one(monkeypatch):
    import dask
    from distributed.utils import format_dashboard_link

    assert course_dask.link_dashboard_through_the_hub({}) is None
    # A mapping of its own, not os.environ: a link template left in this process's
    # environment would reach every kernel started later in the same test run,
    # where Dask cannot fill in the hub's prefix (KeyError in notebook 09).
    environ = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    default = dask.config.get("distributed.dashboard.link")
    with dask.config.set({"distributed.dashboard.link": default}):  # restored on exit
        link = course_dask.link_dashboard_through_the_hub(environ)
        assert link == course_dask.HUB_DASHBOARD_LINK
        assert environ["DASK_DISTRIBUTED__DASHBOARD__LINK"] == link
        assert "DASK_DISTRIBUTED__DASHBOARD__LINK" not in os.environ
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")  # Dask formats from here
        assert format_dashboard_link("127.0.0.1", 8787) == "/user/ada/proxy/8787/status"
