"""``/dev/shm``: where Linux keeps shared-memory segments and named semaphores, and who holds them.

One module for the directory every lesson looks in: its name, what is in it,
and which processes hold an entry (read from ``/proc``). The free-space check
that comes before creating a segment is :func:`helpers.validation.require_shm_room`,
which reads this directory's size.

macOS and Windows have no ``/dev/shm`` and no ``/proc``. There the listing is
empty, :func:`held_elsewhere` finds no holder, and :func:`cannot_look` says
why, in words a report can print.

Parent side only; nothing here runs in a child.

>>> SHM_DIR
'/dev/shm'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

__all__ = [
    "PROC",
    "SHM_DIR",
    "can_list",
    "can_look",
    "cannot_look",
    "entries",
    "held_elsewhere",
    "inodes",
    "mapped_files",
    "remove",
    "segments",
]

SHM_DIR = "/dev/shm"
PROC = "/proc"

NO_DEV_SHM = f"cannot look: this system has no {SHM_DIR}, where Linux keeps shared memory"
NO_PROC = f"cannot look: this system has no {PROC}, where Linux shows what each process holds open"


def _or_shm_dir(directory: str | None) -> str:
    """``directory``, or ``SHM_DIR`` as it is when called (a test may point it elsewhere)."""
    return SHM_DIR if directory is None else directory


def can_list(directory: str | None = None) -> bool:
    """True where ``directory`` (``/dev/shm``) exists to be listed (Linux)."""
    return os.path.isdir(_or_shm_dir(directory))


def can_look() -> bool:
    """True where ``/proc`` tells what a process holds open (Linux)."""
    return os.path.isdir(os.path.join(PROC, str(os.getpid()), "fd"))


def cannot_look(directory: str | None = None) -> str | None:
    """Why this system cannot show ``/dev/shm`` or who holds it, or None where it can.

    >>> cannot_look("/nonexistent")
    'cannot look: there is no /nonexistent'
    """
    if not can_list(directory):
        return NO_DEV_SHM if directory is None else f"cannot look: there is no {directory}"
    if not can_look():
        return NO_PROC
    return None


def entries(directory: str | None = None) -> set[str]:
    """Every name in ``/dev/shm``: segments and semaphores (``sem.*``) alike; none if missing."""
    try:
        return set(os.listdir(_or_shm_dir(directory)))
    except OSError:  # no /dev/shm (macOS, Windows): nothing to list
        return set()


def segments(directory: str | None = None) -> set[str]:
    """The names of the shared-memory segments in ``/dev/shm`` (semaphores left out)."""
    return {name for name in entries(directory) if not name.startswith("sem.")}


def inodes(directory: str | None = None) -> dict[int, str]:
    """Each entry of ``/dev/shm`` by its inode, the identity ``/proc`` shows; none if missing."""
    try:
        with os.scandir(_or_shm_dir(directory)) as found:
            return {entry.inode(): entry.name for entry in found}
    except OSError:  # no /dev/shm (macOS, Windows)
        return {}


def remove(names: Iterable[str], directory: str | None = None) -> None:
    """Unlink each of ``names`` from ``/dev/shm``; one already gone is no error."""
    for name in names:
        try:
            os.unlink(os.path.join(_or_shm_dir(directory), name))
        except OSError:
            pass


def mapped_files(pid: int | str) -> Iterator[tuple[str, int]]:
    """``(path, inode)`` of each ``/dev/shm`` file mapped into ``pid``'s memory.

    Read from ``/proc/<pid>/maps``; raises ``OSError`` if that cannot be read
    (the process has ended, is not ours, or there is no ``/proc``).
    """
    with open(os.path.join(PROC, str(pid), "maps"), encoding="utf-8", errors="replace") as maps:
        for line in maps:
            # address perms offset device inode path
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith(SHM_DIR + "/"):
                yield fields[5].strip(), int(fields[4])


def held_elsewhere(names: Iterable[str], directory: str | None = None) -> set[str]:
    """Those of ``names`` (entries in ``/dev/shm``) that another process maps or holds open.

    ``/dev/shm`` is shared by every program on the machine (another notebook, a
    parallel test run): an entry another process uses right now is that
    program's. Where :func:`cannot_look` gives a reason, none is returned.
    """
    from helpers.holdings import scan  # holdings reads /proc for every kind of handle

    wanted = set(names)
    by_inode = {inode: name for inode, name in inodes(directory).items() if name in wanted}
    if not by_inode or not can_look():
        return set()
    here, found = os.getpid(), set()
    for entry in os.listdir(PROC):
        if entry.isdigit() and int(entry) != here:
            held = scan(int(entry)) or set()  # None: gone meanwhile, or not ours
            found |= {
                by_inode[h.inode]
                for h in held
                if h.kind in ("segment", "semaphore") and h.inode in by_inode
            }
    return found
