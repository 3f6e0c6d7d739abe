"""Checker for lesson 09's first exercise: a whole job-server program over TCP.

The learner writes ``squares_over_tcp(ctx, numbers, clients)``: a
``BaseManager`` subclass started on loopback with a random authkey, serving a
queue and a dict; ``clients`` client processes that ``connect()`` and store
squares; then join, copy out, shut down. The checker runs it for real, bounded,
through :func:`helpers.checking.run_program`, and watches every manager the
program starts: a host other machines could reach, or a registered function
a spawned server could not import, is refused before the server starts (the
same under every start method, so a mistake fork would hide is named too).

>>> check_squares_over_tcp("squares_over_tcp")
✘ pass your function itself, e.g. check_squares_over_tcp(squares_over_tcp), not a str
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.managers import BaseManager, BaseProxy
from typing import Any

from helpers.checking import (
    ProgramRun,
    Verdict,
    common_mistake,
    fail,
    not_a_function,
    ok,
    run_program,
)
from helpers.context import get_context
from helpers.validation import LOOPBACK_HOSTS, require_timeout

__all__ = [
    "BOARD_JOBS",
    "BOARD_LEASE",
    "CLIENTS",
    "NUMBERS",
    "TCP_PROGRAM_TIMEOUT",
    "check_job_board",
    "check_squares_over_tcp",
]

NUMBERS = tuple(range(1, 13))
CLIENTS = 2
# A spawned server and two spawned clients start in about a second; a program
# still running after this is waiting for a sentinel that never comes.
TCP_PROGRAM_TIMEOUT = 30.0


class Refused(RuntimeError):
    """Raised in the learner's program instead of starting a manager that would be unsafe."""


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


@contextmanager
def _watching_managers() -> Iterator[list[dict[str, Any]]]:
    """Record each manager the program starts; refuse an unsafe one before it starts."""
    seen: list[dict[str, Any]] = []
    original = BaseManager.start

    def start(self: BaseManager, *args: Any, **kwargs: Any) -> None:
        address = self._address  # type: ignore[attr-defined]
        host = address[0] if isinstance(address, tuple) else None
        record = {"class": type(self).__name__, "host": host, "shut_down": False}
        seen.append(record)
        if host is not None and host not in LOOPBACK_HOSTS:
            raise Refused(
                f"your manager would listen on {host!r}, which other machines can reach, and "
                "whoever reaches it can make it unpickle (run) anything: bind to 127.0.0.1, "
                "and reach it from elsewhere through an SSH tunnel"
            )
        for typeid, (function, *_) in type(self)._registry.items():  # type: ignore[attr-defined]
            why = _unimportable(function) if function is not None else None
            if why:
                raise Refused(
                    f"{typeid!r} is registered with {why}: a server started by spawn or "
                    "forkserver (Linux's default from Python 3.14) must import it, so register "
                    "a module-level function written in my_workers_09.py"
                )
        original(self, *args, **kwargs)
        finalizer = self.shutdown  # set by start(); runs by itself only when the manager is freed

        def shutdown() -> None:
            record["shut_down"] = True
            finalizer()

        self.shutdown = shutdown  # type: ignore[assignment]

    BaseManager.start = start  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BaseManager.start = original  # type: ignore[method-assign]


def _is_server(record: Any) -> bool:
    return getattr(record.target, "__name__", "") == "_run_server"


def _refused(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    return str(run.error) if isinstance(run.error, Refused) else None


def _server_failed(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    if run.error is None or not servers or servers[0].exitcode in (0, None):
        return None
    return (
        "your manager's server process could not start (it exited with code "
        f"{servers[0].exitcode}): it must import the manager class and the functions "
        "registered on it, so define them in my_workers_09.py"
    )


def _no_sentinel(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    waiting = [p.name for p in clients if not p.joined]  # the program was still joining them
    if not (run.timed_out and waiting):
        return None
    return (
        f"your program did not finish within {run.timeout:g} s; never joined: "
        f"{', '.join(waiting)} — every client waits for a sentinel: put one None per "
        "client after the numbers (and join the clients only after putting them)"
    )


def _no_manager(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    if run.timed_out or run.error is not None or managers:
        return None
    return (
        "your program started no manager: create SquareManager(address=('127.0.0.1', 0), "
        "authkey=os.urandom(32), ctx=ctx) and call its start()"
    )


def _client_failed(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    failed = [p for p in clients if p.exitcode not in (0, None)]
    if not failed or run.error is not None or run.timed_out:
        return None
    return (
        f"client process {failed[0].name!r} ended with exit code {failed[0].exitcode}: "
        "did it wait for a job after the last one (one None per client), or was it "
        "given another authkey than the server's?"
    )


def _proxy_returned(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    if not isinstance(run.result, BaseProxy):
        return None
    return (
        "your program returned a proxy, which dies with the server: return a plain dict, "
        "copied out with manager.get_results().copy() before shutdown()"
    )


def _not_shut_down(run: ProgramRun, servers: list, clients: list, managers: list) -> str | None:
    if run.error is not None or run.timed_out or all(m["shut_down"] for m in managers):
        return None
    return (
        "your program never called manager.shutdown(): its server process runs until the "
        "manager object happens to be freed — call shutdown() once the results are copied "
        "out, in a finally block (or use `with`)"
    )


# The mistakes only this exercise can name, in the order to fix them, before the
# ones every lesson checks (helpers.checking.common_mistake).
LESSON_RULES = (
    _refused,
    _server_failed,
    _no_sentinel,
    _no_manager,
    _client_failed,
    _proxy_returned,
    _not_shut_down,
)


def _lesson_mistake(run: ProgramRun, managers: list[dict[str, Any]]) -> str | None:
    servers = [p for p in run.started if _is_server(p)]
    clients = [p for p in run.started if not _is_server(p)]
    for rule in LESSON_RULES:
        hint = rule(run, servers, clients, managers)
        if hint:
            return hint
    return None


def _judge_result(run: ProgramRun, clients: int) -> Verdict:
    expected = {n: n * n for n in NUMBERS}
    started = [p for p in run.started if not _is_server(p)]
    if len(started) < clients:
        return fail(
            f"your program started {len(started)} client process(es), asked for {clients}: "
            "start one process per client, each running client(manager.address, authkey)"
        )
    result = run.result
    if not isinstance(result, dict):
        return fail(
            f"your program returned a {type(result).__name__}: return the results as a dict "
            "{number: square}, e.g. manager.get_results().copy()"
        )
    missing = sorted(set(expected) - set(result))
    if missing:
        return fail(
            f"{len(missing)} of {len(NUMBERS)} numbers have no result ({missing[:4]}…): did you "
            "copy the results before the clients were joined, or put fewer jobs?"
        )
    wrong = {n: v for n, v in result.items() if expected.get(n) != v}
    if wrong:
        number, value = next(iter(wrong.items()))
        return fail(f"results[{number!r}] is {value!r}, expected {expected.get(number)!r}")
    return ok(
        f"all {len(NUMBERS)} squares came back through the server from {clients} client "
        "processes over TCP, and the server was shut down"
    )


def check_squares_over_tcp(
    program: Any,
    *,
    method: str | None = None,
    clients: int = CLIENTS,
    timeout: float = TCP_PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, NUMBERS, clients)`` bounded and name the first mistake, or pass."""
    require_timeout(timeout)
    refused = not_a_function(program, "check_squares_over_tcp(squares_over_tcp)")
    if refused is not None:
        return refused
    ctx = get_context(method)
    with _watching_managers() as managers:
        # Over TCP, not shared memory: a segment appearing meanwhile is another program's.
        run = run_program(
            program, ctx, list(NUMBERS), clients, timeout=timeout, shared_memory=False
        )
    hint = _lesson_mistake(run, managers) or common_mistake(run)
    if hint:
        return fail(hint)
    return _judge_result(run, clients)


# --------------------------------------------------------------------------
# Exercise 1: a job board that survives a client killed mid-request
# --------------------------------------------------------------------------

BOARD_JOBS = tuple(range(1, 9))
# A job's lease: long enough for a live client to finish it many times over,
# short enough that the check takes seconds.
BOARD_LEASE = 1.0
BOARD_TIMEOUT = 20.0


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
    from helpers.remote import board_client, take_and_hold  # noqa: PLC0415 - children's side
    from helpers.running import stop  # noqa: PLC0415

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
    manager_class: Any, *, method: str | None = None, timeout: float = BOARD_TIMEOUT
) -> Verdict:
    """Serve a board of 8 jobs with the learner's manager class; a client takes one and is
    killed mid-request; two more clients must finish every job, through the same server."""
    timeout = require_timeout(timeout)
    hint = _board_class_mistake(manager_class)
    if hint is None:
        hint = _board_mistake(_run_board(get_context(method), manager_class, timeout), timeout)
    if hint:
        return fail(hint)
    return ok(
        f"a client was killed holding a job, mid-request; the server kept answering, handed "
        f"that job out again after its lease, and all {len(BOARD_JOBS)} jobs were finished"
    )
