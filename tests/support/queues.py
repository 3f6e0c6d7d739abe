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


def square_worker_unbounded(tasks, results):
    """The fix-this exercise's worker, as the lesson gives it: no timeout on get()."""
    while True:
        n = tasks.get()
        if n is None:
            break
        results.put(n * n)


def broken_squares_program(ctx, numbers, n_workers):
    """The fix-this exercise as the lesson gives it: one sentinel, and joins before reading."""
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=square_worker_unbounded, args=(tasks, results)) for _ in range(n_workers)
    ]
    for worker in workers:
        worker.start()
    for n in numbers:
        tasks.put(n)
    tasks.put(None)
    for worker in workers:
        worker.join(timeout=3)
    return [results.get(timeout=10) for _ in numbers]


def half_fixed_squares_program(ctx, numbers, n_workers):
    """The fix-this exercise with the reading moved first: the missing sentinels remain."""
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = [
        ctx.Process(target=square_worker_unbounded, args=(tasks, results)) for _ in range(n_workers)
    ]
    for worker in workers:
        worker.start()
    for n in numbers:
        tasks.put(n)
    tasks.put(None)
    squares = [results.get(timeout=10) for _ in numbers]
    for worker in workers:
        worker.join(timeout=3)
    return squares


# ---- the design exercise: a pipeline of two stages -------------------------------------


def square_stage(tasks, squares):
    """The reference first stage: square until the sentinel, then pass it on."""
    while (n := tasks.get(timeout=10)) is not None:
        squares.put(n * n)
    squares.put(None)


def sum_stage(squares, results, n_squarers):
    """The reference second stage: add until one sentinel from each squarer."""
    total, done = 0, 0
    while done < n_squarers:
        item = squares.get(timeout=10)
        if item is None:
            done += 1
        else:
            total += item
    results.put(total)


def _pipeline(ctx, numbers, n_squarers, first, second, *, sentinels=None):
    tasks, squares, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    squarers = [ctx.Process(target=first, args=(tasks, squares)) for _ in range(n_squarers)]
    summer = ctx.Process(target=second, args=(squares, results, n_squarers))
    for process in [*squarers, summer]:
        process.start()
    for n in numbers:
        tasks.put(n)
    for _ in range(n_squarers if sentinels is None else sentinels):
        tasks.put(None)
    total = results.get(timeout=15)
    for process in [*squarers, summer]:
        process.join(timeout=10)
    return total


def pipeline_program(ctx, numbers, n_squarers):
    """The reference solution."""
    return _pipeline(ctx, numbers, n_squarers, square_stage, sum_stage)


def sum_stage_first_sentinel(squares, results, n_squarers):
    """Wrong: stops at the first sentinel."""
    total = 0
    while (item := squares.get(timeout=10)) is not None:
        total += item
    results.put(total)


def pipeline_stops_at_first_sentinel(ctx, numbers, n_squarers):
    return _pipeline(ctx, numbers, n_squarers, square_stage, sum_stage_first_sentinel)


def square_stage_keeps_sentinel(tasks, squares):
    """Wrong: does not pass the sentinel on."""
    while (n := tasks.get(timeout=10)) is not None:
        squares.put(n * n)


def pipeline_sentinel_not_passed_on(ctx, numbers, n_squarers):
    return _pipeline(ctx, numbers, n_squarers, square_stage_keeps_sentinel, sum_stage)


def pipeline_one_sentinel(ctx, numbers, n_squarers):
    """Wrong: one sentinel on the tasks queue for all the squarers."""
    return _pipeline(ctx, numbers, n_squarers, square_stage, sum_stage, sentinels=1)
