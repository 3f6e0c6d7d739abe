"""Checker for lesson 09's second exercise: a Dask task that is safe to run twice.

The learner writes ``record_square(n, folder)``, a task that stores the line
``n,n²`` in a file in ``folder``. The checker runs it as Dask tasks for 1…6 on
the notebook's client and kills the worker of task 3 once that task has
written (``helpers.distributed.first_run_lingers`` waits there), so that Dask
runs it again on another worker; then every line of every file in the folder
must appear exactly once. An appending task is named by its duplicate line.

>>> check_safe_to_rerun(len, client=None)
✘ pass the notebook's Dask client too: check_safe_to_rerun(record_square, client)
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

from helpers.checking import (
    CLUSTER_TIMEOUT,
    Verdict,
    fail,
    not_a_function,
    ok,
)
from helpers.validation import require_timeout

__all__ = ["RECORDED", "check_safe_to_rerun"]


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


def _run_with_a_kill(record: Any, client: Any, folder: str, timeout: float) -> str | None:
    """Run ``record`` for 1…6 as tasks; kill the worker of the victim once it has written."""
    from distributed import wait  # the notebook's process alone

    from helpers.distributed import first_run_lingers, kill_process, replaced, worker_running

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
    client.run(kill_process, pid, workers=[victim], wait=False)
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


def check_safe_to_rerun(record: Any, client: Any, *, timeout: float = CLUSTER_TIMEOUT) -> Verdict:
    """Run ``record(n, folder)`` as Dask tasks for n = 1…6; kill the worker of task 3 after
    it wrote, so that Dask runs it again; the folder must then hold each line ``n,n²`` once."""
    timeout = require_timeout(timeout)
    refused = not_a_function(record, "check_safe_to_rerun(record_square, client)")
    if refused is not None:
        return refused
    if client is None or not callable(getattr(client, "submit", None)):
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
