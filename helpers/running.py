"""Start children safely: bounded waits, and failures reported in the parent.

Two facts shape this module. A child's traceback is only text: in JupyterLab
on Linux and macOS it lands in whichever cell runs when it arrives, on Windows
in the terminal that started Jupyter, and the parent gets no exception; so a
child that raises must *send* its error back. And a blocking call without a
timeout can freeze a learner's kernel, so every wait here has one.

Lifecycle: :func:`start` returns a :class:`Child` whose process is running;
:func:`wait` (or :meth:`Child.wait`) joins it within a timeout, terminates it
if it overran, and raises if it failed.  The parent owns the report pipe and
closes it in ``wait``.

>>> from helpers.context import get_context
>>> run(get_context(), abs, -3)   # abs(-3) runs in a child; nothing goes wrong
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helpers.validation import require_context, require_timeout
from helpers.workers.running import (
    DEFAULT_TIMEOUT,
    _guarded_main,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "DEFAULT_TIMEOUT",
    "CallTimeout",
    "Child",
    "ChildError",
    "ChildTimeout",
    "call_with_timeout",
    "run",
    "start",
    "stop",
    "wait",
]


class ChildError(RuntimeError):
    """A child process failed: it raised, or it died without saying why.

    ``exc_type`` and ``exc_message`` are the child's exception (``None`` when it
    was killed or exited without a report); ``exitcode`` is the process's; a
    negative one is the signal that ended it (``-9`` for SIGKILL).
    """

    def __init__(
        self,
        name: str,
        exitcode: int | None,
        exc_type: str | None = None,
        exc_message: str | None = None,
        child_traceback: str | None = None,
        *,
        never_started: bool = False,
    ) -> None:
        self.name = name
        self.exitcode = exitcode
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.child_traceback = child_traceback
        if exc_type is not None:
            text = f"child {name!r} raised {exc_type}: {exc_message}"
        elif exitcode is not None and exitcode < 0:
            text = f"child {name!r} was killed by signal {-exitcode} before it finished"
        elif never_started:
            text = (
                f"child {name!r} exited with code {exitcode} before running its function: "
                "it could not rebuild the function or its arguments. Under spawn and "
                "forkserver a child imports them, and what is defined in a notebook cell "
                "cannot be imported: move it into a module such as helpers"
            )
        else:
            text = f"child {name!r} exited with code {exitcode} without reporting an error"
        super().__init__(text)


class ChildTimeout(TimeoutError):
    """A child did not finish in time; it has been terminated."""


class CallTimeout(TimeoutError):
    """A call made through :func:`call_with_timeout` did not return in time.

    ``stuck_in`` names the functions the call was inside when time ran out,
    outermost first, as ``module.function`` (``multiprocessing.process.join``
    says it was waiting for a child to end).
    """

    stuck_in: tuple[str, ...] = ()


def _stack_of(thread: threading.Thread) -> tuple[str, ...]:
    frame = sys._current_frames().get(thread.ident or -1)
    names = []
    while frame is not None:
        names.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_name}")
        frame = frame.f_back
    return tuple(reversed(names))


def call_with_timeout(
    call: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    while_waiting: Callable[[], None] | None = None,
    every: float = 0.1,
) -> Any:
    """Return ``call()``, made in a helper thread, or raise :class:`CallTimeout`.

    For calls that have no timeout of their own (a proxy call, a learner's whole
    program, a ``Queue.get`` stuck half-way through an item): the caller gets
    control back after ``timeout`` seconds even if the call never returns. The
    thread cannot be killed; it is a daemon, so it never keeps the interpreter
    alive. An exception raised by ``call`` is re-raised here.

    ``while_waiting``, if given, is called every ``every`` seconds while the call
    runs; whatever it raises (a watched child that died, say) ends the wait at once.
    """
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    helper = threading.Thread(target=attempt, name=what, daemon=True)
    helper.start()
    if while_waiting is None:
        helper.join(timeout)
    else:
        helper.join(min(every, timeout))
        while helper.is_alive() and time.monotonic() < deadline:
            while_waiting()
            helper.join(min(every, max(0.0, deadline - time.monotonic())))
    if helper.is_alive():
        late = CallTimeout(f"{what} did not finish within {timeout:g} s")
        late.stuck_in = _stack_of(helper)
        raise late
    if "error" in outcome:
        error = outcome.pop("error")
        try:
            raise error
        finally:
            del error  # no cycle through this frame
    return outcome["value"]


def stop(process: Any, *, grace: float = 1.0) -> int | None:
    """Make sure ``process`` has ended: terminate it, then kill it; return its exit code.

    A process that already ended is only joined. Terminating is a last resort:
    a child stopped this way may leave a lock held or a message half-written.
    """
    process.join(0)
    if process.is_alive():
        process.terminate()
        process.join(grace)
    if process.is_alive():
        process.kill()
        process.join(grace)
    # Under fork another thread blocked in join() may reap the child first; this
    # thread then sees it alive until that join records the exit code.
    deadline = time.monotonic() + grace
    while process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return process.exitcode


@dataclass(slots=True)
class Child:
    """A started child process and the read end of its report pipe."""

    process: Any
    report: Any
    name: str

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Join within ``timeout`` seconds; raise :class:`ChildTimeout` or :class:`ChildError`."""
        wait([self], timeout=timeout)


def start(
    ctx: Context,
    target: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    **kwargs: Any,
) -> Child:
    """Start ``target(*args, **kwargs)`` in a child created by ``ctx``.

    ``target`` must be importable by the child (a function from ``helpers``),
    because under spawn and forkserver it is sent by reference.
    """
    require_context(ctx, needs=("Pipe",))
    if not callable(target):
        raise TypeError(f"target must be a function, not {type(target).__name__}")
    if name is not None and not isinstance(name, str):
        # Process() would accept it under fork but kill the child under spawn.
        raise TypeError(f"name must be text or None, not {type(name).__name__} {name!r}")
    label = name or str(getattr(target, "__name__", "child"))
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_guarded_main, args=(writer, target, args, kwargs), name=label)
    try:
        process.start()
    except BaseException:
        reader.close()  # nothing will ever report on it
        raise
    finally:
        # The parent never writes; closing its copy lets the reader see EOF if
        # the child dies, instead of waiting forever.
        writer.close()
    return Child(process=process, report=reader, name=label)


def _outcome(child: Child) -> tuple[bool, tuple[str, str | None, str | None, str | None] | None]:
    """Whether the child's wrapper started, and the last report it sent, if any."""
    started, last = False, None
    try:
        while child.report.poll(0):
            message = child.report.recv()
            if message[0] == "started":
                started = True
            else:
                last = message
    except (EOFError, OSError):
        pass
    return started, last


def wait(children: Iterable[Child], *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Join every child within one shared deadline and raise the first failure.

    A child still running at the deadline is terminated (then killed) so no
    process outlives the call, and :class:`ChildTimeout` names it.
    """
    children = list(children)
    require_timeout(timeout)
    deadline = time.monotonic() + timeout
    for child in children:
        child.process.join(max(0.0, deadline - time.monotonic()))
    late = [c for c in children if c.process.is_alive()]
    for child in late:
        stop(child.process)
    failure: Exception | None = None
    if late:
        names = ", ".join(repr(c.name) for c in late)
        failure = ChildTimeout(f"child {names} did not finish within {timeout:g} s and was stopped")
    for child in children:
        started, outcome = _outcome(child)
        exitcode = child.process.exitcode
        child.report.close()
        if failure is not None or child in late:
            continue
        if outcome is not None and outcome[0] == "error":
            failure = ChildError(child.name, exitcode, outcome[1], outcome[2], outcome[3])
        elif outcome is None or exitcode != 0:
            failure = ChildError(child.name, exitcode, never_started=not started)
    if failure is not None:
        try:
            raise failure
        finally:
            # Break the cycle error -> traceback -> this frame -> error, which would
            # keep the caller's queues (and their semaphores) alive until the next
            # garbage collection: long enough to leak them if the kernel is killed.
            del failure, children


def run(
    ctx: Context,
    target: Callable[..., Any],
    *args: Any,
    timeout: float = DEFAULT_TIMEOUT,
    name: str | None = None,
    **kwargs: Any,
) -> None:
    """Run ``target`` in one child and wait for it: :func:`start` then :func:`wait`."""
    require_timeout(timeout)  # before the child exists, so a bad value leaks nothing
    start(ctx, target, *args, name=name, **kwargs).wait(timeout)
