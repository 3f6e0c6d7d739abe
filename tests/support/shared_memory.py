# ruff: noqa: PLR0917 - a Process target gets args=(...) by position
"""Whole programs for lesson 07's exercises, right and wrong, used only by the tests.

Under spawn a child imports its worker by module name, so the workers live
here, at the top level, rather than inside the tests.
"""

from __future__ import annotations

from multiprocessing.shared_memory import SharedMemory

import numpy as np

TIMEOUT = 30


# --- exercise 1: histogram ---------------------------------------------------------


def count_slice(values_name, length, counts_name, shape, row, begin, end):
    values_shm, counts_shm = SharedMemory(name=values_name), SharedMemory(name=counts_name)
    try:
        values = np.ndarray((length,), dtype=np.int64, buffer=values_shm.buf)
        counts = np.ndarray(shape, dtype=np.int64, buffer=counts_shm.buf)
        counts[row] = np.bincount(values[begin:end], minlength=shape[1])
        del values, counts
    finally:
        values_shm.close()
        counts_shm.close()


def count_into_a_copy(values_name, length, counts_name, shape, row, begin, end):
    values_shm, counts_shm = SharedMemory(name=values_name), SharedMemory(name=counts_name)
    try:
        values = np.ndarray((length,), dtype=np.int64, buffer=values_shm.buf)
        counts = np.array(np.ndarray(shape, dtype=np.int64, buffer=counts_shm.buf))  # a copy
        counts[row] = np.bincount(values[begin:end], minlength=shape[1])
        del values, counts
    finally:
        values_shm.close()
        counts_shm.close()


def count_everything(values_name, length, counts_name, shape, row, begin, end):
    count_slice(values_name, length, counts_name, shape, row, 0, length)


def count_as_float(values_name, length, counts_name, shape, row, begin, end):
    values_shm, counts_shm = SharedMemory(name=values_name), SharedMemory(name=counts_name)
    try:
        values = np.ndarray((length,), dtype=np.int64, buffer=values_shm.buf)
        counts = np.ndarray(shape, dtype=np.float64, buffer=counts_shm.buf)  # not int64
        counts[row] = np.bincount(values[begin:end], minlength=shape[1])
        del values, counts
    finally:
        values_shm.close()
        counts_shm.close()


def histogram(ctx, values, bins, children, *, worker=count_slice, step=None, unlink=True):
    """The reference program; the keywords make the typical mistakes."""
    values_shm = SharedMemory(create=True, size=values.nbytes)
    counts_shm = SharedMemory(create=True, size=children * bins * 8)
    try:
        shared = np.ndarray(values.shape, dtype=np.int64, buffer=values_shm.buf)
        shared[:] = values
        step = step or -(-len(values) // children)  # rounded up: the last slice is shorter
        names = (values_shm.name, len(values), counts_shm.name, (children, bins))
        processes = [
            ctx.Process(target=worker, args=(*names, k, k * step, (k + 1) * step))
            for k in range(children)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=TIMEOUT)
        counts = np.ndarray((children, bins), dtype=np.int64, buffer=counts_shm.buf)
        total = counts.sum(axis=0).tolist()
        del shared, counts
    finally:
        values_shm.close()
        counts_shm.close()
        if unlink:
            values_shm.unlink()
            counts_shm.unlink()
    return total


def histogram_into_a_copy(ctx, values, bins, children):
    return histogram(ctx, values, bins, children, worker=count_into_a_copy)


def histogram_whole_array(ctx, values, bins, children):
    return histogram(ctx, values, bins, children, worker=count_everything)


def histogram_drops_the_remainder(ctx, values, bins, children):
    return histogram(ctx, values, bins, children, step=len(values) // children)


def histogram_float_counts(ctx, values, bins, children):
    return histogram(ctx, values, bins, children, worker=count_as_float)


def histogram_never_unlinks(ctx, values, bins, children):
    return histogram(ctx, values, bins, children, unlink=False)


def histogram_returns_a_closed_view(ctx, values, bins, children):
    counts_shm = SharedMemory(create=True, size=bins * 8)
    try:
        counts = np.ndarray((bins,), dtype=np.int64, buffer=counts_shm.buf)
        counts[:] = np.bincount(values, minlength=bins)
        processes = [ctx.Process(target=abs, args=(-1,)) for _ in range(children)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=TIMEOUT)
    finally:
        counts_shm.close()
        counts_shm.unlink()
    return counts  # a view of memory that close() unmapped


def histogram_close_with_frombuffer(ctx, values, bins, children):
    counts_shm = SharedMemory(create=True, size=bins * 8)
    try:
        counts = np.frombuffer(counts_shm.buf, dtype=np.int64)
        counts[:] = np.bincount(values, minlength=bins)
        processes = [ctx.Process(target=abs, args=(-1,)) for _ in range(children)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=TIMEOUT)
        counts_shm.close()  # BufferError: counts still holds the buffer
    finally:
        del counts
        counts_shm.close()
        counts_shm.unlink()
    return []


# --- exercise 2: frames through a ring ----------------------------------------------


def produce_frames(ring_name, frames, slots, shape, ready, read, *, wait_for_read=True):
    ring_shm = SharedMemory(name=ring_name)
    try:
        ring = np.ndarray((slots, *shape), dtype=np.int32, buffer=ring_shm.buf)
        for k in range(frames):
            if wait_for_read and k >= slots and not read[k - slots].wait(TIMEOUT):
                raise TimeoutError(f"frame {k - slots + 1} was never read")
            ring[k % slots] = k + 1
            ready[k].set()
        del ring
    finally:
        ring_shm.close()


def produce_without_waiting(ring_name, frames, slots, shape, ready, read):
    produce_frames(ring_name, frames, slots, shape, ready, read, wait_for_read=False)


def produce_float_frames(ring_name, frames, slots, shape, ready, read):
    ring_shm = SharedMemory(name=ring_name)
    try:
        ring = np.ndarray((slots, *shape), dtype=np.float32, buffer=ring_shm.buf)  # not int32
        for k in range(frames):
            if k >= slots:
                read[k - slots].wait(TIMEOUT)
            ring[k % slots] = k + 1
            ready[k].set()
        del ring
    finally:
        ring_shm.close()


def stream(ctx, frames, slots, shape, *, producer=produce_frames, wait=True, join_first=False):
    """The reference program; the keywords make the typical mistakes."""
    size = slots * int(np.prod(shape)) * 4
    ring_shm = SharedMemory(create=True, size=size)
    try:
        ring = np.ndarray((slots, *shape), dtype=np.int32, buffer=ring_shm.buf)
        ready = [ctx.Event() for _ in range(frames)]
        read = [ctx.Event() for _ in range(frames)]
        args = (ring_shm.name, frames, slots, shape, ready, read)
        child = ctx.Process(target=producer, args=args)
        child.start()
        if join_first:
            child.join(timeout=TIMEOUT)
        seen = []
        for k in range(frames):
            if wait and not ready[k].wait(TIMEOUT):
                break
            seen.append(int(ring[k % slots][0, 0]))
            read[k].set()
        child.join(timeout=TIMEOUT)
        del ring
    finally:
        ring_shm.close()
        ring_shm.unlink()
    return seen


def stream_join_first_no_back_pressure(ctx, frames, slots, shape):
    return stream(ctx, frames, slots, shape, producer=produce_without_waiting, join_first=True)


def stream_without_waiting(ctx, frames, slots, shape):
    return stream(ctx, frames, slots, shape, wait=False)


def stream_float_producer(ctx, frames, slots, shape):
    return stream(ctx, frames, slots, shape, producer=produce_float_frames)


def stream_in_the_notebook(ctx, frames, slots, shape):
    """No producer process at all: the frames are written here."""
    return list(range(1, frames + 1))
