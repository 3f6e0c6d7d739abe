"""Lesson 09 (Beyond one machine): the task a Dask worker or a process-pool worker runs, in a child.

Standard library only: a process-pool child imports this module, not Dask.
"""

from __future__ import annotations

import os
import signal
import time

# A process-pool child imports this module: typing stays out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def busy(ms: float) -> float:
    """Runs in a worker (Dask's or a process pool's): sleep ``ms`` milliseconds, return ``ms``."""
    if ms > 0:
        time.sleep(ms / 1000)
    return ms


def first_run_lingers(record: Any, n: int, folder: str, linger: bool) -> int:
    """Runs in a Dask worker: the checker's wrapper around a learner's task ``record(n, folder)``.

    With ``linger``, the first attempt for ``n`` leaves a dot-file in ``folder``
    once ``record`` has returned, then sleeps: long enough for the checker to
    kill this worker, so that Dask runs the task again elsewhere. A later
    attempt, or any attempt without ``linger``, returns ``n`` at once.
    """
    record(n, folder)
    marker = os.path.join(folder, f".ran-{n}")
    if linger and not os.path.exists(marker):
        with open(marker, "w"):
            pass
        time.sleep(60)  # the checker kills this worker meanwhile
    return n


async def kill_process(pid: int) -> None:
    """Runs in a Dask worker, through ``client.run(..., wait=False)``: SIGKILL ``pid``.

    ``client.run`` without waiting takes only coroutine functions; the checker
    kills the worker it runs in, so no answer ever comes back.
    """
    os.kill(pid, signal.SIGKILL)
