"""Choose the start method every notebook and helper uses.

The course reads one environment variable, ``COURSE_START_METHOD``, so that the
same notebooks can be verified under ``spawn``, ``fork`` and ``forkserver``.
Every process, queue, lock and array in a lesson is created through the
context returned by :func:`get_context`, never through the module-level
``multiprocessing`` functions, so the choice really applies everywhere.

>>> get_context("spawn").get_start_method()
'spawn'
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Mapping
from multiprocessing.context import DefaultContext, SpawnContext

# What get_context returns; unlike BaseContext, each of these has .Process. A real
# alias that costs a child nothing: `import multiprocessing` has loaded these classes
# already (Windows has no fork or forkserver).
if sys.platform == "win32":
    Context = DefaultContext | SpawnContext
else:
    from multiprocessing.context import ForkContext, ForkServerContext

    Context = DefaultContext | SpawnContext | ForkContext | ForkServerContext

__all__ = [
    "CGROUP_ROOT",
    "DEFAULT_START_METHOD",
    "ENV_VAR",
    "START_METHODS",
    "cgroup_cpu_quota",
    "describe_cpus",
    "describe_start_method",
    "get_context",
    "get_multiprocess_context",
    "start_method_from_env",
    "usable_cpu_count",
]

ENV_VAR = "COURSE_START_METHOD"
START_METHODS = ("spawn", "fork", "forkserver")
# spawn is the default because it is what Windows and macOS use, and it is the
# strictest: a child starts from a fresh interpreter and must import everything
# it runs, so what works under spawn works under every method.
DEFAULT_START_METHOD = "spawn"

_WHY = {
    "spawn": "a fresh Python interpreter per child, which imports what it runs "
    "(the default on Windows and macOS, and the strictest)",
    "fork": "a copy of the parent process made by fork(), which inherits its memory "
    "(the default on Linux before Python 3.14; not available on Windows)",
    "forkserver": "a copy forked from a small, clean server process "
    "(the default on Linux from Python 3.14; not available on Windows)",
}


def _check(method: object, source: str) -> str:
    if not isinstance(method, str) or method.strip().lower() not in START_METHODS:
        valid = ", ".join(START_METHODS)
        raise ValueError(f"{source}={method!r} is not a start method; choose one of: {valid}")
    method = method.strip().lower()
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"{source}={method!r} is not available on this platform")
    return method


def start_method_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return the start method named by ``COURSE_START_METHOD`` (default ``spawn``).

    An unknown value raises ``ValueError`` listing the valid ones.
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "")
    if value.strip() == "":
        return DEFAULT_START_METHOD
    return _check(value, ENV_VAR)


def get_context(method: str | None = None) -> Context:
    """Return the ``multiprocessing`` context for ``method`` or, if None, the environment's."""
    chosen = start_method_from_env() if method is None else _check(method, "start method")
    # One of START_METHODS, so a context with .Process; typeshed says BaseContext for any str.
    return multiprocessing.get_context(chosen)  # type: ignore[return-value]


def get_multiprocess_context(method: str | None = None):  # multiprocess has no types
    """Return the context of the dill-based ``multiprocess`` fork for the same method.

    Its objects must never be mixed with those of ``multiprocessing``: a
    ``multiprocess`` child cannot use a ``multiprocessing`` queue, and the
    other way round. It is imported here, lazily, because only exercises whose
    workers live in notebook cells need it.
    """
    chosen = start_method_from_env() if method is None else _check(method, "start method")
    import multiprocess  # heavy and optional: only exercises use it

    return multiprocess.get_context(chosen)


def describe_start_method(method: str | None = None) -> str:
    """One sentence saying which start method is in use and what it means."""
    chosen = start_method_from_env() if method is None else _check(method, "start method")
    return f"Start method: {chosen} — {_WHY[chosen]}."


# --- How many CPUs this process can really use ------------------------------
#
# os.cpu_count() is the machine's count. On a shared node (Binder, a CI
# runner, a container) it says 32-96 while the process may run on two, so a
# pool sized from it starts dozens of workers that only queue for those two.
# Two things limit a process: its CPU affinity (which CPUs the scheduler may
# put it on) and, in a container, a cgroup quota (how much CPU time per period
# it may use, whatever CPUs that time runs on).

CGROUP_ROOT = "/sys/fs/cgroup"


def _affinity_count() -> int:
    """CPUs this process may be scheduled on (3.13+ asks Python, before that the affinity mask)."""
    count: int | None
    if sys.version_info >= (3, 13):
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):  # Linux; not on macOS or Windows
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return count or 1


def _own_cgroup(proc_self_cgroup: str) -> str:
    """This process's cgroup v2 path ("/" inside most containers)."""
    try:
        with open(proc_self_cgroup, encoding="ascii") as lines:
            for line in lines:
                if line.startswith("0::"):
                    return line[3:].strip() or "/"
    except OSError:
        pass
    return "/"


def cgroup_cpu_quota(
    root: str = CGROUP_ROOT, *, proc_self_cgroup: str = "/proc/self/cgroup"
) -> float | None:
    """CPUs' worth of time the cgroup v2 ``cpu.max`` quota allows, or None if unlimited.

    ``cpu.max`` holds "<quota> <period>" in microseconds ("150000 100000" is
    1.5 CPUs) or "max <period>" for no quota. The smallest quota on the way
    from this process's cgroup up to the root is the one that binds. Where
    there is no such file (macOS, Windows, cgroup v1), the answer is None.

    >>> cgroup_cpu_quota("/nonexistent") is None
    True
    """
    quotas: list[float] = []
    path = _own_cgroup(proc_self_cgroup).strip("/")
    while True:
        try:
            with open(os.path.join(root, path, "cpu.max"), encoding="ascii") as file:
                quota, period = file.read().split()[:2]
            if quota != "max" and int(period) > 0:
                quotas.append(int(quota) / int(period))
        except (OSError, ValueError):
            pass
        if not path:
            break
        path = os.path.dirname(path)
    return min(quotas) if quotas else None


def usable_cpu_count(root: str = CGROUP_ROOT) -> int:
    """How many CPUs this process can keep busy at once: size pools and sweeps with this.

    The CPUs it may run on (``os.process_cpu_count()`` on 3.13+,
    ``len(os.sched_getaffinity(0))`` before that), lowered to a container's
    ``cpu.max`` quota when that is smaller (1.5 CPUs of quota counts as 2).
    Never ``os.cpu_count()`` alone, which counts the whole machine.
    """
    count = _affinity_count()
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def describe_cpus(root: str = CGROUP_ROOT) -> str:
    """One sentence: the machine's CPUs, the ones this process may use, and why."""
    machine = os.cpu_count() or 1
    affinity = _affinity_count()
    quota = cgroup_cpu_quota(root)
    usable = usable_cpu_count(root)
    said = f"The machine reports {machine} CPUs; this process may run on {affinity}"
    if quota is not None and usable < affinity:
        return f"{said}, and its container's quota of {quota:g} CPUs lets it keep {usable} busy."
    return f"{said}, and nothing lowers that further: it can keep {usable} busy."
