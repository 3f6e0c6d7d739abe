"""Tests for `helpers.shared_memory` and `examples/forget_unlink.py`."""

from __future__ import annotations

import multiprocessing
import re
import signal
import subprocess
import sys
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import numpy as np
import pytest

from helpers import shared_memory as sm
from helpers.running import run, start, wait
from helpers.validation import require_shm_room

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

ROOT = Path(__file__).resolve().parent.parent
LEAK_WARNING = re.compile(
    r"resource_tracker: There appear to be 1 leaked shared_memory objects to clean up at shutdown"
)


@pytest.fixture
def segment():
    """A fresh 64-byte segment, closed and unlinked after the test whatever happens."""
    shm = SharedMemory(create=True, size=64)
    yield shm
    shm.close()
    try:
        shm.unlink()
    except FileNotFoundError:  # the test unlinked it itself
        pass


def test_a_child_squares_an_array_in_place_by_name(ctx, segment):
    array = np.ndarray((4,), dtype=np.int64, buffer=segment.buf)
    array[:] = [1, 2, 3, 4]
    run(ctx, sm.square_in_place, segment.name, (4,), "int64")
    assert array.tolist() == [1, 4, 9, 16]
    del array


def test_square_on_a_child_leaves_no_segment(ctx):
    before = sm.segments()
    assert sm.square_on_a_child(ctx, [5, -6]) == [25, 36]
    assert sm.segments() - before == set()


def test_close_with_a_live_frombuffer_view_raises_buffer_error(segment):
    view = np.frombuffer(segment.buf, dtype=np.int64)
    with pytest.raises(BufferError, match="cannot close exported pointers exist"):
        segment.close()
    del view
    segment.close()


def test_close_under_a_live_ndarray_view_kills_the_reader(ctx, segment):
    # NumPy 2: np.ndarray(buffer=shm.buf) holds the mmap, not an export of it.
    closed = ctx.Event()
    child = ctx.Process(target=sm.read_after_close, args=(segment.name, closed))
    child.start()
    child.join(30)
    assert closed.is_set()
    assert child.exitcode == -signal.SIGSEGV


def test_unlink_removes_the_name_but_not_the_memory(ctx, segment):
    attached, unlinked = ctx.Event(), ctx.Event()
    child = start(ctx, sm.write_after_unlink, segment.name, attached, unlinked, 10.0)
    try:
        assert attached.wait(30)
        segment.unlink()
        if multiprocessing.get_all_start_methods() == ["spawn"]:
            # Windows (the one system with spawn alone): unlink() does nothing, and the
            # name lasts until the last handle closes.
            SharedMemory(name=segment.name).close()
        else:
            with pytest.raises(FileNotFoundError):
                SharedMemory(name=segment.name)
    finally:
        unlinked.set()  # the child finishes whatever the test found
        wait([child], timeout=30)
    assert int(np.ndarray((1,), dtype=np.int64, buffer=segment.buf)[0]) == 42


def test_parallel_transform_gives_the_same_result_for_any_number_of_children(ctx):
    one = sm.parallel_transform(ctx, 1, 1, rounds=2)
    three = sm.parallel_transform(ctx, 1, 3, rounds=2)
    assert one.checksum == three.checksum
    assert sorted((e.process, e.what) for e in three.events) == [
        pair
        for k in range(3)
        for pair in [
            (f"child-{k}", "wait"),
            (f"child-{k}", "work"),
            (f"child-{k}: CPU time", "cpu time"),
        ]
    ] + [("notebook", "join"), ("notebook", "start")]
    assert 0 < three.cpus <= 3.5
    assert all(three.t0 <= e.start <= e.end for e in three.events)
    assert one.overlap == 1 and 1 <= three.overlap <= 3
    # The serial parts and the work add up to the whole run, from start to join.
    for whole in (one, three):
        parts = whole.serial_seconds + whole.work_seconds
        assert whole.work_seconds < whole.seconds and abs(parts - whole.seconds) < 1e-6


@pytest.fixture(scope="module")
def comparison(ctx):
    """One run of 1 child against 2, for the tests that read a comparison: its 3 children
    and their arrays were most of each test's time."""
    return sm.compare(ctx, 1, 2, repeats=1, rounds=2)


def test_comparison_speedups_compare_like_with_like(comparison):
    one, two = comparison.best
    assert comparison.speedup == one.work_seconds / two.work_seconds
    assert comparison.overall == one.seconds / two.seconds
    share = one.serial_seconds / one.seconds
    assert comparison.amdahl == pytest.approx(1 / (share + (1 - share) / 2))
    assert "Amdahl's law" in str(comparison)


def test_slices_cover_the_array_exactly_once():
    assert sm._slices(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert sm._slices(2, 3) == [(0, 1), (1, 2), (2, 2)]


def test_comparison_reports_a_speed_up_and_draws(comparison):
    assert comparison.same_result
    seconds = r"work [\d.]+ s \+ start and join [\d.]+ s = [\d.]+ s in all"
    assert re.fullmatch(
        rf"1 child: +{seconds}\n2 children: +{seconds}\n"
        r"the work alone: [\d.]+× as fast, with [\d.]+ CPUs busy during it\n"
        r"start to join: [\d.]+× as fast; Amdahl's law, with the serial \d+% of the "
        r"1-child run, allows at most [\d.]+×\n\(best of 1 runs each\)",
        str(comparison),
    )
    bars, timeline = sm.draw_comparison(comparison)
    assert len(bars.axes) == 1 and len(timeline.axes) == 1


@pytest.mark.parametrize(
    ("size", "children", "error", "message"),
    [
        (0, 2, ValueError, "size_mib must be at least 1, not 0"),
        (16, 0, ValueError, "children must be at least 1, not 0"),
        (16, 9, ValueError, "children must be at most 8, not 9"),
        ("16", 2, TypeError, "size_mib must be a whole number, not str '16'"),
    ],
)
def test_the_playground_refuses_bad_choices_before_creating_anything(
    ctx, size, children, error, message
):
    before = sm.segments()
    with pytest.raises(error, match=re.escape(message)):
        sm.playground(ctx, size, children)
    assert sm.segments() == before


@pytest.mark.needs_dev_shm
def test_require_shm_room_names_what_it_needs_and_what_is_free():
    with pytest.raises(ValueError) as info:
        require_shm_room(10**15, "an array of 953674316 MiB")
    assert re.fullmatch(
        r"an array of 953674316 MiB needs 953,674,316\.4 MiB but /dev/shm has only "
        r"[\d,]+\.\d MiB free: choose a smaller size, or give /dev/shm more room "
        r"\(docker run --shm-size=1g, for example\)",
        str(info.value),
    )


@pytest.mark.needs_dev_shm
def test_in_dev_shm_says_where_the_segment_is(segment):
    assert sm.in_dev_shm(segment.name) == "the segment is in /dev/shm"
    segment.unlink()
    assert sm.in_dev_shm(segment.name, wait=1) == "the segment is not in /dev/shm"


def test_in_dev_shm_says_it_cannot_look_without_the_folder(tmp_path):
    missing = str(tmp_path / "no-such-folder")
    assert sm.in_dev_shm("psm_x", directory=missing).startswith("cannot look: this system has no")


@pytest.mark.needs_dev_shm
def test_wait_until_gone_is_bounded(segment):
    assert not sm.wait_until_gone(segment.name, timeout=0.2)
    segment.unlink()
    assert sm.wait_until_gone(segment.name, timeout=1)


@pytest.mark.needs_dev_shm
@pytest.mark.parametrize("untracked", [False, True], ids=["tracked", "untracked"])
def test_forget_unlink_example(tmp_path, untracked):
    errors = tmp_path / "stderr.txt"
    argv = [sys.executable, "examples/forget_unlink.py"] + (["--untracked"] if untracked else [])
    with errors.open("w") as stderr:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=60,
            check=False,
        )
    name = done.stdout.strip()
    assert done.returncode == 0 and name.startswith("psm_")
    try:
        if untracked:
            assert not sm.wait_until_gone(name, timeout=1)
            assert not LEAK_WARNING.search(errors.read_text())
        else:
            assert sm.wait_until_gone(name, timeout=10)
            assert LEAK_WARNING.search(errors.read_text())
    finally:
        Path("/dev/shm", name).unlink(missing_ok=True)


def test_a_child_importing_the_module_loads_nothing_heavy():
    heavy = ["dataclasses", "inspect", "typing", "numpy", "ipywidgets", "matplotlib"]
    probe = (
        "import sys, helpers.workers.shared_memory\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "[]", done.stderr
