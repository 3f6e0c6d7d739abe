"""Run notebooks as if on a 72-CPU node, and count the processes they keep alive at once.

Usage: python tools/many_cpus.py [--cpus 72] [--limit 8] notebooks/08_pools.ipynb [...]

On Binder (and many CI runners and containers) ``os.cpu_count()`` reports the
node's CPUs, 32 to 96, while the pod may use one or two. A notebook that sizes
pools or sweeps from that count starts dozens of processes at once, or asks a
pool for more than 64 workers and fails. This tool executes each notebook in a
kernel whose ``os.cpu_count()``, ``os.sched_getaffinity(0)`` and
``os.process_cpu_count()`` all report ``--cpus`` (a ``sitecustomize`` module on
the kernel's ``PYTHONPATH``, so spawned children see the same), with no cgroup
quota to lower it: the worst case. Meanwhile a thread counts, every 5 ms, the
processes below the kernel (workers, a manager's server, a resource tracker,
a fork server, a Dask cluster's processes). It prints each notebook's peak and
what was alive then, and fails when a notebook raised or its peak exceeded
``--limit`` worker processes plus the helpers every notebook may have (the
resource tracker and the fork server).

Nothing is saved: the notebooks on disk are not changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import psutil
from nbclient import NotebookClient

SITECUSTOMIZE = """\
import os

_CPUS = {cpus}
os.cpu_count = lambda: _CPUS
os.sched_getaffinity = lambda pid: set(range(_CPUS))
os.process_cpu_count = lambda: _CPUS
"""

# Processes a notebook may keep besides its workers: they start work, do none.
HELPERS = ("resource_tracker", "forkserver")


class Peak:
    """Polls the process tree below the kernel; keeps the largest count of workers seen."""

    def __init__(self) -> None:
        self.count = 0
        self.alive: list[str] = []
        self._stop = threading.Event()

    def watch(self, client: NotebookClient) -> None:
        """Poll, in a thread, the kernel ``client`` is about to start."""
        threading.Thread(target=self._poll, args=(client,), daemon=True).start()

    def _poll(self, client: NotebookClient) -> None:
        kernel = None
        while not self._stop.wait(0.005):
            try:
                if kernel is None:
                    provisioner: Any = client.km.provisioner  # a local one has .process
                    kernel = psutil.Process(provisioner.process.pid)
                children = kernel.children(recursive=True)
                lines = [" ".join(child.cmdline())[:100] for child in children]
            except (AttributeError, psutil.Error):
                continue  # a child ended while it was being read: poll again
            workers = [line for line in lines if not any(h in line for h in HELPERS)]
            if len(workers) > self.count:
                self.count, self.alive = len(workers), lines

    def stop(self) -> None:
        self._stop.set()


def run(path: Path, cpus: int) -> tuple[Peak, list[str], float]:
    """Execute ``path`` in a kernel that sees ``cpus`` CPUs; its peak and the cells that raised."""
    nb = nbformat.read(path, as_version=4)
    peak = Peak()
    with tempfile.TemporaryDirectory(prefix="many-cpus-") as site:
        Path(site, "sitecustomize.py").write_text(SITECUSTOMIZE.format(cpus=cpus))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [site, env.get("PYTHONPATH")]))
        env["PYTEST_CURRENT_TEST"] = f"{path.name} (call)"  # capture as run_notebooks does
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            allow_errors=True,
        )
        old = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        started = time.perf_counter()
        try:
            peak.watch(client)
            client.execute()
        finally:
            peak.stop()
            os.environ.clear()
            os.environ.update(old)
    seconds = time.perf_counter() - started
    raised = [
        f"cell {index}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        and "raises-exception" not in cell.metadata.get("tags", [])
    ]
    return peak, raised, seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=int, default=72)
    parser.add_argument("--limit", type=int, default=8, help="most worker processes at once")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        peak, raised, seconds = run(path, args.cpus)
        verdict = "ok" if peak.count <= args.limit and not raised else "FAILED"
        failed |= verdict != "ok"
        print(
            f"{path.name}: {args.cpus} CPUs reported, ran in {seconds:.1f} s, "
            f"at most {peak.count} worker processes at once; "
            f"unexpected errors: {', '.join(raised) or 'none'} [{verdict}]"
        )
        for line in peak.alive:
            print(f"    {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
