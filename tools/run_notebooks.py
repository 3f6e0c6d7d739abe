"""Re-execute notebooks in place so their stored outputs are the ones nbval checks.

Usage: python tools/run_notebooks.py notebooks/01_array_and_value.ipynb [...]

Outputs are produced under the default start method (``COURSE_START_METHOD``
is removed from the kernel's environment) and as JupyterLab shows them: the
kernel captures what children print into the cell. ``PYTEST_CURRENT_TEST`` is
removed too (ipykernel skips that capture when it is set), as the root
conftest.py removes it from the kernels the tests start.

A path inside this checkout is stored relative to it (``helpers/x.py`` in a
traceback), so no output carries the folder it ran in.

The state of every widget the notebook displays is saved in its metadata, the way
JupyterLab's "Save Widget State Automatically" does, so a page made from the
stored notebook can draw the widgets without a kernel.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# The cell tag that JupyterLab's Run All and nbval both honour for a cell meant to raise.
RAISES_TAG = "raises-exception"


def _unexpected(nb: nbformat.NotebookNode) -> list[str]:
    """Cells that raised without saying so, or said so and did not raise."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        raised = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        expected = RAISES_TAG in cell.metadata.get("tags", [])
        if raised and not expected:
            problems.append(f"cell {index} raised an error it does not expect")
        if expected and not raised:
            problems.append(f"cell {index} is tagged {RAISES_TAG} but did not raise")
    return problems


# Figures get a text alternative in their output's metadata (tools/figure_alt.py says how).
FIGURE_ALT = Path(__file__).resolve().with_name("figure_alt.py")
DESCRIBE_FIGURES = f"__import__('runpy').run_path({str(FIGURE_ALT)!r})['install'](get_ipython())"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _unsaved_widgets(nb: nbformat.NotebookNode) -> list[str]:
    """Widgets a cell displays whose state the notebook does not hold."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [
        f"cell {index} shows widget {output.data[WIDGET_VIEW]['model_id']} with no saved state"
        for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
        and output.data[WIDGET_VIEW]["model_id"] not in state
    ]


ROOT = Path(__file__).resolve().parent.parent


def _relative_paths(nb: nbformat.NotebookNode, root: Path = ROOT) -> None:
    """Write this checkout's absolute path as a relative one in every stored output.

    A traceback names the files it passed through (``/home/you/course/helpers/x.py``);
    stored as ``helpers/x.py``, it says the same on every machine and shows no one's folders.
    """
    prefix = str(root) + os.sep

    def relative(text: str) -> str:
        return text.replace(prefix, "").replace(str(root), ".")

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = relative(output.text)
            if "traceback" in output:
                output.traceback = [relative(line) for line in output.traceback]
                output.evalue = relative(output.evalue)
            data = output.get("data", {})
            if isinstance(data.get("text/plain"), str):
                data["text/plain"] = relative(data["text/plain"])


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)  # only the widgets of this run, none left from the last
    dropped = {"COURSE_START_METHOD", "PYTEST_CURRENT_TEST"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # Cells tagged raises-exception are meant to raise; any other error is refused below.
        allow_errors=True,
        # Sliders, buttons and what their Output widgets show, under metadata.widgets.
        store_widget_state=True,
        extra_arguments=[f"--IPKernelApp.exec_lines={DESCRIBE_FIGURES}"],
    )
    started = time.perf_counter()
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    problems = _unexpected(nb) + _unsaved_widgets(nb)
    if problems:
        raise SystemExit(f"{path}: not saved; " + "; ".join(problems))
    _relative_paths(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for name in argv:
        seconds = run(Path(name))
        print(f"{name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
