"""Tests for `helpers.bench`.

Sizes are tiny and nothing here asserts a timing: these tests check that
every path moves the bytes intact, that results are shaped and printed as
promised, that failures and bad arguments give clear errors, and that
nothing is left behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.messages import NOT_A_CONTEXT, refusal

from helpers import bench
from helpers.bench import KiB, Measurement, MiB, Results, channels, workers
from helpers.bench.__main__ import main as bench_main
from helpers.running import ChildError
from helpers.validation import require_positive_int, require_timeout

# Lists /dev/shm or keeps segments there: takes its turn (root conftest.py).
pytestmark = pytest.mark.uses_dev_shm

ROOT = Path(__file__).resolve().parent.parent
# Not multiples of any chunk size, so every path also sends a short last chunk.
ODD = 300_001


def _segments() -> set[str]:
    return {name for name in os.listdir("/dev/shm") if name.startswith("psm_")}


def _assert_no_segment_left(before: set[str]) -> None:
    """Every segment that appeared since ``before`` must be gone within a few seconds.

    Only a leak stays: a segment of a test running beside this one (pytest -n)
    is unlinked by its owner as soon as that test is done with it.
    """
    deadline = time.monotonic() + 10
    new = _segments() - before
    while new and time.monotonic() < deadline:
        time.sleep(0.1)
        new &= _segments()
    assert new == set()


# --- sizes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [("512", 512), ("64 KiB", 64 * KiB), ("4MiB", 4 * MiB), ("1k", KiB), (" 2 m ", 2 * MiB)],
)
def test_parse_size_reads_binary_units(text, size):
    assert bench.parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("12XB", ValueError, "size: '12XB' is not a size; write e.g. 512, 64 KiB, 4 MiB"),
        ("", ValueError, "size: '' is not a size"),
        ("0", ValueError, "size must be between 1 B and 1 GiB, not 0"),
        ("2 GiB", ValueError, "size must be between 1 B and 1 GiB, not 2147483648"),
        (1.5, TypeError, "size must be a size such as '64 KiB', not float"),
        (True, TypeError, "size must be a size such as '64 KiB', not bool"),
    ],
)
def test_parse_size_names_what_is_wrong(text, error, message):
    with pytest.raises(error, match="^" + message.replace("(", r"\(")):
        bench.parse_size(text)


def test_format_size_uses_whole_units_or_bytes():
    assert [bench.format_size(n) for n in (1, KiB, 64 * KiB, 3 * MiB, 1500)] == [
        "1 B",
        "1 KiB",
        "64 KiB",
        "3 MiB",
        "1500 B",
    ]


def test_size_ladder_steps_by_four_and_keeps_both_ends():
    assert bench.size_ladder("1 KiB", "256 MiB") == list(bench.FULL_SIZES)
    assert bench.size_ladder("1 KiB", "10 KiB") == [KiB, 4 * KiB, 10 * KiB]
    assert bench.size_ladder("4 KiB", "4 KiB") == [4 * KiB]
    with pytest.raises(ValueError, match=r"smallest \(4 MiB\) must not be larger than largest"):
        bench.size_ladder("4 MiB", "1 KiB")


def test_payload_is_deterministic_and_not_periodic_in_powers_of_two():
    payload = bench.make_payload(4 * 64 * KiB)
    assert payload == bench.make_payload(4 * 64 * KiB)
    chunks = {bytes(payload[i : i + 64 * KiB]) for i in range(0, len(payload), 64 * KiB)}
    assert len(chunks) == 4  # reordered chunks would change the checksum


# --- bulk transfers ------------------------------------------------------


@pytest.mark.slow  # notebook 05 checks "every transfer intact: True" on every default run
def test_every_bulk_path_delivers_the_payload_intact(ctx, monkeypatch):
    # Small chunks, so the Queue and Manager paths also send several.
    monkeypatch.setattr(bench, "QUEUE_CHUNK", 100_000)
    monkeypatch.setattr(bench, "MANAGER_CHUNK", 100_000)
    before = _segments()
    results = bench.measure_bulk(ctx, [1000, ODD], repeats=1, progress=False)
    assert results.names() == [*bench.BULK_LIMITS, *bench.BULK_CHANNELS]
    assert results.sizes() == [1000, ODD]
    assert len(results.measurements) == 16
    assert all(m.verified for m in results.measurements)
    assert all(len(m.samples) == 1 and m.median > 0 for m in results.measurements)
    assert results.intact
    assert results.summary() == (
        "bulk: 6 channels + 2 limits × 2 sizes, 1 timed repeats each, every transfer intact: True"
    )
    _assert_no_segment_left(before)


def test_bulk_table_has_a_row_per_channel_and_size(ctx):
    results = bench.measure_bulk(ctx, ["1 KiB"], channels=["pipe_bytes"], repeats=2, progress=False)
    lines = str(results).splitlines()
    assert lines[0].split() == [
        "channel", "size", "median", "spread", "speed", "held", "to", "%", "of", "it", "intact",
    ]  # fmt: skip
    assert len(lines) == 2 + 3 + 1
    assert lines[3].startswith("raw os.pipe (limit)")
    assert lines[4].startswith("Pipe.send_bytes chunks") and lines[4].endswith("✔")
    assert "raw os.pipe" in lines[4].removeprefix("Pipe.send_bytes chunks")  # its limit
    assert lines[-1].startswith("median of 2 timed repeats after one untimed warm-up")
    assert results.percent_of("memcpy", "memcpy", KiB) == pytest.approx(100)


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_progress_bar_can_be_shown(ctx, capsys):
    bench.measure_bulk(ctx, ["1 KiB"], channels=["pipe_bytes"], limits=(), repeats=1, progress=True)
    assert "bulk" in capsys.readouterr().err  # tqdm draws on stderr outside a notebook


def flipping_sender(ctrl, conn, timeout):
    """Runs in the child: like pipe_sender's framed path, but flips the first byte."""

    def send(payload, chunk, how):
        data = bytearray(payload)
        data[0] ^= 0xFF
        conn.send_bytes(data)

    workers._serve(ctrl, send, timeout)


def failing_sender(ctrl, conn, timeout):
    """Runs in the child: fails when asked to send."""

    def send(payload, chunk, how):
        raise ValueError("the sender broke down")

    workers._serve(ctrl, send, timeout)


def stalling_sender(ctrl, conn, timeout):
    """Runs in the child: never sends anything."""

    def send(payload, chunk, how):
        time.sleep(60)

    workers._serve(ctrl, send, timeout)


@pytest.fixture
def fake_channel(monkeypatch):
    """Register a pipe channel whose child runs the given worker."""

    def register(worker):
        def opener(ctx, largest, stack, names):
            channel = channels._open_pipes(ctx, largest, stack, names)
            framed = channel.receivers["pipe_bytes"]
            return dataclasses.replace(channel, worker=worker, receivers={"fake": framed})

        monkeypatch.setitem(channels.OPENERS, "fake", opener)
        monkeypatch.setitem(bench.BULK_CHANNELS, "fake", "fake channel")

    return register


def test_a_corrupted_transfer_is_reported_not_hidden(ctx, fake_channel):
    fake_channel(flipping_sender)
    results = bench.measure_bulk(ctx, ["1 KiB"], channels=["fake"], limits=(), repeats=1)
    assert not results.get("fake").verified
    assert not results.intact
    assert str(results).splitlines()[2].endswith("✘")


def test_a_child_that_fails_surfaces_its_exception(ctx, fake_channel):
    fake_channel(failing_sender)
    with pytest.raises(ChildError, match="raised ValueError: the sender broke down") as info:
        bench.measure_bulk(ctx, ["1 KiB"], channels=["fake"], limits=(), repeats=1)
    assert info.value.exc_type == "ValueError"


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_a_stalled_child_is_stopped_within_the_timeout(ctx, fake_channel):
    fake_channel(stalling_sender)
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="sending 1 KiB through fake 2 times took longer"):
        bench.measure_bulk(ctx, ["1 KiB"], channels=["fake"], limits=(), repeats=1, timeout=3)
    assert time.monotonic() - began < 30


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sizes": []}, ValueError, "sizes is empty: give at least one size, e.g. 64 KiB"),
        ({"sizes": ["0"]}, ValueError, "sizes[0] must be between 1 B and 1 GiB, not 0"),
        ({"sizes": 3.5}, TypeError, "sizes must be a list of sizes, not float"),
        ({"channels": ["pigeon"]}, ValueError, "channels: 'pigeon' is not one of array, "),
        ({"channels": []}, ValueError, "channels is empty: choose from array, shared_memory"),
        ({"limits": ["light"]}, ValueError, "limits: 'light' is not one of memcpy, os_pipe"),
        ({"repeats": 0}, ValueError, refusal(require_positive_int, 0, "repeats")),
        ({"repeats": 51}, ValueError, refusal(require_positive_int, 51, "repeats", maximum=50)),
        ({"repeats": "3"}, TypeError, refusal(require_positive_int, "3", "repeats")),
        ({"timeout": -1}, ValueError, refusal(require_timeout, -1)),
    ],
)
def test_bad_bulk_arguments_are_refused_before_any_child_starts(ctx, kwargs, error, message):
    args = {"sizes": ["1 KiB"], **kwargs}
    with pytest.raises(error) as info:
        bench.measure_bulk(ctx, args.pop("sizes"), **args)
    assert str(info.value).startswith(message)


def test_a_context_is_required():
    with pytest.raises(TypeError, match="^" + re.escape(NOT_A_CONTEXT) + "$"):
        bench.measure_bulk("spawn", ["1 KiB"])


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_the_playground_sweep_walks_the_ladder(ctx):
    results = bench.sweep(
        ctx, "1 KiB", "16 KiB", channels=["shared_memory"], repeats=1, progress=False
    )
    assert results.sizes() == [KiB, 4 * KiB, 16 * KiB]
    assert results.names() == ["memcpy", "os_pipe", "shared_memory"]
    assert results.intact


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_chunk_sizes_each_get_a_row_and_arrive_intact(ctx):
    results = bench.measure_chunks(ctx, ODD, ["1 KiB", "64 KiB"], repeats=1, progress=False)
    assert [(m.name, m.chunk) for m in results.measurements] == [
        ("os_pipe", None),
        ("pipe_bytes", KiB),
        ("pipe_bytes", 64 * KiB),
    ]
    assert results.intact
    assert "Pipe.send_bytes chunks" in str(results)


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_first_touch_compares_four_destinations_and_cleans_up(ctx):
    before = _segments()
    results = bench.measure_first_touch(ctx, "256 KiB", repeats=1)
    assert results.names() == ["fresh memory", "reused memory", "fresh segment", "reused segment"]
    assert results.intact
    _assert_no_segment_left(before)


# --- latency, start-up, the seed -----------------------------------------


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_every_round_trip_is_timed(ctx):
    results = bench.measure_latency(ctx, round_trips=20, repeats=1)
    assert results.names() == [
        "socket", "os_pipe", "raw_value", "pipe", "pipe_oneway", "queue", "manager", "value",
    ]  # fmt: skip
    assert all(m.median > 0 for m in results.measurements)
    held = {m["name"]: m["held_to"] for m in results.as_dict()["measurements"]}
    assert held == {
        "socket": None, "os_pipe": None, "raw_value": None, "pipe": "socket",
        "pipe_oneway": "os_pipe", "queue": "os_pipe", "manager": "socket", "value": "raw_value",
    }  # fmt: skip
    assert str(results).splitlines()[0].split()[:3] == ["round", "trip", "median"]


def test_latency_refuses_bad_round_trips(ctx):
    with pytest.raises(ValueError, match="round_trips must be at least 1, not 0"):
        bench.measure_latency(ctx, round_trips=0)
    with pytest.raises(ValueError, match="channels: 'smoke' is not one of pipe, pipe_oneway"):
        bench.measure_latency(ctx, channels=["smoke"])


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_startup_uses_each_start_method():
    results = bench.measure_startup(repeats=1)
    assert results.names() == ["spawn", "fork", "forkserver", "forkserver+preload"]
    assert [m.label for m in results.measurements][2:] == [
        "forkserver, nothing preloaded",
        "forkserver, workers preloaded",
    ]
    with pytest.raises(ValueError, match="methods: 'clone' is not one of spawn, fork, forkserver"):
        bench.measure_startup(["clone"])


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_seed_writes_both_ways_give_the_same_squares(ctx):
    results = bench.measure_array_writes(ctx, 1000, repeats=1)
    assert results.names() == ["loop", "bulk"]
    assert results.intact
    assert results.get("loop").size == 8000
    assert "speed-up" in str(results)


# --- reading results (no processes) --------------------------------------


def _m(name, size, seconds, *, limit=False, label=None):
    return Measurement(name, label or name, size, (seconds, seconds * 1.1, seconds * 0.9), limit)


def _synthetic_bulk():
    size = 256 * MiB
    timings = {"memcpy": 0.025, "os_pipe": 0.1, "array": 0.03, "shared_memory": 0.028,
               "pipe_bytes": 0.15, "queue": 0.3, "pipe_pickle": 0.6, "manager": 1.2}  # fmt: skip
    labels = {**bench.BULK_CHANNELS, **bench.BULK_LIMITS}
    return Results(
        "bulk",
        [_m(n, size, s, limit=n in bench.BULK_LIMITS, label=labels[n]) for n, s in timings.items()],
        repeats=3,
    )


def test_measurement_reports_median_and_spread():
    m = Measurement("x", "x", 1000, (1.0, 3.0, 2.0))
    assert (m.median, m.spread, m.throughput) == (2.0, 1.0, 500.0)
    assert m.as_dict()["samples"] == [1.0, 3.0, 2.0]


def test_goals_set_the_figures_beside_the_aims():
    startup = Results("startup", [_m("fork", 0, 0.004), _m("forkserver+preload", 0, 0.006)])
    assert bench.format_goals(_synthetic_bulk(), startup).splitlines() == [
        "no channel beats its own limit by more than 10 %: none did — met",
        "Pipe.send_bytes ≥ 60 % of the raw pipe (256 MiB): 67 % — met",
        "fastest bulk path ≥ 90 % of memcpy (256 MiB): SharedMemory + numpy: 89 % — "
        "missed on this run",
        "forkserver start+join, workers preloaded, ≤ 2× fork: 1.5× fork — met",
    ]
    assert [g["met"] for g in bench.goals()] == []


def test_a_round_trip_faster_than_its_own_limit_is_named():
    latency = _synthetic_latency()
    assert bench.goals(latency=latency)[0]["figure"] == "none did"
    latency.measurements[1] = _m("pipe", 0, 4e-6, label="Pipe (duplex)")
    beaten = bench.goals(latency=latency)[0]
    assert (beaten["met"], beaten["figure"]) == (False, "Pipe (duplex) beat raw socket pair")


def test_each_channel_names_the_limit_it_is_held_to_in_json():
    held = {m["name"]: m["held_to"] for m in _synthetic_bulk().as_dict()["measurements"]}
    assert held == {
        "memcpy": None, "os_pipe": None, "array": "memcpy", "shared_memory": "memcpy",
        "pipe_bytes": "os_pipe", "queue": "os_pipe", "pipe_pickle": "os_pipe", "manager": "memcpy",
    }  # fmt: skip


def test_a_channel_faster_than_its_limit_is_named():
    bulk = _synthetic_bulk()
    bulk.measurements[4] = _m("pipe_bytes", 256 * MiB, 0.05, label="Pipe.send_bytes chunks")
    first = bench.goals(bulk)[0]
    assert first["met"] is False
    assert first["figure"] == "Pipe.send_bytes chunks at 256 MiB beat raw os.pipe"


def test_conclusions_and_guide_follow_the_numbers():
    bulk = _synthetic_bulk()
    assert bench.conclusions(bulk=bulk).splitlines() == [
        "every transfer intact: True",
        "at 256 MiB, shared memory took 28 ms, the Manager 1.20 s: shared memory was 42.9× faster",
    ]
    assert bench.decision_guide(bulk).splitlines() == [
        "Decision guide, from this run's numbers:",
        "• Big arrays (256 MiB): SharedMemory + numpy — 9.59 GB/s, 89 % of memcpy.",
        "• A stream of bytes: Pipe.send_bytes chunks — 1.79 GB/s, 67 % of raw os.pipe; "
        "5.4× the time of SharedMemory + numpy.",
        "• Not bulk data through a Manager: 0.224 GB/s at 256 MiB, "
        "43× the time of SharedMemory + numpy.",
    ]
    # The guide follows the measurements, not a script: make the Array win.
    faster_array = dataclasses.replace(bulk.get("array"), samples=(0.02, 0.02, 0.02))
    bulk.measurements[2] = faster_array
    assert "• Big arrays (256 MiB): Array + numpy" in bench.decision_guide(bulk)


def _synthetic_latency():
    labels = {**bench.LATENCY_CHANNELS, **bench.LATENCY_LIMITS}
    timings = {"socket": 8e-6, "pipe": 2e-5, "queue": 6e-5, "manager": 2.4e-5, "value": 2e-6}
    return Results(
        "latency",
        [_m(n, 0, s, limit=n == "socket", label=labels[n]) for n, s in timings.items()],
    )


def test_latency_and_startup_advice_name_the_fastest_candidate():
    startup = Results("startup", [_m("spawn", 0, 0.04), _m("fork", 0, 0.005)])
    guide = bench.decision_guide(latency=_synthetic_latency(), startup=startup)
    assert guide.splitlines()[1:] == [
        "• Small messages, request/reply: Pipe (duplex) — 20 µs per round trip "
        "(raw socket pair: 8 µs).",
        "• A flag one process raises and others wait for: an Event — wait(timeout) sleeps "
        "until set() is called (spinning on a Value answered in 2 µs, but keeps a CPU core "
        "busy the whole time).",
        "• A counter several processes update: a Value, changed under its lock "
        "(with v.get_lock(): v.value += 1).",
        "• Python objects several processes edit: a Manager — 24 µs per proxy call, 1.2× a "
        "Pipe (duplex) round trip: few calls, each doing a lot.",
        "• Starting workers: fork started one in 5 ms, spawn in 40 ms — start workers once "
        "and reuse them.",
    ]
    assert bench.conclusions(latency=_synthetic_latency(), startup=startup).splitlines() == [
        "spawn took 40 ms to start a child and join it, fork 5 ms: fork was 8× faster",
        "starting a spawn child took 2,000× as long as a duplex Pipe round trip "
        "(40 ms against 20 µs)",
    ]


def test_rows_are_plain_dicts_for_exercises():
    rows = _synthetic_bulk().rows()
    assert rows[0] == {"name": "memcpy", "kind": "limit", "size": 256 * MiB, "seconds": 0.025}
    assert {r["kind"] for r in rows} == {"limit", "channel"}


@pytest.mark.slow  # also run by notebook 05 under nbval
def test_plots_have_two_panels():
    bulk_figure = bench.plot_bulk(_synthetic_bulk())
    assert len(bulk_figure.axes) == 2
    assert len(bench.plot_latency(_synthetic_latency()).axes) == 2


def test_watchdog_turns_a_stuck_wait_into_a_timeout():
    released = threading.Event()
    with (
        pytest.raises(TimeoutError, match=r"the test wait took longer than 0\.2 s"),
        channels.watchdog(0.2, released.set, "the test wait"),
    ):
        released.wait(10)
        raise EOFError("the other side went away")


# --- the terminal version ------------------------------------------------


def test_main_prints_tables_goals_and_a_guide(ctx, capsys):
    argv = ["--experiments", "bulk", "--sizes", "1KiB,4KiB", "--channels",
            "shared_memory", "--repeats", "1", "--no-progress"]  # fmt: skip
    assert bench_main(argv) == 0
    out = capsys.readouterr().out
    assert "== bulk ==" in out and "== goals ==" in out
    assert "fastest bulk path ≥ 90 % of memcpy (4 KiB): SharedMemory + numpy" in out
    assert "Decision guide, from this run's numbers:" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "12XB"], "argument --sizes: sizes[0]: '12XB' is not a size"),
        (["--channels", "pigeon"], "argument --channels: --channels: 'pigeon' is not one of"),
        (["--repeats", "0"], "argument --repeats: --repeats must be at least 1, not 0"),
        (["--repeats", "many"], "argument --repeats: --repeats must be a whole number, not 'many'"),
        (["--timeout", "soon"], "argument --timeout: --timeout must be a number of seconds"),
        (["--experiments", "all"], "argument --experiments: --experiments: 'all' is not one of"),
        (["--start-method", "clone"], "argument --start-method: invalid choice: 'clone'"),
    ],
)
def test_main_rejects_bad_arguments_clearly(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        bench_main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_runs_from_the_terminal_and_prints_json():
    argv = [sys.executable, "-m", "helpers.bench", "--json", "--experiments", "bulk",
            "--sizes", "1KiB", "--channels", "pipe_bytes", "--repeats", "1"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"machine", "results", "goals", "intact"}
    assert report["intact"] is True
    assert report["machine"]["start_method"] in ("spawn", "fork", "forkserver")
    names = [m["name"] for m in report["results"]["bulk"]["measurements"]]
    assert names == ["memcpy", "os_pipe", "pipe_bytes"]
    measured = report["results"]["bulk"]["measurements"]
    assert {"name", "size", "median", "limit"} <= set(measured[0])
    assert report["goals"][1]["goal"].startswith("Pipe.send_bytes ≥ 60 % of the raw pipe")


def test_a_child_imports_only_the_light_workers_module():
    # Pickled by reference, a worker names its module: helpers.workers.bench.
    assert workers.pipe_sender.__module__ == "helpers.workers.bench"
    heavy = "{'numpy', 'matplotlib', 'tqdm', 'dataclasses', 'typing', 'helpers.bench.results'}"
    code = f"import helpers.workers.bench, sys; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
