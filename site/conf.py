"""Sphinx settings for the course's web pages: ``make site``.

The pages are the README (home) and every lesson notebook, drawn from the outputs
stored in the notebooks: nothing is executed. Sphinx reads the repository root
(``sphinx-build -c site . site/_build/html``) so that the README's links to
``notebooks/NN_….ipynb`` are links between pages, as they are on GitHub.

Widgets are drawn in the page from the widget state saved in each notebook, by
``@jupyter-widgets/html-manager``, which ``site/vendor.py`` copies from its npm
package into ``site/_build/vendor/`` before the build: a page loads nothing from
elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from docutils.transforms import Transform
from sphinx import addnodes

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(SITE))

from course_site import (  # noqa: E402 - the folder above is on the path only now
    BRANCH,
    LESSONS,
    RUN_LOCALLY,
    repository,
)

VENDOR = SITE / "_build" / "vendor"
REPOSITORY = repository()  # "owner/name" on GitHub, from pyproject.toml's [project.urls]
REPOSITORY_URL = f"https://github.com/{REPOSITORY}"

project = "Processes that talk"
author = "The course's authors"
copyright = "the course's authors"

extensions = ["myst_nb"]
root_doc = "README"
include_patterns = ["README.md", "notebooks/[0-9][0-9]_*.ipynb"]
exclude_patterns = [".venv*", "site", ".git", "build", "dist", "test-artifacts"]

# Pages show what is stored in the notebooks, which the test suite verified.
nb_execution_mode = "off"
# Widgets: the vendored require.js, then html-manager's loader, from this site only.
nb_ipywidgets_js = {
    "widgets/require.js": {},
    "widgets/config.js": {},
    "widgets/html-manager/embed-amd.js": {},
    "widgets/labels.js": {},
}
myst_heading_anchors = 6
myst_enable_extensions = ["colon_fence"]

html_theme = "sphinx_book_theme"
html_title = "Processes that talk"
html_static_path = [str(VENDOR), "_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
html_show_sphinx = False
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "notebook_interface": "jupyterlab",
    },
    "show_toc_level": 2,
}
html_context = {"default_mode": "light"}


# -- The course map: the README's outline, in order -------------------------------


def _add_course_map(app, docname: str, source: list[str]) -> None:
    """The home page leads through the lessons in the README's order (prev/next on each)."""
    if docname != root_doc:
        return
    entries = "\n".join(name.removesuffix(".ipynb") for name in LESSONS)
    source[0] += f"\n\n```{{toctree}}\n:hidden:\n:caption: The course\n\n{entries}\n```\n"


# -- Links to files that are not pages go to the repository ----------------------


def _repository_file(docdir: Path, uri: str) -> str | None:
    """The GitHub address of a file of the repository that is not a page, else None."""
    if not uri or "://" in uri or uri.startswith(("#", "mailto:")):
        return None
    target = (docdir / uri.split("#", maxsplit=1)[0]).resolve()
    if not target.is_relative_to(ROOT) or not target.exists() or target.suffix == ".ipynb":
        return None
    if target == ROOT / "README.md":
        return None
    kind = "tree" if target.is_dir() else "blob"
    return f"{REPOSITORY_URL}/{kind}/{BRANCH}/{quote(target.relative_to(ROOT).as_posix())}"


def _link_files_to_repository(app, doctree: nodes.document) -> None:
    """A link to ``CONTRIBUTING.md`` or ``helpers/queues.py`` opens that file on GitHub."""
    docdir = Path(app.env.doc2path(app.env.docname)).parent
    for xref in list(doctree.findall(addnodes.pending_xref)):
        target = xref.get("reftarget", "")
        if xref.get("refdomain") != "doc" or target in app.env.found_docs:
            continue
        for suffix in (".md", ""):
            address = _repository_file(ROOT, target + suffix)
            if address is not None:
                link = nodes.reference("", "", *xref.children, refuri=address)
                xref.replace_self(link)
                break
    for ref in doctree.findall(nodes.reference):
        address = _repository_file(docdir, ref.get("refuri", ""))
        if address is not None:
            ref["refuri"] = address


def _badges_as_text(app, doctree: nodes.document) -> None:
    """An image from another site (the README's Binder badge) becomes its own words.

    The pages load nothing from elsewhere; the link stays, styled as a button.
    """
    for image in list(doctree.findall(nodes.image)):
        if "://" in image["uri"]:
            words = image.get("alt") or "link"
            image.replace_self(nodes.inline("", words, classes=["badge"]))


class JupyterLabAnchors(Transform):
    """A heading also answers to JupyterLab's anchor for it: its text with spaces as ``-``.

    So a notebook's link to ``90_reference_guidelines.ipynb#More-of-the-Process-object``
    or ``#Joining-zombie-processes`` reaches the same heading on the page as in JupyterLab.
    Runs just before myst resolves ``#`` links (its slugs are also what other pages see).
    """

    default_priority = 870

    def apply(self, **kwargs: object) -> None:
        slugs = getattr(self.document, "myst_slugs", None)
        if not slugs:
            return
        for line, target, text in list(slugs.values()):
            slugs.setdefault(text.replace(" ", "-"), (line, target, text))


# -- Mermaid diagrams, drawn in the page as JupyterLab draws them ----------------


def _draw_mermaid(app, doctree: nodes.document) -> None:
    for block in list(doctree.findall(nodes.literal_block)):
        if block.get("language") == "mermaid":
            source = html.escape(block.astext())
            block.replace_self(nodes.raw("", f'<pre class="mermaid">{source}</pre>', format="html"))


# -- Alt text for the figures stored in the notebooks ---------------------------


def _figure_alt_texts(path: Path) -> dict[str, str]:
    """``{sha256 of the image: its alt text}`` for the figures a notebook stores.

    The text is written when the notebook is executed (``tools/figure_alt.py``
    reads each figure's titles, axis labels and legend); myst-nb names each
    image file after the hash of its bytes, so the two meet there. A figure
    stored before that (no text in its metadata) is described by the title its
    cell gives it, or else by the call that drew it.
    """
    texts = {}
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                data = output.get("data", {}).get(mime)
                if not data:
                    continue
                alt = output.get("metadata", {}).get(mime, {}).get("alt") or _alt_from_code(
                    "".join(cell["source"])
                )
                digest = hashlib.sha256(base64.b64decode("".join(data))).hexdigest()
                texts[digest] = alt
    return texts


def _alt_from_code(source: str) -> str:
    title = re.search(r"""title=(["'])(.+?)\1""", source)
    if title:
        return f"A chart: {title.group(2)}"
    last = [line for line in source.splitlines() if line.strip() and not line.startswith("#")]
    return f"A chart drawn by {last[-1].strip()}" if last else "A chart"


def _add_alt_texts(app, doctree: nodes.document, docname: str) -> None:
    """Runs once myst-nb has chosen which of each output's forms the page shows."""
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return
    texts = _figure_alt_texts(source)
    for image in doctree.findall(nodes.image):
        digest = Path(image["uri"]).stem
        if digest in texts and not image.get("alt"):
            image["alt"] = texts[digest]


# -- Launch box on every lesson page --------------------------------------------


def _launch_box(docname: str) -> nodes.Element:
    notebook = f"{docname}.ipynb"
    binder = (
        f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}"
        f"?urlpath={quote(f'lab/tree/{notebook}', safe='')}"
    )
    name = Path(notebook).name
    depth = docname.count("/")
    download = "../" * depth + f"_sources/{notebook}"
    commands = "\n".join(RUN_LOCALLY)
    html = (
        '<aside class="launch-box" aria-label="Run this lesson">'
        '<ul class="launch-links">'
        f'<li><a class="launch-binder" href="{binder}">Open it on Binder (JupyterLab)</a></li>'
        f'<li><a class="launch-download" href="{download}" download="{name}">'
        f"Download the notebook ({name})</a></li>"
        "</ul>"
        "<details><summary>Run it on your machine</summary>"
        f"<p>Clone <a href='{REPOSITORY_URL}'>the repository</a>, then from its folder:</p>"
        f'<pre class="launch-commands"><code>{commands}</code></pre>'
        "<p>The first sets up <code>.venv</code> and opens the course in JupyterLab; the second "
        "runs every notebook and compares what it prints with what these pages show.</p>"
        "</details></aside>"
    )
    return nodes.raw("", html, format="html")


def _add_launch_box(app, doctree: nodes.document) -> None:
    source = Path(app.env.doc2path(app.env.docname))
    if source.suffix != ".ipynb":
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next(iter(section.findall(nodes.title)))
    section.insert(section.index(title) + 1, _launch_box(app.env.docname))


def _home_page_at_index(app, exception: Exception | None) -> None:
    """The README is the home page: ``index.html`` is a copy, so the site opens at ``/``."""
    if exception is None and app.builder.format == "html":
        out = Path(app.outdir)
        shutil.copyfile(out / f"{root_doc}.html", out / "index.html")


def setup(app):
    app.connect("source-read", _add_course_map)
    app.connect("doctree-read", _link_files_to_repository)
    app.connect("doctree-read", _draw_mermaid)
    app.add_transform(JupyterLabAnchors)
    # Before require.js (myst-nb's widget loader): some of mermaid's bundled parts call
    # define() when they find an AMD loader, which require.js would refuse.
    app.add_js_file("mermaid/mermaid.min.js", priority=400)
    app.add_js_file("mermaid-start.js", priority=401)
    app.connect("doctree-resolved", _add_alt_texts)
    app.connect("doctree-read", _badges_as_text)
    app.connect("doctree-read", _add_launch_box)
    app.connect("build-finished", _home_page_at_index)
    return {"parallel_read_safe": True}
