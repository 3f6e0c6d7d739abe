"""Tests for `helpers.exercises.queues`."""

import time

import pytest

from helpers.exercises.queues import (
    check_sentinel_consumer,
    check_sentinel_producer,
    check_squares_program,
)

# A checker must answer well within its own limit, even for an answer that hangs.
ANSWERED_WITHIN = 15.0


def _cases(cases, *, ids, slow):
    """Name each case; those that wait out a stuck answer on purpose run with the slow tests.

    The case named "solution" is the lesson's own worked answer.
    """

    def marks(name):
        if name in slow:
            return pytest.mark.slow
        return pytest.mark.worked_answer if name == "solution" else ()

    return [
        pytest.param(*case, id=name, marks=marks(name))
        for name, case in zip(ids, cases, strict=True)
    ]


def timed(check, answer):
    began = time.monotonic()
    verdict = check(answer)
    assert time.monotonic() - began < ANSWERED_WITHIN
    return repr(verdict)


# --- exercise 1: a consumer that stops on the sentinel ---

CONSUMER = """
def consumer(q, results):
    taken = []
    while True:
        item = q.get(timeout=10)
        if item is None:
            break
        taken.append(item)
    results.put(taken)
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    _cases(
        [
            (
                CONSUMER,
                "✔ your consumer took all 5 items, in order, and stopped on the sentinel",
            ),
            (
                """
            def consumer(q, results):
                taken = []
                while item := q.get(timeout=10):   # stops on 0 as well as on None
                    taken.append(item)
                results.put(taken)
            """,
                "✘ your consumer stopped at the item 0: test `item is None`, "
                "because `not item` is also true for 0, a real item",
            ),
            (
                """
            def consumer(q, results):
                taken = []
                while not q.empty():               # the seed's stop signal
                    taken.append(q.get(timeout=10))
                results.put(taken)
            """,
                "✘ your consumer stopped before any item arrived: an empty queue does not mean "
                "the producer is done, so keep calling get() until the sentinel (None) comes",
            ),
            (
                """
            def consumer(q, results):
                taken = []
                while True:                        # never looks for the sentinel
                    item = q.get()
                    if item is not None:
                        taken.append(item)
                results.put(taken)
            """,
                "✘ your consumer never stopped: does it leave its loop when get() returns "
                "the sentinel None?",
            ),
            (
                """
            def consumer(q, results):
                taken = [q.get(timeout=10) for _ in range(6)]
                results.put(taken)
            """,
                "✘ your consumer kept the sentinel as an item: "
                "check for None before adding an item",
            ),
            (
                """
            def consumer(q, results):
                while q.get(timeout=10) is not None:
                    pass
            """,
                "✘ your consumer stopped without putting its list on results: after the loop, "
                "call results.put(taken) once",
            ),
            (
                """
            def consumer(q, results):
                while (item := q.get(timeout=10)) is not STOP:
                    results.put(item)
            """,
                "✘ your consumer raised NameError: name 'STOP' is not defined — a function written "
                "in a cell cannot see the notebook's other names in the child; use None itself, "
                "or import what you need inside the function",
            ),
            (
                """
            def consumer(q, results):
                while (item := q.get(timeout=10)) is not None:
                    results.put(item)              # one message per item, not one list
            """,
                "✘ your consumer put a int on results: put one list of the items it took, "
                "once, after its loop",
            ),
        ],
        ids=["solution", "falsy", "empty", "endless", "sentinel-kept", "no-report", "name", "int"],
        slow={"endless"},
    ),
)
def test_consumer_checker(cell, source, expected):
    assert timed(check_sentinel_consumer, cell(source)) == expected


def test_consumer_checker_wants_the_function_itself():
    assert repr(check_sentinel_consumer(None)) == (
        "✘ pass your function itself, e.g. check_sentinel_consumer(consumer), not a NoneType"
    )


# --- exercise 2: a producer that gives every consumer its sentinel ---

PRODUCER = """
def producer(q, items, n_consumers):
    for item in items:
        q.put(item)
    for _ in range(n_consumers):
        q.put(None)
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    _cases(
        [
            (PRODUCER, "✔ all 12 items were taken and all 3 consumers stopped"),
            (
                """
            def producer(q, items, n_consumers):
                for item in items:
                    q.put(item)
                q.put(None)                        # one sentinel for three consumers
            """,
                "✘ 2 of 3 consumers never stopped: did every consumer get a sentinel? "
                "Put one None per consumer, after the last item",
            ),
            (
                """
            def producer(q, items, n_consumers):
                for _ in range(n_consumers):       # sentinels first
                    q.put(None)
                for item in items:
                    q.put(item)
            """,
                "✘ the consumers stopped with 12 of 12 items still in the queue: "
                "put the sentinels after the last item, not before",
            ),
            (
                """
            def producer(q, items, n_consumers):
                for item in items + items[:2]:     # two items twice
                    q.put(item)
                for _ in range(n_consumers):
                    q.put(None)
            """,
                "✘ the consumers took [1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], expected each "
                "of 1…12 exactly once: put every item once",
            ),
            (
                """
            def producer(q, items, n_consumers):
                for item in items:
                    q.put(item / 0)
            """,
                "✘ your producer raised ZeroDivisionError: division by zero",
            ),
        ],
        ids=["solution", "one-sentinel", "sentinels-first", "twice", "raises"],
        slow={"one-sentinel"},
    ),
)
def test_producer_checker(cell, source, expected):
    assert timed(check_sentinel_producer, cell(source)) == expected


def test_producer_checker_wants_the_function_itself():
    assert repr(check_sentinel_producer("producer")) == (
        "✘ pass your function itself, e.g. check_sentinel_producer(producer), not a str"
    )


def test_checkers_refuse_a_bad_timeout():
    with pytest.raises(ValueError) as info:
        check_sentinel_consumer(print, timeout=0)
    assert str(info.value) == "timeout must be a positive, finite number of seconds, not 0"


# --- the whole program: workers, sentinels, joins ---

queue_programs = pytest.importorskip("queue_programs")  # tests/, a child imports it by name


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "squares_program",
            "✔ 3 workers squared 20,000 numbers, every one stopped on its sentinel, "
            "and every one was joined after its results were read",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(  # these three wait out a stuck program on purpose
            "no_sentinel",
            "✘ none of your 3 workers stopped: each is still waiting",
            id="none",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "one_sentinel",
            "✘ 2 of your 3 workers never stopped",
            id="too-few",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "joined_before_draining",
            "✘ your program joined a worker before reading its results",
            id="join-first",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "stops_on_empty",
            "✘ your worker square_until_empty() decides to stop when the queue's empty()",
            id="empty",
        ),
        pytest.param("never_joined", "✘ 3 of 3 process(es) were never joined", id="no-join"),
        pytest.param("target_called", "✘ process ", id="target-called"),
    ],
)
def test_program_checker_names_each_mistake(ctx, program, expected):
    verdict = check_squares_program(getattr(queue_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_program_checker_wants_the_function_itself():
    assert repr(check_squares_program(42)) == (
        "✘ pass your function itself, e.g. check_squares_program(squares_program), not a int"
    )
