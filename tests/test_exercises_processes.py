"""Tests for `helpers.exercises.processes`."""

import os

import pytest

from helpers import processes
from helpers.checking import NAME_ERROR_ADVICE
from helpers.exercises.processes import (
    SCALE_FACTOR,
    check_own_pid,
    check_predictions,
    check_scale_worker,
)

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


def test_own_pid_reference_solution_passes(cell):
    verdict = check_own_pid(cell(OWN_PID))
    assert verdict.passed
    assert repr(verdict) == "✔ the child sent its own PID, and it is not the notebook's"


def test_own_pid_returning_instead_of_sending(cell):
    worker = cell("def my_pid(conn):\n    import os\n    return os.getpid()\n")
    assert repr(check_own_pid(worker)) == NOT_SENT


def test_own_pid_using_the_notebooks_import_under_spawn(cell):
    worker = cell("def my_pid(conn):\n    conn.send(os.getpid())\n", os=os)
    assert repr(check_own_pid(worker, method="spawn")) == (
        "✘ your worker raised NameError: name 'os' is not defined" + NAME_ERROR_ADVICE
    )


def test_own_pid_sending_the_parents_pid(cell):
    worker = cell("def my_pid(conn):\n    import os\n    conn.send(os.getppid())\n")
    assert repr(check_own_pid(worker, method="spawn")) == (
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
    assert repr(check_own_pid(worker, method="spawn")) == (
        "✘ your worker could not be sent to a child: TypeError: cannot pickle 'generator' object"
    )


def test_a_bad_timeout_is_refused_before_any_child_starts(cell):
    with pytest.raises(ValueError, match="timeout must be a positive, finite number of seconds"):
        check_own_pid(cell(OWN_PID), timeout=-1)


# --- exercise 2: predicting what a child inherits ---

RIGHT = {"spawn": False, "fork": True, "forkserver": False}


def test_predictions_reference_solution_passes():
    verdict = check_predictions(dict(RIGHT))
    assert repr(verdict) == (
        "✔ right for all three: only a fork child starts with the notebook's changes"
    )
    assert processes.counter == 0  # the checker put the global back


def test_predictions_thinking_every_child_is_a_copy():
    verdict = check_predictions({"spawn": True, "fork": True, "forkserver": True})
    assert repr(verdict) == (
        "✘ not quite — spawn: a spawn child is a fresh interpreter that imports "
        "helpers.processes anew, so it sees the module's original value; forkserver: a "
        "forkserver child is copied from the fork server, a clean process that never ran "
        "your notebook, so it sees the original value"
    )


def test_predictions_thinking_no_child_sees_it():
    verdict = check_predictions({"spawn": False, "fork": False, "forkserver": False})
    assert repr(verdict) == (
        "✘ not quite — fork: a fork child starts as a copy of the parent's memory, changes "
        "included, so it does see the new value"
    )


def test_predictions_in_the_wrong_shape():
    assert repr(check_predictions([False, True, False])) == (
        "✘ write your predictions as a dict: {'spawn': True or False, 'fork': ..., "
        "'forkserver': ...}, not a list"
    )
    assert repr(check_predictions({"spawn": False, "fork": True, "threads": False})) == (
        "✘ your dict needs exactly the keys 'spawn', 'fork' and 'forkserver'; "
        "missing: 'forkserver'; not a start method: 'threads'"
    )
    assert repr(check_predictions({**RIGHT, "fork": "yes"})) == (
        "✘ predictions['fork'] should be True or False, not 'yes'"
    )


# --- exercise 3: a worker that travels with everything it needs ---

SCALE = """
def scale(conn, numbers, factor):
    conn.send([n * factor for n in numbers])
"""


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
