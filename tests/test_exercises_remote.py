"""Tests for `helpers.exercises.remote`: the reference program passes, each mistake gets its hint.

The wrong programs are in `remote_programs.py` (their clients must be importable
by a spawned child). Run under each start method via COURSE_START_METHOD.
"""

from __future__ import annotations

import time

import pytest
import remote_programs as programs

from helpers.exercises.remote import check_job_board, check_squares_over_tcp


@pytest.mark.timeout(120)
@pytest.mark.worked_answer
def test_the_reference_program_passes(ctx):
    verdict = check_squares_over_tcp(programs.reference)
    assert verdict.passed, verdict.message
    assert "all 12 squares" in verdict.message


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.registers_a_lambda, "is registered with a lambda"),
        (programs.binds_every_interface, "would listen on '0.0.0.0'"),
        (programs.never_shuts_down, "never called manager.shutdown()"),
        pytest.param(  # waits out the client that never gets a sentinel, on purpose
            programs.one_sentinel_for_all, "one None per client", marks=pytest.mark.slow
        ),
        (programs.returns_the_proxy, "returned a proxy"),
        (programs.one_client_only, "started 1 client process(es), asked for 2"),
    ],
    ids=lambda value: getattr(value, "__name__", "hint"),
)
@pytest.mark.timeout(120)
def test_each_typical_mistake_gets_its_own_hint(ctx, program, hint):
    verdict = check_squares_over_tcp(program)
    assert not verdict.passed
    assert hint in verdict.message, verdict.message


@pytest.mark.slow  # waits 15 s for clients that never stop, on purpose
@pytest.mark.timeout(120)
def test_clients_waiting_forever_for_a_sentinel_are_named_and_stopped(ctx):
    verdict = check_squares_over_tcp(programs.one_sentinel_and_patient_clients, timeout=15)
    assert not verdict.passed
    assert "did not finish within 15 s" in verdict.message
    # Usually the specific hint; now and then (not yet understood) only the general one
    # for a stuck program, which also points at a missing sentinel.
    assert "put one None per client" in verdict.message or "sentinel" in verdict.message
    # Stopped clients may take a moment to be reaped on a busy machine; none may stay.
    deadline = time.monotonic() + 10
    while ctx.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ctx.active_children() == []


def test_the_lambda_is_named_even_where_fork_would_hide_it(ctx):
    # Refused before the server starts, under every start method alike.
    assert (
        "register a module-level function"
        in check_squares_over_tcp(programs.registers_a_lambda).message
    )


def test_a_called_function_is_not_a_program():
    verdict = check_squares_over_tcp(42)
    assert verdict.message == (
        "pass your function itself, e.g. check_squares_over_tcp(squares_over_tcp), not a int"
    )


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
