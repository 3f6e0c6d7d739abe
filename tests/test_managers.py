"""Tests for `helpers.managers`."""

import os
import signal
import time

import pytest

from helpers.managers import (
    MAX_NAME_LENGTH,
    CallCost,
    ManagerGone,
    ManagerTimeout,
    RecordBoard,
    add_record,
    add_record_via_child,
    count_scores,
    count_together,
    format_table,
    is_running,
    measure_call_cost,
    parse_score,
    require_name,
    send_records,
    server_pid,
    snapshot,
)
from helpers.running import ChildError, run

SEED = [("Sam", 10), ("Adam", 9), ("Kevin", 9)]
GONE = (
    "the manager's server process is not running (shut down or killed): "
    "the objects it held are gone; start a new one with ctx.Manager()"
)
GONE_WHILE_COPYING = (
    "the manager's server process is not running (shut down or killed), so copying its "
    "data failed: the objects it held are gone; start a new one with ctx.Manager()"
)


@pytest.fixture
def records(manager):
    return manager.list(SEED)


@pytest.fixture
def stopped_manager(ctx):
    """A manager whose server process has been shut down."""
    gone = ctx.Manager()
    leftover = gone.list(SEED)
    gone.shutdown()
    return gone, leftover


# ---- the seed example and the workers ------------------------------------------------


def test_the_second_child_sees_the_record_the_first_child_added(ctx, manager, records):
    run(ctx, add_record, records, ("Jeff", 8), timeout=20)
    outbox = manager.Queue()
    run(ctx, send_records, records, outbox, timeout=20)
    assert outbox.get(timeout=5) == [*SEED, ("Jeff", 8)]


def test_a_child_fills_a_managed_dict(ctx, manager, records):
    records.append(("Jeff", 8))
    counts = manager.dict()
    run(ctx, count_scores, records, counts, timeout=20)
    assert counts.copy() == {10: 1, 9: 2, 8: 1}


def test_a_failing_worker_is_reported_in_the_parent(ctx, records):
    with pytest.raises(ChildError) as info:
        run(ctx, send_records, records, "not a queue", timeout=20)
    assert info.value.exc_type == "AttributeError"
    assert info.value.exc_message == "'str' object has no attribute 'put'"


@pytest.mark.slow  # notebook 02's cell 08399ad8: 3 locked runs of 4 × 150, "0 of 3 runs lost"
def test_with_a_lock_no_update_is_lost(ctx, manager):
    assert count_together(ctx, manager, workers=3, times=200, locked=True) == 600


def test_without_a_lock_the_count_never_exceeds_the_increments(ctx, manager):
    # Losing updates is the usual outcome, but it depends on timing: only
    # the upper bound is certain.
    assert 1 <= count_together(ctx, manager, workers=2, times=100) <= 200


# ---- helpers run in the notebook's process ----------------------------------------------


def test_add_record_via_child_returns_the_shared_table(ctx, records):
    table = add_record_via_child(ctx, records, " Lena ", "7", timeout=20)
    assert table == ("name   score\nSam       10\nAdam       9\nKevin      9\nLena       7")
    assert records[-1] == ("Lena", 7)


def test_format_table_aligns_names_and_scores():
    assert format_table([("Jo", 100), ("Alexandra", 5)]) == (
        "name       score\nJo           100\nAlexandra      5"
    )
    assert format_table([]) == "name  score"


def test_snapshot_copies_lists_dicts_and_values(manager, records):
    copy = snapshot(records)
    assert copy == SEED and isinstance(copy, list)
    copy.append(("Zoe", 1))  # a local copy: the server's list is unchanged
    assert len(records) == len(SEED)
    assert snapshot(manager.dict({"a": 1})) == {"a": 1}
    assert snapshot(manager.Value("i", 42)) == 42


def test_the_server_is_another_process(ctx, manager):
    pid = server_pid(manager)
    assert pid != os.getpid()
    assert pid in [child.pid for child in ctx.active_children()]
    assert is_running(manager)


def test_measure_call_cost_reports_positive_figures(manager):
    cost = measure_call_cost(manager, calls=200)
    assert isinstance(cost, CallCost)
    assert cost.local_us > 0 and cost.proxy_us > 0
    assert cost.ratio == cost.proxy_us / cost.local_us


def test_the_board_starts_its_manager_when_first_used_and_closes_it(ctx):
    board = RecordBoard(ctx, timeout=20)
    assert not board.running
    try:
        assert board.add("Lena", "7") == (
            "name   score\nSam       10\nAdam       9\nKevin      9\nJeff       8\nLena       7"
        )
        assert board.running
    finally:
        board.close()
    assert not board.running


def test_the_board_starts_a_new_manager_after_its_old_one_stopped(ctx):
    board = RecordBoard(ctx, first_records=[("Sam", 10)], timeout=20)
    try:
        board.add("Ada", 3)
        os.kill(server_pid(board._manager), signal.SIGKILL)
        board._manager._process.join(5)
        assert board.add("Bo", 4) == (
            "(the table's manager had been shut down, so a new one was started "
            "with the first 1 records)\nname  score\nSam      10\nBo        4"
        )
        board.close()
        assert board.add("Cy", 5).endswith("Sam      10\nCy        5")
    finally:
        board.close()


# ---- bad input: refused in the caller's process, before any child starts ----------------


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        (5, TypeError, "name must be text, not int 5"),
        (None, TypeError, "name must be text, not NoneType None"),
        ("", ValueError, "name is empty: type a name such as 'Jeff'"),
        ("   ", ValueError, "name is empty: type a name such as 'Jeff'"),
        ("Jo\nAnn", ValueError, "name 'Jo\\nAnn' must be one line of printable characters"),
        (
            "x" * (MAX_NAME_LENGTH + 1),
            ValueError,
            f"name must be at most 20 characters, not 21 ('{'x' * 21}')",
        ),
    ],
)
def test_bad_names_are_refused(name, error, message):
    with pytest.raises(error) as info:
        require_name(name)
    assert type(info.value) is error
    assert str(info.value) == message


def test_names_are_trimmed_and_unicode_is_welcome():
    assert require_name("  Jeff ") == "Jeff"
    assert require_name("Zoë") == "Zoë"


@pytest.mark.parametrize(
    ("score", "error", "message"),
    [
        ("ten", ValueError, "score 'ten' is not a whole number, e.g. 8"),
        ("", ValueError, "score '' is not a whole number, e.g. 8"),
        ("8.5", ValueError, "score '8.5' is not a whole number, e.g. 8"),
        (8.5, TypeError, "score must be a whole number, not float 8.5"),
        (True, TypeError, "score must be a whole number, not bool True"),
        (None, TypeError, "score must be a whole number, not NoneType None"),
        (-1, ValueError, "score must be between 0 and 100, not -1"),
        ("101", ValueError, "score must be between 0 and 100, not 101"),
    ],
)
def test_bad_scores_are_refused(score, error, message):
    with pytest.raises(error) as info:
        parse_score(score)
    assert type(info.value) is error
    assert str(info.value) == message


def test_scores_may_be_numbers_or_text():
    assert parse_score(8) == 8
    assert parse_score(" 0 ") == 0
    assert parse_score("100") == 100


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (42, "rows must be a list of (name, score) pairs, not int"),
        ("Sam 10", "rows must be a list of (name, score) pairs, not str"),
        ([("Sam", 10), "Adam"], "rows[1] must be a (name, score) pair, not 'Adam'"),
        ([("Sam", 10, 3)], "rows[0] must be a (name, score) pair, not ('Sam', 10, 3)"),
    ],
)
def test_format_table_refuses_what_is_not_a_table(rows, message):
    with pytest.raises(TypeError) as info:
        format_table(rows)
    assert str(info.value) == message


def test_add_record_via_child_refuses_a_plain_list(ctx):
    plain = list(SEED)
    with pytest.raises(TypeError) as info:
        add_record_via_child(ctx, plain, "Jeff", 8)
    assert str(info.value) == "records must be a managed object from manager.list(), not list"
    assert plain == SEED


def test_add_record_via_child_refuses_bad_input_before_a_child_starts(ctx, records):
    before = len(ctx.active_children())
    with pytest.raises(ValueError, match=r"^name is empty"):
        add_record_via_child(ctx, records, "", 8)
    with pytest.raises(ValueError, match=r"^score 'eight' is not a whole number"):
        add_record_via_child(ctx, records, "Jeff", "eight")
    with pytest.raises(TypeError) as info:
        add_record_via_child("spawn", records, "Jeff", 8)
    assert str(info.value) == ("ctx must be a multiprocessing context from get_context(), not str")
    with pytest.raises(ValueError) as info:
        add_record_via_child(ctx, records, "Jeff", 8, timeout=0)
    assert str(info.value) == "timeout must be a positive, finite number of seconds, not 0"
    assert snapshot(records) == SEED
    assert len(ctx.active_children()) == before


def test_the_board_refuses_bad_input_without_starting_anything(ctx):
    board = RecordBoard(ctx)
    with pytest.raises(ValueError) as info:
        board.add("Kim", "ten")
    assert str(info.value) == "score 'ten' is not a whole number, e.g. 8"
    with pytest.raises(TypeError) as info:
        board.add(["Kim"], 3)
    assert str(info.value) == "name must be text, not list ['Kim']"
    assert not board.running


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"first_records": [("Sam", "lots")]},
            ValueError,
            "score 'lots' is not a whole number, e.g. 8",
        ),
        ({"first_records": [("", 3)]}, ValueError, "name is empty: type a name such as 'Jeff'"),
        ({"first_records": 7}, TypeError, "rows must be a list of (name, score) pairs, not int"),
        ({"timeout": "soon"}, TypeError, "timeout must be a number of seconds, not str 'soon'"),
    ],
)
def test_the_board_refuses_bad_options(ctx, options, error, message):
    with pytest.raises(error) as info:
        RecordBoard(ctx, **options)
    assert type(info.value) is error
    assert str(info.value) == message


def test_the_board_needs_a_context():
    with pytest.raises(TypeError) as info:
        RecordBoard(None)
    assert (
        str(info.value) == "ctx must be a multiprocessing context from get_context(), not NoneType"
    )


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"workers": 0}, ValueError, "workers must be at least 1, not 0"),
        ({"workers": 9}, ValueError, "workers must be at most 8, not 9"),
        ({"workers": True}, TypeError, "workers must be a whole number, not bool True"),
        ({"times": -5}, ValueError, "times must be at least 1, not -5"),
        ({"times": 2.0}, TypeError, "times must be a whole number, not float 2.0"),
        ({"times": 10**6}, ValueError, "times must be at most 100000, not 1000000"),
        ({"locked": "yes"}, TypeError, "locked must be True or False, not str 'yes'"),
    ],
)
def test_count_together_refuses_bad_options(ctx, manager, options, error, message):
    with pytest.raises(error) as info:
        count_together(ctx, manager, **options)
    assert type(info.value) is error
    assert str(info.value) == message


def test_count_together_needs_a_manager(ctx):
    with pytest.raises(TypeError) as info:
        count_together(ctx, [])
    assert str(info.value) == "manager must come from ctx.Manager(), not list"


@pytest.mark.parametrize(
    ("calls", "error", "message"),
    [
        (0, ValueError, "calls must be at least 1, not 0"),
        (False, TypeError, "calls must be a whole number, not bool False"),
        ("100", TypeError, "calls must be a whole number, not str '100'"),
        (10**7, ValueError, "calls must be at most 1000000, not 10000000"),
    ],
)
def test_measure_call_cost_refuses_bad_counts(manager, calls, error, message):
    with pytest.raises(error) as info:
        measure_call_cost(manager, calls=calls)
    assert type(info.value) is error
    assert str(info.value) == message


def test_snapshot_refuses_what_is_not_a_proxy():
    with pytest.raises(TypeError) as info:
        snapshot([1, 2])
    assert str(info.value) == (
        "proxy must be a managed object from manager.list(), manager.dict() "
        "or manager.Value(), not list"
    )


# ---- a dead or stuck manager: a clear error within seconds, never a hang ---------------


def test_a_shut_down_manager_is_reported_not_waited_for(ctx, stopped_manager):
    gone, leftover = stopped_manager
    assert not is_running(gone)
    began = time.monotonic()
    with pytest.raises(ManagerGone) as info:
        snapshot(leftover)
    assert str(info.value) == GONE_WHILE_COPYING
    with pytest.raises(ManagerGone) as info:
        add_record_via_child(ctx, leftover, "Jeff", 8)
    assert str(info.value) == GONE_WHILE_COPYING
    for call in (lambda: measure_call_cost(gone), lambda: count_together(ctx, gone)):
        with pytest.raises(ManagerGone) as info:
            call()
        assert str(info.value) == GONE
    with pytest.raises(ManagerGone):
        server_pid(gone)
    assert time.monotonic() - began < 5


def test_a_killed_manager_is_reported(ctx):
    doomed = ctx.Manager()
    try:
        leftover = doomed.list(SEED)
        os.kill(server_pid(doomed), signal.SIGKILL)
        doomed._process.join(5)
        began = time.monotonic()
        with pytest.raises(ManagerGone) as info:
            snapshot(leftover)
        assert str(info.value) == GONE_WHILE_COPYING
        assert time.monotonic() - began < 5
    finally:
        doomed.shutdown()


def test_a_stuck_manager_times_out_with_a_clear_message(ctx):
    frozen = ctx.Manager()
    try:
        shared = frozen.list(SEED)
        os.kill(server_pid(frozen), signal.SIGSTOP)
        try:
            began = time.monotonic()
            with pytest.raises(ManagerTimeout) as info:
                snapshot(shared, timeout=0.5)
            assert str(info.value) == (
                "the manager did not answer within 0.5 s while copying its data: "
                "is its server process stopped or overloaded?"
            )
            assert time.monotonic() - began < 5
        finally:
            os.kill(server_pid(frozen), signal.SIGCONT)
        assert snapshot(shared) == SEED  # it answers again once resumed
    finally:
        frozen.shutdown()
