"""What each process holds open: pipe ends, sockets, shared-memory segments, named semaphores.

A channel between processes is made of operating-system objects, and every
process that was given the channel holds its own copy of them. A reader sees
the end of a pipe only when *every* copy of the write end is closed, so the
question "who still holds what?" explains most hangs. This module answers it
for this process and the children it names, on Linux, by reading ``/proc``:

- ``/proc/<pid>/fd`` and ``fdinfo``: pipe ends (read or write), sockets, and
  shared-memory segments opened by name;
- ``/proc/<pid>/maps``: segments and named semaphores mapped into memory
  (a semaphore is a small file in ``/dev/shm`` that every user maps).

Things are told apart by inode, the operating system's own identity for them:
a child's copy of an end is the same inode as the parent's. Elsewhere (macOS,
Windows) there is no ``/proc``, and the report says that it cannot look.

Parent side only; nothing here runs in a child.

>>> reader, writer = ctx.Pipe(duplex=False)  # doctest: +SKIP
>>> print(holdings(pipe=reader))  # doctest: +SKIP
parent  pipe: pipe read end, pipe write end
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from helpers.dev_shm import NO_PROC, PROC, SHM_DIR, can_list, can_look, inodes, mapped_files
from helpers.validation import kind, require_timeout

__all__ = [
    "Handle",
    "Holdings",
    "ProcessHoldings",
    "can_look",
    "channel_handles",
    "holdings",
    "scan",
    "shm_names",
]

Kind = Literal["pipe", "socket", "segment", "semaphore"]
PARENT_LABEL = "parent"
# How deep holdings() looks inside a channel object for its pipe ends and
# semaphores: a Queue holds them directly, a JoinableQueue's condition one level down.
SEARCH_DEPTH = 3
# The objects a channel is built from, by type name (multiprocessing's and multiprocess's).
PART_TYPES = frozenset({"Connection", "PipeConnection", "SemLock", "SharedMemory"})


@dataclass(frozen=True, order=True)
class Handle:
    """One thing a process holds open, identified by its inode.

    ``end`` is ``"read"`` or ``"write"`` for a pipe, empty otherwise (a socket
    both sends and receives). ``name`` is the entry in ``/dev/shm``, when it has one.
    """

    kind: Kind
    inode: int
    end: str = ""
    name: str = field(default="", compare=False)

    def describe(self) -> str:
        """Short words for this handle: ``pipe read end``, ``socket``, ``segment psm_1``."""
        if self.kind == "pipe":
            return f"pipe {self.end} end"
        if self.kind == "segment":
            return f"segment {self.name}" if self.name else "segment"
        return self.kind


def _shm_handle(path: str, inode: int) -> Handle | None:
    """A handle for ``path`` if it lies in ``/dev/shm`` (a deleted file keeps its inode)."""
    path = path.removesuffix(" (deleted)")
    if os.path.dirname(path) != SHM_DIR:
        return None
    name = os.path.basename(path)
    if name.startswith("sem."):
        # The name a semaphore is mapped under may be a temporary one the C library
        # renamed: the inode, not the name, says which semaphore it is.
        return Handle("semaphore", inode)
    return Handle("segment", inode, name=name)


def _fd_handle(pid: int | str, fd: str) -> Handle | None:
    """The handle behind descriptor ``fd`` of ``pid``, or None if it is not an IPC object."""
    link = os.path.join(PROC, str(pid), "fd", fd)
    target = os.readlink(link)
    info = os.stat(link)  # follows the link: the object itself, the same for every holder
    if stat.S_ISFIFO(info.st_mode):
        with open(os.path.join(PROC, str(pid), "fdinfo", fd), encoding="ascii") as fdinfo:
            flags = next(int(line.split()[1], 8) for line in fdinfo if line.startswith("flags:"))
        end = "write" if flags & os.O_ACCMODE == os.O_WRONLY else "read"
        return Handle("pipe", info.st_ino, end)
    if stat.S_ISSOCK(info.st_mode):
        return Handle("socket", info.st_ino)
    return _shm_handle(target, info.st_ino)


def _mapped_handles(pid: int | str) -> Iterator[Handle]:
    """Shared-memory files mapped into ``pid``'s memory, from ``/proc/<pid>/maps``."""
    for path, inode in mapped_files(pid):
        handle = _shm_handle(path, inode)
        if handle is not None:
            yield handle


def scan(pid: int, *, skip_fds: Iterable[int] = ()) -> set[Handle] | None:
    """Everything of the four kinds that process ``pid`` holds open, or None if it cannot be read.

    None means the process has ended, is not ours to read, or this system has
    no ``/proc``. Descriptors in ``skip_fds`` are left out.
    """
    skipped = {str(fd) for fd in skip_fds}
    found: set[Handle] = set()
    try:
        for fd in os.listdir(os.path.join(PROC, str(pid), "fd")):
            if fd in skipped:
                continue
            try:
                handle = _fd_handle(pid, fd)
            except (OSError, StopIteration):  # closed meanwhile
                continue
            if handle is not None:
                found.add(handle)
        found.update(_mapped_handles(pid))
    except OSError:
        return None
    return found


# ----------------------------------------------------------------------------
# The channels a notebook names: which of those handles belong to them
# ----------------------------------------------------------------------------


def _semaphore_inode(address: int) -> int | None:
    """The inode of the ``/dev/shm`` file mapped at ``address`` in this process."""
    with open(os.path.join(PROC, "self", "maps"), encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            low, high = (int(part, 16) for part in fields[0].split("-"))
            if low <= address < high and len(fields) == 6:
                return int(fields[4])
    return None


def _parts(obj: Any, depth: int, seen: set[int]) -> Iterator[Any]:
    """The connections, semaphores and segments ``obj`` is (or is built from)."""
    if id(obj) in seen or depth < 0:
        return
    seen.add(id(obj))
    if type(obj).__name__ in PART_TYPES:
        yield obj
        return
    for value in getattr(obj, "__dict__", {}).values():
        for item in value if isinstance(value, list | tuple) else (value,):
            if not isinstance(item, type):
                yield from _parts(item, depth - 1, seen)


def _part_handles(part: Any) -> Iterator[Handle]:
    """The handles of one connection, semaphore or segment in this process."""
    if type(part).__name__ in ("Connection", "PipeConnection"):
        if not part.closed:
            handle = _fd_handle("self", str(part.fileno()))
            if handle is not None:
                yield handle
    elif type(part).__name__ == "SemLock":
        inode = _semaphore_inode(part.handle)
        if inode is not None:
            yield Handle("semaphore", inode)
    elif type(part).__name__ == "SharedMemory" and getattr(part, "_fd", -1) >= 0:
        info = os.fstat(part._fd)
        yield Handle("segment", info.st_ino, name=part.name)


def channel_handles(channel: Any) -> set[Handle]:
    """The handles that make up ``channel`` in this process.

    ``channel`` is a pipe end (a ``Connection``), a ``Queue`` (its pipe's two ends
    and its semaphores), a lock, event or other synchronisation object (its
    semaphores), or a ``SharedMemory`` segment. A closed end holds nothing.
    """
    found = {h for part in _parts(channel, SEARCH_DEPTH, set()) for h in _part_handles(part)}
    if not found and not any(_parts(channel, SEARCH_DEPTH, set())):
        raise TypeError(
            "holdings() looks at pipe ends, queues, locks and other synchronisation "
            f"objects, and shared memory, not {kind(channel)}"
        )
    return found


def shm_names(channel: Any) -> list[str] | None:
    """The entries in ``/dev/shm`` that are ``channel``'s segments and named semaphores.

    A semaphore the parent removed from ``/dev/shm`` at once (as ``fork`` does:
    no other process needs to open it by name) has no entry, though it still works.
    None where this system cannot tell: no ``/proc`` or no ``/dev/shm`` (macOS, Windows).
    """
    if not can_look() or not can_list():
        return None
    wanted = {h.inode for h in channel_handles(channel) if h.kind in ("segment", "semaphore")}
    return sorted(name for inode, name in inodes().items() if inode in wanted)


# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------


@dataclass
class ProcessHoldings:
    """What one process holds: ``held`` maps each channel's label to its handles there.

    With no channels named, everything the process holds is under the label ``""``.
    ``ended`` is True when the process had exited (it holds nothing any more).
    """

    label: str
    pid: int | None
    held: dict[str, list[Handle]] = field(default_factory=dict)
    ended: bool = False

    def holds(self, label: str, *, end: str | None = None) -> bool:
        """Whether this process holds part of channel ``label`` (only that ``end`` of a pipe)."""
        return any(end is None or h.end == end for h in self.held.get(label, []))

    def describe(self) -> str:
        if self.ended:
            return "has ended: holds nothing"
        if not any(self.held.values()):
            return "holds none of these"
        return " · ".join(
            f"{label}: {_summarise(handles)}" if label else _summarise(handles)
            for label, handles in self.held.items()
            if handles
        )


def _summarise(handles: list[Handle]) -> str:
    """``pipe read end, pipe write end, 3 semaphores``: each kind once, counted."""
    words: dict[str, int] = {}
    for handle in sorted(handles):
        words[handle.describe()] = words.get(handle.describe(), 0) + 1
    return ", ".join(word if n == 1 else f"{n} {word}s" for word, n in words.items())


@dataclass
class Holdings:
    """What this process and the children asked about hold open; prints as a table."""

    rows: list[ProcessHoldings] = field(default_factory=list)
    available: bool = True

    def __str__(self) -> str:
        if not self.available:
            return NO_PROC
        width = max(len(row.label) for row in self.rows)
        return "\n".join(f"{row.label:<{width}}  {row.describe()}" for row in self.rows)

    def __repr__(self) -> str:
        return str(self)

    def holders(self, label: str, *, end: str | None = None) -> list[str]:
        """The processes that hold part of channel ``label`` (only that ``end`` of a pipe)."""
        return [row.label for row in self.rows if row.holds(label, end=end)]


def _label_and_pid(child: Any) -> tuple[str, int | None, bool]:
    """A child's label, PID and whether it has ended: a Process, a running.Child, or a PID."""
    process = getattr(child, "process", child)  # helpers.running.Child wraps a Process
    if isinstance(process, bool) or not (isinstance(process, int) or hasattr(process, "pid")):
        raise TypeError(f"children must be processes (or PIDs), not {kind(child)} {child!r}")
    if isinstance(process, int):
        return f"pid {process}", process, False
    if process.pid is None:
        raise ValueError(f"{process.name} has not been started: it holds nothing yet")
    label = getattr(child, "name", None) or process.name
    return label, process.pid, process.exitcode is not None


def _stdio_inodes() -> set[int]:
    """Inodes of this process's stdin, stdout and stderr: every child inherits them."""
    inodes = set()
    for fd in (0, 1, 2):
        try:
            inodes.add(os.fstat(fd).st_ino)
        except OSError:
            continue
    return inodes


def _belonging(found: set[Handle], channel: set[Handle]) -> list[Handle]:
    """Those of ``found`` that are part of ``channel``: a pipe's either end, or the same object."""
    keys = {(h.kind, h.inode) for h in channel}
    return sorted(h for h in found if (h.kind, h.inode) in keys)


def _started(child: Any, timeout: float) -> None:
    """Wait until a ``helpers.running`` child runs its function: its arguments are rebuilt.

    Such a child says "started" on its report pipe first thing; the message is
    left there for ``wait`` to read. A plain ``Process`` gives no such sign.
    """
    report = getattr(child, "report", None)
    if report is not None and not report.closed:
        report.poll(timeout)


def holdings(children: Iterable[Any] = (), *, timeout: float = 10.0, **channels: Any) -> Holdings:
    """What this process and each of ``children`` hold open of the ``channels`` named.

    ``children`` are ``Process`` objects (or what ``helpers.running.start``
    returns, or PIDs), listed under their names. ``channels`` name the objects to
    look for — ``holdings([child], pipe=reader)`` — and each row says which of
    them the process holds, and which end of a pipe. One end of a one-way pipe
    stands for the whole pipe (both ends are one object to the system), so a
    closed end can still be followed through its other end. With no
    channel named, each row lists every pipe end, socket, segment and semaphore
    (but not the terminal or output streams every child inherits).

    A child started with ``helpers.running.start`` is looked at once it runs its
    function (at most ``timeout`` seconds after it was started), so it holds what
    its arguments are made of; a plain ``Process`` is looked at as it is.

    >>> print(holdings([reader_child], queue=q))  # doctest: +SKIP
    parent  queue: pipe read end, pipe write end, 3 semaphores
    reader  queue: pipe read end, pipe write end, 3 semaphores
    """
    children = list(children)
    listed = [_label_and_pid(child) for child in children]
    require_timeout(timeout)
    if not can_look():
        return Holdings(available=False)
    for child in children:
        _started(child, timeout)
    wanted: Mapping[str, set[Handle]] = {
        label: channel_handles(obj) for label, obj in channels.items()
    }
    stdio = _stdio_inodes()
    report = Holdings()
    for label, pid, ended in [(PARENT_LABEL, os.getpid(), False), *listed]:
        found = None if ended or pid is None else scan(pid)
        row = ProcessHoldings(label, pid, ended=found is None)
        if found is not None and wanted:
            row.held = {name: _belonging(found, handles) for name, handles in wanted.items()}
        elif found is not None:
            row.held = {"": sorted(h for h in found if h.inode not in stdio)}
        report.rows.append(row)
    return report
