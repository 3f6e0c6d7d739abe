"""Tests for the browser-test driver itself, on a throwaway notebook built here.

The notebook holds one of everything the course's checks rely on: a printed
result, a cell raising on purpose, a harmless stderr warning, a playground
(a text box and a slider, and a button whose handler prints into an
``Output``), and — last — an error nobody meant. The driver must find exactly
that error, see the results, and time the playground's runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from .lab_notebook import RAISES_TAG

pytestmark = pytest.mark.browser

_CELLS = [
    "import sys\nfrom ipywidgets import Button, IntSlider, Output, Text, VBox",
    "print('squares:', [n * n for n in [1, 2, 3, 4]])",
    "raise ValueError('raised on purpose')",
    "print('only a warning', file=sys.stderr)",
    "def squares(numbers: str, repeat: int) -> str:\n"
    "    values = [int(part) for part in numbers.split(',')]\n"
    "    return f'sum of squares x{repeat}: {sum(v * v for v in values) * repeat}'",
    "numbers = Text('1, 2, 3, 4', description='numbers')\n"
    "repeat = IntSlider(1, min=1, max=5, description='repeat')\n"
    "run, out = Button(description='Run'), Output()\n"
    "def on_run(_):\n"
    "    with out:\n"
    "        out.clear_output()\n"
    "        print(squares(numbers.value, repeat.value))\n"
    "run.on_click(on_run)\n"
    "VBox([numbers, repeat, run, out])",
    "1 / 0  # the mistake the driver must report",
]


@pytest.fixture
def toy_notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Toy")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in _CELLS]
    for cell in nb.cells:
        if cell.source.startswith("raise ValueError"):
            cell.metadata["tags"] = [RAISES_TAG]  # the cell that raises on purpose
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_driver_sees_results_errors_and_widget_round_trips(open_notebook, toy_notebook):
    notebook = open_notebook(toy_notebook)
    cells = notebook.run_all()

    # Only the unplanned ZeroDivisionError counts; the tagged raise and the warning do not.
    with pytest.raises(AssertionError) as failure:
        notebook.assert_ran_cleanly(cells)
    problems = str(failure.value).splitlines()[1:]
    mistake = "cell 7 ('1 / 0  # the mistake the driver must report')"
    assert problems == [f"unexpected error in {mistake}: ZeroDivisionError: division by zero"]
    notebook.assert_ran_cleanly(cells[:-1])

    notebook.expect_output("squares: [1, 4, 9, 16]\n")

    playground = notebook.playground("numbers")
    typed = playground.round_trip({"numbers": "2, 3"}, "sum of squares x1: 13")
    slid = playground.round_trip({"repeat": 3}, re.compile(r"^sum of squares x3: 39$"))
    assert typed > 0 and slid > 0

    # A bad value makes the function behind the widget raise: the page shows it.
    playground.set("numbers", "2, x")
    playground.run_button.click()
    playground.output.get_by_text("ValueError").first.wait_for()
    by_index = {cell.index: cell for cell in notebook.cells()}
    assert by_index[6].shown_tracebacks  # the playground's cell
    notebook.screenshot("after-widgets", show=playground.root)
