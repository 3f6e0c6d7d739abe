"""Lesson 01 (Array and Value): shared ctypes memory, the notebook's side.

``ctx.Array(typecode, n)`` and ``ctx.Value(typecode)`` allocate C numbers (ctypes
objects) in a block of memory that the parent and its children map at the same
time, so what a child writes the parent reads — no copy, no message. Each
number has a fixed C type, named by a one-letter **typecode** (``'i'`` is a C
``int``), and a value that does not fit that type is silently wrapped, so the
helpers here check the fit in the caller's process before any child starts.

Lifecycle: nothing here needs ``close()`` or ``unlink()``. An ``Array``/``Value``
lives in an anonymous block of the parent's shared heap (its file is deleted the
moment it is created), and the block is freed when the last process holding it
lets go. Every child is started through :mod:`helpers.running`, so it is joined
within a timeout and an exception it raises reaches the caller as
:class:`~helpers.running.ChildError`.

>>> from helpers.context import get_context
>>> square_list(get_context(), [1, 2, 3, 4])
([1, 4, 9, 16], 30)
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.sharedctypes import (  # type: ignore[attr-defined]  # not in typeshed
    SynchronizedBase,
    typecode_to_type,
)
from typing import TYPE_CHECKING, Any

from helpers.dev_shm import SHM_DIR, can_list
from helpers.running import DEFAULT_TIMEOUT, Child, run, start, stop, wait
from helpers.validation import (
    parse_int_list,
    require_context,
    require_int_list,
    require_positive_int,
    require_timeout,
)
from helpers.workers.sharedctypes import (
    CountingLock,
    add_both_ways,
    add_squares_into,
    add_with_lock,
    add_without_lock,
    hold_lock,
    increment_in_between,
    increment_paused,
    send_sum_of_squares,
    square_into,
    square_slice,
    try_lock,
    try_module_lock,
)

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "C_TYPE_NAMES",
    "INTEGER_TYPECODES",
    "MAX_INCREMENTS",
    "MAX_RACING_PROCESSES",
    "MAX_TOTAL_INCREMENTS",
    "PLAYGROUND_INCREMENTS",
    "PORTABLE_TYPECODES",
    "RACE_INCREMENTS",
    "CountingLock",
    "PlaygroundResult",
    "RaceResult",
    "add_both_ways",
    "add_squares_into",
    "add_with_lock",
    "add_without_lock",
    "check_fits",
    "choose_typecode",
    "fill_squares",
    "hold_lock",
    "increment_in_between",
    "increment_paused",
    "integer_range",
    "playground",
    "race",
    "require_typecode",
    "semaphore_file",
    "send_sum_of_squares",
    "square_into",
    "square_list",
    "square_slice",
    "try_lock",
    "try_module_lock",
    "typecode_table",
]

# The typecodes of whole-number C types that Array and Value accept.
INTEGER_TYPECODES = ("b", "B", "h", "H", "i", "I", "l", "L", "q", "Q")
# Same size on Linux, macOS and Windows; 'l'/'L' (C long) are 8 bytes on 64-bit
# Linux and macOS but 4 on Windows, so a table meant to be identical everywhere
# leaves them out.
PORTABLE_TYPECODES = ("b", "B", "h", "H", "i", "I", "q", "Q")
C_TYPE_NAMES = {
    "b": "signed char",
    "B": "unsigned char",
    "h": "short",
    "H": "unsigned short",
    "i": "int",
    "I": "unsigned int",
    "l": "long",
    "L": "unsigned long",
    "q": "long long",
    "Q": "unsigned long long",
}
# Narrowest first: what choose_typecode tries. Signed first because squares and
# sums are easier to reason about in signed types; 'Q' is the last resort.
_WIDENING = ("b", "h", "i", "q", "Q")

# Enough work per adder that unlocked adders overlap even on a loaded machine, where
# a woken process can wait tens of milliseconds for a core. Measured on two cores:
# 4 adders x 40,000 lost at least 52,000 of the 160,000 increments in each of 15 runs
# under a load of 7 (x 20,000, under a load of 5-11, some runs lost none).
RACE_INCREMENTS = 40_000
# The playground's race is shorter: even 10,000 increments per adder lose most of
# them here, and a click should answer in a fraction of a second.
PLAYGROUND_INCREMENTS = 20_000
# A laptop has a handful of cores; more racing processes only slows the lesson.
MAX_RACING_PROCESSES = 16
# Keeps the widest race (16 × 1,000,000) inside the counter's C int.
MAX_INCREMENTS = 1_000_000
# processes × increments: locked adding costs about a microsecond or more under
# contention, so this keeps one race to seconds, not the minutes 16 × 1,000,000 took.
MAX_TOTAL_INCREMENTS = 1_600_000


def require_typecode(typecode: Any, name: str = "typecode") -> str:
    """Return ``typecode`` if it names a whole-number C type, else raise.

    >>> require_typecode("i")
    'i'
    """
    if not isinstance(typecode, str):
        raise TypeError(
            f"{name} must be a one-letter string such as 'i', not {type(typecode).__name__}"
            f" {typecode!r}"
        )
    if typecode not in INTEGER_TYPECODES:
        valid = ", ".join(repr(code) for code in INTEGER_TYPECODES)
        raise ValueError(f"{name} must be one of {valid} (whole-number C types), not {typecode!r}")
    return typecode


def _ctype_range(ctype: type) -> tuple[int, int]:
    bits = ctypes.sizeof(ctype) * 8
    # A signed C type keeps -1; an unsigned one wraps it to its largest value.
    if ctype(-1).value == -1:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def integer_range(typecode: str) -> tuple[int, int]:
    """Smallest and largest value a C number of ``typecode`` holds on this machine.

    >>> integer_range("i")
    (-2147483648, 2147483647)
    """
    return _ctype_range(typecode_to_type[require_typecode(typecode)])


def typecode_table(typecodes: Iterable[str] = PORTABLE_TYPECODES) -> str:
    """A small text table: typecode, C type, bytes and range, measured with ctypes.

    >>> print(typecode_table(["b"]))
    code  C type             bytes              smallest               largest
    'b'   signed char            1                  -128                   127
    """
    lines = [f"{'code':<5} {'C type':<18} {'bytes':>5} {'smallest':>21} {'largest':>21}"]
    for code in typecodes:
        low, high = integer_range(code)
        size = ctypes.sizeof(typecode_to_type[code])
        lines.append(f"{code!r:<5} {C_TYPE_NAMES[code]:<18} {size:>5} {low:>21} {high:>21}")
    return "\n".join(lines)


def _fits(value: int, typecode: str) -> bool:
    low, high = integer_range(typecode)
    return low <= value <= high


def choose_typecode(numbers: Any) -> str:
    """The narrowest typecode that holds every square of ``numbers`` and their sum.

    >>> choose_typecode([1, 2, 3, 4]), choose_typecode([50_000])
    ('b', 'q')
    """
    values = _require_numbers(numbers)
    needed = max([n * n for n in values] + [sum(n * n for n in values)])
    for code in _WIDENING:
        if _fits(needed, code):
            return code
    high = integer_range(_WIDENING[-1])[1]
    raise ValueError(
        f"the squares of numbers need {needed}, more than any C integer type holds"
        f" (the widest, 'Q', stops at {high})"
    )


def check_fits(value: int, typecode: str, what: str, *, wider: str | None = None) -> int:
    """Return ``value`` if a C number of ``typecode`` holds it; else a ValueError naming both.

    >>> check_fits(30, "i", "the sum of the squares")
    30
    """
    require_typecode(typecode)
    if _fits(value, typecode):
        return value
    low, high = integer_range(typecode)
    advice = f"; use a wider typecode such as {wider!r}" if wider else ""
    raise ValueError(
        f"{what} is {value}, which does not fit typecode {typecode!r}"
        f" (from {low} to {high}){advice}"
    )


def _require_numbers(numbers: Any, name: str = "numbers") -> list[int]:
    values = require_int_list(numbers, name)
    if not values:
        raise ValueError(f"{name} must hold at least one whole number, not []")
    return values


# ctypes type -> typecode. c_long is c_longlong on 64-bit Linux and macOS (and
# c_int on Windows), so 'l' would be ambiguous: the portable codes win.
# Built from the end, so that where two codes share a type the earlier one wins.
_TYPECODE_OF = {typecode_to_type[code]: code for code in reversed((*PORTABLE_TYPECODES, "l", "L"))}


def _shared_typecode(obj: Any, name: str, example: str, *, array: bool = True) -> str:
    """The typecode of the numbers in a shared Array (or Value); TypeError for anything else."""
    raw = obj.get_obj() if isinstance(obj, SynchronizedBase) else obj
    # multiprocessing tags every ctypes object it puts in shared memory with
    # `_wrapper` (its block of the shared heap). A list or a plain ctypes object
    # lacks it, and a child's writes to such a copy never reach this process.
    is_array = isinstance(raw, ctypes.Array)
    if not hasattr(raw, "_wrapper") or is_array != array:
        raise TypeError(f"{name} must be a shared {example}, not {type(obj).__name__}")
    ctype = raw._type_ if array else type(raw)
    if ctype not in _TYPECODE_OF:
        raise TypeError(
            f"{name} must hold whole numbers (an integer typecode), not {ctype.__name__}"
        )
    return _TYPECODE_OF[ctype]


def fill_squares(
    ctx: Context,
    numbers: Any,
    squares: Any,
    total: Any,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Run :func:`square_into` in a child, after checking everything in the caller's process.

    Refuses (TypeError/ValueError, before any child starts) non-numbers, an
    array that is not shared or too short, and a square or a sum that does not
    fit its typecode. A child that fails raises :class:`~helpers.running.ChildError`.
    """
    require_context(ctx, needs=("Array",))
    values = _require_numbers(numbers)
    squares_code = _shared_typecode(squares, "squares", "array such as ctx.Array('i', 4)")
    total_code = _shared_typecode(total, "total", "value such as ctx.Value('i')", array=False)
    if len(values) > len(squares):
        raise ValueError(
            f"numbers has {len(values)} items but squares holds only {len(squares)}:"
            f" make the array at least as long as the list"
        )
    _check_squares_fit(values, squares_code, total_code)
    run(ctx, square_into, values, squares, total, timeout=require_timeout(timeout))


def _check_squares_fit(values: list[int], squares_code: str, total_code: str) -> None:
    """Refuse a square or a sum its C type cannot hold: in C it would wrap around silently."""
    try:
        wider = choose_typecode(values)
    except ValueError:
        wider = None  # too big for every C type: no advice to give
    for number in values:
        check_fits(number * number, squares_code, f"the square of {number}", wider=wider)
    check_fits(sum(n * n for n in values), total_code, "the sum of the squares", wider=wider)


def square_list(
    ctx: Context,
    numbers: Any,
    *,
    typecode: str = "i",
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[list[int], int]:
    """Square ``numbers`` in a child into a shared Array and Value of ``typecode``.

    Returns what the parent then reads from shared memory: the squares and their sum.
    """
    require_context(ctx, needs=("Array",))
    require_typecode(typecode)
    values = _require_numbers(numbers)
    require_timeout(timeout)
    # Checked before the shared objects exist, so a refused call leaves nothing behind.
    _check_squares_fit(values, typecode, typecode)
    squares = ctx.Array(typecode, len(values))
    total = ctx.Value(typecode, 0)
    fill_squares(ctx, values, squares, total, timeout=timeout)
    return squares[:], total.value


@dataclass(frozen=True)
class RaceResult:
    """How many increments reached a shared counter that several processes added to."""

    processes: int
    increments: int
    locked: bool
    total: int

    @property
    def expected(self) -> int:
        return self.processes * self.increments

    @property
    def lost(self) -> int:
        return self.expected - self.total


def _start_all(ctx: Context, target: Any, count: int, *args: Any) -> list[Child]:
    children: list[Child] = []
    try:
        for number in range(count):
            children.append(start(ctx, target, *args, name=f"{target.__name__}-{number}"))
    except BaseException:
        # Those already started wait at the gate for the missing ones: stop them.
        for child in children:
            stop(child.process)
            child.report.close()
        raise
    return children


def _require_race_size(processes: Any, increments: Any) -> tuple[int, int]:
    processes = require_positive_int(processes, "processes", maximum=MAX_RACING_PROCESSES)
    increments = require_positive_int(increments, "increments", maximum=MAX_INCREMENTS)
    if processes * increments > MAX_TOTAL_INCREMENTS:
        raise ValueError(
            f"processes × increments must be at most {MAX_TOTAL_INCREMENTS:,}, not "
            f"{processes} × {increments:,} = {processes * increments:,}: fewer processes "
            "or fewer increments give the same lesson in seconds"
        )
    return processes, increments


def race(
    ctx: Context,
    processes: Any,
    increments: Any = RACE_INCREMENTS,
    *,
    locked: bool,
    timeout: float = DEFAULT_TIMEOUT,
) -> RaceResult:
    """Start ``processes`` children that each add 1 to one shared counter ``increments`` times.

    They wait at a barrier so they really run at the same time; with
    ``locked=False`` some increments are usually lost, with ``locked=True`` none.
    """
    require_context(ctx, needs=("Array",))
    processes, increments = _require_race_size(processes, increments)
    timeout = require_timeout(timeout)
    counter = ctx.Value("i", 0)
    gate = ctx.Barrier(processes)
    worker = add_with_lock if locked else add_without_lock
    wait(_start_all(ctx, worker, processes, counter, gate, increments, timeout), timeout=timeout)
    return RaceResult(processes, increments, locked, counter.value)


@dataclass(frozen=True)
class PlaygroundResult:
    """What the widget shows: squares computed in a child, and one race each way."""

    typecode: str
    squares: list[int]
    total: int
    with_lock: RaceResult
    without_lock: RaceResult

    def __str__(self) -> str:
        race = self.with_lock
        return "\n".join(
            [
                f"squares in {self.typecode!r}: {self.squares}",
                f"sum of squares: {self.total}",
                f"{race.processes} {'process' if race.processes == 1 else 'processes'}"
                f" × {race.increments} increments, expected {race.expected}:",
                f"  with the lock:    {race.total} (lost {race.lost})",
                f"  without the lock: {self.without_lock.total} (lost {self.without_lock.lost})",
            ]
        )


def playground(
    ctx: Context,
    numbers: Any,
    typecode: Any,
    processes: Any,
    *,
    increments: Any = PLAYGROUND_INCREMENTS,
    timeout: float = DEFAULT_TIMEOUT,
) -> PlaygroundResult:
    """The function behind the widget: square ``numbers`` and race ``processes`` adders.

    ``numbers`` is text as typed in the box (``"1, 2, 3"``) or a list. Every
    argument is checked here, in the caller's process, before any child starts.
    The squaring child and the adders run at the same time, and each adder runs
    both races (:func:`add_both_ways`), so one click waits for one round of
    start-ups, not three.
    """
    require_context(ctx, needs=("Array",))
    values = parse_int_list(numbers) if isinstance(numbers, str) else _require_numbers(numbers)
    require_typecode(typecode)
    processes, increments = _require_race_size(processes, increments)
    timeout = require_timeout(timeout)
    _check_squares_fit(values, typecode, typecode)
    squares, total = ctx.Array(typecode, len(values)), ctx.Value(typecode, 0)
    locked, free = ctx.Value("i", 0), ctx.Value("i", 0)
    gate = ctx.Barrier(processes)
    children = _start_all(ctx, add_both_ways, processes, locked, free, gate, increments, timeout)
    try:
        children.append(start(ctx, square_into, values, squares, total))
    finally:
        wait(children, timeout=timeout)
    return PlaygroundResult(
        typecode,
        squares[:],
        total.value,
        RaceResult(processes, increments, True, locked.value),
        RaceResult(processes, increments, False, free.value),
    )


def semaphore_file(lock: Any) -> str:
    """Where a lock's named semaphore lives: its file in ``/dev/shm``, or why there is none.

    ``lock`` is a ``Lock``/``RLock``, or a shared ``Value``/``Array`` (its lock).
    Under spawn and forkserver a child opens the semaphore by name, so it has
    one; under fork a child inherits it, and its name is removed at once.
    """
    lock = lock.get_lock() if isinstance(lock, SynchronizedBase) else lock
    name = getattr(getattr(lock, "_semlock", None), "name", None)
    if name is None:
        return "no name: made for fork children, which inherit it"
    if not can_list():
        return f"named {name}; this system has no {SHM_DIR} to look in"
    path = f"{SHM_DIR}/sem.{name.lstrip('/')}"
    return path if os.path.exists(path) else f"named {name}, but {path} is gone"
