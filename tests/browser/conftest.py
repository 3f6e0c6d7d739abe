"""Fixtures for the browser tests: Chromium, a private JupyterLab, a fresh copy per notebook.

These tests run only with ``pytest -m browser`` (``make test-browser``); the
default ``pytest`` deselects them. They drive Debian's Chromium (or the one
``COURSE_CHROMIUM`` names) through pytest-playwright. Without Chromium they are
skipped — unless ``COURSE_REQUIRE_BROWSER=1`` (CI), where that is a failure.

Nothing here imports Playwright at module level, so collecting the default
suite stays as fast as before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pytest

from .lab_notebook import LabNotebook
from .lab_server import LabServer

REPO = Path(__file__).resolve().parents[2]
# Screenshots, the server's log and the timings; gitignored.
ARTIFACTS = REPO / "test-artifacts" / "browser"

CHROMIUM_ENV = "COURSE_CHROMIUM"
REQUIRE_ENV = "COURSE_REQUIRE_BROWSER"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# What Debian's Chromium needs to run headless as root in a container, and
# what keeps it from phoning home during a test.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 960}
# The goal for a playground's median round trip under spawn (a benchmark figure,
# printed beside the measurement, never asserted). Lessons 05 to 09 are exempt:
# their playgrounds run measured work or timed demonstrations on purpose.
ROUND_TRIP_GOAL_MS = 300.0
NO_GOAL = ("05", "06", "07", "08", "09")


@dataclass
class Timings:
    """Per notebook: how long Run All took, and each widget round trip (a benchmark only)."""

    run_all_s: dict[str, float] = field(default_factory=dict)
    round_trips_ms: dict[str, list[float]] = field(default_factory=dict)


_timings = pytest.StashKey[Timings]()
_used = pytest.StashKey[bool]()  # set once a browser test has asked for the artifacts folder


# -- Chromium ---------------------------------------------------------------


def _find_chromium() -> str | None:
    named = os.environ.get(CHROMIUM_ENV, "").strip()
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            pytest.fail(f"{CHROMIUM_ENV}={named!r} is not an executable file", pytrace=False)
        return named
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path to Chromium; skips the browser tests when there is none (fails if required)."""
    found = _find_chromium()
    if found is None:
        reason = (
            "Chromium not found: install it (Debian/Ubuntu: apt-get install chromium) or set "
            f"{CHROMIUM_ENV}=/path/to/chromium; Playwright's own download is not used"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, chromium_executable: str) -> dict:
    """pytest-playwright's launch options, pointed at the system Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def base_url() -> None:
    """No fixed base URL: each test opens the private server's URL with its token.

    (Defined here also because pytest-playwright's own version triggers a
    deprecation warning in pytest 9.)
    """
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


# -- JupyterLab ---------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    # Start empty, so every file there comes from this run.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    pytestconfig.stash[_used] = True  # so the end-of-run summary names the folder
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_server(
    chromium_executable: str, artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """One private ``jupyter lab`` for the whole run, stopped by PID at the end.

    It depends on ``chromium_executable`` so that, without a browser, the
    tests are skipped before a server is started for nothing.
    """
    server = LabServer(
        root=tmp_path_factory.mktemp("lab-root"),
        state=tmp_path_factory.mktemp("lab-state"),
        log_path=artifacts / "jupyter-lab.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _copy_for_test(source: Path, root: Path, name: str) -> str:
    """Copy ``source`` under ``root`` as the learner would run it; return its path from root.

    The copy sits in a ``notebooks/`` folder whose siblings mirror the
    repository's top level (by symlink), so relative paths in a notebook work.
    Stored outputs are cleared, so whatever the test sees comes from this run;
    nothing else changes (cell tags stay exactly as the repository ships them).
    """
    work = root / name
    (work / "notebooks").mkdir(parents=True)
    for entry in REPO.iterdir():
        if not entry.name.startswith(".") and entry.name != "notebooks":
            (work / entry.name).symlink_to(entry)
    nb = nbformat.read(source, as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
    nbformat.write(nb, work / "notebooks" / source.name)
    return f"{name}/notebooks/{source.name}"


@pytest.fixture
def open_notebook(
    request: pytest.FixtureRequest, page, lab_server: LabServer, artifacts: Path
) -> Iterator[Callable[[Path], LabNotebook]]:
    """Open a fresh copy of a notebook in JupyterLab; afterwards shut its kernel down.

    On failure a screenshot of the page is kept in test-artifacts/browser/.
    """
    opened: list[LabNotebook] = []

    def _open(source: Path) -> LabNotebook:
        name = re.sub(r"\W+", "-", request.node.name).strip("-")
        relative = _copy_for_test(source, lab_server.root, name)
        notebook = LabNotebook(
            page,
            lab_server.url_for(relative, workspace=name),
            artifacts=artifacts,
            name=source.stem,
        )
        notebook.open()
        opened.append(notebook)
        return notebook

    yield _open

    report = getattr(request.node, "_course_call_report", None)
    if report is not None and report.failed:
        for notebook in opened:
            try:
                print(f"\nscreenshot of the failure: {notebook.screenshot('failed')}")
            except Exception as error:  # a crashed page: the test's own error says more
                print(f"\nno screenshot of the failure: {error}")
    page.close()
    lab_server.shutdown_kernels()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item._course_call_report = report  # type: ignore[attr-defined]
    return report


# -- Timings -----------------------------------------------------------------


@pytest.fixture(scope="session")
def timings(pytestconfig: pytest.Config) -> Timings:
    """Where tests note their timings; printed at the end of the run, never asserted."""
    return pytestconfig.stash.setdefault(_timings, Timings())


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if not config.stash.get(_used, False):
        return  # no browser test ran (the default `pytest`): say nothing
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "browser tests")
    write(f"screenshots and server log: {ARTIFACTS}")
    noted = config.stash.get(_timings, Timings())
    trips = {name: ms for name, ms in noted.round_trips_ms.items() if ms}
    if not trips:
        return
    method = os.environ.get("COURSE_START_METHOD", "").strip() or "spawn"
    write(f"widget round trip, input -> new result on screen (start method {method}):")
    for name, ms in trips.items():
        ran = noted.run_all_s.get(name)
        median = statistics.median(ms)
        verdict = "met" if median <= ROUND_TRIP_GOAL_MS else "missed"
        goal = (
            "no goal: it runs measured work on purpose"
            if name.startswith(NO_GOAL)
            else f"goal <= {ROUND_TRIP_GOAL_MS:.0f} ms: {verdict}"
        )
        write(
            f"  {name:<26} median {median:7.1f} ms"
            f"  (min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)})"
            + (f"   run all {ran:5.1f} s" if ran is not None else "")
            + f"   {goal}"
        )
    summary = {
        "start_method": method,
        "median_round_trip_ms": {name: statistics.median(ms) for name, ms in trips.items()},
        **asdict(noted),
    }
    (ARTIFACTS / "timings.json").write_text(json.dumps(summary, indent=2) + "\n")
