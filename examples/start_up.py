"""How long one child takes to start and exit, under one start method.

Run it from the repository root:

    python examples/start_up.py spawn
    python examples/start_up.py forkserver                     # a bare fork server
    python examples/start_up.py forkserver helpers.processes   # one that preloads a module

It prints the fastest, in milliseconds, of several children started and joined
one after another: the cost itself, without the moments another program took the
CPU. Each child runs ``helpers.processes.idle``, so it has to
import ``helpers.processes`` — unless it is a copy of a process that already
did: the parent under fork, or a fork server told to preload that module.

A program has one fork server, started the first time it is needed, and
``set_forkserver_preload`` only changes what a server not yet started
imports. That is why each measurement is a fresh run of this script.
"""

import multiprocessing
import sys
import time

from helpers.processes import idle

STARTS = 7
TIMEOUT = 30  # seconds: a child that takes longer is stuck, not slow


def start_and_join(ctx):
    """Runs in the parent: start one child running idle(), wait for it, return the seconds."""
    began = time.perf_counter()
    child = ctx.Process(target=idle)
    child.start()
    child.join(TIMEOUT)
    if child.exitcode != 0:
        child.kill()
        child.join()
        raise RuntimeError(f"the child did not exit cleanly (exit code {child.exitcode})")
    return time.perf_counter() - began


def main(method, *preload):
    """Runs in the parent only: time STARTS children after one warm-up; print the fastest."""
    ctx = multiprocessing.get_context(method)
    if preload:
        ctx.set_forkserver_preload(list(preload))  # before the server starts, or it is ignored
    start_and_join(ctx)  # warm-up: starts the fork server, fills the disk cache
    seconds = [start_and_join(ctx) for _ in range(STARTS)]
    print(f"{min(seconds) * 1e3:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
