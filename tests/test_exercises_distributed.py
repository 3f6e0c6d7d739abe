"""Tests for `helpers.exercises.distributed`: the reference passes, each mistake gets its hint."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

import distributed_programs as programs

from helpers.distributed import close, connect
from helpers.exercises.distributed import check_counts_below, check_safe_to_rerun


@pytest.fixture(scope="module")
def client():
    connected = connect()
    yield connected
    close(connected)


@pytest.mark.parametrize(
    "program",
    [
        pytest.param(programs.reference, marks=pytest.mark.worked_answer),
        programs.with_map,
    ],
)
def test_right_programs_pass(client, program):
    verdict = check_counts_below(program, client)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.ships_the_list_with_every_task, "the whole array went along with 4 task(s)"),
        (programs.ships_it_in_a_closure, "the whole array went along with 4 task(s)"),
        pytest.param(  # 20,000 pieces of data for the scheduler: slow on purpose
            programs.scatters_it_as_a_list,
            "scatters each of its 20,000 items",
            marks=pytest.mark.slow,
            id="scatters_it_as_a_list-hint",
        ),
        (programs.returns_futures, "returned futures"),
        (programs.counts_here, "ran no Dask task"),
        (programs.scatters_in_the_loop, "you scattered 4 times"),
        (programs.sorts_the_counts, "one count per threshold, in the order"),
    ],
    ids=lambda value: getattr(value, "__name__", "hint"),
)
def test_each_typical_mistake_gets_its_own_hint(client, program, hint):
    verdict = check_counts_below(program, client)
    assert not verdict.passed
    assert hint in verdict.message, verdict.message


def test_a_program_that_raises_is_named(client):
    def broken(client, numbers, thresholds):
        raise KeyError("threshold")

    verdict = check_counts_below(broken, client)
    assert verdict.message == "your program raised KeyError: 'threshold'"


def test_the_client_must_be_passed(client):
    verdict = check_counts_below(programs.reference, "client")
    assert not verdict.passed
    assert "pass the notebook's Dask client too" in verdict.message


# --- exercise 2: a task that is safe to run twice, while a worker is killed ---------------


@pytest.mark.slow
def test_an_idempotent_task_survives_the_killed_worker(client):
    verdict = check_safe_to_rerun(programs.record_square, client)
    assert verdict.passed, verdict.message


@pytest.mark.slow
def test_an_appending_task_is_named_after_the_rerun(client):
    verdict = check_safe_to_rerun(programs.record_square_appending, client)
    assert not verdict.passed and "'3,9' 2 times" in verdict.message, verdict.message


def test_a_failing_task_is_reported(client):
    verdict = check_safe_to_rerun(programs.record_square_raising, client, timeout=20)
    assert not verdict.passed and "the disk is full" in verdict.message, verdict.message
