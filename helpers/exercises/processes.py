"""Checkers for lesson 00's exercises: a child's own PID, what a child inherits, shipping a worker.

Two exercises ask for a worker written in a notebook cell. Such a function
cannot be imported by a child, so these checkers run it with ``multiprocess``
(whose dill pickling sends the function's code along) and use only
``multiprocess`` objects for it — pipe and process alike. Every wait has a
timeout; a worker that never finishes is stopped and named in the hint.

>>> check_predictions({"spawn": False, "fork": True, "forkserver": False})
✔ right for all three: only a fork child starts with the notebook's changes
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers import processes
from helpers.checking import Verdict, fail, ok, raised_hint
from helpers.context import START_METHODS, get_context, get_multiprocess_context
from helpers.running import ChildError, ChildTimeout, start, wait
from helpers.validation import require_timeout

__all__ = ["CHECK_TIMEOUT", "check_own_pid", "check_predictions", "check_scale_worker"]

# A spawned multiprocess child imports dill before it runs anything: well under
# a second normally, several on a loaded laptop. Twenty means really stuck.
from helpers.checking import CHECK_TIMEOUT

# What check_scale_worker feeds the learner's worker, and what must come back.
SCALE_NUMBERS = (1, 2, 3)
SCALE_FACTOR = 10

_NOT_SENT = (
    "your worker finished without sending anything: whatever a worker returns is "
    "thrown away, so send the answer through the connection with conn.send(...)"
)


@dataclass
class _Run:
    """What happened when a learner's worker ran in a child."""

    answer: Any = None
    sent: bool = False
    pid: int | None = None
    problem: str | None = None  # a hint, when the run itself went wrong


def _run_cell_worker(worker: Any, *args: Any, method: str | None, timeout: float) -> _Run:
    """Run ``worker(conn, *args)`` in a ``multiprocess`` child and collect what happened."""
    require_timeout(timeout)  # before the child exists, so a bad value leaks nothing
    ctx = get_multiprocess_context(method)
    reader, writer = ctx.Pipe(duplex=False)
    try:
        child = start(ctx, worker, writer, *args, name=getattr(worker, "__name__", "worker"))
    except Exception as exc:  # dill could not pickle it: a hint, not a traceback
        reader.close()
        return _Run(
            problem=f"your worker could not be sent to a child: {type(exc).__name__}: {exc}"
        )
    finally:
        writer.close()  # the checker only reads; EOF now means the child has gone
    run = _Run(pid=child.process.pid)
    try:
        if reader.poll(timeout):
            run.answer, run.sent = reader.recv(), True
    except EOFError:
        pass  # exited without sending; wait() says whether it raised
    finally:
        reader.close()
    try:
        wait([child], timeout=timeout)
    except ChildTimeout:
        run.problem = (
            f"your worker did not finish within {timeout:g} s and was stopped: does it wait "
            "for something that never comes, such as conn.recv() or an endless loop?"
        )
    except ChildError as err:
        run.problem = _hint_for_error(err)
    return run


def _hint_for_error(err: ChildError) -> str:
    if err.exc_type is None:
        return f"your worker's child died without reporting why (exit code {err.exitcode})"
    return raised_hint("worker", err.exc_type, err.exc_message)


def _takes(worker: Callable[..., Any], count: int) -> bool:
    """True if ``worker`` can be called with ``count`` positional arguments."""
    try:
        inspect.signature(worker).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature to inspect (some builtins): let the run decide
        return True
    return True


def check_own_pid(  # noqa: PLR0911 - one early return per hint
    worker: Any, *, method: str | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
    """Exercise 1: ``worker(conn)``, written in a cell, must send the child's own PID.

    The worker runs in a ``multiprocess`` child under the course's start method
    (or ``method``); the checker compares what it sent with the child's PID.
    """
    if not callable(worker):
        return fail(
            "pass your worker function itself, without calling it: check_own_pid(my_pid), "
            f"not a {type(worker).__name__}"
        )
    if not _takes(worker, 1):
        return fail("your worker must take one parameter, the connection: def my_pid(conn): ...")
    run = _run_cell_worker(worker, method=method, timeout=timeout)
    if run.problem is not None:
        return fail(run.problem)
    if not run.sent:
        return fail(_NOT_SENT)
    if isinstance(run.answer, bool) or not isinstance(run.answer, int):
        return fail(
            f"you sent a {type(run.answer).__name__} ({run.answer!r}); send the PID itself, "
            "the whole number that os.getpid() returns"
        )
    if run.answer == os.getpid():
        return fail(
            "you sent the PID of the notebook's own process, the child's parent: call "
            "os.getpid() inside the worker, where it names the child"
        )
    if run.answer != run.pid:
        return fail(
            f"you sent {run.answer}, but the child's PID was {run.pid}: call os.getpid() "
            "inside the worker and send exactly that"
        )
    return ok("the child sent its own PID, and it is not the notebook's")


_WHY = {
    "spawn": "a spawn child is a fresh interpreter that imports helpers.processes anew, "
    "so it sees the module's original value",
    "fork": "a fork child starts as a copy of the parent's memory, changes included, "
    "so it does see the new value",
    "forkserver": "a forkserver child is copied from the fork server, a clean process that "
    "never ran your notebook, so it sees the original value",
}


def check_predictions(predictions: Any) -> Verdict:
    """Exercise 2: predict, per start method, whether a child sees a changed module global.

    ``predictions`` maps each of ``"spawn"``, ``"fork"`` and ``"forkserver"`` to
    True or False. The checker then changes ``helpers.processes.counter`` in
    this process, asks one child per method what it sees, and restores it.
    """
    if not isinstance(predictions, dict):
        return fail(
            "write your predictions as a dict: {'spawn': True or False, 'fork': ..., "
            f"'forkserver': ...}}, not a {type(predictions).__name__}"
        )
    missing = [m for m in START_METHODS if m not in predictions]
    extra = sorted(repr(k) for k in predictions if k not in START_METHODS)
    if missing or extra:
        return fail(
            "your dict needs exactly the keys 'spawn', 'fork' and 'forkserver'"
            + (f"; missing: {', '.join(repr(m) for m in missing)}" if missing else "")
            + (f"; not a start method: {', '.join(extra)}" if extra else "")
        )
    for method in START_METHODS:
        if not isinstance(predictions[method], bool):
            return fail(
                f"predictions[{method!r}] should be True or False, not {predictions[method]!r}"
            )
    original = processes.counter
    processes.counter = original + 1000  # a value no fresh import could have
    try:
        seen = {
            m: processes.ask(get_context(m), processes.read_counter) == processes.counter
            for m in START_METHODS
        }
    finally:
        processes.counter = original
    wrong = [m for m in START_METHODS if predictions[m] != seen[m]]
    if wrong:
        return fail("not quite — " + "; ".join(f"{m}: {_WHY[m]}" for m in wrong))
    return ok("right for all three: only a fork child starts with the notebook's changes")


def check_scale_worker(worker: Any, *, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Exercise 3: ``worker(conn, numbers, factor)`` must send ``[n * factor for n in numbers]``.

    It always runs under spawn, with ``multiprocess``, whatever the course's
    start method: under fork a notebook global would reach the child by
    accident, and the exercise is about what travels when nothing is copied.
    """
    if not callable(worker):
        return fail(
            "pass your worker function itself, without calling it: check_scale_worker(scale), "
            f"not a {type(worker).__name__}"
        )
    if not _takes(worker, 3):
        return fail(
            "your worker must take three parameters — the connection, the numbers and the "
            "factor: def scale(conn, numbers, factor): ..."
        )
    numbers = list(SCALE_NUMBERS)
    run = _run_cell_worker(worker, numbers, SCALE_FACTOR, method="spawn", timeout=timeout)
    if run.problem is not None:
        return fail(run.problem)
    if not run.sent:
        return fail(_NOT_SENT)
    expected = [n * SCALE_FACTOR for n in numbers]
    if run.answer != expected:
        return fail(
            f"for numbers={numbers} and factor={SCALE_FACTOR} you sent {run.answer!r}, "
            f"but {expected} was expected"
        )
    return ok("your worker travelled to a spawned child with everything it needed")
