"""The course's web pages, built and opened in headless Chromium (``make test-site``).

Builds the site as ``make site`` does, serves it on 127.0.0.1 and opens every
page. Each page must load with no console error and nothing fetched from
another site; show every stored image, each with a text alternative; draw at
least one widget per lesson from the saved state (not a "loading" placeholder)
and every Mermaid diagram; link only to places that exist; and pass axe-core
with no critical or serious violation. Screenshots of the home page and of a
lesson's widget go to ``test-artifacts/site/``.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "site" / "_build" / "html"
ARTIFACTS = REPO / "test-artifacts" / "site"
sys.path.insert(0, str(REPO / "site"))

from course_site import LESSONS  # noqa: E402 - site/ is on the path only now

pytestmark = [pytest.mark.browser, pytest.mark.site]

PAGES = ["index.html"] + [lesson.replace(".ipynb", ".html") for lesson in LESSONS]
# Lessons (00 to 89) each have a playground; references and appendices (9x) need none.
LESSON = re.compile(r"notebooks/[0-8]\d_")
SERIOUS = {"critical", "serious"}
# The lesson whose playground is photographed (the queue's, while there is one).
SCREENSHOT_LESSON = next((p for p in PAGES if "03_queue" in p), PAGES[-1])
# What an image's alt must not be: empty, or a file's name (Sphinx's fallback).
FILENAME = re.compile(r".*\.(png|jpe?g|svg|gif)$|^[0-9a-f]{32,}", re.IGNORECASE)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(chromium_executable: str) -> Iterator[str]:
    """Build the site (as ``make site``), then serve it on 127.0.0.1 until the module ends."""
    python = sys.executable
    subprocess.run([python, "site/vendor.py"], cwd=REPO, check=True)
    build = subprocess.run(
        [
            python,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-c",
            "site",
            "-b",
            "html",
            ".",
            BUILT,
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, f"the site does not build cleanly:\n{build.stderr}"
    handler = functools.partial(_Quiet, directory=str(BUILT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def site_artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


def _open(page, url: str) -> tuple[list[str], list[str]]:
    """Load ``url``; return the console errors and the requests that left 127.0.0.1."""
    errors: list[str] = []
    elsewhere: list[str] = []
    origin = urlparse(url).netloc
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.on(
        "request",
        lambda r: (
            None
            if urlparse(r.url).netloc == origin or r.url.startswith(("data:", "blob:"))
            else elsewhere.append(r.url)
        ),
    )
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return errors, elsewhere


@pytest.mark.parametrize("name", PAGES)
def test_page(name: str, page, site_url: str, site_artifacts: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    url = urljoin(site_url, name)
    errors, elsewhere = _open(page, url)
    notebook = name != "index.html"
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if LESSON.match(name):
        assert views >= 1, "a lesson without a widget on its page"

    if views:
        # Drawn from the saved state: real controls, and no placeholder left behind.
        # (Some widgets are drawn hidden on purpose, until their playground shows them.)
        page.locator(".cell_output .jupyter-widgets:visible").first.wait_for(timeout=20_000)
        views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        drawn = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                   'script[type="application/vnd.jupyter.widget-view+json"]'))
                 .filter(s => s.parentElement.querySelector('.jupyter-widgets')).length"""
        )
        assert drawn == views, f"{views - drawn} of {views} widgets not drawn"
        placeholders = page.get_by_text(re.compile(r"Loading widget|Error rendering")).count()
        assert placeholders == 0
    if notebook:
        diagrams = page.locator("pre.mermaid").count()
        if diagrams:
            page.wait_for_function(
                "n => document.querySelectorAll('pre.mermaid svg').length === n",
                arg=diagrams,
                timeout=20_000,
            )
        for label in ("Open it on Binder", "Download the notebook", "Run it on your machine"):
            assert page.get_by_text(label).count() == 1, f"no {label!r} on the page"

    # The pictures stored in the page's outputs (an Image widget shows what its saved state
    # holds, which may be nothing yet: the widgets were checked above).
    images = page.evaluate(
        """() => Array.from(document.querySelectorAll('article img'))
             .filter(i => !i.closest('.jupyter-widgets')).map(i => ({
               src: i.getAttribute('src'), alt: i.alt, shown: i.complete && i.naturalWidth > 0,
           }))"""
    )
    assert [i["src"] for i in images if not i["shown"]] == []
    assert [i["src"] for i in images if not i["alt"].strip() or FILENAME.match(i["alt"])] == []

    _check_links(page, url, site_url)
    # Before axe runs: it fetches the style sheets again itself, and resolves their
    # @import lines against the page rather than the sheet (404s that are axe's own).
    page_errors, page_elsewhere = list(errors), list(elsewhere)

    violations = [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['target']})"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert violations == []

    if name == "index.html":
        page.screenshot(path=site_artifacts / "home.png")
    elif name == SCREENSHOT_LESSON:
        widget = page.locator(".cell_output .jupyter-widgets").first
        widget.scroll_into_view_if_needed()
        page.screenshot(path=site_artifacts / "lesson-widget.png")
    assert page_errors == []
    assert page_elsewhere == [], "the page fetched from another site"


# {address within the site: the ids its page holds}, shared by the pages (they link alike).
_ids_of: dict[str, set[str]] = {}


def _check_links(page, url: str, site_url: str) -> None:
    """Every link within the site leads to a page that exists, and to an anchor on it."""
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    broken = []
    ids_of = _ids_of
    for href in sorted(set(hrefs)):
        if not href.startswith(site_url):  # another site: not fetched (the run is offline)
            continue
        target, fragment = urldefrag(href)
        if target not in ids_of:
            response = page.request.get(target)
            if not response.ok:
                broken.append(f"{href} (HTTP {response.status})")
                ids_of[target] = set()
                continue
            body = response.text() if "html" in response.headers.get("content-type", "") else ""
            ids_of[target] = set(re.findall(r'\sid="([^"]+)"', body))
        if fragment and fragment not in ids_of[target]:
            broken.append(f"{href} (no #{fragment} there)")
    assert broken == [], f"links on {url} that lead nowhere"
