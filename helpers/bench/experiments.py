"""The experiments of lesson 05: bulk transfers, chunk sizes, first touch, writes into an Array.

Each is timed in the parent with ``time.perf_counter`` and repeated: one
untimed warm-up first, then ``repeats`` timed runs whose median is reported
with their spread. Arguments are checked here, in the caller's process,
before any child starts.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from helpers.bench.channels import (
    OPENERS,
    child,
    expect,
    key,
    progress_bar,
    receive_by,
    time_channel,
)
from helpers.bench.results import (
    BULK_CHANNELS,
    BULK_LIMITS,
    DEFAULT_REPEATS,
    FULL_SIZES,
    LARGEST_SIZE,
    Measurement,
    Results,
    parse_size,
    size_ladder,
)
from helpers.validation import (
    require_context,
    require_positive_int,
    require_shm_room,
    require_timeout,
)
from helpers.workers import bench as workers
from helpers.workers.bench import KiB, MiB

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = [
    "MAX_REPEATS",
    "TRANSFER_TIMEOUT",
    "check_common",
    "measure_array_writes",
    "measure_bulk",
    "measure_chunks",
    "measure_first_touch",
    "measure_seed_writes",
    "require_names",
    "require_sizes",
    "sweep",
]

MAX_REPEATS = 50
# Per transfer (or per batch of round trips): generous, because a 256 MiB
# transfer through a Manager takes seconds on a busy laptop.
TRANSFER_TIMEOUT = 120.0


# --------------------------------------------------------------------------
# Argument checks (in the caller's process, before any child starts)
# --------------------------------------------------------------------------


def require_names(names: Any, valid: dict[str, str], what: str) -> list[str]:
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if not isinstance(names, Iterable):
        raise TypeError(f"{what} must be a list of names, not {type(names).__name__}")
    names = list(names)
    if not names:
        raise ValueError(f"{what} is empty: choose from {', '.join(valid)}")
    for name in names:
        if name not in valid:
            raise ValueError(f"{what}: {name!r} is not one of {', '.join(valid)}")
    return list(dict.fromkeys(names))


def require_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, int)):
        sizes = [sizes] if isinstance(sizes, int) else sizes.split(",")
    if not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a list of sizes, not {type(sizes).__name__}")
    parsed = [parse_size(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if not parsed:
        raise ValueError("sizes is empty: give at least one size, e.g. 64 KiB")
    return sorted(set(parsed))


def check_common(ctx: Any, repeats: Any, timeout: Any) -> tuple[Context, int, float]:
    return (
        require_context(ctx, needs=("Pipe",)),
        require_positive_int(repeats, "repeats", maximum=MAX_REPEATS),
        require_timeout(timeout),
    )


# --------------------------------------------------------------------------
# The experiments
# --------------------------------------------------------------------------


def measure_bulk(
    ctx: Context,
    sizes: Any = FULL_SIZES,
    *,
    channels: Any = tuple(BULK_CHANNELS),
    limits: Any = tuple(BULK_LIMITS),
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """Time moving ``sizes`` bytes from a child to the parent through each channel.

    One child per channel serves every size; the parent times from its "go"
    to holding the data, and checks the CRC-32. ``limits`` (``memcpy``,
    ``os_pipe``) are measured the same way for comparison; pass ``()`` to skip.
    """
    ctx, repeats, timeout = check_common(ctx, repeats, timeout)
    sizes = require_sizes(sizes)
    names = require_names(limits, BULK_LIMITS, "limits") if limits else []
    names += require_names(channels, BULK_CHANNELS, "channels")
    if "shared_memory" in names:
        require_shm_room(max(sizes), "the largest payload")
    variants = [(name, _default_chunk(name)) for name in names]
    return _run(ctx, "bulk", variants, sizes, repeats=repeats, timeout=timeout, progress=progress)


def _default_chunk(name: str) -> int:
    return {"queue": workers.QUEUE_CHUNK, "manager": workers.MANAGER_CHUNK}.get(
        name, workers.PIPE_CHUNK
    )


def _run(
    ctx: Context,
    experiment: str,
    variants: list[tuple[str, int]],
    sizes: list[int],
    *,
    repeats: int,
    timeout: float,
    progress: bool | None,
) -> Results:
    """Time every variant at every size: one child per channel (the two pipe ones share)."""
    groups: dict[Any, list[tuple[str, int]]] = {}
    for name, chunk in variants:
        groups.setdefault(OPENERS.get(name, name), []).append((name, chunk))
    bar = progress_bar(len(variants) * len(sizes), progress, experiment)
    measured: list[Measurement] = []
    try:
        for group in groups.values():
            bar.set_postfix_str(" + ".join({**BULK_CHANNELS, **BULK_LIMITS}[n] for n, _ in group))
            measured += time_channel(ctx, group, sizes, repeats=repeats, timeout=timeout, bar=bar)
    finally:
        bar.close()
    # Back in the order asked for, whatever order the children ran in.
    order = {key(*variant): number for number, variant in enumerate(variants)}
    measured.sort(key=lambda m: order[m.name, m.chunk])
    return Results(experiment, measured, repeats=repeats)


def measure_chunks(
    ctx: Context,
    size: Any = 64 * MiB,
    chunks: Any = (1 * KiB, 16 * KiB, 64 * KiB, 1 * MiB, 16 * MiB),
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """Time ``Pipe.send_bytes`` moving ``size`` bytes in each chunk size, against raw os.pipe."""
    ctx, repeats, timeout = check_common(ctx, repeats, timeout)
    size = parse_size(size, "size")
    chunks = [parse_size(c, f"chunks[{i}]") for i, c in enumerate(_as_list(chunks, "chunks"))]
    if not chunks:
        raise ValueError("chunks is empty: give at least one chunk size, e.g. 64 KiB")
    variants = [("os_pipe", workers.RAW_PIPE_WRITE)] + [("pipe_bytes", chunk) for chunk in chunks]
    return _run(
        ctx, "chunks", variants, [size], repeats=repeats, timeout=timeout, progress=progress
    )


def _as_list(values: Any, name: str) -> list:
    if isinstance(values, (str, int)):
        return [values] if isinstance(values, int) else values.split(",")
    if not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list, not {type(values).__name__}")
    return list(values)


def sweep(
    ctx: Context,
    smallest: Any = "1 KiB",
    largest: Any = "256 MiB",
    *,
    channels: Any = tuple(BULK_CHANNELS),
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
    progress: bool | None = None,
) -> Results:
    """The playground's function: :func:`measure_bulk` (limits included) over a size ladder."""
    sizes = size_ladder(smallest, largest)
    return measure_bulk(
        ctx, sizes, channels=channels, repeats=repeats, timeout=timeout, progress=progress
    )


def measure_first_touch(
    ctx: Context,
    size: Any = 64 * MiB,
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Fresh memory for every copy against memory used before, in-process and child→parent.

    The first write to each 4 KiB page of a new mapping traps into the kernel,
    which finds a zeroed page for it (a **page fault**); reusing the same
    memory pays that once.
    """
    ctx, repeats, timeout = check_common(ctx, repeats, timeout)
    size = parse_size(size, "size")
    require_shm_room(size, "each segment")
    results = Results("first touch", repeats=repeats)
    results.measurements += _memcpy_fresh_and_reused(size, repeats)
    results.measurements.append(_fresh_segments(ctx, size, repeats, timeout))
    reused = time_channel(
        ctx,
        [("shared_memory", 0)],
        [size],
        repeats=repeats,
        timeout=timeout,
        bar=progress_bar(1, False, ""),
    )[0]
    results.measurements.append(
        Measurement(
            "reused segment",
            "child → reused segment",
            size,
            reused.samples,
            verified=reused.verified,
            warm_up=reused.warm_up,
        )
    )
    return results


def _memcpy_fresh_and_reused(size: int, repeats: int) -> list[Measurement]:
    import mmap

    import numpy as np

    source = np.frombuffer(workers.make_payload(size), dtype=np.uint8)
    fresh, reused = [], []
    kept = mmap.mmap(-1, size)
    try:
        for _ in range(repeats + 1):
            new = mmap.mmap(-1, size)  # a new anonymous mapping: no page touched yet
            started = time.perf_counter()
            np.copyto(np.frombuffer(new, dtype=np.uint8), source)
            fresh.append(time.perf_counter() - started)
            new.close()
            started = time.perf_counter()
            np.copyto(np.frombuffer(kept, dtype=np.uint8), source)
            reused.append(time.perf_counter() - started)
    finally:
        kept.close()
    return [
        Measurement(
            "fresh memory", "memcpy → fresh memory", size, tuple(fresh[1:]), warm_up=fresh[0]
        ),
        Measurement(
            "reused memory", "memcpy → reused memory", size, tuple(reused[1:]), warm_up=reused[0]
        ),
    ]


def _fresh_segments(ctx: Context, size: int, repeats: int, timeout: float) -> Measurement:
    from multiprocessing import shared_memory

    samples, intact = [], True
    ctrl, child_ctrl = ctx.Pipe()
    with ExitStack() as stack:
        stack.callback(ctrl.close)
        with child(ctx, workers.fresh_segment_sender, child_ctrl, timeout, timeout=timeout):
            child_ctrl.close()
            deadline = time.monotonic() + timeout
            ctrl.send(("size", size))
            crc = expect(ctrl, deadline, "ready", "the child's payload")[1]
            for _ in range(repeats + 1):
                deadline = time.monotonic() + timeout
                started = time.perf_counter()
                segment = shared_memory.SharedMemory(create=True, size=size)
                try:
                    ctrl.send(("go", 0, segment.name))
                    expect(ctrl, deadline, "done", "the child's copy into a fresh segment")
                    samples.append(time.perf_counter() - started)
                    written: Any = segment.buf
                    intact = intact and zlib.crc32(written[:size]) == crc
                finally:
                    segment.close()
                    segment.unlink()
            ctrl.send(("stop",))
    return Measurement(
        "fresh segment",
        "child → fresh segment",
        size,
        tuple(samples[1:]),
        verified=intact,
        warm_up=samples[0],
    )


def measure_array_writes(
    ctx: Context,
    count: int = 100_000,
    *,
    repeats: int = DEFAULT_REPEATS,
    timeout: float = TRANSFER_TIMEOUT,
) -> Results:
    """Time element-by-element writes into a locked ``Array`` against one bulk write."""
    import numpy as np

    ctx, repeats, timeout = check_common(ctx, repeats, timeout)
    count = require_positive_int(count, "count", maximum=LARGEST_SIZE // 8)
    array = ctx.Array("q", count)  # 'q': 64-bit ints, so the squares fit
    expected = zlib.crc32((np.arange(count, dtype=np.int64) ** 2).data)
    reader, writer = ctx.Pipe(duplex=False)
    runs = []
    try:
        with child(ctx, workers.seed_writer, array, writer, repeats, timeout=timeout):
            writer.close()
            for _ in range(repeats + 1):
                runs.append(receive_by(reader, time.monotonic() + timeout, "the writes timed"))
    finally:
        reader.close()
    intact = all(loop_crc == bulk_crc == expected for _, _, loop_crc, bulk_crc in runs)
    size = 8 * count
    loops, bulks = [r[0] for r in runs], [r[1] for r in runs]
    return Results(
        "seed",
        [
            Measurement(
                "loop",
                "element by element",
                size,
                tuple(loops[1:]),
                verified=intact,
                warm_up=loops[0],
            ),
            Measurement(
                "bulk",
                "one bulk numpy write",
                size,
                tuple(bulks[1:]),
                verified=intact,
                warm_up=bulks[0],
            ),
        ],
        repeats=repeats,
    )


# The name the terminal version's "seed" experiment has always used.
measure_seed_writes = measure_array_writes
