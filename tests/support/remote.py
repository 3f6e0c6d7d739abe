"""Job boards for lesson 09's first exercise, right and wrong, used only by its tests.

They live in a module, not in the tests, because under spawn and forkserver the
manager's server must import the board class by name; pytest puts
this folder on ``sys.path``, and a spawned child inherits it.
"""

from __future__ import annotations

import threading
import time
from multiprocessing.managers import BaseManager

# --- exercise 1: a job board that survives a client killed mid-request ------------------


class Board:
    """The reference board: jobs handed out under a lease, put back when it runs out."""

    def __init__(self, jobs, lease):
        self._lock = threading.Lock()  # each client is served by a thread of its own
        self._waiting, self._out, self._done, self._lease = list(jobs), {}, {}, lease

    def take(self):
        with self._lock:
            now = time.monotonic()
            for job, since in list(self._out.items()):
                if now - since > self._lease:  # its taker died or hangs
                    del self._out[job]
                    self._waiting.append(job)
            if not self._waiting:
                return None
            job = self._waiting.pop(0)
            self._out[job] = now
            return job

    def finish(self, job, result):
        with self._lock:
            self._out.pop(job, None)
            self._done[job] = result

    def all_done(self):
        with self._lock:
            return not self._waiting and not self._out

    def results(self):
        with self._lock:
            return dict(self._done)


class BoardManager(BaseManager):
    pass


BoardManager.register("Board", Board)


class NoLeaseBoard(Board):
    def take(self):  # never puts a job back: the killed client's job is lost
        with self._lock:
            if not self._waiting:
                return None
            job = self._waiting.pop(0)
            self._out[job] = time.monotonic()
            return job


class NoLeaseManager(BaseManager):
    pass


NoLeaseManager.register("Board", NoLeaseBoard)


class HastyBoard(NoLeaseBoard):
    def all_done(self):  # forgets the jobs that are out
        with self._lock:
            return not self._waiting


class HastyManager(BaseManager):
    pass


HastyManager.register("Board", HastyBoard)


class NoBoardManager(BaseManager):
    pass
