"""Every lesson, run in JupyterLab in Chromium, the way a learner meets it.

For each notebook: open a fresh copy, Run All Cells from the menu, wait for the
kernel, check that no cell shows an error (cells tagged ``raises-exception``
must show theirs) and that the seed example's result is on screen. Then use the
widget playground by hand — type, press arrow keys on a slider, click its
button — and check the new result, timing each round trip from the click to
the new text. The medians are printed at the end of the run.

Each `Lesson` below is the whole difference between notebooks; the expected
values are worked out here, by hand, not by calling the helpers under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.sharedctypes import PLAYGROUND_INCREMENTS

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class Round:
    """Change these controls (by description), run, and expect this text in the result."""

    changes: dict[str, object]
    expected: str | re.Pattern[str]


@dataclass(frozen=True)
class Lesson:
    notebook: str
    seed: tuple[str | re.Pattern[str], ...]  # what the seed example shows, verbatim
    control: str  # the description of one control, to find the playground by
    rounds: tuple[Round, ...]  # at least one; run in order, each timed
    image: bool = False  # the playground also shows a picture, which each run must fill in


def _start_up(method: str, starts: int) -> Round:
    """00: time ``starts`` children under ``method``; the figures vary, the shape does not."""
    ms = r"[\d.]+"
    line = rf"^ *{method}: +{ms} ms per child \(median of {starts}; fastest {ms}, slowest {ms}\)$"
    return Round({"Start method": method, "Starts": starts}, re.compile(line))


def _shared_squares(numbers: str, typecode: str, processes: int) -> Round:
    """01: squares and their sum from a child, then a race with and without the lock."""
    squares = [int(part) ** 2 for part in numbers.split(",")]
    expected = processes * PLAYGROUND_INCREMENTS
    who = f"{processes} process" + ("" if processes == 1 else "es")
    lines = [
        re.escape(f"squares in {typecode!r}: {squares}"),
        re.escape(f"sum of squares: {sum(squares)}"),
        re.escape(f"{who} × {PLAYGROUND_INCREMENTS} increments, expected {expected}:"),
        re.escape(f"  with the lock:    {expected} (lost 0)"),
        r"  without the lock: \d+ \(lost \d+\)",  # how many are lost varies
    ]
    changes = {"numbers": numbers, "typecode": typecode, "processes": processes}
    return Round(changes, re.compile("^" + "\n".join(lines) + "$"))


SEED_RECORDS = [("Sam", 10), ("Adam", 9), ("Kevin", 9), ("Jeff", 8)]


def _records_table(rows: list[tuple[str, int]]) -> re.Pattern[str]:
    """02: the whole table, header first, these rows in this order, nothing after."""
    lines = ["name +score", *(rf"{re.escape(name)} +{score}" for name, score in rows)]
    return re.compile("^" + "\n".join(lines) + r"\n?(?![\s\S])")


def _added_one_by_one(records: list[tuple[str, int]]) -> tuple[Round, ...]:
    """02: each click adds exactly one record to the board, which starts from the seed's four.

    (Cleanup shut the board's manager down, so after Run All it starts afresh.)
    """
    return tuple(
        Round({"name": name, "score": str(score)}, _records_table(SEED_RECORDS + records[:n]))
        for n, (name, score) in enumerate(records, start=1)
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _shared_work(items: int, producers: int, consumers: int, work_ms: float) -> Round:
    """03: who took what (one line per consumer, split varies), then nothing lost or doubled."""
    checksum = items * (items + 1) // 2  # 1 + 2 + … + items, each taken exactly once
    who_took = [r"consumer-\d+ took \d+ items?: [^\n]*"] * consumers
    summary = [
        f"{_plural(items, 'item')} from {_plural(producers, 'producer')}"
        f" to {_plural(consumers, 'consumer')}",
        f"taken: {items}, lost: 0, duplicated: 0",
        f"checksum: {checksum} (expected {checksum})",
        "each producer's items arrived in order",
    ]
    lines = who_took + [re.escape(line) for line in summary]
    changes = {"items": items, "producers": producers, "consumers": consumers, "work (ms)": work_ms}
    return Round(changes, re.compile("^" + "\n".join(lines) + "$"))


def _delivered(messages: list[str], end_marker: str) -> Round:
    """04: every typed line arrives, in order, and the end marker stops the receiver."""
    report = [
        f"sent {len(messages)} message(s), then {end_marker!r}",
        f"received {len(messages)}, all in order: True",
        *(f"  {number}. {message!r}" for number, message in enumerate(messages, start=1)),
    ]
    changes = {"messages": "\n".join(messages), "end marker": end_marker}
    return Round(changes, "\n".join(report) + "\n")


# 05's size ladder (×4 a step) and bulk channels, as the playground labels them.
SIZES = ["1 KiB", "4 KiB", "16 KiB", "64 KiB", "256 KiB", "1 MiB", "4 MiB", "16 MiB", "64 MiB"]
CHANNELS = [
    "Array + numpy",
    "SharedMemory + numpy",
    "Pipe.send_bytes chunks",
    "Queue of byte chunks",
    "pickled ndarray on Pipe",
    "Manager list of chunks",
]
LIMITS = ["memcpy (same copy, private memory) (limit)", "raw os.pipe (limit)"]


def _bulk(smallest: str, largest: str, channels: list[str], repeats: int) -> Round:
    """05: a table with a row, intact, for each chosen channel and limit at each size — and
    no other channel; then the advice for big arrays at the largest size. Figures vary."""
    sizes = SIZES[SIZES.index(smallest) : SIZES.index(largest) + 1]
    rows = [
        rf"(?=[\s\S]*^{re.escape(label)} +{re.escape(size)} .*✔$)"
        for label in LIMITS + channels
        for size in sizes
    ]
    others = [rf"(?![\s\S]*^{re.escape(label)} )" for label in CHANNELS if label not in channels]
    footer = [
        rf"(?=[\s\S]*^median of {repeats} timed repeats )",
        rf"(?=[\s\S]*^• Big arrays \({re.escape(largest)}\): )",
    ]
    header = r"^channel +size +median .* intact$"  # the first line: the match starts here
    changes = {
        "sizes": (SIZES.index(smallest), SIZES.index(largest)),  # slider positions
        "channels": channels,
        "repeats": repeats,
    }
    return Round(changes, re.compile(header + "".join(rows + others + footer)))


def _coordinated(primitive: str, processes: int, slots: int) -> Round:
    """06: the playground's header, then the rule it counted from the recorded events."""
    rule = {
        "Lock": "never more than 1 inside",
        "Semaphore": f"never more than {slots} inside",
        "Event": f"all {processes} released by one set()",
        "Barrier": f"nobody passed before {slots} had arrived",
    }[primitive]
    changes = {"primitive": primitive, "processes": processes, "slots": slots}
    return Round(changes, f"{primitive}, {processes} processes, {slots} slots\n{rule}: True\n")


def _refused_barrier(processes: int, parties: int) -> Round:
    """06: a Barrier whose groups the processes cannot fill is refused before anything starts."""
    changes = {"primitive": "Barrier", "processes": processes, "slots": parties}
    left = processes % parties
    message = (
        f"✘ {processes} processes do not fill groups of {parties} parties: the last {left} "
        f"would wait at the Barrier for ever; choose a multiple of {parties}\n"
    )
    return Round(changes, message)


def _compared(size: str, children: int) -> Round:
    """07: one process against the chosen children, best of two each; times vary."""
    label = "1 child" if children == 1 else f"{children} children"
    seconds = r" +work [\d.]+ s \+ start and join [\d.]+ s = [\d.]+ s in all"
    lines = [
        r"1 child:" + seconds,
        re.escape(f"{label}:") + seconds,
        r"the work alone: [\d.]+× as fast, with [\d.]+ CPUs busy during it",
        r"start to join: [\d.]+× as fast; Amdahl's law, with the serial \d+% of the "
        r"1-child run, allows at most [\d.]+×",
        r"\(best of 2 runs each\)",
    ]
    return Round(
        {"array size": size, "children": children}, re.compile("^" + "\n".join(lines) + "$")
    )


def _task_stream(tasks: int, ms: int, workers: int) -> Round:
    """09: the time taken varies; the line's shape and the best possible time do not."""
    best = re.escape(f"{tasks * ms / 1000 / workers:.2f}")
    line = rf"^{tasks} tasks × {ms} ms on {workers} worker\(s\): [\d.]+ s \(at best {best} s\)$"
    return Round({"tasks": tasks, "task ms": ms, "workers": workers}, re.compile(line))


def _pool_run(workers: int, chunksize: int, tasks: int, work_ms: float) -> Round:
    """08: both timings and the speed-up (figures vary); the task line and the ideal do not."""
    who = f"{workers} worker" + ("" if workers == 1 else "s")
    lines = [
        re.escape(f"{tasks} tasks of {work_ms:g} ms of CPU each, chunksize {chunksize}"),
        r"1 worker: +[\d.]+ ms",
        rf"{re.escape(who)}: +[\d.]+ ms",
        rf"speed-up: [\d.]+× \(ideal at most {min(workers, tasks)}×\)",
        rf"workers that ran a task: \d+ of {workers}",
    ]
    changes = {"workers": workers, "chunksize": chunksize, "tasks": tasks, "work (ms)": work_ms}
    return Round(changes, re.compile("^" + "\n".join(lines) + "$"))


def _explored(limit: int, workers: int) -> Round:
    """10: the explorer's line after a render; only the time varies."""
    frame = f"rendered 600 × 400 pixels, zoom 1, limit {limit}: 24 tiles on {workers} worker(s)"
    line = rf"^{re.escape(frame)} in \d+ ms$"
    return Round({"limit": limit, "workers": workers}, re.compile(line))


LESSONS = [
    Lesson(
        "00_start_here.ipynb",
        # A global changed in a child stays unchanged in the parent.
        seed=(
            "counter in the notebook before: 0\n"
            "counter the child sent back:    1\n"
            "counter in the notebook after:  0\n",
        ),
        control="Start method",
        rounds=tuple(
            _start_up(method, starts)
            # One pick from the list, then slider key presses; mostly spawn, the default.
            for method, starts in [
                ("fork", 2),
                ("spawn", 3),
                ("spawn", 2),
                ("spawn", 4),
                ("spawn", 1),
            ]
        ),
    ),
    Lesson(
        "01_array_and_value.ipynb",
        # The child's squares and sum, read back by the notebook from shared memory.
        seed=("squares, read by the notebook: [1, 4, 9, 16]\nsum, read by the notebook: 30\n",),
        control="numbers",
        rounds=(
            _shared_squares("2, 3, 5", "q", 1),
            _shared_squares("1, 2, 3", "i", 1),
            _shared_squares("7", "b", 2),
            _shared_squares("4, 5", "h", 1),
            _shared_squares("10, 20", "q", 2),
        ),
    ),
    Lesson(
        "02_manager.ipynb",
        # The four records exactly as the second child saw them, Jeff's included.
        seed=("name   score\nSam       10\nAdam       9\nKevin      9\nJeff       8\n",),
        control="name",
        rounds=_added_one_by_one([("Ada", 3), ("Bo", 4), ("Cy", 5), ("Di", 6), ("Ed", 7)]),
    ),
    Lesson(
        "03_queue.ipynb",
        # The consumer took the squares off the queue in the order they were put.
        seed=("1\n4\n9\n16\n",),
        control="producers",
        rounds=(
            _shared_work(55, 2, 2, 0),
            _shared_work(50, 1, 3, 0),
            _shared_work(45, 3, 1, 0.5),
            _shared_work(52, 2, 2, 0),
            _shared_work(48, 4, 2, 0),
        ),
    ),
    Lesson(
        "04_pipe.ipynb",
        # The seed's three messages, received in order; the end marker only stopped the receiver.
        seed=("received: hello\nreceived: hey\nreceived: hru?\n",),
        control="end marker",
        rounds=(
            _delivered(["ping", "pong"], "STOP"),
            _delivered(["one", "two", "three", "four"], "END"),
            _delivered(["héllo wörld", "ünïcode ✓"], "BYE"),
            _delivered(["a b c"], "END"),
            _delivered(["x", "y", "z"], "DONE"),
        ),
    ),
    Lesson(
        "05_which_channel_when.ipynb",
        # Element-by-element writes lose to one bulk write, and write the same data.
        seed=(
            "one bulk write faster than element by element: True\n"
            "both wrote the same squares: True\n",
        ),
        control="sizes",
        rounds=(
            _bulk("1 KiB", "4 KiB", ["SharedMemory + numpy", "Pipe.send_bytes chunks"], 1),
            _bulk("4 KiB", "4 KiB", ["Array + numpy", "Queue of byte chunks"], 1),
            _bulk("1 KiB", "1 KiB", ["pickled ndarray on Pipe"], 2),
            _bulk("4 KiB", "16 KiB", ["SharedMemory + numpy"], 1),
            _bulk("1 KiB", "4 KiB", ["Manager list of chunks", "Pipe.send_bytes chunks"], 1),
        ),
    ),
    Lesson(
        "06_coordination.ipynb",
        # The first example: three workers share one Lock, and never two are inside at once.
        seed=("most workers inside at once: 1\n",),
        control="processes",
        rounds=(
            _coordinated("Semaphore", 4, 3),
            _coordinated("Lock", 3, 3),
            _coordinated("Barrier", 4, 2),
            _refused_barrier(3, 2),
            _coordinated("Event", 5, 2),
        ),
    ),
    Lesson(
        "07_shared_memory_numpy.ipynb",
        # A child squared the numbers in place; the notebook reads them from the same memory.
        seed=("the notebook reads: [1, 4, 9, 16]\n",),
        control="children",
        rounds=(
            _compared("4 MiB", 2),
            _compared("4 MiB", 1),
            _compared("8 MiB", 3),
        ),
    ),
    Lesson(
        "09_beyond_one_machine.ipynb",
        # The squares the two client processes stored in the job server's dict, over TCP.
        seed=("{1: 1, 2: 4, 3: 9, 4: 16, 5: 25, 6: 36, 7: 49, 8: 64}\n",),
        control="task ms",
        rounds=(
            _task_stream(36, 50, 2),
            _task_stream(40, 45, 1),
            _task_stream(44, 55, 2),
            _task_stream(40, 50, 1),
            _task_stream(38, 50, 2),
        ),
    ),
    Lesson(
        "08_pools.ipynb",
        # submit(), result() and map(): the answers came back, and the pool's workers are gone.
        seed=("result: 49\n[1024, 27, 100]\nworkers still running: 0\n",),
        control="chunksize",
        rounds=(
            _pool_run(2, 1, 16, 20),
            _pool_run(3, 2, 12, 19.5),
            _pool_run(1, 1, 5, 20),
            _pool_run(4, 4, 10, 20.5),
            _pool_run(2, 3, 7, 20),
        ),
    ),
    Lesson(
        "10_capstone_fractal_explorer.ipynb",
        # The warm render, equal to the serial one, and each of its tiles on the timeline.
        seed=("the warm render equals the serial one: True\ntiles on the timeline: 24\n",),
        control="limit",
        rounds=(
            _explored(110, 2),
            _explored(100, 2),
            _explored(120, 2),
            _explored(90, 2),
            _explored(100, 2),
        ),
        image=True,
    ),
]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.notebook.split("_")[0])
def test_lesson_runs_clean_and_its_playground_answers(open_notebook, timings, lesson):
    notebook = open_notebook(NOTEBOOKS / lesson.notebook)

    notebook.assert_ran_cleanly(notebook.run_all())
    timings.run_all_s[notebook.name] = notebook.run_all_seconds
    for text in lesson.seed:
        notebook.expect_output(text)
    notebook.screenshot("1-after-run")

    playground = notebook.playground(lesson.control)
    timings.round_trips_ms[notebook.name] = [
        playground.round_trip(step.changes, step.expected) for step in lesson.rounds
    ]
    if lesson.image:  # the picture arrived as well as the line: a PNG is in the page
        picture = playground.root.locator("img").first
        assert (picture.get_attribute("src") or "").startswith(("blob:", "data:image/png"))
    notebook.screenshot("2-playground", show=playground.root)
