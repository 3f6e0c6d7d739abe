"""Check arguments in the caller's process, before any child starts.

A bad value caught here raises in the notebook's own process with a message
naming the argument; caught in a child, it would be a traceback nobody sees.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

# Children import this module: keep typing out of its import path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "parse_int_list",
    "require_context",
    "require_int_list",
    "require_number",
    "require_positive_int",
    "require_timeout",
]


def _kind(value: object) -> str:
    return type(value).__name__


def require_context(ctx: Any, *, needs: tuple[str, ...] = ()) -> Any:
    """Return ``ctx`` if it is a context that can make processes (and each of ``needs``).

    Duck-typed on purpose: a ``multiprocess`` context passes too, for the
    exercises whose workers live in notebook cells. The common mistake it
    catches is a start method's name, ``"spawn"``, passed instead of
    ``get_context("spawn")``.

    >>> require_context("spawn")
    Traceback (most recent call last):
    ...
    TypeError: ctx must be a multiprocessing context from get_context(), not str
    """
    if not all(callable(getattr(ctx, attribute, None)) for attribute in ("Process", *needs)):
        raise TypeError(
            f"ctx must be a multiprocessing context from get_context(), not {_kind(ctx)}"
        )
    return ctx


def require_positive_int(value: Any, name: str, *, maximum: int | None = None) -> int:
    """Return ``value`` if it is a whole number ≥ 1 (and ≤ ``maximum``), else raise.

    >>> require_positive_int(3, "processes")
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, not {_kind(value)} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, not {value}")
    return int(value)


def require_timeout(value: Any, name: str = "timeout") -> float:
    """Return ``value`` as float seconds if it is a positive, finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {_kind(value)} {value!r}")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of seconds, not {value!r}")
    return float(value)


def require_int_list(values: Any, name: str = "numbers") -> list[int]:
    """Return ``values`` as a list of ints; reject strings, floats and non-iterables.

    >>> require_int_list((1, 2, 3))
    [1, 2, 3]
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of whole numbers, not {_kind(values)} {values!r}")
    result = []
    for position, item in enumerate(values):
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(
                f"{name}[{position}] must be a whole number, not {_kind(item)} {item!r}"
            )
        result.append(int(item))
    return result


def parse_int_list(text: Any, name: str = "numbers") -> list[int]:
    """Parse what a learner typed in a text box, e.g. ``"1, 2, 3"`` → ``[1, 2, 3]``.

    Commas and spaces both separate items; anything that is not a whole number
    is named in the error.

    >>> parse_int_list("1, 2 3")
    [1, 2, 3]
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be text such as '1, 2, 3', not {_kind(text)}")
    items = text.replace(",", " ").split()
    if not items:
        raise ValueError(f"{name} is empty: type whole numbers separated by commas, e.g. 1, 2, 3")
    result = []
    for item in items:
        try:
            result.append(int(item))
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not a whole number") from None
    return result


def require_number(value: Any, name: str, *, minimum: float = 0.0, maximum: float) -> float:
    """Return ``value`` as a float if it is a finite number from ``minimum`` to ``maximum``.

    For amounts such as milliseconds of work, where 0 is allowed and a fraction makes sense.

    >>> require_number(2.5, "work (ms)", maximum=50)
    2.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {_kind(value)} {value!r}")
    if not minimum <= value <= maximum:  # also refuses NaN, which compares False
        raise ValueError(f"{name} must be between {minimum:g} and {maximum:g}, not {value!r}")
    return float(value)
