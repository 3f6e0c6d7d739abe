"""Emulate another platform's limits on Linux, in every interpreter of a test run.

This is emulation, not the real platform: it makes this Linux machine refuse,
hide or limit what macOS, Windows or a Binder pod refuse, hide or limit, so
that the course meets those limits where a learner would. Python imports a
module named ``sitecustomize`` at start-up from anywhere on its path, so a run
that puts this folder on ``PYTHONPATH`` and sets ``COURSE_EMULATE`` applies it in
pytest, in each notebook's kernel and in every child they start (spawned
children inherit the environment; forked ones the patched modules).
``make test-portability`` (``tests/portability/run.py``) is such a run.

What each mode emulates is listed in ``EMULATED``; the run prints it.
"""

from __future__ import annotations

import builtins
import errno
import importlib.util
import io
import os
import resource
import sys

# Annotations only: a child must import nothing for the emulation that it would
# not import on its own (the import-cost tests count what a child loads).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MODE = os.environ.get("COURSE_EMULATE", "")

EMULATED: dict[str, list[str]] = {
    "macos": [
        "run under spawn",
        "Queue.qsize() and Semaphore.get_value() raise NotImplementedError (no sem_getvalue)",
        "Queue(maxsize) above 32,767 raises OSError (SEM_VALUE_MAX)",
        "shared-memory names over 30 characters raise OSError (ENAMETOOLONG)",
        "shared-memory sizes rounded up to a 16 KiB page",
        "no /dev/shm and no /proc to look in",
        "no fcntl.F_SETPIPE_SZ or F_GETPIPE_SZ",
        "256 open files per process",
    ],
    "windows": [
        "spawn only: fork and forkserver raise ValueError (multiprocessing and multiprocess)",
        "no fcntl module for the course's code",
        "no /dev/shm and no /proc to look in",
        "SharedMemory.unlink() does nothing",
        "ProcessPoolExecutor refuses more than 61 workers",
    ],
    "binder": [
        "os.cpu_count() reports 72 CPUs, with a CPU quota of 2 (cgroup cpu.max)",
        "2 GiB of address space per process (resource.RLIMIT_AS)",
        "/dev/shm of 64 MiB",
    ],
}

# Paths that do not exist on the emulated platform.
HIDDEN = {"macos": ("/dev/shm", "/proc"), "windows": ("/dev/shm", "/proc"), "binder": ()}
MACOS_SEM_VALUE_MAX = 32767
MACOS_SHM_NAME_MAX = 30
MACOS_PAGE = 16384
MACOS_OPEN_FILES = 256
WINDOWS_MAX_POOL_WORKERS = 61
BINDER_NODE_CPUS = 72
BINDER_CPU_MAX = "200000 100000\n"  # a quota of two CPUs
BINDER_MEMORY = 2 * 2**30
BINDER_SHM = 64 * 2**20
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"
# The course's own code: the repository (less its virtual environments) and notebook cells.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Standard-library modules that only pass a path on (Path.iterdir, os.path.isdir, ...).
PATH_MODULES = {"os", "genericpath", "posixpath", "pathlib", "shutil", "glob", "fnmatch"}


def _path(value: Any) -> str | None:
    if isinstance(value, int):
        return None  # a file descriptor
    try:
        path = os.fsdecode(os.fspath(value))
    except TypeError:
        return None
    return os.path.normpath(os.path.join(os.getcwd(), path)) if path else path


def _is_hidden(value: Any) -> bool:
    path = _path(value)
    return path is not None and any(
        path == top or path.startswith(top + "/") for top in HIDDEN.get(MODE, ())
    )


def _asked_by_course() -> bool:
    """Whether the nearest caller outside the standard library is the course's own code.

    Only the course is emulated: libraries that already know the real platform
    keep what they rely on here (psutil reads /proc on Linux, sysctl on macOS;
    multiprocessing.heap puts its arenas in /dev/shm on Linux only).
    """
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if "site-packages" in filename:
            return False
        if filename.startswith(ROOT) or frame.f_globals.get("__name__") == "__main__":
            return True
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] not in PATH_MODULES:
            return False
        frame = frame.f_back
    return False


def _refuse_hidden(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
        if _is_hidden(path) and _asked_by_course():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fsdecode(path))
        return function(path, *args, **kwargs)

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return _named_as(function, wrapper)


def _named_as(function: Callable[..., Any], replacement: Callable[..., Any]) -> Any:
    """Name ``replacement`` as the ``function`` it replaces, so pickle finds it there.

    A Dask task defined in a cell that calls open() is pickled by value, and its open
    (IPython's, which wraps io.open) must pickle as a reference to io.open: on the real
    platform that is still the builtin, here it is the replacement.
    """
    replacement.__module__ = function.__module__
    replacement.__name__ = function.__name__
    replacement.__qualname__ = function.__qualname__
    return replacement


def _hide_paths() -> None:
    for name in ("listdir", "scandir", "stat", "lstat", "statvfs", "readlink"):
        setattr(os, name, _refuse_hidden(getattr(os, name)))
    opener = _refuse_hidden(io.open)
    builtins.open = opener
    io.open = opener


class _AfterImport:
    """Patch a module right after its first import, so emulation imports nothing itself."""

    def __init__(self, patches: dict[str, Callable[[Any], None]]) -> None:
        self.patches = patches

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        patch = self.patches.pop(name, None)
        if patch is None:
            return None
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            patch(module)

        loader.exec_module = exec_module
        return spec


def _patch_after_import(patches: dict[str, Callable[[Any], None]]) -> None:
    for name in [name for name in patches if name in sys.modules]:
        patches.pop(name)(sys.modules[name])
    sys.meta_path.insert(0, _AfterImport(patches))


def _spawn_only_context(context: Any) -> None:
    """As on Windows: get_context("fork") and ("forkserver") raise ValueError."""
    context._default_context._default_context = context._concrete_contexts["spawn"]
    for method in ("fork", "forkserver"):
        context._concrete_contexts.pop(method, None)
    context.DefaultContext.get_all_start_methods = lambda self: ["spawn"]


def _no_sem_getvalue(self: object) -> int:
    raise NotImplementedError


def _macos_queues(queues: Any) -> None:
    queues.Queue.qsize = _no_sem_getvalue
    queue_init = queues.Queue.__init__

    def bounded(self: Any, maxsize: int = 0, *, ctx: Any) -> None:
        if maxsize > MACOS_SEM_VALUE_MAX:
            raise OSError(errno.EINVAL, "Invalid argument")
        queue_init(self, maxsize, ctx=ctx)

    queues.Queue.__init__ = bounded


def _macos_synchronize(synchronize: Any) -> None:
    synchronize.Semaphore.get_value = _no_sem_getvalue


def _macos_shared_memory(shared_memory: Any) -> None:
    shm_init = shared_memory.SharedMemory.__init__

    def short_names(
        self: Any, name: str | None = None, create: bool = False, size: int = 0, **kw: Any
    ) -> None:
        if name is not None and len(name.lstrip("/")) > MACOS_SHM_NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, "File name too long", name)
        if create and size > 0:
            size = -(-size // MACOS_PAGE) * MACOS_PAGE
        shm_init(self, name, create, size, **kw)

    shared_memory.SharedMemory.__init__ = short_names


def _macos_fcntl(fcntl: Any) -> None:
    for constant in ("F_SETPIPE_SZ", "F_GETPIPE_SZ"):
        if hasattr(fcntl, constant):
            delattr(fcntl, constant)


def _macos() -> None:

    _patch_after_import(
        {
            "multiprocessing.queues": _macos_queues,
            "multiprocessing.synchronize": _macos_synchronize,
            "multiprocessing.shared_memory": _macos_shared_memory,
            "fcntl": _macos_fcntl,
        }
    )
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = MACOS_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MACOS_OPEN_FILES)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    _hide_paths()


def _unlink_does_nothing(self: object) -> None:
    """On Windows a segment is freed when its last handle closes."""


def _windows_shared_memory(shared_memory: Any) -> None:
    shared_memory.SharedMemory.unlink = _unlink_does_nothing


def _windows_process_pool(process: Any) -> None:
    pool_init = process.ProcessPoolExecutor.__init__

    def at_most_61(self: Any, max_workers: int | None = None, *args: Any, **kw: Any) -> None:
        if max_workers is None:
            max_workers = min(os.cpu_count() or 1, WINDOWS_MAX_POOL_WORKERS)
        elif max_workers > WINDOWS_MAX_POOL_WORKERS:
            raise ValueError(f"max_workers must be <= {WINDOWS_MAX_POOL_WORKERS}")
        pool_init(self, max_workers, *args, **kw)

    process.ProcessPoolExecutor.__init__ = at_most_61


def _windows() -> None:
    real_import = builtins.__import__

    def no_fcntl(name: str, globals: Any = None, *args: Any, **kwargs: Any) -> Any:
        importer = (globals or {}).get("__name__", "")
        course = importer == "__main__" or importer.split(".")[0] in ("helpers", "tests")
        if name == "fcntl" and (course or importer.startswith(("my_", "test_"))):
            raise ModuleNotFoundError("No module named 'fcntl'", name="fcntl")
        return real_import(name, globals, *args, **kwargs)

    builtins.__import__ = no_fcntl
    _patch_after_import(
        {
            "multiprocessing.shared_memory": _windows_shared_memory,
            "concurrent.futures.process": _windows_process_pool,
            "multiprocessing.context": _spawn_only_context,
            "multiprocess.context": _spawn_only_context,  # dill's copy of it, as in lesson 91
        }
    )
    _hide_paths()


def _binder() -> None:

    os.cpu_count = lambda: BINDER_NODE_CPUS
    if hasattr(os, "process_cpu_count"):
        os.process_cpu_count = lambda: BINDER_NODE_CPUS
    if hasattr(os, "sched_getaffinity"):
        os.sched_getaffinity = lambda pid: set(range(BINDER_NODE_CPUS))

    real_open = io.open

    def quota_of_two(file: Any, *args: Any, **kwargs: Any) -> Any:
        if _path(file) == CGROUP_CPU_MAX:
            return io.StringIO(BINDER_CPU_MAX)
        return real_open(file, *args, **kwargs)

    builtins.open = io.open = _named_as(real_open, quota_of_two)
    real_exists = os.path.exists

    def cgroup_exists(path: Any) -> bool:
        return _path(path) == CGROUP_CPU_MAX or real_exists(path)

    os.path.exists = cgroup_exists

    real_statvfs = os.statvfs

    def small_shm(path: Any) -> os.statvfs_result:
        stats = real_statvfs(path)
        if _path(path) != "/dev/shm":
            return stats
        block = stats.f_frsize
        total = BINDER_SHM // block
        used = stats.f_blocks - stats.f_bfree
        free = max(total - used, 0)
        fields = list(stats)
        fields[2:5] = [total, free, free]
        return os.statvfs_result(fields)

    os.statvfs = small_shm
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = BINDER_MEMORY if hard == resource.RLIM_INFINITY else min(hard, BINDER_MEMORY)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


if MODE:
    if MODE not in EMULATED:
        sys.exit(f"COURSE_EMULATE must be one of {', '.join(EMULATED)}, not {MODE!r}")
    {"macos": _macos, "windows": _windows, "binder": _binder}[MODE]()
