"""Error messages the tests expect, from one source: the shared validators themselves.

``tests/test_validation.py`` checks each validator's wording once, verbatim;
every other test asks the validator for the message a function that uses it
must give, so a change of wording is made in one place.

>>> refusal(require_context, "spawn")
'ctx must be a multiprocessing context from get_context(), not str'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.validation import require_context

__all__ = ["NOT_A_CONTEXT", "refusal"]


def refusal(check: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message ``check(*args, **kwargs)`` raises (it must raise)."""
    try:
        check(*args, **kwargs)
    except (TypeError, ValueError) as error:
        return str(error)
    raise AssertionError(f"{check.__name__}{args!r} accepted what it should refuse")


# A start method's name where a context belongs: the commonest wrong ctx.
NOT_A_CONTEXT = refusal(require_context, "spawn")
