"""Tasks for lesson 09's second exercise, right and wrong, used only by its tests.

Each stores the line ``n,n²`` in a file in ``folder``. Workers of a separate
cluster cannot import this module, so cloudpickle is told to send its functions'
code, as it does for a function defined in a notebook cell.
"""

from __future__ import annotations

import sys

import cloudpickle

cloudpickle.register_pickle_by_value(sys.modules[__name__])

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
