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

import multiprocessing
import os
from collections.abc import Mapping

# Children import this module: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.context import (
        DefaultContext,
        ForkContext,
        ForkServerContext,
        SpawnContext,
    )
    from typing import Any, TypeAlias

    # What get_context returns; unlike BaseContext, each of these has .Process.
    Context: TypeAlias = DefaultContext | SpawnContext | ForkContext | ForkServerContext

__all__ = [
    "DEFAULT_START_METHOD",
    "ENV_VAR",
    "START_METHODS",
    "describe_start_method",
    "get_context",
    "get_multiprocess_context",
    "start_method_from_env",
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


def get_multiprocess_context(method: str | None = None) -> Any:
    """Return the context of the dill-based ``multiprocess`` fork for the same method.

    Its objects must never be mixed with those of ``multiprocessing``: a
    ``multiprocess`` child cannot use a ``multiprocessing`` queue, and the
    other way round. It is imported here, lazily, because only exercises whose
    workers live in notebook cells need it.
    """
    chosen = start_method_from_env() if method is None else _check(method, "start method")
    import multiprocess  # noqa: PLC0415 - heavy and optional: only exercises use it

    return multiprocess.get_context(chosen)


def describe_start_method(method: str | None = None) -> str:
    """One sentence saying which start method is in use and what it means."""
    chosen = start_method_from_env() if method is None else _check(method, "start method")
    return f"Start method: {chosen} — {_WHY[chosen]}."
