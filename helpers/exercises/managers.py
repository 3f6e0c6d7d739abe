"""Checkers for the exercises of notebook 02, a manager's server process.

Exercise 1's function is written in a notebook cell, and a child must run it.
Under spawn and forkserver a child cannot import a function from a cell, so
that checker uses ``multiprocess``, whose dill pickling sends the function
itself, and ``multiprocess`` objects only — its manager, its proxies, its
processes — because the two libraries' objects cannot be mixed. It starts its
own manager and shuts it down before returning.

Exercise 2 is a whole program: the learner's function starts a manager and the
processes, joins them and returns a plain copy of the scores.
:func:`helpers.checking.run_program` runs it within a time limit and records
every process it started, the manager's server included.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.managers import BaseManager, BaseProxy
from typing import Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    fail,
    not_a_function,
    ok,
    run_program,
)
from helpers.context import get_context, get_multiprocess_context
from helpers.running import DEFAULT_TIMEOUT, ChildError, ChildTimeout, run
from helpers.validation import require_timeout

__all__ = ["GAMES", "HISTORY", "check_add_score", "check_merge_scores"]

NEW_NAME = "Jeff"  # exercise 1 adds a name the dict does not hold yet


def _failure(exc: Exception, timeout: float) -> str:
    """The hint for a child that raised or overran."""
    if isinstance(exc, ChildTimeout):
        return (
            f"your function did not finish within {timeout:g} s: "
            "does it wait for something that never comes?"
        )
    assert isinstance(exc, ChildError)
    if exc.exc_type is None:
        return f"the child running your function died (exit code {exc.exitcode})"
    return f"your function raised {exc.exc_type} in the child: {exc.exc_message}"


# ---- exercise 1: change a list inside a managed dict so the change sticks -------------


def _add_in_child(
    mp: Any, add_score: Callable[..., Any], scores: Any, name: str, points: int, *, timeout: float
) -> str | None:
    """Run the answer once in a child; return a hint if it raised or overran."""
    try:
        run(mp, add_score, scores, name, points, timeout=timeout, name="add_score")
    except ChildError as exc:
        if exc.exc_type == "KeyError" and name == NEW_NAME:
            return (
                "a new name raised KeyError: start an empty list when the name "
                "is not there yet, e.g. scores.get(name, [])"
            )
        return _failure(exc, timeout)
    except ChildTimeout as exc:
        return _failure(exc, timeout)
    return None


def _existing_name_hint(sam: Any) -> str | None:
    """What went wrong with Sam's list, who had [10] before the answer added 7."""
    if sam == [10]:
        return (
            "Sam's list is still [10]: append changed a copy that lived only in the "
            "child; store the changed list back with scores[name] = ..."
        )
    if sam == [7]:
        return (
            "Sam's list is now [7]: his earlier 10 was lost; read the list, "
            "append to it, then store it back"
        )
    if sam != [10, 7]:
        return f"after add_score(scores, 'Sam', 7) Sam's list should be [10, 7], not {sam!r}"
    return None


def _new_name_hint(final: dict[str, Any]) -> str | None:
    if final.get(NEW_NAME) != [8]:
        return f"a new name needs a new list: Jeff's should be [8], not {final.get(NEW_NAME)!r}"
    if final != {"Sam": [10, 7], "Adam": [9], NEW_NAME: [8]}:
        return f"only the name you were given should change, but the dict is now {final!r}"
    return None


def check_add_score(add_score: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """Run ``add_score(scores, name, points)`` in a child, twice, and check the managed dict.

    ``scores`` maps a name to a list of points. The answer must append to an
    existing name's list, start a list for a new name, and make both changes
    reach the manager.
    """
    verdict = not_a_function(add_score, "check_add_score(add_score)")
    if verdict is not None:
        return verdict
    require_timeout(timeout)
    mp = get_multiprocess_context()
    with mp.Manager() as manager:
        scores = manager.dict({"Sam": [10], "Adam": [9]})
        # First an existing name: this is where the nested-mutation trap bites;
        # then a name that is not in the dict yet.
        hint = _add_in_child(mp, add_score, scores, "Sam", 7, timeout=timeout)
        if hint is None:
            hint = _existing_name_hint(scores.get("Sam"))
        if hint is None:
            hint = _add_in_child(mp, add_score, scores, NEW_NAME, 8, timeout=timeout)
        if hint is None:
            hint = _new_name_hint(scores.copy())
    if hint is not None:
        return fail(hint)
    return ok("Sam has [10, 7] and Jeff has [8] in the manager, where every process sees them")


# ---- exercise 2: a whole program with a manager ----------------------------------------

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
            "every list is as it was before: `scores[name].append(...)` appends to a copy"
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


def check_merge_scores(merge_scores: Any, *, timeout: float = PROGRAM_TIMEOUT) -> Verdict:
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
        merge_scores, get_context(), history, games, timeout=timeout, shared_memory=False
    )
    hint = _server_left_running(run) or common_mistake(run) or _scores_hint(run.result, want)
    if hint is not None:
        return fail(hint)
    players = [p for p in run.started if not _is_server(p.target)]
    return ok(f"{len(players)} processes added their player's points through one manager: {want}")
