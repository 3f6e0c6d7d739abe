"""Programs for `tests/test_exercises_synchronize.py`: the reference answers and typical mistakes.

Test-only: children import these workers from here, the way they import a
learner's ``my_*_06.py`` from the notebook's folder.
"""

from __future__ import annotations

import time

# --- exercise 1: a ring buffer in shared memory --------------------------------------------


def produce(items, ring, empty, full, *, patience=5.0):
    """Runs in a child: item i into slot i % len(ring), once a slot is empty."""
    for i, item in enumerate(items):
        if not empty.acquire(timeout=patience):  # nobody consumes: give up
            raise TimeoutError(f"no empty slot for item {i} within {patience} s")
        ring[i % len(ring)] = item
        full.release()


def produce_for_ever(items, ring, empty, full):
    """The mistake: waits for an empty slot with no timeout."""
    for i, item in enumerate(items):
        empty.acquire()
        ring[i % len(ring)] = item
        full.release()


def consume(count, ring, empty, full, out, *, patience=5.0):
    """Runs in a child: read ``count`` items from the slots, in order, into ``out``."""
    for i in range(count):
        if not full.acquire(timeout=patience):
            raise TimeoutError(f"item {i} never came within {patience} s")
        out[i] = ring[i % len(ring)]
        empty.release()


def _ring(ctx, items, slots, producer, *, check=True, patience=30):
    ring, out = ctx.Array("q", slots, lock=False), ctx.Array("q", len(items), lock=False)
    empty, full = ctx.Semaphore(slots), ctx.Semaphore(0)
    pair = [
        ctx.Process(target=producer, args=(items, ring, empty, full)),
        ctx.Process(target=consume, args=(len(items), ring, empty, full, out)),
    ]
    for p in pair:
        p.start()
    for p in pair:
        p.join(timeout=patience)
    if check and any(p.exitcode != 0 for p in pair):
        raise RuntimeError(f"a child failed: exit codes {[p.exitcode for p in pair]}")
    return list(out)


def ring_transfer(ctx, items, slots):
    return _ring(ctx, items, slots, produce)


def ring_returns_anyway(ctx, items, slots):
    return _ring(ctx, items, slots, produce, check=False)


def ring_producer_waits_for_ever(ctx, items, slots):
    return _ring(ctx, items, slots, produce_for_ever, patience=2)


def ring_out_of_order(ctx, items, slots):
    return list(reversed(_ring(ctx, items, slots, produce)))


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
