"""Checkers for lesson 08's exercises: whole programs that use a pool of processes.

The learner writes the task in a module the notebook writes (``my_workers_08.py``)
and a function ``program(ctx, ...)`` that creates a pool with ``ctx``, hands it
the work, collects the answers, and shuts the pool down. Each checker runs that
function with :func:`helpers.checking.run_program` — bounded, every process it
starts recorded — while it also watches the pools themselves: which kind, with
which context, how many messages the work took, which function each task ran,
and how the pool was shut down. The hint names the first mistake it finds.

>>> check_count_primes(42)
✘ pass your function itself, e.g. check_count_primes(count_primes), not a int
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import signal
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import pool as mp_pool
from typing import TYPE_CHECKING, Any

from helpers.checking import (
    PROGRAM_TIMEOUT,
    ProgramRun,
    Verdict,
    common_mistake,
    context_for,
    fail,
    not_a_function,
    ok,
    run_program,
    wrapping_methods,
)
from helpers.pools import fragile_task
from helpers.validation import require_timeout

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "CAREFUL_INPUTS",
    "MAX_MESSAGES",
    "PRIMES_BELOW_LIMIT",
    "PRIME_LIMIT",
    "PoolUse",
    "check_careful_map",
    "check_count_primes",
    "watching_pools",
]

PRIME_LIMIT = 20_000
PRIMES_BELOW_LIMIT = 2_262  # π(20,000 − 1): the primes 2, 3, 5, …, 19,997
# Past this many messages for 20,000 tiny tasks, sending costs more than computing.
MAX_MESSAGES = 1_000
# What the careful map gets: 40 tasks of 50 ms on 2 workers; the poisoned run has -1
# fourth. With the rest cancelled, at most the tasks already handed out start: the
# four before it, one per worker, and one queued per worker.
CAREFUL_INPUTS = tuple(range(40))
POISON_AT = 3
MOST_STARTED_AFTER_ERROR = 12


@dataclass
class PoolUse:
    """One pool a learner's program created, as the checker saw it."""

    kind: str  # "ProcessPoolExecutor" or "Pool"
    pool: Any = field(repr=False)
    context_given: bool  # mp_context= / ctx.Pool: a start method was chosen
    initargs: tuple = field(default=(), repr=False)  # what the initializer was given
    messages: int = 0  # tasks or chunks of tasks sent to the workers
    functions: list[Any] = field(default_factory=list, repr=False)  # what the tasks ran
    used_map: bool = False
    shut_down: bool = False  # shutdown(wait=True), or close() and join()
    closed_not_joined: bool = False  # Pool.close() with no join() after it
    terminated: bool = False  # Pool.terminate(), which `with ctx.Pool()` calls


def _target(fn: Any) -> Any:
    """The learner's function behind ProcessPoolExecutor.map's chunk wrapper."""
    inner = getattr(fn, "args", ())
    return inner[0] if getattr(fn, "func", None) is not None and inner else fn


def _chunks(items: int, chunksize: int | None, workers: int) -> int:
    if chunksize is None:  # Pool.map's own choice: about four chunks per worker
        chunksize, extra = divmod(items, workers * 4)
        chunksize += bool(extra)
    return math.ceil(items / max(1, chunksize))


class _Watch:
    """The records, and the wrappers that fill them in around each pool method."""

    def __init__(self) -> None:
        self.seen: list[PoolUse] = []
        self.by_pool: dict[int, PoolUse] = {}

    def record(self, pool: Any) -> PoolUse | None:
        return self.by_pool.get(id(pool))

    def new(self, pool: Any, kind: str, context_given: bool, initargs: Any = ()) -> None:
        use = PoolUse(kind, pool, context_given, tuple(initargs or ()))
        self.seen.append(use)
        self.by_pool[id(pool)] = use

    def sent(self, pool: Any, fn: Any, messages: int, *, mapped: bool) -> None:
        if (use := self.record(pool)) is not None:
            use.messages += messages
            use.functions.append(fn)
            use.used_map = use.used_map or mapped

    def ppe_init(self, original: Any) -> Any:
        def __init__(self_: Any, max_workers: Any = None, mp_context: Any = None, *a, **k):
            initargs = k.get("initargs", a[1] if len(a) > 1 else ())
            self.new(self_, "ProcessPoolExecutor", mp_context is not None, initargs)
            original(self_, max_workers, mp_context, *a, **k)

        return __init__

    def ppe_submit(self, original: Any) -> Any:
        def submit(self_: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.sent(self_, _target(fn), 1, mapped=False)  # map() submits each chunk
            return original(self_, fn, *args, **kwargs)

        return submit

    def ppe_map(self, original: Any) -> Any:
        def map(self_: Any, fn: Any, *iterables: Any, **kwargs: Any) -> Any:
            self.sent(self_, fn, 0, mapped=True)
            return original(self_, fn, *iterables, **kwargs)

        return map

    def ppe_shutdown(self, original: Any) -> Any:
        def shutdown(self_: Any, wait: bool = True, **kwargs: Any) -> None:
            original(self_, wait, **kwargs)
            if (use := self.record(self_)) is not None and wait:
                use.shut_down = True

        return shutdown

    def pool_init(self, original: Any) -> Any:
        def __init__(self_: Any, *args: Any, **kwargs: Any) -> None:
            context = kwargs.get("context", args[4] if len(args) > 4 else None)
            self.new(self_, "Pool", context is not None)
            original(self_, *args, **kwargs)

        return __init__

    def pool_map_async(self, original: Any) -> Any:
        def _map_async(self_: Any, func: Any, iterable: Any, mapper: Any, chunksize=None, *a, **k):
            iterable = list(iterable)
            chunks = _chunks(len(iterable), chunksize, len(self_._pool))
            self.sent(self_, func, chunks, mapped=True)
            return original(self_, func, iterable, mapper, chunksize, *a, **k)

        return _map_async

    def pool_imap(self, original: Any) -> Any:
        def imap(self_: Any, func: Any, iterable: Any, chunksize: int = 1) -> Any:
            iterable = list(iterable)
            self.sent(self_, func, _chunks(len(iterable), chunksize, 1), mapped=True)
            return original(self_, func, iterable, chunksize)

        return imap

    def pool_apply_async(self, original: Any) -> Any:
        def apply_async(self_: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
            self.sent(self_, func, 1, mapped=False)
            return original(self_, func, *args, **kwargs)

        return apply_async

    def pool_close(self, original: Any) -> Any:
        def close(self_: Any) -> None:
            original(self_)
            if (use := self.record(self_)) is not None:
                use.closed_not_joined = True

        return close

    def pool_join(self, original: Any) -> Any:
        def join(self_: Any) -> None:
            original(self_)
            if (use := self.record(self_)) is not None:
                use.shut_down = use.shut_down or use.closed_not_joined
                use.closed_not_joined = False

        return join

    def pool_terminate(self, original: Any) -> Any:
        def terminate(self_: Any) -> None:
            if (use := self.record(self_)) is not None:
                use.terminated = True
            original(self_)

        return terminate


_PATCHED = [
    (ProcessPoolExecutor, "__init__", "ppe_init"),
    (ProcessPoolExecutor, "submit", "ppe_submit"),
    (ProcessPoolExecutor, "map", "ppe_map"),
    (ProcessPoolExecutor, "shutdown", "ppe_shutdown"),
    (mp_pool.Pool, "__init__", "pool_init"),
    (mp_pool.Pool, "_map_async", "pool_map_async"),
    (mp_pool.Pool, "imap", "pool_imap"),
    (mp_pool.Pool, "imap_unordered", "pool_imap"),
    (mp_pool.Pool, "apply_async", "pool_apply_async"),
    (mp_pool.Pool, "close", "pool_close"),
    (mp_pool.Pool, "join", "pool_join"),
    (mp_pool.Pool, "terminate", "pool_terminate"),
]


@contextmanager
def watching_pools() -> Iterator[list[PoolUse]]:
    """Record every pool created while the block runs: kind, messages, shutdown.

    Like :func:`helpers.checking.watching_processes`, it wraps the classes'
    methods for the duration of the block (:func:`helpers.checking.wrapping_methods`).
    """
    watch = _Watch()
    with wrapping_methods((cls, name, getattr(watch, maker)) for cls, name, maker in _PATCHED):
        yield watch.seen


def _run(program: Any, *args: Any, timeout: float) -> tuple[ProgramRun, list[PoolUse]]:
    with watching_pools() as pools:
        # These exercises use no shared memory: /dev/shm is left alone.
        run = run_program(program, *args, timeout=timeout, shared_memory=False)
    for use in pools:
        if use.terminated:
            # terminate() ends the workers with SIGTERM and reaps them: that is the
            # pool's own shutdown, not a worker that failed or was left behind.
            # Workers that replaced others (maxtasksperchild) are not in its list: know
            # them by their name, SpawnPoolWorker-3 and the like.
            for record in run.started:
                ended = record.exitcode in (0, -signal.SIGTERM)
                if "PoolWorker" in record.name and ended:
                    record.joined, record.exitcode = True, 0
    return run, pools


def _defined_in_notebook(pools: list[PoolUse]) -> str | None:
    for use in pools:
        for fn in use.functions:
            if getattr(fn, "__module__", None) == "__main__":
                name = getattr(fn, "__name__", "your task")
                return (
                    f"your pool ran {name}, a function defined in the notebook: under spawn "
                    "and forkserver the pool's workers cannot import it, and the pool waits "
                    "forever (it works under fork only). Write it to my_workers_08.py with "
                    "%%writefile and import it from there"
                )
    return None


def _no_context(pools: list[PoolUse]) -> str | None:
    for use in pools:
        if not use.context_given:
            make = (
                "ProcessPoolExecutor(..., mp_context=ctx)"
                if use.kind == "ProcessPoolExecutor"
                else "ctx.Pool(...) rather than multiprocessing.Pool(...)"
            )
            return (
                f"your {use.kind} was created without ctx, so it uses the platform's "
                f"default start method instead of the notebook's: write {make}"
            )
    return None


def _not_shut_down(pools: list[PoolUse]) -> str | None:
    for use in pools:
        if use.shut_down or use.terminated:
            continue
        if use.kind == "ProcessPoolExecutor":
            return (
                "your ProcessPoolExecutor was never shut down, so its workers were left "
                "running: use `with ProcessPoolExecutor(...) as pool:`, or call "
                "pool.shutdown() when you are done"
            )
        if use.closed_not_joined:
            return (
                "your Pool was closed but never joined: close() only says no more tasks "
                "will come; call pool.join() after it to wait for the workers to exit"
            )
        return (
            "your Pool was never shut down, so its workers were left running: use "
            "`with ctx.Pool(...) as pool:`, or call pool.close() then pool.join()"
        )
    return None


def _pool_mistake(run: ProgramRun, pools: list[PoolUse]) -> str | None:
    """The first mistake, pool-specific ones before the ones every lesson checks."""
    for rule in (_defined_in_notebook, _no_context):
        hint = rule(pools)
        if hint is not None:
            return hint
    if run.error is None and not run.timed_out and run.started:
        hint = _not_shut_down(pools)
        if hint is not None:
            return hint
    if run.started and not pools and run.error is None and not run.timed_out:
        return (
            "your program started processes, but not through a pool: create one with "
            "ProcessPoolExecutor(mp_context=ctx) or ctx.Pool() and give it the work"
        )
    return common_mistake(run)


# --------------------------------------------------------------------------
# Exercise 1: count primes below a limit, in parallel, with a good chunksize
# --------------------------------------------------------------------------


def check_count_primes(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, 20_000)``; it must return how many primes are below 20,000.

    It must use a pool made with ``ctx``, send the 20,000 numbers in at most
    1,000 messages (a chunksize, or a few ranges), and shut the pool down.
    """
    timeout = require_timeout(timeout)
    refused = not_a_function(program, "check_count_primes(count_primes)")
    if refused is not None:
        return refused
    run, pools = _run(program, context_for(ctx), PRIME_LIMIT, timeout=timeout)
    hint = _pool_mistake(run, pools)
    if hint is not None:
        return fail(hint)
    result = run.result
    if isinstance(result, bool) or not isinstance(result, int):
        return fail(
            f"your program returned a {type(result).__name__}, not the number of primes: "
            "return the count, e.g. sum(flags) of the True/False answers"
        )
    if result != PRIMES_BELOW_LIMIT:
        return fail(_wrong_count(result))
    messages = sum(use.messages for use in pools)
    if messages > MAX_MESSAGES:
        return fail(
            f"right count, but your program sent the work as {messages:,} separate tasks: "
            f"each one is a round trip to a worker, costlier than testing one number. "
            f"Send it in chunks: map(..., chunksize={PRIME_LIMIT // 8:,}) for 2 workers, "
            "or a few ranges of numbers"
        )
    workers = sum(1 for record in run.started)
    return ok(
        f"{PRIMES_BELOW_LIMIT:,} primes below {PRIME_LIMIT:,}, sent as {messages:,} "
        f"message(s) to a pool that started {workers} worker(s) and shut down cleanly"
    )


def _wrong_count(result: int) -> str:
    expected = PRIMES_BELOW_LIMIT
    if result == expected + 1:
        return (
            f"your program counted {result:,}, one too many: 1 is not a prime "
            "(a prime has exactly two divisors, 1 and itself)"
        )
    if result == expected - 1:
        return f"your program counted {result:,}, one too few: 2 is a prime"
    if result == expected + 2:
        return f"your program counted {result:,}: neither 0 nor 1 is a prime"
    return (
        f"your program counted {result:,} primes below {PRIME_LIMIT:,}, expected "
        f"{expected:,}: try your test on small numbers in the notebook first "
        "(the primes below 20 are 2, 3, 5, 7, 11, 13, 17, 19)"
    )


# --------------------------------------------------------------------------
# Exercise 2: a careful map — progress through a queue, stop at the first error
# --------------------------------------------------------------------------


def _careful_run(program: Any, ctx: Any, inputs: list[int], timeout: float) -> Any:
    """Run ``program(ctx, task, inputs, on_progress)``; what it returned, reported, started."""
    reported: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="careful-map-") as scratch:
        log = os.path.join(scratch, "started.txt")
        task = functools.partial(fragile_task, log)
        run, pools = _run(program, ctx, task, inputs, reported.append, timeout=timeout)
        started = open(log).read().split() if os.path.exists(log) else []
    return run, pools, reported, len(started)


def _queue_mistake(run: ProgramRun, pools: list[PoolUse]) -> str | None:
    if isinstance(run.error, RuntimeError) and "inheritance" in str(run.error):
        return (
            "your program sent the progress queue along with a task, and a multiprocessing "
            "queue may only reach a process as it starts: give it to the pool's initializer "
            "(initializer=..., initargs=(queue,)), which keeps it in a global of the worker"
        )
    if pools and not any(use.initargs for use in pools):
        return (
            "your pool got no initializer arguments: hand the progress queue to each worker "
            "once, as it starts (initializer=keep_queue, initargs=(progress,))"
        )
    return None


def _clean_run_mistake(
    run: ProgramRun, pools: list[PoolUse], reported: list[Any], inputs: list[int]
) -> str | None:
    hint = _queue_mistake(run, pools) or _pool_mistake(run, pools)
    if hint is not None:
        return hint
    if run.result != [x * x for x in inputs]:
        return (
            "with no error, your program must return every result in the order of the "
            f"inputs (the {len(inputs)} squares): keep the futures in a list, in order"
        )
    if sorted(reported) != inputs:
        return (
            f"on_progress was called for {len(reported)} of the {len(inputs)} tasks: take "
            "one report off the queue (get with a timeout) for every task that finished, "
            "and pass it to on_progress"
        )
    return None


def _poisoned_run_mistake(
    run: ProgramRun, pools: list[PoolUse], started: int, inputs: list[int]
) -> str | None:
    if run.timed_out:
        return (
            "with a task that raises, your program never returned: a report that never "
            "comes must not be waited for (the failed task put none)"
        )
    if not isinstance(run.error, ValueError):
        got = "returned normally" if run.error is None else f"raised {type(run.error).__name__}"
        return (
            f"one task raised ValueError, but your program {got}: re-raise the first "
            "error (future.result() raises it) once the rest are cancelled"
        )
    # The ValueError was the point; every other mistake still counts.
    hint = _not_shut_down(pools) or common_mistake(dataclasses.replace(run, error=None))
    if hint is not None:
        return hint
    if started > MOST_STARTED_AFTER_ERROR:
        return (
            f"the first error did not stop the rest: {started} of {len(inputs)} tasks "
            "started. Cancel what has not started: pool.shutdown(cancel_futures=True), "
            "or future.cancel() on each pending future, as soon as one fails"
        )
    return None


def check_careful_map(
    program: Any, *, ctx: Context | None = None, timeout: float = PROGRAM_TIMEOUT
) -> Verdict:
    """Run ``program(ctx, task, inputs, on_progress)`` twice: 40 good inputs, then the same
    with a poisoned one (the task raises ValueError for it) fourth.

    The first run must return every result in the inputs' order and call
    ``on_progress(x)`` once per input, from reports the workers put on a queue
    the pool's initializer gave them. The second must raise the task's
    ValueError and cancel the rest: at most a dozen of the 40 tasks may start.
    """
    timeout = require_timeout(timeout)
    refused = not_a_function(program, "check_careful_map(careful_map)")
    if refused is not None:
        return refused
    ctx = context_for(ctx)
    inputs = list(CAREFUL_INPUTS)
    run, pools, reported, _ = _careful_run(program, ctx, inputs, timeout)
    hint = _clean_run_mistake(run, pools, reported, inputs)
    if hint is not None:
        return fail(hint)
    poisoned = list(inputs)
    poisoned[POISON_AT] = -1
    run, pools, reported, started = _careful_run(program, ctx, poisoned, timeout)
    hint = _poisoned_run_mistake(run, pools, started, inputs)
    if hint is not None:
        return fail(hint)
    return ok(
        f"{len(inputs)} results in order with {len(inputs)} progress reports through the "
        "initializer's queue; with a failing task, its ValueError came back and no more "
        f"than {MOST_STARTED_AFTER_ERROR} of {len(inputs)} tasks started"
    )
