"""Checkers for lesson 03's exercises: a whole program, a consumer, and a producer.

:func:`check_squares_program` runs a learner's whole program (worker module,
queues, processes, sentinels, joins) through :func:`helpers.checking.run_program`
and names the queue lesson's own mistakes. For the other two exercises the
learner writes each worker in a notebook cell. A child cannot import such a
function, so these checkers run it with ``multiprocess`` (whose dill
pickling sends the function's code along) and use only ``multiprocess``
objects around it — queues, event and processes alike. Every wait has a
timeout; a worker that never stops is stopped and named in the hint.

>>> check_sentinel_consumer("consumer")
✘ pass your function itself, e.g. check_sentinel_consumer(consumer), not a str
"""

from __future__ import annotations

import inspect
import queue
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    RecordingContext,
    Started,
    Verdict,
    common_mistake,
    fail,
    not_a_function,
    ok,
    run_program,
)
from helpers.context import get_context, get_multiprocess_context
from helpers.queues import take_until_sentinel
from helpers.running import Child, ChildError, ChildTimeout, start, wait
from helpers.validation import require_timeout

__all__ = [
    "CHECK_TIMEOUT",
    "CONSUMER_ITEMS",
    "PRODUCER_CONSUMERS",
    "PRODUCER_ITEMS",
    "PROGRAM_NUMBERS",
    "PROGRAM_WORKERS",
    "check_sentinel_consumer",
    "check_sentinel_producer",
    "check_squares_program",
]

# A spawned multiprocess child imports dill before it runs anything: well under
# a second normally, several on a loaded laptop. Twenty means really stuck.
from helpers.checking import CHECK_TIMEOUT

# What the consumer is fed. The 0 is there on purpose: `if not item` stops on it.
CONSUMER_ITEMS = (3, 0, 4, 1, 5)
PRODUCER_ITEMS = tuple(range(1, 13))
PRODUCER_CONSUMERS = 3
# How long the items are held back once the consumer runs: a consumer that
# stops when the queue looks empty gives itself away in this window.
HOLD_BACK = 0.5
# Once every item is on its way, how long without an answer before a waiting
# consumer is declared stuck (its items arrive in milliseconds; this is generous).
SETTLE = 3.0
POLL = 0.1

_NAME_ERROR = (
    " — a function written in a cell cannot see the notebook's other names in the child; "
    "use None itself, or import what you need inside the function"
)


def _announce_then_run(started: Any, target: Callable[..., Any], *args: Any) -> None:
    """Runs in the child: say "I am running", then run the learner's function."""
    started.set()
    target(*args)


def _raised(who: str, err: ChildError) -> str:
    _forget(err)
    if err.exc_type is None:
        return f"your {who} {str(err).split(' ', 2)[2]}"  # killed, or exited without a word
    extra = _NAME_ERROR if err.exc_type == "NameError" else ""
    return f"your {who} raised {err.exc_type}: {err.exc_message}{extra}"


def _not_a_function(who: str, answer: Any) -> Verdict | None:
    if callable(answer):
        return None
    return fail(
        f"pass your function itself, e.g. check_sentinel_{who}({who}), "
        f"not a {type(answer).__name__}"
    )


def _get(results: Any, timeout: float) -> tuple[bool, Any]:
    try:
        return True, results.get(timeout=timeout)
    except queue.Empty:
        return False, None


def _started(started: Any, child: Child, deadline: float) -> bool:
    """Wait until the child says it runs; False if it died or the deadline passed first."""
    while time.monotonic() < deadline:
        if started.wait(POLL):
            return True
        if not child.process.is_alive():
            return False
    return False


def _answer(results: Any, child: Child, until: float) -> tuple[bool, Any]:
    """The child's one message on ``results``, unless it exits or ``until`` passes first."""
    while time.monotonic() < until:
        sent, report = _get(results, POLL)
        if sent:
            return sent, report
        if not child.process.is_alive():
            return _get(results, POLL)  # a last look: it may have sent just before exiting
    return False, None


def _drain(q: Any) -> list[Any]:
    """Whatever is left in ``q``, in order; short waits, since its producers are gone."""
    left: list[Any] = []
    while True:
        got, item = _get(q, POLL)
        if not got:
            return left
        left.append(item)


def _close(*queues: Any) -> None:
    for q in queues:
        q.cancel_join_thread()  # the checker's leftovers need not be delivered
        q.close()


def _stop(children: list[Child]) -> None:
    """Stop whatever still runs; what it would report no longer matters."""
    running = [c for c in children if c.process.is_alive()]
    if running:
        try:
            wait(running, timeout=POLL)
        except (ChildError, ChildTimeout) as err:
            _forget(err)


def _forget(err: BaseException) -> None:
    # The error's traceback holds the frames that hold our queues, and those
    # frames hold the error: a cycle that would keep the queues' semaphores
    # until the garbage collector happens to run. Cut it now.
    err.__traceback__ = None


def _stopped_early(report: list[Any]) -> str:
    stopped_at = CONSUMER_ITEMS[len(report)]
    if not stopped_at:
        return (
            f"your consumer stopped at the item {stopped_at!r}: test `item is None`, "
            f"because `not item` is also true for {stopped_at!r}, a real item"
        )
    return (
        f"your consumer stopped after {len(report)} of {len(CONSUMER_ITEMS)} items: "
        "stop only when the sentinel (None) arrives"
    )


def _consumer_hint(report: Any) -> str | None:
    """What is wrong with the list a consumer sent back, or None if nothing is."""
    expected = list(CONSUMER_ITEMS)
    if not isinstance(report, list):
        return (
            f"your consumer put a {type(report).__name__} on results: put one list of "
            "the items it took, once, after its loop"
        )
    if report == []:
        return (
            "your consumer stopped before any item arrived: an empty queue does not mean "
            "the producer is done, so keep calling get() until the sentinel (None) comes"
        )
    if None in report:
        return "your consumer kept the sentinel as an item: check for None before adding an item"
    if len(report) < len(expected) and report == expected[: len(report)]:
        return _stopped_early(report)
    if report != expected:
        return (
            f"your consumer sent back {report!r}, expected {expected!r}: keep every item, "
            "in the order it arrived"
        )
    return None


def _judge_consumer_report(report: Any) -> Verdict:
    hint = _consumer_hint(report)
    if hint:
        return fail(hint)
    return ok(
        f"your consumer took all {len(CONSUMER_ITEMS)} items, in order, and stopped on the sentinel"
    )


def check_sentinel_consumer(
    consumer: Any, *, method: str | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
    """Run ``consumer(q, results)`` in a child; feed it items, then the sentinel ``None``.

    It must put one list — every item it took, in order — on ``results`` and
    return. Items are held back for a moment after it starts, so a consumer
    that stops when the queue looks empty is caught.
    """
    timeout = require_timeout(timeout)
    refused = _not_a_function("consumer", consumer)
    if refused is not None:
        return refused
    ctx = get_multiprocess_context(method)
    q, results, started = ctx.Queue(), ctx.Queue(), ctx.Event()
    deadline = time.monotonic() + timeout
    children: list[Child] = []
    try:
        children.append(
            start(ctx, _announce_then_run, started, consumer, q, results, name="consumer")
        )
        sent, report = False, None
        if _started(started, children[0], deadline):
            sent, report = _get(results, HOLD_BACK)
        if not sent:
            for item in (*CONSUMER_ITEMS, None):
                q.put(item)
            sent, report = _answer(results, children[0], min(deadline, time.monotonic() + SETTLE))
        try:
            children[0].wait(max(POLL, deadline - time.monotonic()) if sent else POLL)
        except ChildTimeout as err:
            _forget(err)
            return fail(
                "your consumer never stopped: does it leave its loop when get() returns "
                "the sentinel None?"
            )
        except ChildError as err:
            return fail(_raised("consumer", err))
        if not sent:
            return fail(
                "your consumer stopped without putting its list on results: after the loop, "
                "call results.put(taken) once"
            )
        return _judge_consumer_report(report)
    except Exception as exc:  # dill could not send it: a hint, not a traceback
        return fail(f"your consumer could not be sent to a child: {type(exc).__name__}: {exc}")
    finally:
        _stop(children)
        _close(q, results)


def _collect(results: Any, producer: Child, consumers: list[Child], deadline: float) -> dict:
    """Reports that arrive before every consumer has reported, died, or gone quiet."""
    reports: dict[str, list[Any]] = {}
    quiet_since = None
    while len(reports) < len(consumers) and time.monotonic() < deadline:
        sent, report = _get(results, POLL)
        if sent:
            reports[report[0]] = report[1]
            quiet_since = None
            continue
        if producer.process.exitcode not in (None, 0):
            break
        if not any(c.process.is_alive() for c in consumers):
            break
        if producer.process.exitcode == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > SETTLE:
                break
    return reports


def check_sentinel_producer(
    producer: Any, *, method: str | None = None, timeout: float = CHECK_TIMEOUT
) -> Verdict:
    """Run ``producer(q, items, n_consumers)`` in a child, with consumers taking from ``q``.

    It must put every item, then one sentinel ``None`` per consumer, and return.
    """
    timeout = require_timeout(timeout)
    refused = _not_a_function("producer", producer)
    if refused is not None:
        return refused
    ctx = get_multiprocess_context(method)
    q, results = ctx.Queue(), ctx.Queue()
    deadline = time.monotonic() + timeout
    consumers: list[Child] = []
    children: list[Child] = []
    try:
        for n in range(PRODUCER_CONSUMERS):
            consumers.append(
                start(ctx, take_until_sentinel, q, results, label=f"c{n}", timeout=timeout)
            )
        children.append(
            start(ctx, producer, q, list(PRODUCER_ITEMS), PRODUCER_CONSUMERS, name="producer")
        )
        reports = _collect(results, children[0], consumers, deadline)
        try:
            children[0].wait(max(POLL, deadline - time.monotonic()))
        except ChildTimeout as err:
            _forget(err)
            return fail(
                "your producer never finished: put the items and the sentinels, then return"
            )
        except ChildError as err:
            return fail(_raised("producer", err))
        return _judge_producer_run(reports, q)
    except Exception as exc:  # dill could not send it: a hint, not a traceback
        return fail(f"your producer could not be sent to a child: {type(exc).__name__}: {exc}")
    finally:
        _stop([*children, *consumers])
        _close(q, results)


def _judge_producer_run(reports: dict[str, list[Any]], q: Any) -> Verdict:
    stuck = PRODUCER_CONSUMERS - len(reports)
    if stuck:
        return fail(
            f"{stuck} of {PRODUCER_CONSUMERS} consumers never stopped: did every consumer "
            "get a sentinel? Put one None per consumer, after the last item"
        )
    taken = sorted(item for items in reports.values() for item in items)
    left = [item for item in _drain(q) if item is not None]
    if left:
        return fail(
            f"the consumers stopped with {len(left)} of {len(PRODUCER_ITEMS)} items still "
            "in the queue: put the sentinels after the last item, not before"
        )
    if taken != list(PRODUCER_ITEMS):
        return fail(
            f"the consumers took {taken}, expected each of 1…{len(PRODUCER_ITEMS)} "
            "exactly once: put every item once"
        )
    return ok(
        f"all {len(PRODUCER_ITEMS)} items were taken and all {PRODUCER_CONSUMERS} consumers stopped"
    )


# --------------------------------------------------------------------------
# The whole program: workers, a task queue, a results queue, sentinels, joins
# --------------------------------------------------------------------------

# Enough results (a few hundred KiB) to overflow a pipe's buffer: a program that
# joins its workers before reading their results is then stuck for sure.
PROGRAM_NUMBERS = tuple(range(1, 20_001))
PROGRAM_WORKERS = 3


def _source(function: Any) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # built in, or written where no source is kept
        return ""


def _workers(run: ProgramRun) -> list[Started]:
    return [p for p in run.started if callable(p.target)]


def _stops_on_empty(run: ProgramRun) -> str | None:
    for worker in _workers(run):
        if ".empty()" in _source(worker.target):
            return (
                f"your worker {worker.target.__name__}() decides to stop when the queue's "
                "empty() says True: between processes that is only a snapshot — it is True "
                "before the first number arrives, and False just before another worker takes "
                "the last one. Loop on get(timeout=...) until the sentinel None arrives"
            )
    return None


def _joined_before_draining(run: ProgramRun, recorder: RecordingContext) -> str | None:
    finished_late = [p for p in run.started if p.join_ran_out and p.exitcode == 0]
    unread = run.timed_out and any(_holds_items(q) for q in recorder.queues)
    if not (finished_late or unread):
        return None
    return (
        "your program joined a worker before reading its results: a process that has put "
        "items cannot exit until they are all in the pipe, and the pipe holds only 64 KiB, "
        "so join() waited for a worker that was waiting for you. Take every result first, "
        "then join"
    )


def _holds_items(q: Any) -> bool:
    try:
        return not q.empty()
    except (OSError, ValueError):  # closed by the program: it holds nothing we can see
        return False


def _missing_sentinels(run: ProgramRun) -> str | None:
    workers = _workers(run)
    waiting = [p for p in workers if p.exitcode is None]
    if not waiting:
        return None
    if len(waiting) == len(workers):
        return (
            f"none of your {len(workers)} workers stopped: each is still waiting for its "
            "sentinel. After the last number, put one None per worker"
        )
    return (
        f"{len(waiting)} of your {len(workers)} workers never stopped: a worker stops at the "
        "first sentinel it takes, and each sentinel is taken by one worker — put one None "
        "per worker, after the last number"
    )


def _wrong_result(run: ProgramRun, numbers: list[int]) -> str | None:
    expected = [n * n for n in numbers]
    if run.result is None:
        return "your program returned None: return the list of squares it collected"
    try:
        got = sorted(run.result)
    except TypeError:
        return f"your program returned a {type(run.result).__name__}: return a list of squares"
    if got == expected:
        return None
    return (
        f"your program returned {len(got)} values, expected the {len(expected)} squares of "
        f"1…{len(numbers)}: take exactly one result per number, every one of them"
    )


def _discard(recorder: RecordingContext) -> None:
    for q in recorder.queues:
        with suppress(OSError, ValueError):
            q.cancel_join_thread()  # what a failed program left need not be delivered
            q.close()


def check_squares_program(
    program: Any,
    *,
    ctx: Any = None,
    workers: int = PROGRAM_WORKERS,
    timeout: float = PROGRAM_TIMEOUT,
) -> Verdict:
    """Run ``program(ctx, numbers, n_workers)``, a learner's whole program, and judge it.

    It must start ``n_workers`` processes that square numbers from a task
    queue, send each number, stop every worker with a sentinel, collect one
    square per number, join every worker, and return the squares. ``ctx``
    defaults to the course's context (``COURSE_START_METHOD``).
    """
    refused = not_a_function(program, "check_squares_program(squares_program)")
    if refused is not None:
        return refused
    numbers = list(PROGRAM_NUMBERS)
    recorder = RecordingContext(get_context() if ctx is None else ctx)
    run = run_program(program, recorder, numbers, workers, timeout=timeout, shared_memory=False)
    try:
        hint = (
            _stops_on_empty(run)
            or _joined_before_draining(run, recorder)
            or _missing_sentinels(run)
            or common_mistake(run)
            or _wrong_result(run, numbers)
        )
    finally:
        _discard(recorder)
    if hint is not None:
        return fail(hint)
    return ok(
        f"{len(run.started)} workers squared {len(numbers):,} numbers, every one stopped on "
        "its sentinel, and every one was joined after its results were read"
    )
