"""Tests for `helpers.exercises.pools`: each checker passes its reference programs and names
each typical mistake, under the start method chosen by COURSE_START_METHOD."""

from __future__ import annotations

import time

import pytest
from support import pools as programs

from helpers.exercises.pools import check_careful_map, check_count_primes

# A checker must answer well within its own limit, even for a program that hangs.
ANSWERED_WITHIN = 45.0


def verdict(check, program, **options):
    began = time.monotonic()
    answer = check(program, **options)
    assert time.monotonic() - began < ANSWERED_WITHIN
    return repr(answer)


OK_PRIMES = (
    r"✔ 2,262 primes below 20,000, sent as {} message\(s\) to a pool that started "
    r"\d+ worker\(s\) and shut down cleanly"
)


@pytest.mark.parametrize(
    ("program", "messages"),
    [
        (programs.count_primes, 20),
        (programs.count_primes_with_pool, 8),  # Pool.map: about four chunks per worker
        (programs.count_primes_close_join, 40),
        (programs.count_primes_in_ranges, 4),
    ],
    ids=["executor-map", "pool-with", "pool-close-join", "ranges"],
)
def test_count_primes_passes_good_programs(program, messages):
    import re

    assert re.fullmatch(OK_PRIMES.format(messages), verdict(check_count_primes, program))


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        pytest.param(  # 20,000 round trips to a worker: slow on purpose, as the hint says
            programs.count_primes_one_by_one,
            "✘ right count, but your program sent the work as 20,000 separate tasks: each one "
            "is a round trip to a worker, costlier than testing one number. Send it in chunks: "
            "map(..., chunksize=2,500) for 2 workers, or a few ranges of numbers",
            marks=pytest.mark.slow,
        ),
        (
            programs.count_primes_without_ctx,
            "✘ your ProcessPoolExecutor was created without ctx, so it uses the platform's "
            "default start method instead of the notebook's: write "
            "ProcessPoolExecutor(..., mp_context=ctx)",
        ),
        pytest.param(  # waits for the workers left running, on purpose
            programs.count_primes_never_shut_down,
            "✘ your ProcessPoolExecutor was never shut down, so its workers were left running: "
            "use `with ProcessPoolExecutor(...) as pool:`, or call pool.shutdown() when you "
            "are done",
            marks=pytest.mark.slow,
        ),
        (
            programs.count_primes_closed_not_joined,
            "✘ your Pool was closed but never joined: close() only says no more tasks will "
            "come; call pool.join() after it to wait for the workers to exit",
        ),
        (
            programs.count_primes_with_one,
            "✘ your program counted 2,263, one too many: 1 is not a prime (a prime has "
            "exactly two divisors, 1 and itself)",
        ),
        (
            programs.count_primes_list,
            "✘ your program returned a list, not the number of primes: return the count, "
            "e.g. sum(flags) of the True/False answers",
        ),
        (
            programs.count_primes_no_pool,
            "✘ your program started no process: create one with ctx.Process(target=..., "
            "args=(...)) and call its start()",
        ),
    ],
    ids=["chunksize-1", "no-ctx", "no-shutdown", "close-no-join", "one", "list", "no-pool"],
)
def test_count_primes_names_the_mistake(program, expected):
    assert verdict(check_count_primes, program) == expected


def test_count_primes_names_a_task_defined_in_the_notebook(cell):
    program = cell(
        """
        def is_prime(n):
            return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))

        def count_primes(ctx, limit):
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(2, mp_context=ctx) as pool:
                return sum(pool.map(is_prime, range(limit), chunksize=1000, timeout=20))
        """
    )
    assert verdict(check_count_primes, program) == (
        "✘ your pool ran is_prime, a function defined in the notebook: under spawn and "
        "forkserver the pool's workers cannot import it, and the pool waits forever (it "
        "works under fork only). Write it to my_workers_08.py with %%writefile and import "
        "it from there"
    )


def test_count_primes_wants_the_function_itself():
    assert repr(check_count_primes(2262)) == (
        "✘ pass your function itself, e.g. check_count_primes(count_primes), not a int"
    )


def test_checkers_refuse_a_bad_timeout():
    with pytest.raises(ValueError) as info:
        check_careful_map(programs.careful_map, timeout=-1)
    assert str(info.value) == "timeout must be a positive, finite number of seconds, not -1"


# --- exercise 2: careful_map ------------------------------------------------------------

CAREFUL_OK = (
    "✔ 40 results in order with 40 progress reports through the initializer's queue; "
    "with a failing task, its ValueError came back and no more than 12 of 40 tasks started"
)


@pytest.mark.slow
def test_careful_map_passes_the_reference_program():
    assert verdict(check_careful_map, programs.careful_map) == CAREFUL_OK


@pytest.mark.slow
@pytest.mark.parametrize(
    ("program", "hint"),
    [
        (programs.careful_map_never_cancels, "the first error did not stop the rest"),
        (programs.careful_map_queue_with_task, "give it to the pool's initializer"),
        (programs.careful_map_swallows, "but your program returned normally"),
        (programs.careful_map_no_progress, "on_progress was called for 0 of the 40 tasks"),
    ],
    ids=["never-cancels", "queue-with-task", "swallows", "no-progress"],
)
def test_careful_map_names_the_mistake(program, hint):
    message = verdict(check_careful_map, program)
    assert message.startswith("✘") and hint in message, message


def test_careful_map_refuses_a_call_result():
    assert verdict(check_careful_map, 42).startswith("✘ pass your function itself")
