"""Tasks for lesson 09's second exercise, right and wrong, used only by its tests.

Each stores the line ``n,n²`` in a file in ``folder``. They are made inside a
function, as the old programs' tasks were: a function pickle cannot find by name
is sent by cloudpickle with its code, as a function defined in a notebook cell
is, so the workers of a separate cluster need not import this module.
"""

from __future__ import annotations


def _tasks():
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

    return record_square, record_square_appending, record_square_raising


record_square, record_square_appending, record_square_raising = _tasks()
