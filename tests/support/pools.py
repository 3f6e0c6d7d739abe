"""Programs a learner might write for lesson 08's exercises: the reference ones and wrong ones.

Test-only: `tests/test_exercises_pools.py` hands each to a checker. The tasks
are top-level functions here, so a spawned pool worker can import them, just as
it imports a learner's ``my_workers_08.py``.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed

TIMEOUT = 60

# --- tasks ----------------------------------------------------------------------------


def is_prime(n):
    if n < 2:
        return False
    divisor = 2
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 1
    return True


def is_prime_says_one_is(n):
    return n == 1 or is_prime(n)


def primes_in(start, stop):
    return sum(is_prime(n) for n in range(start, stop))


# --- exercise 1: count the primes below a limit -----------------------------------------


def count_primes(ctx, limit):
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        return sum(pool.map(is_prime, range(limit), chunksize=1_000, timeout=TIMEOUT))


def count_primes_with_pool(ctx, limit):  # Pool.map picks its own chunksize; `with` terminates
    with ctx.Pool(2) as pool:
        return sum(pool.map_async(is_prime, range(limit)).get(timeout=TIMEOUT))


def count_primes_close_join(ctx, limit):
    pool = ctx.Pool(2)
    flags = pool.map_async(is_prime, range(limit), chunksize=500).get(timeout=TIMEOUT)
    pool.close()
    pool.join()
    return sum(flags)


def count_primes_in_ranges(ctx, limit):
    step = limit // 4
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        futures = [
            pool.submit(primes_in, lo, min(lo + step, limit)) for lo in range(0, limit, step)
        ]
        return sum(f.result(timeout=TIMEOUT) for f in futures)


def count_primes_one_by_one(ctx, limit):  # map's chunksize is 1 unless told otherwise
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        return sum(pool.map(is_prime, range(limit), timeout=TIMEOUT))


def count_primes_without_ctx(ctx, limit):
    with ProcessPoolExecutor(2) as pool:
        return sum(pool.map(is_prime, range(limit), chunksize=1_000, timeout=TIMEOUT))


def count_primes_never_shut_down(ctx, limit):
    pool = ProcessPoolExecutor(2, mp_context=ctx)
    return sum(pool.map(is_prime, range(limit), chunksize=1_000, timeout=TIMEOUT))


def count_primes_closed_not_joined(ctx, limit):
    pool = ctx.Pool(2)
    flags = pool.map_async(is_prime, range(limit), chunksize=1_000).get(timeout=TIMEOUT)
    pool.close()
    return sum(flags)


def count_primes_with_one(ctx, limit):
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        return sum(pool.map(is_prime_says_one_is, range(limit), chunksize=1_000))


def count_primes_list(ctx, limit):  # returns the flags, not their count
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        return list(pool.map(is_prime, range(limit), chunksize=1_000, timeout=TIMEOUT))


def count_primes_no_pool(ctx, limit):
    return sum(is_prime(n) for n in range(limit))


# --- exercise 2: a careful map — progress through the initializer's queue, stop at an error ---

_progress = None


def keep_queue(progress):
    global _progress  # noqa: PLW0603 - what an initializer is for
    _progress = progress


def reporting(task, x):
    result = task(x)
    _progress.put(x)
    return result


def careful_map(ctx, task, inputs, on_progress):
    progress = ctx.Queue()
    try:
        with ProcessPoolExecutor(
            2, mp_context=ctx, initializer=keep_queue, initargs=(progress,)
        ) as pool:
            futures = [pool.submit(reporting, task, x) for x in inputs]
            for future in as_completed(futures, timeout=TIMEOUT):
                if future.exception() is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                    future.result()  # raises the task's exception here
                on_progress(progress.get(timeout=TIMEOUT))
            return [future.result() for future in futures]
    finally:
        progress.close()
        progress.join_thread()


def careful_map_never_cancels(ctx, task, inputs, on_progress):
    progress = ctx.Queue()
    with ProcessPoolExecutor(
        2, mp_context=ctx, initializer=keep_queue, initargs=(progress,)
    ) as pool:
        futures = [pool.submit(reporting, task, x) for x in inputs]
        for future in as_completed(futures, timeout=TIMEOUT):
            future.result()  # raises, and leaving `with` waits for every other task
            on_progress(progress.get(timeout=TIMEOUT))
        return [future.result() for future in futures]


def careful_map_queue_with_task(ctx, task, inputs, on_progress):
    progress = ctx.Queue()
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        futures = [pool.submit(reporting_to, progress, task, x) for x in inputs]
        results = [future.result(timeout=TIMEOUT) for future in futures]
    for _ in inputs:
        on_progress(progress.get(timeout=TIMEOUT))
    return results


def reporting_to(progress, task, x):
    result = task(x)
    progress.put(x)
    return result


def careful_map_swallows(ctx, task, inputs, on_progress):
    progress = ctx.Queue()
    with ProcessPoolExecutor(
        2, mp_context=ctx, initializer=keep_queue, initargs=(progress,)
    ) as pool:
        futures = [pool.submit(reporting, task, x) for x in inputs]
        results = []
        for future in futures:
            try:
                results.append(future.result(timeout=TIMEOUT))
                on_progress(progress.get(timeout=TIMEOUT))
            except ValueError:
                pool.shutdown(wait=True, cancel_futures=True)
                return results
        return results


def careful_map_no_progress(ctx, task, inputs, on_progress):
    progress = ctx.Queue()
    with ProcessPoolExecutor(
        2, mp_context=ctx, initializer=keep_queue, initargs=(progress,)
    ) as pool:
        return list(pool.map(reporting, [task] * len(inputs), inputs, timeout=TIMEOUT))
