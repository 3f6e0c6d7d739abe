"""Lesson 09 (Beyond one machine): what runs in a child: a manager's server, a client, a server.

Standard library only.
"""

from __future__ import annotations

import queue
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Listener
from multiprocessing.managers import BaseManager, DictProxy

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from typing import Any


LOOPBACK = "127.0.0.1"
SENTINEL = None  # a client stops when it takes this off the queue

# These two objects exist in every process that imports this module, but only
# the server's are ever used: clients reach them through proxies.
_jobs: queue.Queue = queue.Queue()
_results: dict = {}


def get_jobs() -> queue.Queue:
    """Runs in the manager's server process: the one queue every client shares."""
    return _jobs


def get_results() -> dict:
    """Runs in the manager's server process: the one dict every client writes to."""
    return _results


class JobManager(BaseManager):
    """A manager serving a queue of jobs (``get_jobs``) and a dict of results (``get_results``).

    Registered with module-level functions, so that a server started under
    spawn or forkserver can import them; a lambda could not be sent there.
    """


JobManager.register("get_jobs", callable=get_jobs)
JobManager.register("get_results", callable=get_results, proxytype=DictProxy)


def square_jobs(
    address: tuple[str, int], authkey: bytes, label: str, timeout: float, work: float = 0.0
) -> None:
    """Runs in a client process: connect to the manager at ``address``, square its jobs.

    Takes numbers off the shared queue until the sentinel ``None`` and stores
    ``(square, label)`` in the shared dict under each number: the dict in the
    server is how the results get back. Each job takes ``work`` seconds, as real
    work would; waits at most ``timeout`` s per job.
    """
    manager: Any = JobManager(address=address, authkey=authkey)  # register() added get_jobs...
    manager.connect()  # no server process here: only a connection to it
    jobs, results = manager.get_jobs(), manager.get_results()
    while (number := jobs.get(timeout=timeout)) is not SENTINEL:
        time.sleep(work)
        results[number] = (number * number, label)


JobManager.register("get_jobs", callable=get_jobs)
JobManager.register("get_results", callable=get_results, proxytype=DictProxy)


def answer_requests(authkey: bytes, address_out: Connection, timeout: float) -> None:
    """Runs in a child: a server answering ``("square", n)`` requests over TCP.

    Listens on 127.0.0.1 (a free port) and sends its address on ``address_out``.
    Turns away callers without the key; serves the first that has it, replying
    ``n * n`` to each request — an error text to anything else — until
    ``("bye", None)`` or ``timeout`` s of silence.
    """
    with Listener((LOOPBACK, 0), authkey=authkey) as listener:
        address_out.send(listener.address)
        address_out.close()
        while True:
            try:
                conn = listener.accept()  # checks the caller's authkey first
            except AuthenticationError:
                continue  # not for them: wait for the next caller
            with conn:
                while conn.poll(timeout):
                    request, value = conn.recv()
                    if request == "bye":
                        return
                    conn.send(value * value if request == "square" else f"unknown {request!r}")
            return


def take_and_hold(board: Any, took: Any) -> None:
    """Runs in a client process that is about to be killed: take one job from ``board``
    (a job board's proxy), set the event ``took``, then keep asking the server for the
    results until killed, so that the kill lands while a request is under way."""
    job = None
    while job is None:
        job = board.take()
    took.set()
    while True:
        board.results()


def board_client(board: Any, label: str, timeout: float) -> int:
    """Runs in a client process: take jobs from ``board`` and finish each with its square,
    until ``board.all_done()``; give up (exit code 1) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not board.all_done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: the board never said all done within {timeout:g} s")
        job = board.take()
        if job is None:
            time.sleep(0.05)  # every job is out: one may come back when its lease runs out
        else:
            board.finish(job, job * job)
    return 0
