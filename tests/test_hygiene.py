"""Hygiene: every notebook, run to the end, leaves no process, segment or semaphore behind.

Each notebook runs in a fresh ``python3`` kernel (working directory
``notebooks/``, the current ``COURSE_START_METHOD`` in its environment), the
way nbval runs it. Then two checks:

1. While the kernel is still alive, after its last cell: no child process of
   the kernel is left, apart from the machinery ``multiprocessing`` keeps for
   the kernel's whole life (its resource tracker and forkserver).
2. After the kernel is killed with its whole process group, exactly as nbval
   does it (so no finaliser and no resource tracker cleans up): no process of
   the kernel's session survives, and ``/dev/shm`` holds no new shared-memory
   segment and no new ``sem.mp-*`` semaphore.

Each notebook runs under every start method when ``COURSE_START_METHOD`` is
unset (under the one it names when it is set): a leak may belong to one alone
(a forkserver child resets its clean-up list after loading its target, so a
lock made while its target's module was imported outlived it, under forkserver
only).

Under spawn and forkserver a ``Lock``, ``Queue``, ``Value`` or ``Array``
still referenced at the end keeps its named semaphore until the object is
garbage-collected, so after the kill it stays in ``/dev/shm``: a notebook's
cleanup section must drop them. Other programs on the machine may create (and
leak) ``/dev/shm`` entries meanwhile, so an entry is blamed on the notebook
only if a process of the kernel's session was seen mapping or holding it, or
if it is a segment (not a semaphore) that appeared during the run and that no
other process holds, or if a process of the session registered its name with
a resource tracker (every process of the session runs a ``sitecustomize`` that
notes the names: a child can make and leave a semaphore between two looks at
``/proc``); either way it must have outlived the kill. Leaked entries
are removed, so a failing run does not leave them behind either.

Linux only (it reads ``/proc``). Run with ``pytest -m slow``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.context import ENV_VAR, START_METHODS, start_method_from_env

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SHM = Path("/dev/shm")
# Children on their way out are given this long to finish before they count.
GRACE = 5.0
# How often the kernel's session is looked at for the /dev/shm files it uses.
POLL = 0.05
CELL_TIMEOUT = 120
# Processes multiprocessing keeps for the whole life of the process that
# started them; they are not a notebook's to stop, and they die with the kernel.
MACHINERY = re.compile(r"from multiprocess(ing)?\.(resource_tracker|forkserver) import main")
# Printed by the kernel before it is killed, to name what still holds a semaphore.
LIVE_OBJECTS = """\
print("; ".join(sorted(
    f"{name} ({type(value).__name__})"
    for name, value in list(globals().items())
    if not name.startswith("_")
    and type(value).__module__.split(".")[0] in ("multiprocessing", "multiprocess")
    and not type(value).__name__.endswith("Context")
)) or "none")
"""

# Run by every process of the kernel's session (PYTHONPATH): note each name a
# resource tracker is told about, in multiprocessing and in multiprocess, as the
# /dev/shm entry it stands for. Appends are atomic, so processes can share the file.
SITECUSTOMIZE = """\
import os, sys

_LOG = os.environ.get("COURSE_HYGIENE_REGISTERED")
_TRACKERS = ("multiprocessing.resource_tracker", "multiprocess.resource_tracker")


def _noting(register):
    def noted(name, rtype):
        entry = ("sem." if rtype == "semaphore" else "") + name.lstrip("/")
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (entry + "\\n").encode())
        finally:
            os.close(fd)
        return register(name, rtype)

    return noted


class _Finder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _TRACKERS:
            return None
        import importlib.util

        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.register = _noting(module.register)

        spec.loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Finder())
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.uses_dev_shm,  # lists /dev/shm after each notebook (root conftest.py)
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux only)"),
]


class Proc(NamedTuple):
    pid: int
    ppid: int
    session: int
    state: str
    cmdline: str

    def describe(self) -> str:
        zombie = " — exited but never joined" if self.state == "Z" else ""
        return f"pid {self.pid} [{self.state}] {self.cmdline[:160]}{zombie}"


def _processes() -> dict[int, Proc]:
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:  # it exited while we looked
            continue
        # The command name in parentheses may itself contain spaces or ')'.
        fields = stat.rpartition(")")[2].split()
        text = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
        pid = int(entry.name)
        found[pid] = Proc(pid, int(fields[1]), int(fields[3]), fields[0], text)
    return found


def _descendants(root: int) -> list[Proc]:
    table = _processes()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        for proc in table.values():
            if proc.ppid == parent:
                found.append(proc)
                frontier.append(proc.pid)
    return found


def _left_behind(kernel_pid: int) -> list[Proc]:
    return [
        p
        for p in _descendants(kernel_pid)
        if not (p.ppid == kernel_pid and MACHINERY.search(p.cmdline))
    ]


def _in_session(session: int) -> list[Proc]:
    return [p for p in _processes().values() if p.session == session]


def _shm_inodes_used_by(session: int | None = None, *, exclude: int | None = None) -> set[int]:
    """Inodes of /dev/shm files that processes map or hold open right now.

    Only processes of ``session`` (all, if None), minus those of ``exclude``.
    Inodes, not names: ``sem_open`` maps a temporary file and renames it, so
    a semaphore's mapping shows a deleted temporary name, not ``sem.mp-*``.
    """
    inodes = set()
    prefix = f"{SHM}/"
    for proc in _processes().values():
        if (session is not None and proc.session != session) or proc.session == exclude:
            continue
        try:
            maps = Path(f"/proc/{proc.pid}/maps").read_text()
            for fd in Path(f"/proc/{proc.pid}/fd").iterdir():
                if os.readlink(fd).startswith(prefix):
                    inodes.add(fd.stat().st_ino)
        except OSError:  # it exited, or closed the fd, while we looked
            continue
        for line in maps.splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith(prefix):
                inodes.add(int(fields[4]))
    return inodes


def _shm_entries() -> dict[str, int]:
    entries = {}
    for entry in os.scandir(SHM):
        try:
            entries[entry.name] = entry.inode()
        except OSError:
            continue
    return entries


class ShmWatcher(threading.Thread):
    """Notes every /dev/shm file the kernel's session uses, from start to stop.

    Other programs on the machine create (and leak) entries too; a file this
    session was seen using is the notebook's.
    """

    def __init__(self, session: int) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.seen: set[int] = set()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(POLL):
            self.seen |= _shm_inodes_used_by(self.session)

    def stop(self) -> set[int]:
        self._done.set()
        self.join(GRACE)
        self.seen |= _shm_inodes_used_by(self.session)  # what is alive at the very end
        return self.seen


def _settle(check: Callable[[], list]) -> list:
    """Call ``check`` until it finds nothing or the grace period ends; return its last finding."""
    deadline = time.monotonic() + GRACE
    while (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _tag_expected_errors(nb: nbformat.NotebookNode) -> None:
    # As nbval reads it: a cell marked NBVAL_RAISES_EXCEPTION is meant to raise.
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_RAISES_EXCEPTION" in cell.source:
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")


# Every start method; only the one COURSE_START_METHOD names when it is set, as in
# the matrix's fork and forkserver runs (the unset run has already covered all three).
HYGIENE_METHODS = (
    (start_method_from_env(),) if os.environ.get(ENV_VAR, "").strip() else START_METHODS
)


def _registered(log: Path) -> set[str]:
    return set(log.read_text().split()) if log.exists() else set()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("method", HYGIENE_METHODS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_notebook_leaves_no_process_segment_or_semaphore(path, method, monkeypatch, tmp_path):
    # The kernel inherits this environment; without PYTEST_CURRENT_TEST it captures what
    # children print, as in JupyterLab and under nbval (see the root conftest.py).
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.setenv(ENV_VAR, method)
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    registered_log = tmp_path / "registered.txt"
    monkeypatch.setenv("COURSE_HYGIENE_REGISTERED", str(registered_log))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(path, as_version=4)
    _tag_expected_errors(nb)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        shutdown_kernel="immediate",  # SIGKILL to the kernel's process group, like nbval
    )
    shm_before = set(_shm_entries())
    with client.setup_kernel():
        kernel_pid = client.km.provisioner.pid  # also its session: it starts a new one
        watcher = ShmWatcher(kernel_pid)
        watcher.start()
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            children = _settle(lambda: _left_behind(kernel_pid))
            probe = nbformat.v4.new_code_cell(LIVE_OBJECTS)
            nb.cells.append(probe)
            client.execute_cell(probe, len(nb.cells) - 1)
            live = "".join(o.get("text", "") for o in probe.outputs).strip()
        finally:
            used = watcher.stop()
    problems = [f"child process of the kernel still running: {p.describe()}" for p in children]
    survivors = _settle(lambda: _in_session(kernel_pid))
    problems += [f"process outlived the kernel: {p.describe()}" for p in survivors]

    def leaked_entries() -> list[str]:
        # Seen in use by the session; or new, not a semaphore, and nobody else's:
        # a segment closed within one poll but never unlinked is only caught so.
        entries = _shm_entries()  # before looking for holders: a newer file is not ours
        others = _shm_inodes_used_by(exclude=kernel_pid)
        registered = _registered(registered_log)
        return sorted(
            name
            for name, inode in entries.items()
            if inode in used
            or name in registered
            or (name not in shm_before and not name.startswith("sem.") and inode not in others)
        )

    leaked = leaked_entries()
    for name in leaked:  # leave the machine clean even when the test fails
        (SHM / name).unlink(missing_ok=True)
    if leaked:
        problems.append(
            f"left in /dev/shm after the kernel was killed: {', '.join(leaked)}. "
            "A sem.mp-* file is the semaphore of a Lock, Queue, Value or Array still "
            "referenced at the end (drop it in the cleanup section); any other is shared "
            f"memory never unlink()ed. multiprocessing objects still named at the end: {live}"
        )
    assert not problems, f"{path.name} is not clean:\n" + "\n".join(problems)


# Lesson 07: the cell after which a segment exists and is not yet unlinked.
KILL_AFTER_CELL = "p07-08"


@pytest.mark.timeout(300)
def test_07_kernel_killed_mid_run_leaves_no_segment(monkeypatch):
    """Kill 07's kernel alone while it holds a segment, as a crash or the OOM killer would.

    The kernel's resource tracker is a separate process: it sees the kernel go,
    unlinks the segment the kernel registered and exits, so nothing of the
    session is left. (Killing the whole process group, tracker included, is
    the other case: then nobody cleans up, which the lesson shows on a small
    program of its own, and why every cell unlinks what it creates.)
    """
    monkeypatch.setenv(ENV_VAR, start_method_from_env())
    path = NOTEBOOK_DIR / "07_shared_memory_numpy.ipynb"
    nb = nbformat.read(path, as_version=4)
    last = next(i for i, cell in enumerate(nb.cells) if cell.get("id") == KILL_AFTER_CELL)
    probe = nbformat.v4.new_code_cell("print(shm.name)")
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        shutdown_kernel="immediate",
    )
    with client.setup_kernel():
        kernel_pid = client.km.provisioner.pid
        for index, cell in enumerate(nb.cells[: last + 1]):
            client.execute_cell(cell, index)
        client.execute_cell(probe, last + 1)
        name = "".join(o.get("text", "") for o in probe.outputs).strip()
        assert name and (SHM / name).exists(), f"the segment was not created: {probe.outputs}"
        os.kill(kernel_pid, 9)  # the kernel alone; its tracker lives on
        gone = _settle(lambda: [name] if (SHM / name).exists() else [])
        # The kernel itself stays a zombie until its manager reaps it: not a survivor.
        survivors = _settle(lambda: [p for p in _in_session(kernel_pid) if p.pid != kernel_pid])
    (SHM / name).unlink(missing_ok=True)  # leave the machine clean even when the test fails
    assert not gone, f"{name} was still in /dev/shm {GRACE:g} s after the kernel was killed"
    assert not survivors, "\n".join(p.describe() for p in survivors)
