"""Programs for `tests/test_exercises_synchronize.py`: the reference answers and typical mistakes.

Test-only: children import these workers from here, the way they import a
learner's ``my_*_06.py`` from the notebook's folder.
"""

from __future__ import annotations

import time

FETCH_SECONDS = 0.3


# --- exercise 1: fetchers ---------------------------------------------------------


def fetch(url, slots, results):
    with slots:  # at most `limit` processes between here and the end of the block
        started = time.monotonic()
        time.sleep(FETCH_SECONDS)  # pretend to download
        ended = time.monotonic()
    results.put((url, started, ended))


def fetch_unlimited(url, results):
    started = time.monotonic()
    time.sleep(FETCH_SECONDS)
    results.put((url, started, time.monotonic()))


def fetch_without_release(url, slots, results):
    slots.acquire(timeout=20)
    started = time.monotonic()
    time.sleep(FETCH_SECONDS)
    results.put((url, started, time.monotonic()))


def _fetch_with(ctx, urls, make_args, *, join=True):
    results = ctx.Queue()
    processes = []
    for url in urls:
        target, args = make_args(url, results)
        processes.append(ctx.Process(target=target, args=args))
    for p in processes:
        p.start()
    fetched = [results.get(timeout=10) for _ in urls]
    if join:
        for p in processes:
            p.join(timeout=10)
    return fetched


def fetch_all(ctx, urls, limit):
    slots = ctx.Semaphore(limit)  # one semaphore, shared by every process
    return _fetch_with(ctx, urls, lambda url, results: (fetch, (url, slots, results)))


def fetch_all_unlimited(ctx, urls, limit):
    return _fetch_with(ctx, urls, lambda url, results: (fetch_unlimited, (url, results)))


def fetch_all_with_a_lock(ctx, urls, limit):
    slots = ctx.Lock()
    return _fetch_with(ctx, urls, lambda url, results: (fetch, (url, slots, results)))


def fetch_all_semaphore_each(ctx, urls, limit):
    return _fetch_with(
        ctx, urls, lambda url, results: (fetch, (url, ctx.Semaphore(limit), results))
    )


def fetch_all_never_released(ctx, urls, limit):
    slots = ctx.Semaphore(limit)
    return _fetch_with(
        ctx, urls, lambda url, results: (fetch_without_release, (url, slots, results))
    )


def fetch_all_not_joined(ctx, urls, limit):
    slots = ctx.Semaphore(limit)
    return _fetch_with(ctx, urls, lambda url, results: (fetch, (url, slots, results)), join=False)


# --- exercise 2: two phases -------------------------------------------------------


def two_phase(i, numbers, squares, totals, barrier):
    time.sleep(0.1 * i)  # phase 1 takes longer for later workers
    squares[i] = numbers[i] ** 2
    barrier.wait(timeout=10)  # nobody reads before everybody has written
    totals[i] = squares[i] + squares[(i + 1) % len(numbers)]


def two_phase_no_barrier(i, numbers, squares, totals):
    time.sleep(0.1 * i)
    squares[i] = numbers[i] ** 2
    totals[i] = squares[i] + squares[(i + 1) % len(numbers)]


def two_phase_short_wait(i, numbers, squares, totals, barrier):
    time.sleep(0.1 * i)
    squares[i] = numbers[i] ** 2
    barrier.wait(timeout=2)
    totals[i] = squares[i] + squares[(i + 1) % len(numbers)]


def _phases_with(ctx, numbers, worker, barrier_for):
    n = len(numbers)
    squares, totals = ctx.Array("q", n), ctx.Array("q", n)
    processes = []
    for i in range(n):
        extra = barrier_for(i)
        args = (i, list(numbers), squares, totals, *extra)
        processes.append(ctx.Process(target=worker, args=args))
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=20)
    return list(totals)


def two_phases(ctx, numbers):
    barrier = ctx.Barrier(len(numbers))  # one barrier, as many parties as workers
    return _phases_with(ctx, numbers, two_phase, lambda i: (barrier,))


def two_phases_no_barrier(ctx, numbers):
    return _phases_with(ctx, numbers, two_phase_no_barrier, lambda i: ())


def two_phases_one_too_many(ctx, numbers):
    barrier = ctx.Barrier(len(numbers) + 1)  # counts the notebook, which never waits
    return _phases_with(ctx, numbers, two_phase_short_wait, lambda i: (barrier,))


def two_phases_barrier_each(ctx, numbers):
    return _phases_with(ctx, numbers, two_phase_short_wait, lambda i: (ctx.Barrier(len(numbers)),))


def two_phases_worker_called(ctx, numbers):
    barrier = ctx.Barrier(len(numbers))
    squares, totals = ctx.Array("q", len(numbers)), ctx.Array("q", len(numbers))
    p = ctx.Process(target=two_phase_no_barrier(0, list(numbers), squares, totals), args=())
    p.start()
    p.join(timeout=10)
    del barrier
    return list(totals)
