"""Tests for the process boundary: what a child imports, and `tools/import_cost.py`.

Every module in `helpers/workers/` is found by globbing the folder, so a new
lesson's workers are checked without anyone adding them to a list.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
import helpers.exercises

ROOT = Path(__file__).resolve().parent.parent
CHILD_MODULES = sorted(
    f"helpers.workers.{path.stem}"
    for path in (ROOT / "helpers" / "workers").glob("*.py")
    if path.stem != "__init__"
)
# What a child may import besides the standard library: the package itself and its
# start-method module, which `helpers/__init__.py` imports.
ALLOWED_COURSE_MODULES = {"helpers", "helpers.context", "helpers.workers"}
HEAVY = {"dataclasses", "inspect", "typing", "numpy", "ipywidgets", "matplotlib"}
# Modules whose every worker computes with NumPy import it at the top: for them NumPy
# is part of the work, so it counts as part of the stack they are compared with.
COMPUTES_WITH_NUMPY = sorted(
    module
    for module in CHILD_MODULES
    if "\nimport numpy as np\n" in (ROOT / (module.replace(".", "/") + ".py")).read_text()
)
# The modules the standard library's multiprocessing stack loads: what a child pays anyway.
STDLIB_STACK = ", ".join(
    ["multiprocessing", "multiprocessing.managers", "multiprocessing.queues",
     "multiprocessing.connection", "multiprocessing.shared_memory"]
)  # fmt: skip


def test_every_lesson_module_has_its_child_side_found_by_the_glob():
    assert "helpers.workers.queues" in CHILD_MODULES
    assert COMPUTES_WITH_NUMPY == ["helpers.workers.fractal"]  # the others import it inside
    assert "helpers.workers.running" in CHILD_MODULES  # the bounded child entry point
    assert "helpers.workers.timeline" in CHILD_MODULES  # the timeline's recording side


# Run in a fresh interpreter: import the stack once, then, in a forked copy of that
# interpreter per module, import the module and print what it added; without fork
# (Windows), one interpreter per module. A forked copy starts from exactly the modules
# a fresh one has after the stack, and costs a fork instead of an interpreter's start.
_PROBE = """
import os, sys
start = set(sys.modules)
import {stack}
stack = set(sys.modules) - start


def probe(module):
    before = set(sys.modules)
    if module in {numpy_modules!r}:
        import numpy
    numpy_added = set(sys.modules) - before
    __import__(module)
    added = set(sys.modules) - before - numpy_added
    return f"{{module}} {{len(stack | numpy_added)}} {{sorted(added)}}"


for module in {modules!r}:
    if hasattr(os, "fork"):
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            print(probe(module), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
    else:
        print(probe(module), flush=True)
"""


def _probe(modules: list[str]) -> str:
    code = _PROBE.format(stack=STDLIB_STACK, numpy_modules=COMPUTES_WITH_NUMPY, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = [{str(ROOT)!r}]\n{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def added_by_module() -> dict[str, tuple[str, str]]:
    """Each child module: (the modules in its stack, the list of what importing it added)."""
    if hasattr(os, "fork"):
        out = _probe(CHILD_MODULES)
    else:
        out = "".join(_probe([module]) for module in CHILD_MODULES)
    found = {}
    for line in out.splitlines():
        module, stack, added = line.split(" ", 2)
        found[module] = (stack, added)
    return found


@pytest.mark.parametrize("module", CHILD_MODULES)
def test_a_child_module_adds_at_most_a_fifth_to_the_stdlib_stack(module, added_by_module):
    # What a child pays, counted instead of timed: the modules the standard library's
    # multiprocessing stack loads, and how many more importing a child's module adds.
    # The goal is at most 1.2x the stack's import time; a fifth more modules is its
    # clock-free form (tools/import_cost.py prints the times).
    stack, added = added_by_module[module]
    added_names = set(ast.literal_eval(added))  # the list the probe printed
    assert not HEAVY & added_names
    course = {name for name in added_names if name.split(".")[0] == "helpers"}
    outside = {name for name in course if not name.startswith("helpers.workers.")}
    assert outside <= ALLOWED_COURSE_MODULES, f"a child would import {sorted(outside)}"
    assert len(added_names) <= int(stack) / 5, sorted(added_names)


def _parent_modules() -> list[str]:
    """Every module of helpers outside helpers/workers (the notebook's side)."""
    names = []
    for package in (helpers, helpers.exercises):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not info.name.startswith("helpers.workers") and not info.name.endswith("__main__"):
                names.append(info.name)
    return sorted(set(names))


def test_everything_that_runs_in_a_child_lives_in_helpers_workers():
    # Pickling records a function's __module__, and under spawn the child imports
    # that module: a worker left in a lesson module would make every child import
    # the whole parent side. Workers say where they run in their docstring's first
    # words ("Runs in a child: ..."); every one of them must come from helpers.workers.
    left_behind = []
    for name in _parent_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            doc = inspect.getdoc(value) or ""
            runs_in_a_child = re.match(r"Runs (once )?in (?!the notebook)", doc)
            if runs_in_a_child and not value.__module__.startswith("helpers.workers."):
                left_behind.append(f"{name}.{attribute} (from {value.__module__})")
    assert left_behind == []


@pytest.mark.parametrize("module", CHILD_MODULES)
def test_a_worker_names_its_child_module_for_pickling(module):
    workers = importlib.import_module(module)
    doc = inspect.getdoc(workers) or ""
    first_line = doc.split("\n", 1)[0]
    assert re.search(r"\b[Ll]essons? \d\d|every lesson", first_line), f"{module}: name its lesson"
    assert "child" in doc.split("\n\n")[0], f"{module}'s docstring should say it runs in a child"
    defined = [
        value
        for value in vars(workers).values()
        if inspect.isfunction(value) and value.__module__ == module
    ]
    for function in defined:
        assert function.__qualname__ == function.__name__  # importable by name


@pytest.mark.slow  # starts fresh interpreters; the counted check above stays quick
def test_import_cost_prints_the_baseline_each_child_module_and_their_ratio():
    argv = [sys.executable, "tools/import_cost.py", "--repeats", "1"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Import time in a fresh interpreter (from cached bytecode), median of 1:"
    assert re.fullmatch(r"stdlib multiprocessing machinery +\d+\.\d ms  \(spread .*\)", lines[1])
    timed = [line.split()[0] for line in lines[2:-1]]
    assert timed == CHILD_MODULES
    for line in lines[2:-1]:
        assert re.fullmatch(
            r"helpers\.workers\.\w+ +\d+\.\d ms  \(spread .*\)  = \d+\.\d\d× the stdlib", line
        )
    assert lines[-1].startswith("largest ratio: ")


@pytest.mark.slow  # starts fresh interpreters
def test_import_cost_skips_a_module_not_written_yet_and_can_compile_from_source():
    argv = [sys.executable, "tools/import_cost.py", "--repeats", "1", "--from-source",
            "--modules", "helpers.workers.pipes,helpers.workers.not_written_yet"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Import time in a fresh interpreter (course modules compiled from source), median of 1:"
    )
    assert re.fullmatch(
        r"helpers\.workers\.pipes +\d+\.\d ms  \(spread .*\)  = \d+\.\d\d× the stdlib", lines[2]
    )
    assert lines[3].split() == [
        "helpers.workers.not_written_yet",
        "not",
        "written",
        "yet:",
        "skipped",
    ]
