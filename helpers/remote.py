"""The standard library over TCP: a manager and a connection reachable by address.

A manager's server can listen on a TCP port instead of a private socket, and
then any process that knows the address and the **authkey** — on this machine
or, through an SSH tunnel, on another — can ``connect()`` and use the objects
it serves. :class:`JobManager` serves one queue of jobs and one dict of
results; :func:`square_jobs` is the client every process runs.
``multiprocessing.connection`` offers the layer underneath: a ``Listener``
that accepts connections and a ``Client`` that makes one, each end sending
and receiving pickled objects (:func:`answer_requests`).

Security, plainly: the authkey only proves, by an HMAC challenge, that both
ends know the same secret. Nothing is encrypted, and every message is a
pickle, which runs code when it is loaded. So a server binds to loopback
(``127.0.0.1``) only, and other machines reach it through an SSH tunnel.

Lifecycle: whoever calls ``JobManager(...).start()`` calls ``shutdown()``
once; clients only ``connect()``, and their proxies die with the server. A
``Listener`` is closed by the process that opened it (``with`` does it).

>>> JobManager(address=(LOOPBACK, 0), authkey=b"k" * 32).address
('127.0.0.1', 0)
"""

from __future__ import annotations

import queue
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener
from multiprocessing.managers import BaseManager, DictProxy

from helpers.validation import (
    require_authkey,
    require_context,
    require_loopback_host,
    require_timeout,
)

# Children import this module: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from typing import Any

    from helpers.context import Context

__all__ = [
    "LOOPBACK",
    "SENTINEL",
    "JobManager",
    "answer_requests",
    "ask_squares",
    "board_client",
    "get_jobs",
    "get_results",
    "square_jobs",
    "start_job_server",
    "take_and_hold",
    "wrong_key_refused",
]

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


def start_job_server(
    ctx: Context, authkey: bytes, *, host: str = LOOPBACK, port: int = 0
) -> JobManager:
    """Start a :class:`JobManager` server on ``host`` (loopback only) and return the manager.

    Port 0 asks the system for a free port; ``manager.address`` says which one
    it gave. The caller shuts the manager down.
    """
    require_context(ctx)
    require_authkey(authkey)
    require_loopback_host(host)
    manager = JobManager(address=(host, port), authkey=authkey, ctx=ctx)
    manager.start()
    return manager


def wrong_key_refused(address: tuple[str, int], authkey: bytes) -> bool:
    """Try to connect with ``authkey``; True if the server refused it (AuthenticationError)."""
    try:
        JobManager(address=address, authkey=authkey).connect()
    except AuthenticationError:
        return True
    return False


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


def ask_squares(
    address: tuple[str, int], authkey: bytes, numbers: list[int], timeout: float
) -> list:
    """Runs in the notebook: send each number to :func:`answer_requests`, return the replies."""
    require_timeout(timeout)
    replies = []
    with Client(address, authkey=authkey) as conn:
        for number in numbers:
            conn.send(("square", number))
            if not conn.poll(timeout):
                raise TimeoutError(f"no reply to ('square', {number}) within {timeout:g} s")
            replies.append(conn.recv())
        conn.send(("bye", None))
    return replies
