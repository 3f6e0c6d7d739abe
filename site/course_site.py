"""What the course's web pages take from the repository: its address, lessons and commands.

One place for each: the repository's address is ``[project.urls] Repository`` in
pyproject.toml (the README's Binder badge points to the same one), the lessons and
their order are the README's outline, and the two commands are the README's quick start.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BRANCH = "main"


def repository() -> str:
    """``owner/name`` of the course's repository on GitHub."""
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    found = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", urls["Repository"])
    if found is None:
        raise ValueError(f"pyproject.toml: Repository is not a GitHub address: {urls}")
    return found.group(1)


def lessons(readme: str) -> list[str]:
    """The notebooks the README's outline links, in its order."""
    return list(dict.fromkeys(re.findall(r"\]\((notebooks/\d\d_[^)]+\.ipynb)\)", readme)))


def run_locally(readme: str) -> list[str]:
    """The README's two commands (its first ``bash`` block), comments dropped."""
    block = re.search(r"```bash\n(.*?)```", readme, re.DOTALL)
    if block is None:
        raise ValueError("README.md: no bash block with the commands to run the course")
    return [line.split("#")[0].rstrip() for line in block.group(1).splitlines() if line.strip()]


LESSONS = lessons(README.read_text(encoding="utf-8"))
RUN_LOCALLY = run_locally(README.read_text(encoding="utf-8"))
