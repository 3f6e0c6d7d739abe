"""Tests for `helpers.exercises.processes`."""

import os

import pytest
from support import processes as programs_00

from helpers.checking import NAME_ERROR_ADVICE
from helpers.context import get_context
from helpers.exercises.processes import (
    SCALE_FACTOR,
    check_own_pid,
    check_scale_worker,
    check_squares_program,
)

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

NOT_SENT = (
    "✘ your worker finished without sending anything: whatever a worker returns is "
    "thrown away, so send the answer through the connection with conn.send(...)"
)


# --- exercise 1: the child's own PID ---

OWN_PID = """
def my_pid(conn):
    import os
    conn.send(os.getpid())
"""


@pytest.mark.worked_answer
def test_own_pid_reference_solution_passes(cell):
    verdict = check_own_pid(cell(OWN_PID))
    assert verdict.passed
    assert repr(verdict) == "✔ the child sent its own PID, and it is not the notebook's"


def test_own_pid_returning_instead_of_sending(cell):
    worker = cell("def my_pid(conn):\n    import os\n    return os.getpid()\n")
    assert repr(check_own_pid(worker)) == NOT_SENT


def test_own_pid_using_the_notebooks_import_under_spawn(cell):
    worker = cell("def my_pid(conn):\n    conn.send(os.getpid())\n", os=os)
    assert repr(check_own_pid(worker, ctx=get_context("spawn"))) == (
        "✘ your worker raised NameError: name 'os' is not defined" + NAME_ERROR_ADVICE
    )


def test_own_pid_sending_the_parents_pid(cell):
    worker = cell("def my_pid(conn):\n    import os\n    conn.send(os.getppid())\n")
    assert repr(check_own_pid(worker, ctx=get_context("spawn"))) == (
        "✘ you sent the PID of the notebook's own process, the child's parent: call "
        "os.getpid() inside the worker, where it names the child"
    )


def test_own_pid_sending_text(cell):
    worker = cell("def my_pid(conn):\n    conn.send('pid')\n")
    assert repr(check_own_pid(worker)) == (
        "✘ you sent a str ('pid'); send the PID itself, the whole number that os.getpid() returns"
    )


def test_own_pid_wrong_shape_or_calling_the_worker(cell):
    worker = cell("def my_pid():\n    pass\n")
    assert repr(check_own_pid(worker)) == (
        "✘ your worker must take one parameter, the connection: def my_pid(conn): ..."
    )
    assert repr(check_own_pid(None)) == (
        "✘ pass your worker function itself, without calling it: check_own_pid(my_pid), "
        "not a NoneType"
    )


@pytest.mark.slow  # waits out a stuck answer on purpose
def test_own_pid_a_worker_that_never_ends_is_stopped(cell):
    worker = cell("def my_pid(conn):\n    import time\n    time.sleep(600)\n")
    assert repr(check_own_pid(worker, timeout=1)) == (
        "✘ your worker did not finish within 1 s and was stopped: does it wait for something "
        "that never comes, such as conn.recv() or an endless loop?"
    )


def test_own_pid_a_worker_that_cannot_be_pickled(cell):
    worker = cell("def my_pid(conn, numbers=(n for n in [1])):\n    conn.send(1)\n")
    assert repr(check_own_pid(worker, ctx=get_context("spawn"))) == (
        "✘ your worker could not be sent to a child: TypeError: cannot pickle 'generator' object"
    )


def test_a_bad_timeout_is_refused_before_any_child_starts(cell):
    with pytest.raises(ValueError, match="timeout must be a positive, finite number of seconds"):
        check_own_pid(cell(OWN_PID), timeout=-1)


# --- exercise 2: a whole program, one child per number ---


@pytest.mark.worked_answer
def test_squares_reference_solution_passes():
    verdict = check_squares_program(programs_00.squares)
    assert repr(verdict) == "✔ 3 children, each joined, sent back [4, 9, 16]"


def test_squares_worker_that_returns_instead_of_sending():
    verdict = check_squares_program(programs_00.squares_returning)
    assert not verdict.passed
    assert "a worker's return value is thrown away" in verdict.message


def test_squares_never_joined():
    verdict = check_squares_program(programs_00.squares_never_joined)
    assert not verdict.passed
    assert verdict.message.startswith("3 of 3 process(es) were never joined")


def test_squares_target_called_in_the_notebook():
    verdict = check_squares_program(programs_00.squares_target_called)
    assert not verdict.passed
    assert "target=worker (the function itself), not target=worker()" in verdict.message


def test_squares_in_a_single_child():
    verdict = check_squares_program(programs_00.squares_in_one_child)
    assert repr(verdict) == (
        "✘ start one process per number: your program started 1 for the 3 numbers [2, 3, 4]"
    )


def test_squares_in_the_wrong_order():
    verdict = check_squares_program(programs_00.squares_reversed)
    assert not verdict.passed
    assert verdict.message.startswith("the right squares in the wrong order: [16, 9, 4]")


def test_squares_worker_written_in_a_cell(cell, ctx):
    worker = cell("def square(conn, number):\n    conn.send(number * number)\n")
    verdict = check_squares_program(
        lambda ctx, numbers: programs_00.squares_with(worker, ctx, numbers)
    )
    if ctx.get_start_method() == "fork":  # a fork child is a copy: the cell's function is there
        assert verdict.passed
    else:
        assert not verdict.passed
        assert "%%writefile my_workers_00.py" in verdict.message


def test_squares_refuses_a_call_result():
    assert repr(check_squares_program([4, 9, 16])) == (
        "✘ pass your function itself, e.g. check_squares_program(squares_program), not a list"
    )


# --- exercise 3: a worker that travels with everything it needs ---

SCALE = """
def scale(conn, numbers, factor):
    conn.send([n * factor for n in numbers])
"""


@pytest.mark.worked_answer
def test_scale_reference_solution_passes(cell):
    assert repr(check_scale_worker(cell(SCALE))) == (
        "✔ your worker travelled to a spawned child with everything it needed"
    )


def test_scale_reading_a_notebook_global(cell):
    worker = cell(
        "def scale(conn, numbers, factor):\n    conn.send([n * FACTOR for n in numbers])\n",
        FACTOR=SCALE_FACTOR,
    )
    assert repr(check_scale_worker(worker)) == (
        "✘ your worker raised NameError: name 'FACTOR' is not defined" + NAME_ERROR_ADVICE
    )


def test_scale_wrong_arithmetic(cell):
    worker = cell(
        "def scale(conn, numbers, factor):\n    conn.send([n + factor for n in numbers])\n"
    )
    assert repr(check_scale_worker(worker)) == (
        "✘ for numbers=[1, 2, 3] and factor=10 you sent [11, 12, 13], but [10, 20, 30] was expected"
    )


def test_scale_without_the_factor_parameter(cell):
    worker = cell("def scale(conn, numbers):\n    conn.send(numbers)\n")
    assert repr(check_scale_worker(worker)) == (
        "✘ your worker must take three parameters — the connection, the numbers and the "
        "factor: def scale(conn, numbers, factor): ..."
    )


def test_scale_returning_instead_of_sending(cell):
    worker = cell("def scale(conn, numbers, factor):\n    return [n * factor for n in numbers]\n")
    assert repr(check_scale_worker(worker)) == NOT_SENT
