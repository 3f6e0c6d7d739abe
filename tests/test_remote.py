"""Tests for `helpers.remote`: a manager and a connection over TCP, on loopback only."""

from __future__ import annotations

import os
import pickle
import socket
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from multiprocessing.managers import BaseManager

import psutil
import pytest

from helpers.context import get_context
from helpers.remote import (
    LOOPBACK,
    JobManager,
    answer_requests,
    ask_squares,
    square_jobs,
    start_job_server,
    wrong_key_refused,
)
from helpers.running import start, wait

KEY = os.urandom(32)


@pytest.fixture(scope="module")
def server(ctx):
    manager = start_job_server(ctx, KEY)
    yield manager
    manager.shutdown()


def test_the_server_gets_a_free_port_on_loopback(server):
    host, port = server.address
    assert host == LOOPBACK
    assert 0 < port < 65536


def test_two_clients_square_every_job_and_stop_on_their_sentinels(ctx, server):
    jobs = server.get_jobs()
    for number in range(1, 11):
        jobs.put(number)
    for _ in range(2):
        jobs.put(None)
    clients = [
        start(ctx, square_jobs, server.address, KEY, f"client-{n}", 10, name=f"client-{n}")
        for n in (1, 2)
    ]
    wait(clients, timeout=30)
    results = server.get_results().copy()
    assert {n: square for n, (square, _) in results.items()} == {n: n * n for n in range(1, 11)}
    assert {label for _, label in results.values()} <= {"client-1", "client-2"}


def test_a_wrong_key_is_refused_in_under_a_second(server):
    began = time.monotonic()
    assert wrong_key_refused(server.address, os.urandom(32))
    assert time.monotonic() - began < 1.0  # a bound on refusing, not a benchmark
    with pytest.raises(AuthenticationError):
        JobManager(address=server.address, authkey=os.urandom(32)).connect()


def test_the_right_key_is_accepted(server):
    assert not wrong_key_refused(server.address, KEY)


def test_the_server_listens_on_loopback_only(server):
    _, port = server.address
    listening = [
        conn.laddr
        for conn in psutil.Process(server._process.pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert listening == [(LOOPBACK, port)]
    others = [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET and not address.address.startswith("127.")
    ]
    for other in others:  # reachable on loopback, refused on every other interface
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=1).close()


@pytest.mark.parametrize(
    ("host", "error", "message"),
    [
        ("0.0.0.0", ValueError, "host '0.0.0.0' is reachable from other machines"),
        ("", ValueError, "host '' is reachable from other machines"),
        (None, TypeError, "host must be text such as '127.0.0.1', not NoneType"),
    ],
)
def test_a_reachable_or_missing_host_is_refused_before_any_process(ctx, host, error, message):
    before = ctx.active_children()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        start_job_server(ctx, KEY, host=host)
    assert ctx.active_children() == before


@pytest.mark.parametrize(
    ("authkey", "error", "message"),
    [
        ("secret", TypeError, "authkey must be bytes such as os.urandom(32), not str"),
        (b"abc", ValueError, "authkey has 3 bytes: use at least 16 random ones"),
    ],
)
def test_a_weak_key_is_refused(ctx, authkey, error, message):
    with pytest.raises(error) as info:
        start_job_server(ctx, authkey)
    assert str(info.value).startswith(message)


class LambdaManager(BaseManager):
    pass


LambdaManager.register("get_box", callable=lambda: {})


def test_a_lambda_cannot_reach_a_spawned_server():
    with pytest.raises(pickle.PicklingError):
        LambdaManager(address=(LOOPBACK, 0), authkey=KEY, ctx=get_context("spawn")).start()


def _start_answering(ctx):
    address_in, address_out = ctx.Pipe(duplex=False)
    child = start(ctx, answer_requests, KEY, address_out, 10, name="answerer")
    address_out.close()
    assert address_in.poll(30)
    return child, address_in.recv()


def test_listener_and_client_make_request_and_reply(ctx):
    child, address = _start_answering(ctx)
    assert address[0] == LOOPBACK
    assert ask_squares(address, KEY, [2, 3, 12], timeout=10) == [4, 9, 144]
    child.wait(timeout=10)


def test_the_listener_turns_away_a_wrong_key_then_serves_the_right_one(ctx):
    child, address = _start_answering(ctx)
    with pytest.raises(AuthenticationError):
        Client(address, authkey=os.urandom(32))
    with Client(address, authkey=KEY) as conn:
        conn.send(("cube", 3))
        assert conn.poll(10)
        assert conn.recv() == "unknown 'cube'"
        conn.send(("bye", None))
    child.wait(timeout=10)


def test_ask_squares_refuses_a_bad_timeout():
    with pytest.raises(ValueError, match="timeout must be a positive"):
        ask_squares((LOOPBACK, 1), KEY, [1], timeout=0)
