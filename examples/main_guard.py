"""Why a script that starts processes needs ``if __name__ == "__main__":``.

Run it from the repository root, with a start method as an optional argument:

    python examples/main_guard.py              # spawn, the strictest
    python examples/main_guard.py forkserver   # or fork

Under spawn and forkserver a child is a fresh Python interpreter. To find
``square`` it imports this very file again, under the name ``"__mp_main__"``,
and so runs every top-level line again. The lines under the guard do not run
there, because in the child ``__name__`` is not ``"__main__"``.

Without the guard the child would run ``main()`` as well and try to start a
child of its own: multiprocessing refuses with a RuntimeError, and the child
dies before it sends anything back.
"""

import multiprocessing
import sys

NUMBER = 7
TIMEOUT = 30  # seconds: a child that takes longer is stuck, not slow


def square(conn, number):
    """Runs in the child: send number² back, and the name this file has in the child."""
    conn.send((number * number, __name__))
    conn.close()


def main(method="spawn"):
    """Runs in the parent only: start one child, print what it sent, return an exit code."""
    ctx = multiprocessing.get_context(method)
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=square, args=(writer, NUMBER))
    child.start()
    writer.close()  # the parent only reads; now a dead child means EOF, not a wait
    try:
        answer = reader.recv() if reader.poll(TIMEOUT) else None
    except EOFError:
        answer = None
    child.join(TIMEOUT)
    if child.is_alive():
        child.kill()
        child.join()
    print(f"parent: start method {method}; this file runs as {__name__!r}")
    if answer is None:
        print(f"parent: the child sent nothing and exited with code {child.exitcode}")
        return 1
    squared, name_in_child = answer
    print(f"child:  {NUMBER} squared is {squared}; this file runs as {name_in_child!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
