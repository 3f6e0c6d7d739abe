"""A lock made when this module is imported: how *not* to give a child a lock (lesson 01).

Every process that imports this module runs the line ``LOCK = ...`` for
itself. A child made by fork inherits the parent's memory, this module and its
lock included, so there it is the parent's lock. A child made by spawn or
forkserver imports the module afresh and makes a lock of its own, which guards
nothing the parent holds. Pass a lock to a child as an argument instead.
"""

from __future__ import annotations

from helpers.context import get_context

__all__ = ["LOCK"]

LOCK = get_context().Lock()
