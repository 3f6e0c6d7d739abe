"""Tests for `helpers.processes`."""

import os
import pickle
import re
import sys
import time
from pathlib import Path

import pytest

from helpers import processes
from helpers.context import get_context
from helpers.processes import (
    MAX_STARTS,
    CapturedRun,
    NothingSent,
    StartUpTiming,
    ask,
    error_summary,
    example_path,
    run_and_capture,
    run_script,
    time_start_up,
)
from helpers.running import ChildError, ChildTimeout

GUARD_SCRIPT = example_path("main_guard.py")
BOOTSTRAP_ERROR = (
    "RuntimeError: An attempt has been made to start a new process before the "
    "current process has finished its bootstrapping phase."
)


def block_forever(conn):
    """A worker that never sends anything: it sleeps far beyond any test's timeout."""
    time.sleep(600)


# --- ask and the lesson's workers ---


def test_a_child_has_its_own_pid(ctx):
    child, parent = ask(ctx, processes.send_pids, timeout=20)
    assert child != os.getpid()
    if ctx.get_start_method() != "forkserver":
        assert parent == os.getpid()  # a forkserver child's parent is the fork server


def test_a_global_changed_in_a_child_stays_in_the_child(ctx):
    assert ask(ctx, processes.bump_counter, timeout=20) == 1
    assert processes.counter == 0


@pytest.mark.parametrize(
    ("method", "seen"),
    [
        ("spawn", 0),
        pytest.param("fork", 42, marks=pytest.mark.needs_fork),
        pytest.param("forkserver", 0, marks=pytest.mark.needs_forkserver),
    ],
)
def test_only_a_fork_child_sees_a_global_changed_before_start(method, seen, monkeypatch):
    monkeypatch.setattr(processes, "counter", 42)
    assert ask(get_context(method), processes.read_counter, timeout=20) == seen


def test_ask_returns_what_an_imported_worker_sent(ctx):
    assert ask(ctx, processes.say_hello, timeout=20) == "hello from helpers.processes"


def test_ask_reports_the_workers_exception(ctx):
    with pytest.raises(ChildError) as info:
        ask(ctx, processes.put_hello, timeout=20)
    assert info.value.exc_type == "AttributeError"
    assert info.value.exc_message == "'Connection' object has no attribute 'put'"


def test_ask_says_when_nothing_was_sent(ctx):
    with pytest.raises(NothingSent, match="child 'id' finished without sending anything"):
        ask(ctx, id, timeout=20)


def test_ask_stops_a_child_that_sends_nothing_in_time(ctx):
    with pytest.raises(
        ChildTimeout, match=re.escape("child 'block_forever' sent nothing within 0.5 s")
    ):
        ask(ctx, block_forever, timeout=0.5)
    assert not ctx.active_children()


def test_ask_lets_a_pickling_error_through_and_starts_nothing():
    spawn = get_context("spawn")
    # Python 3.11 raises AttributeError for a local object; newer ones PicklingError,
    # worded "Can't pickle local object" (3.12) or "Can't get local object" (3.13).
    with pytest.raises((AttributeError, pickle.PicklingError), match="local object"):
        ask(spawn, lambda conn: conn.send(1), timeout=20)
    assert not spawn.active_children()


def test_ask_refuses_bad_arguments_before_starting_anything(ctx):
    with pytest.raises(TypeError, match="worker must be a function, not int"):
        ask(ctx, 3)
    with pytest.raises(ValueError, match="timeout must be a positive, finite number of seconds"):
        ask(ctx, processes.say_hello, timeout=0)


# --- run_and_capture: what a child that cannot load its worker leaves behind ---


@pytest.fixture
def cell_worker(monkeypatch):
    """A worker that, like one defined in a notebook cell, lives only in ``__main__``."""

    def cell_worker(conn):
        conn.send("sent from the cell")

    cell_worker.__module__ = "__main__"
    cell_worker.__qualname__ = "cell_worker"
    monkeypatch.setattr(sys.modules["__main__"], "cell_worker", cell_worker, raising=False)
    return cell_worker


def test_under_spawn_a_main_only_worker_dies_and_its_error_is_recovered(cell_worker):
    before = os.fstat(2)
    outcome = run_and_capture(get_context("spawn"), cell_worker, timeout=20)
    assert outcome.exitcode == 1
    assert outcome.answer is None
    assert outcome.error.startswith("AttributeError: Can't get attribute 'cell_worker' on <module")
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)  # stderr restored


@pytest.mark.needs_fork
def test_under_fork_the_same_worker_runs_because_nothing_is_pickled(cell_worker):
    outcome = run_and_capture(get_context("fork"), cell_worker, timeout=20)
    assert outcome == CapturedRun(exitcode=0, answer="sent from the cell", stderr="")


@pytest.mark.needs_forkserver
def test_run_and_capture_refuses_forkserver():
    with pytest.raises(ValueError, match="needs a spawn or fork context, not 'forkserver'"):
        run_and_capture(get_context("forkserver"), processes.say_hello)


def test_run_and_capture_refuses_non_functions():
    with pytest.raises(TypeError, match="worker must be a function, not str"):
        run_and_capture(get_context("spawn"), "say_hello")


def test_error_summary_finds_the_last_exception_and_joins_its_lines():
    assert (
        error_summary("Traceback (most recent call last):\n  x\nKeyError: 'a'\n") == "KeyError: 'a'"
    )
    long = "Traceback:\nRuntimeError: \n        first part\n        second part.\n\n        more\n"
    assert error_summary(long) == "RuntimeError: first part second part."
    assert error_summary("no traceback here") == ""
    with pytest.raises(TypeError, match="text must be a str, not bytes"):
        error_summary(b"KeyError")


# --- start-up timing ---


def test_time_start_up_times_each_start(ctx):
    timing = time_start_up(ctx.get_start_method(), starts=3, timeout=20)
    assert timing.method == ctx.get_start_method()
    assert len(timing.seconds) == 3
    assert all(s > 0 for s in timing.seconds)


def test_start_up_timing_reports_its_median():
    timing = StartUpTiming("spawn", (0.030, 0.010, 0.020, 0.040))
    assert timing.median == pytest.approx(0.025)
    assert str(timing) == (
        "     spawn:   25.0 ms per child (median of 4; fastest 10.0, slowest 40.0)"
    )
    assert StartUpTiming("fork", (0.003, 0.001, 0.002)).median == pytest.approx(0.002)


def test_time_start_up_refuses_bad_input():
    with pytest.raises(
        ValueError, match=re.escape("method must be one of: spawn, fork, forkserver; not 'thread'")
    ):
        time_start_up("thread")
    with pytest.raises(ValueError, match="starts must be at least 1, not 0"):
        time_start_up("spawn", starts=0)
    with pytest.raises(ValueError, match=f"starts must be at most {MAX_STARTS}, not 21"):
        time_start_up("spawn", starts=21)
    with pytest.raises(TypeError, match="starts must be a whole number, not str '3'"):
        time_start_up("spawn", starts="3")


# --- the main-guard script, run for real ---


def test_example_path_finds_the_script_and_refuses_bad_names():
    assert GUARD_SCRIPT.name == "main_guard.py" and GUARD_SCRIPT.is_file()
    with pytest.raises(ValueError, match="name must be a script's file name"):
        example_path("../helpers/processes.py")
    with pytest.raises(FileNotFoundError, match=re.escape("nowhere.py does not exist")):
        example_path("nowhere.py")


def test_the_guarded_script_works_under_spawn():
    result = run_script(GUARD_SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "parent: start method spawn; this file runs as '__main__'",
        "child:  7 squared is 49; this file runs as '__mp_main__'",
    ]
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("method", "name"),
    [
        pytest.param("fork", "__main__", marks=pytest.mark.needs_fork),
        pytest.param("forkserver", "__mp_main__", marks=pytest.mark.needs_forkserver),
    ],
)
def test_the_guarded_script_works_under_the_other_methods(method, name):
    result = run_script(GUARD_SCRIPT, method)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == f"child:  7 squared is 49; this file runs as {name!r}"


def test_without_the_guard_the_spawned_child_fails_clearly():
    result = run_script(GUARD_SCRIPT, guarded=False, timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "parent: start method spawn; this file runs as '__main__'",
        "parent: the child sent nothing and exited with code 1",
    ]
    assert result.error == BOOTSTRAP_ERROR


@pytest.mark.slow  # waits out a stuck answer on purpose
def test_a_script_that_overruns_is_killed_with_its_children(tmp_path):
    record = tmp_path / "grandchild.pid"
    script = tmp_path / "stuck.py"
    script.write_text(
        "import pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"pathlib.Path({str(record)!r}).write_text(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    with pytest.raises(
        TimeoutError, match=re.escape("script stuck.py did not finish within 2 s and was killed")
    ):
        run_script(script, timeout=2)
    grandchild = int(record.read_text())
    status = Path(f"/proc/{grandchild}/status")
    if status.exists():  # killed but not yet reaped by init: a zombie, not running
        assert "State:\tZ" in status.read_text()


def test_run_script_refuses_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a file"):
        run_script(tmp_path / "missing.py")
    with pytest.raises(TypeError, match="args must be strings"):
        run_script(GUARD_SCRIPT, 3)
    with pytest.raises(TypeError, match="guarded must be True or False, not 'no'"):
        run_script(GUARD_SCRIPT, guarded="no")
    plain = tmp_path / "plain.py"
    plain.write_text("print('no guard here')\n")
    with pytest.raises(
        ValueError, match=re.escape("plain.py has no line 'if __name__ == \"__main__\":'")
    ):
        run_script(plain, guarded=False)


# --- what lesson 00 shows of the Process object and the programming guidelines ---


def test_a_child_knows_its_name_and_its_parent(ctx):
    name, parent_name, parent_pid = processes.ask(ctx, processes.send_identity, name="reporter")
    # ask() names the process; parent_process() is the notebook even under forkserver.
    assert (name, parent_name, parent_pid) == ("reporter", "MainProcess", os.getpid())


def test_a_daemon_cannot_start_a_child(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=processes.start_a_grandchild, args=(writer, ctx.get_start_method()), daemon=True
    )
    child.start()
    writer.close()
    assert reader.recv() == "AssertionError: daemonic processes are not allowed to have children"
    child.join(10)


def test_a_daemon_ends_with_its_parent(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=processes.leave_a_daemon, args=(writer, ctx.get_start_method(), 60))
    child.start()
    writer.close()
    daemon_pid = reader.recv()
    child.join(20)
    assert child.exitcode == 0
    assert processes.process_state(daemon_pid) is None


@pytest.mark.needs_proc
def test_an_unjoined_child_is_a_zombie_until_reaped():
    spawn = get_context("spawn")  # a forkserver child's parent is the server, not us
    child = spawn.Process(target=processes.idle)
    child.start()
    assert processes.state_once_exited(child) == "Z"
    child.join(5)
    assert processes.process_state(child.pid) is None


def test_state_once_exited_waits_for_the_child_without_reaping_it():
    spawn = get_context("spawn")  # a forkserver child is the fork server's to reap
    child = spawn.Process(target=time.sleep, args=(0.5,))
    child.start()
    processes.state_once_exited(child)  # None where there is no /proc: waited all the same
    if hasattr(os, "waitid"):  # exited, and nobody reaped it
        exited = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        assert exited is not None and exited.si_status == 0
    child.join(5)
    assert child.exitcode == 0


@pytest.mark.needs_proc
def test_process_state_of_this_process_and_of_no_process():
    assert processes.process_state(os.getpid()) == "R"
    assert processes.process_state(2**22 + 1) is None


@pytest.mark.parametrize(
    "method",
    [
        "spawn",
        pytest.param("fork", marks=pytest.mark.needs_fork),
        pytest.param("forkserver", marks=pytest.mark.needs_forkserver),
    ],
)
def test_a_squarer_runs_its_own_run_and_refuses_an_unpicklable_attribute(method):
    import threading

    context = get_context(method)
    reader, writer = context.Pipe(duplex=False)
    squarer = processes.SQUARERS[method](writer, [1, 2, 3])
    squarer.start()
    writer.close()
    assert reader.recv() == [1, 4, 9]
    squarer.join(10)
    reader, writer = context.Pipe(duplex=False)
    locked = processes.SQUARERS[method](writer, [1], guard=threading.Lock())
    if method == "fork":
        locked.start()  # nothing is pickled: the lock is simply copied
        locked.join(10)
        assert locked.exitcode == 0
    else:
        with pytest.raises(TypeError, match=r"cannot pickle '_thread\.lock' object"):
            locked.start()


def test_a_child_cannot_read_stdin(ctx):
    with pytest.raises(ChildError, match="raised EOFError: EOF when reading a line"):
        processes.ask(ctx, processes.read_a_line)


def test_error_summary_ignores_colour_codes():
    coloured = "Traceback...\n\x1b[1;35mKeyError\x1b[0m: \x1b[35m'x'\x1b[0m\n"
    assert error_summary(coloured) == "KeyError: 'x'"


def test_spin_waits_at_the_barrier_then_counts():
    import threading

    ready = threading.Barrier(1)  # only the worker itself: it passes at once
    assert processes.spin(1000, ready) is None


def test_count_down_counts_and_returns_nothing():
    assert processes.count_down(1000) is None
    assert processes.count_down(0) is None


def test_report_squares_prints_and_sends_the_squares(capsys):
    reader, writer = get_context().Pipe(duplex=False)
    processes.report_squares(writer, [1, 2, 3, 4])
    assert reader.recv() == [1, 4, 9, 16]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith(": squares [1, 4, 9, 16]")
    assert printed[1].endswith(": sum of squares 30")
    assert f"(PID {os.getpid()})" in printed[0]
