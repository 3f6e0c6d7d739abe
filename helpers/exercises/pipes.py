"""Checkers for lesson 04's exercises: a program to fix, and a shape to design.

Both run a learner's whole program (a worker module written with
``%%writefile``, pipes, processes, closing the right ends, joins) through
:func:`helpers.checking.judge_program` with a :class:`RecordingContext`, so they
can look at the pipe ends the program made, and name the pipe lesson's own
mistakes: a write end left open (so EOF never comes), the read end closed,
children read one after another instead of as their results come.
Every wait has a timeout; a program that never finishes is stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.checking import (
    HANG_TIMEOUT,
    PROGRAM_TIMEOUT,
    ProgramRun,
    RecordingContext,
    Rule,
    Verdict,
    common_mistake,
    context_for,
    judge_program,
    not_a_function,
    shortened,
    source_of,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "GATHER_JOBS",
    "PATIENCE",
    "PROGRAM_LINES",
    "check_gather_program",
    "check_lines_program",
]

# A reply or an exit should take moments; a program slower than half of this
# was waiting for something (an end of file that could not come).
PATIENCE = 8.0


# ---- the whole program: a pipe, a sender child, and the end of the stream ----------------

# What the checker asks the learner's program to carry, in this order.
PROGRAM_LINES = ("hello", "hey", "hru?", "ünïcode ✓", "")


def _sends_after_close(run: ProgramRun) -> str | None:
    for worker in run.started:
        if not callable(worker.target) or worker.exitcode in (0, None):
            continue
        text = source_of(worker.target)
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
    many = len(recorder.pipes) > 1
    if not open_writers or run.error is not None:
        return None
    slow = run.timed_out or run.seconds > PATIENCE / 2
    waited = (
        f" — so your program waited {run.seconds:.0f} s for an end of file that could not come"
        if slow
        else ""
    )
    return (
        f"your program never closed its own copy of {'a' if many else 'the'} write end: recv() "
        "raises EOFError only once EVERY copy of the write end is closed, and yours stayed "
        f"open{waited}. Call writer.close() right after {'each ' if many else ''}start()"
    )


def _wrong_lines(run: ProgramRun) -> str | None:
    expected = list(PROGRAM_LINES)
    if run.result == expected:
        return None
    if run.result is None:
        return "your program returned None: return the list of lines it received"
    return (
        f"your program returned {shortened(run.result)}, but the child sent {expected!r}: keep "
        "every message, in order, until recv() raises EOFError"
    )


def check_lines_program(
    program: Any, *, ctx: Context | None = None, timeout: float = HANG_TIMEOUT
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
    recorder = RecordingContext(context_for(ctx))
    rules: list[Rule] = [
        _sends_after_close,
        lambda run: _closed_the_read_end(run, recorder),
        lambda run: _writer_left_open(run, recorder),
        common_mistake,
        _wrong_lines,
    ]
    return judge_program(
        program,
        recorder,
        list(PROGRAM_LINES),
        rules=rules,
        timeout=timeout,
        passed=lambda _run: (
            f"all {len(PROGRAM_LINES)} lines arrived in order, the receiver stopped at "
            "EOFError because every copy of the write end was closed, and the child was joined"
        ),
    )


# ---- the design: one parent gathering from several children as results come -------------

# (numbers, pause) for each child: the first is slow, the second quick, so a
# parent that reads the children in turn keeps the quick one's results waiting.
GATHER_JOBS = (((1, 2, 3), 1.0), ((4, 5, 6, 7), 0.0), ((8,), 0.2))


def _gather_shape(result: Any, jobs: list[tuple[list[int], float]]) -> str | None:
    """What is wrong with the (job, square) pairs a gather program returned, or None."""
    if result is None:
        return "your program returned None: return the list of (job, square) pairs it received"
    if not isinstance(result, list) or not all(
        isinstance(pair, tuple) and len(pair) == 2 for pair in result
    ):
        return (
            f"your program returned {shortened(result)}: return a list of (job, square) pairs, "
            "in the order they arrived"
        )
    for index, (numbers, _pause) in enumerate(jobs):
        got = [square for job, square in result if job == index]
        expected = [n * n for n in numbers]
        if got != expected:
            return (
                f"from job {index} ({numbers}) your program returned {got}, expected "
                f"{expected}: receive from every child until its end raises EOFError, "
                "and keep each child's squares in order"
            )
    return None


def _read_in_turn(run: ProgramRun, jobs: list[tuple[list[int], float]]) -> str | None:
    """A hint if the quick child's squares all came after the slow child's last one."""
    slow_pause = jobs[0][1] * len(jobs[0][0])
    if run.seconds < slow_pause * 0.8:
        return (
            f"your program finished in {run.seconds:.1f} s, but job 0 asks its child to wait "
            f"{jobs[0][1]:g} s before each send: call time.sleep(pause) in the worker"
        )
    order = [job for job, _square in run.result]
    if max(i for i, job in enumerate(order) if job == 0) < order.index(1):
        return (
            "your program read the children one after another: job 1's squares were ready "
            "at once, but waited until job 0 had sent its last. Let "
            "multiprocessing.connection.wait(readers, timeout=...) say which end has "
            "something to read"
        )
    return None


def check_gather_program(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, jobs)``, a learner's whole program, and judge it.

    For each ``(numbers, pause)`` job it must start a child that sends the square
    of each number (after ``pause`` seconds) on a pipe of its own, close the
    notebook's copy of each write end, receive from whichever child has
    something to say until every end has raised ``EOFError``, join every child
    and return the ``(job, square)`` pairs in the order they arrived.
    """
    refused = not_a_function(program, "check_gather_program(gather_program)")
    if refused is not None:
        return refused
    jobs = [(list(numbers), pause) for numbers, pause in GATHER_JOBS]
    recorder = RecordingContext(context_for(ctx))
    rules: list[Rule] = [
        lambda run: _closed_the_read_end(run, recorder),
        lambda run: _writer_left_open(run, recorder),
        common_mistake,
        lambda run: _gather_shape(run.result, jobs),
        lambda run: _read_in_turn(run, jobs),
    ]
    return judge_program(
        program,
        recorder,
        jobs,
        rules=rules,
        timeout=timeout,
        passed=lambda _run: (
            f"{len(jobs)} children sent their squares on pipes of their own, the quick one's "
            "arrived while the slow one was still working, every end reached EOF, and every "
            "child was joined"
        ),
    )
