"""Checker for lesson 05's exercise: a whole program that moves bytes.

Exercise 1: ``move_bytes(ctx, size)`` starts a child that makes ``size``
bytes (:func:`pattern`), moves them to the parent through a channel of the
learner's choice, joins the child, and returns ``(data, seconds)``.

The checker runs the learner's program through
:func:`helpers.checking.run_program` (bounded; every process it started
recorded and stopped if left running; new shared memory listed and removed),
names the mistakes it can see more precisely first (joined before draining,
a buffer still exported, a segment gone), then the mistakes every
lesson checks the same way (:func:`helpers.checking.common_mistake`), then
the result itself.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    context_for,
    fail,
    left_nothing,
    not_a_function,
    ok,
    run_program,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["SIZE", "check_move_bytes", "pattern"]

# Exercise 1 moves 4 MiB: sixty-four pipefuls, so a program that joins the
# child before taking the bytes waits forever (the child's send cannot finish).
SIZE = 4 * 1024 * 1024


def pattern(size: int) -> bytes:
    """The bytes exercise 1's child makes: 0, 1, … 250, 0, 1, … (``size`` of them).

    >>> pattern(5), len(pattern(1000))
    (b'\\x00\\x01\\x02\\x03\\x04', 1000)
    """
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def _joined_too_early(run: ProgramRun) -> str | None:
    """Stuck in ``join()`` while the child still had something to hand over."""
    if not run.timed_out or "multiprocessing.process.join" not in run.stuck_in:
        return None
    return (
        "your program waited in join() for a child that was still sending: a child cannot "
        "finish while what it sends fills the pipe (or the Queue's pipe) and nobody reads "
        "it — take the data first (recv_bytes(), get()), then join"
    )


def _buffer_still_in_use(run: ProgramRun) -> str | None:
    if not isinstance(run.error, (BufferError, ValueError)):
        return None
    text = str(run.error)
    if "exported pointers" not in text and "released memoryview" not in text:
        return None
    return (
        f"{type(run.error).__name__}: {text} — copy the bytes out of the shared memory "
        "(bytes(segment.buf[:size])) and drop every view of it before close()"
    )


def _segment_gone(run: ProgramRun) -> str | None:
    if not isinstance(run.error, FileNotFoundError):
        return None
    return (
        f"FileNotFoundError: {run.error} — a shared memory segment is unlinked exactly once, "
        "by the process that created it, after every process has closed it"
    )


def _bytes_hint(result: Any, size: int) -> str | None:
    # One return per mistake: the first that explains the result wins.
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return "return two things, the bytes and the seconds: return data, seconds"
    data, seconds = result
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return f"data must be the bytes that arrived, not a {type(data).__name__}"
    data = bytes(data)
    expected = pattern(size)
    if len(data) < size and expected.startswith(data):
        return (
            f"only {len(data):,} of {size:,} bytes arrived: keep receiving until you hold "
            "all of them (or send them in one message)"
        )
    if data != expected:
        return (
            f"{len(data):,} bytes arrived but they are not the {size:,} bytes the child "
            "made: send the whole pattern once, in order"
        )
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or seconds <= 0:
        return (
            f"seconds must be how long the transfer took, a positive number, not {seconds!r}: "
            "time.perf_counter() before start() and after the last byte arrived"
        )
    return None


def check_move_bytes(
    move_bytes: Any,
    *,
    size: int = SIZE,
    ctx: Context | None = None,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Exercise 1: ``move_bytes(ctx, size)`` returns ``(data, seconds)``, data == pattern(size)."""
    verdict = not_a_function(move_bytes, "check_move_bytes(move_bytes)")
    if verdict is not None:
        return verdict
    run = run_program(move_bytes, context_for(ctx), size, timeout=timeout)
    hint = (
        _joined_too_early(run)
        or _buffer_still_in_use(run)
        or _segment_gone(run)
        or common_mistake(run)
        or _bytes_hint(run.result, size)
    )
    if hint is not None:
        return fail(hint)
    children = len(run.started)
    return ok(
        f"{size // (1024 * 1024)} MiB arrived intact and timed; "
        f"{children} process{'es' * (children != 1)} started and joined, "
        + left_nothing(run, "nothing left behind")
    )
