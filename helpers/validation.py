"""Check arguments in the caller's process, before any child starts.

A bad value caught here raises in the notebook's own process with a message
naming the argument; caught in a child, it would be a traceback nobody sees.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from typing import Any

from helpers.dev_shm import SHM_DIR

__all__ = [
    "LOOPBACK_HOSTS",
    "MIN_AUTHKEY_BYTES",
    "kind",
    "parse_int_list",
    "require_authkey",
    "require_choice",
    "require_context",
    "require_int_list",
    "require_loopback_host",
    "require_number",
    "require_positive_int",
    "require_shm_room",
    "require_timeout",
]

# Where Linux keeps named shared memory (a tmpfs: RAM, with its own size limit).


def kind(value: object) -> str:
    """The name of ``value``'s type, as error messages quote it: ``kind(3)`` → ``'int'``."""
    return type(value).__name__


_kind = kind  # the short name this module's messages use


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
    number = int(value)
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be at most {maximum}, not {value}")
    return number


def require_timeout(value: Any, name: str = "timeout") -> float:
    """Return ``value`` as float seconds if it is a positive, finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {_kind(value)} {value!r}")
    seconds = float(value)
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of seconds, not {value!r}")
    return seconds


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


def require_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (text), else raise naming them all.

    >>> require_choice("Mutex", "primitive", ("Lock", "Semaphore"))
    Traceback (most recent call last):
    ...
    ValueError: primitive must be one of Lock, Semaphore, not 'Mutex'
    """
    options = list(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be text, one of {', '.join(options)}, not {_kind(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, not {value!r}")
    return value


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def require_shm_room(size: Any, what: str = "the segment", *, directory: str = SHM_DIR) -> int:
    """Return ``size`` if ``directory`` (``/dev/shm``) has that many bytes free, else raise.

    A segment is created sparse, so creating one that does not fit succeeds;
    the first write past the limit then kills the writing process with SIGBUS.
    Containers often give ``/dev/shm`` only 64 MiB, so ask before creating.
    Where there is no such directory (macOS, Windows) only the size is checked.

    >>> require_shm_room(4096)
    4096
    """
    size = require_positive_int(size, f"the size of {what} in bytes")
    if not os.path.isdir(directory):
        return size
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    if size > free:
        raise ValueError(
            f"{what} needs {_mib(size)} but {directory} has only {_mib(free)} free: "
            f"choose a smaller size, or give {directory} more room "
            "(docker run --shm-size=1g, for example)"
        )
    return size


def require_number(value: Any, name: str, *, minimum: float = 0.0, maximum: float) -> float:
    """Return ``value`` as a float if it is a finite number from ``minimum`` to ``maximum``.

    For amounts such as milliseconds of work, where 0 is allowed and a fraction makes sense.

    >>> require_number(2.5, "work (ms)", maximum=50)
    2.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {_kind(value)} {value!r}")
    if not minimum <= float(value) <= maximum:  # also refuses NaN, which compares False
        raise ValueError(f"{name} must be between {minimum:g} and {maximum:g}, not {value!r}")
    return float(value)


# The shortest key accepted: 16 random bytes (128 bits) are beyond guessing; the
# course's examples use os.urandom(32), twice that.
MIN_AUTHKEY_BYTES = 16
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def require_authkey(value: Any, name: str = "authkey") -> bytes:
    """Return ``value`` if it is bytes long enough to be a secret, e.g. ``os.urandom(32)``.

    >>> require_authkey("secret")
    Traceback (most recent call last):
    ...
    TypeError: authkey must be bytes such as os.urandom(32), not str
    """
    if not isinstance(value, bytes):
        raise TypeError(f"{name} must be bytes such as os.urandom(32), not {_kind(value)}")
    if len(value) < MIN_AUTHKEY_BYTES:
        raise ValueError(
            f"{name} has {len(value)} bytes: use at least {MIN_AUTHKEY_BYTES} random ones, "
            "e.g. os.urandom(32)"
        )
    return value


def require_loopback_host(host: Any, name: str = "host") -> str:
    """Return ``host`` if it is a loopback address, reachable only from this machine.

    A server that unpickles what it receives must never listen on a network
    interface; other machines reach it through an SSH tunnel instead.

    >>> require_loopback_host("127.0.0.1")
    '127.0.0.1'
    """
    if not isinstance(host, str):
        raise TypeError(f"{name} must be text such as '127.0.0.1', not {_kind(host)}")
    if host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"{name} {host!r} is reachable from other machines: bind to 127.0.0.1 "
            "and tunnel over SSH"
        )
    return host
