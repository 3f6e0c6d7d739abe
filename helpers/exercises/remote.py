"""Checker for lesson 09's first exercise: a job board that survives a client killed mid-request.

The learner writes a class ``Board(jobs, lease)`` that lives in a manager's
server (``take``, ``finish``, ``all_done``, ``results``) and a ``BaseManager``
subclass that registers it as ``"Board"``. The checker starts that manager on
loopback with a random authkey, kills a client process holding a job while a
request is under way, lets two more clients finish, and names the mistake: a job
never handed out again (no lease), clients stopped early (``all_done`` forgets
the jobs that are out), a server that stopped answering, a class the server
could not import.

>>> check_job_board("BoardManager")
✘ pass your manager class itself, e.g. check_job_board(my_board_09.BoardManager), not a str
"""

from __future__ import annotations

import os
import signal
from multiprocessing.managers import BaseManager
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    FAULT_TIMEOUT,
    Verdict,
    context_for,
    fail,
    ok,
)
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["BOARD_JOBS", "BOARD_LEASE", "check_job_board"]


def _unimportable(function: Any) -> str | None:
    """Why a spawned server could not import ``function``, or None if it could."""
    name = getattr(function, "__qualname__", "")
    if getattr(function, "__name__", "") == "<lambda>":
        return "a lambda"
    if "<locals>" in name:
        return f"{name.split('.<locals>')[0]}'s inner function {function.__name__!r}"
    if getattr(function, "__module__", None) == "__main__":
        return f"{function.__name__!r}, defined in a notebook cell"
    return None


# --------------------------------------------------------------------------
# Exercise 1: a job board that survives a client killed mid-request
# --------------------------------------------------------------------------

BOARD_JOBS = tuple(range(1, 9))
# A job's lease: long enough for a live client to finish it many times over,
# short enough that the check takes seconds.
BOARD_LEASE = 1.0


def _board_class_mistake(manager_class: Any) -> str | None:
    if not (isinstance(manager_class, type) and issubclass(manager_class, BaseManager)):
        return (
            "pass your manager class itself, e.g. check_job_board(my_board_09.BoardManager), "
            f"not a {type(manager_class).__name__}"
        )
    registry = manager_class._registry  # type: ignore[attr-defined]
    if "Board" not in registry:
        return (
            "your manager class has no 'Board' registered: BoardManager.register('Board', Board), "
            "so that manager.Board(jobs, lease) makes a board in the server"
        )
    why = _unimportable(registry["Board"][0])
    if why:
        return (
            f"'Board' is registered with {why}: a server started by spawn or forkserver must "
            "import it, so write the class in my_board_09.py"
        )
    return None


def _run_board(ctx: Any, manager_class: Any, timeout: float) -> dict[str, Any]:
    """Start the learner's server, kill a client holding a job mid-request, let two finish."""
    from helpers.remote import board_client, take_and_hold  # children's side
    from helpers.running import stop

    seen: dict[str, Any] = {"took": False, "clients": [], "results": None, "error": None}
    manager = manager_class(address=("127.0.0.1", 0), authkey=os.urandom(32), ctx=ctx)
    manager.start()
    children = []
    try:
        board = manager.Board(list(BOARD_JOBS), BOARD_LEASE)
        took = ctx.Event()
        doomed = ctx.Process(target=take_and_hold, args=(board, took), name="doomed client")
        children.append(doomed)
        doomed.start()
        seen["took"] = took.wait(timeout)
        os.kill(doomed.pid, signal.SIGKILL)  # it holds a job, and a request is under way
        doomed.join(timeout)
        if not seen["took"]:
            return seen
        for k in (1, 2):
            client = ctx.Process(
                target=board_client, args=(board, f"client-{k}", timeout), name=f"client-{k}"
            )
            children.append(client)
            client.start()
        for client in children[1:]:
            client.join(timeout + 5)
        seen["clients"] = [c.exitcode for c in children[1:]]
        seen["results"] = board.results()
    except (EOFError, OSError) as error:  # the server stopped answering
        seen["error"] = error
    finally:
        for child in children:
            if child.is_alive():
                stop(child)
        manager.shutdown()
    return seen


def _board_mistake(seen: dict[str, Any], timeout: float) -> str | None:
    """What the run with a killed client says about the learner's board, or None."""
    if seen["error"] is not None:
        return (
            f"the server stopped answering ({type(seen['error']).__name__}) after a client "
            "was killed: does a method of your Board raise, or hold a lock it never releases?"
        )
    if not seen["took"]:
        return f"board.take() gave no job within {timeout:g} s: return the next waiting job"
    results = seen["results"] or {}
    finished = all(code == 0 for code in seen["clients"])
    lost = sorted(set(BOARD_JOBS) - set(results))
    if lost:
        never_again = (
            f"job {lost[0]} was never finished: the killed client held it, and your board "
            "never handed it out again. Note when each job was taken; in take(), put back "
            "a job whose lease has run out"
        )
        stopped_early = (
            f"the clients stopped with job {lost[0]} unfinished: all_done() must stay False "
            "while a job is still out (taken, not finished), not only while jobs wait"
        )
        return stopped_early if finished else never_again
    if not finished:
        return (
            "every job was finished, but a client never saw all_done() become True: return "
            "True once no job waits and none is out"
        )
    wrong = [n for n in BOARD_JOBS if results[n] != n * n]
    if wrong:
        return f"results()[{wrong[0]}] is {results[wrong[0]]!r}, expected {wrong[0] ** 2}"
    return None


def check_job_board(
    manager_class: Any, *, ctx: Context | None = None, timeout: float = FAULT_TIMEOUT
) -> Verdict:
    """Serve a board of 8 jobs with the learner's manager class; a client takes one and is
    killed mid-request; two more clients must finish every job, through the same server."""
    timeout = require_timeout(timeout)
    hint = _board_class_mistake(manager_class)
    if hint is None:
        hint = _board_mistake(_run_board(context_for(ctx), manager_class, timeout), timeout)
    if hint:
        return fail(hint)
    return ok(
        f"a client was killed holding a job, mid-request; the server kept answering, handed "
        f"that job out again after its lease, and all {len(BOARD_JOBS)} jobs were finished"
    )
