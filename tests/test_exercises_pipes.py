"""Tests for `helpers.exercises.pipes`."""

import pytest

from helpers.exercises.pipes import check_collect, check_lines_program, check_shout

# Stuck answers are given this long before the hint; correct ones never wait for it.
PATIENCE = 2.0
# Answers that hang are stopped only after PATIENCE: they run with the slow group.
SLOW = pytest.mark.slow

# ---- exercise 1: answers a learner might write ----------------------------------------


def shout_reference(conn):
    while conn.poll(10):
        request = conn.recv()
        if request == "STOP":
            return
        conn.send(request.upper())


def shout_echo(conn):
    while conn.poll(10):
        request = conn.recv()
        if request == "STOP":
            return
        conn.send(request)


def shout_ignoring_stop(conn):
    while conn.poll(30):
        conn.send(conn.recv().upper())


def shout_replying_to_stop(conn):
    while conn.poll(10):
        request = conn.recv()
        conn.send(request.upper())
        if request == "STOP":
            return


def shout_after_stop(conn):
    requests = []
    while (request := conn.recv()) != "STOP":
        requests.append(request)
    for request in requests:
        conn.send(request.upper())


def shout_with_a_typo(conn):
    while conn.poll(10):
        conn.send(conn.recv().uppercase())


def shout_without_a_parameter():
    return None


@pytest.mark.worked_answer
def test_the_reference_answer_to_exercise_1_passes():
    verdict = check_shout(shout_reference, patience=PATIENCE)
    assert verdict.passed
    assert repr(verdict) == "✔ your server answered 3 requests in capitals and stopped on 'STOP'"


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            shout_echo,
            "'hello' came back as 'hello'; it should come back as 'HELLO': "
            "reply with request.upper()",
        ),
        pytest.param(
            shout_ignoring_stop,
            "your server was still running 2 s after 'STOP': return when it arrives",
            marks=SLOW,
        ),
        (shout_replying_to_stop, "your server replied to 'STOP': stop without replying"),
        pytest.param(
            shout_after_stop,
            "no reply to 'hello': send one reply after each request, with conn.send(...), "
            "before you receive the next",
            marks=SLOW,
        ),
        (
            shout_with_a_typo,
            "your shout() raised AttributeError: 'str' object has no attribute 'uppercase'",
        ),
        (
            shout_without_a_parameter,
            "your function must take one parameter, the connection: def shout(conn): ...",
        ),
        ("shout", "pass your function itself, without calling it: check_shout(shout), not a str"),
    ],
    ids=["echo", "ignores-stop", "replies-to-stop", "replies-late", "raises", "no-param", "str"],
)
def test_typical_wrong_answers_to_exercise_1_get_a_specific_hint(answer, hint):
    # Only the answer that never replies waits out the first reply's timeout;
    # the others keep the full start-up allowance, so a slow start is no failure.
    timeout = PATIENCE if answer is shout_after_stop else 20
    verdict = check_shout(answer, timeout=timeout, patience=PATIENCE)
    assert not verdict.passed
    assert verdict.message == hint


# ---- exercise 2: answers a learner might write ----------------------------------------


def collect_reference(conn):
    received = []
    while conn.poll(1):
        try:
            received.append(conn.recv())
        except EOFError:
            break
    return received


def collect_letting_eof_escape(conn):
    received = []
    while conn.poll(1):
        received.append(conn.recv())
    return received


def collect_until_eof_only(conn):
    received = []
    try:
        while True:
            received.append(conn.recv())
    except EOFError:
        return received


def collect_forgetting_to_return(conn):
    received = []
    while conn.poll(1):
        try:
            received.append(conn.recv())
        except EOFError:
            break


def collect_newest_first(conn):
    received = []
    while conn.poll(1):
        try:
            received.insert(0, conn.recv())
        except EOFError:
            break
    return received


@pytest.mark.worked_answer
def test_the_reference_answer_to_exercise_2_passes():
    verdict = check_collect(collect_reference, patience=PATIENCE + 5)
    assert verdict.passed
    assert repr(verdict) == (
        "✔ collect() stopped when the sender hung up (EOFError) and after a second of "
        "silence, with every message in order"
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            collect_letting_eof_escape,
            "EOFError escaped from your collect(): catch it — it is how recv() says the sender "
            "has closed its end and everything it sent has been read",
        ),
        pytest.param(
            collect_until_eof_only,
            "collect() was still waiting 2 s after it started, although the sender had gone "
            "silent: call conn.poll(1) before each recv(), and stop when it returns False",
            marks=SLOW,
        ),
        (
            collect_forgetting_to_return,
            "collect() returned None: return the list of messages it received",
        ),
        (
            collect_newest_first,
            "collect() returned ['three', 'two', 'one'], but the sender sent "
            "['one', 'two', 'three']: keep every message, in order, until recv() raises "
            "EOFError",
        ),
        (len, "your collect() raised TypeError: object of type 'Connection' has no len()"),
    ],
    ids=["eof-escapes", "eof-only", "no-return", "reversed", "builtin"],
)
def test_typical_wrong_answers_to_exercise_2_get_a_specific_hint(answer, hint):
    verdict = check_collect(answer, patience=PATIENCE)
    assert not verdict.passed
    assert verdict.message == hint


def test_a_value_instead_of_a_function_gets_a_hint():
    verdict = check_collect(["one", "two", "three"])
    assert verdict.message == (
        "pass your function itself, without calling it: check_collect(collect), not a list"
    )


# ---- the whole program: a pipe, a child, closing the right ends -----------------------

pipe_programs = pytest.importorskip("pipe_programs")  # tests/, a child imports it by name


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(
            "lines_program",
            "✔ all 5 lines arrived in order, the receiver stopped at EOFError",
            id="reference",
            marks=pytest.mark.worked_answer,
        ),
        pytest.param(
            "writer_left_open",
            "✘ your program never closed its own copy of the write end",
            id="writer-open",
            marks=SLOW,
        ),
        pytest.param(
            "closed_the_read_end",
            "✘ your program raised OSError: handle is closed — it closed the end it receives on",
            id="wrong-end",
        ),
        pytest.param(
            "sends_after_close",
            "✘ your worker send_then_close_then_send() sends after it has closed its end",
            id="send-after-close",
        ),
        pytest.param("never_joined", "✘ 1 of 1 process(es) were never joined", id="no-join"),
    ],
)
def test_program_checker_names_each_mistake(ctx, program, expected):
    verdict = check_lines_program(getattr(pipe_programs, program), ctx=ctx)
    assert repr(verdict).startswith(expected)
    assert verdict.passed == expected.startswith("✔")


def test_program_checker_wants_the_function_itself():
    assert repr(check_lines_program("lines_program")) == (
        "✘ pass your function itself, e.g. check_lines_program(lines_program), not a str"
    )
