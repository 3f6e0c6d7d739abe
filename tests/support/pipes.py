"""Learners' answers to lesson 04's whole-program exercise, right and wrong, for its tests.

The workers live here, at the top of a module, as in the learner's
``my_workers_04.py``: a child under spawn or forkserver imports them by name.
"""

from __future__ import annotations


def send_lines(conn, lines):
    """The reference worker: send every line, then close the end."""
    for line in lines:
        conn.send(line)
    conn.close()


def send_then_close_then_send(conn, lines):
    """Wrong: closes its end, then sends once more."""
    for line in lines:
        conn.send(line)
    conn.close()
    conn.send("bye")


def _receive_all(reader, patience=10):
    received = []
    while reader.poll(patience):
        try:
            received.append(reader.recv())
        except EOFError:
            break
    return received


def lines_program(ctx, lines):
    """The reference solution."""
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_lines, args=(writer, lines))
    child.start()
    writer.close()  # the child has its own copy
    received = _receive_all(reader)
    child.join(timeout=10)
    reader.close()
    return received


def writer_left_open(ctx, lines):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_lines, args=(writer, lines))
    child.start()
    received = _receive_all(reader, patience=2)  # EOF never comes: a silence ends it
    child.join(timeout=10)
    reader.close()
    return received


def closed_the_read_end(ctx, lines):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_lines, args=(writer, lines))
    child.start()
    reader.close()  # the wrong end
    try:
        return _receive_all(reader)
    finally:
        child.join(timeout=10)


def sends_after_close(ctx, lines):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_then_close_then_send, args=(writer, lines))
    child.start()
    writer.close()
    received = _receive_all(reader)
    child.join(timeout=10)
    reader.close()
    return received


def never_joined(ctx, lines):
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_lines, args=(writer, lines))
    child.start()
    writer.close()
    received = _receive_all(reader)
    reader.close()
    return received


# ---- the design exercise: one parent gathering from several children ---------------------


def square_slowly(conn, numbers, pause):
    """The reference worker: wait ``pause`` s before each square, send it, then close."""
    import time

    for n in numbers:
        time.sleep(pause)
        conn.send(n * n)
    conn.close()


def square_at_once(conn, numbers, pause):
    """Wrong: ignores ``pause``."""
    for n in numbers:
        conn.send(n * n)
    conn.close()


def _start_all(ctx, jobs, worker=square_slowly, close=True):
    readers, children = {}, []
    for index, (numbers, pause) in enumerate(jobs):
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=worker, args=(writer, numbers, pause))
        child.start()
        if close:
            writer.close()
        readers[reader] = index
        children.append(child)
    return readers, children


def _gather(readers, patience=10):
    from multiprocessing.connection import wait

    arrived = []
    while readers:
        ready = wait(list(readers), timeout=patience)
        if not ready:
            break
        for reader in ready:
            try:
                arrived.append((readers[reader], reader.recv()))
            except EOFError:
                reader.close()
                del readers[reader]
    return arrived


def gather_program(ctx, jobs):
    """The reference solution: wait() says which end has something to read."""
    readers, children = _start_all(ctx, jobs)
    arrived = _gather(readers)
    for child in children:
        child.join(timeout=10)
    return arrived


def gather_in_turn(ctx, jobs):
    """Wrong: reads each child to its end before the next."""
    readers, children = _start_all(ctx, jobs)
    arrived = []
    for reader, index in readers.items():
        while reader.poll(10):
            try:
                arrived.append((index, reader.recv()))
            except EOFError:
                break
        reader.close()
    for child in children:
        child.join(timeout=10)
    return arrived


def gather_writers_open(ctx, jobs):
    """Wrong: keeps the notebook's copies of the write ends; wait() gives up after 2 s."""
    readers, children = _start_all(ctx, jobs, close=False)
    arrived = _gather(readers, patience=2)
    for child in children:
        child.join(timeout=10)
    return arrived


def gather_without_pauses(ctx, jobs):
    readers, children = _start_all(ctx, jobs, worker=square_at_once)
    arrived = _gather(readers)
    for child in children:
        child.join(timeout=10)
    return arrived


def gather_unordered(ctx, jobs):
    """Wrong: returns the squares alone, not (job, square) pairs."""
    return [square for _job, square in gather_program(ctx, jobs)]


# A message that cannot travel, for the tests of the refusal in the sending process.
class Fussy:
    """Pickles fine, but cannot be rebuilt: unpickling calls Fussy(a) without b.

    Not an exception: Dask's distributed, imported by other tests in the same
    process, installs tblib's pickling of exceptions, which rebuilds them here
    (but not in a fresh child) and would hide the mistake from the check.
    """

    def __init__(self, a: object, b: object) -> None:
        self.a, self.b = a, b

    def __reduce__(self) -> tuple[type, tuple[object]]:
        return (Fussy, (self.a,))
