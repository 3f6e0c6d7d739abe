"""Checkers for lesson 04's exercises: a whole program, a server, and a careful reader.

:func:`check_lines_program` runs a learner's whole program (worker module,
pipe, process, closing the right ends, join) through
:func:`helpers.checking.run_program` and names the pipe lesson's own mistakes.
The other two exercises ask for a worker written in a notebook cell.  A child cannot
import such a function, so these checkers run it with ``multiprocess``
(whose dill pickling sends the function's code along) and use only
``multiprocess`` objects with it: pipes, events and processes alike.  The
checker plays the other side of the pipe itself.  Every wait has a timeout;
a worker that never finishes is stopped, and the hint says what it was
probably waiting for.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    RecordingContext,
    Verdict,
    common_mistake,
    fail,
    not_a_function,
    ok,
    raised_hint,
    run_program,
)
from helpers.context import get_context, get_multiprocess_context
from helpers.running import ChildError, ChildTimeout, start, stop, wait

__all__ = [
    "CHECK_TIMEOUT",
    "PATIENCE",
    "PROGRAM_LINES",
    "SILENCE",
    "STOP",
    "check_collect",
    "check_lines_program",
    "check_shout",
    "hold_then_close",
]

# A spawned multiprocess child imports dill before it runs anything: well under
# a second normally, several on a loaded laptop.  Twenty means really stuck.
from helpers.checking import CHECK_TIMEOUT

# Once a worker is running, a reply or an exit should take moments; after
# this long the checker calls it stuck and says why it probably is.
PATIENCE = 8.0
# The silence after which exercise 2's collect() should give up.
SILENCE = 1.0
# How long a worker that is about to end gets before it is stopped.
GRACE = 1.0
STOP = "STOP"
SHOUT_REQUESTS = ("hello", "pipe", "ünïcode")
HUNG_UP_MESSAGES = ("one", "two", "three")
SILENT_MESSAGES = ("four", "five")


def _takes_one_argument(worker: Callable[..., Any]) -> bool:
    try:
        inspect.signature(worker).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature to inspect: let the run decide
        return True
    return True


def _not_a_worker(worker: Any, name: str, checker: str) -> Verdict | None:
    if not callable(worker):
        return fail(
            f"pass your function itself, without calling it: {checker}({name}), "
            f"not a {type(worker).__name__}"
        )
    if not _takes_one_argument(worker):
        return fail(f"your function must take one parameter, the connection: def {name}(conn): ...")
    return None


def _hint_for(err: ChildError | ChildTimeout, name: str) -> str:
    if isinstance(err, ChildTimeout):
        return f"your {name}() did not finish in time and was stopped"
    if err.exc_type is None:
        return f"your {name}() died without saying why (exit code {err.exitcode})"
    return raised_hint(f"{name}()", err.exc_type, err.exc_message)


def _finish(children: list[Any], learner: Any, name: str) -> str | None:
    """Stop and join ``children``; return a hint if the ``learner``'s child failed, else None.

    A child still running after a short grace is stopped: the caller already
    holds the hint for that (no reply, still waiting...), so being stopped is
    not reported again.  Only the learner's child is judged; the checker's own
    sender may fail merely because the learner's function hung up early.
    """
    deadline = time.monotonic() + GRACE
    for child in children:
        child.process.join(max(0.0, deadline - time.monotonic()))
        stop(child.process)
    hint = None
    for child in children:
        try:
            wait([child], timeout=CHECK_TIMEOUT)
        except ChildTimeout as err:
            if child is learner:
                hint = _hint_for(err, name)
        except ChildError as err:
            stopped_by_us = err.exc_type is None and (err.exitcode or 0) < 0
            if child is learner and not stopped_by_us:
                hint = _hint_for(err, name)
    return hint


# ---- exercise 1: a server that shouts back --------------------------------------------


def _converse(client: Any, timeout: float, patience: float) -> str | None:
    """The checker's side of exercise 1; returns a hint, or None if all went well."""
    for number, request in enumerate(SHOUT_REQUESTS):
        try:
            client.send(request)
        except (BrokenPipeError, ConnectionResetError):
            return (
                f"your server had already ended before {request!r}: keep answering until {STOP!r}"
            )
        # The first reply also waits for the child to start.
        if not client.poll(timeout if number == 0 else patience):
            return (
                f"no reply to {request!r}: send one reply after each request, with "
                "conn.send(...), before you receive the next"
            )
        try:
            reply = client.recv()
        except (EOFError, ConnectionResetError):
            return f"your server ended before answering {request!r}: keep answering until {STOP!r}"
        if reply != request.upper():
            return (
                f"{request!r} came back as {reply!r}; it should come back as "
                f"{request.upper()!r}: reply with request.upper()"
            )
    try:
        client.send(STOP)
    except (BrokenPipeError, ConnectionResetError):
        return f"your server ended before {STOP!r} arrived: leave the loop only on {STOP!r}"
    return None


def _replied(client: Any) -> bool:
    """True if a reply is waiting; an ended server's closed end also makes poll() True."""
    if not client.poll(0):
        return False
    try:
        client.recv()
    except (EOFError, ConnectionResetError):
        return False
    return True


def check_shout(
    shout: Any, *, timeout: float = CHECK_TIMEOUT, patience: float = PATIENCE
) -> Verdict:
    """Exercise 1: ``shout(conn)``, written in a cell, answers each text in capitals.

    It must reply to every request with ``request.upper()`` and return, without
    replying, when the request is ``"STOP"``.  The checker runs it in a
    ``multiprocess`` child and is the client at the other end of a duplex pipe.
    """
    problem = _not_a_worker(shout, "shout", "check_shout")
    if problem is not None:
        return problem
    ctx = get_multiprocess_context()
    client, server_end = ctx.Pipe()
    try:
        try:
            child = start(ctx, shout, server_end, name="shout")
        except Exception as exc:  # dill could not pickle it
            return fail(f"your function could not be sent to a child: {type(exc).__name__}: {exc}")
        finally:
            server_end.close()
        hint = _converse(client, timeout, patience)
        if hint is None:
            child.process.join(patience)
            if child.process.is_alive():
                hint = (
                    f"your server was still running {patience:g} s after {STOP!r}: "
                    "return when it arrives"
                )
            elif _replied(client):
                hint = f"your server replied to {STOP!r}: stop without replying"
        failure = _finish([child], child, "shout")
    finally:
        client.close()
    if failure is not None:  # the child's own error says most
        return fail(failure)
    if hint is not None:
        return fail(hint)
    return ok(
        f"your server answered {len(SHOUT_REQUESTS)} requests in capitals and stopped on {STOP!r}"
    )


# ---- exercise 2: a reader that knows when to stop -------------------------------------


def hold_then_close(conn: Any, messages: Sequence[Any], release: Any, timeout: float) -> None:
    """Runs in the checker's sender child: send ``messages``, then keep ``conn`` open.

    If ``release`` is None it closes ``conn`` at once (the sender hangs up);
    otherwise it stays silent, end open, until ``release`` is set or
    ``timeout`` passes.  It sends nothing else.
    """
    try:
        for message in messages:
            conn.send(message)
        if release is not None:
            release.wait(timeout)
    finally:
        conn.close()


def _collect_and_report(collect: Callable[[Any], Any], conn: Any, report: Any) -> None:
    """Runs in the collector child: call the learner's ``collect(conn)``, send back its result."""
    try:
        result = collect(conn)
        report.send(result)
    finally:
        report.close()
        conn.close()


def _run_collect(
    ctx: Any, collect: Any, messages: Sequence[Any], *, hang_up: bool, timeout: float
) -> tuple[bool, Any, str | None]:
    """Run ``collect`` against a sender; return (returned?, result, hint from a failure)."""
    release = None if hang_up else ctx.Event()
    reader, writer = ctx.Pipe(duplex=False)
    report_in = report_out = None
    children = []
    returned, result = False, None
    try:
        children.append(
            start(
                ctx, hold_then_close, writer, list(messages), release, CHECK_TIMEOUT, name="sender"
            )
        )
        # Closed before the collector starts, so under fork it inherits no copy:
        # when the sender hangs up, the collector really sees EOF.
        writer.close()
        report_in, report_out = ctx.Pipe(duplex=False)
        children.append(
            start(ctx, _collect_and_report, collect, reader, report_out, name="collect")
        )
        reader.close()
        report_out.close()
        if report_in.poll(timeout):
            try:
                result, returned = report_in.recv(), True
            except EOFError:
                pass  # it raised: _finish() gives the reason
    finally:
        if release is not None:
            release.set()
        learner = children[1] if len(children) == 2 else None
        failure = _finish(children, learner, "collect")
        for end in (reader, writer, report_in, report_out):
            if end is not None:
                end.close()
    return returned, result, failure


def _eof_hint(failure: str) -> str:
    if failure.startswith("your collect() raised EOFError"):
        return (
            "EOFError escaped from your collect(): catch it — it is how recv() says the sender "
            "has closed its end and everything it sent has been read"
        )
    return failure


def check_collect(  # noqa: PLR0911 - one early return per hint
    collect: Any, *, timeout: float = CHECK_TIMEOUT, patience: float = PATIENCE
) -> Verdict:
    """Exercise 2: ``collect(conn)``, written in a cell, returns every message it receives.

    It must stop when the sender hangs up (``recv()`` raises ``EOFError``) and
    when nothing arrives for a second, and return the messages in order.  The
    checker runs it in a ``multiprocess`` child twice: against a sender that
    hangs up, and against one that falls silent but keeps its end open.
    """
    problem = _not_a_worker(collect, "collect", "check_collect")
    if problem is not None:
        return problem
    ctx = get_multiprocess_context()
    expected = list(HUNG_UP_MESSAGES)
    try:
        returned, result, failure = _run_collect(
            ctx, collect, expected, hang_up=True, timeout=timeout
        )
    except Exception as exc:  # dill could not pickle it
        return fail(f"your function could not be sent to a child: {type(exc).__name__}: {exc}")
    if failure is not None:
        return fail(_eof_hint(failure))
    if not returned:
        return fail(
            "collect() never returned, although the sender had hung up: when recv() raises "
            "EOFError, stop and return what you have"
        )
    if result is None:
        return fail("collect() returned None: return the list of messages it received")
    if result != expected:
        return fail(
            f"collect() returned {result!r}, but the sender sent {expected!r}: keep every "
            "message, in order, until recv() raises EOFError"
        )
    expected = list(SILENT_MESSAGES)
    returned, result, failure = _run_collect(
        ctx, collect, expected, hang_up=False, timeout=patience
    )
    if not returned:
        return fail(
            f"collect() was still waiting {patience:g} s after it started, although the sender "
            f"had gone silent: call conn.poll({SILENCE:g}) before each recv(), and stop when it "
            "returns False"
        )
    if failure is not None:
        return fail(failure)
    if result != expected:
        return fail(
            f"collect() returned {result!r}, but the sender sent {expected!r} and then fell "
            "silent: keep every message, in order, until a second passes with nothing new"
        )
    return ok(
        "collect() stopped when the sender hung up (EOFError) and after a second of silence, "
        "with every message in order"
    )


# ---- the whole program: a pipe, a sender child, and the end of the stream ----------------

# What the checker asks the learner's program to carry, in this order.
PROGRAM_LINES = ("hello", "hey", "hru?", "ünïcode ✓", "")


def _source(function: Any) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # built in, or written where no source is kept
        return ""


def _sends_after_close(run: ProgramRun) -> str | None:
    for worker in run.started:
        if not callable(worker.target) or worker.exitcode in (0, None):
            continue
        text = _source(worker.target)
        closed = text.find(".close()")
        if closed != -1 and ".send" in text[closed:]:
            return (
                f"your worker {worker.target.__name__}() sends after it has closed its end: "
                "send() on a closed connection raises OSError (handle is closed) in the "
                "child. Close the end once, after the last send"
            )
    return None


def _closed_the_read_end(run: ProgramRun, recorder: RecordingContext) -> str | None:
    if not isinstance(run.error, OSError):
        return None
    if not any(reader.closed for reader, _writer in recorder.pipes):
        return None
    return (
        f"your program raised {type(run.error).__name__}: {run.error} — it closed the end it "
        "receives on. After start(), close the notebook's copy of the WRITE end (the child "
        "has its own) and keep the read end open until you are done reading"
    )


def _writer_left_open(run: ProgramRun, recorder: RecordingContext) -> str | None:
    open_writers = [w for _r, w in recorder.pipes if not w.closed]
    if not open_writers or run.error is not None:
        return None
    slow = run.timed_out or run.seconds > PATIENCE / 2
    waited = (
        f" — so your program waited {run.seconds:.0f} s for an end of file that could not come"
        if slow
        else ""
    )
    return (
        "your program never closed its own copy of the write end: recv() raises EOFError "
        "only once EVERY copy of the write end is closed, and yours stayed open"
        f"{waited}. Call writer.close() right after start()"
    )


def _wrong_lines(run: ProgramRun) -> str | None:
    expected = list(PROGRAM_LINES)
    if run.result == expected:
        return None
    if run.result is None:
        return "your program returned None: return the list of lines it received"
    return (
        f"your program returned {_short(run.result)}, but the child sent {expected!r}: keep "
        "every message, in order, until recv() raises EOFError"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _discard(recorder: RecordingContext) -> None:
    for ends in recorder.pipes:
        for end in ends:
            end.close()  # closing twice is harmless


def check_lines_program(
    program: Any, *, ctx: Any = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, lines)``, a learner's whole program, and judge it.

    It must make a one-way pipe, start a child that sends every line and closes
    its end, close the notebook's copy of the write end, receive until
    ``EOFError``, join the child and return the lines in order. ``ctx``
    defaults to the course's context (``COURSE_START_METHOD``).
    """
    refused = not_a_function(program, "check_lines_program(lines_program)")
    if refused is not None:
        return refused
    recorder = RecordingContext(get_context() if ctx is None else ctx)
    run = run_program(program, recorder, list(PROGRAM_LINES), timeout=timeout, shared_memory=False)
    try:
        hint = (
            _sends_after_close(run)
            or _closed_the_read_end(run, recorder)
            or _writer_left_open(run, recorder)
            or common_mistake(run)
            or _wrong_lines(run)
        )
    finally:
        _discard(recorder)
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {len(PROGRAM_LINES)} lines arrived in order, the receiver stopped at EOFError "
        "because every copy of the write end was closed, and the child was joined"
    )
