"""Programs for lesson 09's second exercise, right and wrong, used only by its tests.

Each counts, with one Dask task per threshold, how many numbers are below it.
The task functions are nested so that cloudpickle sends their code, as it does
for a function defined in a notebook cell.
"""

from __future__ import annotations

from distributed import wait


def _counter():
    """A task function made inside a function, as a cell defines one: Dask sends its code.

    (One defined at the top of this module would be sent by name, and the
    workers and scheduler of an external cluster cannot import this module.)
    """

    def count_below(numbers, threshold):
        return int((numbers < threshold).sum())

    return count_below


def reference(client, numbers, thresholds):
    numbers_future = client.scatter(numbers, broadcast=True)
    futures = [client.submit(_counter(), numbers_future, t) for t in thresholds]
    wait(futures, timeout=60)
    return client.gather(futures)


def with_map(client, numbers, thresholds):
    [numbers_future] = client.scatter([numbers])  # wrapped in a list: one future too
    futures = client.map(_counter(), [numbers_future] * len(thresholds), thresholds)
    wait(futures, timeout=60)
    return client.gather(futures)


def ships_the_list_with_every_task(client, numbers, thresholds):
    futures = [client.submit(_counter(), numbers, t) for t in thresholds]
    wait(futures, timeout=60)
    return client.gather(futures)


def ships_it_in_a_closure(client, numbers, thresholds):
    def count(threshold):
        return int((numbers < threshold).sum())

    futures = client.map(count, thresholds)
    wait(futures, timeout=60)
    return client.gather(futures)


def scatters_it_as_a_list(client, numbers, thresholds):
    pieces = client.scatter(numbers.tolist())  # a list: one future per number, 20,000 of them
    # Passing them on would make every task wait for 20,000 pieces; the checker
    # names the scatter whatever happens next, so this program stops here.
    raise RuntimeError(f"got {len(pieces)} futures instead of one")


def returns_futures(client, numbers, thresholds):
    numbers_future = client.scatter(numbers)
    return [client.submit(_counter(), numbers_future, t) for t in thresholds]


def counts_here(client, numbers, thresholds):
    return [_counter()(numbers, t) for t in thresholds]


def scatters_in_the_loop(client, numbers, thresholds):
    futures = []
    for t in thresholds:
        numbers_future = client.scatter(numbers)
        futures.append(client.submit(_counter(), numbers_future, t))
    wait(futures, timeout=60)
    return client.gather(futures)


def sorts_the_counts(client, numbers, thresholds):
    return sorted(reference(client, numbers, thresholds), reverse=True)


# --- exercise 2: a task that is safe to run twice -----------------------------------------


def record_square(n, folder):
    import os

    path = os.path.join(folder, f"{n}.csv")
    with open(path + ".tmp", "w") as file:
        file.write(f"{n},{n * n}\n")
    os.replace(path + ".tmp", path)  # all at once: a second run overwrites the first


def record_square_appending(n, folder):
    import os

    with open(os.path.join(folder, "results.csv"), "a") as file:
        file.write(f"{n},{n * n}\n")


def record_square_raising(n, folder):
    raise OSError("the disk is full")
