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
