"""Lesson 05's exercises answered right and wrong: the programs `test_exercises_bench` checks.

Test-only. Workers live here, not in a test module's body, because a spawn or
forkserver child imports its function by module name.
"""

from __future__ import annotations

import time
from multiprocessing import shared_memory
from typing import Any

from helpers.exercises.bench import pattern

# ---- workers (run in a child) ------------------------------------------------------------


def send_pattern(conn: Any, size: int) -> None:
    """Runs in the child: send ``pattern(size)`` as one message, then hang up."""
    conn.send_bytes(pattern(size))
    conn.close()


def send_pattern_in_chunks(conn: Any, size: int, chunk: int) -> None:
    """Runs in the child: send ``pattern(size)`` in ``chunk``-byte messages."""
    data = pattern(size)
    for offset in range(0, size, chunk):
        conn.send_bytes(data, offset, min(chunk, size - offset))
    conn.close()


def write_pattern(name: str, size: int) -> None:
    """Runs in the child: attach segment ``name``, write ``pattern(size)`` into it, close it."""
    segment = shared_memory.SharedMemory(name=name)
    segment.buf[:size] = pattern(size)
    segment.close()


# ---- exercise 1: move_bytes(ctx, size) -> (data, seconds) ---------------------------------


def move_bytes_reference(ctx: Any, size: int) -> tuple[bytes, float]:
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_pattern, args=(sender, size))
    began = time.perf_counter()
    child.start()
    sender.close()
    data = receiver.recv_bytes()
    seconds = time.perf_counter() - began
    child.join(timeout=10)
    receiver.close()
    return data, seconds


def move_bytes_shared_memory(ctx: Any, size: int) -> tuple[bytes, float]:
    segment = shared_memory.SharedMemory(create=True, size=size)
    try:
        child = ctx.Process(target=write_pattern, args=(segment.name, size))
        began = time.perf_counter()
        child.start()
        child.join(timeout=10)
        seconds = time.perf_counter() - began
        return bytes(segment.buf[:size]), seconds
    finally:
        segment.close()
        segment.unlink()


def move_bytes_join_first(ctx: Any, size: int) -> tuple[bytes, float]:
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_pattern, args=(sender, size))
    began = time.perf_counter()
    child.start()
    child.join()  # before taking the bytes: the child's send never finishes
    data = receiver.recv_bytes()
    return data, time.perf_counter() - began


def move_bytes_view_kept(ctx: Any, size: int) -> tuple[Any, float]:
    segment = shared_memory.SharedMemory(create=True, size=size)
    child = ctx.Process(target=write_pattern, args=(segment.name, size))
    began = time.perf_counter()
    child.start()
    child.join(timeout=10)
    data = segment.buf[:size]  # a view, still alive at close()
    try:
        segment.close()
    finally:
        segment.unlink()
    return data, time.perf_counter() - began


def move_bytes_one_chunk(ctx: Any, size: int) -> tuple[bytes, float]:
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_pattern_in_chunks, args=(sender, size, 64 * 1024))
    began = time.perf_counter()
    child.start()
    sender.close()
    data = receiver.recv_bytes()  # only the first chunk
    seconds = time.perf_counter() - began
    while receiver.poll(1):  # let the child finish
        try:
            receiver.recv_bytes()
        except EOFError:
            break
    child.join(timeout=10)
    receiver.close()
    return data, seconds


def move_bytes_no_time(ctx: Any, size: int) -> bytes:
    data, _ = move_bytes_reference(ctx, size)
    return data


def move_bytes_never_joined(ctx: Any, size: int) -> tuple[bytes, float]:
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=send_pattern, args=(sender, size))
    began = time.perf_counter()
    child.start()
    sender.close()
    data = receiver.recv_bytes()
    return data, time.perf_counter() - began


def move_bytes_target_called(ctx: Any, size: int) -> tuple[bytes, float]:
    segment = shared_memory.SharedMemory(create=True, size=size)
    try:
        began = time.perf_counter()
        child = ctx.Process(target=write_pattern(segment.name, size))  # runs here
        child.start()
        child.join(timeout=10)
        return bytes(segment.buf[:size]), time.perf_counter() - began
    finally:
        segment.close()
        segment.unlink()
