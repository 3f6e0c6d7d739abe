"""Learners' answers to lesson 03's whole-program exercise, right and wrong, for its tests.

The workers live here, at the top of a module, as in the learner's
``my_workers_03.py``: a child under spawn or forkserver imports them by name.
"""

from __future__ import annotations

import queue


def square_worker(tasks, results):
    """The reference worker: square numbers until the sentinel None."""
    while True:
        n = tasks.get(timeout=10)
        if n is None:
            break
        results.put(n * n)


def square_until_empty(tasks, results):
    """Wrong: stops when the queue looks empty."""
    while not tasks.empty():
        n = tasks.get(timeout=10)
        if n is None:
            break
        results.put(n * n)


def _start(ctx, n_workers, worker=square_worker):
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(tasks, results)) for _ in range(n_workers)]
    for w in workers:
        w.start()
    return tasks, results, workers


def squares_program(ctx, numbers, n_workers):
    """The reference solution."""
    tasks, results, workers = _start(ctx, n_workers)
    for n in numbers:
        tasks.put(n)
    for _ in workers:
        tasks.put(None)
    squares = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(squares)


def no_sentinel(ctx, numbers, n_workers):
    tasks, results, workers = _start(ctx, n_workers)
    for n in numbers:
        tasks.put(n)
    squares = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=1)
    return sorted(squares)


def one_sentinel(ctx, numbers, n_workers):
    tasks, results, workers = _start(ctx, n_workers)
    for n in numbers:
        tasks.put(n)
    tasks.put(None)
    squares = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=1)
    return sorted(squares)


def joined_before_draining(ctx, numbers, n_workers):
    tasks, results, workers = _start(ctx, n_workers)
    for n in numbers:
        tasks.put(n)
    for _ in workers:
        tasks.put(None)
    for w in workers:
        w.join(timeout=1)  # before a single result has been read
    squares = [results.get(timeout=10) for _ in numbers]
    for w in workers:
        w.join(timeout=10)
    return sorted(squares)


def stops_on_empty(ctx, numbers, n_workers):
    tasks, results, workers = _start(ctx, n_workers, square_until_empty)
    for n in numbers:
        tasks.put(n)
    for _ in workers:
        tasks.put(None)
    squares = []
    try:
        while len(squares) < len(numbers):
            squares.append(results.get(timeout=2))
    except queue.Empty:
        pass
    for w in workers:
        w.join(timeout=10)
    return sorted(squares)


def never_joined(ctx, numbers, n_workers):
    tasks, results, workers = _start(ctx, n_workers)
    for n in numbers:
        tasks.put(n)
    for _ in workers:
        tasks.put(None)
    return sorted(results.get(timeout=10) for _ in numbers)


def target_called(ctx, numbers, n_workers):
    tasks, results = ctx.Queue(), ctx.Queue()
    tasks.put(None)
    worker = ctx.Process(target=square_worker(tasks, results))
    worker.start()
    worker.join(timeout=10)
    return []
