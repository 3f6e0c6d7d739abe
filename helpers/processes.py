"""Lesson 00 (Start here): PIDs, separate memory, start methods, and where workers must live.

Lesson 00 starts children and asks each one a single question: the child runs
a worker that takes the writing end of a pipe, ``conn``, sends one object
back through it, and exits. :func:`ask` runs such a worker and returns what
it sent, so the notebook has a value it can use; a child may also print, and in
JupyterLab its lines land in the cell that runs it.

The module also holds what lesson 00 needs to show failures that would
otherwise stay invisible: :func:`run_and_capture` keeps a child's stderr (where
a child that cannot even load its worker writes its traceback), and
:func:`run_script` runs a script from ``examples/`` in a fresh interpreter.

The workers themselves live in :mod:`helpers.workers.processes`, which a
spawned child imports instead of this module; they are re-exported here.

>>> from helpers.context import get_context
>>> ask(get_context(), read_counter)
0
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for_any
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.context import START_METHODS, get_context
from helpers.running import DEFAULT_TIMEOUT, ChildTimeout, start, wait
from helpers.validation import kind, require_context, require_positive_int, require_timeout
from helpers.workers import processes as _workers
from helpers.workers.processes import (
    GREETING,
    SQUARERS,
    SpawnSquarer,
    SquaresRun,
    bump_counter,
    count_down,
    idle,
    leave_a_daemon,
    put_hello,
    read_a_line,
    read_counter,
    report_squares,
    say_hello,
    send_identity,
    send_inherited_size,
    send_pids,
    send_received_size,
    spin,
    start_a_grandchild,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "EXAMPLES",
    "GREETING",
    "MAX_STARTS",
    "SCRIPT_TIMEOUT",
    "SQUARERS",
    "CapturedRun",
    "NothingSent",
    "ScriptRun",
    "SpawnSquarer",
    "SquaresRun",
    "StartUpTiming",
    "ask",
    "big_data",
    "bump_counter",
    "count_down",
    "counter",
    "error_summary",
    "example_path",
    "idle",
    "leave_a_daemon",
    "process_state",
    "put_hello",
    "read_a_line",
    "read_counter",
    "report_squares",
    "run_and_capture",
    "run_script",
    "say_hello",
    "send_identity",
    "send_inherited_size",
    "send_pids",
    "send_received_size",
    "spin",
    "start_a_grandchild",
    "state_once_exited",
    "time_start_up",
]


# The course's example scripts live next to `helpers` in the repository.
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# A script starts a fresh interpreter, which starts a child of its own: a few
# seconds on a loaded laptop, so a minute means something is really stuck.
SCRIPT_TIMEOUT = 60.0
# The start-up playground measures one child after another; twenty spawned
# children take about a second, which is as long as a widget click should.
MAX_STARTS = 20

_GUARD = 'if __name__ == "__main__":'
# Colour codes that Python 3.13+ puts into a traceback when the environment asks
# for colour (a Jupyter kernel's does): they must not hide the exception's name.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The last line of a traceback: an exception's name at the start of a line.
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


class NothingSent(RuntimeError):
    """A child finished cleanly without sending anything through its connection."""


# --- the Process object, seen from outside: its state in /proc ---


def process_state(pid: int) -> str | None:
    """The state Linux shows for process ``pid``: ``"R"``, ``"S"``, ``"Z"`` (zombie)... or None.

    None means that no such process exists — or that there is no ``/proc`` to
    ask (macOS, Windows).
    """
    require_positive_int(pid, "pid")
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text.rpartition(")")[2].split()[0]  # the field after "(name)"


def state_once_exited(process: Any, *, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """Wait, without reaping it, until child ``process`` has exited; return its state then.

    ``"Z"`` on Linux for a child nobody has joined yet, None once it has been
    reaped (and always None where there is no ``/proc``: macOS, Windows).
    Waiting with ``is_alive()`` or ``join()`` would reap the child and hide the
    zombie; waiting on its ``sentinel`` does not, on every platform.
    """
    require_timeout(timeout)
    if not hasattr(type(process), "sentinel"):
        raise TypeError(f"process must be a Process, not {kind(process)}")
    deadline = time.monotonic() + timeout
    wait_for_any([process.sentinel], timeout)  # ValueError if it was never started
    # The sentinel is ready as the child closes its files, a moment before it has exited.
    if hasattr(os, "waitid"):  # Linux and macOS: wait for the exit itself, reaping nothing
        flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
        try:
            while os.waitid(os.P_PID, process.pid, flags) is None:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        except ChildProcessError:  # not this process's child (a fork server's), or reaped
            pass
    state = process_state(process.pid)
    while state not in ("Z", None) and time.monotonic() < deadline:
        time.sleep(0.01)
        state = process_state(process.pid)
    return state


# --- running a worker and getting its answer ---


def ask(
    ctx: Any,
    worker: Callable[..., Any],
    *args: Any,
    timeout: float = DEFAULT_TIMEOUT,
    name: str | None = None,
) -> Any:
    """Run ``worker(conn, *args)`` in a child made by ``ctx`` and return what it sent.

    ``ctx`` may be a ``multiprocessing`` context or a ``multiprocess`` one: the
    pipe and the process both come from it, so the two libraries never mix.
    The child sends one object through ``conn``; the parent waits at most
    ``timeout`` seconds for it and as long again for the child to exit.

    Raises :class:`helpers.running.ChildError` if the worker raised (with its
    exception type and message), :class:`helpers.running.ChildTimeout` if it
    sent nothing in time (it is then stopped), and :class:`NothingSent` if it
    finished without sending.

    >>> from helpers.context import get_context
    >>> ask(get_context(), say_hello)
    'hello from helpers.processes'
    """
    require_context(ctx, needs=("Pipe",))
    require_timeout(timeout)  # before any child exists, so a bad value leaks nothing
    if not callable(worker):
        raise TypeError(f"worker must be a function, not {type(worker).__name__}")
    label = name or getattr(worker, "__name__", "child")
    reader, writer = ctx.Pipe(duplex=False)
    try:
        child = start(ctx, worker, writer, *args, name=label)
    except BaseException:
        reader.close()  # no child will ever write to it
        raise
    finally:
        # The parent never writes: with its copy closed, the reader sees EOF
        # as soon as the child exits, instead of waiting for the timeout.
        writer.close()
    sent, answer = False, None
    try:
        if reader.poll(timeout):
            answer, sent = reader.recv(), True
    except EOFError:
        pass  # the child exited without sending; wait() below says why
    finally:
        reader.close()
    try:
        wait([child], timeout=timeout)
    except ChildTimeout:
        raise ChildTimeout(
            f"child {label!r} sent nothing within {timeout:g} s and was stopped"
        ) from None
    if not sent:
        raise NothingSent(f"child {label!r} finished without sending anything through its conn")
    return answer


@dataclass(frozen=True)
class CapturedRun:
    """How a plain child ended: its exit code, what it sent (or None), and its stderr."""

    exitcode: int | None
    answer: Any
    stderr: str

    @property
    def error(self) -> str:
        """The child's exception as one line, e.g. ``"AttributeError: ..."`` (or ``""``)."""
        return error_summary(self.stderr)


def run_and_capture(
    ctx: Context, worker: Callable[..., Any], *, timeout: float = DEFAULT_TIMEOUT
) -> CapturedRun:
    """Run ``worker(conn)`` in a plain ``ctx.Process`` and keep what it writes to stderr.

    Unlike :func:`ask`, nothing is wrapped around the worker, so this shows
    what really happens to a child that cannot load its worker: it dies while
    unpickling it, before any of our code runs, and its traceback goes to the
    stderr it inherited. A notebook never shows that stream, so the parent
    points file descriptor 2 at a temporary file while the child starts,
    then reads the file back.

    Only spawn and fork are accepted: a forkserver child inherits the stderr of
    the fork server, which was fixed when the server started.
    """
    require_context(ctx, needs=("Pipe",))
    require_timeout(timeout)
    method = ctx.get_start_method()
    if method not in ("spawn", "fork"):
        raise ValueError(
            f"run_and_capture needs a spawn or fork context, not {method!r}: a forkserver "
            "child writes to the fork server's stderr, which cannot be redirected"
        )
    if not callable(worker):
        raise TypeError(f"worker must be a function, not {type(worker).__name__}")
    reader, writer = ctx.Pipe(duplex=False)
    process = ctx.Process(target=worker, args=(writer,), name=getattr(worker, "__name__", None))
    with tempfile.TemporaryFile() as log:
        try:
            _start_with_stderr(process, log.fileno())
        except BaseException:
            reader.close()  # no child will ever write to it
            raise
        finally:
            writer.close()
        answer = None
        try:
            if reader.poll(timeout):
                answer = reader.recv()
        except EOFError:
            pass  # it died before sending: its stderr says why
        finally:
            reader.close()
        _join_or_stop(process, timeout)
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    return CapturedRun(exitcode=process.exitcode, answer=answer, stderr=stderr)


def _start_with_stderr(process: Any, fd: int) -> None:
    """Start ``process`` with file descriptor ``fd`` as its stderr (2), then restore ours."""
    sys.stderr.flush()  # what we wrote before belongs on our own stderr
    saved = os.dup(2)
    os.dup2(fd, 2)
    try:
        process.start()  # spawn and fork both copy descriptor 2 here, and only here
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _join_or_stop(process: Any, timeout: float) -> None:
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join(1.0)


def error_summary(text: str) -> str:
    """Return the exception at the end of a traceback as one line.

    A message that continues on indented lines is joined up to its first
    blank line, so multiprocessing's long RuntimeError fits on one line.

    >>> error_summary("Traceback (most recent call last):\\n  ...\\nKeyError: 'x'\\n")
    "KeyError: 'x'"
    >>> error_summary("\\x1b[1;35mKeyError\\x1b[0m: \\x1b[35m'x'\\x1b[0m\\n")  # 3.13's colours
    "KeyError: 'x'"
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    lines = _ANSI.sub("", text).splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if _EXCEPTION_LINE.match(lines[index]):
            parts = [lines[index].strip()]
            for line in lines[index + 1 :]:
                if not line.strip():
                    break
                parts.append(line.strip())
            return " ".join(parts)
    return ""


# --- start methods ---


@dataclass(frozen=True)
class StartUpTiming:
    """How long each of several children took to start and exit under one method."""

    method: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        """The median time in seconds (the middle one, or the mean of the middle two)."""
        ordered = sorted(self.seconds)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2

    def __str__(self) -> str:
        fastest, slowest = min(self.seconds) * 1e3, max(self.seconds) * 1e3
        return (
            f"{self.method:>10}: {self.median * 1e3:6.1f} ms per child "
            f"(median of {len(self.seconds)}; fastest {fastest:.1f}, slowest {slowest:.1f})"
        )


def time_start_up(
    method: str, *, starts: int = 5, timeout: float = DEFAULT_TIMEOUT
) -> StartUpTiming:
    """Start and join ``starts`` idle children, one after another, under ``method``.

    One untimed child goes first, so that a fork server is already running and
    the interpreter's files are in the disk cache: the figures are the cost of
    every later child. Each child runs :func:`idle` and is checked to exit with 0.

    >>> time_start_up("spawn", starts=2).method
    'spawn'
    """
    if method not in START_METHODS:
        valid = ", ".join(START_METHODS)
        raise ValueError(f"method must be one of: {valid}; not {method!r}")
    ctx = get_context(method)  # also refuses a method this platform lacks
    require_positive_int(starts, "starts", maximum=MAX_STARTS)
    require_timeout(timeout)
    start(ctx, idle).wait(timeout)  # warm-up, not timed
    seconds = []
    for _ in range(starts):
        began = time.perf_counter()
        start(ctx, idle).wait(timeout)
        seconds.append(time.perf_counter() - began)
    return StartUpTiming(method=method, seconds=tuple(seconds))


# --- scripts ---


def example_path(name: str) -> Path:
    """Return the path of an example script shipped in the repository's ``examples/``."""
    if not isinstance(name, str) or not name.endswith(".py") or "/" in name or "\\" in name:
        raise ValueError(f"name must be a script's file name such as 'main_guard.py', not {name!r}")
    path = EXAMPLES / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the course from its repository")
    return path


@dataclass(frozen=True)
class ScriptRun:
    """How a script run in a fresh interpreter ended: exit code, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The last exception in stderr as one line (or ``""``)."""
        return error_summary(self.stderr)


def run_script(
    path: Path | str, *args: str, guarded: bool = True, timeout: float = SCRIPT_TIMEOUT
) -> ScriptRun:
    """Run the script at ``path`` with ``args`` in a fresh interpreter and collect its output.

    With ``guarded=False`` a temporary copy runs instead, in which the block
    under ``if __name__ == "__main__":`` is moved to the top level — the
    mistake the guard prevents. The script and every process it starts form
    one process group, which is killed if it overruns ``timeout``, so no
    grandchild outlives the call.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file")
    if not all(isinstance(arg, str) for arg in args):
        raise TypeError(f"args must be strings, not {args!r}")
    if not isinstance(guarded, bool):
        raise TypeError(f"guarded must be True or False, not {guarded!r}")
    require_timeout(timeout)
    with tempfile.TemporaryDirectory(prefix="course-script-") as folder:
        script = path if guarded else _unguarded_copy(path, Path(folder))
        with subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: one killpg stops everything
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise TimeoutError(
                    f"script {path.name} did not finish within {timeout:g} s and was killed"
                ) from None
    return ScriptRun(returncode=process.returncode, stdout=stdout, stderr=stderr)


def _unguarded_copy(path: Path, folder: Path) -> Path:
    """Write ``path`` into ``folder`` with its main guard's block moved to the top level."""
    lines = path.read_text().splitlines()
    if _GUARD not in lines:
        raise ValueError(f"{path.name} has no line {_GUARD!r} to remove")
    at = lines.index(_GUARD)
    body = lines[at + 1 :]
    unguarded = [line.removeprefix("    ") for line in body]
    copy = folder / path.name
    copy.write_text("\n".join([*lines[:at], *unguarded]) + "\n")
    return copy


# --- the module globals the lesson changes: they belong to the workers' module ---


class _WithWorkersGlobals(types.ModuleType):
    """This module, with the ``counter`` and ``big_data`` of :mod:`helpers.workers.processes`.

    The workers that read them live there; reading or setting
    ``helpers.processes.counter`` in the notebook reads or sets that very global,
    so "change it here, look in a child" shows what the lesson says.
    """

    @property
    def counter(self) -> int:
        return _workers.counter

    @counter.setter
    def counter(self, value: int) -> None:
        _workers.counter = value

    @property
    def big_data(self) -> bytes:
        return _workers.big_data

    @big_data.setter
    def big_data(self, value: bytes) -> None:
        _workers.big_data = value


counter: int
big_data: bytes
sys.modules[__name__].__class__ = _WithWorkersGlobals
