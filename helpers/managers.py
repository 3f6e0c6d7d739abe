"""Lesson 02 (Managers): a server process shares ordinary Python objects through proxies.

``ctx.Manager()`` starts a **server process** that owns real Python objects —
a list, a dict, a ``Value``, a ``Lock``, a ``Queue``. Every other process,
the notebook included, holds only a **proxy**: each method call on it is
pickled, sent over a socket to the server, run there, and its result pickled
back. This module holds the workers the lesson's children run, and
notebook-side helpers that check their input first and never wait without a
limit.

Lifecycle: whoever calls ``ctx.Manager()`` shuts it down, either by leaving
``with ctx.Manager() as manager:`` or by calling ``manager.shutdown()``. The
objects live only as long as the server: a proxy used afterwards cannot reach
them, and the helpers here then raise :class:`ManagerGone`.

>>> print(format_table([("Sam", 10), ("Jeff", 8)]))
name  score
Sam      10
Jeff      8
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.managers import BaseProxy, ListProxy, SyncManager, ValueProxy
from typing import TYPE_CHECKING, Any, TypeVar

from helpers.running import DEFAULT_TIMEOUT, CallTimeout, call_with_timeout, run, start, wait
from helpers.validation import require_context, require_positive_int, require_timeout
from helpers.workers.managers import (
    START_TIMEOUT,
    add_ones,
    add_record,
    count_scores,
    send_records,
)

if TYPE_CHECKING:
    from helpers.context import Context

    T = TypeVar("T")  # only annotations use it, and they are never evaluated

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_SCORE",
    "MIN_SCORE",
    "SEED_RECORDS",
    "START_TIMEOUT",
    "CallCost",
    "ManagerGone",
    "ManagerTimeout",
    "RecordBoard",
    "add_ones",
    "add_record",
    "add_record_via_child",
    "count_scores",
    "count_together",
    "format_table",
    "is_running",
    "measure_call_cost",
    "parse_score",
    "require_name",
    "send_records",
    "server_pid",
    "snapshot",
]

MAX_NAME_LENGTH = 20  # keeps the printed table readable
MIN_SCORE = 0
MAX_SCORE = 100
MAX_WORKERS = 8  # the race needs a few children, not a classroom's worth of laptops
MAX_TIMES = 100_000
MAX_CALLS = 1_000_000

# The example's four records, once the first child has added Jeff's.
SEED_RECORDS = (("Sam", 10), ("Adam", 9), ("Kevin", 9), ("Jeff", 8))


class ManagerGone(RuntimeError):
    """The manager's server process is not running, so its objects are gone."""


class ManagerTimeout(TimeoutError):
    """The manager's server process did not answer in time (stopped or overloaded?)."""


# --------------------------------------------------------------------------
# Checking input, in the caller's process, before any child starts
# --------------------------------------------------------------------------


from helpers.validation import kind as _kind  # noqa: E402 - one definition, shared


def require_name(name: Any) -> str:
    """Return ``name`` without surrounding spaces if it is usable in a record.

    >>> require_name("  Jeff ")
    'Jeff'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be text, not {_kind(name)} {name!r}")
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("name is empty: type a name such as 'Jeff'")
    if not cleaned.isprintable():
        raise ValueError(f"name {cleaned!r} must be one line of printable characters")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(
            f"name must be at most {MAX_NAME_LENGTH} characters, not {len(cleaned)} ({cleaned!r})"
        )
    return cleaned


def parse_score(score: Any) -> int:
    """Return ``score`` as an int from a whole number or text such as ``"8"``.

    >>> parse_score(" 8 ")
    8
    """
    if isinstance(score, str):
        try:
            value = int(score.strip())
        except ValueError:
            raise ValueError(f"score {score!r} is not a whole number, e.g. 8") from None
    elif isinstance(score, bool) or not isinstance(score, numbers.Integral):
        # bool is an int subclass, but True as a score is surely a mistake.
        raise TypeError(f"score must be a whole number, not {_kind(score)} {score!r}")
    else:
        value = int(score)
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise ValueError(f"score must be between {MIN_SCORE} and {MAX_SCORE}, not {value}")
    return value


def _require_rows(rows: Any) -> list[tuple[str, int]]:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be a list of (name, score) pairs, not {_kind(rows)}")
    checked = []
    for position, row in enumerate(rows):
        if not isinstance(row, (tuple, list)) or len(row) != 2:
            raise TypeError(f"rows[{position}] must be a (name, score) pair, not {row!r}")
        checked.append((str(row[0]), row[1]))
    return checked


def _require_proxy(obj: Any, name: str, kind: type, made_by: str) -> Any:
    if not isinstance(obj, kind):
        # A plain list would be copied into the child, and the child's change lost.
        raise TypeError(f"{name} must be a managed object from {made_by}, not {_kind(obj)}")
    return obj


def _require_manager(manager: Any) -> SyncManager:
    if not isinstance(manager, SyncManager):
        raise TypeError(f"manager must come from ctx.Manager(), not {_kind(manager)}")
    if not is_running(manager):
        raise ManagerGone(
            "the manager's server process is not running (shut down or killed): "
            "the objects it held are gone; start a new one with ctx.Manager()"
        )
    return manager


# --------------------------------------------------------------------------
# Talking to the server from the notebook's process, with a time limit
# --------------------------------------------------------------------------


def is_running(manager: SyncManager) -> bool:
    """True while ``manager``'s server process is alive (call it where the manager was made)."""
    # BaseManager keeps its server's Process object in ``_process`` and offers
    # no public accessor; it exists once the manager has been started.
    process = getattr(manager, "_process", None)
    return process is not None and process.is_alive()


def server_pid(manager: SyncManager) -> int:
    """The PID of the server process that holds ``manager``'s objects."""
    return _require_manager(manager)._process.pid  # type: ignore[attr-defined]


def _bounded(call: Callable[[], T], *, what: str, timeout: float) -> T:
    """Make one proxy call within ``timeout`` seconds, as :class:`ManagerGone` or
    :class:`ManagerTimeout` if the server cannot answer.

    A proxy call has no timeout of its own: if the server is stopped it can
    block forever. :func:`~helpers.running.call_with_timeout` makes it in a
    fresh thread, where the proxy opens a fresh connection, so a dead server
    shows up at once as a refused connection and a stuck one as a timeout.
    """
    try:
        return call_with_timeout(call, timeout=timeout, what=f"manager call: {what}")
    except CallTimeout:
        raise ManagerTimeout(
            f"the manager did not answer within {timeout:g} s while {what}: "
            "is its server process stopped or overloaded?"
        ) from None
    except (EOFError, OSError):
        raise ManagerGone(
            "the manager's server process is not running (shut down or killed), so "
            f"{what} failed: the objects it held are gone; start a new one with ctx.Manager()"
        ) from None  # the socket error underneath says less than this, and buries it


def snapshot(proxy: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Return a local copy of what a managed list, dict or Value holds (one round trip).

    The copy is an ordinary object in the caller's process: changing it does
    not change the server's.
    """
    _require_proxy(proxy, "proxy", BaseProxy, "manager.list(), manager.dict() or manager.Value()")
    require_timeout(timeout)
    if isinstance(proxy, ValueProxy):
        return _bounded(lambda: proxy.value, what="reading its value", timeout=timeout)
    # _getvalue() is the documented way to copy the referent out of the server.
    return _bounded(proxy._getvalue, what="copying its data", timeout=timeout)


# --------------------------------------------------------------------------
# Notebook-side helpers: check input, start children, report plain results
# --------------------------------------------------------------------------


def format_table(rows: Any) -> str:
    """Return (name, score) pairs as a small text table, one record per line."""
    checked = _require_rows(rows)
    width = max([len("name")] + [len(name) for name, _ in checked])
    lines = [f"{'name':<{width}}  score"]
    lines += [f"{name:<{width}}  {score:>5}" for name, score in checked]
    return "\n".join(lines)


def add_record_via_child(
    ctx: Context,
    records: ListProxy,
    name: Any,
    score: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Check ``name`` and ``score``, append them in a child, and return the shared table.

    Everything is checked here, in the caller's process, before the child
    starts; a child that fails raises :class:`helpers.running.ChildError`.
    """
    require_context(ctx, needs=("Manager",))
    _require_proxy(records, "records", ListProxy, "manager.list()")
    record = (require_name(name), parse_score(score))
    require_timeout(timeout)
    snapshot(records, timeout=timeout)  # a dead manager is reported before a child starts
    run(ctx, add_record, records, record, timeout=timeout)
    return format_table(snapshot(records, timeout=timeout))


@dataclass(frozen=True)
class CallCost:
    """Microseconds per ``append``: on a local list and through a proxy."""

    local_us: float
    proxy_us: float

    @property
    def ratio(self) -> float:
        """How many times slower the proxy call is."""
        return self.proxy_us / self.local_us


def _us_per_append(target: Any, calls: int) -> float:
    began = time.perf_counter()
    for number in range(calls):
        target.append(number)
    return (time.perf_counter() - began) / calls * 1e6


def _us_per_proxy_append(manager: SyncManager, calls: int) -> float:
    shared = manager.list()
    shared.append(-1)  # the first call opens this thread's connection: keep it out of the timing
    return _us_per_append(shared, calls)  # the list is freed when its last proxy goes


def measure_call_cost(
    manager: SyncManager, *, calls: int = 2_000, timeout: float = DEFAULT_TIMEOUT
) -> CallCost:
    """Time ``calls`` appends to a local list and to a managed one, from this process."""
    _require_manager(manager)
    calls = require_positive_int(calls, "calls", maximum=MAX_CALLS)
    require_timeout(timeout)
    local_us = _us_per_append([], calls)
    proxy_us = _bounded(
        lambda: _us_per_proxy_append(manager, calls),
        what=f"timing {calls} appends",
        timeout=timeout,
    )
    # perf_counter can tick coarser than one local append; never report zero.
    return CallCost(local_us=max(local_us, 1e-3), proxy_us=proxy_us)


def count_together(
    ctx: Context,
    manager: SyncManager,
    *,
    workers: int = 4,
    times: int = 300,
    locked: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> int:
    """Let ``workers`` children each add 1 ``times`` times to one managed Value.

    They start together (a managed Barrier), with or without a managed Lock
    around each ``+=``. Returns the final count: ``workers * times`` if no
    update was lost. Every child is joined within ``timeout``.
    """
    require_context(ctx, needs=("Manager",))
    _require_manager(manager)
    workers = require_positive_int(workers, "workers", maximum=MAX_WORKERS)
    times = require_positive_int(times, "times", maximum=MAX_TIMES)
    if not isinstance(locked, bool):
        raise TypeError(f"locked must be True or False, not {_kind(locked)} {locked!r}")
    require_timeout(timeout)
    counter, start_together, lock = _bounded(
        lambda: (
            manager.Value("i", 0),
            manager.Barrier(workers),
            manager.Lock() if locked else None,
        ),
        what="creating the counter, barrier and lock",
        timeout=timeout,
    )
    children = [
        start(ctx, add_ones, counter, times, start_together, lock, name=f"adder {n}")
        for n in range(1, workers + 1)
    ]
    wait(children, timeout=timeout)
    return snapshot(counter, timeout=timeout)


class RecordBoard:
    """The playground's shared table: a managed list of records, in a manager of its own.

    The board starts its manager the first time it is asked to add a record,
    and again if that manager has since stopped — shut down by the notebook's
    cleanup cell, say — so the playground still works after "Run All".
    Lifecycle: :meth:`close` shuts the manager down; one the board started and
    nobody closed is shut down when the kernel exits.

    >>> import multiprocessing
    >>> board = RecordBoard(multiprocessing.get_context())
    >>> board.add("", 3)
    Traceback (most recent call last):
    ...
    ValueError: name is empty: type a name such as 'Jeff'
    >>> board.running   # bad input is refused before any process starts
    False
    """

    def __init__(
        self,
        ctx: Context,
        *,
        first_records: Iterable[tuple[str, int]] = SEED_RECORDS,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._ctx = require_context(ctx, needs=("Manager",))
        self._first = [
            (require_name(name), parse_score(score)) for name, score in _require_rows(first_records)
        ]
        self._timeout = require_timeout(timeout)
        self._manager: SyncManager | None = None
        self._records: ListProxy | None = None

    @property
    def running(self) -> bool:
        """True while the board's manager is alive."""
        return self._manager is not None and is_running(self._manager)

    def add(self, name: Any, score: Any) -> str:
        """Append ``(name, score)`` in a child process; return the table the server now holds."""
        record = (require_name(name), parse_score(score))  # before anything starts
        note = self._start_if_needed()
        table = add_record_via_child(self._ctx, self._records, *record, timeout=self._timeout)  # type: ignore[arg-type]
        return table if note is None else f"{note}\n{table}"

    def close(self) -> None:
        """Shut the board's manager down (nothing happens if it is not running)."""
        self._records = None  # drop the proxy before its server goes
        if self._manager is not None:
            self._manager.shutdown()

    def _start_if_needed(self) -> str | None:
        if self.running:
            return None
        restarted = self._manager is not None
        self.close()
        self._manager = self._ctx.Manager()
        self._records = self._manager.list(self._first)
        if restarted:
            return (
                "(the table's manager had been shut down, so a new one was started "
                f"with the first {len(self._first)} records)"
            )
        return None
