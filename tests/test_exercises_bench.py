"""Tests for `helpers.exercises.bench`: lesson 05's whole-program checkers.

The programs checked live in `tests/support/bench.py`. They run under
the start method of COURSE_START_METHOD (the `ctx` fixture's): run this file
under spawn, fork and forkserver.
"""

from __future__ import annotations

import gc

import pytest
from support import bench as programs

from helpers import dev_shm
from helpers.checking import NO_SHM_DIR
from helpers.exercises.bench import check_move_bytes, pattern

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

SMALL = 256 * 1024  # four pipefuls: enough to block a child nobody reads from


def test_the_pattern_is_the_one_the_task_describes():
    assert pattern(253)[249:] == bytes([249, 250, 0, 1])


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(programs.move_bytes_reference, marks=pytest.mark.worked_answer),
        programs.move_bytes_shared_memory,
    ],
)
def test_right_programs_pass_whichever_channel_they_use(ctx, answer):
    verdict = check_move_bytes(answer)
    assert verdict.passed, verdict.message
    # Where there is no /dev/shm (macOS, Windows) the checker says it could not look.
    left = "nothing left behind" if dev_shm.can_list() else NO_SHM_DIR
    joined = "4 MiB arrived intact and timed; 1 process started and joined"
    assert verdict.message == f"{joined}, {left}"


@pytest.mark.parametrize(
    ("answer", "start_of_hint"),
    [
        pytest.param(  # waits out the stuck join on purpose
            programs.move_bytes_join_first,
            "your program waited in join() for a child that was still sending",
            marks=pytest.mark.slow,
        ),
        (programs.move_bytes_view_kept, "BufferError: cannot close exported pointers exist — "
         "copy the bytes out of the shared memory"),
        (programs.move_bytes_one_chunk, "only 65,536 of 262,144 bytes arrived: keep receiving"),
        (programs.move_bytes_no_time, "return two things, the bytes and the seconds"),
        (programs.move_bytes_never_joined, "1 of 1 process(es) were never joined"),
        (programs.move_bytes_target_called, "process 'ForkProcess-"),
    ],
    ids=["joined first", "view kept", "one chunk", "no time", "never joined", "target=f()"],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_wrong_programs_each_get_their_own_hint(ctx, answer, start_of_hint):
    if answer is programs.move_bytes_target_called:
        start_of_hint = f"process '{type(ctx.Process()).__name__}-"
    verdict = check_move_bytes(answer, size=SMALL, timeout=4)
    gc.collect()  # a SharedMemory whose close() failed complains when collected: here
    assert not verdict.passed
    assert verdict.message.startswith(start_of_hint), verdict.message


def test_a_value_instead_of_a_function_is_refused():
    verdict = check_move_bytes((b"", 0.1))
    assert verdict.message == (
        "pass your function itself, e.g. check_move_bytes(move_bytes), not a tuple"
    )
