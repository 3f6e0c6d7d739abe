"""Checkers for lesson 03's exercises: a program to fix, and a pipeline to design.

Both run a learner's whole program (a worker module written with
``%%writefile``, queues, processes, sentinels, joins) through
:func:`helpers.checking.judge_program` with a :class:`RecordingContext`, and name
the queue lesson's own mistakes: a join before the results were read, a
missing sentinel, a stage that stops at the first sentinel of several. Every
wait has a timeout; a worker that never stops is stopped and named in the hint.

>>> check_squares_program("squares_program")
✘ pass your function itself, e.g. check_squares_program(squares_program), not a str
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    RecordingContext,
    Rule,
    Started,
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
    "PIPELINE_NUMBERS",
    "PIPELINE_SQUARERS",
    "PROGRAM_NUMBERS",
    "PROGRAM_WORKERS",
    "check_pipeline_program",
    "check_squares_program",
]

# --------------------------------------------------------------------------

# Enough results (a few hundred KiB) to overflow a pipe's buffer: a program that
# joins its workers before reading their results is then stuck for sure.
PROGRAM_NUMBERS = tuple(range(1, 20_001))
PROGRAM_WORKERS = 3


def _workers(run: ProgramRun) -> list[Started]:
    return [p for p in run.started if callable(p.target)]


def _stops_on_empty(run: ProgramRun) -> str | None:
    for worker in _workers(run):
        if ".empty()" in source_of(worker.target):
            return (
                f"your worker {worker.target.__name__}() decides to stop when the queue's "
                "empty() says True: between processes that is only a snapshot — it is True "
                "before the first number arrives, and False just before another worker takes "
                "the last one. Loop on get(timeout=...) until the sentinel None arrives"
            )
    return None


def _joined_before_draining(run: ProgramRun, recorder: RecordingContext) -> str | None:
    finished_late = [p for p in run.started if p.join_ran_out and p.exitcode == 0]
    unread = run.timed_out and any(_holds_items(q) for q in recorder.queues)
    if not (finished_late or unread):
        return None
    return (
        "your program joined a worker before reading its results: a process that has put "
        "items cannot exit until they are all in the pipe, and the pipe holds only 64 KiB, "
        "so join() waited for a worker that was waiting for you. Take every result first, "
        "then join"
    )


def _holds_items(q: Any) -> bool:
    try:
        return not q.empty()
    except (OSError, ValueError):  # closed by the program: it holds nothing we can see
        return False


def _missing_sentinels(run: ProgramRun) -> str | None:
    workers = _workers(run)
    waiting = [p for p in workers if p.exitcode is None]
    if not waiting:
        return None
    if len(waiting) == len(workers):
        return (
            f"none of your {len(workers)} workers stopped: each is still waiting for its "
            "sentinel. After the last number, put one None per worker"
        )
    return (
        f"{len(waiting)} of your {len(workers)} workers never stopped: a worker stops at the "
        "first sentinel it takes, and each sentinel is taken by one worker — put one None "
        "per worker, after the last number"
    )


def _wrong_result(run: ProgramRun, numbers: list[int]) -> str | None:
    expected = [n * n for n in numbers]
    if run.result is None:
        return "your program returned None: return the list of squares it collected"
    try:
        got = sorted(run.result)
    except TypeError:
        return f"your program returned a {type(run.result).__name__}: return a list of squares"
    if got == expected:
        return None
    return (
        f"your program returned {len(got)} values, expected the {len(expected)} squares of "
        f"1…{len(numbers)}: take exactly one result per number, every one of them"
    )


def check_squares_program(
    program: Any,
    *,
    ctx: Context | None = None,
    workers: int = PROGRAM_WORKERS,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, numbers, n_workers)``, a learner's whole program, and judge it.

    It must start ``n_workers`` processes that square numbers from a task
    queue, send each number, stop every worker with a sentinel, collect one
    square per number, join every worker, and return the squares. ``ctx``
    defaults to the course's context (``COURSE_START_METHOD``).
    """
    refused = not_a_function(program, "check_squares_program(squares_program)")
    if refused is not None:
        return refused
    numbers = list(PROGRAM_NUMBERS)
    recorder = RecordingContext(context_for(ctx))
    rules: list[Rule] = [
        _stops_on_empty,
        lambda run: _joined_before_draining(run, recorder),
        _missing_sentinels,
        common_mistake,
        lambda run: _wrong_result(run, numbers),
    ]
    return judge_program(
        program,
        recorder,
        numbers,
        workers,
        rules=rules,
        timeout=timeout,
        passed=lambda run: (
            f"{len(run.started)} workers squared {len(numbers):,} numbers, every one stopped "
            "on its sentinel, and every one was joined after its results were read"
        ),
    )


# ---- the design: a pipeline of two stages, the sentinel passed along ------------------

# Small squares, so that what a stage leaves unread fits in a pipe and cannot
# keep a finished squarer from exiting: the mistake shows in the total.
PIPELINE_NUMBERS = tuple(range(1, 1001))
PIPELINE_SQUARERS = 3
SQUARE_STAGE, SUM_STAGE = "square_stage", "sum_stage"


def _stage(run: ProgramRun, name: str) -> list[Started]:
    return [p for p in _workers(run) if getattr(p.target, "__name__", "").startswith(name)]


def _stages_missing(run: ProgramRun, squarers: int) -> str | None:
    if run.error is not None or run.timed_out:
        return None
    found = (len(_stage(run, SQUARE_STAGE)), len(_stage(run, SUM_STAGE)))
    if found == (squarers, 1):
        return None
    return (
        f"your program started {found[0]} {SQUARE_STAGE}() and {found[1]} {SUM_STAGE}() "
        f"processes: start n_squarers ({squarers}) of the first and one of the second, with "
        "these names, so that the check can tell them apart"
    )


def _squarers_not_stopped(run: ProgramRun) -> str | None:
    squarers = _stage(run, SQUARE_STAGE)
    # Still waiting when the program returned, or ended by their own get()'s timeout.
    waiting = [p for p in squarers if p.exitcode != 0]
    if not waiting or len(waiting) == len(squarers):
        return None
    return (
        f"{len(waiting)} of your {len(squarers)} {SQUARE_STAGE}() workers never stopped on a "
        "sentinel: each stops at the first None it takes, so put one None per squarer on the "
        "tasks queue, after the last number"
    )


def _summer_stopped_early(
    run: ProgramRun, recorder: RecordingContext, numbers: list[int]
) -> str | None:
    summers = _stage(run, SUM_STAGE)
    if not summers or summers[0].exitcode != 0 or not isinstance(run.result, int):
        return None
    expected = sum(n * n for n in numbers)
    # A total that came out right by luck (every square ahead of the first None)
    # still leaves the other squarers' sentinels unread on the squares queue.
    if run.result >= expected and not any(_holds_items(q) for q in recorder.queues):
        return None
    return (
        f"your total is {run.result:,} (expected {expected:,}) and sentinels were left unread: "
        f"{SUM_STAGE}() stopped at the first None, while other squarers could still be sending. "
        "Every squarer passes one None on; stop after n_squarers of them"
    )


def _summer_never_finished(run: ProgramRun) -> str | None:
    summers = _stage(run, SUM_STAGE)
    squarers = _stage(run, SQUARE_STAGE)
    if not summers or summers[0].exitcode == 0 or any(p.exitcode != 0 for p in squarers):
        return None
    return (
        f"your {SUM_STAGE}() never finished, although every {SQUARE_STAGE}() had stopped: "
        f"when a squarer takes its None it must put None on the squares queue before it "
        f"returns, and {SUM_STAGE}() must stop once it has one None from each squarer"
    )


def _wrong_total(run: ProgramRun, numbers: list[int]) -> str | None:
    expected = sum(n * n for n in numbers)
    if run.result == expected:
        return None
    return (
        f"your program returned {shortened(run.result, width=60)}, expected {expected:,}, "
        f"the sum of the squares of 1…{len(numbers)}: return the one total {SUM_STAGE}() sends back"
    )


def check_pipeline_program(
    program: Any,
    *,
    ctx: Context | None = None,
    squarers: int = PIPELINE_SQUARERS,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, numbers, n_squarers)``, a learner's two-stage pipeline, and judge it.

    ``n_squarers`` processes run ``square_stage(tasks, squares)``: square each
    number until the sentinel, then pass the sentinel on. One process runs
    ``sum_stage(squares, results, n_squarers)``: add the squares until it has one
    sentinel from each squarer, then send the total. The program returns that total,
    having joined every process.
    """
    refused = not_a_function(program, "check_pipeline_program(pipeline_program)")
    if refused is not None:
        return refused
    numbers = list(PIPELINE_NUMBERS)
    total = sum(n * n for n in numbers)
    recorder = RecordingContext(context_for(ctx))
    rules: list[Rule] = [
        _stops_on_empty,
        lambda run: _stages_missing(run, squarers),
        lambda run: _summer_stopped_early(run, recorder, numbers),
        _squarers_not_stopped,
        _summer_never_finished,
        common_mistake,
        lambda run: _wrong_total(run, numbers),
    ]
    return judge_program(
        program,
        recorder,
        numbers,
        squarers,
        rules=rules,
        timeout=timeout,
        passed=lambda _run: (
            f"{squarers} squarers and 1 summer added the squares of 1…{len(numbers):,} "
            f"({total:,}); each squarer passed its sentinel on, the summer stopped after all "
            "of them, and every process was joined"
        ),
    )
