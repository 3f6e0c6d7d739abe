"""Tests for `helpers.checking.run_program`'s clean-up of shared memory."""

from __future__ import annotations

import subprocess
import sys
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

from helpers.checking import run_program
from helpers.shared_memory import first_line

ROOT = Path(__file__).resolve().parent.parent


def test_a_segment_the_program_left_is_reported_and_removed():
    def program():
        shm = SharedMemory(create=True, size=16)
        shm.close()  # never unlinked
        return shm.name

    run = run_program(program)
    assert run.leftover_segments == [run.result]
    assert not Path("/dev/shm", run.result).exists()


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
