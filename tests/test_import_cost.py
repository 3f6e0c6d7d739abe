"""Tests for `tools/import_cost.py`: it runs and prints both figures (no timed assertion)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # starts fresh interpreters; the heavy-module check below stays quick
def test_import_cost_prints_the_baseline_a_module_and_their_ratio():
    argv = [sys.executable, "tools/import_cost.py", "--repeats", "1",
            "--modules", "helpers.bench.workers,helpers.not_written_yet"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Import time in a fresh interpreter (from cached bytecode), median of 1:"
    assert re.fullmatch(r"stdlib multiprocessing machinery +\d+\.\d ms  \(spread .*\)", lines[1])
    assert re.fullmatch(
        r"helpers\.bench\.workers +\d+\.\d ms  \(spread .*\)  = \d+\.\d\d× the stdlib", lines[2]
    )
    assert lines[3].split() == ["helpers.not_written_yet", "not", "written", "yet:", "skipped"]
    assert lines[4].startswith("largest ratio: ")


@pytest.mark.slow  # starts fresh interpreters; the heavy-module check below stays quick
def test_import_cost_can_measure_compiling_from_source():
    argv = [sys.executable, "tools/import_cost.py", "--repeats", "1", "--from-source",
            "--modules", "helpers.bench.workers"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Import time in a fresh interpreter (course modules compiled from source), median of 1:"
    )
    assert re.fullmatch(
        r"helpers\.bench\.workers +\d+\.\d ms  \(spread .*\)  = \d+\.\d\d× the stdlib", lines[2]
    )


def test_a_child_importing_a_lesson_module_loads_nothing_heavy():
    # What every spawned child pays, checked without a clock: the lesson modules
    # keep dataclasses (and the inspect/ast it pulls in), typing, numpy and
    # ipywidgets out of their import path.
    heavy = ["dataclasses", "inspect", "typing", "numpy", "ipywidgets", "matplotlib"]
    lessons = [
        "helpers.processes",
        "helpers.sharedctypes",
        "helpers.managers",
        "helpers.queues",
        "helpers.pipes",
        "helpers.bench.workers",
        "helpers.remote",
        "helpers.distributed",  # a process-pool child imports it for busy()
    ]
    probe = (
        "import sys, importlib\n"
        f"for name in {lessons!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(ROOT)!r}]\n{probe}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# What a child pays, counted instead of timed: the modules the standard library's
# multiprocessing stack loads, and how many more importing a child's module adds.
# Goal P2 is at most 1.2× the stack's cost; a fifth more modules is its clock-free form.
CHILD_MODULES = [
    "helpers.running",
    "helpers.processes",
    "helpers.sharedctypes",
    "helpers.managers",
    "helpers.queues",
    "helpers.pipes",
    "helpers.bench.workers",
]
STDLIB_STACK = ", ".join(
    ["multiprocessing", "multiprocessing.managers", "multiprocessing.queues",
     "multiprocessing.connection", "multiprocessing.shared_memory"]
)  # fmt: skip


@pytest.mark.parametrize("module", CHILD_MODULES)
def test_a_child_module_adds_at_most_a_fifth_to_the_stdlib_stack(module):
    probe = (
        "import sys\n"
        "start = set(sys.modules)\n"
        f"import {STDLIB_STACK}\n"
        "stack = set(sys.modules) - start\n"
        f"import {module}\n"
        "added = set(sys.modules) - start - stack\n"
        "print(len(stack), sorted(added))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(ROOT)!r}]\n{probe}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stack, added = done.stdout.split(" ", 1)
    added_names = ast.literal_eval(added)  # the list the probe printed
    assert not {"dataclasses", "typing", "numpy", "inspect"} & set(added_names)
    assert len(added_names) <= int(stack) / 5, added_names
