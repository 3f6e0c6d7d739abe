"""Tests for `helpers.context`."""

import pytest

from helpers.context import (
    DEFAULT_START_METHOD,
    START_METHODS,
    describe_start_method,
    get_context,
    get_multiprocess_context,
    start_method_from_env,
)


def test_default_is_spawn_when_unset_or_blank():
    assert DEFAULT_START_METHOD == "spawn"
    assert start_method_from_env({}) == "spawn"
    assert start_method_from_env({"COURSE_START_METHOD": "  "}) == "spawn"


@pytest.mark.parametrize("method", START_METHODS)
def test_each_method_is_accepted_and_used(method):
    assert start_method_from_env({"COURSE_START_METHOD": method}) == method
    assert start_method_from_env({"COURSE_START_METHOD": method.upper()}) == method
    assert get_context(method).get_start_method() == method


def test_bogus_method_is_refused_with_the_valid_ones_listed():
    with pytest.raises(ValueError) as info:
        start_method_from_env({"COURSE_START_METHOD": "bogus"})
    assert str(info.value) == (
        "COURSE_START_METHOD='bogus' is not a start method; choose one of: spawn, fork, forkserver"
    )


def test_get_context_reads_the_environment(monkeypatch):
    monkeypatch.setenv("COURSE_START_METHOD", "fork")
    assert get_context().get_start_method() == "fork"
    monkeypatch.setenv("COURSE_START_METHOD", "threads")
    with pytest.raises(ValueError, match="'threads' is not a start method"):
        get_context()


def test_describe_names_the_method_and_why():
    assert describe_start_method("spawn").startswith("Start method: spawn — a fresh Python")
    assert "Python 3.14" in describe_start_method("forkserver")


def test_multiprocess_context_matches_the_method():
    import multiprocess

    mp_ctx = get_multiprocess_context("spawn")
    assert mp_ctx.get_start_method() == "spawn"
    assert type(mp_ctx).__module__.startswith("multiprocess")
    assert multiprocess.__name__ == "multiprocess"
