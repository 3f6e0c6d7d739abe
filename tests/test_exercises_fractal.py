"""Tests for `helpers.exercises.fractal`: each stage's checker passes a right program and
names each typical mistake, under the start method chosen by COURSE_START_METHOD."""

from __future__ import annotations

import time

import pytest
from support import fractal as programs

from helpers.exercises.fractal import (
    check_cancel,
    check_kill,
    check_pool,
    check_progress,
    check_serial,
    check_shared,
)

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

# A checker must answer well within its own limit (a program that hangs is given 10 s here).
ANSWERED_WITHIN = 45.0
HANG = 10.0


def verdict(check, program, **options):
    began = time.monotonic()
    answer = check(program, **options)
    assert time.monotonic() - began < ANSWERED_WITHIN
    return repr(answer)


@pytest.mark.parametrize(
    ("check", "program", "expected"),
    [
        (check_serial, programs.serial_right, "✔ all 37,500 pixels of a 250 × 150 image are right"),
        (check_pool, programs.pool_right, "✔ the pool's image equals the serial render"),
        (check_shared, programs.shared_right, "✔ the shared image equals the serial render"),
        (check_progress, programs.progress_right, "✔ all 6 tiles were reported once"),
        (check_cancel, programs.cancel_right, "✔ the first render stopped with "),
        (check_kill, programs.kill_right, "✔ a worker was killed while rendering tile 2"),
    ],
    ids=["serial", "pool", "shared", "progress", "cancel", "kill"],
)
@pytest.mark.worked_answer  # notebook 10 runs each checker on its own worked answer
def test_right_programs_pass(check, program, expected):
    assert verdict(check, program).startswith(expected)


@pytest.mark.parametrize(
    ("check", "program", "expected"),
    [
        (
            check_serial,
            programs.serial_whole_tiles_only,
            "✘ 4 tile(s) never reached the image: tile 2 is blank",
        ),
        (
            check_serial,
            programs.serial_width_first,
            "✘ the image has shape (250, 150), not (150, 250)",
        ),
        (check_serial, programs.serial_floats, "✘ the image holds float64, not uint16"),
        (
            check_pool,
            programs.pool_hides_failures,
            "✘ tile 3 raised in a worker, and your program returned an image",
        ),
        (
            check_pool,
            programs.pool_pastes_in_finishing_order,
            "✘ tile 0 (rows 0–100, columns 0–100) holds other pixels",
        ),
        pytest.param(  # the platform's default: fork on Linux before 3.14, which 3.12+ warns of
            check_pool,
            programs.pool_without_ctx,
            "✘ your ProcessPoolExecutor was created without ctx",
            marks=pytest.mark.filterwarnings("ignore:This process .* is multi-threaded"),
        ),
        (check_shared, programs.pool_right, "✘ your tasks sent"),
        (
            check_shared,
            programs.shared_unlinks_only_on_success,
            "✘ tile 3 raised, and your program left its shared memory behind",
        ),
        (
            check_shared,
            programs.shared_returns_a_view,
            "✘ your program returned a view into the shared memory",
        ),
        (check_progress, programs.progress_reports_too_early, "✘ tile "),
        (
            check_progress,
            programs.progress_only_at_the_end,
            "✘ the first tile was reported once the whole image was done",
        ),
        (
            check_cancel,
            programs.cancel_never_sets_the_event,
            "✘ all 12 tiles of the first render were drawn",
        ),
        (check_cancel, programs.cancel_counts_stale_reports, "✘ "),
        (
            check_kill,
            programs.kill_gives_up,
            "✘ a worker was killed and your program gave up with BrokenProcessPool",
        ),
        (check_kill, programs.kill_lost_tiles_stay_blank, "✘ a worker was killed and "),
    ],
)
@pytest.mark.slow  # each starts a process pool and injects a fault (a second or two apiece)
def test_wrong_programs_are_named(check, program, expected):
    assert verdict(check, program).startswith(expected)


@pytest.mark.slow  # waits out a program stuck on purpose
def test_a_progress_loop_that_waits_for_ever_is_named():
    answer = verdict(check_progress, programs.progress_waits_for_ever, timeout=HANG)
    assert answer.startswith("✘ tile 3 raised in a worker and its report never came")


def test_not_a_function_is_refused():
    assert repr(check_kill(42)).startswith("✘ pass your function itself")
