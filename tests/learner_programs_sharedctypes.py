"""Programs a learner might write for lesson 01's exercise 2: the right one and typical slips.

Test-only. The workers are top-level functions here, so a spawned child can
import them (pytest puts this folder on ``sys.path``, and children inherit it).
"""

from __future__ import annotations

TIMEOUT = 30


def add_chunk(total, numbers):
    """Runs in a child: add each number to the shared total, holding its lock."""
    for number in numbers:
        with total.get_lock():
            total.value += number


def add_chunk_without_lock(total, numbers):
    """Runs in a child: the same, without the lock: a read, then a write."""
    for number in numbers:
        total.value += number


def _run(ctx, chunks, worker, typecode="q", *, read_early=False, give_value=False):
    total = ctx.Value(typecode, 0)
    processes = [ctx.Process(target=worker, args=(total, chunk)) for chunk in chunks]
    for process in processes:
        process.start()
    early = total.value
    for process in processes:
        process.join(timeout=TIMEOUT)
    if give_value:
        return total
    return early if read_early else total.value


def shared_sum(ctx, chunks):
    """The reference solution."""
    return _run(ctx, chunks, add_chunk)


def without_lock(ctx, chunks):
    return _run(ctx, chunks, add_chunk_without_lock)


def int_typecode(ctx, chunks):
    return _run(ctx, chunks, add_chunk, "i")


def read_before_join(ctx, chunks):
    return _run(ctx, chunks, add_chunk, read_early=True)


def returns_the_value(ctx, chunks):
    return _run(ctx, chunks, add_chunk, give_value=True)


def target_called(ctx, chunks):
    total = ctx.Value("q", 0)
    processes = [ctx.Process(target=add_chunk(total, chunk)) for chunk in chunks]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=TIMEOUT)
    return total.value
