"""A program that creates a shared-memory segment and never unlinks it.

Run it from the repository root:

    python examples/forget_unlink.py              # tracked, as by default
    python examples/forget_unlink.py --untracked  # track=False (Python 3.13+)
    python examples/forget_unlink.py --wait       # then wait a minute, to be killed

It prints the segment's name and exits without ``unlink()``. What happens next
is the point:

* Tracked (the default): this program's **resource tracker**, a helper process
  that outlives it by a moment, finds the segment still registered, warns on
  stderr ("There appear to be 1 leaked shared_memory objects to clean up at
  shutdown") and unlinks it.
* Untracked: nobody is watching. The segment stays in ``/dev/shm`` until some
  process unlinks it, or the machine reboots. On Python 3.11 and 3.12, which
  have no ``track=False``, the program unregisters the segment from the
  tracker itself, which is what ``track=False`` does.
"""

import sys
import time
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

SIZE = 4096


def main() -> None:
    untracked = "--untracked" in sys.argv[1:]
    if untracked and sys.version_info >= (3, 13):
        shm = SharedMemory(create=True, size=SIZE, track=False)
    else:
        shm = SharedMemory(create=True, size=SIZE)
        if untracked:  # before 3.13: what track=False does, by hand
            resource_tracker.unregister(shm._name, "shared_memory")
    shm.buf[:5] = b"hello"
    print(shm.name, flush=True)
    if "--wait" in sys.argv[1:]:
        time.sleep(60)  # long enough to be killed while it uses the segment
    shm.close()  # closed, but never unlinked: the name stays in /dev/shm


if __name__ == "__main__":
    main()
