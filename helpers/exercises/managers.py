"""Checkers for the exercises of notebook 02, a manager's server process.

The learner writes their function in a notebook cell, and a child must run
it. Under spawn and forkserver a child cannot import a function from a cell,
so these checkers use ``multiprocess``, whose dill pickling sends the
function itself. They use ``multiprocess`` objects only — its manager, its
proxies, its processes — because the two libraries' objects cannot be mixed.

Each checker starts its own manager and shuts it down before returning; every
child is joined within ``timeout`` seconds, so a wrong answer never hangs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.checking import Verdict, fail, ok
from helpers.context import get_multiprocess_context
from helpers.running import DEFAULT_TIMEOUT, ChildError, ChildTimeout, run, start, wait
from helpers.validation import require_positive_int, require_timeout

__all__ = ["check_add_score", "check_exact_counter", "start_together"]

# How long a child waits at the starting line for the others.
START_TIMEOUT = 20.0
MAX_WORKERS = 8
MAX_TIMES = 10_000
NEW_NAME = "Jeff"  # exercise 1 adds a name the dict does not hold yet


def _require_function(answer: Any, name: str) -> Callable[..., Any]:
    if not callable(answer):
        raise TypeError(f"pass your function itself, e.g. {name}, not {type(answer).__name__}")
    return answer


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
    _require_function(add_score, "add_score")
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


# ---- exercise 2: no lost updates on a managed Value ------------------------------------


def start_together(barrier: Any, worker: Callable[..., Any], *args: Any) -> None:
    """Runs in a child: wait until every child is ready, then call ``worker(*args)``.

    Starting together makes the children's loops overlap, so an unprotected
    ``+=`` really does lose updates instead of getting lucky.
    """
    barrier.wait(START_TIMEOUT)
    worker(*args)


def check_exact_counter(
    add_ones_safely: Any,
    *,
    workers: int = 3,
    times: int = 200,
    timeout: float = DEFAULT_TIMEOUT,
) -> Verdict:
    """Run ``add_ones_safely(counter, lock, times)`` in ``workers`` children at once.

    ``counter`` is a managed Value starting at 0 and ``lock`` a managed Lock;
    the answer passes if the count ends at exactly ``workers * times``.
    """
    _require_function(add_ones_safely, "add_ones_safely")
    workers = require_positive_int(workers, "workers", maximum=MAX_WORKERS)
    times = require_positive_int(times, "times", maximum=MAX_TIMES)
    require_timeout(timeout)
    expected = workers * times
    mp = get_multiprocess_context()
    with mp.Manager() as manager:
        counter, lock = manager.Value("i", 0), manager.Lock()
        barrier = manager.Barrier(workers)
        children = [
            start(
                mp,
                start_together,
                barrier,
                add_ones_safely,
                counter,
                lock,
                times,
                name=f"add_ones_safely {n}",
            )
            for n in range(1, workers + 1)
        ]
        try:
            wait(children, timeout=timeout)
        except ChildTimeout as exc:
            if not lock.acquire(False):  # still held by a child that has been stopped
                return fail(
                    f"your children were still waiting after {timeout:g} s because the lock "
                    "was never released: every acquire() needs a release(), and "
                    "`with lock:` does both for you"
                )
            lock.release()
            return fail(_failure(exc, timeout))
        except ChildError as exc:
            return fail(_failure(exc, timeout))
        total = counter.value
    if total < expected:
        return fail(
            f"updates were lost: the count is {total}, not {expected}; hold the lock around "
            "the whole read-add-write, e.g. `with lock: counter.value += 1`"
        )
    if total > expected:
        return fail(
            f"the count is {total}, more than {expected}: each call should add exactly 1, "
            "`times` times"
        )
    return ok(f"{workers} children × {times} increments = {expected}, not one update lost")
