"""Checkers for lesson 00's exercise (a whole program) and appendix 91's two (cell workers).

Appendix 91's exercises ask for a worker written in a notebook cell. Such a function
cannot be imported by a child, so these checkers run it with ``multiprocess``
(whose dill pickling sends the function's code along) and use only
``multiprocess`` objects for it — pipe and process alike. Lesson 00's exercise is
a whole program written with ``multiprocessing``; :func:`helpers.checking.run_program`
runs it, bounded, and the hints name the mistake. Every wait has a timeout; a
worker that never finishes is stopped and named in the hint.

>>> check_squares_program(42)
✘ pass your function itself, e.g. check_squares_program(squares_program), not a int
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    CHECK_TIMEOUT,
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    context_for,
    fail,
    multiprocess_context_for,
    not_a_function,
    ok,
    raised_hint,
    run_program,
)
from helpers.context import get_context
from helpers.running import ChildError, ChildTimeout, start, wait
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["CHECK_TIMEOUT", "check_own_pid", "check_scale_worker", "check_squares_program"]

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


def _run_cell_worker(worker: Any, *args: Any, ctx: Context | None, timeout: float) -> _Run:
    """Run ``worker(conn, *args)`` in a ``multiprocess`` child and collect what happened."""
    require_timeout(timeout)  # before the child exists, so a bad value leaks nothing
    mctx = multiprocess_context_for(ctx)
    reader, writer = mctx.Pipe(duplex=False)
    try:
        child = start(mctx, worker, writer, *args, name=getattr(worker, "__name__", "worker"))
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
    worker: Any, *, ctx: Context | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
    """Exercise 1: ``worker(conn)``, written in a cell, must send the child's own PID.

    The worker runs in a ``multiprocess`` child under the course's start method
    (or ``ctx``'s); the checker compares what it sent with the child's PID.
    """
    if not callable(worker):
        return fail(
            "pass your worker function itself, without calling it: check_own_pid(my_pid), "
            f"not a {type(worker).__name__}"
        )
    if not _takes(worker, 1):
        return fail("your worker must take one parameter, the connection: def my_pid(conn): ...")
    run = _run_cell_worker(worker, ctx=ctx, timeout=timeout)
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


# What check_squares_program gives the learner's program, and what must come back.
SQUARE_NUMBERS = (2, 3, 4)
WORKERS_MODULE = "my_workers_00"


def check_squares_program(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 2: ``program(ctx, numbers)`` — a whole program with ``multiprocessing``.

    It must start one child per number, each running a worker from the module
    the notebook wrote that sends ``number * number`` back through a channel,
    join every child, and return the squares in the order of ``numbers``.
    The program runs under the course's start method (or ``ctx``'s), bounded by ``timeout``.
    """
    refused = not_a_function(program, "check_squares_program(squares_program)")
    if refused is not None:
        return refused
    ctx = context_for(ctx)
    numbers = list(SQUARE_NUMBERS)
    run = run_program(program, ctx, numbers, timeout=timeout)
    hint = (
        _worker_in_a_cell(run, ctx.get_start_method())
        or _returned_not_sent(run)
        or common_mistake(run)
        or _one_per_number(run, numbers)
        or _wrong_squares(run.result, numbers)
    )
    if hint is not None:
        return fail(hint)
    return ok(f"{len(numbers)} children, each joined, sent back {run.result}")


def _worker_in_a_cell(run: ProgramRun, method: str) -> str | None:
    """A target defined in a notebook cell: a spawn or forkserver child cannot import it."""
    in_cell = [p for p in run.started if getattr(p.target, "__module__", None) == "__main__"]
    if not in_cell or method == "fork":
        return None
    return (
        f"your worker {in_cell[0].target.__name__!r} is defined in a notebook cell, and a "
        f"{method} child cannot import it: write it into a module with "
        f"%%writefile {WORKERS_MODULE}.py, then import {WORKERS_MODULE} and use "
        f"target={WORKERS_MODULE}.{in_cell[0].target.__name__}"
    )


def _returned_not_sent(run: ProgramRun) -> str | None:
    """Every child ended cleanly, yet the program waited, or got nothing from them."""
    finished = run.started and all(p.exitcode == 0 for p in run.started)
    nothing = isinstance(run.result, list) and None in run.result
    eof = isinstance(run.error, EOFError)  # recv() on a pipe whose writers all closed
    if not finished or not (run.timed_out or nothing or eof):
        return None
    return (
        "your children all finished cleanly, but their answers never reached your program: "
        "a worker's return value is thrown away — send the square through the channel "
        "(conn.send(...) or queue.put(...)) instead of returning it"
    )


def _one_per_number(run: ProgramRun, numbers: list[int]) -> str | None:
    if len(run.started) == len(numbers):
        return None
    return (
        f"start one process per number: your program started {len(run.started)} "
        f"for the {len(numbers)} numbers {numbers}"
    )


def _wrong_squares(result: Any, numbers: list[int]) -> str | None:
    expected = [n * n for n in numbers]
    if result == expected:
        return None
    if isinstance(result, list) and sorted(result, key=repr) == sorted(expected, key=repr):
        return (
            f"the right squares in the wrong order: {result}. Answers arrive in whatever "
            "order the children finish; return them in the order of numbers (one pipe per "
            "child, or send (number, square) pairs and sort)"
        )
    return f"for numbers={numbers} your program returned {result!r}; expected {expected}"


def check_scale_worker(
    worker: Any, *, ctx: Context | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
    """Exercise 3: ``worker(conn, numbers, factor)`` must send ``[n * factor for n in numbers]``.

    It always runs under spawn, with ``multiprocess``, whatever the course's
    start method: under fork a notebook global would reach the child by
    accident, and the exercise is about what travels when nothing is copied.
    A ``ctx`` given runs it under that context's start method instead.
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
    spawn = get_context("spawn") if ctx is None else ctx
    run = _run_cell_worker(worker, numbers, SCALE_FACTOR, ctx=spawn, timeout=timeout)
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
