"""Start-up: start and join one child under each start method, fork server preloaded or not.

The child runs :func:`helpers.workers.bench.started`, which only imports numpy,
as the data workers do: what is timed is starting a process that can run one of
those workers — the start method's own cost plus the imports the child must do
itself. Under fork the child inherits what its parent imported; under spawn it
imports everything; under forkserver it inherits whatever the fork server has
**preloaded** (``ctx.set_forkserver_preload([...])``) and imports the rest.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from helpers.bench.channels import GRACE
from helpers.bench.experiments import MAX_REPEATS, TRANSFER_TIMEOUT, require_names
from helpers.bench.results import DEFAULT_REPEATS, Measurement, Results
from helpers.context import START_METHODS, get_context
from helpers.running import ChildError, stop
from helpers.timeline import Event, now
from helpers.validation import require_positive_int, require_timeout
from helpers.workers import bench as workers

__all__ = ["PRELOAD", "measure_startup", "plot_startup", "preload_forkserver"]

# What a fork server should hold before it forks a bench child: the worker's module
# and numpy, which the workers import (numpy is what costs: tens of milliseconds).
PRELOAD = ("__main__", "helpers.workers.bench", "numpy")


def preload_forkserver(modules: Any = PRELOAD) -> bool:
    """Make this process's fork server preload ``modules``; True if it will apply.

    ``set_forkserver_preload`` only applies when the server starts, so a server
    already running (with no children left) is stopped first; the next
    forkserver child starts a new one. With children of the server still
    running, nothing changes and this returns False.
    """
    from multiprocessing import forkserver

    server: Any = forkserver._forkserver  # one per process
    running = getattr(server, "_forkserver_pid", None) is not None
    if running:
        forkserver_children = [
            p for p in multiprocessing.active_children() if type(p).__name__ == "ForkServerProcess"
        ]
        if forkserver_children or not hasattr(server, "_stop"):
            return False
        server._stop()  # restart, so that the preload list applies
    get_context("forkserver").set_forkserver_preload(list(modules))
    return True


def _time_starts(method: str, repeats: int, timeout: float) -> tuple[list[float], tuple]:
    """Seconds per start + join, and the last one's phases: (began, started, entered,
    imported, joined) in ns, with the memory its child found (``workers.memory_at_start``)."""
    method_ctx = get_context(method)
    samples: list[float] = []
    phases: tuple = ()
    for _ in range(repeats + 1):  # the untimed warm-up also starts a fork server
        reader, writer = method_ctx.Pipe(duplex=False)
        began = time.perf_counter()
        began_ns = now()
        process = method_ctx.Process(target=workers.started, args=(writer,))
        process.start()
        started_ns = now()
        writer.close()
        process.join(timeout)
        samples.append(time.perf_counter() - began)
        joined_ns = now()
        if process.is_alive():
            stop(process, grace=GRACE)
            reader.close()
            raise TimeoutError(f"a {method} child did not finish within {timeout:g} s")
        report = reader.recv() if process.exitcode == 0 and reader.poll(timeout) else None
        reader.close()
        if report is None:
            raise ChildError(f"started ({method})", process.exitcode)
        entered, imported, memory = report
        phases = (began_ns, started_ns, entered, imported, joined_ns, memory)
    return samples, phases


def _phase_events(label: str, phases: tuple) -> list[Event]:
    """One row of the start-up picture, in ns after ``start()`` was called."""
    began, _started, entered, imported, joined, _memory = phases
    return [
        Event(label, "start", 0, entered - began),  # until the child runs its first line
        Event(label, "work", entered - began, imported - began),  # importing numpy, if needed
        Event(label, "exit", imported - began, joined - began),  # exit, and join() returning
    ]


def plot_startup(startup: Results) -> Any:
    """The phases of one start per method, as a timeline: start, the worker's imports, exit."""
    from helpers.timeline import draw  # only the parent draws

    figure = draw(startup.phases, t0=0, title="Starting one child: where the time goes")
    figure.axes[0].set_xlabel("milliseconds after start() was called")
    return figure


def measure_startup(
    methods: Any = None,
    *,
    preload: bool = True,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time ``Process(target=started).start()`` + ``join()`` under each start method.

    Each method gets its own context explicitly (that is what is compared).
    ``methods`` defaults to those this platform has (Windows: spawn only).
    With ``preload``, forkserver is measured twice: with nothing of ours in
    the fork server (the default), then with :data:`PRELOAD` preloaded.
    """
    if methods is None:
        methods = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
    methods = require_names(methods, {m: m for m in START_METHODS}, "methods")
    repeats = require_positive_int(repeats, "repeats", maximum=MAX_REPEATS)
    timeout = require_timeout(timeout)
    results = Results("startup", repeats=repeats)
    runs: list[tuple[str, str, tuple[str, ...]]] = [
        (m, m, ()) for m in methods if m != "forkserver"
    ]
    if "forkserver" in methods:
        runs.append(("forkserver", "forkserver, nothing preloaded", ("__main__",)))
        if preload:
            runs.append(("forkserver+preload", "forkserver, workers preloaded", PRELOAD))
    for name, label, modules in runs:
        method = name.split("+")[0]
        fresh = method == "forkserver" and preload_forkserver(modules)
        shown = (
            "forkserver, server already running" if method == "forkserver" and not fresh else label
        )
        samples, phases = _time_starts(method, repeats, timeout)
        results.measurements.append(
            Measurement(name, shown, 0, tuple(samples[1:]), warm_up=samples[0])
        )
        results.phases += _phase_events(shown, phases)
        results.memory[name] = phases[-1]
        if method == "forkserver" and not fresh:
            break  # the two forkserver rows would measure the same server
    # The fork server stays preloaded: later forkserver children start faster.
    return results
