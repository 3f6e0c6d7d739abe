"""Run the course with another platform's limits emulated: ``make test-portability``.

Usage: python tests/portability/run.py [macos] [windows] [binder] [--notebooks-only] [-k TEXT]
(all three modes by default; -k runs only the notebooks whose name contains TEXT)

For each mode, with ``sitecustomize.py`` of this folder on ``PYTHONPATH`` and
``COURSE_EMULATE`` set (see that module for what each mode emulates):

1. the helpers' unit tests run under pytest (notebooks apart);
2. every notebook runs top to bottom in a fresh kernel, the way JupyterLab's
   Run All runs it: a cell may print something else than the stored output
   (another number, a "cannot look here"), but it may not fail unless it is
   tagged ``raises-exception``;
3. under ``binder``, the kernel and its children are sampled while each
   notebook runs: at most ``MAX_WORKERS`` other processes alive at once, and
   their resident memory together under the pod's 2 GiB.

It ends with a summary per mode: what was emulated, what failed, and which
cells printed differently from their stored output (after the sanitizing
rules of ``tests/sanitize.cfg``). It exits 1 if anything failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbval.plugin import get_sanitize_patterns

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from sitecustomize import BINDER_MEMORY, EMULATED  # noqa: E402 - this folder, put on the path above

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
RAISES_TAG = "raises-exception"
CELL_TIMEOUT = 300
MAX_WORKERS = 8  # "about eight" worker processes alive at once on a 2-CPU pod
SAMPLE_EVERY = 0.05
# Processes multiprocessing keeps for a program's whole life: not workers.
MACHINERY = re.compile(r"resource_tracker|forkserver import main|ipykernel_launcher")


@dataclass
class Usage:
    """The most a notebook's kernel and its children used at once."""

    workers: int = 0
    rss: int = 0


@dataclass
class NotebookRun:
    name: str
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The rules of tests/sanitize.cfg, read the way nbval reads them."""
    text = (ROOT / "tests" / "sanitize.cfg").read_text()
    return [(re.compile(regex), replace) for regex, replace in get_sanitize_patterns(text)]


SANITIZERS = _sanitizers()


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" not in data:
                parts.append(data.get("text/plain", ""))
    text = "".join(parts)
    for pattern, replacement in SANITIZERS:
        text = pattern.sub(replacement, text)
    return text


def _first_difference(stored: str, emulated: str) -> str:
    for old, new in zip(stored.splitlines(), emulated.splitlines(), strict=False):
        if old != new:
            return f"{old.strip()!r} -> {new.strip()!r}"
    return f"{len(stored.splitlines())} lines -> {len(emulated.splitlines())} lines"


def _descendants(root: int) -> list[tuple[int, str, int]]:
    """(pid, command line, resident bytes) of every process below ``root``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(children.get(root, []))
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except OSError:
            continue
        found.append((pid, cmd, rss))
    return found


def _sample(usage: Usage, stop: threading.Event, kernel: list[int]) -> None:
    while not stop.wait(SAMPLE_EVERY):
        if not kernel:
            continue
        below = _descendants(kernel[0])
        workers = sum(1 for _, cmd, _ in below if cmd and not MACHINERY.search(cmd))
        try:
            own = int(Path(f"/proc/{kernel[0]}/statm").read_text().split()[1])
        except OSError:
            continue
        rss = own * os.sysconf("SC_PAGE_SIZE") + sum(rss for *_, rss in below)
        usage.workers = max(usage.workers, workers)
        usage.rss = max(usage.rss, rss)


def run_notebook(path: Path, env: dict[str, str], measure: bool) -> NotebookRun:
    result = NotebookRun(path.name)
    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=True,
    )
    stop, kernel = threading.Event(), []
    sampler = threading.Thread(target=_sample, args=(result.usage, stop, kernel), daemon=True)
    started = time.perf_counter()
    try:
        with client.setup_kernel(env=env):
            kernel.append(client.km.provisioner.process.pid)
            if measure:
                sampler.start()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
    except Exception as exc:  # a cell timed out or the kernel died
        result.failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        stop.set()
    result.seconds = time.perf_counter() - started
    for index, (old, new) in enumerate(zip(stored.cells, nb.cells, strict=True)):
        if new.cell_type != "code":
            continue
        raised = [o for o in new.get("outputs", []) if o.get("output_type") == "error"]
        tagged = RAISES_TAG in new.metadata.get("tags", [])
        if raised and not tagged:
            error = raised[0]
            result.failures.append(f"cell {index}: {error['ename']}: {error['evalue'][:200]}")
        elif tagged and not raised:
            result.failures.append(f"cell {index} is tagged {RAISES_TAG} but did not raise")
        before, after = _text(old), _text(new)
        if before != after and "nbval-ignore-output" not in new.metadata.get("tags", []):
            result.differences.append(f"cell {index}: {_first_difference(before, after)}")
    if measure and result.usage.workers > MAX_WORKERS:
        result.failures.append(
            f"{result.usage.workers} worker processes alive at once (at most {MAX_WORKERS})"
        )
    if measure and result.usage.rss > BINDER_MEMORY:
        result.failures.append(f"{result.usage.rss / 2**20:,.0f} MiB resident (2 GiB at most)")
    return result


def emulated_env(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COURSE_EMULATE"] = mode
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.pop("PYTEST_CURRENT_TEST", None)
    if mode in ("macos", "windows"):
        env["COURSE_START_METHOD"] = "spawn"
    return env


def _segments() -> set[str]:
    return {name for name in os.listdir("/dev/shm") if not name.startswith("sem.")}


def run_mode(mode: str, notebooks: list[Path], unit_tests: bool) -> bool:
    env = emulated_env(mode)
    before = _segments()
    print(f"\n=== {mode}: emulating " + "; ".join(EMULATED[mode]), flush=True)
    command = [sys.executable, "-m", "pytest", "helpers", "tests", "-q", "-n", "2"]
    command += ["--dist", "loadfile", "-p", "no:cacheprovider"]
    unit = subprocess.run(command if unit_tests else ["true"], cwd=ROOT, env=env, check=False)
    measure = mode == "binder"
    # Two notebooks at a time (two CPUs); under binder one at a time, so the
    # sampled workers and memory are one notebook's own.
    with ThreadPoolExecutor(1 if measure else 2) as pool:
        runs = list(pool.map(lambda p: run_notebook(p, env, measure), notebooks))
    if mode == "windows":  # unlink() did nothing: remove what the run left, as Windows would
        for name in _segments() - before:
            Path("/dev/shm", name).unlink(missing_ok=True)
    ok = unit.returncode == 0 and not any(r.failures for r in runs)
    summary = [f"--- {mode} ---", "emulated: " + "; ".join(EMULATED[mode])]
    if unit_tests:
        summary.append(f"unit tests: {'passed' if unit.returncode == 0 else 'FAILED'}")
    for r in runs:
        verdict = "FAILED" if r.failures else "ran to the end"
        usage = (
            f"; at most {r.usage.workers} workers alive, {r.usage.rss / 2**20:,.0f} MiB resident"
            if measure
            else ""
        )
        summary.append(f"{r.name}: {verdict} in {r.seconds:.0f} s{usage}")
        summary += [f"    failed: {line}" for line in r.failures]
        summary += [f"    printed differently, {line}" for line in r.differences]
    SUMMARIES.append("\n".join(summary))
    return ok


SUMMARIES: list[str] = []


def main(argv: list[str]) -> int:
    unit_tests = "--notebooks-only" not in argv
    argv = [a for a in argv if a != "--notebooks-only"]
    notebooks = NOTEBOOKS
    if "-k" in argv:
        at = argv.index("-k")
        text = argv[at + 1]
        notebooks = [p for p in NOTEBOOKS if text in p.name]
        del argv[at : at + 2]
        if not notebooks:  # a run of nothing must not pass
            print(f"no notebook's name contains {text!r}")
            return 2
    modes = argv or list(EMULATED)
    unknown = [m for m in modes if m not in EMULATED]
    if unknown:
        print(f"unknown mode {unknown[0]!r}: choose from {', '.join(EMULATED)}")
        return 2
    results = [run_mode(mode, notebooks, unit_tests) for mode in modes]
    print("\n\n".join(["", "Portability summary (emulated on Linux)", *SUMMARIES]))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
