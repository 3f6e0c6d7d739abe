"""Tests for `helpers.checking`: running a whole program and naming its mistake.

The programs live in `tests/support/checking.py`; each test runs under the start
method of COURSE_START_METHOD (the `ctx` fixture).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import checking as programs

from helpers import dev_shm
from helpers.checking import PROGRAM_TIMEOUT, SHM_DIR, common_mistake, left_nothing, run_program
from helpers.shared_memory import first_line

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

ROOT = Path(__file__).resolve().parent.parent


def test_a_correct_program_passes(ctx):
    run = run_program(programs.correct, ctx, 21)
    assert run.result == 42
    assert [p.name for p in run.started] == ["doubler"]
    assert run.unjoined == [] and run.failed == []
    assert common_mistake(run) is None


def test_a_child_never_joined(ctx):
    run = run_program(programs.forgot_join, ctx, 21)
    assert run.result == 42
    assert common_mistake(run) == (
        "1 of 1 process(es) were never joined ('doubler'): call join(timeout=...) on every "
        "process you start, after taking what it sends"
    )


def test_target_given_a_call_result(ctx):
    run = run_program(programs.target_called, ctx, 21)
    assert common_mistake(run) == (
        "process 'doubler' was given target=None: write target=worker (the function "
        "itself), not target=worker() — with the parentheses the worker runs here in the "
        "notebook, and the child gets what it returned"
    )


@pytest.mark.slow  # waits out a stuck program on purpose
def test_a_stuck_program_times_out_and_its_child_is_stopped(ctx):
    run = run_program(programs.stuck, ctx, 21, timeout=3)
    assert run.timed_out
    assert 3 <= run.seconds < PROGRAM_TIMEOUT
    (sleeper,) = run.started
    assert not sleeper.process.is_alive()  # stopped by the checker, not left running
    assert common_mistake(run).startswith(
        "your program did not finish within 3 s; still running: sleeper — "
    )


def test_a_child_that_raised(ctx):
    run = run_program(programs.child_raises, ctx, 21)
    assert run.result == 21
    assert [p.exitcode for p in run.failed] == [1]
    assert common_mistake(run).startswith(
        "process 'failer' ended with exit code 1: its function raised"
    )


@pytest.mark.needs_dev_shm
def test_a_leftover_segment_is_named_and_removed(ctx):
    run = run_program(programs.leaves_a_segment, ctx, 21)
    name = run.result.lstrip("/")
    assert name in run.leftover_segments
    assert not os.path.exists(os.path.join(SHM_DIR, name))  # the checker removed it
    hint = common_mistake(run, expect_processes=False)
    assert hint.startswith("shared memory was left behind (") and name in hint


@pytest.mark.needs_dev_shm
def test_a_segment_another_program_still_maps_is_left_alone(ctx):
    run = run_program(programs.meanwhile_another_program_makes_a_segment, ctx, 21)
    other, name = run.result
    try:
        assert name.lstrip("/") not in run.leftover_segments
        assert os.path.exists(os.path.join(SHM_DIR, name.lstrip("/")))  # not removed
    finally:
        other.communicate("", timeout=30)  # the other program unlinks its segment and exits
    assert not os.path.exists(os.path.join(SHM_DIR, name.lstrip("/")))


def test_a_program_that_raised(ctx):
    run = run_program(programs.raises, ctx, 21)
    assert isinstance(run.error, KeyError)
    assert common_mistake(run) == "your program raised KeyError: 21"


def test_a_program_that_starts_no_process(ctx):
    run = run_program(programs.starts_nothing, ctx, 21)
    assert run.result == 42
    assert common_mistake(run).startswith("your program started no process")
    assert common_mistake(run, expect_processes=False) is None


@pytest.mark.needs_dev_shm
def test_a_segment_another_program_uses_meanwhile_is_left_alone():
    # Another notebook, or another test run, creating its own segment while
    # the learner's program runs: it is not the learner's, and must survive.
    others = []

    def program():
        other = subprocess.Popen(
            [sys.executable, "examples/forget_unlink.py", "--wait"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        others.append((other, first_line(other.stdout, timeout=30)))

    run = run_program(program)
    other, name = others[0]
    try:
        assert run.leftover_segments == []
        assert Path("/dev/shm", name).exists()
    finally:
        other.kill()
        other.wait(timeout=30)
        other.stdout.close()
        Path("/dev/shm", name).unlink(missing_ok=True)


def test_a_run_says_whether_it_could_look_for_leftover_shared_memory(ctx, monkeypatch):
    looked = run_program(programs.correct, ctx, 21)
    assert looked.shm_looked == Path(SHM_DIR).is_dir()
    if looked.shm_looked:
        assert left_nothing(looked, "nothing left behind") == "nothing left behind"
    monkeypatch.setattr(dev_shm, "SHM_DIR", "/no-such-directory")  # as on macOS and Windows
    blind = run_program(programs.correct, ctx, 21)
    assert not blind.shm_looked and blind.leftover_segments == []
    assert left_nothing(blind, "nothing left behind") == (
        "this system has no /dev/shm to look in for shared memory left behind"
    )
