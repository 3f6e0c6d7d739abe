"""Tests for `helpers.check_environment`."""

import importlib.metadata
import os
import re
import subprocess
import sys

import pytest

from helpers.check_environment import (
    REQUIREMENTS,
    ROOT,
    Check,
    check_packages,
    check_python,
    check_start_method,
    main,
    read_requirements,
)


def fake_versions(installed):
    """A stand-in for importlib.metadata.version over a fixed set of packages."""

    def version_of(name):
        if name not in installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed[name]

    return version_of


def test_the_courses_own_requirements_are_read():
    wanted = dict(read_requirements(REQUIREMENTS))
    assert wanted["multiprocess"] == "0.70.19"
    assert wanted["ipc-course-helpers"] is None  # the `-e .` line: the course itself


def test_pins_bare_names_comments_and_the_project_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo-course"\n')
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nnumpy==2.4.6  # arrays\n\ntqdm\n-e .\n")
    assert read_requirements(requirements) == [
        ("numpy", "2.4.6"),
        ("tqdm", None),
        ("demo-course", None),
    ]


def test_unreadable_requirements_are_refused(tmp_path):
    requirements = tmp_path / "requirements.txt"
    for line in ("numpy>=2", "numpy==2.4.6 ; python_version < '3.12'", "numpy ==="):
        requirements.write_text(f"numpy==2.4.6\n{line}\n")
        with pytest.raises(
            ValueError, match=re.escape(f"requirements.txt line 2: cannot read {line!r}")
        ):
            read_requirements(requirements)
    with pytest.raises(FileNotFoundError, match=re.escape("missing.txt' does not exist")):
        read_requirements(tmp_path / "missing.txt")


def test_python_version_check():
    assert str(check_python((3, 11, 0))) == "[ OK ] Python 3.11.0 (3.11 or newer is needed)"
    assert str(check_python((3, 13, 1))) == "[ OK ] Python 3.13.1 (3.11 or newer is needed)"
    assert str(check_python((3, 10, 12))) == "[FAIL] Python 3.10.12 (3.11 or newer is needed)"


def test_package_checks_report_missing_wrong_and_right_versions():
    checks = check_packages(
        [("numpy", "2.4.6"), ("tqdm", "4.70.1"), ("dill", None), ("ruff", "0.17.6")],
        version_of=fake_versions({"numpy": "2.4.6", "tqdm": "4.60.0", "dill": "0.4.1"}),
    )
    assert [str(check) for check in checks] == [
        "[ OK ] numpy 2.4.6",
        "[FAIL] tqdm 4.60.0: 4.70.1 is pinned (pip install -r requirements.txt)",
        "[ OK ] dill 0.4.1",
        "[FAIL] ruff: not installed (pip install -r requirements.txt)",
    ]
    assert [check.passed for check in checks] == [True, False, True, False]


def test_start_method_check():
    assert check_start_method({}) == Check(
        True, "start method: spawn (set COURSE_START_METHOD to change it)"
    )
    assert str(check_start_method({"COURSE_START_METHOD": "threads"})) == (
        "[FAIL] start method: COURSE_START_METHOD='threads' is not a start method; "
        "choose one of: spawn, fork, forkserver"
    )


def test_main_returns_1_when_a_package_is_missing(tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("dill==0.4.1\nno-such-package-for-this-course==1.0\n")
    assert main(["--requirements", str(requirements)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "[ OK ] dill 0.4.1"
    assert lines[2] == (
        "[FAIL] no-such-package-for-this-course: not installed (pip install -r requirements.txt)"
    )
    assert lines[-1] == "3 of 4 checks passed; 1 failed"


def run_module(**env):
    """Run `python -m helpers.check_environment` for real, as a learner would."""
    environ = {k: v for k, v in os.environ.items() if k != "COURSE_START_METHOD"} | env
    return subprocess.run(
        [sys.executable, "-m", "helpers.check_environment"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=60,
        check=False,
    )


def test_the_command_passes_in_the_courses_environment():
    result = run_module()
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[ OK ] Python 3.")
    assert "[ OK ] multiprocess 0.70.19" in lines
    assert lines[-2] == "[ OK ] start method: spawn (set COURSE_START_METHOD to change it)"
    assert lines[-1].endswith("checks passed")


def test_the_command_fails_on_a_bad_start_method():
    result = run_module(COURSE_START_METHOD="thread")
    assert result.returncode == 1
    assert (
        "[FAIL] start method: COURSE_START_METHOD='thread' is not a start method" in result.stdout
    )
