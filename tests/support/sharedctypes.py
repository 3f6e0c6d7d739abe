"""Programs a learner might write for lesson 01's exercises 2 and 3: right ones and typical slips.

Test-only. The workers are top-level functions here, so a spawned child can
import them (pytest puts this folder on ``sys.path``, and children inherit it).
"""

from __future__ import annotations

TIMEOUT = 30


def _start_and_join(ctx, worker, args_per_child):
    children = [ctx.Process(target=worker, args=args) for args in args_per_child]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=TIMEOUT)


# ---- exercise 2: the box office ---------------------------------------------------------


def buy_unlocked(seats, sold, me):
    """The program as given: the test and the take are two steps, and -= is unlocked."""
    mine = 0
    while seats.value > 0:
        seats.value -= 1
        mine += 1
    sold[me] = mine


def buy(seats, sold, me):
    """The fix: the test and the take under one lock."""
    mine = 0
    while True:
        with seats.get_lock():
            if seats.value <= 0:
                break
            seats.value -= 1
        mine += 1
    sold[me] = mine


def buy_uncounted(seats, sold, me):
    """Locked right, but the buyer never counts what it took."""
    while True:
        with seats.get_lock():
            if seats.value <= 0:
                break
            seats.value -= 1
    sold[me] = 0


def _sell(ctx, seats, buyers, worker, *, lock=True):
    left = ctx.Value("i", seats, lock=lock)
    sold = ctx.Array("i", buyers)
    _start_and_join(ctx, worker, [(left, sold, k) for k in range(buyers)])
    return list(sold), left.value


def sell_out(ctx, seats, buyers):
    """The reference solution."""
    return _sell(ctx, seats, buyers, buy)


def sell_out_as_given(ctx, seats, buyers):
    return _sell(ctx, seats, buyers, buy_unlocked)


def sell_out_uncounted(ctx, seats, buyers):
    """Locked right, but every buyer reports 0 tickets."""
    return _sell(ctx, seats, buyers, buy_uncounted)


def sell_out_read_early(ctx, seats, buyers):
    left = ctx.Value("i", seats)
    sold = ctx.Array("i", buyers)
    children = [ctx.Process(target=buy, args=(left, sold, k)) for k in range(buyers)]
    for child in children:
        child.start()
    tally = list(sold), left.value
    for child in children:
        child.join(timeout=TIMEOUT)
    return tally


def sell_out_total_only(ctx, seats, buyers):
    sold, _left = _sell(ctx, seats, buyers, buy)
    return sum(sold)


# ---- exercise 3: a progress counter -----------------------------------------------------


def count_in_batches(done, numbers):
    """Right: count locally, add every 1,000 under the lock, and the rest at the end."""
    mine = 0
    for _number in numbers:
        mine += 1
        if mine == 1_000:
            with done.get_lock():
                done.value += mine
            mine = 0
    with done.get_lock():
        done.value += mine


def count_each(done, numbers):
    """Correct but slow: the lock once per number."""
    for _number in numbers:
        with done.get_lock():
            done.value += 1


def count_at_the_end(done, numbers):
    """Correct and cheap, but the notebook sees nothing until a worker ends."""
    with done.get_lock():
        done.value += len(numbers)


def count_in_unlocked_batches(done, numbers):
    """Batches, but `done.value += mine` without the lock."""
    mine = 0
    for _number in numbers:
        mine += 1
        if mine == 1_000:
            done.value += mine
            mine = 0
    done.value += mine


def count_unlocked(done, numbers):
    """One unlocked += per number: updates are lost."""
    for _number in numbers:
        done.value += 1


def _count(ctx, chunks, worker):
    done = ctx.Value("q", 0)
    _start_and_join(ctx, worker, [(done, chunk) for chunk in chunks])
    return done.value


def count_all(ctx, chunks):
    """The reference solution."""
    return _count(ctx, chunks, count_in_batches)


def count_all_each(ctx, chunks):
    return _count(ctx, chunks, count_each)


def count_all_at_the_end(ctx, chunks):
    return _count(ctx, chunks, count_at_the_end)


def count_all_unlocked_batches(ctx, chunks):
    return _count(ctx, chunks, count_in_unlocked_batches)


def count_all_unlocked(ctx, chunks):
    return _count(ctx, chunks, count_unlocked)


def count_all_raw(ctx, chunks):
    """A RawValue: no lock to count, nor to hold."""
    done = ctx.RawValue("q", 0)
    _start_and_join(ctx, count_at_the_end_raw, [(done, chunk) for chunk in chunks])
    return done.value


def count_at_the_end_raw(done, numbers):
    done.value += len(numbers)
