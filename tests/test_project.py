"""Tests for the course's own files: README links, pinned requirements, Binder setup."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


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
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    packages = [line for line in lines if not line.startswith("-")]
    unpinned = [
        line for line in packages if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line)
    ]
    assert unpinned == []
    assert "-e ." in lines
    names = {line.split("==")[0].lower() for line in packages}
    assert {"jupyterlab", "ipywidgets", "nbval", "multiprocess", "pytest"} <= names


def _pins(path):
    """``{name: version}`` for each ``name==version`` line of a requirements file."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return dict(line.lower().split("==") for line in lines if "==" in line)


def test_the_lock_pins_every_requirement_at_the_same_version():
    locked = _pins(ROOT / "constraints.txt")
    for name in ("requirements.txt", "requirements-dev.txt"):
        pins = _pins(ROOT / name)
        assert pins, f"{name} pins nothing"
        differ = {p: (v, locked.get(p)) for p, v in pins.items() if locked.get(p) != v}
        assert differ == {}, f"{name} and constraints.txt disagree (run make lock): {differ}"


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
