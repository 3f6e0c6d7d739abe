"""Checkers for lesson 10's stages: the Mandelbrot explorer, one whole program per stage.

Every checker runs the learner's program with
:func:`helpers.checking.run_program` (bounded, every process it starts and
every segment it leaves recorded), compares the image it returns with the
serial render **pixel for pixel**, then runs it again with the stage's fault
injected through the frame (a tile that raises, slow tiles and a new request
half-way, a worker killed mid-render), and names the first mistake it finds.

The programs, stage by stage (``ctx`` is the notebook's context):

1. ``render_serial(frame)``: every tile in this process; the reference.
2. ``render_pool(ctx, frame, workers)``: tiles on a ``ProcessPoolExecutor``;
   each task sends its pixels back.
3. ``render_shared(ctx, frame, workers)``: workers write into one
   ``shared_memory`` image; only its name travels; unlinked in a ``finally``.
4. ``render_progress(ctx, frame, workers, on_tile)``: as 3, and each worker
   puts its tile's index on a ``Queue`` once the pixels are in place; the
   program calls ``on_tile(index, image)`` for each, as it arrives.
5. ``render_then_zoom(ctx, first, second, workers)``: starts ``first``; after
   its first tile, cancels it with an ``Event`` and returns ``second``'s image.
6. ``render_surviving(ctx, frame, workers)``: as 3, but a worker dies
   mid-render; the lost tiles are rendered again.

>>> check_serial("render_serial")
✘ pass your function itself, e.g. check_serial(render_serial), not a str
"""

from __future__ import annotations

import mmap
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

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
    segments_left_behind,
    wrapping_methods,
)
from helpers.exercises.pools import PoolUse, _no_context, _not_shut_down, watching_pools
from helpers.fractal import Frame, first_difference, render_serial, tiles
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "CANCEL_FRAMES",
    "CHECK_FRAME",
    "SERIAL_FRAME",
    "WORKERS",
    "check_cancel",
    "check_kill",
    "check_pool",
    "check_progress",
    "check_serial",
    "check_shared",
]

WORKERS = 2
# Not a multiple of the 100-pixel tile either way: the edge tiles are narrower.
SERIAL_FRAME = Frame(-0.75, 0.1, 1.3, width=250, height=150, limit=60)
CHECK_FRAME = Frame(-0.6, 0.0, 1.2, width=300, height=200, limit=80)
# The render that gets cancelled is slow (0.15 s a tile); the one that replaces it
# looks elsewhere, so a tile of the first in the second's image shows.
CANCEL_FRAMES = (
    Frame(-0.75, 0.0, 1.0, width=400, height=300, limit=80, pause=0.15),
    Frame(-0.1, 0.8, 4.0, width=400, height=300, limit=80, pause=0.02),
)
# Of the task results, at most this share of the image's bytes may come back pickled.
PICKLED_SHARE = 0.1
FAILING_TILE = 3
KILLED_TILE = 2


@contextmanager
def _counting_results() -> Iterator[list[int]]:
    """Record how many bytes each task of a ProcessPoolExecutor sent back, pickled."""
    sizes: list[int] = []

    def measure(future: Any) -> None:
        if not future.cancelled() and future.exception() is None:
            sizes.append(len(pickle.dumps(future.result(), pickle.HIGHEST_PROTOCOL)))

    def wrap(original: Any) -> Any:
        def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            future = original(self, fn, *args, **kwargs)
            future.add_done_callback(measure)
            return future

        return submit

    with wrapping_methods([(ProcessPoolExecutor, "submit", wrap)]):
        yield sizes


def _run(
    program: Callable[..., Any], *args: Any, timeout: float, shared: bool
) -> tuple[ProgramRun, list[PoolUse], list[int]]:
    with watching_pools() as pools, _counting_results() as sizes:
        run = run_program(program, *args, timeout=timeout, shared_memory=shared)
    return run, pools, sizes


def _pool_mistake(run: ProgramRun, pools: list[PoolUse], *, killed: bool = False) -> str | None:
    """Pool mistakes first (no ctx, never shut down), then those every lesson checks."""
    if run.error is None and not run.timed_out and not pools and not run.started:
        return (
            "your program started no process: create a ProcessPoolExecutor(mp_context=ctx) "
            "and submit a task per tile"
        )
    hint = _no_context(pools)
    if hint is None and run.error is None and not run.timed_out:
        hint = _not_shut_down(pools)
    return hint or common_mistake(run, killed_on_purpose=killed)


def _image_mistake(run: ProgramRun, frame: Frame) -> str | None:
    difference = first_difference(run.result, render_serial(frame), frame)
    return None if difference is None else difference + " (compared pixel for pixel)"


def _pickled(sizes: list[int], frame: Frame) -> str | None:
    sent = sum(sizes)
    if sent <= PICKLED_SHARE * frame.width * frame.height * 2:
        return None
    return (
        f"your tasks sent {sent:,} bytes back, pickled, for an image of "
        f"{frame.width * frame.height * 2:,} bytes: the pixels travelled. Write each tile "
        "into the shared image and return only its index"
    )


def _a_view(run: ProgramRun) -> str | None:
    if isinstance(run.result, np.ndarray) and isinstance(run.result.base, (mmap.mmap, memoryview)):
        return (
            "your program returned a view into the shared memory, which is gone once it is "
            "unlinked and closed: return image.copy()"
        )
    return None


def _checked(program: Any, example: str, timeout: Any) -> tuple[Verdict | None, float]:
    return not_a_function(program, example), require_timeout(timeout)


@dataclass(frozen=True)
class _Tallied:
    """A run whose frame counted its tiles in a file, and what the file says."""

    run: ProgramRun
    pools: list[PoolUse]
    sizes: list[int]
    frame: Frame
    drawn: int  # tiles the workers finished
    killed: bool  # the worker given the frame's ``kill`` tile was killed


def _run_tallied(
    program: Any, ctx: Context, frame: Frame, *rest: Any, timeout: float, **faults: Any
) -> _Tallied:
    """Run ``program(ctx, frame, *rest, WORKERS)``, the frame's workers tallying each tile."""
    with tempfile.TemporaryDirectory(prefix="tally-") as folder:
        frame = frame._replace(tally=os.path.join(folder, "tally"), **faults)
        run, pools, sizes = _run(program, ctx, frame, *rest, WORKERS, timeout=timeout, shared=True)
        try:
            with open(frame.tally, encoding="ascii") as tally:
                drawn = len(tally.read().split())
        except FileNotFoundError:
            drawn = 0
        killed = os.path.exists(frame.tally + ".killed")
    return _Tallied(run, pools, sizes, frame, drawn, killed)


def _shared_mistake(run: ProgramRun, pools: list[PoolUse], *, killed: bool = False) -> str | None:
    """A view returned, a pool mistake, then a segment left behind: the first found."""
    return _a_view(run) or _pool_mistake(run, pools, killed=killed) or segments_left_behind(run)


# --------------------------------------------------------------------------
# Stage 1: serial
# --------------------------------------------------------------------------


def check_serial(program: Any, *, timeout: float = PROGRAM_TIMEOUT) -> Verdict:
    """Run ``program(frame)`` on a frame whose size is no multiple of the tile's."""
    refused, timeout = _checked(program, "check_serial(render_serial)", timeout)
    if refused is not None:
        return refused
    run = run_program(program, SERIAL_FRAME, timeout=timeout, shared_memory=False)
    hint = common_mistake(run, expect_processes=False) or _image_mistake(run, SERIAL_FRAME)
    if hint is not None and "blank" in hint:
        hint += ": do the tiles reach the right and bottom edges, where they are narrower?"
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {SERIAL_FRAME.width * SERIAL_FRAME.height:,} pixels of a "
        f"{SERIAL_FRAME.width} × {SERIAL_FRAME.height} image are right, edge tiles included"
    )


# --------------------------------------------------------------------------
# Stage 2: tiles on a pool, pixels sent back
# --------------------------------------------------------------------------


def _failure_reached(run: ProgramRun, what: str) -> str | None:
    """A tile that raised must reach the caller: as an exception, not a hole."""
    if run.timed_out or run.error is not None:
        return None
    return (
        f"tile {FAILING_TILE} raised in a worker, and your program returned {what} as if "
        "nothing had happened: let the task's exception reach the caller (future.result() "
        "raises it), so that a failing worker is reported, not hidden in a blank tile"
    )


def check_pool(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, frame, 2)``, then again with one tile that raises."""
    refused, timeout = _checked(program, "check_pool(render_pool)", timeout)
    if refused is not None:
        return refused
    ctx = context_for(ctx)
    run, pools, _ = _run(program, ctx, CHECK_FRAME, WORKERS, timeout=timeout, shared=False)
    hint = _pool_mistake(run, pools) or _image_mistake(run, CHECK_FRAME)
    if hint is not None:
        return fail(hint)
    faulty = CHECK_FRAME._replace(fail=FAILING_TILE)
    run, pools, _ = _run(program, ctx, faulty, WORKERS, timeout=timeout, shared=False)
    hint = _failure_reached(run, "an image")
    if run.timed_out:
        hint = common_mistake(run)
    if hint is not None:
        return fail(hint)
    return ok(
        f"the pool's image equals the serial render, and a tile that raised reached you "
        f"as {type(run.error).__name__}"
    )


# --------------------------------------------------------------------------
# Stage 3: one shared-memory image
# --------------------------------------------------------------------------


def check_shared(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, frame, 2)``; then with a failing tile: no segment may be left."""
    refused, timeout = _checked(program, "check_shared(render_shared)", timeout)
    if refused is not None:
        return refused
    ctx = context_for(ctx)
    run, pools, sizes = _run(program, ctx, CHECK_FRAME, WORKERS, timeout=timeout, shared=True)
    hint = (
        _a_view(run)
        or _pool_mistake(run, pools)
        or _image_mistake(run, CHECK_FRAME)
        or _pickled(sizes, CHECK_FRAME)
    )
    if hint is not None:
        return fail(hint)
    faulty = CHECK_FRAME._replace(fail=FAILING_TILE)
    run, pools, _ = _run(program, ctx, faulty, WORKERS, timeout=timeout, shared=True)
    if run.leftover_segments:
        return fail(
            f"tile {FAILING_TILE} raised, and your program left its shared memory behind "
            f"({', '.join(run.leftover_segments)}): unlink() it in a finally block, so it "
            "goes whatever happens"
        )
    hint = _failure_reached(run, "an image") or (common_mistake(run) if run.timed_out else None)
    if hint is not None:
        return fail(hint)
    return ok(
        f"the shared image equals the serial render, the tasks sent back {sum(sizes):,} bytes "
        f"instead of the pixels, and {left_nothing(run, 'a failing tile left no segment behind')}"
    )


# --------------------------------------------------------------------------
# Stage 4: progress through a queue
# --------------------------------------------------------------------------


class _Reports:
    """The checker's ``on_tile``: is each reported tile already in the image?"""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.reference = render_serial(frame)
        self.tiles = tiles(frame)
        self.indexes: list[int] = []
        self.early: list[int] = []  # reported before its pixels were in place
        self.blank_at_first: int | None = None  # tiles still blank at the first report

    def __call__(self, index: int, image: Any) -> None:
        tile = self.tiles[index]
        self.indexes.append(index)
        if not np.array_equal(np.asarray(image)[tile.where], self.reference[tile.where]):
            self.early.append(index)
        if self.blank_at_first is None:
            self.blank_at_first = sum(
                bool((np.asarray(image)[t.where] == 0).all()) for t in self.tiles
            )


def _report_mistake(reports: _Reports) -> str | None:
    count = len(reports.tiles)
    if sorted(reports.indexes) != list(range(count)):
        return (
            f"on_tile was called for tiles {sorted(reports.indexes)}, not once for each of "
            f"the {count} tiles: take one report per tile off the queue"
        )
    if reports.early:
        return (
            f"tile {reports.early[0]} was reported before its pixels were in the image: "
            "put the index on the queue after writing the tile, not before"
        )
    if not reports.blank_at_first:
        return (
            "the first tile was reported once the whole image was done: call on_tile as "
            "each index arrives on the queue, while the other tiles are still being drawn"
        )
    return None


def check_progress(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, frame, 2, on_tile)``; then with a failing tile it must not hang."""
    refused, timeout = _checked(program, "check_progress(render_progress)", timeout)
    if refused is not None:
        return refused
    ctx = context_for(ctx)
    frame = CHECK_FRAME._replace(pause=0.05)  # each tile takes a while: the image fills in
    reports = _Reports(frame)
    run, pools, _ = _run(program, ctx, frame, WORKERS, reports, timeout=timeout, shared=True)
    hint = _a_view(run) or _pool_mistake(run, pools) or _image_mistake(run, frame)
    hint = hint or _report_mistake(reports)
    if hint is not None:
        return fail(hint)
    faulty = frame._replace(fail=FAILING_TILE)
    run, pools, _ = _run(
        program, ctx, faulty, WORKERS, _Reports(faulty), timeout=timeout, shared=True
    )
    if run.timed_out:
        return fail(
            f"tile {FAILING_TILE} raised in a worker and its report never came, and your "
            f"program was still waiting after {timeout:g} s: take reports with "
            "get(timeout=...) and look at the futures between them (a failed task's "
            "exception comes through result())"
        )
    hint = _failure_reached(run, "an image") or segments_left_behind(run)
    if hint is not None:
        return fail(hint)
    return ok(
        f"all {len(reports.tiles)} tiles were reported once, each after its pixels were in "
        "place, while the image filled in; a failing tile was reported, not waited for"
    )


# --------------------------------------------------------------------------
# Stage 5: cancel a render with an Event
# --------------------------------------------------------------------------


def check_cancel(  # noqa: PLR0911 - one return per mistake it names
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, first, second, 2)``: ``first`` is slow and must be cancelled."""
    refused, timeout = _checked(program, "check_cancel(render_then_zoom)", timeout)
    if refused is not None:
        return refused
    second = CANCEL_FRAMES[1]
    tallied = _run_tallied(program, context_for(ctx), CANCEL_FRAMES[0], second, timeout=timeout)
    run, rendered, count = tallied.run, tallied.drawn, len(tiles(tallied.frame))
    hint = _shared_mistake(run, tallied.pools)
    if hint is not None:
        return fail(hint)
    difference = first_difference(run.result, render_serial(second), second)
    if difference is not None and "blank" in difference:
        return fail(
            f"{difference} in the new image: reports from the cancelled render were counted "
            "as the new one's. Wait until every task of the old render has returned before "
            "starting the next (or tag each report with its render)"
        )
    if difference is not None:
        return fail(
            f"{difference}: a tile of the cancelled render reached the new image. Wait until "
            "every task of the old render has returned before the new one writes"
        )
    if rendered >= count:
        return fail(
            f"all {count} tiles of the first render were drawn although it was cancelled: "
            "set the Event, and have each task look at it before it starts its tile"
        )
    hint = _pickled(tallied.sizes, second)
    if hint is not None:
        return fail(hint)
    return ok(
        f"the first render stopped with {rendered / count:.0%} of its tiles drawn, the new "
        "image equals its serial render, and nothing was left running"
    )


# --------------------------------------------------------------------------
# Stage 6: a worker dies
# --------------------------------------------------------------------------


def check_kill(  # noqa: PLR0911 - one return per mistake it names
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, frame, 2)`` while the worker rendering one tile is killed."""
    refused, timeout = _checked(program, "check_kill(render_surviving)", timeout)
    if refused is not None:
        return refused
    tallied = _run_tallied(
        program, context_for(ctx), CHECK_FRAME, timeout=timeout, kill=KILLED_TILE
    )
    run, frame = tallied.run, tallied.frame
    if not tallied.killed:
        return fail(f"tile {KILLED_TILE} was never rendered, so no worker could be killed")
    if run.error is not None and "BrokenProcessPool" in type(run.error).__name__:
        return fail(
            "a worker was killed and your program gave up with BrokenProcessPool: catch "
            "it, start a new pool, and render again the tiles that never arrived"
        )
    hint = _shared_mistake(run, tallied.pools, killed=True)
    if hint is not None:
        return fail(hint)
    difference = first_difference(run.result, render_serial(frame), frame)
    if difference is not None and "blank" in difference:
        return fail(
            f"a worker was killed and {difference}: render again every tile whose future "
            "raised BrokenProcessPool, on a new pool, into the same image"
        )
    if difference is not None:
        return fail(difference)
    return ok(
        f"a worker was killed while rendering tile {KILLED_TILE}; the lost tiles were "
        "rendered again and the image equals the serial render"
    )
