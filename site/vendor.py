"""Copy what the pages need to draw widgets and diagrams from npm packages into the site.

Usage: python site/vendor.py   (``make site`` runs it before Sphinx)

``@jupyter-widgets/html-manager`` 1.x (the version for ipywidgets 8) draws the
widgets from the state saved in a notebook; it is loaded by ``require.js``. Both
come from the npm registry at the versions pinned below, each checked against its
published sha512 before use, and land in ``site/_build/vendor/widgets/``. The
lessons' Mermaid diagrams are drawn by ``mermaid``, at the version JupyterLab 4.6
draws them with. The pages load all of it from the site itself, never from a CDN.
Once vendored, a build needs no network; the packages are fetched again only when
a pin changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SITE = Path(__file__).resolve().parent
VENDOR = SITE / "_build" / "vendor"
STAMP = SITE / "_build" / "vendor.json"  # beside the files, not among them

# name: (version, the npm registry's integrity for its tarball)
PACKAGES = {
    "@jupyter-widgets/html-manager": (
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    ),
    "requirejs": (
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
    ),
    "mermaid": (
        "11.16.1",
        "sha512-TQsq6u22fAn3rek5VOubrhKPo1g5hwC3FXUN9hiyupTckcYiGuuKGkNQrKYwGJkXUxZdojwRG46gsSCFZMDp4g==",
    ),
}


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _fetch(name: str, version: str, integrity: str, into: Path) -> Path:
    """The package's tarball, from npm's cache or the registry, checked against its pin."""
    found = subprocess.run(
        ["npm", "pack", "--json", "--prefer-offline", f"{name}@{version}"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = into / json.loads(found.stdout)[0]["filename"]
    if _integrity(tarball) != integrity:
        raise SystemExit(f"{name}@{version}: the tarball's sha512 is not the pinned one")
    return tarball


def _extract(tarball: Path, members: dict[str, str], into: Path) -> None:
    """Copy ``{path in the package: path under into}``; a folder copies what it holds."""
    with tarfile.open(tarball) as archive:
        for source, target in members.items():
            prefix = f"package/{source}"
            for member in archive.getmembers():
                inside = prefix.endswith("/") and member.name.startswith(prefix)
                if not member.isfile() or not (inside or member.name == prefix):
                    continue
                rest = member.name.removeprefix(prefix).lstrip("/")
                destination = into / target / rest if rest else into / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                extracted = archive.extractfile(member)
                assert extracted is not None
                destination.write_bytes(extracted.read())


def vendor() -> None:
    pins = {name: version for name, (version, _) in PACKAGES.items()}
    if STAMP.is_file() and json.loads(STAMP.read_text()) == pins:
        return
    shutil.rmtree(VENDOR, ignore_errors=True)
    VENDOR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        manager = _fetch(
            "@jupyter-widgets/html-manager", *PACKAGES["@jupyter-widgets/html-manager"], where
        )
        # embed-amd.js finds its fonts beside itself (the Font Awesome icons of buttons).
        _extract(manager, {"dist/": "widgets/html-manager/"}, VENDOR)
        # The other bundles are for pages without require.js; their licences file stays.
        for unused in ("embed.js", "embed.js.map", "libembed-amd.js"):
            (VENDOR / "widgets" / "html-manager" / unused).unlink()
        requirejs = _fetch("requirejs", *PACKAGES["requirejs"], where)
        _extract(requirejs, {"require.js": "widgets/require.js"}, VENDOR)
        mermaid = _fetch("mermaid", *PACKAGES["mermaid"], where)
        _extract(
            mermaid,
            {"dist/mermaid.min.js": "mermaid/mermaid.min.js", "LICENSE": "mermaid/LICENSE"},
            VENDOR,
        )
    STAMP.write_text(json.dumps(pins, indent=1) + "\n")
    print(f"vendored {', '.join(f'{n}@{v}' for n, v in pins.items())} into {VENDOR}")


if __name__ == "__main__":
    vendor()
    sys.exit(0)
