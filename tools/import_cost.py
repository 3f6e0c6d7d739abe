"""What importing each lesson module costs a fresh interpreter — what every spawned child pays.

Usage: python tools/import_cost.py [--repeats N] [--modules helpers.queues,...]

Each figure is the median, over N fresh interpreters, of the time one
``import`` statement takes (interpreter start-up itself is not counted). The
baseline is the standard-library machinery the lessons teach: ``multiprocessing``
with its ``managers``, ``queues``, ``connection`` and ``shared_memory``
submodules. Runs of the baseline and of each module are interleaved, so a
machine that gets busier during the run slows them alike. A lesson module that
does not exist yet is reported and skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = (
    "multiprocessing",
    "multiprocessing.managers",
    "multiprocessing.queues",
    "multiprocessing.connection",
    "multiprocessing.shared_memory",
)
LESSON_MODULES = (
    "helpers.sharedctypes",
    "helpers.managers",
    "helpers.queues",
    "helpers.pipes",
    "helpers.processes",
    "helpers.bench",
)
TARGET_RATIO = 1.2

_PROBE = """\
import time
started = time.perf_counter()
import {names}
print(time.perf_counter() - started)
"""


def import_seconds(names: tuple[str, ...]) -> float:
    """Seconds one fresh interpreter spends importing ``names`` (one statement)."""
    code = _PROBE.format(names=", ".join(names))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"importing {', '.join(names)} failed: {last[0]}")
    return float(done.stdout)


def exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def measure(modules: list[str], repeats: int) -> dict[str, list[float]]:
    """Interleaved fresh-interpreter timings: baseline first in every round."""
    samples: dict[str, list[float]] = {"baseline": [], **{m: [] for m in modules}}
    for _ in range(repeats):
        samples["baseline"].append(import_seconds(BASELINE))
        for module in modules:
            samples[module].append(import_seconds((module,)))
    return samples


def _line(label: str, seconds: list[float]) -> str:
    median = statistics.median(seconds)
    spread = max(seconds) - min(seconds)
    return f"{label:<32} {median * 1e3:7.1f} ms  (spread {spread * 1e3:.1f} ms)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=9, help="fresh interpreters each (default 9)"
    )
    parser.add_argument(
        "--modules",
        default=",".join(LESSON_MODULES),
        help="comma-separated modules to time (default: every lesson module)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, not {args.repeats}")
    wanted = [m.strip() for m in args.modules.split(",") if m.strip()]
    present = [m for m in wanted if exists(m)]
    samples = measure(present, args.repeats)
    baseline = statistics.median(samples["baseline"])
    print(f"Import time in a fresh interpreter, median of {args.repeats}:")
    print(_line("stdlib multiprocessing machinery", samples["baseline"]))
    worst = 0.0
    for module in wanted:
        if module not in present:
            print(f"{module:<32} not written yet: skipped")
            continue
        ratio = statistics.median(samples[module]) / baseline
        worst = max(worst, ratio)
        print(f"{_line(module, samples[module])}  = {ratio:.2f}× the stdlib")
    if present:
        verdict = "reached" if worst <= TARGET_RATIO else "not reached"
        print(f"largest ratio: {worst:.2f}× (target ≤ {TARGET_RATIO}×): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
