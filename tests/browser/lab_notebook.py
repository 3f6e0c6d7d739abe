"""Drive one notebook in JupyterLab the way a learner does: open, run all, play.

`LabNotebook` clicks through JupyterLab's own menus and reads what the page
shows. Where the screen is ambiguous — an error and a warning are both drawn as
red stderr — it also reads the notebook model through ``window.jupyterapp``
(the server exposes it for these tests) so a check never guesses from colours.

`Playground` finds a widget playground by the ``description`` of one of its
controls, changes controls the way a hand would (typing, arrow keys on a
slider, picking from a list, clicking), presses the run button and measures
the round trip from that input to the new result on screen.

Playwright itself is imported only inside methods, never when the module is
collected; at the top it is named for the type checker alone.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

__all__ = ["CellState", "LabNotebook", "Playground"]

OPEN_TIMEOUT_MS = 90_000
RUN_ALL_TIMEOUT_MS = 240_000
ROUND_TRIP_TIMEOUT_MS = 60_000
OUTPUT_TIMEOUT_MS = 10_000
MAX_SLIDER_STEPS = 200
# A playground is settled when its kernel has been idle this long: a click or a
# committed text box may have started a run whose "busy" has not arrived yet.
SETTLE_MS = 400

RAISES_TAG = "raises-exception"
# How a widget row is recognised; anything else is a text box.
_CONTROL_KINDS = [
    ("slider", ".noUi-handle"),
    ("choice", "select"),
    ("checkbox", "input[type=checkbox]"),
]
# How IPython heads a traceback; a warning written to stderr has no such line.
_TRACEBACK_MARK = "Traceback (most recent call last)"

# The notebook panel on screen and its code cells, as the app sees them.
_JS_PANEL = "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
_JS_KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""
# An idle kernel alone means nothing: during Run All it is idle between cells,
# and a cell not yet sent shows an empty prompt. The run is over when every
# non-empty code cell has a count, or when an unplanned error has stopped it
# (the cells after it never get one).
_JS_RUN_FINISHED = f"""() => {{
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  let stopped = false;
  for (const cell of panel.content.widgets) {{
    if (cell.model.type !== 'code' || cell.model.sharedModel.getSource().trim() === '') continue;
    if (cell.node.querySelector('.jp-InputPrompt').textContent.trim() === '[*]:') return false;
    if (cell.model.executionCount === null && !stopped) return false;
    const planned = (cell.model.getMetadata('tags') || []).includes('{RAISES_TAG}');
    const failed = cell.model.outputs.toJSON().some(o => o.output_type === 'error');
    stopped = stopped || (failed && !planned);
  }}
  return true;
}}"""
_JS_CELLS = """(mark) => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets
    .map((cell, index) => ({cell, index}))
    .filter(({cell}) => cell.model.type === 'code')
    .map(({cell, index}) => ({
      index,
      first_line: cell.model.sharedModel.getSource().split('\\n')[0],
      empty: cell.model.sharedModel.getSource().trim() === '',
      execution_count: cell.model.executionCount,
      tags: cell.model.getMetadata('tags') || [],
      model_errors: cell.model.outputs.toJSON()
        .filter(o => o.output_type === 'error')
        .map(o => `${o.ename}: ${o.evalue}`),
      // What the learner sees, widget outputs included: a red block holding a traceback.
      shown_tracebacks: [...cell.node.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(node => node.textContent)
        .filter(text => text.includes(mark)),
    }));
}"""
# Every status the kernel reports is heard (not sampled): the last non-idle
# moment is kept, and the kernel is settled once it is idle and that moment is
# ``quiet`` ms ago.
_JS_SETTLED = """(quiet) => {
  const context = window.jupyterapp.shell.currentWidget.sessionContext;
  if (!window.__courseBusy) {
    window.__courseBusy = {last: performance.now()};
    context.statusChanged.connect((_, status) => {
      if (status !== 'idle') window.__courseBusy.last = performance.now();
    });
  }
  const kernel = context.session && context.session.kernel;
  if (!kernel || kernel.status !== 'idle') window.__courseBusy.last = performance.now();
  return performance.now() - window.__courseBusy.last >= quiet;
}"""
# Text to look for is either plain (found verbatim, newlines and spaces included)
# or a regular expression, always multi-line: {"text": ..., "pattern": ...}.
_JS_MATCHES = """(text, m) => m.pattern === null
    ? text.includes(m.text) : new RegExp(m.pattern, 'm').test(text)"""
# The first cell output (widget outputs included) that shows the text.
_JS_FIND_OUTPUT = f"""(m) => {{
  const matches = {_JS_MATCHES};
  return [...document.querySelectorAll('.jp-Cell-outputArea .jp-OutputArea-output')]
    .find(node => matches(node.textContent, m)) || null;
}}"""
# Armed just before the input that triggers a run: the first pointer, key or
# input event starts the clock; the expected text appearing in the output stops it.
_JS_ARM_ROUND_TRIP = f"""([output, m]) => {{
  const matches = {_JS_MATCHES};
  const rt = window.__courseRoundTrip = {{start: null, end: null}};
  const starts = ['pointerdown', 'keydown', 'input'];
  const onStart = () => {{
    if (rt.start === null) rt.start = performance.now();
    starts.forEach(name => document.removeEventListener(name, onStart, true));
  }};
  starts.forEach(name => document.addEventListener(name, onStart, true));
  const observer = new MutationObserver(() => {{
    if (rt.start !== null && matches(output.textContent, m)) {{
      rt.end = performance.now();
      observer.disconnect();
    }}
  }});
  observer.observe(output, {{subtree: true, childList: true, characterData: true}});
}}"""

Expected = str | re.Pattern[str]


def _matcher(expected: Expected) -> dict[str, str | None]:
    if isinstance(expected, re.Pattern):
        return {"text": None, "pattern": expected.pattern}
    return {"text": expected, "pattern": None}


@dataclass(frozen=True)
class CellState:
    """One code cell after a run: what the model holds and what the page shows."""

    index: int
    first_line: str
    empty: bool  # JupyterLab does not send an empty cell to the kernel
    execution_count: int | None
    tags: list[str]
    model_errors: list[str]
    shown_tracebacks: list[str]

    @property
    def raises_on_purpose(self) -> bool:
        return RAISES_TAG in self.tags

    @property
    def shows_error(self) -> bool:
        return bool(self.model_errors or self.shown_tracebacks)

    @property
    def where(self) -> str:
        return f"cell {self.index} ({self.first_line!r})"

    def describe(self) -> str:
        shown = self.model_errors or [t.strip().splitlines()[-1] for t in self.shown_tracebacks]
        return f"{self.where}: {'; '.join(shown) or 'no error'}"


def _position(handle: Locator) -> float:
    return float(handle.get_attribute("aria-valuenow") or "nan")


def _exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


class LabNotebook:
    """A notebook open in JupyterLab in ``page``, served by the test's server."""

    def __init__(self, page: Page, url: str, *, artifacts: Path, name: str) -> None:
        self.page = page
        self.url = url
        self.artifacts = artifacts
        self.name = name
        self.run_all_seconds: float | None = None

    def open(self) -> None:
        """Load JupyterLab on the notebook and wait until its kernel is idle."""
        self.page.goto(self.url)
        self.page.wait_for_function(_JS_PANEL, timeout=OPEN_TIMEOUT_MS)
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=OPEN_TIMEOUT_MS)
        self.page.wait_for_function(_JS_KERNEL_IDLE, timeout=OPEN_TIMEOUT_MS)
        # More room for the notebook on screenshots: fold away the file browser.
        self.page.evaluate(
            "() => window.jupyterapp.commands.execute('application:toggle-left-area')"
        )

    def run_all(self) -> list[CellState]:
        """Run > Run All Cells from the menu bar; wait until every cell has finished."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        started = time.perf_counter()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        self.page.wait_for_function(_JS_RUN_FINISHED, timeout=RUN_ALL_TIMEOUT_MS, polling=200)
        self.run_all_seconds = time.perf_counter() - started
        return self.cells()

    def cells(self) -> list[CellState]:
        return [CellState(**c) for c in self.page.evaluate(_JS_CELLS, _TRACEBACK_MARK)]

    def assert_ran_cleanly(self, cells: list[CellState]) -> None:
        """Every code cell ran; only cells tagged raises-exception show an error, and they do."""
        problems = [
            f"{c.where} never ran" for c in cells if c.execution_count is None and not c.empty
        ]
        problems += [
            f"unexpected error in {c.describe()}"
            for c in cells
            if c.shows_error and not c.raises_on_purpose
        ]
        problems += [
            f"{c.where} is tagged {RAISES_TAG} but raised nothing"
            for c in cells
            if c.raises_on_purpose and not c.model_errors
        ]
        assert not problems, f"{self.name}:\n" + "\n".join(problems)

    def expect_output(self, expected: Expected) -> None:
        """Wait until a cell output shows ``expected``; scroll it into view; it must be visible."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            found = self.page.wait_for_function(
                _JS_FIND_OUTPUT, arg=_matcher(expected), timeout=OUTPUT_TIMEOUT_MS
            ).as_element()
        except PlaywrightError:
            raise AssertionError(f"{self.name}: no cell output shows {expected!r}") from None
        assert found is not None
        found.scroll_into_view_if_needed()
        assert found.is_visible(), f"{self.name}: the output with {expected!r} is hidden"

    def playground(self, control: str) -> Playground:
        """The widget playground (a cell's widget output) holding a control labelled ``control``."""
        label = self.page.locator(".widget-label").filter(has_text=_exact(control))
        area = self.page.locator(".jp-Cell-outputArea").filter(has=label)
        area.first.wait_for(timeout=OPEN_TIMEOUT_MS)
        return Playground(self.page, area.first)

    def screenshot(self, suffix: str, *, show: Locator | None = None) -> Path:
        if show is not None:
            show.scroll_into_view_if_needed()
        path = self.artifacts / f"{self.name}-{suffix}.png"
        self.page.screenshot(path=path)
        return path


class Playground:
    """The controls and output of one widget playground."""

    def __init__(self, page: Page, root: Locator) -> None:
        self.page = page
        self.root = root
        # A playground has one Output widget, which its button's handler writes into.
        self.output = root.locator(".widget-output").first

    def control(self, description: str) -> Locator:
        """The widget row whose label reads ``description``."""
        # `has=` is matched inside each row, so the label locator starts from the page.
        label = self.page.locator(".widget-label").filter(has_text=_exact(description))
        return self.root.locator(".widget-inline-hbox").filter(has=label).first

    def _kind(self, description: str) -> str:
        row = self.control(description)
        row.wait_for()
        for kind, selector in _CONTROL_KINDS:
            if row.locator(selector).count():
                return kind
        return "text"

    def set(self, description: str, value: object) -> None:
        """Change a control by hand: type into text, press arrow keys on a slider, pick, tick.

        A slider takes a number, or one per handle for a range slider (a
        selection slider counts its options from 0); a list takes a label, or
        several for a multiple selection. Typed text is only filled in, as a
        learner types and then clicks the run button.
        """
        several = isinstance(value, (tuple, list))
        row = self.control(description)
        kind = self._kind(description)
        if kind == "slider":
            targets = [float(v) for v in (value if several else [value])]  # type: ignore[union-attr]
            self._slide(row.locator(".noUi-handle").all(), targets, description)
        elif kind == "choice":
            labels = [str(v) for v in value] if several else str(value)  # type: ignore[union-attr]
            row.locator("select").first.select_option(label=labels)
        elif kind == "checkbox":
            row.locator("input[type=checkbox]").first.set_checked(bool(value))
        else:
            row.locator("textarea, input").first.fill(str(value))

    @staticmethod
    def _slide(handles: list[Locator], targets: list[float], description: str) -> None:
        """Arrow keys on each handle until it shows its target.

        The handles of a range cannot pass each other, so a handle that is
        blocked is tried again after the others have moved.
        """
        if len(handles) != len(targets):
            raise ValueError(f"{description!r} has {len(handles)} handle(s), not {len(targets)}")
        for _ in range(len(handles)):
            for handle, target in zip(handles, targets, strict=True):
                handle.focus()
                now = _position(handle)
                for _ in range(MAX_SLIDER_STEPS):
                    if abs(now - target) < 1e-9:
                        break
                    handle.press("ArrowRight" if now < target else "ArrowLeft")
                    now, before = _position(handle), now
                    if now == before:
                        break  # blocked by the other handle: come back to it
            shown = [_position(handle) for handle in handles]
            if all(abs(a - b) < 1e-9 for a, b in zip(shown, targets, strict=True)):
                return
        raise AssertionError(f"slider {description!r} shows {shown}, not {targets}")

    @property
    def run_button(self) -> Locator:
        """The button that runs the playground (its first), whatever it is called."""
        return self.root.locator(".widget-button").first

    def round_trip(self, changes: dict[str, object], expected: Expected) -> float:
        """Apply ``changes``, click the run button; return the ms from the click to ``expected``."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect

        self.settle()
        for description, value in changes.items():
            self.set(description, value)
        self.page.evaluate(_JS_ARM_ROUND_TRIP, [self.output.element_handle(), _matcher(expected)])
        self.run_button.click()
        try:
            self.page.wait_for_function(
                "() => window.__courseRoundTrip.end !== null", timeout=ROUND_TRIP_TIMEOUT_MS
            )
        except PlaywrightError:
            shown = self.output.text_content()
            raise AssertionError(
                f"after {changes} the playground never showed {expected!r}; it shows {shown!r}"
            ) from None
        if isinstance(expected, re.Pattern):  # as in the page: ^ and $ match at every line
            expected = re.compile(expected.pattern, expected.flags | re.MULTILINE)
        expect(self.output).to_contain_text(expected)
        times = self.page.evaluate("() => window.__courseRoundTrip")
        return float(times["end"] - times["start"])

    def settle(self) -> None:
        """Wait until the kernel has been idle for SETTLE_MS: no run is under way or on its way."""
        self.page.wait_for_function(
            _JS_SETTLED, arg=SETTLE_MS, timeout=ROUND_TRIP_TIMEOUT_MS, polling=50
        )
