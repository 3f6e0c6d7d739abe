"""Check that this machine can run the course: ``python -m helpers.check_environment``.

It prints one line per requirement, ``[ OK ]`` or ``[FAIL]``: Python itself
(3.11 or newer), every package pinned in ``requirements.txt`` at its pinned
version, the course's own ``helpers`` package, and the start method chosen by
``COURSE_START_METHOD``. The exit code is 1 if any line failed, so scripts
and CI can rely on it.

>>> print(check_python((3, 11, 7)))
[ OK ] Python 3.11.7 (3.11 or newer is needed)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers.context import ENV_VAR, start_method_from_env

__all__ = [
    "MINIMUM_PYTHON",
    "REQUIREMENTS",
    "Check",
    "check_packages",
    "check_python",
    "check_start_method",
    "main",
    "read_requirements",
]

MINIMUM_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
_FIX = "pip install -r requirements.txt"


@dataclass(frozen=True)
class Check:
    """One line of the report: did it pass, and what was found."""

    passed: bool
    text: str

    def __str__(self) -> str:
        return ("[ OK ] " if self.passed else "[FAIL] ") + self.text


def read_requirements(path: Path | str = REQUIREMENTS) -> list[tuple[str, str | None]]:
    """Return ``(distribution name, pinned version or None)`` for each line of ``path``.

    ``-e .`` (install this repository) becomes the project's own name from
    ``pyproject.toml``, unpinned. Comments and blank lines are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"requirements file {str(path)!r} does not exist")
    wanted: list[tuple[str, str | None]] = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line in ("-e .", "."):
            wanted.append((_project_name(path.parent / "pyproject.toml"), None))
            continue
        wanted.append(_pinned(line, f"{path.name} line {number}"))
    return wanted


def _pinned(line: str, where: str) -> tuple[str, str | None]:
    """``(name, version)`` of ``name==version``, ``(name, None)`` of a bare name; else raise.

    Anything else in the course's own file (a range, a URL, an option) would be a mistake.
    """
    # packaging comes with JupyterLab and pytest; imported here, so that a missing one
    # is reported by the checks below instead of failing this module's import.
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        raise ValueError(f"{where}: cannot read {line!r}") from None
    specifiers = list(requirement.specifier)
    if requirement.url or requirement.extras or requirement.marker:
        raise ValueError(f"{where}: cannot read {line!r}: give name==version or a bare name")
    if not specifiers:
        return requirement.name, None
    if len(specifiers) == 1 and specifiers[0].operator == "==":
        return requirement.name, specifiers[0].version
    raise ValueError(f"{where}: cannot read {line!r}: give name==version or a bare name")


def _project_name(pyproject: Path) -> str:
    if not pyproject.is_file():
        raise FileNotFoundError(f"'-e .' needs {pyproject}, which does not exist")
    return tomllib.loads(pyproject.read_text())["project"]["name"]


def check_python(version_info: Sequence[object] = sys.version_info) -> Check:
    """Python must be at least :data:`MINIMUM_PYTHON`."""
    found = ".".join(str(part) for part in tuple(version_info)[:3])
    needed = ".".join(str(part) for part in MINIMUM_PYTHON)
    passed = tuple(version_info)[:2] >= MINIMUM_PYTHON
    return Check(passed, f"Python {found} ({needed} or newer is needed)")


def check_packages(
    wanted: Sequence[tuple[str, str | None]],
    *,
    version_of: Callable[[str], str] = importlib.metadata.version,
) -> list[Check]:
    """One check per distribution: installed, and at the pinned version if there is one."""
    checks = []
    for name, pinned in wanted:
        try:
            found = version_of(name)
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(False, f"{name}: not installed ({_FIX})"))
            continue
        if pinned is not None and found != pinned:
            checks.append(Check(False, f"{name} {found}: {pinned} is pinned ({_FIX})"))
        else:
            checks.append(Check(True, f"{name} {found}"))
    return checks


def check_start_method(environ: Mapping[str, str] | None = None) -> Check:
    """``COURSE_START_METHOD`` must be empty or a start method this platform has."""
    try:
        method = start_method_from_env(environ)
    except ValueError as err:
        return Check(False, f"start method: {err}")
    return Check(True, f"start method: {method} (set {ENV_VAR} to change it)")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; return 0 if every check passed, else 1."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers.check_environment",
        description="Check that this machine can run the course.",
    )
    parser.add_argument(
        "--requirements", type=Path, default=REQUIREMENTS, help="the pinned requirements file"
    )
    options = parser.parse_args(argv)
    checks = [check_python(), *check_packages(read_requirements(options.requirements))]
    checks.append(check_start_method())
    for check in checks:
        print(check)
    failed = sum(not check.passed for check in checks)
    print(
        f"{len(checks) - failed} of {len(checks)} checks passed"
        + (f"; {failed} failed" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
