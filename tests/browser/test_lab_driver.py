"""Tests for the browser-test driver itself, on a throwaway notebook built here.

The notebook holds one of everything the course's checks rely on: a printed
result, a cell raising on purpose, a harmless stderr warning, an
``interact_manual`` playground with a text box and a slider, a
``continuous_update=False`` slider, and — last — an error nobody meant. The
driver must find exactly that error, see the results, and time the widgets.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from .lab_notebook import RAISES_TAG

pytestmark = pytest.mark.browser

_CELLS = [
    "import sys\nfrom ipywidgets import IntSlider, Text, interact, interact_manual",
    "print('squares:', [n * n for n in [1, 2, 3, 4]])",
    "raise ValueError('raised on purpose')",
    "print('only a warning', file=sys.stderr)",
    "def squares(numbers: str, repeat: int) -> str:\n"
    "    values = [int(part) for part in numbers.split(',')]\n"
    "    return f'sum of squares x{repeat}: {sum(v * v for v in values) * repeat}'",
    "_ = interact_manual(\n"
    "    lambda numbers, repeat: print(squares(numbers, repeat)),\n"
    "    numbers=Text('1, 2, 3, 4', description='numbers'),\n"
    "    repeat=IntSlider(1, min=1, max=5, description='repeat'),\n"
    ")",
    "_ = interact(\n"
    "    lambda base: print(f'cube of {base}: {base ** 3}'),\n"
    "    base=IntSlider(2, min=0, max=9, description='base', continuous_update=False),\n"
    ")",
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
    mistake = "cell 8 ('1 / 0  # the mistake the driver must report')"
    assert problems == [f"unexpected error in {mistake}: ZeroDivisionError: division by zero"]
    notebook.assert_ran_cleanly(cells[:-1])

    notebook.expect_output("squares: [1, 4, 9, 16]\n")

    manual = notebook.playground("numbers")
    typed = manual.round_trip({"numbers": "2, 3"}, "sum of squares x1: 13", manual=True)
    slid = manual.round_trip({"repeat": 3}, re.compile(r"^sum of squares x3: 39$"), manual=True)
    auto = notebook.playground("base")
    keyed = auto.round_trip({"base": 4}, "cube of 4: 64", manual=False)
    assert all(ms > 0 for ms in (typed, slid, keyed))

    # A bad value makes the function behind the widget raise: the page shows it.
    manual.set("numbers", "2, x")
    manual.run_button.click()
    manual.output.get_by_text("ValueError").first.wait_for()
    by_index = {cell.index: cell for cell in notebook.cells()}
    assert by_index[6].shown_tracebacks  # the interact_manual cell
    notebook.screenshot("after-widgets", show=manual.root)
