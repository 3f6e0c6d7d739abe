"""Tests for `helpers.running`."""

import os
import signal
import time

import pytest

from helpers.running import ChildError, ChildTimeout, run, start, wait


def test_a_child_that_returns_is_silent(ctx):
    assert run(ctx, abs, -3, timeout=20) is None


def test_a_child_exception_reaches_the_parent_with_type_and_message(ctx):
    with pytest.raises(ChildError) as info:
        run(ctx, int, "seven", timeout=20)
    err = info.value
    assert err.exc_type == "ValueError"
    assert "invalid literal for int() with base 10: 'seven'" in err.exc_message
    assert str(err).startswith("child 'int' raised ValueError: invalid literal")
    assert "Traceback" in err.child_traceback
    assert err.exitcode == 1


def test_a_child_that_overruns_is_stopped_and_named(ctx):
    began = time.monotonic()
    with pytest.raises(ChildTimeout, match=r"child 'sleeper' did not finish within 0.5 s"):
        run(ctx, time.sleep, 30, timeout=0.5, name="sleeper")
    assert time.monotonic() - began < 5


def test_a_killed_child_is_reported_with_its_signal(ctx):
    child = start(ctx, time.sleep, 30, name="victim")
    time.sleep(0.2)
    os.kill(child.process.pid, signal.SIGKILL)
    began = time.monotonic()
    with pytest.raises(ChildError, match="child 'victim' was killed by signal 9"):
        wait([child], timeout=10)
    assert time.monotonic() - began < 5


def test_bad_arguments_are_refused_in_the_parent(ctx):
    with pytest.raises(TypeError, match="target must be a function, not int"):
        start(ctx, 42)
    with pytest.raises(
        ValueError, match="timeout must be a positive, finite number of seconds, not -1"
    ):
        run(ctx, abs, 1, timeout=-1)
