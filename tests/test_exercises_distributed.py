"""Tests for `helpers.exercises.distributed`: the reference passes, each mistake gets its hint."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from support import distributed as programs

from helpers.distributed import close, connect
from helpers.exercises.distributed import check_safe_to_rerun


@pytest.fixture(scope="module")
def client():
    connected = connect()
    yield connected
    close(connected)


@pytest.fixture(scope="module")
def one_worker():
    """A cluster of one worker, for a task that fails before the checker kills anything:
    the second worker, another process importing Dask, has nothing to do there."""
    connected = connect(workers=1)
    yield connected
    close(connected)


# --- exercise 2: a task that is safe to run twice, while a worker is killed ---------------


@pytest.mark.slow
def test_an_idempotent_task_survives_the_killed_worker(client):
    verdict = check_safe_to_rerun(programs.record_square, client)
    assert verdict.passed, verdict.message


@pytest.mark.slow
def test_an_appending_task_is_named_after_the_rerun(client):
    verdict = check_safe_to_rerun(programs.record_square_appending, client)
    assert not verdict.passed and "'3,9' 2 times" in verdict.message, verdict.message


def test_the_client_must_be_passed():
    verdict = check_safe_to_rerun(programs.record_square, "client")
    assert not verdict.passed and "pass the notebook's Dask client too" in verdict.message


def test_a_failing_task_is_reported(one_worker):
    verdict = check_safe_to_rerun(programs.record_square_raising, one_worker, timeout=20)
    assert not verdict.passed and "the disk is full" in verdict.message, verdict.message
