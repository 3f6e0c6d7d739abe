"""Checkers for lesson 07's exercises: whole programs built on named shared memory.

Each exercise asks for a program, ``program(ctx, ...)``, that creates its
segments, starts and joins its children, and returns a plain result. The
checker runs it through :func:`helpers.checking.run_program` (bounded, every
process recorded, new ``/dev/shm`` entries listed and removed), names the
mistakes every lesson names the same way with
:func:`helpers.checking.common_mistake`, then looks at the result for the
mistakes of this lesson.

>>> check_histogram(42)
✘ pass your function itself, e.g. check_histogram(histogram), not a int
"""

from __future__ import annotations

import mmap
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
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "BINS",
    "CHILDREN",
    "FRAMES",
    "FRAME_SHAPE",
    "SLOTS",
    "check_frames",
    "check_histogram",
    "histogram_values",
]

# Exercise 1: how many values, how many bins, how many children. The length is
# not a multiple of CHILDREN, so slices that forget the remainder miss values.
LENGTH = 10_001
BINS = 10
CHILDREN = 3
# Exercise 2: frames through a ring of SLOTS slots; frame k holds the number k + 1
# in every pixel, so 0 means a slot never written.
FRAMES = 12
SLOTS = 3
FRAME_SHAPE = (48, 64)


def histogram_values() -> Any:
    """The values exercise 1 counts: LENGTH whole numbers from 0 to BINS - 1, int64."""
    import numpy as np

    return np.random.default_rng(7).integers(0, BINS, LENGTH, dtype=np.int64)


def _dangling(result: Any) -> bool:
    """True if ``result`` is (or holds) an array over shared memory already closed.

    Reading such an array reads memory that is no longer mapped, which kills
    the process, so the checker must not touch it.
    """
    if isinstance(result, (list, tuple)):
        return any(_dangling(item) for item in result)
    base: Any = getattr(result, "base", None)
    while getattr(base, "base", None) is not None:
        base = base.base
    return isinstance(base, mmap.mmap) and base.closed


_DANGLING = (
    "you returned a NumPy array that still points into a segment you closed: reading it "
    "would crash the notebook. Return a copy made before close() — .tolist() or .copy()"
)
_BUFFER_ERROR = (
    "close() raised BufferError: an array still used the segment's memory. Take what you "
    "return out first (.tolist() or .copy()), then del every array over shm.buf before "
    "shm.close()"
)


def _first_problem(run: ProgramRun, expected_children: int, what: str) -> str | None:
    if isinstance(run.error, BufferError):
        return _BUFFER_ERROR
    hint = common_mistake(run)
    if hint is not None:
        return hint
    if _dangling(run.result):
        return _DANGLING
    if len(run.started) != expected_children:
        return (
            f"your program started {len(run.started)} process(es); {what} needs {expected_children}"
        )
    return None


def _as_ints(result: Any, length: int, what: str) -> list[int] | str:
    """``result`` as a list of ``length`` whole numbers, or a hint saying why not."""
    if result is None:
        return f"your program returned None: return {what}"
    try:
        values = [int(v) for v in result]
    except (TypeError, ValueError):
        return f"your program returned {type(result).__name__}: return {what}"
    if len(values) != length:
        return f"your program returned {len(values)} numbers; return {what}, {length} of them"
    return values


# --------------------------------------------------------------------------
# Exercise 1: a parallel histogram into shared memory
# --------------------------------------------------------------------------


def _histogram_hint(got: list[int], want: list[int], children: int) -> str | None:  # noqa: PLR0911
    if got == want:
        return None
    total, length = sum(got), sum(want)
    if total == 0:
        return (
            "every count is 0: the children's counts never reached the notebook — did a "
            "child count into a copy (np.array(...) or .copy() of the view) or a new array, "
            "instead of np.ndarray(shape, dtype, buffer=shm.buf) over the counts segment?"
        )
    if got == [children * w for w in want]:
        return (
            f"every value was counted {children} times: each child must count only its own "
            "slice, values[begin:end], not the whole array"
        )
    if any(g < 0 for g in got) or total > children * length:
        return (
            f"the counts ({got[:3]}…) are not counts of anything: the notebook and the "
            "children must view each segment with the same shape and dtype (int64 here)"
        )
    if total < length:
        return (
            f"the counts add up to {total}, but there are {length} values: some were never "
            f"counted. Do the slices reach the end ({length} is not a multiple of {children})? "
            "Or did children add into the same counts at once, without a lock? Give each "
            "child its own row"
        )
    if total > length:
        return (
            f"the counts add up to {total}, but there are {length} values: some were counted "
            "twice — do two slices overlap?"
        )
    return f"the counts are {got}, not {want}: is each value counted in its own bin?"


def check_histogram(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 1: ``program(ctx, values, bins, children)`` returns the histogram of values.

    It must put ``values`` in a segment, let ``children`` processes count
    their slices into a shared counts array, and return the ``bins`` counts.
    """
    require_timeout(timeout)
    verdict = not_a_function(program, "check_histogram(histogram)")
    if verdict is not None:
        return verdict
    import numpy as np

    values = histogram_values()
    want = np.bincount(values, minlength=BINS).tolist()
    run = run_program(program, context_for(ctx), values.copy(), BINS, CHILDREN, timeout=timeout)
    hint = _first_problem(run, CHILDREN, f"children={CHILDREN}")
    if hint is not None:
        return fail(hint)
    got = _as_ints(run.result, BINS, f"the {BINS} counts as a list")
    if isinstance(got, str):
        return fail(got)
    hint = _histogram_hint(got, want, CHILDREN)
    if hint is not None:
        return fail(hint)
    return ok(
        f"{CHILDREN} children counted {LENGTH:,} values into shared memory, every child "
        f"joined, {left_nothing(run, 'every segment unlinked')}"
    )


# --------------------------------------------------------------------------
# Exercise 2: frames through a shared ring buffer, an Event per frame
# --------------------------------------------------------------------------


def _frames_hint(got: list[int], frames: int, slots: int) -> str | None:
    want = list(range(1, frames + 1))
    if got == want:
        return None
    k = next(k for k, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
    number, seen = k + 1, got[k]
    if seen == 0:
        return (
            f"frame {number} read as 0, an empty slot: you read it before the producer "
            f"wrote it — wait for frame {number}'s ready Event (with a timeout) first"
        )
    if not 1 <= seen <= frames:
        return (
            f"frame {number} holds {seen}, which is no frame's number: the producer and the "
            "notebook must view the ring with the same shape and dtype"
        )
    if seen > number:
        return (
            f"where frame {number} should be you read frame {seen}: the producer had already "
            f"written over slot {k % slots}. Before reusing a slot, the producer must wait "
            f"for the Event that says frame {number} was read"
        )
    return (
        f"where frame {number} should be you read frame {seen} again: wait for frame "
        f"{number}'s own ready Event before reading its slot"
    )


def check_frames(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Exercise 2: ``program(ctx, frames, slots, shape)`` returns the frame numbers read.

    A producer child writes frame k (every pixel the number k + 1) into slot
    k % slots of a shared ring and sets frame k's ready Event; the program
    reads each frame in turn and sets its read Event, so that the producer
    reuses a slot only once the frame in it was read.
    """
    require_timeout(timeout)
    verdict = not_a_function(program, "check_frames(stream)")
    if verdict is not None:
        return verdict
    run = run_program(program, context_for(ctx), FRAMES, SLOTS, FRAME_SHAPE, timeout=timeout)
    hint = _first_problem(run, 1, "one producer")
    if hint is not None:
        return fail(hint)
    got = _as_ints(run.result, FRAMES, "the frame numbers you read, in order")
    if isinstance(got, str):
        return fail(got)
    hint = _frames_hint(got, FRAMES, SLOTS)
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {FRAMES} frames arrived in order through {SLOTS} shared slots, none "
        "overwritten before it was read"
    )
