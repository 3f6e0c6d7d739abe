"""Lesson 08 (Pools): the tasks and initializers, which run in a child: a pool worker.

The pool sends each task's answer back. Standard library only.
"""

from __future__ import annotations

import os
import sys
import time
from multiprocessing import current_process
from threading import current_thread, main_thread

from helpers.workers.timeline import Recorder, now

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def square(n: int) -> int:
    """Runs in a pool worker: return ``n * n``. A task so small that sending it costs more."""
    return n * n


def power(base: int, exponent: int) -> int:
    """Runs in a pool worker: return ``base ** exponent`` (two arguments, for ``starmap``)."""
    return base**exponent


def reciprocal(x: float) -> float:
    """Runs in a pool worker: return ``1 / x``; raises for 0 or for text, and the pool
    sends that exception back to whoever asks for the result."""
    return 1 / x


def burn(seconds: float) -> float:
    """Runs in a pool worker: keep the CPU busy until this thread has used ``seconds``
    of CPU time; return ``seconds``.

    CPU-bound on purpose: it counts CPU time, not wall time, so every call does the
    same amount of work however busy the machine is.
    """
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return seconds


def nap(seconds: float) -> float:
    """Runs in a pool worker (or thread): sleep ``seconds`` and return it.

    Stands for waiting on the network or a disk: the CPU is free meanwhile.
    """
    time.sleep(seconds)
    return seconds


def metered(task: Any, argument: Any) -> tuple[float, float]:
    """Runs in a pool worker (or a thread): call ``task(argument)`` and return the CPU
    time this thread used meanwhile and the wall-clock time it took, in seconds.

    Their ratio is the share of a CPU the task had: about 1.0 when it computed with a
    CPU of its own; about 0.5 when it took turns with one other (another worker,
    another program, or, for threads, the GIL); about 0 when it waited (:func:`nap`).
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    task(argument)
    return time.thread_time() - cpu, time.perf_counter() - wall


def worker_pid(_: object = None) -> int:
    """Runs in a pool worker: return the worker's process id (to see who ran a task)."""
    return os.getpid()


def put_square(results: Any, n: int) -> None:
    """Runs in a child: put ``(n, n * n)`` on the queue ``results``."""
    results.put((n, n * n))


def timed_burn(task: int, seconds: float) -> tuple[int, str, int]:
    """Runs in a pool worker: :func:`burn` ``seconds`` of CPU, recorded on the timeline.

    Records one ``"task"`` span on the queue :func:`start_recording` gave this
    worker (when it was given one), and returns ``(task, worker's name, start)``:
    which task that span was.
    """
    start = now()
    burn(seconds)
    if _RECORDER is not None:
        _RECORDER.record("task", start, now())
    return task, current_process().name, start


def recorded_burn(seconds: float) -> float:
    """Runs in a pool worker or a thread pool's thread: :func:`burn` ``seconds`` of CPU,
    recorded on the timeline queue :func:`start_recording` gave it.

    Records a ``"task"`` span under the worker's name (the thread's, in a thread
    pool) and, on a row of its own ("<name> CPU"), a ``"cpu time"`` span from
    the same start, as long as the CPU time the task got: shorter than the task
    whenever it had to wait for a CPU, or for the GIL. Returns ``seconds``.
    """
    start, cpu = now(), time.thread_time_ns()
    burn(seconds)
    end, used = now(), time.thread_time_ns() - cpu
    if _RECORDER is not None:
        thread = current_thread()
        name = current_process().name if thread is main_thread() else thread.name
        Recorder(_RECORDER.channel, name).record("task", start, end)
        Recorder(_RECORDER.channel, f"{name} CPU").record("cpu time", start, start + used)
    return seconds


def fragile_task(log: str, x: int) -> int:
    """Runs in a pool worker: note ``x`` in the file ``log``, work 50 ms, return ``x * x``;
    raise ValueError for a negative ``x`` (the fault a checker injects).

    The log tells the checker how many tasks really started, whatever the
    program reported.
    """
    with open(log, "a") as noted:
        noted.write(f"{x}\n")
    time.sleep(0.05)
    if x < 0:
        raise ValueError(f"cannot take {x}")
    return x * x


_TABLE: bytes = b""
_QUEUE: Any = None
_RECORDER: Recorder | None = None


def load_table(table: bytes) -> None:
    """Runs once in each pool worker, as its initializer: keep ``table`` for later tasks."""
    global _TABLE  # noqa: PLW0603 - what an initializer is for
    _TABLE = table


def lookup(i: int) -> int:
    """Runs in a pool worker: return byte ``i`` of the table :func:`load_table` kept."""
    return _TABLE[i % len(_TABLE)]


def lookup_in(table: bytes, i: int) -> int:
    """Runs in a pool worker: return byte ``i`` of ``table``, which came with this task."""
    return table[i % len(table)]


def attach_queue(q: Any) -> None:
    """Runs once in each pool worker, as its initializer: keep the queue ``q``.

    A queue given at the pool's start travels as the worker is created — the one
    moment a queue may be handed to another process.
    """
    global _QUEUE  # noqa: PLW0603 - what an initializer is for
    _QUEUE = q


def start_recording(events: Any) -> None:
    """Runs once in each pool worker, as its initializer: record this worker's tasks
    on the timeline queue ``events``, under the worker's process name (``None``:
    stop recording, for a thread pool's process once its pool is done)."""
    global _RECORDER  # noqa: PLW0603 - what an initializer is for
    _RECORDER = None if events is None else Recorder(events)


def stderr_to(path: str) -> None:
    """Runs once in each pool worker, as its initializer: send the worker's stderr to
    the file ``path``, where the notebook can read a worker's traceback."""
    log = open(path, "a", buffering=1)  # kept open for the rest of the worker's life
    os.dup2(log.fileno(), 2)  # what the process itself writes to fd 2
    sys.stderr = log  # and what Python prints, tracebacks included


def report_square(n: int) -> int:
    """Runs in a pool worker: put ``(n, n * n)`` on the queue :func:`attach_queue` kept.

    Returns the worker's pid.
    """
    _QUEUE.put((n, n * n))
    return os.getpid()
