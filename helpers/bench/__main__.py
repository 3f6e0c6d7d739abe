"""The terminal version of lesson 05: ``python -m helpers.bench``.

Runs the chosen experiments and prints their tables, this run's figures
beside the course's goals, and a decision guide (or everything as JSON with
``--json``, for comparing machines). Exit status 0 when every transfer
arrived intact.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from helpers.bench.advice import decision_guide, format_goals, goals
from helpers.bench.experiments import (
    MAX_REPEATS,
    TRANSFER_TIMEOUT,
    measure_bulk,
    measure_chunks,
    measure_first_touch,
    measure_seed_writes,
    require_names,
    require_sizes,
)
from helpers.bench.latency import MAX_ROUND_TRIPS, measure_latency
from helpers.bench.results import BULK_CHANNELS, DEFAULT_REPEATS, FULL_SIZES, Results
from helpers.bench.startup import measure_startup
from helpers.context import START_METHODS, get_context, usable_cpu_count
from helpers.validation import require_positive_int, require_timeout
from helpers.workers.bench import MiB

if TYPE_CHECKING:
    from helpers.context import Context

__all__ = ["EXPERIMENTS", "main"]

EXPERIMENTS = ("bulk", "latency", "startup", "seed", "first-touch", "chunks")


def _argument(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Turn our TypeError/ValueError into argparse's clean "error: argument ..." line."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.bench",
        description="Measure every channel of the course against this machine's limits.",
    )
    parser.add_argument(
        "--sizes",
        type=_argument(lambda t: require_sizes(t.split(","))),
        default=list(FULL_SIZES),
        help="comma-separated sizes for the bulk test, e.g. 64KiB,4MiB (default 1 KiB … 256 MiB)",
    )
    parser.add_argument(
        "--channels",
        type=_argument(lambda t: require_names(t, BULK_CHANNELS, "--channels")),
        default=list(BULK_CHANNELS),
        help="comma-separated bulk channels: " + ", ".join(BULK_CHANNELS),
    )
    parser.add_argument(
        "--experiments",
        type=_argument(lambda t: require_names(t, {e: e for e in EXPERIMENTS}, "--experiments")),
        default=list(EXPERIMENTS),
        help="comma-separated: " + ", ".join(EXPERIMENTS) + " (default: all)",
    )
    parser.add_argument(
        "--repeats",
        type=_argument(
            lambda t: require_positive_int(_int(t, "--repeats"), "--repeats", maximum=MAX_REPEATS)
        ),
        default=DEFAULT_REPEATS,
        help=f"timed repeats per measurement (default {DEFAULT_REPEATS})",
    )
    parser.add_argument(
        "--round-trips",
        type=_argument(
            lambda t: require_positive_int(
                _int(t, "--round-trips"), "--round-trips", maximum=MAX_ROUND_TRIPS
            )
        ),
        default=2000,
        help="round trips per latency repeat (default 2000)",
    )
    parser.add_argument(
        "--timeout",
        type=_argument(lambda t: require_timeout(_float(t, "--timeout"), "--timeout")),
        default=TRANSFER_TIMEOUT,
        help=f"seconds allowed for any one transfer or wait (default {TRANSFER_TIMEOUT:g})",
    )
    parser.add_argument(
        "--start-method",
        choices=START_METHODS,
        default=None,
        help="default: COURSE_START_METHOD, else spawn",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (for comparing machines)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None


def _run_experiments(args: argparse.Namespace, ctx: Context) -> dict[str, Results]:
    progress = False if args.no_progress else None
    common = {"repeats": args.repeats, "timeout": args.timeout}
    focus = min(max(args.sizes), 64 * MiB)  # first touch and chunks: one size
    runs: dict[str, Callable[[], Results]] = {
        "bulk": lambda: measure_bulk(
            ctx, args.sizes, channels=args.channels, progress=progress, **common
        ),
        "latency": lambda: measure_latency(ctx, round_trips=args.round_trips, **common),
        "startup": lambda: measure_startup(**common),
        "seed": lambda: measure_seed_writes(ctx, **common),
        "first-touch": lambda: measure_first_touch(ctx, focus, **common),
        "chunks": lambda: measure_chunks(ctx, focus, progress=progress, **common),
    }
    return {name: runs[name]() for name in args.experiments}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen experiments and print tables (or JSON); 0 when every transfer was intact."""
    args = _parser().parse_args(argv)
    ctx = get_context(args.start_method)
    results = _run_experiments(args, ctx)
    intact = all(r.intact for r in results.values())
    if args.json:
        report = {
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),  # what the machine reports
                "usable_cpus": usable_cpu_count(),  # what this process can keep busy
                "start_method": ctx.get_start_method(),
            },
            "results": {name: r.as_dict() for name, r in results.items()},
            "goals": goals(results.get("bulk"), results.get("startup"), results.get("latency")),
            "intact": intact,
        }
        print(json.dumps(report, indent=2))
        return 0 if intact else 1
    print(
        f"start method: {ctx.get_start_method()}; {usable_cpu_count()} usable CPUs "
        f"of {os.cpu_count()}; "
        f"Python {platform.python_version()}"
    )
    for name, result in results.items():
        print(f"\n== {name} ==\n{result}")
    if "bulk" in results or "startup" in results:
        print(
            "\n== goals ==\n"
            + format_goals(results.get("bulk"), results.get("startup"), results.get("latency"))
        )
    guide = decision_guide(
        results.get("bulk"),
        results.get("latency"),
        results.get("startup"),
        results.get("first-touch"),
    )
    print("\n" + guide)
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())
