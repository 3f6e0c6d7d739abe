"""Programs a learner might write for lesson 10's stages: right ones and wrong ones.

Test-only: `tests/test_exercises_fractal.py` hands each to a checker. The
workers are top-level functions here, so a spawned pool worker can import them,
just as it imports a learner's ``my_fractal_10.py``.
"""

from __future__ import annotations

import queue
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.shared_memory import SharedMemory

import numpy as np

from helpers.fractal import DTYPE, TILE, Tile, tile_pixels, tiles

TIMEOUT = 60

# --- workers (run in pool workers) ---------------------------------------------------


def pixels_of(frame, tile):
    return tile.index, tile_pixels(frame, tile)


def write_tile(name, frame, tile):
    segment = SharedMemory(name=name)
    try:
        image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
        image[tile.where] = tile_pixels(frame, tile)
        del image
    finally:
        segment.close()
    return tile.index


_CHANNELS = {}


def keep_channels(progress, cancel=None):
    _CHANNELS["progress"], _CHANNELS["cancel"] = progress, cancel


def write_and_report(name, frame, tile):
    if _CHANNELS.get("cancel") is not None and _CHANNELS["cancel"].is_set():
        return -1
    write_tile(name, frame, tile)
    _CHANNELS["progress"].put(tile.index)
    return tile.index


def report_then_write(name, frame, tile):
    _CHANNELS["progress"].put(tile.index)  # too early: the pixels are not there yet
    return write_tile(name, frame, tile)


# --- stage 1: serial ------------------------------------------------------------------


def serial_right(frame):
    image = np.zeros(frame.shape, dtype=DTYPE)
    index = 0
    for top in range(0, frame.height, TILE):
        for left in range(0, frame.width, TILE):
            tile = Tile(
                index, top, min(top + TILE, frame.height), left, min(left + TILE, frame.width)
            )
            image[tile.where] = tile_pixels(frame, tile)
            index += 1
    return image


def serial_whole_tiles_only(frame):
    image = np.zeros(frame.shape, dtype=DTYPE)
    index = 0
    for top in range(0, frame.height - TILE + 1, TILE):  # stops before the narrower edge tiles
        for left in range(0, frame.width - TILE + 1, TILE):
            tile = Tile(index, top, top + TILE, left, left + TILE)
            image[tile.where] = tile_pixels(frame, tile)
            index += 1
    return image


def serial_width_first(frame):
    image = np.zeros((frame.width, frame.height), dtype=DTYPE)  # rows and columns swapped
    for tile in tiles(frame):
        image[tile.left : tile.right, tile.top : tile.bottom] = tile_pixels(frame, tile).T
    return image


def serial_floats(frame):
    image = np.zeros(frame.shape)  # float64, not the counts' own type
    for tile in tiles(frame):
        image[tile.where] = tile_pixels(frame, tile)
    return image


# --- stage 2: a pool, pixels sent back ------------------------------------------------


def pool_right(ctx, frame, workers):
    image = np.zeros(frame.shape, dtype=DTYPE)
    by_index = tiles(frame)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(pixels_of, frame, tile) for tile in by_index]
        for future in as_completed(futures, timeout=TIMEOUT):
            index, pixels = future.result()
            image[by_index[index].where] = pixels
    return image


def pool_hides_failures(ctx, frame, workers):
    image = np.zeros(frame.shape, dtype=DTYPE)
    by_index = tiles(frame)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(pixels_of, frame, tile) for tile in by_index]
        for future in as_completed(futures, timeout=TIMEOUT):
            try:
                index, pixels = future.result()
            except Exception:
                continue  # a failed tile is quietly left blank
            image[by_index[index].where] = pixels
    return image


def pool_pastes_in_finishing_order(ctx, frame, workers):
    image = np.zeros(frame.shape, dtype=DTYPE)
    by_index = tiles(frame)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(pixels_of, frame, tile) for tile in reversed(by_index)]
        for tile, future in zip(
            by_index, futures, strict=True
        ):  # pairs tile 0 with the last tile's pixels
            image[tile.where] = future.result(timeout=TIMEOUT)[1]
    return image


def pool_without_ctx(ctx, frame, workers):
    image = np.zeros(frame.shape, dtype=DTYPE)
    by_index = tiles(frame)
    with ProcessPoolExecutor(workers) as pool:
        for index, pixels in pool.map(
            pixels_of, [frame] * len(by_index), by_index, timeout=TIMEOUT
        ):
            image[by_index[index].where] = pixels
    return image


# --- stage 3: one shared image ---------------------------------------------------------


def shared_right(ctx, frame, workers):
    segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
    try:
        image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
        image[:] = 0
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(write_tile, segment.name, frame, t) for t in tiles(frame)]
            for future in futures:
                future.result(timeout=TIMEOUT)
        result = image.copy()
        del image
        return result
    finally:
        segment.close()
        segment.unlink()


def shared_unlinks_only_on_success(ctx, frame, workers):
    segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
    image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(write_tile, segment.name, frame, t) for t in tiles(frame)]
        for future in futures:
            future.result(timeout=TIMEOUT)  # raises for a failed tile: the unlink below never runs
    result = image.copy()
    del image
    segment.close()
    segment.unlink()
    return result


def shared_returns_a_view(ctx, frame, workers):
    segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
    image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for future in [pool.submit(write_tile, segment.name, frame, t) for t in tiles(frame)]:
                future.result(timeout=TIMEOUT)
        return image  # a view into memory about to be unlinked
    finally:
        segment.unlink()


# --- stage 4: progress through a queue -------------------------------------------------


def _with_progress(ctx, frame, workers, on_tile, worker, *, patient=True):
    progress = ctx.Queue()
    segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
    image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
    try:
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=keep_channels, initargs=(progress,)
        ) as pool:
            futures = [pool.submit(worker, segment.name, frame, t) for t in tiles(frame)]
            reported = 0
            while reported < len(futures):
                if patient:
                    try:
                        index = progress.get(timeout=0.05)
                    except queue.Empty:
                        for future in futures:
                            if future.done():
                                future.result()  # a failed tile raises here
                        continue
                else:
                    index = progress.get()  # waits for ever if a tile never reports
                on_tile(index, image)
                reported += 1
        return image.copy()
    finally:
        del image
        segment.close()
        segment.unlink()
        progress.close()
        progress.join_thread()


def progress_right(ctx, frame, workers, on_tile):
    return _with_progress(ctx, frame, workers, on_tile, write_and_report)


def progress_waits_for_ever(ctx, frame, workers, on_tile):
    return _with_progress(ctx, frame, workers, on_tile, write_and_report, patient=False)


def progress_reports_too_early(ctx, frame, workers, on_tile):
    return _with_progress(ctx, frame, workers, on_tile, report_then_write)


def progress_only_at_the_end(ctx, frame, workers, on_tile):
    image = shared_right(ctx, frame, workers)
    for tile in tiles(frame):
        on_tile(tile.index, image)
    return image


# --- stage 5: cancel with an Event -----------------------------------------------------


def _cancelling(ctx, first, second, workers, *, set_event=True, wait_for_old=True):
    progress, cancel = ctx.Queue(), ctx.Event()
    size = first.width * first.height * 2
    segment = SharedMemory(create=True, size=size)
    image = np.ndarray(first.shape, dtype=DTYPE, buffer=segment.buf)
    try:
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=keep_channels, initargs=(progress, cancel)
        ) as pool:
            old = [pool.submit(write_and_report, segment.name, first, t) for t in tiles(first)]
            progress.get(timeout=TIMEOUT)  # the first tile of the first render is in
            if set_event:
                cancel.set()
            if wait_for_old:
                wait(old, timeout=TIMEOUT)
                while True:  # drop the old render's reports
                    try:
                        progress.get(timeout=0.2)
                    except queue.Empty:
                        break
            cancel.clear()
            image[:] = 0
            new = [pool.submit(write_and_report, segment.name, second, t) for t in tiles(second)]
            for _ in new:
                progress.get(timeout=TIMEOUT)
            result = image.copy()
        return result
    finally:
        del image
        segment.close()
        segment.unlink()
        progress.close()
        progress.join_thread()


def cancel_right(ctx, first, second, workers):
    return _cancelling(ctx, first, second, workers)


def cancel_never_sets_the_event(ctx, first, second, workers):
    return _cancelling(ctx, first, second, workers, set_event=False)


def cancel_counts_stale_reports(ctx, first, second, workers):
    return _cancelling(ctx, first, second, workers, wait_for_old=False)


# --- stage 6: a worker dies ------------------------------------------------------------


def _surviving(ctx, frame, workers, *, retry=True):
    segment = SharedMemory(create=True, size=frame.width * frame.height * 2)
    try:
        image = np.ndarray(frame.shape, dtype=DTYPE, buffer=segment.buf)
        image[:] = 0
        left = tiles(frame)
        for _attempt in range(3):
            lost = []
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                futures = {pool.submit(write_tile, segment.name, frame, t): t for t in left}
                for future, tile in futures.items():
                    try:
                        future.result(timeout=TIMEOUT)
                    except BrokenProcessPool:
                        lost.append(tile)
            if not lost or not retry:
                break
            left = lost
        result = image.copy()
        del image
        return result
    finally:
        segment.close()
        segment.unlink()


def kill_right(ctx, frame, workers):
    return _surviving(ctx, frame, workers)


def kill_lost_tiles_stay_blank(ctx, frame, workers):
    return _surviving(ctx, frame, workers, retry=False)


def kill_gives_up(ctx, frame, workers):
    return shared_right(ctx, frame, workers)
