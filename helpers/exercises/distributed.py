"""Checker for lesson 09's second exercise: send the data to Dask's workers once.

The learner writes ``counts_below(client, numbers, thresholds)``: one task per
threshold, each counting the numbers below it, with the numbers **scattered**
once rather than shipped inside every task. The checker runs the program with
the notebook's client wrapped in a recorder that notes each ``scatter``,
``submit`` and ``map`` — so it can tell the list travelling with every task,
a list scattered number by number, or tasks missing — then checks the counts.

>>> check_counts_below(len, client=None)
✘ pass the notebook's Dask client too: check_counts_below(counts_below, client)
"""

from __future__ import annotations

import functools
from typing import Any

from helpers.checking import ProgramRun, Verdict, common_mistake, fail, not_a_function, ok
from helpers.running import CallTimeout, call_with_timeout
from helpers.validation import require_timeout

__all__ = ["CHECK_TIMEOUT", "NUMBERS", "THRESHOLDS", "check_counts_below"]

NUMBERS = tuple((n * 7919) % 20_000 for n in range(20_000))  # 0…19,999, shuffled
THRESHOLDS = (5, 12_000, 19_999, 50_000)
CHECK_TIMEOUT = 60.0


def _carries(value: Any, numbers: list[int], depth: int = 0) -> bool:
    """Whether ``value`` is, or would ship inside it, the whole list of numbers."""
    if depth > 2:
        return False
    if isinstance(value, (list, tuple)) and len(value) == len(numbers):
        return list(value) == numbers
    if isinstance(value, functools.partial):
        return any(_carries(v, numbers, depth + 1) for v in (*value.args, *value.keywords.values()))
    code = getattr(value, "__code__", None)
    if code is not None:  # a function: cloudpickle sends its closure and its globals along
        cells = [c.cell_contents for c in (value.__closure__ or ()) if _filled(c)]
        names = getattr(value, "__globals__", {})
        used = [names[n] for n in code.co_names if n in names]
        return any(_carries(v, numbers, depth + 1) for v in (*cells, *used))
    return False


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


class Recorder:
    """The notebook's client, noting what the learner's program sends through it."""

    def __init__(self, client: Any, numbers: list[int]) -> None:
        self._client = client
        self._numbers = numbers
        self.scatters: list[Any] = []  # what each scatter() was given
        self.tasks = 0
        self.shipped = 0  # tasks that carried the whole list

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def scatter(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        self.scatters.append(data)
        return self._client.scatter(data, *args, **kwargs)

    def submit(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        self.tasks += 1
        if any(_carries(v, self._numbers) for v in (function, *args, *kwargs.values())):
            self.shipped += 1
        return self._client.submit(function, *args, **kwargs)

    def map(self, function: Any, *iterables: Any, **kwargs: Any) -> Any:
        columns = [list(column) for column in iterables]
        for row in zip(*columns, strict=False):  # map stops at the shortest, too
            self.tasks += 1
            if any(_carries(v, self._numbers) for v in (function, *row)):
                self.shipped += 1
        return self._client.map(function, *columns, **kwargs)


def _is_future(value: Any) -> bool:
    from distributed import Future  # noqa: PLC0415 - the checker runs in the notebook only

    return isinstance(value, Future)


def _lesson_mistake(recorder: Recorder, result: Any, numbers: list[int]) -> str | None:
    """The first mistake in how the program used Dask, or None."""
    split = [
        d for d in recorder.scatters if isinstance(d, (list, tuple)) and len(d) == len(numbers)
    ]
    returned_futures = _is_future(result) or (
        isinstance(result, (list, tuple)) and any(_is_future(item) for item in result)
    )
    rules = [
        (
            bool(split),
            f"client.scatter(numbers) with a list scatters each of its {len(numbers):,} numbers "
            "as a piece of its own and returns a list of futures: wrap it, "
            "[numbers_future] = client.scatter([numbers], broadcast=True)",
        ),
        (
            recorder.shipped > 0,
            f"the whole list of numbers went along with {recorder.shipped} task(s), once per "
            "task: scatter it once, client.scatter([numbers], broadcast=True), and pass the "
            "future to each task",
        ),
        (
            recorder.tasks == 0,
            "your program ran no Dask task: make one per threshold with client.submit "
            "(or client.map), so the counting happens on the workers",
        ),
        (
            not recorder.scatters,
            "send the numbers with client.scatter([numbers], broadcast=True), once",
        ),
        (
            len(recorder.scatters) > 1,
            f"you scattered {len(recorder.scatters)} times: once is enough, before making the "
            "tasks, which all share the one future",
        ),
        (
            returned_futures,
            "your program returned futures: wait for them with wait(futures, timeout=60), "
            "then return client.gather(futures)",
        ),
    ]
    return next((hint for broken, hint in rules if broken), None)


def _run_bounded(
    program: Any, recorder: Recorder, numbers: list[int], timeout: float
) -> ProgramRun:
    """Run the program in a helper thread within ``timeout``.

    Not :func:`helpers.checking.run_program`: the program starts no process of
    its own (the cluster's workers are already running), so there is nothing
    of that kind to watch.
    """
    run = ProgramRun(timeout=timeout)
    try:
        run.result = call_with_timeout(
            lambda: program(recorder, numbers, list(THRESHOLDS)),
            timeout=timeout,
            what="your program",
        )
    except CallTimeout:
        run.timed_out = True
    except Exception as exc:  # the learner's own error, named in the hint
        run.error = exc
    return run


def check_counts_below(program: Any, client: Any, *, timeout: float = CHECK_TIMEOUT) -> Verdict:
    """Run ``program(client, NUMBERS, THRESHOLDS)`` on the notebook's client; name a mistake."""
    require_timeout(timeout)
    refused = not_a_function(program, "check_counts_below(counts_below, client)")
    if refused is not None:
        return refused
    if not callable(getattr(client, "scatter", None)):
        return fail("pass the notebook's Dask client too: check_counts_below(counts_below, client)")
    numbers = list(NUMBERS)
    recorder = Recorder(client, numbers)
    run = _run_bounded(program, recorder, numbers, timeout)
    hint = common_mistake(run, expect_processes=False) or _lesson_mistake(
        recorder, run.result, numbers
    )
    if hint:
        return fail(hint)
    expected = [sum(1 for n in numbers if n < t) for t in THRESHOLDS]
    if recorder.tasks != len(THRESHOLDS):
        return fail(f"make one task per threshold: {len(THRESHOLDS)} tasks, not {recorder.tasks}")
    if not isinstance(run.result, (list, tuple)) or list(run.result) != expected:
        return fail(
            f"your program returned {run.result!r}, expected {expected} — one count per "
            "threshold, in the order of the thresholds"
        )
    return ok(
        f"{len(THRESHOLDS)} counts, right and in order, from {len(THRESHOLDS)} tasks sharing "
        "one scattered copy of the numbers"
    )
