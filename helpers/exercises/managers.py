"""Checkers for lesson 02's exercises, around a manager's server process.

Both exercises are whole programs in modules the learner writes with
``%%writefile``. Exercise 1 is given broken (each player's new points are
added to a copy of the list, which the child throws away); exercise 2 is a
design (several workers take jobs off one managed list, each job exactly
once). :func:`helpers.checking.run_program` runs each within a time limit and
records every process it started, the manager's server included.
"""

from __future__ import annotations

from multiprocessing.managers import BaseManager, BaseProxy
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    context_for,
    fail,
    not_a_function,
    ok,
    run_program,
)
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["GAMES", "HISTORY", "JOBS", "JOB_WORKERS", "check_job_board", "check_merge_scores"]

# ---- exercise 1: fix a program whose changes to nested lists are lost --------------

# Each player's points before, and the new ones: one process per player adds them.
HISTORY = {"Sam": [10], "Ada": [9, 8], "Bo": []}
GAMES = {"Sam": [7, 3], "Ada": [6], "Bo": [4, 4]}


def _is_server(target: Any) -> bool:
    """True for the target of a manager's server process (a classmethod of the manager)."""
    return getattr(target, "__func__", None) is BaseManager._run_server.__func__  # type: ignore[attr-defined]


def _server_left_running(run: ProgramRun) -> str | None:
    """The hint for a manager whose server process outlived the program, else None."""
    servers = [p for p in run.unjoined if _is_server(p.target)]
    if not servers:
        return None
    return (
        "the manager's server process was still running after your function returned:"
        " create it with `with ctx.Manager() as manager:`, so that it is shut down when"
        " the block ends, and return a plain copy made inside the block"
    )


def _scores_hint(result: Any, want: dict[str, list[int]]) -> str | None:
    """A hint about the returned scores, or None when they are right."""
    if isinstance(result, BaseProxy):
        return (
            "your function returned the proxy itself, and its manager is shut down, so it"
            " stands for nothing any more: return a plain copy made inside the with"
            " block, e.g. `return scores.copy()`"
        )
    if not isinstance(result, dict):
        return f"return the scores as a plain dict (scores.copy()), not a {type(result).__name__}"
    if result == HISTORY:
        return (
            "every list is as it was before: `scores[name].extend(...)` changes a copy"
            " that the child then throws away — take the list out, extend it, and store it"
            " back with `scores[name] = ...`"
        )
    replaced = [name for name in want if result.get(name) == GAMES[name] != want[name]]
    if replaced:
        return (
            f"{replaced[0]}'s earlier points are gone ({result[replaced[0]]}, not"
            f" {want[replaced[0]]}): read the list, add the new points, then store it back"
        )
    if result != want:
        return f"the scores should be {want}, not {result}"
    return None


def check_merge_scores(
    merge_scores: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 2: ``merge_scores(ctx, history, games)`` returns each player's points, merged.

    It runs under the notebook's start method and must start a manager, one
    process per player, join them, shut the manager down and return a plain dict.
    """
    verdict = not_a_function(merge_scores, "check_merge_scores(merge_scores)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    want = {name: HISTORY[name] + GAMES[name] for name in HISTORY}
    history = {name: list(points) for name, points in HISTORY.items()}
    games = {name: list(points) for name, points in GAMES.items()}
    # Neither a Value nor a manager makes a named shared-memory segment.
    run = run_program(
        merge_scores, context_for(ctx), history, games, timeout=timeout, shared_memory=False
    )
    hint = _server_left_running(run) or common_mistake(run) or _scores_hint(run.result, want)
    if hint is not None:
        return fail(hint)
    players = [p for p in run.started if not _is_server(p.target)]
    return ok(f"{len(players)} processes added their player's points through one manager: {want}")


# ---- exercise 2: a job board, each job taken by exactly one worker ---------------------

# 40 jobs, 4 workers: enough that every worker takes some, and that the last
# jobs are fought over (a test of len(jobs) before a pop loses that race often).
JOBS = tuple(range(1, 41))
JOB_WORKERS = 4


def _jobs_hint(run: ProgramRun) -> str | None:
    """A hint about the (job, result) pairs returned, or None when each job was done once."""
    result = run.result
    if isinstance(result, BaseProxy):
        return (
            "your function returned the proxy itself, and its manager is shut down: return"
            " a plain list made inside the with block, e.g. `return list(done)`"
        )
    if not isinstance(result, list) or not all(
        isinstance(pair, tuple) and len(pair) == 2 for pair in result
    ):
        return (
            "return a plain list of (job, result) pairs, one per job, e.g. [(1, 1), (2, 4), …],"
            f" not {result!r:.60}"
        )
    counts: dict[Any, int] = {}
    for job, _answer in result:
        counts[job] = counts.get(job, 0) + 1
    twice = sorted(job for job, n in counts.items() if n > 1)
    if twice:
        return (
            f"job {twice[0]} was done {counts[twice[0]]} times ({len(twice)} jobs more than once):"
            " each worker went through the jobs on its own; take a job *off* the shared list,"
            " with one call such as jobs.pop(), so that no other worker gets it"
        )
    missing = sorted(set(JOBS) - set(counts))
    if missing:
        return (
            f"{len(missing)} of {len(JOBS)} jobs were never done (job {missing[0]} first):"
            " every worker should keep taking jobs until the list is empty"
        )
    wrong = sorted(job for job, answer in result if answer != job * job)
    if wrong:
        return f"job {wrong[0]}'s result should be {wrong[0] ** 2} (the job squared)"
    return None


def _worker_failed(run: ProgramRun) -> str | None:
    workers = [p for p in run.failed if not _is_server(p.target)]
    if not workers:
        return None
    return (
        f"{len(workers)} worker(s) ended with exit code {workers[0].exitcode}: if it was"
        " IndexError: pop from empty list, another worker took the last job between your"
        " test of the list and your pop — pop first, and stop on IndexError (or an empty"
        " answer), so the test and the take are one call"
    )


def check_job_board(
    run_jobs: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 2: ``run_jobs(ctx, jobs, workers)`` has each job done by exactly one worker.

    It must return a plain list of ``(job, job * job)`` pairs, one per job, with
    its manager shut down and every worker joined.
    """
    verdict = not_a_function(run_jobs, "check_job_board(my_jobs.run_jobs)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    run = run_program(
        run_jobs, context_for(ctx), list(JOBS), JOB_WORKERS, timeout=timeout, shared_memory=False
    )
    hint = (
        _server_left_running(run) or _worker_failed(run) or common_mistake(run) or _jobs_hint(run)
    )
    if hint is not None:
        return fail(hint)
    workers = [p for p in run.started if not _is_server(p.target)]
    return ok(
        f"{len(workers)} workers took {len(JOBS)} jobs off one managed list: each job done"
        " exactly once"
    )
