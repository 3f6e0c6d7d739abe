"""What an exercise checker gives back: a verdict that shows as one line.

Checkers return a :class:`Verdict` rather than printing, so that tests can
assert on ``passed`` and ``message`` while a notebook cell that ends with the
call shows the line itself.

>>> Verdict(True, "all four squares arrived")
✔ all four squares arrived
"""

from __future__ import annotations

import inspect
import multiprocessing.process
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from helpers import dev_shm
from helpers.context import get_context, get_multiprocess_context
from helpers.dev_shm import SHM_DIR
from helpers.running import CallTimeout, call_with_timeout, stop

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "CHECK_TIMEOUT",
    "CLUSTER_TIMEOUT",
    "FAULT_TIMEOUT",
    "HANG_TIMEOUT",
    "NAME_ERROR_ADVICE",
    "PROGRAM_TIMEOUT",
    "SHM_DIR",
    "ProgramRun",
    "RecordingContext",
    "Rule",
    "Started",
    "Verdict",
    "common_mistake",
    "context_for",
    "fail",
    "judge_program",
    "left_nothing",
    "multiprocess_context_for",
    "not_a_function",
    "ok",
    "raised_hint",
    "run_program",
    "segments_left_behind",
    "shortened",
    "source_of",
    "watching_processes",
    "wrapping_methods",
]

# Appended to a hint when the learner's function raised NameError in a child: the
# commonest surprise of a worker written in a cell under spawn or forkserver.
NAME_ERROR_ADVICE = (
    " — a function written in a cell reaches a spawn or forkserver child without the "
    "notebook's imports and globals: import what it needs inside the function, and pass "
    "values in as parameters"
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one exercise answer."""

    passed: bool
    message: str

    def __repr__(self) -> str:
        return ("✔ " if self.passed else "✘ ") + self.message

    def __bool__(self) -> bool:
        return self.passed


def ok(message: str) -> Verdict:
    """A passing verdict."""
    return Verdict(True, message)


def fail(hint: str) -> Verdict:
    """A failing verdict whose message is a specific hint for the learner."""
    return Verdict(False, hint)


def raised_hint(who: str, exc_type: str, exc_message: str | None) -> str:
    """The hint for a learner's function that raised in a child.

    >>> raised_hint("worker", "ZeroDivisionError", "division by zero")
    'your worker raised ZeroDivisionError: division by zero'
    """
    raised = f"your {who} raised {exc_type}: {exc_message}"
    return raised + NAME_ERROR_ADVICE if exc_type == "NameError" else raised


# --------------------------------------------------------------------------
# Whole programs: a learner's function that creates, starts and joins processes
# --------------------------------------------------------------------------

# One timeout per kind of check. Every checker takes ``timeout=`` (its kind's by
# default) and ``ctx=`` (the course's start method by default):
#   check_x(answer, *, ctx: Context | None = None, timeout: float = <KIND>_TIMEOUT)
#
# A learner's function run in one child: a spawned multiprocess child imports
# dill before it runs anything, well under a second normally, several on a
# loaded laptop. Twenty means stuck.
CHECK_TIMEOUT = 20.0
# A learner's whole program: long enough for a few spawned children on a loaded
# laptop; a program still running after this is stuck (a join before draining,
# a missing sentinel).
PROGRAM_TIMEOUT = 30.0
# A program to fix whose mistake is a wait that cannot end (an end of file that
# never comes): the mended one needs a second or two, so the broken one is
# stopped sooner and the learner is not kept waiting.
HANG_TIMEOUT = 10.0
# A program run again with a fault the checker injects (a child killed
# mid-run): time to notice the fault, give up and join.
FAULT_TIMEOUT = 20.0
# A learner's program on a Dask cluster: its tasks take seconds, so one still
# running after this waits for something that will not come.
CLUSTER_TIMEOUT = 60.0
# How long a child that was never joined may take to exit once the program returned.
LINGER = 2.0


@dataclass
class Started:
    """One process a learner's program started, as the checker saw it."""

    process: Any = field(repr=False)
    name: str
    target: Any  # what was passed as target= (None when the class overrides run)
    overrides_run: bool
    joined: bool = False  # a join() returned with the process ended
    join_ran_out: bool = False  # a join(timeout=...) returned with the process still running
    exitcode: int | None = None  # when the program returned (None: still running)
    # What was passed in args= and kwargs=, kept here because start() lets go of them.
    passed: tuple = field(default=(), repr=False)

    @property
    def target_is_a_call_result(self) -> bool:
        """``target=f()`` instead of ``target=f``: the result of a call, not a function."""
        return not self.overrides_run and not callable(self.target)


@dataclass
class ProgramRun:
    """What happened when a learner's program ran: result, processes, leftovers."""

    result: Any = None
    error: BaseException | None = None  # raised in the notebook's own process
    timed_out: bool = False
    stuck_in: tuple[str, ...] = ()  # where it waited when time ran out (CallTimeout)
    timeout: float = PROGRAM_TIMEOUT
    seconds: float = 0.0
    started: list[Started] = field(default_factory=list)
    leftover_segments: list[str] = field(default_factory=list)  # new /dev/shm entries
    shm_looked: bool = False  # /dev/shm was listed before and after (see left_nothing)

    @property
    def unjoined(self) -> list[Started]:
        """Processes the program started and never joined to the end."""
        return [p for p in self.started if not p.joined]

    @property
    def failed(self) -> list[Started]:
        """Processes that ended with a non-zero exit code (a negative one is a signal)."""
        return [p for p in self.started if p.exitcode not in (0, None)]


def context_for(ctx: Context | None) -> Context:
    """The context a checker runs a learner's program with: ``ctx``, or the course's."""
    return get_context() if ctx is None else ctx


def multiprocess_context_for(ctx: Context | None) -> Any:
    """The ``multiprocess`` context for ``ctx``'s start method (or the course's).

    A checker whose learner wrote the worker in a notebook cell runs it with
    ``multiprocess``, whose dill pickling sends the function's code along.
    """
    return get_multiprocess_context(None if ctx is None else ctx.get_start_method())


def _process_classes() -> list[Any]:
    """``BaseProcess`` of multiprocessing, and of multiprocess if it is loaded."""
    classes: list[Any] = [multiprocessing.process.BaseProcess]
    other = sys.modules.get("multiprocess.process")
    if other is not None:
        classes.append(other.BaseProcess)
    return classes


@contextmanager
def wrapping_methods(wraps: Iterable[tuple[type, str, Callable[[Any], Any]]]) -> Iterator[None]:
    """While the block runs, each ``cls.name`` is ``wrap(original)``; then the original again.

    The one way a checker watches what a learner's program calls: ``wrap`` gets
    the method the class defines and returns the one to call instead (which
    records what it needs and calls the original). Wraps of the same method
    nest; the originals are put back last first, even if the block raises.
    """
    saved: list[tuple[type, str, Any]] = []
    try:
        for cls, name, wrap in wraps:
            original = cls.__dict__[name]
            setattr(cls, name, wrap(original))
            saved.append((cls, name, original))
        yield
    finally:
        for cls, name, original in reversed(saved):
            setattr(cls, name, original)


@contextmanager
def watching_processes() -> Iterator[list[Started]]:
    """Record every process started while the block runs, and whether it was joined.

    The list it yields fills in as processes start (pools' and managers' own
    processes included).
    """
    seen: list[Started] = []

    def watch_start(cls: Any) -> Callable[[Any], Any]:
        def wrap(original: Any) -> Any:
            def start(self: Any) -> None:
                overrides_run = type(self).run is not cls.run
                passed = (*getattr(self, "_args", ()), *getattr(self, "_kwargs", {}).values())
                target = getattr(self, "_target", None)
                seen.append(Started(self, self.name, target, overrides_run, passed=passed))
                original(self)

            return start

        return wrap

    def watch_join(original: Any) -> Any:
        def join(self: Any, timeout: float | None = None) -> None:
            original(self, timeout)
            for record in seen:
                if record.process is self and self.exitcode is not None:
                    record.joined = True
                elif record.process is self:
                    record.join_ran_out = True

        return join

    wraps = []
    for cls in _process_classes():
        wraps += [(cls, "start", watch_start(cls)), (cls, "join", watch_join)]
    with wrapping_methods(wraps):
        yield seen


# What a checker says instead of "nothing left behind" where it could not look.
NO_SHM_DIR = f"this system has no {SHM_DIR} to look in for shared memory left behind"


def left_nothing(run: ProgramRun, claim: str) -> str:
    """``claim`` (such as "every segment unlinked") if ``/dev/shm`` was looked in, else why not."""
    return claim if run.shm_looked else NO_SHM_DIR


class RecordingContext:
    """A start-method context that remembers every queue and pipe a program makes.

    Give it to a learner's program instead of ``ctx``: everything works as
    usual, and afterwards the checker can look at the channels themselves (an
    end left open, a queue still holding items nobody read).
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self.queues: list[Any] = []
        self.pipes: list[tuple[Any, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def Queue(self, *args: Any, **kwargs: Any) -> Any:
        made = self._ctx.Queue(*args, **kwargs)
        self.queues.append(made)
        return made

    def Pipe(self, duplex: bool = True) -> tuple[Any, Any]:
        ends = self._ctx.Pipe(duplex)
        self.pipes.append(ends)
        return ends

    def discard(self) -> None:
        """Close every queue and pipe end the program made; what it left need not be delivered."""
        for q in self.queues:
            with suppress(OSError, ValueError):
                q.cancel_join_thread()
                q.close()
        for ends in self.pipes:
            for end in ends:
                end.close()  # closing twice is harmless


def run_program(
    program: Callable[..., Any],
    *args: Any,
    timeout: float = PROGRAM_TIMEOUT,
    shared_memory: bool = True,
    **kwargs: Any,
) -> ProgramRun:
    """Run ``program(*args, **kwargs)`` here, within ``timeout``, and report what it did.

    The program runs in a helper thread of this process, as a learner would call
    it, while the checker watches which processes it starts and joins.
    Afterwards nothing it left behind is kept: a process still running is
    stopped, and a new shared-memory segment is listed in the report, then removed.
    A checker whose program makes no shared memory passes ``shared_memory=False``:
    then ``/dev/shm`` is left alone. Where there is no ``/dev/shm`` (macOS, Windows)
    nothing can be looked for: ``run.shm_looked`` says so, and a verdict that would
    claim nothing was left says that instead (:func:`left_nothing`).
    """
    before = dev_shm.segments() if dev_shm.can_list() else None
    run = ProgramRun(timeout=timeout)
    began = time.monotonic()
    with watching_processes() as started:
        try:
            run.result = call_with_timeout(
                lambda: program(*args, **kwargs), timeout=timeout, what="your program"
            )
        except CallTimeout as late:
            run.timed_out = True
            run.stuck_in = late.stuck_in
        except Exception as exc:  # the learner's own error, named in the hint
            run.error = exc
    run.seconds = time.monotonic() - began
    run.started = list(started)
    for record in run.started:
        if not record.joined:
            # A child that was not joined may still be finishing; give it a moment
            # so its exit code says how it ended, not that we stopped it.
            record.process.join(LINGER)
        record.exitcode = record.process.exitcode
        if record.process.is_alive():
            stop(record.process)
    if not shared_memory or before is None or not dev_shm.can_list():
        return run
    run.shm_looked = True
    # Semaphores (sem.*) belong to queues and locks the program may still hold.
    new = dev_shm.segments() - before
    run.leftover_segments = sorted(new - dev_shm.held_elsewhere(new))
    dev_shm.remove(run.leftover_segments)
    return run


Rule = Callable[[ProgramRun], "str | None"]


def judge_program(
    program: Callable[..., Any],
    recorder: RecordingContext,
    *args: Any,
    rules: Sequence[Rule],
    passed: Callable[[ProgramRun], str],
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(recorder, *args)`` and fail it with the first hint one of ``rules`` gives.

    Each rule looks at the run (and may look at the channels ``recorder`` saw)
    and returns a hint or None; with none, ``passed(run)`` is the verdict.
    Whatever the verdict, every queue and pipe end the program made is closed.
    """
    run = run_program(program, recorder, *args, timeout=timeout, shared_memory=False)
    try:
        hint = next((hint for rule in rules if (hint := rule(run)) is not None), None)
    finally:
        recorder.discard()
    return ok(passed(run)) if hint is None else fail(hint)


def source_of(function: Any) -> str:
    """The source of a learner's function, or ``""`` where none is kept (built in, say)."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # built in, or written where no source is kept
        return ""


def shortened(value: Any, width: int = 80) -> str:
    """``repr(value)`` for a hint, cut to ``width`` characters.

    >>> shortened(list(range(30)), width=20)
    '[0, 1, 2, 3, 4, 5...'
    """
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def not_a_function(answer: Any, example: str) -> Verdict | None:
    """The verdict for an answer that is not a function, e.g. ``check(main())``; else None.

    >>> not_a_function(42, "check_squares(squares_program)")
    ✘ pass your function itself, e.g. check_squares(squares_program), not a int
    """
    if callable(answer):
        return None
    return fail(f"pass your function itself, e.g. {example}, not a {type(answer).__name__}")


def _target_called(run: ProgramRun) -> str | None:
    called = [p for p in run.started if p.target_is_a_call_result]
    if not called:
        return None
    return (
        f"process {called[0].name!r} was given target={called[0].target!r}: write "
        "target=worker (the function itself), not target=worker() — with the "
        "parentheses the worker runs here in the notebook, and the child gets what it returned"
    )


def _raised(run: ProgramRun) -> str | None:
    if run.error is None:
        return None
    return raised_hint("program", type(run.error).__name__, str(run.error))


def _never_finished(run: ProgramRun) -> str | None:
    if not run.timed_out:
        return None
    waiting = [p.name for p in run.started if p.exitcode is None]
    still = f"; still running: {', '.join(waiting)}" if waiting else ""
    return (
        f"your program did not finish within {run.timeout:g} s{still} — is something "
        "waiting for an item, a message or a sentinel that never comes, or joining a "
        "child before taking what it sent?"
    )


def _no_process(run: ProgramRun) -> str | None:
    if run.started:
        return None
    return (
        "your program started no process: create one with ctx.Process(target=..., "
        "args=(...)) and call its start()"
    )


def _child_failed(run: ProgramRun) -> str | None:
    if not run.failed:
        return None
    first = run.failed[0]
    if first.exitcode is not None and first.exitcode < 0:
        return f"process {first.name!r} was killed by signal {-first.exitcode}"
    return (
        f"process {first.name!r} ended with exit code {first.exitcode}: its function raised "
        "(a child's traceback goes to its own stderr, not to this cell — call the worker "
        "here in the notebook with the same arguments to see the error)"
    )


def _not_joined(run: ProgramRun) -> str | None:
    if not run.unjoined:
        return None
    names = ", ".join(repr(p.name) for p in run.unjoined)
    return (
        f"{len(run.unjoined)} of {len(run.started)} process(es) were never joined ({names}): "
        "call join(timeout=...) on every process you start, after taking what it sends"
    )


def segments_left_behind(run: ProgramRun) -> str | None:
    """The hint for shared memory a program left in ``/dev/shm``, or None if it left none."""
    if not run.leftover_segments:
        return None
    return (
        f"shared memory was left behind ({', '.join(run.leftover_segments)}): close() it "
        "in every process and unlink() it exactly once, in a finally block"
    )


# One rule per mistake, in the order a learner should fix them.
RULES = (
    _target_called,
    _raised,
    _never_finished,
    _no_process,
    _child_failed,
    _not_joined,
    segments_left_behind,
)


def common_mistake(
    run: ProgramRun, *, expect_processes: bool = True, killed_on_purpose: bool = False
) -> str | None:
    """The hint for the first mistake every lesson checks the same way, or None.

    In order: a target given as ``f()``; the program raised; it never finished;
    it started no process (unless ``expect_processes`` is False); a child
    failed (unless ``killed_on_purpose``: the checker killed one, and a pool
    stopped the rest); a child was never joined; shared memory was left behind. A lesson's
    checker looks at the result itself once this returns None, or before it
    for a mistake it can name more precisely (a missing sentinel, say).
    """
    for rule in RULES:
        if rule is _no_process and not expect_processes:
            continue
        if rule is _child_failed and killed_on_purpose:
            continue
        hint = rule(run)
        if hint is not None:
            return hint
    return None
