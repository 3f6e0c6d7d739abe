"""Reading lesson 05's results: conclusions, a decision guide, and the course's goals.

:func:`conclusions` prints only comparisons that hold by a wide margin on any
machine, as ``claim: True`` lines; :func:`decision_guide` names the fastest
measured candidate for each need; :func:`goals` sets this run's figures beside
what the course aims for (for the terminal version; the figures vary).

>>> NOISE, PIPE_GOAL, MEMCPY_GOAL, FORKSERVER_GOAL
(10.0, 60.0, 90.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from helpers.bench.results import (
    BULK_CHANNELS,
    Measurement,
    Results,
    duration,
    format_size,
    held_to,
    rate,
)

__all__ = [
    "FORKSERVER_GOAL",
    "GUIDE_NEEDS",
    "LIMIT_OF",
    "MEMCPY_GOAL",
    "NOISE",
    "PIPE_GOAL",
    "conclusions",
    "decision_guide",
    "format_goals",
    "goals",
    "measured",
]

# How far (in %) a channel may seem to beat its own limit before it is a bug
# in the measurement rather than noise.
NOISE = 10.0
# Pipe.send_bytes against the raw pipe it runs on, in % of its speed.
PIPE_GOAL = 60.0
# The fastest bulk path against memcpy, in %, at 256 MiB.
MEMCPY_GOAL = 90.0
# forkserver (workers preloaded) start + join against fork's, as a multiple.
FORKSERVER_GOAL = 2.0

# Which limits bound each bulk channel: every channel copies at least once
# (memcpy); those that go through a pipe cannot beat the raw pipe either.
LIMIT_OF: dict[str, tuple[str, ...]] = {
    "array": ("memcpy",),
    "shared_memory": ("memcpy",),
    "pipe_bytes": ("memcpy", "os_pipe"),
    "queue": ("memcpy", "os_pipe"),
    "pipe_pickle": ("memcpy", "os_pipe"),
    "manager": ("memcpy",),
}

# Each line of the decision guide: a need, and the channels (or start methods)
# that can meet it. The guide names whichever of them measured fastest.
GUIDE_NEEDS: dict[str, tuple[str, ...]] = {
    "big arrays": tuple(BULK_CHANNELS),
    "a stream of bytes": ("pipe_bytes", "queue", "pipe_pickle"),
    "small messages, request/reply": ("pipe", "queue"),
    "a counter several processes update": ("value",),
    "Python objects several processes edit": ("manager",),
    "starting workers": ("fork", "spawn", "forkserver", "forkserver+preload"),
}


def measured(results: Results, name: str, size: int | None = None) -> Measurement | None:
    """The measurement of ``name`` (at ``size``), or None when it was not measured."""
    try:
        return results.get(name, size)
    except KeyError:
        return None


def _fastest(results: Results, names: Iterable[str], size: int | None = None) -> Measurement | None:
    found = [m for m in (measured(results, n, size) for n in names) if m is not None]
    return min(found, key=lambda m: m.median) if found else None


def _limits_beaten(results: Results) -> list[str] | None:
    """Channels whose best beat their own limit's best by more than NOISE % (None: no limits).

    Best against best: a busy machine only ever adds time, so the fastest of
    the repeats is what each path can do. Each channel is held to the limit
    :func:`~helpers.bench.results.held_to` names, and in bulk also to memcpy
    (every channel copies at least once).
    """
    beaten, compared = [], False
    for m in results.measurements:
        limits = dict.fromkeys([held_to(results.experiment, m.name), *LIMIT_OF.get(m.name, ())])
        if results.experiment != "bulk":
            limits = dict.fromkeys([held_to(results.experiment, m.name)])
        for limit in limits:
            bound = None if limit is None else measured(results, limit, m.size or None)
            if bound is None:
                continue
            compared = True
            if 100 * bound.best / m.best > 100 + NOISE:
                where = f" at {format_size(m.size)}" if m.size else ""
                beaten.append(f"{m.label}{where} beat {bound.label}")
    return beaten if compared else None


def goals(
    bulk: Results | None = None,
    startup: Results | None = None,
    latency: Results | None = None,
) -> list[dict[str, Any]]:
    """This run's figures beside the course's goals: one dict per goal.

    Each has ``goal`` (text), ``figure`` (text, or "not measured") and ``met``
    (True, False, or None when not measured). A goal missed on a busy machine
    says so; it is not a failure of the run.
    """
    out: list[dict[str, Any]] = []

    def add(goal: str, figure: str | None, met: bool | None) -> None:
        out.append({"goal": goal, "figure": figure or "not measured", "met": met})

    if bulk is not None and bulk.measurements:
        size = max(bulk.sizes())
        beaten = _limits_beaten(bulk)
        add(
            f"no channel beats its own limit by more than {NOISE:.0f} %",
            None if beaten is None else ("; ".join(beaten) or "none did"),
            None if beaten is None else not beaten,
        )
        pipe, raw = measured(bulk, "pipe_bytes", size), measured(bulk, "os_pipe", size)
        percent = 100 * raw.median / pipe.median if pipe and raw else None
        add(
            f"Pipe.send_bytes ≥ {PIPE_GOAL:.0f} % of the raw pipe ({format_size(size)})",
            None if percent is None else f"{percent:.0f} %",
            None if percent is None else percent >= PIPE_GOAL,
        )
        best, memcpy = _fastest(bulk, BULK_CHANNELS, size), measured(bulk, "memcpy", size)
        percent = 100 * memcpy.median / best.median if best and memcpy else None
        add(
            f"fastest bulk path ≥ {MEMCPY_GOAL:.0f} % of memcpy ({format_size(size)})",
            None if percent is None or best is None else f"{best.label}: {percent:.0f} %",
            None if percent is None else percent >= MEMCPY_GOAL,
        )
    if latency is not None and latency.measurements:
        beaten = _limits_beaten(latency)
        add(
            f"no round trip beats its own limit by more than {NOISE:.0f} %",
            None if beaten is None else ("; ".join(beaten) or "none did"),
            None if beaten is None else not beaten,
        )
    if startup is not None:
        fork, preloaded = measured(startup, "fork"), measured(startup, "forkserver+preload")
        times = preloaded.median / fork.median if fork and preloaded else None
        add(
            f"forkserver start+join, workers preloaded, ≤ {FORKSERVER_GOAL:g}× fork",
            None if times is None else f"{times:.1f}× fork",
            None if times is None else times <= FORKSERVER_GOAL,
        )
    return out


def format_goals(
    bulk: Results | None = None,
    startup: Results | None = None,
    latency: Results | None = None,
) -> str:
    """The goals as lines: ``goal: figure — met / missed on this run``."""
    verdicts = {True: "met", False: "missed on this run", None: "not measured"}
    return "\n".join(
        f"{g['goal']}: {g['figure']} — {verdicts[g['met']]}" for g in goals(bulk, startup, latency)
    )


def decision_guide(
    bulk: Results | None = None,
    latency: Results | None = None,
    startup: Results | None = None,
    first_touch: Results | None = None,
) -> str:
    """ "Use X for …", each line naming the fastest measured candidate and quoting its numbers."""
    lines = []
    if bulk is not None:
        lines += _bulk_advice(bulk, first_touch)
    if latency is not None:
        lines += _latency_advice(latency)
    quick = _fastest(startup, GUIDE_NEEDS["starting workers"]) if startup else None
    if startup is not None and quick is not None:
        slow = max(startup.measurements, key=lambda m: m.median)
        lines.append(
            f"• Starting workers: {quick.label} started one in {duration(quick.median)}, "
            f"{slow.label} in {duration(slow.median)} — start workers once and reuse them."
        )
    return "Decision guide, from this run's numbers:\n" + "\n".join(lines)


def _bulk_advice(bulk: Results, first_touch: Results | None) -> list[str]:
    size = max(bulk.sizes())
    best = _fastest(bulk, GUIDE_NEEDS["big arrays"], size)
    if best is None:
        return []
    line = f"• Big arrays ({format_size(size)}): {best.label} — {rate(best.throughput)}"
    if measured(bulk, "memcpy", size) is not None:
        line += f", {bulk.percent_of(best.name, 'memcpy', size):.0f} % of memcpy"
    lines = [line + "."]
    if first_touch is not None:
        fresh, reused = first_touch.get("fresh segment"), first_touch.get("reused segment")
        lines.append(
            f"  Reuse the segment: a fresh one per transfer ran at {rate(fresh.throughput)}, "
            f"a reused one at {rate(reused.throughput)} ({format_size(fresh.size)})."
        )
    stream = _fastest(bulk, GUIDE_NEEDS["a stream of bytes"], size)
    if stream is not None:
        line = f"• A stream of bytes: {stream.label} — {rate(stream.throughput)}"
        if measured(bulk, "os_pipe", size) is not None:
            line += f", {bulk.percent_of(stream.name, 'os_pipe', size):.0f} % of raw os.pipe"
        if stream.name != best.name:
            line += f"; {stream.median / best.median:.1f}× the time of {best.label}"
        lines.append(line + ".")
    manager = measured(bulk, "manager", size)
    if manager is not None and manager.name != best.name:
        lines.append(
            f"• Not bulk data through a Manager: {rate(manager.throughput)} at "
            f"{format_size(size)}, {manager.median / best.median:.0f}× the time of {best.label}."
        )
    return lines


def _latency_advice(latency: Results) -> list[str]:
    lines = []
    best = _fastest(latency, GUIDE_NEEDS["small messages, request/reply"])
    if best is not None:
        line = f"• Small messages, request/reply: {best.label} — {duration(best.median)}"
        line += " per round trip"
        limit = held_to("latency", best.name)
        raw = None if limit is None else measured(latency, limit)
        if raw is not None:
            line += f" ({raw.label}: {duration(raw.median)})"
        lines.append(line + ".")
    value = _fastest(latency, GUIDE_NEEDS["a counter several processes update"])
    spin = f" (spinning on a Value answered in {duration(value.median)}, " if value else " ("
    lines.append(
        "• A flag one process raises and others wait for: an Event — wait(timeout) sleeps "
        f"until set() is called{spin}but keeps a CPU core busy the whole time)."
    )
    lines.append(
        "• A counter several processes update: a Value, changed under its lock "
        "(with v.get_lock(): v.value += 1)."
    )
    manager = _fastest(latency, GUIDE_NEEDS["Python objects several processes edit"])
    if manager is not None:
        line = f"• Python objects several processes edit: a Manager — {duration(manager.median)}"
        line += " per proxy call"
        if best is not None:
            line += f", {manager.median / best.median:.1f}× a {best.label} round trip"
        lines.append(line + ": few calls, each doing a lot.")
    return lines


def _faster(quick: Measurement, slow: Measurement, name: str) -> str:
    """``'fork was 15× faster'``, or ``'… slower'`` when the numbers say so."""
    ratio = slow.median / quick.median
    if ratio >= 1:
        return f"{name} was {ratio:.3g}× faster"
    return f"{name} was {1 / ratio:.3g}× slower"


def conclusions(
    bulk: Results | None = None,
    latency: Results | None = None,
    startup: Results | None = None,
    writes: Results | None = None,
    first_touch: Results | None = None,
) -> str:
    """Comparisons that hold by a wide margin on any machine, as sentences with their numbers."""
    lines = []
    if bulk is not None:
        size = max(bulk.sizes())
        lines.append(f"every transfer intact: {bulk.intact}")
        shm = _fastest(bulk, ("array", "shared_memory"), size)
        manager = measured(bulk, "manager", size)
        if shm is not None and manager is not None:
            lines.append(
                f"at {format_size(size)}, shared memory took {duration(shm.median)}, the Manager "
                f"{duration(manager.median)}: {_faster(shm, manager, 'shared memory')}"
            )
    if startup is not None:
        spawn, fork = measured(startup, "spawn"), measured(startup, "fork")
        if spawn is not None and fork is not None:
            lines.append(
                f"spawn took {duration(spawn.median)} to start a child and join it, fork "
                f"{duration(fork.median)}: {_faster(fork, spawn, 'fork')}"
            )
        plain, preloaded = measured(startup, "forkserver"), measured(startup, "forkserver+preload")
        if plain is not None and preloaded is not None and "preloaded" in plain.label:
            lines.append(
                f"forkserver took {duration(plain.median)} with nothing preloaded, "
                f"{duration(preloaded.median)} with the workers preloaded: "
                f"{_faster(preloaded, plain, 'preloaded')}"
            )
        # Milliseconds against microseconds: a ratio in the thousands on any machine.
        pipe = measured(latency, "pipe") if latency is not None else None
        if spawn is not None and pipe is not None:
            lines.append(
                f"starting a spawn child took {spawn.median / pipe.median:,.0f}× as long as "
                f"a duplex Pipe round trip ({duration(spawn.median)} against "
                f"{duration(pipe.median)})"
            )
    if writes is not None:
        faster = writes.get("bulk").median < writes.get("loop").median
        lines.append(f"one bulk write faster than element by element: {faster}")
        lines.append(f"both wrote the same squares: {writes.intact}")
    if first_touch is not None:
        fresh, reused = first_touch.get("fresh segment"), first_touch.get("reused segment")
        # The fastest of each: every sample is a round trip with a child, and on a busy
        # machine a late wake-up (milliseconds) can land in two of three samples.
        lines.append(f"reused segment faster than a fresh one: {reused.best < fresh.best}")
    return "\n".join(lines)
