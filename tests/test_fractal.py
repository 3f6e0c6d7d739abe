"""Tests for `helpers.fractal` and `helpers.workers.fractal`: frames refused before any
process starts, tiles that cover the image, and the renderer's image equal to the serial
one pixel for pixel — after a cancel, a failing tile and a killed worker too."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from helpers import fractal
from helpers.context import get_context
from helpers.fractal import (
    DEFAULT_FRAME,
    Frame,
    Renderer,
    RenderFailed,
    frame,
    render_serial,
    tiles,
)

SMALL = Frame(-0.75, 0.0, 1.0, width=300, height=200, limit=60)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"zoom": 0}, ValueError, "zoom must be more than 0, not 0"),
        ({"zoom": -2}, ValueError, "zoom must be more than 0, not -2"),
        ({"zoom": float("nan")}, TypeError, "zoom must be a finite number"),
        (
            {"width": 5000, "height": 5000},
            ValueError,
            "an image of 5,000 × 5,000 = 25,000,000 pixels is too big",
        ),
        ({"width": 0}, ValueError, "width must be at least 1"),
        ({"limit": 10**6}, ValueError, "limit must be at most 5000"),
        ({"x": "1"}, TypeError, "x must be a finite number, not str"),
    ],
)
def test_bad_frames_are_refused_before_any_process_starts(options, error, message):
    with pytest.raises(error, match=message):
        frame(**options)


def test_too_many_workers_are_refused_before_any_process_starts():
    with pytest.raises(ValueError, match="workers must be at most 8, not 9"):
        Renderer(get_context(), workers=9)
    assert fractal.require_workers(8) == 8


def test_the_default_frame_is_the_one_frame_gives():
    assert frame() == DEFAULT_FRAME


@pytest.mark.parametrize(("width", "height"), [(600, 400), (250, 150), (99, 1), (1, 1)])
def test_tiles_cover_every_pixel_once(width, height):
    seen = np.zeros((height, width), dtype=int)
    for index, tile in enumerate(tiles(Frame(0, 0, 1, width, height, 10))):
        assert tile.index == index
        seen[tile.where] += 1
    assert (seen == 1).all()


def test_every_pixel_is_a_count_from_one_to_the_limit():
    image = render_serial(SMALL)
    assert image.dtype == np.uint16
    assert image.min() >= 1
    assert image.max() == SMALL.limit  # the set itself never escapes
    assert (image < SMALL.limit).any()


def test_a_tile_comes_out_the_same_whatever_the_tiling():
    whole = fractal.tile_pixels(SMALL, fractal.Tile(0, 0, SMALL.height, 0, SMALL.width))
    assert np.array_equal(whole, render_serial(SMALL))


def test_first_difference_names_the_blank_tile_and_the_shape():
    reference = render_serial(SMALL)
    broken = reference.copy()
    broken[tiles(SMALL)[4].where] = 0
    assert fractal.first_difference(broken, reference, SMALL) == (
        "1 tile(s) never reached the image: tile 4 is blank"
    )
    assert fractal.first_difference(reference.T, reference, SMALL).startswith(
        "the image has shape (300, 200), not (200, 300)"
    )
    assert fractal.first_difference(reference, reference, SMALL) is None


@pytest.mark.uses_dev_shm  # the renderer's image is a segment
def test_the_renderer_equals_the_serial_render_and_records_each_tile(tmp_path):
    with Renderer(get_context(), workers=2) as renderer:
        arrived = []
        done = renderer.render(SMALL, on_tile=lambda index, image: arrived.append(index))
        assert np.array_equal(done.image, render_serial(SMALL))
        assert sorted(arrived) == list(range(len(tiles(SMALL))))
        assert len(done.events) == len(tiles(SMALL))
        assert str(done).startswith(
            "300 × 200 pixels, zoom 1, limit 60: 6 tiles on 2 worker(s) in "
        )
        assert done.draw_timeline().axes[0].get_title() == "Which worker rendered which tile, when"


@pytest.mark.uses_dev_shm  # the renderer's image is a segment
def test_a_failing_tile_is_reported_and_a_killed_worker_is_replaced(tmp_path):
    with Renderer(get_context(), workers=2) as renderer:
        with pytest.raises(
            RenderFailed, match="tile 3 failed in a worker: TileFailed: tile 3 failed"
        ):
            renderer.render(SMALL._replace(fail=3))
        killed = SMALL._replace(kill=1, tally=str(tmp_path / "tally"))
        done = renderer.render(killed)
        assert done.rerendered >= 1
        assert np.array_equal(done.image, render_serial(SMALL))
        assert os.path.exists(killed.tally + ".killed")


@pytest.mark.uses_dev_shm  # the renderer's image is a segment
def test_a_new_render_cancels_the_one_under_way(tmp_path):
    slow = SMALL._replace(pause=0.3, tally=str(tmp_path / "tally"))
    other = Frame(-0.1, 0.8, 4.0, width=300, height=200, limit=60)
    with Renderer(get_context(), workers=2) as renderer:
        renderer.warm_up()
        renderer.start(slow)
        time.sleep(0.1)
        done = renderer.render(other)  # cancels the slow one first
        assert np.array_equal(done.image, render_serial(other))
    with open(slow.tally) as tally:
        assert len(tally.read().split()) < len(tiles(slow))


@pytest.mark.slow  # starts a pool twice and a renderer
@pytest.mark.uses_dev_shm
def test_compare_designs_says_which_prediction_held():
    designs = fractal.compare_designs(get_context(), SMALL, workers=2, repeats=1)
    lines = designs.lines()
    assert len(lines) == 4
    assert lines[2].startswith("lesson 05: starting processes costs milliseconds, so reuse them — ")
    assert ("— held" in lines[3]) == (designs.shared < designs.warm_pool)


@pytest.mark.slow  # starts a local Dask cluster
@pytest.mark.uses_dev_shm
def test_the_same_tiles_on_dask_give_the_same_image():
    from helpers import distributed

    client = distributed.connect()
    try:
        assert np.array_equal(fractal.render_on_dask(client, SMALL), render_serial(SMALL))
    finally:
        distributed.close(client)
