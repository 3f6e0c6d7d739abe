"""The bounded child entry point of :mod:`helpers.running` (every lesson), which runs in a child.

:func:`helpers.running.start` makes :func:`_guarded_main` the child's target:
it calls the real target and sends back how it ended. Standard library only.
"""

from __future__ import annotations

import traceback

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# How long a child may run before it is stopped (the one default of
# start/wait/run): long enough for a spawned child on a busy laptop (start-up
# alone is ~40 ms here, seconds on a loaded Windows machine); short enough that
# a learner whose worker never returns gets an error, not a frozen kernel.
DEFAULT_TIMEOUT = 30.0


def _guarded_main(report: Any, target: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Runs in the child: call ``target`` and send back how it ended.

    Only strings travel back, because the child's exception class may not be
    picklable (or importable) in the parent. The first message says the child
    got this far: a child that dies without it could not even rebuild its
    function or arguments.
    """
    report.send(("started", None, None, None))
    try:
        target(*args, **kwargs)
    except BaseException as exc:
        report.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
        report.close()
        raise SystemExit(1) from None
    report.send(("ok", None, None, None))
    report.close()
