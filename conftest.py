"""How the test suite runs on parallel workers (``make test``; its flags: PARALLEL in the Makefile).

- Each file runs on one worker, in order: a notebook's cells share one kernel.
- A notebook's kernel starts without PYTEST_CURRENT_TEST, so it captures what
  children print, as in JupyterLab (ipykernel skips that capture under pytest).
- /dev/shm is one directory for the whole machine. Tests and notebooks that look
  there for what a program left behind, or leave a segment there on purpose for a
  while, take turns: each holds a file lock while it runs (consecutive ones on the
  same worker keep it), so one's deliberate leftover is never another's finding.

Without pytest-xdist nothing runs at once, and the lock is always free.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import pytest

try:
    import fcntl
except ImportError:  # Windows: no flock; run the suite without -n there
    fcntl = None  # type: ignore[assignment]

# nbval reads notebooks with nbformat, whose validator imports jsonschema, which imports
# rfc3987_syntax if it is installed (JupyterLab's server brings it) and builds some
# thirty grammars for the "iri" formats at import: about a second of CPU in every pytest
# process (the run starts five).
# No notebook schema uses those formats, so nbval is loaded here, after that import is
# turned off, instead of by its entry point (`-p no:nbval` in pyproject.toml).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
pytest_plugins = ("nbval.plugin",)

import nbval.kernel  # noqa: E402 - after the line above

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_kernel_as_jupyterlab(*args: Any, **kwargs: Any) -> Any:
    """Start a notebook's kernel without pytest's PYTEST_CURRENT_TEST in its environment.

    ipykernel captures the output file descriptors, which children inherit (so a
    child's print reaches the cell in JupyterLab), only when that variable is absent;
    pytest sets it before nbval starts the kernel. The kernel spec, command line and
    everything else stay the ones JupyterLab uses.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return _start_new_kernel(*args, env=env, **kwargs)


nbval.kernel.start_new_kernel = _start_kernel_as_jupyterlab

ROOT = Path(__file__).resolve().parent
DEV_SHM_LOCK = Path(tempfile.gettempdir()) / "ipc-course-dev-shm.lock"

# Tests mark themselves `uses_dev_shm` (pyproject.toml says what it means). A notebook
# and the doctests of a module cannot carry a marker: these are marked here, as a whole.
# A notebook's checkers list /dev/shm (00, 05, 07, 10) or its cells keep a segment there
# from one cell to a later one; each doctest module named starts a child on a segment.
USES_DEV_SHM_UNMARKABLE = (
    "notebooks/00_start_here.ipynb",
    "notebooks/05_which_channel_when.ipynb",
    "notebooks/07_shared_memory_numpy.ipynb",
    "notebooks/10_capstone_fractal_explorer.ipynb",
    "helpers/fractal.py",
    "helpers/shared_memory.py",
)

_lock: IO[str] | None = None  # open while this worker holds DEV_SHM_LOCK


def pytest_configure(config: pytest.Config) -> None:
    """Find the sanitize file that pyproject.toml names relative to itself, from any directory."""
    given = config.option.nbval_sanitize_with
    if given and not Path(given).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / given)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(ROOT).as_posix().startswith(USES_DEV_SHM_UNMARKABLE):
            item.add_marker(pytest.mark.uses_dev_shm)


def _uses_dev_shm(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("uses_dev_shm") is not None


@pytest.hookimpl(tryfirst=True)  # before any fixture or kernel starts
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _lock  # noqa: PLW0603 - one lock per worker process
    if fcntl is not None and _lock is None and _uses_dev_shm(item):
        _lock = DEV_SHM_LOCK.open("a")
        fcntl.flock(_lock, fcntl.LOCK_EX)


@pytest.hookimpl(trylast=True)  # after the fixtures (and a notebook's kernel) are gone
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    global _lock  # noqa: PLW0603 - one lock per worker process
    if _lock is not None and not _uses_dev_shm(nextitem):
        fcntl.flock(_lock, fcntl.LOCK_UN)
        _lock.close()
        _lock = None
