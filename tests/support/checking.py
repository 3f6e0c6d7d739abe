"""Small whole programs for the tests of `helpers.checking`, each making at most one mistake.

Test-only: children under spawn and forkserver import the workers from here.
Every program takes the context first; every blocking call is bounded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from multiprocessing import shared_memory
from typing import Any

WAIT = 10.0  # seconds


def send_double(conn: Any, number: int) -> None:
    """Runs in the child: send ``2 * number`` through ``conn``."""
    conn.send(2 * number)
    conn.close()


def fail(conn: Any) -> None:
    """Runs in the child: raise before sending anything."""
    raise ValueError("this child fails on purpose")


def _double(ctx: Any, number: int, *, join: bool = True) -> Any:
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_double, args=(writer, number), name="doubler")
    child.start()
    writer.close()
    answer = reader.recv() if reader.poll(WAIT) else None
    if join:
        child.join(timeout=WAIT)
    return answer


def correct(ctx: Any, number: int) -> Any:
    """Right: start, receive, join."""
    return _double(ctx, number)


def forgot_join(ctx: Any, number: int) -> Any:
    """Wrong: the child is never joined."""
    return _double(ctx, number, join=False)


def target_called(ctx: Any, number: int) -> Any:
    """Wrong: ``target=send_double(...)`` runs the worker here, in the parent."""
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_double(writer, number), name="doubler")
    child.start()
    child.join(timeout=WAIT)
    return reader.recv() if reader.poll(WAIT) else None


def stuck(ctx: Any, number: int) -> Any:
    """Wrong: joins, with no timeout, a child that sleeps far longer than anyone waits."""
    child = ctx.Process(target=time.sleep, args=(600,), name="sleeper")
    child.start()
    child.join()
    return number


def child_raises(ctx: Any, number: int) -> Any:
    """Wrong: the child's function raises; the program joins it and returns."""
    _reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=fail, args=(writer,), name="failer")
    child.start()
    writer.close()
    child.join(timeout=WAIT)
    return number


def leaves_a_segment(ctx: Any, number: int) -> str:
    """Wrong: creates shared memory, closes it, never unlinks it; returns its name."""
    segment = shared_memory.SharedMemory(create=True, size=16)
    segment.close()
    return segment.name


def raises(ctx: Any, number: int) -> Any:
    """Wrong: the program itself raises, in the notebook's process."""
    raise KeyError(number)


def starts_nothing(ctx: Any, number: int) -> int:
    """Wrong: does the work itself, with no process at all."""
    return 2 * number


# Another program: creates a segment, says its name, keeps it mapped until its stdin closes.
HOLD_A_SEGMENT = (
    "import sys\n"
    "from multiprocessing import shared_memory\n"
    "segment = shared_memory.SharedMemory(create=True, size=16)\n"
    "print(segment.name, flush=True)\n"
    "sys.stdin.read()\n"
    "segment.close()\n"
    "segment.unlink()\n"
)


def meanwhile_another_program_makes_a_segment(ctx: Any, number: int) -> tuple[Any, str]:
    """Right, with company: a program not started by multiprocessing maps a segment meanwhile."""
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SEGMENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return other, other.stdout.readline().strip()
