"""What an exercise checker gives back: a verdict that shows as one line.

Checkers return a :class:`Verdict` rather than printing, so that tests can
assert on ``passed`` and ``message`` while a notebook cell that ends with the
call shows the line itself.

>>> Verdict(True, "all four squares arrived")
✔ all four squares arrived
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NAME_ERROR_ADVICE", "Verdict", "fail", "ok", "raised_hint"]

# Appended to a hint when the learner's function raised NameError in a child: the
# commonest surprise of a worker written in a cell under spawn or forkserver.
NAME_ERROR_ADVICE = (
    " — a function written in a cell reaches a spawn or forkserver child without the "
    "notebook's imports and globals: import what it needs inside the function, and pass "
    "values in as parameters"
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one exercise answer."""

    passed: bool
    message: str

    def __repr__(self) -> str:
        return ("✔ " if self.passed else "✘ ") + self.message

    def __bool__(self) -> bool:
        return self.passed


def ok(message: str) -> Verdict:
    """A passing verdict."""
    return Verdict(True, message)


def fail(hint: str) -> Verdict:
    """A failing verdict whose message is a specific hint for the learner."""
    return Verdict(False, hint)


def raised_hint(who: str, exc_type: str, exc_message: str | None) -> str:
    """The hint for a learner's function that raised in a child.

    >>> raised_hint("worker", "ZeroDivisionError", "division by zero")
    'your worker raised ZeroDivisionError: division by zero'
    """
    raised = f"your {who} raised {exc_type}: {exc_message}"
    return raised + NAME_ERROR_ADVICE if exc_type == "NameError" else raised
