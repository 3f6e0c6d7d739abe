"""Whole programs for lesson 00's exercise 2, right and wrong, as a learner might write them.

Test-only: the workers are importable (children under spawn and forkserver
import them from here), and each wrong program makes one typical mistake.
"""

from __future__ import annotations

from typing import Any

WAIT = 10.0  # seconds; every blocking call in these programs is bounded


def square(conn: Any, number: int) -> None:
    """Runs in the child: send ``number * number`` through ``conn``."""
    conn.send(number * number)
    conn.close()


def square_returned(conn: Any, number: int) -> int:
    """Runs in the child: the mistake — return the square instead of sending it."""
    conn.close()
    return number * number


def all_squares(conn: Any, numbers: list[int]) -> None:
    """Runs in the child: send every square at once (one child for all numbers)."""
    conn.send([n * n for n in numbers])
    conn.close()


def squares_with(worker: Any, ctx: Any, numbers: list[int]) -> list[Any]:
    """The reference program, with ``worker`` as every child's target."""
    readers, children = [], []
    for number in numbers:
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=worker, args=(writer, number))
        child.start()
        writer.close()  # the child holds its copy; EOF now means the child has gone
        readers.append(reader)
        children.append(child)
    # recv() raises EOFError if a child exited without sending.
    squares = [reader.recv() if reader.poll(WAIT) else None for reader in readers]
    for child in children:
        child.join(timeout=WAIT)
    return squares


def squares(ctx: Any, numbers: list[int]) -> list[Any]:
    """Right: one child per number, one pipe each, every child joined."""
    return squares_with(square, ctx, numbers)


def squares_returning(ctx: Any, numbers: list[int]) -> list[Any]:
    """Wrong: the worker returns its answer, so nothing arrives."""
    return squares_with(square_returned, ctx, numbers)


def squares_never_joined(ctx: Any, numbers: list[int]) -> list[Any]:
    """Wrong: every answer is read, but no child is ever joined."""
    answers = []
    for number in numbers:
        reader, writer = ctx.Pipe(duplex=False)
        ctx.Process(target=square, args=(writer, number)).start()
        writer.close()
        answers.append(reader.recv() if reader.poll(WAIT) else None)
    return answers


def squares_target_called(ctx: Any, numbers: list[int]) -> list[Any]:
    """Wrong: ``target=square(...)`` runs the worker here; the child gets its result."""
    answers = []
    for number in numbers:
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=square(writer, number))
        child.start()
        answers.append(reader.recv() if reader.poll(WAIT) else None)
        child.join(timeout=WAIT)
    return answers


def squares_in_one_child(ctx: Any, numbers: list[int]) -> list[Any] | None:
    """Wrong: a single child computes every square."""
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=all_squares, args=(writer, numbers))
    child.start()
    writer.close()
    answer = reader.recv() if reader.poll(WAIT) else None
    child.join(timeout=WAIT)
    return answer


def squares_reversed(ctx: Any, numbers: list[int]) -> list[Any]:
    """Wrong: the right squares, but not in the order of ``numbers``."""
    return list(reversed(squares(ctx, numbers)))
