"""Lesson 10 (Fractal explorer): the notebook's side of a parallel Mandelbrot explorer.

The tiles are rendered by the workers of :mod:`helpers.workers.fractal`; this
module checks what the learner asks for (before any process starts), keeps a
pool of workers warm between renders, and puts together stage 3's design
with everything the later stages add:

* the image is one ``shared_memory`` segment: workers write their tiles into
  it and only its *name* travels; the segment is unlinked in a ``finally``;
* each finished tile's index comes back through a ``Queue`` (progress);
* a new render cancels the one under way with an ``Event``, and the event
  is cleared only once every task of the old render has returned, so no
  stale tile reaches the new image;
* a worker that dies breaks the pool: the renderer starts a new one and
  renders the lost tiles again, so the image is still exact;
* a tile whose render raised is reported here, naming the tile.

Lifecycle: ``Renderer(ctx, workers)`` starts nothing; the first render starts
the pool; ``close()`` (or the ``with`` block) shuts it down and drops its
queues. Every wait has a timeout.

>>> from helpers.context import get_context
>>> with Renderer(get_context(), workers=1) as renderer:
...     done = renderer.render(frame(width=60, height=40, limit=20))
>>> bool((done.image == render_serial(done.frame)).all())
True
"""

from __future__ import annotations

import io
import math
import numbers
import pickle
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.shared_memory import SharedMemory
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers import timeline
from helpers.validation import require_context, require_positive_int, require_shm_room
from helpers.workers.fractal import (
    DTYPE,
    SPAN,
    TILE,
    Frame,
    Tile,
    TileFailed,
    attach_channels,
    escape_counts,
    render_into,
    render_tile,
    tile_pixels,
    tiles,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "DEFAULT_FRAME",
    "DTYPE",
    "MAX_LIMIT",
    "MAX_PIXELS",
    "MAX_WORKERS",
    "RENDER_TIMEOUT",
    "SPAN",
    "TILE",
    "Designs",
    "Frame",
    "Render",
    "RenderFailed",
    "Renderer",
    "Tile",
    "TileFailed",
    "attach_channels",
    "colour",
    "compare_designs",
    "escape_counts",
    "explorer",
    "first_difference",
    "frame",
    "pickling_seconds",
    "render_into",
    "render_on_dask",
    "render_serial",
    "render_tile",
    "require_workers",
    "tile_pixels",
    "tiles",
]

# 2,000 × 2,000 pixels: about 8 MB of counts, a few seconds on two CPUs at the
# default limit. Bigger would freeze the notebook (and may not fit /dev/shm).
MAX_PIXELS = 4_000_000
MAX_LIMIT = 5_000  # iterations per pixel; the counts fit DTYPE with room to spare
MAX_WORKERS = 8  # a laptop's handful of CPUs: more workers only queue for them
MAX_ZOOM = 1e12  # past this, float64 runs out of digits and the picture turns to blocks
# How long one render may take before it is given up: a big deep render on a
# loaded laptop takes seconds; a minute means stuck.
RENDER_TIMEOUT = 60.0
# How often the renderer looks for finished tiles on the progress queue.
POLL = 0.02
# How long it waits, once every task has returned, for reports still on their way.
REPORT_GRACE = 2.0
DEFAULT_FRAME = Frame(x=-0.75, y=0.0, zoom=1.0, width=600, height=400, limit=100)


class RenderFailed(RuntimeError):
    """A tile's render raised in a worker; the image is incomplete."""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, not {type(value).__name__} {value!r}")
    return float(value)


def frame(
    x: float = DEFAULT_FRAME.x,
    y: float = DEFAULT_FRAME.y,
    zoom: float = DEFAULT_FRAME.zoom,
    *,
    width: int = DEFAULT_FRAME.width,
    height: int = DEFAULT_FRAME.height,
    limit: int = DEFAULT_FRAME.limit,
) -> Frame:
    """A checked :class:`Frame`: refused here, before any process starts, if it cannot render.

    >>> frame(zoom=0)
    Traceback (most recent call last):
    ...
    ValueError: zoom must be more than 0, not 0 (1 shows the whole set; 2 is twice as close)
    """
    x, y, zoom = _number(x, "x"), _number(y, "y"), _number(zoom, "zoom")
    if zoom <= 0:
        raise ValueError(
            f"zoom must be more than 0, not {zoom:g} (1 shows the whole set; 2 is twice as close)"
        )
    if zoom > MAX_ZOOM:
        raise ValueError(
            f"zoom must be at most {MAX_ZOOM:g}, not {zoom:g}: float64 runs out of digits"
        )
    width = require_positive_int(width, "width")
    height = require_positive_int(height, "height")
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"an image of {width:,} × {height:,} = {width * height:,} pixels is too big: "
            f"at most {MAX_PIXELS:,} pixels (2,000 × 2,000)"
        )
    limit = require_positive_int(limit, "limit", maximum=MAX_LIMIT)
    return Frame(x, y, zoom, width, height, limit)


def require_workers(workers: Any) -> int:
    """Return ``workers`` if it is a whole number from 1 to :data:`MAX_WORKERS`."""
    return require_positive_int(workers, "workers", maximum=MAX_WORKERS)


def render_serial(frame: Frame) -> np.ndarray:
    """The reference: every tile of ``frame`` in this process, one after the other
    (with none of the faults a frame may carry)."""
    frame = Frame(*frame[:6])
    image = np.zeros(frame.shape, dtype=DTYPE)
    for tile in tiles(frame):
        image[tile.where] = tile_pixels(frame, tile)
    return image


def first_difference(image: Any, reference: np.ndarray, frame: Frame) -> str | None:
    """What is wrong with ``image`` against ``reference``, in a sentence; None if they are equal.

    Names the shape or dtype first, then the first tile whose pixels differ,
    saying whether it was left blank (0: never written) or holds other pixels.
    """
    if not isinstance(image, np.ndarray):
        return f"the image is a {type(image).__name__}, not a NumPy array"
    if image.shape != reference.shape:
        return (
            f"the image has shape {image.shape}, not {reference.shape}: "
            f"{frame.height} rows × {frame.width} columns, np.zeros((frame.height, frame.width))"
        )
    if image.dtype != reference.dtype:
        return f"the image holds {image.dtype}, not {reference.dtype}: np.zeros(..., dtype=DTYPE)"
    blank = wrong = None
    for tile in tiles(frame):
        mine, theirs = image[tile.where], reference[tile.where]
        if (mine == theirs).all():
            continue
        if (mine == 0).all():
            blank = blank or tile
        else:
            wrong = wrong or tile
    if blank is None and wrong is None:
        return None
    missing = sum(bool((image[t.where] == 0).all()) for t in tiles(frame))
    if blank is not None:
        return f"{missing} tile(s) never reached the image: tile {blank.index} is blank"
    assert wrong is not None
    return (
        f"tile {wrong.index} (rows {wrong.top}–{wrong.bottom}, columns {wrong.left}–"
        f"{wrong.right}) holds other pixels than the serial render"
    )


def pickling_seconds(image: np.ndarray, frame: Frame) -> float:
    """How long pickling and unpickling every tile's pixels takes here: what a pool
    pays to send them back, beside the render."""
    began = time.perf_counter()
    for tile in tiles(frame):
        pickle.loads(pickle.dumps((tile.index, image[tile.where]), pickle.HIGHEST_PROTOCOL))
    return time.perf_counter() - began


# --------------------------------------------------------------------------
# Stage 3's design, with progress, cancel and recovery: the explorer's engine
# --------------------------------------------------------------------------


@dataclass
class Render:
    """One finished render: the image, and what it took."""

    frame: Frame
    image: np.ndarray = field(repr=False)
    seconds: float
    workers: int
    tiles: int
    rerendered: int = 0  # tiles rendered again after a worker died
    events: list[timeline.Event] = field(default_factory=list, repr=False)
    t0: int = 0  # timeline.now() when the render began

    def __str__(self) -> str:
        again = (
            f"; {self.rerendered} tile(s) rendered again after a worker died"
            if self.rerendered
            else ""
        )
        return (
            f"{self.frame.width} × {self.frame.height} pixels, zoom {self.frame.zoom:g}, "
            f"limit {self.frame.limit}: {self.tiles} tiles on {self.workers} worker(s) "
            f"in {self.seconds * 1000:.0f} ms{again}"
        )

    def draw_timeline(self, title: str = "Which worker rendered which tile, when") -> Any:
        """Each worker's tiles on the course's timeline (one row per worker)."""
        names = timeline.processes(self.events)
        figure = timeline.draw(self.events, t0=self.t0, title=title, rows=names)
        figure.axes[0].set_yticks(
            range(len(names)), [f"worker {n}" for n in range(1, len(names) + 1)]
        )
        return figure


@dataclass
class _Job:
    """A render under way: its segment, its tasks, and the tiles reported done."""

    frame: Frame
    segment: SharedMemory
    futures: dict[Future, Tile]
    done: set[int] = field(default_factory=set)


class Renderer:
    """A warm pool of ``workers`` that renders frames into shared memory (stage 3's design).

    ``render(frame)`` returns a :class:`Render` with an exact image, or raises
    :class:`RenderFailed` naming a tile that raised; a worker that died is
    replaced and its tiles rendered again. ``start(frame)`` begins a render
    and returns at once; the next ``start`` or ``render`` cancels it.
    """

    def __init__(self, ctx: Context, workers: int = 2, *, timeout: float = RENDER_TIMEOUT) -> None:
        self.ctx = require_context(ctx, needs=("Queue", "Event"))
        self.workers = require_workers(workers)
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._channels: tuple[Any, Any, Any] | None = None
        self._job: _Job | None = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            progress, cancel, events = self.ctx.Queue(), self.ctx.Event(), self.ctx.Queue()
            self._channels = (progress, cancel, events)
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=self.ctx,
                initializer=attach_channels, initargs=(progress, cancel, events),
            )  # fmt: skip
        return self._pool

    def _drop_pool(self) -> None:
        """Shut the pool down (its workers joined) and let its queues go."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._channels is not None:
            for channel in (self._channels[0], self._channels[2]):
                channel.close()
                channel.join_thread()
            self._channels = None

    def warm_up(self) -> None:
        """Start every worker now, so that the first render does not pay for start-up."""
        pool = self._ensure_pool()
        list(pool.map(time.sleep, [0.05] * self.workers, timeout=self.timeout))

    def start(self, frame: Frame) -> None:
        """Begin rendering ``frame`` (cancelling a render under way) and return at once."""
        if not isinstance(frame, Frame):
            raise TypeError(
                f"frame must be a Frame (from fractal.frame()), not {type(frame).__name__}"
            )
        require_shm_room(frame.width * frame.height * 2, "the image")
        self.cancel()
        pool = self._ensure_pool()
        segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
        try:
            futures = {pool.submit(render_into, segment.name, frame, t): t for t in tiles(frame)}
        except BaseException:
            segment.close()
            segment.unlink()
            raise
        self._job = _Job(frame, segment, futures)

    def cancel(self) -> int:
        """Stop the render under way; return how many of its tiles were rendered.

        Sets the event, waits until every task of that render has returned (the
        skipped ones at once, the ones under way when they finish), and only
        then clears it: a tile still being drawn can no longer land in the next image.
        """
        job, self._job = self._job, None
        if job is None:
            return 0
        try:
            assert self._channels is not None
            self._channels[1].set()
            wait_for(job.futures, timeout=self.timeout)
            self._channels[1].clear()
            return sum(
                1
                for f in job.futures
                if not f.cancelled() and f.exception() is None and f.result() >= 0
            )
        finally:
            job.segment.close()
            job.segment.unlink()

    def render(
        self, frame: Frame, *, on_tile: Callable[[int, np.ndarray], None] | None = None
    ) -> Render:
        """Render ``frame`` and wait for it; ``on_tile(index, image)`` after each tile arrives."""
        t0 = timeline.now()
        began = time.perf_counter()
        self.start(frame)
        job = self._job
        assert job is not None
        self._job = None  # this call finishes it, whatever happens
        image = np.ndarray(frame.shape, dtype=DTYPE, buffer=job.segment.buf)
        try:
            rerendered = self._finish(job, image, on_tile)
            result = image.copy()
        finally:
            del image
            job.segment.close()
            job.segment.unlink()
        seconds = time.perf_counter() - began
        events = self._collect_events(len(job.futures)) if not rerendered else []
        return Render(
            frame, result, seconds, self.workers, len(job.futures), rerendered, events, t0
        )

    def _finish(self, job: _Job, image: np.ndarray, on_tile: Any) -> int:
        """Wait for every tile (progress as it comes); replace a dead pool; return tiles redone."""
        deadline = time.monotonic() + self.timeout
        rerendered = 0
        while True:
            self._take_progress(job, image, on_tile, deadline)
            broken = [
                t for f, t in job.futures.items() if isinstance(f.exception(0), BrokenProcessPool)
            ]
            for future, tile in job.futures.items():
                error = future.exception(0)
                if error is not None and not isinstance(error, BrokenProcessPool):
                    raise RenderFailed(
                        f"tile {tile.index} failed in a worker: {type(error).__name__}: {error}"
                    )
            if not broken:
                return rerendered
            # A worker died: the pool is broken and every task it still held is lost.
            # Start a new pool, and render again the tiles that never arrived.
            self._drop_pool()
            pool = self._ensure_pool()
            rerendered += len(broken)
            job.futures = {
                **{f: t for f, t in job.futures.items() if f.exception(0) is None},
                **{pool.submit(render_into, job.segment.name, job.frame, t): t for t in broken},
            }

    def _take_progress(self, job: _Job, image: np.ndarray, on_tile: Any, deadline: float) -> None:
        """Take tile indexes off the progress queue until every task has returned and
        every tile it drew has been reported (each exactly once)."""
        assert self._channels is not None
        progress = self._channels[0]
        pending = set(job.futures)
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the render did not finish within {self.timeout:g} s")
            _, pending = wait_for(pending, timeout=POLL, return_when=FIRST_COMPLETED)
            self._drain(progress, job, image, on_tile, wait=0.0)
        # A report travels through the worker's feeder thread, so it can arrive after
        # the task's result: wait a moment for the last ones. A report lost with a
        # killed worker is made here: the task returned, so its pixels are in place.
        drawn = {
            t.index for f, t in job.futures.items() if f.exception(0) is None and f.result() >= 0
        }
        grace = time.monotonic() + REPORT_GRACE
        while drawn - job.done and time.monotonic() < grace:
            self._drain(progress, job, image, on_tile, wait=POLL)
        for index in sorted(drawn - job.done):
            self._report(job, index, image, on_tile)

    @staticmethod
    def _report(job: _Job, index: int, image: np.ndarray, on_tile: Any) -> None:
        if index not in job.done:
            job.done.add(index)
            if on_tile is not None:
                on_tile(index, image)

    def _drain(
        self, progress: Any, job: _Job, image: np.ndarray, on_tile: Any, *, wait: float
    ) -> None:
        """Report each tile of this job whose index is on the queue; drop a cancelled job's."""
        while True:
            try:
                image_name, index = progress.get(timeout=wait) if wait else progress.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError):  # a worker died half-way through a put
                return
            if image_name == job.segment.name:
                self._report(job, index, image, on_tile)
            wait = 0.0

    def _collect_events(self, expected: int) -> list[timeline.Event]:
        assert self._channels is not None
        try:
            return timeline.collect(self._channels[2], expected=expected, timeout=5)
        except timeline.TimelineTimeout:
            return []

    def close(self) -> None:
        """Cancel any render under way, shut the pool down and let the queues go."""
        try:
            self.cancel()
        finally:
            self._drop_pool()


# --------------------------------------------------------------------------
# The designs, measured side by side; and the same tiles on Dask
# --------------------------------------------------------------------------


def _best(repeats: int, call: Callable[[], Any]) -> float:
    """The fastest of ``repeats`` timed calls: the run least disturbed by other programs."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return min(times)


def _pool_render(pool: ProcessPoolExecutor, frame: Frame, timeout: float) -> np.ndarray:
    image = np.zeros(frame.shape, dtype=DTYPE)
    by_index = tiles(frame)
    for index, pixels in pool.map(render_tile, [frame] * len(by_index), by_index, timeout=timeout):
        image[by_index[index].where] = pixels
    return image


@dataclass(frozen=True)
class Designs:
    """Seconds per render of one frame, each design the fastest of a few runs."""

    frame: Frame
    workers: int
    serial: float
    cold_pool: float  # a pool started for this render, pixels pickled back (stage 2 as written)
    warm_pool: float  # the same tasks on a pool already running
    shared: float  # stage 3's design on a warm pool: pixels written into shared memory
    pickling: float  # pickling and unpickling every tile's pixels, measured here

    def lines(self) -> list[str]:
        """The measurements as sentences, each verdict computed from its numbers."""
        ms = {
            k: getattr(self, k) * 1000
            for k in ("serial", "cold_pool", "warm_pool", "shared", "pickling")
        }
        size = self.frame.width * self.frame.height * 2 / 2**20
        start_up = "held" if self.cold_pool > self.warm_pool else "did not hold"
        copies = "held" if self.shared < self.warm_pool else "did not hold"
        return [
            f"serial, one process: {ms['serial']:.0f} ms; a warm pool of {self.workers}: "
            f"{ms['warm_pool']:.0f} ms, {self.serial / self.warm_pool:.1f}× the serial speed",
            f"pickling the pixels back ({size:.2f} MiB) costs {ms['pickling']:.1f} ms, "
            f"{self.pickling / self.warm_pool:.1%} of the pool's render",
            f"lesson 05: starting processes costs milliseconds, so reuse them — {start_up}: "
            f"a pool started for the render took {ms['cold_pool']:.0f} ms, a warm one "
            f"{ms['warm_pool']:.0f} ms ({self.cold_pool / self.warm_pool:.1f}×)",
            f"lesson 05: shared memory beats pickling for bulk data — {copies} here: shared image "
            f"{ms['shared']:.0f} ms, pickled pixels {ms['warm_pool']:.0f} ms "
            f"({abs(self.warm_pool - self.shared) / self.warm_pool:.0%} apart; the pixels are only "
            f"{size:.2f} MiB, so the work, not the copy, decides)",
        ]


def compare_designs(ctx: Context, frame: Frame, *, workers: int = 2, repeats: int = 3) -> Designs:
    """Time the serial render, a pool started for one render, a warm pool that pickles
    the pixels back, and stage 3's shared image on a warm pool (fastest of ``repeats``)."""
    require_context(ctx)
    workers = require_workers(workers)
    repeats = require_positive_int(repeats, "repeats", maximum=10)
    reference = render_serial(frame)
    serial = _best(repeats, lambda: render_serial(frame))

    def cold() -> None:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            _pool_render(pool, frame, RENDER_TIMEOUT)

    cold_pool = _best(1, cold)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(time.sleep, [0.05] * workers, timeout=RENDER_TIMEOUT))  # start every worker
        warm_pool = _best(repeats, lambda: _pool_render(pool, frame, RENDER_TIMEOUT))
    with Renderer(ctx, workers) as renderer:
        renderer.warm_up()
        shared = _best(repeats, lambda: renderer.render(frame))
    pickling = _best(repeats, lambda: pickling_seconds(reference, frame))
    return Designs(frame, workers, serial, cold_pool, warm_pool, shared, pickling)


def render_on_dask(client: Any, frame: Frame, *, timeout: float = RENDER_TIMEOUT) -> np.ndarray:
    """The same tiles as Dask tasks: each worker sends its tile's pixels back, and the
    image is put together here, in the client."""
    by_index = tiles(frame)
    futures = client.map(render_tile, [frame] * len(by_index), by_index, pure=False)
    from distributed import wait as wait_on_dask  # only the notebook's process

    wait_on_dask(futures, timeout=timeout)  # raises TimeoutError rather than wait for ever
    image = np.zeros(frame.shape, dtype=DTYPE)
    for index, pixels in client.gather(futures):
        image[by_index[index].where] = pixels
    return image


# --------------------------------------------------------------------------
# Pictures and the explorer widget
# --------------------------------------------------------------------------


def colour(image: np.ndarray, limit: int) -> np.ndarray:
    """RGB bytes for an image of counts: points that never escaped are black."""
    from matplotlib import colormaps  # heavy; only the notebook draws

    drawn = np.maximum(image, 1).astype("float64")  # a tile not drawn yet holds 0
    shade = np.log(drawn) / math.log(max(limit, 2))
    rgb = (colormaps["magma"](shade)[..., :3] * 255).astype("uint8")
    rgb[image >= limit] = 0
    return rgb


def png(image: np.ndarray, limit: int) -> bytes:
    """The image as PNG bytes, for an ``ipywidgets.Image``."""
    from PIL import Image as PILImage  # matplotlib's dependency; parent only

    buffer = io.BytesIO()
    PILImage.fromarray(colour(image, limit)).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def explorer(renderer: Renderer) -> Any:
    """The explorer: centre, zoom, iteration limit and workers, a **Render** button,
    the image, and a line saying how long the render took.

    Press Render to draw what the controls say; nothing starts until then. A
    choice that cannot render is refused with a sentence before any process starts.
    """
    import ipywidgets as widgets  # the notebook's alone

    controls = {
        "x": widgets.FloatText(value=DEFAULT_FRAME.x, description="centre x", step=0.01),
        "y": widgets.FloatText(value=DEFAULT_FRAME.y, description="centre y", step=0.01),
        "zoom": widgets.FloatLogSlider(
            value=1, base=10, min=0, max=6, step=0.1, description="zoom"
        ),
        "limit": widgets.IntSlider(
            value=DEFAULT_FRAME.limit, min=20, max=2000, step=10, description="limit"
        ),
        "workers": widgets.IntSlider(
            value=renderer.workers, min=1, max=MAX_WORKERS, description="workers"
        ),
    }
    button = widgets.Button(description="Render", button_style="primary")
    picture = widgets.Image(format="png", width=DEFAULT_FRAME.width, height=DEFAULT_FRAME.height)
    said = widgets.Output()

    def on_render(_button: Any) -> None:
        said.clear_output()
        with said:
            try:
                view = frame(controls["x"].value, controls["y"].value, controls["zoom"].value,
                             limit=controls["limit"].value)  # fmt: skip
                if controls["workers"].value != renderer.workers:
                    renderer.close()
                    renderer.workers = require_workers(controls["workers"].value)
                done = renderer.render(view)
            except (TypeError, ValueError, RenderFailed) as error:  # refused, or a tile failed
                print("✘", error)
                return
            picture.value = png(done.image, view.limit)
            print(f"rendered {done}")

    button.on_click(on_render)
    return widgets.VBox([*controls.values(), button, picture, said])
