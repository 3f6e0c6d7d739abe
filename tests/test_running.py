"""Tests for `helpers.running`."""

import os
import signal
import time

import pytest

from helpers.running import (
    CallTimeout,
    ChildError,
    ChildTimeout,
    call_with_timeout,
    run,
    start,
    wait,
)


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


def test_a_child_that_cannot_rebuild_its_function_is_explained(ctx):
    if ctx.get_start_method() == "fork":
        pytest.skip("a forked child inherits its function: nothing to rebuild")
    # A function the child cannot import, like one defined in a notebook cell.
    import __main__

    def lost(x):
        return x

    lost.__module__, lost.__qualname__ = "__main__", "lost_in_a_cell"
    __main__.lost_in_a_cell = lost
    try:
        with pytest.raises(ChildError) as info:
            run(ctx, lost, 1, timeout=20)
    finally:
        del __main__.lost_in_a_cell
    assert str(info.value).startswith(
        "child 'lost' exited with code 1 before running its function: it could not rebuild"
    )
    assert info.value.exc_type is None


def test_a_child_that_exits_by_itself_is_not_blamed_on_pickling(ctx):
    with pytest.raises(ChildError, match=r"^child '_exit' exited with code 3 without reporting"):
        run(ctx, os._exit, 3, timeout=20)


def test_a_name_or_context_of_the_wrong_kind_is_refused_before_any_child(ctx):
    with pytest.raises(TypeError, match=r"^name must be text or None, not int 5$"):
        start(ctx, abs, -1, name=5)
    with pytest.raises(TypeError, match=r"^ctx must be a multiprocessing context .*not str$"):
        start("spawn", abs, -1)


def test_call_with_timeout_watches_while_it_waits():
    looks = []

    def look():
        looks.append(time.monotonic())
        if len(looks) == 3:
            raise LookupError("a watched child died")

    began = time.monotonic()
    with pytest.raises(LookupError, match="a watched child died"):
        call_with_timeout(lambda: time.sleep(30), timeout=20, what="nap", while_waiting=look)
    assert time.monotonic() - began < 5
    with pytest.raises(CallTimeout, match=r"^nap did not finish within 0\.3 s$"):
        call_with_timeout(
            lambda: time.sleep(30), timeout=0.3, what="nap", while_waiting=lambda: None
        )
    assert call_with_timeout(lambda: 7, timeout=1, what="seven", while_waiting=look) == 7
