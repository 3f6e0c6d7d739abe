"""Programs for lesson 09's first exercise, right and wrong, used only by its tests.

They live in a module, not in the tests, because under spawn and forkserver the
client processes they start must import their function by name; pytest puts
this folder on ``sys.path``, and a spawned child inherits it.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from multiprocessing.managers import BaseManager, DictProxy

_jobs: queue.Queue = queue.Queue()
_results: dict = {}


def get_jobs() -> queue.Queue:
    return _jobs


def get_results() -> dict:
    return _results


class SquareManager(BaseManager):
    pass


SquareManager.register("get_jobs", callable=get_jobs)
SquareManager.register("get_results", callable=get_results, proxytype=DictProxy)


class LambdaManager(BaseManager):
    pass


LambdaManager.register("get_jobs", callable=lambda: _jobs)
LambdaManager.register("get_results", callable=lambda: _results, proxytype=DictProxy)


def client(address, authkey, wait=10.0):
    manager = SquareManager(address=address, authkey=authkey)
    manager.connect()
    jobs, results = manager.get_jobs(), manager.get_results()  # type: ignore[attr-defined]
    while (number := jobs.get(timeout=wait)) is not None:
        results[number] = number * number


def patient_client(address, authkey):
    """A client that waits for its next job as long as it takes."""
    manager = SquareManager(address=address, authkey=authkey)
    manager.connect()
    jobs, results = manager.get_jobs(), manager.get_results()  # type: ignore[attr-defined]
    while (number := jobs.get()) is not None:
        results[number] = number * number


def _program(
    ctx,
    numbers,
    clients,
    *,
    manager_class=SquareManager,
    host="127.0.0.1",
    sentinels=None,
    target=client,
    args=(),
    join=30,
    copy=True,
    shut_down=True,
):
    authkey = os.urandom(32)
    manager = manager_class(address=(host, 0), authkey=authkey, ctx=ctx)
    manager.start()
    try:
        jobs = manager.get_jobs()
        for number in numbers:
            jobs.put(number)
        for _ in range(clients if sentinels is None else sentinels):
            jobs.put(None)
        processes = [
            ctx.Process(target=target, args=(manager.address, authkey, *args))
            for _ in range(clients)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=join)
        results = manager.get_results()
        return results.copy() if copy else results
    finally:
        if shut_down:
            manager.shutdown()


def reference(ctx, numbers, clients):
    return _program(ctx, numbers, clients)


def registers_a_lambda(ctx, numbers, clients):
    return _program(ctx, numbers, clients, manager_class=LambdaManager)


def never_shuts_down(ctx, numbers, clients):
    return _program(ctx, numbers, clients, shut_down=False)


def one_sentinel_for_all(ctx, numbers, clients):
    return _program(ctx, numbers, clients, sentinels=1, args=(1.0,), join=10)


def one_sentinel_and_patient_clients(ctx, numbers, clients):
    return _program(ctx, numbers, clients, sentinels=1, target=patient_client, join=None)


def binds_every_interface(ctx, numbers, clients):
    return _program(ctx, numbers, clients, host="0.0.0.0")


def returns_the_proxy(ctx, numbers, clients):
    return _program(ctx, numbers, clients, copy=False)


def one_client_only(ctx, numbers, clients):
    return _program(ctx, numbers, 1)


# --- exercise 1: a job board that survives a client killed mid-request ------------------


class Board:
    """The reference board: jobs handed out under a lease, put back when it runs out."""

    def __init__(self, jobs, lease):
        self._lock = threading.Lock()  # each client is served by a thread of its own
        self._waiting, self._out, self._done, self._lease = list(jobs), {}, {}, lease

    def take(self):
        with self._lock:
            now = time.monotonic()
            for job, since in list(self._out.items()):
                if now - since > self._lease:  # its taker died or hangs
                    del self._out[job]
                    self._waiting.append(job)
            if not self._waiting:
                return None
            job = self._waiting.pop(0)
            self._out[job] = now
            return job

    def finish(self, job, result):
        with self._lock:
            self._out.pop(job, None)
            self._done[job] = result

    def all_done(self):
        with self._lock:
            return not self._waiting and not self._out

    def results(self):
        with self._lock:
            return dict(self._done)


class BoardManager(BaseManager):
    pass


BoardManager.register("Board", Board)


class NoLeaseBoard(Board):
    def take(self):  # never puts a job back: the killed client's job is lost
        with self._lock:
            if not self._waiting:
                return None
            job = self._waiting.pop(0)
            self._out[job] = time.monotonic()
            return job


class NoLeaseManager(BaseManager):
    pass


NoLeaseManager.register("Board", NoLeaseBoard)


class HastyBoard(NoLeaseBoard):
    def all_done(self):  # forgets the jobs that are out
        with self._lock:
            return not self._waiting


class HastyManager(BaseManager):
    pass


HastyManager.register("Board", HastyBoard)


class NoBoardManager(BaseManager):
    pass
