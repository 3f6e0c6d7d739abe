"""Tests for `helpers.holdings`."""

import multiprocessing
import os
import re
import sys

import pytest

from helpers import dev_shm
from helpers import holdings as holdings_module
from helpers.holdings import Handle, can_look, channel_handles, holdings, scan, shm_names
from helpers.pipes import request, serve
from helpers.queues import take_until_sentinel
from helpers.running import start, wait

linux_only = pytest.mark.skipif(not can_look(), reason="reads /proc")


@linux_only
def test_a_one_way_pipe_is_one_object_with_a_read_and_a_write_end(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    try:
        (read_end,) = channel_handles(reader)
        (write_end,) = channel_handles(writer)
        assert (read_end.kind, read_end.end) == ("pipe", "read")
        assert (write_end.kind, write_end.end) == ("pipe", "write")
        assert read_end.inode == write_end.inode
        assert str(holdings(pipe=reader)) == "parent  pipe: pipe read end, pipe write end"
    finally:
        reader.close()
        writer.close()


@linux_only
def test_a_closed_write_end_is_followed_through_the_read_end(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    writer.close()
    try:
        assert channel_handles(writer) == set()
        report = holdings(pipe=reader)
        assert report.holders("pipe", end="write") == []
        assert report.holders("pipe", end="read") == ["parent"]
    finally:
        reader.close()


@linux_only
def test_a_duplex_pipe_is_two_sockets(ctx):
    left, right = ctx.Pipe()
    try:
        assert [h.kind for h in channel_handles(left)] == ["socket"]
        assert channel_handles(left) != channel_handles(right)
        assert str(holdings(left=left)) == "parent  left: socket"
    finally:
        left.close()
        right.close()


@linux_only
def test_a_queue_is_a_pipe_and_three_semaphores(ctx):
    q = ctx.Queue()
    try:
        assert str(holdings(q=q)) == "parent  q: pipe read end, pipe write end, 3 semaphores"
    finally:
        q.close()


@linux_only
def test_a_child_given_a_queue_holds_its_pipe_and_semaphores(ctx):
    q, results = ctx.Queue(), ctx.Queue()
    consumer = start(ctx, take_until_sentinel, q, results)
    try:
        # Looked at once the child runs its function: it has rebuilt the queue.
        report = holdings([consumer], q=q, timeout=30)
        q.put(1)
        q.put(None)
        assert results.get(timeout=30) == ("consumer", [1])
        assert str(report).splitlines()[1] == (
            "take_until_sentinel  q: pipe read end, pipe write end, 3 semaphores"
        )
    finally:
        wait([consumer], timeout=30)
        q.close()
        results.close()


@linux_only
def test_a_server_holds_its_end_and_an_ended_child_holds_nothing(ctx):
    client, server_end = ctx.Pipe()
    server = start(ctx, serve, server_end, name="server")
    try:
        assert request(client, "square", 3, timeout=30) == 9  # the server is up and holds its end
        report = holdings([server], client=client, server_end=server_end)
        assert report.holders("server_end") == ["parent", "server"]
        server_end.close()
        assert holdings([server], client=client).holders("client") in (
            ["parent"],  # spawn, forkserver: the server was given only its own end
            ["parent", "server"],  # fork: it inherited a copy of every end
        )
        assert request(client, "stop", timeout=30) == "stopped"
    finally:
        wait([server], timeout=30)
        client.close()
    row = holdings([server.process]).rows[1]
    assert row.ended
    assert row.describe() == "has ended: holds nothing"


@linux_only
def test_shared_memory_is_listed_by_name(ctx):
    from multiprocessing import shared_memory

    segment = shared_memory.SharedMemory(create=True, size=64)
    try:
        (handle,) = channel_handles(segment)
        assert handle.kind == "segment"
        assert handle.name == segment.name
        assert handle in scan(os.getpid())
        assert str(holdings(data=segment)) == f"parent  data: segment {segment.name}"
    finally:
        segment.close()
        segment.unlink()


@linux_only
def test_with_no_channel_named_a_row_lists_everything_but_the_output_streams(ctx):
    reader, writer = ctx.Pipe(duplex=False)
    try:
        row = holdings().rows[0]
        handles = row.held[""]
        assert set(channel_handles(reader) | channel_handles(writer)) <= set(handles)
        stdout = os.fstat(sys.__stdout__.fileno()).st_ino
        assert all(h.inode != stdout for h in handles)
    finally:
        reader.close()
        writer.close()


def test_scan_of_a_process_that_does_not_exist_is_none():
    assert scan(2**22 + 12345) is None


def test_a_handle_describes_itself():
    assert Handle("pipe", 1, "write").describe() == "pipe write end"
    assert Handle("segment", 2, name="psm_1").describe() == "segment psm_1"
    assert Handle("semaphore", 3).describe() == "semaphore"
    assert Handle("socket", 4) == Handle("socket", 4, name="other name")


def test_elsewhere_it_says_it_cannot_look(monkeypatch):
    monkeypatch.setattr(holdings_module, "can_look", lambda: False)
    report = holdings()
    assert not report.available
    assert str(report).startswith("cannot look: this system has no /proc")


def test_elsewhere_shm_names_says_it_cannot_tell(monkeypatch):
    monkeypatch.setattr(holdings_module, "can_look", lambda: False)
    q = multiprocessing.get_context("spawn").Queue()
    try:
        assert shm_names(q) is None
    finally:
        q.close()


@linux_only
def test_without_dev_shm_shm_names_says_it_cannot_tell(monkeypatch):
    monkeypatch.setattr(dev_shm, "SHM_DIR", "/nonexistent-shm")
    q = multiprocessing.get_context("spawn").Queue()
    try:
        assert shm_names(q) is None
    finally:
        q.close()


@pytest.mark.parametrize(
    ("children", "error", "message"),
    [
        (["server"], TypeError, "children must be processes (or PIDs), not str 'server'"),
        ([True], TypeError, "children must be processes (or PIDs), not bool True"),
    ],
)
def test_bad_children_are_refused(children, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        holdings(children)


def test_a_child_not_started_is_refused(ctx):
    child = ctx.Process(target=print, name="idle")
    with pytest.raises(ValueError, match=r"^idle has not been started: it holds nothing yet$"):
        holdings([child])


@linux_only
def test_something_that_is_not_a_channel_is_refused():
    with pytest.raises(TypeError, match=r"not list$"):
        holdings(numbers=[1, 2, 3])


def test_a_timeout_that_is_no_number_is_refused():
    with pytest.raises(TypeError):
        holdings(timeout="soon")


@linux_only
@pytest.mark.parametrize(("method", "named"), [("spawn", 3), ("fork", 0)])
def test_a_queues_semaphores_are_files_in_dev_shm_unless_fork_removed_them(method, named):
    q = multiprocessing.get_context(method).Queue()
    try:
        names = shm_names(q)
        assert len(names) == named
        assert all(name.startswith("sem.mp-") for name in names)
    finally:
        q.close()
