"""Tests for the course's own files: README links, pinned requirements, Binder setup."""

from __future__ import annotations

import configparser
import importlib
import json
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The Pythons the course runs on (make test-pythons checks the newer two).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")


def test_every_notebook_link_in_the_readme_exists():
    links = re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", README)
    assert links, "the README's outline links no notebook"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


def test_every_notebook_on_disk_is_in_the_readme_outline():
    on_disk = {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert on_disk <= set(re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", README))


def test_binder_badge_opens_jupyterlab_at_the_first_notebook():
    badge = re.search(r"\((https://mybinder\.org/v2/gh/[^)]+)\)", README)
    assert badge is not None, "no Binder badge in the README"
    assert README.index(badge.group(1)) < README.index("## "), "the badge is not first"
    urlpath = parse_qs(urlparse(badge.group(1)).query)["urlpath"][0]
    assert urlpath.startswith("lab/tree/")
    assert (ROOT / urlpath.removeprefix("lab/tree/")).is_file()


def test_requirements_pin_exact_versions_and_install_helpers():
    lines = [
        line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    assert "-e ." in lines
    requirements = _requirements(ROOT / "requirements.txt")
    unpinned = [str(r) for r in requirements if [s.operator for s in r.specifier] != ["=="]]
    assert unpinned == []
    names = {canonicalize_name(r.name) for r in requirements}
    assert {"jupyterlab", "ipywidgets", "nbval", "multiprocess", "pytest"} <= names


def _requirements(path: Path) -> list[Requirement]:
    """The requirements in ``path``, parsed by ``packaging`` (options and comments left out)."""
    lines = (line.split(" #")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def _pins(path: Path, python: str | None = None) -> dict[str, str]:
    """``{name: version}`` of each exact pin in ``path`` that applies on ``python`` (or any)."""
    pins: dict[str, str] = {}
    for requirement in _requirements(path):
        if python is not None and requirement.marker is not None:
            environment = {"python_version": python, "python_full_version": f"{python}.0"}
            if not requirement.marker.evaluate(environment):
                continue
        (pin,) = (spec.version for spec in requirement.specifier if spec.operator == "==")
        assert canonicalize_name(requirement.name) not in pins, f"{requirement.name} pinned twice"
        pins[canonicalize_name(requirement.name)] = pin
    return pins


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_the_lock_pins_every_requirement_at_the_same_version_on_every_python(python):
    locked = _pins(ROOT / "constraints.txt", python)  # one version per package on each Python
    for name in ("requirements.txt", "requirements-dev.txt"):
        pins = _pins(ROOT / name)
        assert pins, f"{name} pins nothing"
        differ = {p: (v, locked.get(p)) for p, v in pins.items() if locked.get(p) != v}
        assert differ == {}, f"{name} and constraints.txt disagree (run make lock): {differ}"


def test_the_lock_covers_every_python_the_project_supports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    supported = SpecifierSet(project["requires-python"])
    assert all(Version(python) in supported for python in SUPPORTED_PYTHONS)
    assert not supported.contains(f"3.{int(SUPPORTED_PYTHONS[0][2:]) - 1}")  # none older


def test_developer_tools_stay_out_of_the_learners_environment():
    learner = set(_pins(ROOT / "requirements.txt"))
    assert {"playwright", "hypothesis", "ruff", "mypy", "pytest-xdist"}.isdisjoint(learner)
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def test_binder_uses_the_same_environment_and_a_supported_python():
    binder_reqs = (ROOT / "binder" / "requirements.txt").read_text()
    assert "-r ../requirements.txt" in binder_reqs.splitlines()
    assert "-c ../constraints.txt" in binder_reqs.splitlines()
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert Version(runtime.removeprefix("python-")) in SpecifierSet(project["requires-python"])


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in README
    assert re.search(r"^make test$", ci, re.M)


def test_this_interpreter_is_one_the_course_supports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    here = Version(".".join(map(str, sys.version_info[:3])))
    assert here in SpecifierSet(project["requires-python"])


def _sanitize(text):
    """``text`` as nbval compares it, through tests/sanitize.cfg's rules in order."""
    rules = re.findall(
        r"^regex: (.*)$\n^replace: (.*)$",
        (ROOT / "tests" / "sanitize.cfg").read_text(encoding="ascii"),
        flags=re.MULTILINE,
    )
    for regex, replace in rules:
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_rules_read_the_same_with_configparser():
    """tests/portability/run.py reads the rules with configparser, nbval with its own regex."""
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "sanitize.cfg", encoding="ascii")
    rules = [(config[s]["regex"], config[s]["replace"]) for s in config.sections()]
    text = (ROOT / "tests" / "sanitize.cfg").read_text(encoding="ascii")
    assert rules == re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)


def test_sanitize_rules_mask_measured_numbers_and_keep_every_word():
    claims = {
        "2 processes took 0.41 s, 2 threads 0.79 s: the processes were 1.9× faster": (
            "2 processes took TIME, 2 threads TIME: the processes were RATIO faster"
        ),
        "spawn: 41.3 ms per child, fork 1.2 ms: fork was 34× faster": (
            "spawn: TIME per child, fork TIME: fork was RATIO faster"
        ),
        "a round trip took 850 µs (12 us fastest), 3 ns of it in the lock": (
            "a round trip took TIME (TIME fastest), TIME of it in the lock"
        ),
        "copied at 1.2 GB/s and 12,000 items/s; the pipe 350 MiB/s": (
            "copied at RATE and RATE; the pipe RATE"
        ),
        "the child had 48.2 % of a CPU, the threads 95%": (
            "the child had PERCENT of a CPU, the threads PERCENT"
        ),
        "child PID 12345 (pid=12346, parent=99), PIDs: 7": (
            "child PID PID (pid=PID, parent=PID), PIDs: PID"
        ),
        # Counts and words stay: only numbers with a unit are masked.
        "3 children started, 3 joined: 2 seconds slower, 1 slow start, 4 users": (
            "3 children started, 3 joined: TIME slower, 1 slow start, 4 users"
        ),
        "processes finished first: True": "processes finished first: True",
        "began with 100 MB resident, 420 kB of page tables; 16 MiB": (
            "began with MEMORY resident, MEMORY of page tables; 16 MiB"
        ),
        "2 threads kept 1.0 CPUs busy, on 2 CPUs": "2 threads kept CPUS busy, on 2 CPUs",
    }
    assert {claim: _sanitize(claim) for claim in claims} == claims


def _heading_anchors(notebook):
    """The ids JupyterLab gives the headings of ``notebook``: their text, spaces as hyphens."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    anchors = set()
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for heading in re.findall(r"^#{1,6} +(.+?) *$", "".join(cell["source"]), re.MULTILINE):
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
            text = re.sub(r"[`*]|(?<!\w)_|_(?!\w)", "", text)  # and no markup
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_every_section_link_in_a_notebook_reaches_a_heading():
    """A link to `NN_name.ipynb#Some-heading` (or `#Some-heading`) finds that heading.

    The reference notebook links each programming guideline to the section that
    shows it: renaming a heading there breaks its link, and this says which.
    """
    broken = []
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for target, anchor in re.findall(r"\]\(([0-9]{2}_[^)#]*\.ipynb)?#([^)]+)\)", text):
            path = notebook.parent / target if target else notebook
            if not path.is_file() or unquote(anchor) not in _heading_anchors(path):
                broken.append(f"{notebook.name}: ({target}#{anchor})")
    assert broken == []


# Lessons rewritten to the lesson shape and budget in CONTRIBUTING.md ("The shape of a lesson").
WITHIN_BUDGET = {
    "00_start_here.ipynb": (45, 1800),
    "01_array_and_value.ipynb": (70, 2500),
    "02_manager.ipynb": (70, 2500),
    "03_queue.ipynb": (70, 2500),
    "04_pipe.ipynb": (70, 2500),
    "05_which_channel_when.ipynb": (70, 2500),
    "06_coordination.ipynb": (70, 2500),
    "07_shared_memory_numpy.ipynb": (70, 2500),
    "08_pools.ipynb": (70, 2500),
    "09_beyond_one_machine.ipynb": (70, 2500),
    "10_capstone_fractal_explorer.ipynb": (70, 2500),
}


def test_a_lesson_keeps_its_shape_and_budget():
    for name, (max_cells, max_words) in WITHIN_BUDGET.items():
        cells = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"]
        prose = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
        words = sum(len(text.split()) for text in prose)
        assert len(cells) <= max_cells, f"{name}: {len(cells)} cells"
        assert words <= max_words, f"{name}: {words} words of prose"
        opening = "\n".join(prose[:3])
        assert "## You will learn" in opening, f"{name}: no 'You will learn' at the start"
        assert re.search(r"About \d+ minutes", opening), f"{name}: no time estimate at the start"
        assert prose[-1].startswith("## Key points") and cells[-1]["cell_type"] == "markdown"
        assert sum("**Predict first:**" in text for text in prose) >= 2, f"{name}: predict first"


def test_contributing_maps_each_lesson_to_files_that_exist():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    rows = re.findall(r"^\| (\d\d) \| `[^`]+` \| (.+?) \| `([^`]+)` \| (.+?) \|$", text, re.M)
    assert len(rows) >= 11, "CONTRIBUTING.md has no lesson table"
    for lesson, modules, checker, tests in rows:
        # The notebook by its number, so that renaming one does not break the map.
        assert list((ROOT / "notebooks").glob(f"{lesson}_*.ipynb")), f"no notebook {lesson}_*"
        for path in [*re.findall(r"`([^`]+)`", modules), checker]:
            assert (ROOT / path).exists(), f"lesson {lesson}: {path} does not exist"
        for path in re.findall(r"`([^`]+)`", tests):
            assert (ROOT / "tests" / path).exists(), f"lesson {lesson}: tests/{path} does not exist"


def test_each_lesson_module_names_its_lesson_first():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for lesson, parent in re.findall(r"^\| (\d\d) \| `[^`]+` \| `helpers/([a-z_]+)", text, re.M):
        module = importlib.import_module(f"helpers.{parent}")
        first = (module.__doc__ or "").splitlines()[0]
        assert first.startswith(f"Lesson {lesson} ("), f"helpers.{parent}: {first!r}"
