"""Lesson 00 (Start here): the workers, which run in a child.

Each takes the writing end of a pipe, ``conn``, sends one object back
through it and exits; :func:`helpers.processes.ask` runs one and returns what
it sent. Standard library only: every spawned child that runs one imports
this module.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from multiprocessing import context as _contexts

from helpers.workers.running import DEFAULT_TIMEOUT

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# A deliberately plain module global. The lesson changes it in one process and
# looks for the change in another, to show that every process has its own copy.
counter = 0


GREETING = "hello from helpers.processes"


# --- workers: each runs in a child, takes the connection first, sends one object ---


def send_pids(conn: Any) -> None:
    """Runs in the child: send ``(its own PID, its parent's PID)``, then close ``conn``."""
    conn.send((os.getpid(), os.getppid()))
    conn.close()


def bump_counter(conn: Any) -> None:
    """Runs in the child: add one to the module global ``counter`` and send its new value.

    Only the child's own copy of the module changes: the parent never sees it.
    """
    global counter  # noqa: PLW0603 - changing a global is the whole point of this lesson
    counter += 1
    conn.send(counter)
    conn.close()


def read_counter(conn: Any) -> None:
    """Runs in the child: send the value of ``counter`` as this child sees it."""
    conn.send(counter)
    conn.close()


def say_hello(conn: Any) -> None:
    """Runs in the child: send a fixed greeting, proof that the worker was found and ran."""
    conn.send(GREETING)
    conn.close()


def idle() -> None:
    """Runs in the child: do nothing, so that timing it measures start-up and exit alone."""


def put_hello(queue: Any) -> None:
    """Runs in the child: put the greeting on ``queue`` (used to show mixing libraries fails)."""
    queue.put(GREETING)


def spin(n: int, ready: Any) -> None:
    """Runs in a thread or a child: wait at the barrier ``ready``, then count down from ``n``.

    Pure-Python work that needs a CPU and waits for nothing. It sends nothing
    back: what matters is how long it keeps a CPU busy. The barrier lets the
    caller start its clock when every worker is ready, start-up left out.
    """
    ready.wait(DEFAULT_TIMEOUT)
    while n > 0:
        n -= 1


def count_down(n: int) -> None:
    """Runs in a thread or a child: count down from ``n``, sending nothing back.

    Pure-Python work that keeps a CPU busy and waits for nothing: what matters
    is how long it takes, and how much CPU time it uses.
    """
    while n > 0:
        n -= 1


def report_squares(conn: Any, numbers: list[int]) -> None:
    """Runs in the child: print the squares of ``numbers`` and their sum, then send the squares.

    The printed lines are for a person to read (in JupyterLab they land in the
    cell); the list sent through ``conn`` is what the parent's program uses.
    """
    squares = [n * n for n in numbers]
    me = f"{multiprocessing.current_process().name} (PID {os.getpid()})"
    print(f"in {me}: squares {squares}")
    print(f"in {me}: sum of squares {sum(squares)}", flush=True)  # out before the answer
    conn.send(squares)
    conn.close()


# --- the Process object, seen from inside a child ---


def send_identity(conn: Any) -> None:
    """Runs in the child: send its own name, and its parent's name and PID, as it sees them."""
    me, parent = multiprocessing.current_process(), multiprocessing.parent_process()
    assert parent is not None  # a child always has one
    conn.send((me.name, parent.name, parent.pid))
    conn.close()


def start_a_grandchild(conn: Any, method: str) -> None:
    """Runs in the child: try to start a child of its own; send what happened, as one line."""
    try:
        context: Any = multiprocessing.get_context(method)
        grandchild = context.Process(target=idle)
        grandchild.start()
    except Exception as exc:  # a daemon is refused: the error itself is the answer
        conn.send(f"{type(exc).__name__}: {exc}")
    else:
        grandchild.join(DEFAULT_TIMEOUT)
        conn.send(f"started a child, which exited with code {grandchild.exitcode}")
    conn.close()


def leave_a_daemon(conn: Any, method: str, seconds: float) -> None:
    """Runs in the child: start a daemon child that sleeps ``seconds``, send its PID, and exit.

    The child does not wait for its daemon: when the child exits, multiprocessing
    terminates the daemon, then reaps it.
    """
    context: Any = multiprocessing.get_context(method)
    daemon = context.Process(target=time.sleep, args=(seconds,), daemon=True)
    daemon.start()
    conn.send(daemon.pid)
    conn.close()


def read_a_line(conn: Any) -> None:
    """Runs in the child: read a line from standard input and send it (a child cannot)."""
    conn.send(input())
    conn.close()


# Large read-only data for the lesson's "inherit, don't pickle" measurement. The
# notebook fills it in before starting fork children, which inherit it for free.
big_data = b""


def send_inherited_size(conn: Any) -> None:
    """Runs in a fork child: send the size of ``big_data``, as inherited from the parent."""
    conn.send(len(big_data))
    conn.close()


def send_received_size(conn: Any) -> None:
    """Runs in the child: receive data through the duplex ``conn``, send back its size."""
    conn.send(len(conn.recv()))
    conn.close()


class SquaresRun:
    """What every squarer below adds to its ``Process`` class: its data, and ``run()``.

    A subclass of ``Process`` keeps the start method of the class it extends,
    so there is one squarer per start method, in :data:`SQUARERS`.
    Under spawn and forkserver ``start()`` pickles the whole object, so every
    attribute set in ``__init__`` — ``guard`` too — must be picklable.
    """

    def __init__(self, conn: Any, numbers: list[int], *, guard: Any = None, **options: Any):
        super().__init__(**options)  # name=, daemon=: what Process itself takes
        self.conn = conn
        self.numbers = list(numbers)
        self.guard = guard  # anything the process carries along, e.g. a lock

    def run(self) -> None:
        """Runs in the child, instead of a target: send the squares of ``numbers``."""
        self.conn.send([n * n for n in self.numbers])
        self.conn.close()


class SpawnSquarer(SquaresRun, _contexts.SpawnProcess):
    """A squarer started by spawn."""


SQUARERS: dict[str, type] = {"spawn": SpawnSquarer}


if sys.platform != "win32":  # Windows has neither fork nor a fork server

    class ForkSquarer(SquaresRun, _contexts.ForkProcess):
        """A squarer started by fork."""

    class ForkServerSquarer(SquaresRun, _contexts.ForkServerProcess):
        """A squarer started by the fork server."""

    SQUARERS.update(fork=ForkSquarer, forkserver=ForkServerSquarer)
