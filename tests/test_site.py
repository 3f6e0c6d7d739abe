"""Tests for the course's web pages: what the stored notebooks must hold for a page to show them.

The site itself is built and opened in a browser by ``tests/browser/test_site.py``
(``make site-test``); these checks read files only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _referenced(value: object) -> set[str]:
    """Model ids a widget's state points to (children, layout, style: ``IPY_MODEL_<id>``)."""
    if isinstance(value, str):
        return {value.removeprefix("IPY_MODEL_")} if value.startswith("IPY_MODEL_") else set()
    if isinstance(value, list):
        return set().union(*map(_referenced, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_referenced, value.values())) if value else set()
    return set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_a_notebook_shows_has_its_state_saved(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    shown = {
        output["data"][WIDGET_VIEW]["model_id"]
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    }
    # Everything a shown widget draws: its children, their layouts and styles, and so on.
    needed, todo = set(), list(shown)
    while todo:
        model_id = todo.pop()
        if model_id in needed:
            continue
        needed.add(model_id)
        todo.extend(_referenced(state.get(model_id, {}).get("state", {})))
    assert sorted(needed - state.keys()) == []


def test_the_readme_badge_and_the_pages_launch_the_same_repository():
    import sys

    sys.path.insert(0, str(ROOT / "site"))
    try:
        from course_site import BRANCH, repository
    finally:
        sys.path.remove(str(ROOT / "site"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badge = f"https://mybinder.org/v2/gh/{repository()}/{BRANCH}?urlpath=lab/tree/notebooks/"
    assert badge in readme


def test_the_pages_offer_the_readmes_two_commands():
    import sys

    sys.path.insert(0, str(ROOT / "site"))
    try:
        from course_site import LESSONS, RUN_LOCALLY
    finally:
        sys.path.remove(str(ROOT / "site"))
    assert RUN_LOCALLY == ["make lab", "make test"]
    on_disk = sorted(f"notebooks/{p.name}" for p in NOTEBOOKS)
    assert sorted(LESSONS) == on_disk
