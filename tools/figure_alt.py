"""Give every matplotlib figure a notebook shows a text alternative that says what it shows.

``tools/run_notebooks.py`` has the kernel call ``install`` before the first cell
(in a namespace of its own: the notebook sees none of these names). From
then on, each figure displayed carries ``{"image/png": {"alt": "…"}}`` in its
output's metadata, written from the figure's own words: its titles, what each axis
measures, the rows it names and its legend. The course's web pages put it in the
image's ``alt``; JupyterLab and nbval ignore it, and the picture is unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

LIMIT = 400  # characters: a screen reader reads all of it


def _texts(labels: Any) -> list[str]:
    return [label.get_text().strip() for label in labels if label.get_text().strip()]


def _is_number(text: str) -> bool:
    try:
        float(text.replace("\N{MINUS SIGN}", "-").replace(",", ""))
    except ValueError:
        return False
    return True


def _describe_axes(ax: Any) -> str:
    from matplotlib.patches import Rectangle  # noqa: PLC0415 - only once a figure exists

    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    kind = "bar chart" if bars and not ax.lines else "line chart" if ax.lines else "chart"
    title = " ".join(_texts([ax.title, ax._left_title, ax._right_title]))
    x, y = ax.get_xlabel().strip(), ax.get_ylabel().strip()
    words = [f"{title}: a {kind}" if title else f"A {kind}"]
    if y and x:
        words.append(f"of {y} against {x}")
    elif x or y:
        words.append(f"of {x or y}")
    rows = _texts(ax.get_yticklabels())
    if rows and not all(map(_is_number, rows)):
        words.append("with rows " + ", ".join(rows))
    columns = _texts(ax.get_xticklabels())
    if columns and not all(map(_is_number, columns)):
        words.append("with columns " + ", ".join(columns))
    legend = ax.get_legend()
    if legend is not None and _texts(legend.get_texts()):
        words.append("(key: " + ", ".join(_texts(legend.get_texts())) + ")")
    return " ".join(words)


def describe(figure: Any) -> str:
    """One or two sentences from the figure's titles, axes, rows and legend."""
    parts = []
    suptitle = figure._suptitle.get_text().strip() if figure._suptitle else ""
    if suptitle:
        parts.append(suptitle)
    for ax in figure.get_axes():
        if ax.get_visible() and ax.axison:
            parts.append(_describe_axes(ax))
    text = ". ".join(parts) or "A chart"
    return text if len(text) <= LIMIT else text[: LIMIT - 1].rstrip() + "…"


def install(shell: Any) -> None:
    """Wrap the shell's display formatter so a figure's image carries its description."""
    formatter = shell.display_formatter
    original = formatter.format

    def format_with_alt(obj: Any, *args: Any, **kwargs: Any) -> Any:
        data, metadata = original(obj, *args, **kwargs)
        figure_module = sys.modules.get("matplotlib.figure")
        if figure_module is not None and isinstance(obj, figure_module.Figure):
            for mime in ("image/png", "image/jpeg", "image/svg+xml"):
                if mime in data:
                    metadata.setdefault(mime, {})["alt"] = describe(obj)
        return data, metadata

    formatter.format = format_with_alt
