"""Lesson 02 (Managers): the workers, which run in a child and talk to the server through proxies.

Standard library only.
"""

from __future__ import annotations

# Children import this module: typing stays out of its import path (on Python
# 3.12+ it would be most of what a child pays to import a worker).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing.managers import DictProxy, ListProxy
    from typing import Any


# How long a child waits at the starting line for the others; spawn on a busy
# laptop can take a second per child, so this is generous.
START_TIMEOUT = 20.0


def add_record(records: ListProxy, record: tuple[str, int]) -> None:
    """Runs in a child: append ``record`` to the managed list ``records``.

    Sends nothing back: the append itself travels to the server, where every
    other process can see it.
    """
    records.append(record)


def send_records(records: ListProxy, outbox: Any) -> None:
    """Runs in a child: read every record and send them back through ``outbox``.

    ``outbox`` is a managed queue; the notebook takes one list of records off it.
    """
    # records[:] is one round trip: the whole list is copied out of the server
    # at once, instead of one call per record.
    seen = records[:]
    outbox.put(seen)


def count_scores(records: ListProxy, counts: DictProxy) -> None:
    """Runs in a child: count how many records have each score, into a managed dict.

    Sends nothing back: each ``counts[score] = ...`` is stored in the server.
    """
    for _name, score in records[:]:
        counts[score] = counts.get(score, 0) + 1


def add_ones(counter: Any, times: int, start_together: Any, lock: Any = None) -> None:
    """Runs in a child: add 1 to the managed ``counter`` ``times`` times.

    Every child first waits at the managed barrier ``start_together``, so that
    all of them run their loops at the same moment. Without ``lock``, each
    ``+=`` is two separate calls to the server — read the value, then write
    it — and another child can write in between: its update is lost.
    Sends nothing back: the total is in ``counter``.
    """
    start_together.wait(START_TIMEOUT)
    for _ in range(times):
        if lock is None:
            counter.value += 1  # read ... (another child may write here) ... write
        else:
            with lock:  # nobody else can read or write until we have written
                counter.value += 1
