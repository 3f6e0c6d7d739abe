"""The child's side of lesson 10: Mandelbrot tiles, and the workers that render them.

A picture is a :class:`Frame` (where to look, how far in, how big, how many
iterations); it is cut into :class:`Tile` rectangles, and each tile is
rendered on its own by :func:`tile_pixels`: for every pixel, the number of
steps of ``z = z * z + c`` before ``|z| > 2`` (1 to ``limit``; ``limit`` for
a point that never escapes). A pixel never holds 0, so 0 means "not rendered
yet". Every pixel depends on its own coordinates alone, so a tile comes out
the same in any process and in any order: the serial render is the reference
a parallel one must equal, pixel for pixel.

The workers, in the order lesson 10 builds them:

* :func:`render_tile` returns a tile's pixels (they travel back pickled);
* :func:`render_into` writes them into one shared-memory image whose *name*
  it was given, and says which tile of which image it finished on the
  progress queue;
* a pool's workers get the queue and the cancel ``Event`` once, at their
  start, from :func:`attach_channels` (a queue or an event cannot travel as
  a task's argument);
* :func:`render_into` skips its tile when the event is set.

Lifecycle of the image: the parent creates the segment and unlinks it once,
in a ``finally``; each worker attaches by name, writes, and closes.

Standard library and NumPy only: every pool worker imports this module.
"""

from __future__ import annotations

import os
import signal
import time
from collections import namedtuple
from multiprocessing.shared_memory import SharedMemory

import numpy as np

from helpers.workers.timeline import Recorder

__all__ = [
    "DTYPE",
    "ESCAPE",
    "SPAN",
    "TILE",
    "Frame",
    "Tile",
    "TileFailed",
    "attach_channels",
    "escape_counts",
    "render_into",
    "render_tile",
    "tile_pixels",
    "tiles",
]

DTYPE = "uint16"  # escape counts up to 65,535: the largest iteration limit allowed
SPAN = 3.5  # how wide a stretch of the plane a frame at zoom 1 shows
ESCAPE = 4.0  # |z|² beyond this: the point has escaped
TILE = 100  # a tile's side in pixels: 24 tiles at the default 600 × 400


class Frame(
    namedtuple(
        "Frame",
        "x y zoom width height limit pause fail kill tally",
        defaults=(0.0, -1, -1, ""),
    )
):
    """What to render: the centre ``(x, y)``, the ``zoom``, the image's size in
    pixels and the iteration ``limit``.

    The last four stay at their defaults except when a fault is injected on
    purpose: ``pause`` seconds of extra work per tile, tile ``fail`` raises
    :class:`TileFailed`, tile ``kill`` kills the worker rendering it (the first
    time only), and every rendered tile appends its index to the file ``tally``.
    A namedtuple, so it pickles small and costs a child nothing to import.
    """

    __slots__ = ()

    @property
    def shape(self) -> tuple[int, int]:
        """The image's shape as NumPy gives it: ``(rows, columns)``."""
        return (self.height, self.width)


class Tile(namedtuple("Tile", "index top bottom left right")):
    """Rows ``top:bottom`` and columns ``left:right`` of the image; ``index`` numbers it."""

    __slots__ = ()

    @property
    def where(self) -> tuple[slice, slice]:
        """``image[tile.where]`` is this tile's part of the image."""
        return slice(self.top, self.bottom), slice(self.left, self.right)


class TileFailed(RuntimeError):
    """A tile's render failed: the fault a frame's ``fail`` injects."""


def tiles(frame: Frame, size: int = TILE) -> list[Tile]:
    """The tiles covering ``frame``, row by row; those on the right and bottom edges
    are smaller when the size does not divide the image.

    >>> [t[1:] for t in tiles(Frame(0, 0, 1, width=150, height=100, limit=50))]
    [(0, 100, 0, 100), (0, 100, 100, 150)]
    """
    return [
        Tile(index, top, min(top + size, frame.height), left, min(left + size, frame.width))
        for index, (top, left) in enumerate(
            (top, left)
            for top in range(0, frame.height, size)
            for left in range(0, frame.width, size)
        )
    ]


def escape_counts(c: np.ndarray, limit: int) -> np.ndarray:
    """For each complex ``c``, the step (1 to ``limit``) at which ``z*z + c`` escapes.

    Points in the two largest regions that never escape (the main cardioid and
    the disc left of it) get ``limit`` without iterating; of the others, only
    those still inside are iterated, so a step costs less as points leave.
    """
    counts = np.full(c.shape, limit, dtype=DTYPE)
    x, y = c.real, c.imag
    q = (x - 0.25) ** 2 + y * y
    never = (q * (q + (x - 0.25)) <= 0.25 * y * y) | ((x + 1) ** 2 + y * y <= 0.0625)
    left = np.flatnonzero(~never)  # which points are still inside
    c = c[left]
    z = np.zeros_like(c)
    for step in range(1, limit + 1):
        z *= z
        z += c
        out = z.real * z.real + z.imag * z.imag > ESCAPE
        if out.any():
            counts[left[out]] = step
            inside = ~out
            z, c, left = z[inside], c[inside], left[inside]
            if left.size == 0:
                break
    return counts


def _injected(frame: Frame, tile: Tile) -> None:
    """The faults a checker asks for: fail this tile, or die rendering it (once)."""
    if tile.index == frame.fail:
        raise TileFailed(f"tile {tile.index} failed")
    if tile.index == frame.kill and frame.tally:
        try:  # only the first worker to get here dies: the tile's second render must live
            os.close(os.open(frame.tally + ".killed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(60)  # the signal arrives before this ends


def tile_pixels(frame: Frame, tile: Tile) -> np.ndarray:
    """Runs in any process: the escape counts of one tile, ``DTYPE``, shaped like it."""
    _injected(frame, tile)
    step = SPAN / (frame.zoom * frame.width)  # the plane's width of one pixel
    xs = frame.x + (np.arange(tile.left, tile.right) - frame.width / 2 + 0.5) * step
    ys = frame.y - (np.arange(tile.top, tile.bottom) - frame.height / 2 + 0.5) * step
    c = (xs[np.newaxis, :] + 1j * ys[:, np.newaxis]).ravel()
    pixels = escape_counts(c, frame.limit).reshape(tile.bottom - tile.top, tile.right - tile.left)
    if frame.pause:
        time.sleep(frame.pause)
    if frame.tally:
        with open(frame.tally, "a", encoding="ascii") as tally:  # one short write: atomic
            tally.write(f"{tile.index}\n")
    return pixels


def render_tile(frame: Frame, tile: Tile) -> tuple[int, np.ndarray]:
    """Runs in a pool worker: render ``tile``; send back its index and its pixels (pickled)."""
    return tile.index, tile_pixels(frame, tile)


# What a pool's worker keeps from attach_channels: the progress queue, the
# cancel event and the timeline's recorder (each None when not given).
_CHANNELS: dict[str, object] = {"progress": None, "cancel": None, "recorder": None}


def attach_channels(progress: object = None, cancel: object = None, events: object = None) -> None:
    """Runs once in each pool worker, as its initializer: keep the progress queue,
    the cancel ``Event`` and the timeline queue ``events`` for every later task."""
    _CHANNELS["progress"] = progress
    _CHANNELS["cancel"] = cancel
    _CHANNELS["recorder"] = None if events is None else Recorder(events)


def render_into(name: str, frame: Frame, tile: Tile) -> int:
    """Runs in a pool worker: render ``tile`` into the shared image called ``name``.

    Returns the tile's index, or -1 if the cancel event was set and the tile
    was skipped. Puts ``(name, index)`` on the progress queue once the pixels
    are in place (never before): the image's name tells a report of this
    render from a late one of a cancelled render. Records a ``"tile"`` span on
    the timeline.
    """
    cancel, progress, recorder = (_CHANNELS[k] for k in ("cancel", "progress", "recorder"))
    if cancel is not None and cancel.is_set():  # type: ignore[attr-defined]
        return -1
    began = time.monotonic_ns()
    segment = SharedMemory(name=name)  # attach: the name travelled, not the pixels
    try:
        image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
        image[tile.where] = tile_pixels(frame, tile)
        del image  # the view goes before close(), or close() raises BufferError
    finally:
        segment.close()
    if recorder is not None:
        recorder.record("tile", began, time.monotonic_ns())  # type: ignore[attr-defined]
    if progress is not None:
        progress.put((name, tile.index))  # type: ignore[attr-defined]
    return tile.index
