"""Checker for lesson 09's second exercise: send the data to Dask's workers once.

The learner writes ``counts_below(client, numbers, thresholds)``: one task per
threshold, each counting the numbers (a NumPy array) below it, with the array
**scattered** once rather than shipped inside every task. The checker runs the
program with the notebook's client wrapped in a recorder that notes each
``scatter``, ``submit`` and ``map`` — so it can tell the array travelling
with every task, a list scattered number by number, or tasks missing — then
checks the counts. The program starts no process of its own (the cluster's
workers already run), so it is run bounded with
:func:`helpers.running.call_with_timeout` rather than
:func:`helpers.checking.run_program`, which watches processes.

>>> check_counts_below(len, client=None)
✘ pass the notebook's Dask client too: check_counts_below(counts_below, client)
"""

from __future__ import annotations

import functools
import os
import signal
import tempfile
import time
from typing import Any

import numpy as np

from helpers.checking import ProgramRun, Verdict, common_mistake, fail, not_a_function, ok
from helpers.running import CallTimeout, call_with_timeout
from helpers.validation import require_timeout

__all__ = [
    "CLUSTER_PROGRAM_TIMEOUT",
    "RECORDED",
    "THRESHOLDS",
    "check_counts_below",
    "check_safe_to_rerun",
    "numbers",
]

SIZE = 20_000
THRESHOLDS = (5, 12_000, 19_999, 50_000)
# How long a learner's program may run on the cluster: its tasks take seconds, so
# one still running after this waits for something that will not come.
CLUSTER_PROGRAM_TIMEOUT = 60.0


def numbers() -> np.ndarray:
    """The array the program is given: 0…19,999 in a new random order each time.

    The counts below each threshold do not depend on the order, but Dask names
    scattered data after its content: the same array scattered by the previous
    check, whose futures are being released just now, could lose its data
    under the new check's tasks. A new order is a new name.
    """
    return np.random.default_rng().permutation(SIZE)


def _carries(value: Any, data: np.ndarray, depth: int = 0) -> bool:
    """Whether ``value`` is, or would ship inside it, the whole array (or it as a list)."""
    if depth > 2:
        return False
    if isinstance(value, np.ndarray):
        return value.shape == data.shape and bool(np.array_equal(value, data))
    if isinstance(value, (list, tuple)):
        return len(value) == len(data) and list(value) == data.tolist()
    if isinstance(value, functools.partial):
        return any(_carries(v, data, depth + 1) for v in (*value.args, *value.keywords.values()))
    code = getattr(value, "__code__", None)
    if code is not None:  # a function: cloudpickle sends its closure and its globals along
        cells = [c.cell_contents for c in (value.__closure__ or ()) if _filled(c)]
        names = getattr(value, "__globals__", {})
        used = [names[n] for n in code.co_names if n in names]
        return any(_carries(v, data, depth + 1) for v in (*cells, *used))
    return False


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


class Recorder:
    """The notebook's client, noting what the learner's program sends through it."""

    def __init__(self, client: Any, data: np.ndarray) -> None:
        self._client = client
        self._data = data
        self.scatters: list[Any] = []  # what each scatter() was given
        self.tasks = 0
        self.shipped = 0  # tasks that carried the whole array

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def scatter(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        self.scatters.append(data)
        return self._client.scatter(data, *args, **kwargs)

    def submit(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        self.tasks += 1
        if any(_carries(v, self._data) for v in (function, *args, *kwargs.values())):
            self.shipped += 1
        return self._client.submit(function, *args, **kwargs)

    def map(self, function: Any, *iterables: Any, **kwargs: Any) -> Any:
        columns = [list(column) for column in iterables]
        for row in zip(*columns, strict=False):  # map stops at the shortest, too
            self.tasks += 1
            if any(_carries(v, self._data) for v in (function, *row)):
                self.shipped += 1
        return self._client.map(function, *columns, **kwargs)


def _is_future(value: Any) -> bool:
    from distributed import Future  # noqa: PLC0415 - the checker runs in the notebook only

    return isinstance(value, Future)


def _scatter_mistake(recorder: Recorder) -> str | None:
    """A list scattered item by item, or the same data scattered again and again.

    Named before anything else: each makes what follows slow or fail (futures
    of one key released while tasks still need them), with errors that say
    nothing about the cause.
    """
    if len(recorder.scatters) > 1:
        return (
            f"you scattered {len(recorder.scatters)} times: once is enough, before making the "
            "tasks, which all share the one future"
        )
    split = [d for d in recorder.scatters if isinstance(d, (list, tuple)) and len(d) > 1]
    if not split:
        return None
    return (
        f"client.scatter(a_list) scatters each of its {len(split[0]):,} items as a piece of "
        "its own and returns a list of futures: scatter the array itself, "
        "client.scatter(numbers, broadcast=True), which gives one future"
    )


def _lesson_mistake(recorder: Recorder, result: Any) -> str | None:
    """The first mistake in how the program used Dask, or None."""
    returned_futures = _is_future(result) or (
        isinstance(result, (list, tuple)) and any(_is_future(item) for item in result)
    )
    rules = [
        (
            recorder.shipped > 0,
            f"the whole array went along with {recorder.shipped} task(s), once per task: "
            "scatter it once, client.scatter(numbers, broadcast=True), and pass the future "
            "to each task",
        ),
        (
            recorder.tasks == 0,
            "your program ran no Dask task: make one per threshold with client.submit "
            "(or client.map), so the counting happens on the workers",
        ),
        (
            not recorder.scatters,
            "send the numbers with client.scatter(numbers, broadcast=True), once",
        ),
        (
            returned_futures,
            "your program returned futures: wait for them with wait(futures, timeout=60), "
            "then return client.gather(futures)",
        ),
    ]
    return next((hint for broken, hint in rules if broken), None)


def _run_bounded(program: Any, recorder: Recorder, data: np.ndarray, timeout: float) -> ProgramRun:
    """Run the program in a helper thread of this process, within ``timeout``."""
    run = ProgramRun(timeout=timeout)
    try:
        run.result = call_with_timeout(
            lambda: program(recorder, data, list(THRESHOLDS)), timeout=timeout, what="your program"
        )
    except CallTimeout:
        run.timed_out = True
    except Exception as exc:  # the learner's own error, named in the hint
        run.error = exc
    return run


def _as_counts(result: Any) -> list[int] | None:
    if not isinstance(result, (list, tuple)):
        return None
    try:
        return [int(n) for n in result]
    except (TypeError, ValueError):
        return None


def check_counts_below(
    program: Any, client: Any, *, timeout: float = CLUSTER_PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(client, numbers(), THRESHOLDS)`` on the notebook's client; name a mistake."""
    require_timeout(timeout)
    refused = not_a_function(program, "check_counts_below(counts_below, client)")
    if refused is not None:
        return refused
    if not callable(getattr(client, "scatter", None)):
        return fail("pass the notebook's Dask client too: check_counts_below(counts_below, client)")
    data = numbers()
    recorder = Recorder(client, data)
    run = _run_bounded(program, recorder, data, timeout)
    hint = (
        _scatter_mistake(recorder)
        or common_mistake(run, expect_processes=False)
        or _lesson_mistake(recorder, run.result)
    )
    if hint:
        return fail(hint)
    expected = [int((data < t).sum()) for t in THRESHOLDS]
    if recorder.tasks != len(THRESHOLDS):
        return fail(f"make one task per threshold: {len(THRESHOLDS)} tasks, not {recorder.tasks}")
    if _as_counts(run.result) != expected:
        return fail(
            f"your program returned {run.result!r}, expected {expected} — one count per "
            "threshold, in the order of the thresholds"
        )
    return ok(
        f"{len(THRESHOLDS)} counts, right and in order, from {len(THRESHOLDS)} tasks sharing "
        "one scattered copy of the numbers"
    )


# --------------------------------------------------------------------------
# Exercise 2: a task that is safe to run twice, while the checker kills a worker
# --------------------------------------------------------------------------

RECORDED = tuple(range(1, 7))
VICTIM = 3  # the input whose worker is killed once it has written its result


def _lines(folder: str) -> list[str]:
    """Every line of every file in ``folder`` but the checker's own dot-files."""
    found = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith("."):
            with open(os.path.join(folder, name)) as file:
                found += [line.strip() for line in file if line.strip()]
    return found


async def _kill(pid: int) -> None:  # client.run(..., wait=False) takes only async functions
    os.kill(pid, signal.SIGKILL)


def _run_with_a_kill(record: Any, client: Any, folder: str, timeout: float) -> str | None:
    """Run ``record`` for 1…6 as tasks; kill the worker of the victim once it has written."""
    from distributed import wait  # noqa: PLC0415 - the notebook's process alone

    from helpers.distributed import first_run_lingers, replaced, worker_running  # noqa: PLC0415

    workers = len(client.scheduler_info(n_workers=-1)["workers"])
    futures = {
        n: client.submit(first_run_lingers, record, n, folder, n == VICTIM, pure=False)
        for n in RECORDED
    }
    deadline = time.monotonic() + timeout
    marker = os.path.join(folder, f".ran-{VICTIM}")
    while not os.path.exists(marker):
        if futures[VICTIM].status == "error":
            futures[VICTIM].result()  # raises the learner's error, named by the caller
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    victim = worker_running(client, futures[VICTIM], timeout=timeout)
    pid = client.run(os.getpid, workers=[victim])[victim]
    client.run(_kill, pid, workers=[victim], wait=False)
    wait(list(futures.values()), timeout=timeout)
    replaced(client, [victim], workers=workers, timeout=timeout)
    return victim


def _folder_mistake(lines: list[str]) -> str | None:
    """What the folder's lines, after a task ran twice, say about the learner's task."""
    expected = [f"{n},{n * n}" for n in RECORDED]
    twice = sorted({line for line in lines if lines.count(line) > 1})
    if twice:
        line = f"{VICTIM},{VICTIM**2}" if f"{VICTIM},{VICTIM**2}" in twice else twice[0]
        return (
            f"after the worker running task {VICTIM} was killed, Dask ran its tasks again "
            f"(and any whose result lived there), and the folder now holds {line!r} "
            f"{lines.count(line)} times: write each input's result where a second run "
            "overwrites it (one file named after the input)"
        )
    if sorted(lines) != sorted(expected):
        return f"the folder holds {sorted(lines)}, expected one line 'n,n²' per input: {expected}"
    return None


def check_safe_to_rerun(
    record: Any, client: Any, *, timeout: float = CLUSTER_PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``record(n, folder)`` as Dask tasks for n = 1…6; kill the worker of task 3 after
    it wrote, so that Dask runs it again; the folder must then hold each line ``n,n²`` once."""
    timeout = require_timeout(timeout)
    refused = not_a_function(record, "check_safe_to_rerun(record_square, client)")
    if refused is not None:
        return refused
    if client is None:
        return fail(
            "pass the notebook's Dask client too: check_safe_to_rerun(record_square, client)"
        )
    with tempfile.TemporaryDirectory(prefix="safe-to-rerun-") as folder:
        try:
            victim = _run_with_a_kill(record, client, folder, timeout)
        except Exception as error:  # the learner's task raised, or a wait ran out
            return fail(f"your task failed: {type(error).__name__}: {error}")
        lines = _lines(folder)
    hint = (
        f"task {VICTIM} wrote nothing within {timeout:g} s: run record_square({VICTIM}, folder) "
        "here and look at the folder"
        if victim is None
        else _folder_mistake(lines)
    )
    if hint:
        return fail(hint)
    return ok(
        f"task {VICTIM}'s worker was killed after it wrote, Dask ran the task again elsewhere, "
        f"and the folder holds each of the {len(RECORDED)} results exactly once"
    )
