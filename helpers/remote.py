"""Lesson 09 (Beyond one machine): the standard library over TCP, reached by address.

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

from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from typing import TYPE_CHECKING

from helpers.validation import (
    require_authkey,
    require_context,
    require_loopback_host,
    require_timeout,
)
from helpers.workers.remote import (
    LOOPBACK,
    SENTINEL,
    JobManager,
    answer_requests,
    board_client,
    get_jobs,
    get_results,
    square_jobs,
    take_and_hold,
)

if TYPE_CHECKING:
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
