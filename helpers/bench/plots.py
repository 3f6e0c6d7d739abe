"""Plots of lesson 05's results.

matplotlib's ``Figure`` directly: no pyplot state, no double display.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpers.bench.results import Results, format_size, held_to

__all__ = ["plot_bulk", "plot_latency"]


def _plain_log_axis(axis: Any, values: Sequence[float]) -> None:
    """A log y axis with plain numbers (0.01, 1, 100), starting below the smallest value."""
    from matplotlib.ticker import FuncFormatter

    axis.set_yscale("log")
    axis.set_ylim(bottom=min(values) / 3)
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    axis.grid(True, axis="y", which="major", alpha=0.3)


def _size_axis(axis: Any, sizes: Sequence[int]) -> None:
    axis.set_xscale("log", base=2)
    axis.set_xticks(list(sizes), [format_size(s) for s in sizes], rotation=45, ha="right")
    axis.minorticks_off()
    axis.set_xlabel("bytes per transfer")


def plot_bulk(bulk: Results) -> Any:
    """Speed against size (log–log), and each channel as % of memcpy at each size."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2), layout="constrained")
    speed, share = figure.subplots(1, 2)
    sizes = bulk.sizes()
    for name in bulk.names():
        points = [m for m in bulk.measurements if m.name == name]
        style = (
            {"linestyle": "--", "color": "black" if name == "memcpy" else "grey"}
            if points[0].limit
            else {"marker": "o"}
        )
        speed.plot(
            [m.size for m in points],
            [m.throughput / 1e9 for m in points],
            label=points[0].label,
            **style,
        )
        if not points[0].limit and "memcpy" in bulk.names():
            share.plot(
                [m.size for m in points],
                [bulk.percent_of(name, "memcpy", m.size) for m in points],
                marker="o",
                label=points[0].label,
            )
    for axis in (speed, share):
        _size_axis(axis, sizes)
        values = [y for line in axis.get_lines() for y in line.get_ydata()]
        _plain_log_axis(axis, values)
    speed.set_ylabel("GB/s (median)")
    speed.set_title("Child → parent: speed")
    share.set_ylabel("% of memcpy")
    share.set_title("As % of memcpy (the limit)")
    share.axhline(100, color="black", linestyle="--", linewidth=1)
    speed.legend(fontsize="small")
    return figure


def plot_latency(latency: Results) -> Any:
    """Round-trip time per channel (log), and each as % of its own limit's speed."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.8), layout="constrained")
    times, share = figure.subplots(1, 2)
    labels = [m.label for m in latency.measurements]
    colours = ["grey" if m.limit else "tab:blue" for m in latency.measurements]
    microseconds = [m.median * 1e6 for m in latency.measurements]
    times.bar(labels, microseconds, color=colours)
    _plain_log_axis(times, microseconds)
    times.set_ylabel("µs per round trip (median)")
    times.set_title("Small-message round trip")
    held = [
        (m.label, latency.percent_of(m.name, limit))
        for m in latency.measurements
        if (limit := held_to("latency", m.name)) in latency.names()
    ]
    if held:
        share.bar([label for label, _ in held], [p for _, p in held], color="tab:blue")
        share.axhline(100, color="black", linestyle="--", linewidth=1)
        _plain_log_axis(share, [p for _, p in held])
    share.set_ylabel("% of its limit's speed")
    share.set_title("Each as % of its own limit (same kind of descriptor)")
    for axis in (times, share):
        axis.tick_params(axis="x", rotation=20)
    return figure
