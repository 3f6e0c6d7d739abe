"""Shared fixtures: the start-method context, and functions defined the way a cell does."""

from __future__ import annotations

import multiprocessing
import os
import sys
import textwrap

import pytest

from helpers.context import get_context


@pytest.fixture(scope="session")
def ctx():
    """The multiprocessing context chosen by COURSE_START_METHOD (default spawn)."""
    return get_context()


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """Children started by a test module load OpenBLAS (with NumPy) with one thread.

    OpenBLAS otherwise starts a thread per CPU when NumPy is imported, which spin
    before they sleep: about 0.1 s of CPU in every child that imports NumPy, and no
    test multiplies matrices. Module by module, before the module's own fixtures start
    anything, and undone after its last test, so the kernels the notebooks' tests
    start keep the learner's default.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENBLAS_NUM_THREADS", "1")
        yield


@pytest.fixture(scope="module")
def manager(ctx):
    """A manager server shared by one test module, shut down after its last test."""
    with ctx.Manager() as shared:
        yield shared


@pytest.fixture
def cell(monkeypatch):
    """Define functions the way a notebook cell does: in ``__main__``, with its globals.

    ``cell(source, **globals)`` runs ``source`` in the namespace of ``__main__``
    (adding ``globals`` there first, like earlier cells would) and returns the
    last function it defined. Everything added is removed after the test.
    """
    namespace = vars(sys.modules["__main__"])

    def define(source, **notebook_globals):
        for name, value in notebook_globals.items():
            monkeypatch.setitem(namespace, name, value)
        before = set(namespace)
        exec(textwrap.dedent(source), namespace)
        added = [name for name in namespace if name not in before]
        for name in added:
            # Re-added through monkeypatch, which then deletes it after the test.
            monkeypatch.setitem(namespace, name, namespace.pop(name))
        return namespace[added[-1]]

    return define


@pytest.hookimpl(tryfirst=True)  # before -m chooses the tests
def pytest_collection_modifyitems(items):
    """A test of a lesson's own worked answer runs with the slow tests: the notebook's
    checker cell gives the same verdict in every run of the notebooks."""
    for item in items:
        if item.get_closest_marker("worked_answer"):
            item.add_marker(pytest.mark.slow)


# What a test marked so reads directly, and only Linux has.
NEEDS = {"needs_dev_shm": "/dev/shm", "needs_proc": "/proc/self/stat"}
# What a test marked so starts by name, and Windows (spawn only) does not offer.
START_METHODS = {"needs_fork": "fork", "needs_forkserver": "forkserver"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skip a test that reads /dev/shm or /proc itself, or asks for fork or forkserver by
    name, where the system has none."""
    for marker, path in NEEDS.items():
        if item.get_closest_marker(marker) and not os.path.exists(path):
            pytest.skip(f"reads {path}, which this system does not have")
    # Decided as the notebooks decide it, so a real Windows PC and its emulation agree.
    offered = multiprocessing.get_all_start_methods()
    for marker, method in START_METHODS.items():
        if item.get_closest_marker(marker) and method not in offered:
            pytest.skip(f"asks for {method}, which this system does not offer")
