"""Tests for `helpers.exercises.remote`: the reference board passes, each mistake gets its hint.

The boards are in `tests/support/remote.py` (a spawned server must import them).
Run under each start method via COURSE_START_METHOD.
"""

from __future__ import annotations

import pytest
from support import remote as programs

from helpers.exercises.remote import check_job_board


def test_run_program_can_leave_dev_shm_alone():
    """A checker of a TCP program must not blame (or remove) another program's segment."""
    from multiprocessing import shared_memory

    from helpers.checking import run_program

    made = []

    def someone_elses_segment():
        made.append(shared_memory.SharedMemory(create=True, size=16))

    run = run_program(someone_elses_segment, shared_memory=False)
    try:
        assert run.leftover_segments == []
        assert shared_memory.SharedMemory(name=made[0].name).size >= 16  # still there
    finally:
        made[0].close()
        made[0].unlink()


# --- exercise 1: a job board that survives a client killed mid-request ------------------

BOARD_OK = (
    "✔ a client was killed holding a job, mid-request; the server kept answering, handed "
    "that job out again after its lease, and all 8 jobs were finished"
)


@pytest.mark.slow
def test_the_reference_board_survives_a_killed_client():
    assert repr(check_job_board(programs.BoardManager)) == BOARD_OK


@pytest.mark.slow
@pytest.mark.parametrize(
    ("manager_class", "hint"),
    [
        (programs.NoLeaseManager, "never handed it out again"),
        (programs.HastyManager, "all_done() must stay False while a job is still out"),
    ],
    ids=["no-lease", "hasty-all-done"],
)
def test_a_board_that_loses_the_killed_clients_job_is_named(manager_class, hint):
    message = repr(check_job_board(manager_class, timeout=5))
    assert message.startswith("✘") and hint in message, message


def test_a_board_is_refused_before_any_server_starts():
    assert "no 'Board' registered" in repr(check_job_board(programs.NoBoardManager))
    assert "pass your manager class itself" in repr(check_job_board(programs.Board))
