"""What importing each child-side module costs a fresh interpreter — what every spawned child pays.

Usage: python tools/import_cost.py [--repeats N] [--modules MODULE,...] [--from-source]

Each figure is the median, over N fresh interpreters, of the time one
``import`` statement takes (interpreter start-up itself is not counted): by
default every module of ``helpers/workers/``, the only ones a child imports. The
baseline is the standard-library machinery the lessons teach: ``multiprocessing``
with its ``managers``, ``queues``, ``connection`` and ``shared_memory``
submodules. Runs of the baseline and of each module are interleaved, so a
machine that gets busier during the run slows them alike. A module that does
not exist yet is reported and skipped.

By default every module is imported from cached bytecode, as on a normal
installation (the cache lives in a temporary directory, so the repository is
not touched). ``--from-source`` instead measures what a child pays when
``PYTHONDONTWRITEBYTECODE`` is set: the course's modules are compiled on every
import, while the standard library still has its installed bytecode.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = (
    "multiprocessing",
    "multiprocessing.managers",
    "multiprocessing.queues",
    "multiprocessing.connection",
    "multiprocessing.shared_memory",
)
# What a child imports: every module of helpers/workers/, found by globbing the
# folder, so a new lesson's workers are timed without being added to a list.
CHILD_MODULES = tuple(
    sorted(
        f"helpers.workers.{path.stem}"
        for path in (ROOT / "helpers" / "workers").glob("*.py")
        if path.stem != "__init__"
    )
)
TARGET_RATIO = 1.2

_PROBE = """\
import time
started = time.perf_counter()
import {names}
print(time.perf_counter() - started)
"""


def import_seconds(names: tuple[str, ...], env: Mapping[str, str] | None = None) -> float:
    """Seconds one fresh interpreter spends importing ``names`` (one statement)."""
    code = _PROBE.format(names=", ".join(names))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=None if env is None else dict(env),
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


def measure(
    modules: list[str], repeats: int, env: Mapping[str, str] | None = None
) -> dict[str, list[float]]:
    """Interleaved fresh-interpreter timings: baseline first in every round."""
    samples: dict[str, list[float]] = {"baseline": [], **{m: [] for m in modules}}
    for _ in range(repeats):
        samples["baseline"].append(import_seconds(BASELINE, env))
        for module in modules:
            samples[module].append(import_seconds((module,), env))
    return samples


def cached_bytecode_env(cache: str) -> dict[str, str]:
    """An environment whose interpreters read and write bytecode under ``cache``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def from_source_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


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
        default=",".join(CHILD_MODULES),
        help="comma-separated modules to time (default: every module of helpers/workers/)",
    )
    parser.add_argument(
        "--from-source",
        action="store_true",
        help="no bytecode cache for the course's modules (as with PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, not {args.repeats}")
    wanted = [m.strip() for m in args.modules.split(",") if m.strip()]
    present = [m for m in wanted if exists(m)]
    with tempfile.TemporaryDirectory(prefix="import-cost-") as cache:
        if args.from_source:
            env, how = from_source_env(), "course modules compiled from source"
        else:
            env, how = cached_bytecode_env(cache), "from cached bytecode"
            import_seconds((*BASELINE, *present), env)  # untimed: fills the cache
        samples = measure(present, args.repeats, env)
    baseline = statistics.median(samples["baseline"])
    print(f"Import time in a fresh interpreter ({how}), median of {args.repeats}:")
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
        within = "within" if worst <= TARGET_RATIO else "above"
        print(f"largest ratio: {worst:.2f}× the stdlib, {within} {TARGET_RATIO}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
