"""Property-based tests: random data round-trips through every mechanism unchanged.

Hypothesis draws the lists and messages; each travels through a real child
process or server process and back by way of the lesson helpers. In the
default run one child serves a whole test, so the file stays a few seconds
long; the tests that need fresh children for every example, or send many
examples through a manager server, are marked slow (``pytest -m slow``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.stress import echo_queue

from helpers.managers import send_records, snapshot
from helpers.pipes import END_MARKER, pass_messages, request, serve
from helpers.queues import SENTINEL, collect_reports, take, take_until_sentinel
from helpers.running import start, wait
from helpers.sharedctypes import INTEGER_TYPECODES, choose_typecode, integer_range, square_list

# Processes are slow to start and the machine is shared: no per-example deadline.
FEW = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SOME = settings(FEW, max_examples=40)
TIMEOUT = 30

# Everything pickle carries and == compares faithfully (NaN is never equal to itself).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.binary(max_size=30)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
# A message is anything but the end marker itself.
messages = values.filter(lambda v: v != END_MARKER)
sequences = st.text(max_size=200) | st.binary(max_size=200) | st.lists(values, max_size=10)


# Whole numbers whose squares fit a C long long, in lists short enough to sum.
whole_numbers = st.lists(st.integers(-(3 * 10**9), 3 * 10**9), min_size=1, max_size=8)


@pytest.fixture
def server(ctx):
    """One request/reply server child for the whole test, and our end of its pipe."""
    client, server_end = ctx.Pipe()
    child = start(ctx, serve, server_end, timeout=TIMEOUT, also_close=[client], name="server")
    server_end.close()
    yield client
    client.close()  # the server's recv() sees EOF and it returns
    wait([child], timeout=TIMEOUT)


@SOME
@given(value=sequences)
def test_a_pipe_request_and_reply_round_trip_any_sequence(server, value):
    reversed_once = request(server, "reverse", value, timeout=TIMEOUT)
    assert reversed_once == value[::-1]
    assert request(server, "reverse", reversed_once, timeout=TIMEOUT) == value


@pytest.mark.slow
@FEW
@given(sent=st.lists(messages, max_size=8))
def test_a_pipe_delivers_any_messages_in_order_between_two_children(ctx, sent):
    assert pass_messages(ctx, [*sent, END_MARKER], timeout=TIMEOUT) == sent


@pytest.fixture
def echo(ctx):
    """One child that sends back every item put on a queue, for the whole test."""
    inbox, outbox = ctx.Queue(), ctx.Queue()
    child = start(ctx, echo_queue, inbox, outbox, name="echo")
    yield inbox, outbox, child
    inbox.put(None)  # its stop signal
    wait([child], timeout=TIMEOUT)
    for q in (inbox, outbox):
        q.close()
        q.join_thread()


@SOME
@given(items=st.lists(values, max_size=20))
def test_a_queue_carries_any_items_to_a_child_and_back_in_order(echo, items):
    inbox, outbox, child = echo
    for item in items:
        inbox.put((item,))  # wrapped, so that None is an item and not the stop signal
    if items:
        back = take(outbox, len(items), watch=[child], timeout=TIMEOUT)
        assert [item for (item,) in back] == items


@pytest.mark.slow
@FEW
@given(items=st.lists(values.filter(lambda v: v is not SENTINEL), max_size=20))
def test_a_queue_delivers_any_items_to_a_consumer_child_in_order(ctx, items):
    work, results = ctx.Queue(), ctx.Queue()
    try:
        consumer = start(ctx, take_until_sentinel, work, results, label="only", timeout=TIMEOUT)
        for item in [*items, SENTINEL]:
            work.put(item)
        taken = collect_reports(results, 1, watch=[consumer], timeout=TIMEOUT)
        wait([consumer], timeout=TIMEOUT)
    finally:
        for q in (work, results):
            q.close()
            q.join_thread()
    assert taken == {"only": items}


@pytest.mark.slow  # 40 lists and dicts through a manager server: the costliest here
@SOME
@given(items=st.lists(values, max_size=20), mapping=st.dictionaries(st.text(), values))
def test_a_managed_list_and_dict_hold_any_data_unchanged(manager, items, mapping):
    assert snapshot(manager.list(items), timeout=TIMEOUT) == items
    assert snapshot(manager.dict(mapping), timeout=TIMEOUT) == mapping


@pytest.mark.slow
@FEW
@given(records=st.lists(st.tuples(st.text(max_size=20), st.integers()), max_size=10))
def test_a_child_reads_back_any_records_from_a_managed_list(ctx, manager, records):
    shared, outbox = manager.list(records), manager.Queue()
    wait([start(ctx, send_records, shared, outbox)], timeout=TIMEOUT)
    assert outbox.get(timeout=TIMEOUT) == records


@pytest.mark.slow
@settings(FEW, max_examples=6)  # one child per example
@given(numbers=whole_numbers)
def test_a_child_s_squares_arrive_exactly_through_a_shared_array_and_value(ctx, numbers):
    try:
        typecode = choose_typecode(numbers)
    except ValueError:
        assume(False)  # the sum outgrows every C type: refused, as the next test shows
    squares, total = square_list(ctx, numbers, typecode=typecode, timeout=TIMEOUT)
    assert squares == [n * n for n in numbers]
    assert total == sum(n * n for n in numbers)


@SOME
@given(numbers=whole_numbers, typecode=st.sampled_from(INTEGER_TYPECODES))
def test_a_square_or_sum_that_would_wrap_is_refused_before_any_child_starts(ctx, numbers, typecode):
    low, high = integer_range(typecode)
    fits = all(low <= n * n <= high for n in numbers) and sum(n * n for n in numbers) <= high
    assume(not fits)
    with pytest.raises(ValueError, match=f"which does not fit typecode '{typecode}'"):
        square_list(ctx, numbers, typecode=typecode, timeout=TIMEOUT)
