"""Tests for `helpers.context`."""

import multiprocessing
import os
import sys

import pytest

from helpers.context import (
    DEFAULT_START_METHOD,
    START_METHODS,
    cgroup_cpu_quota,
    describe_cpus,
    describe_start_method,
    get_context,
    get_multiprocess_context,
    start_method_from_env,
    usable_cpu_count,
)

AVAILABLE = multiprocessing.get_all_start_methods()


def test_default_is_spawn_when_unset_or_blank():
    assert DEFAULT_START_METHOD == "spawn"
    assert start_method_from_env({}) == "spawn"
    assert start_method_from_env({"COURSE_START_METHOD": "  "}) == "spawn"


@pytest.mark.parametrize("method", START_METHODS)
def test_each_method_is_accepted_and_used(method):
    if method not in AVAILABLE:
        with pytest.raises(ValueError, match=f"{method!r} is not available on this platform"):
            start_method_from_env({"COURSE_START_METHOD": method})
        return
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
    monkeypatch.setenv("COURSE_START_METHOD", AVAILABLE[-1])
    assert get_context().get_start_method() == AVAILABLE[-1]
    monkeypatch.setenv("COURSE_START_METHOD", "threads")
    with pytest.raises(ValueError, match="'threads' is not a start method"):
        get_context()


def test_describe_names_the_method_and_why():
    assert describe_start_method("spawn").startswith("Start method: spawn — a fresh Python")
    if "forkserver" in AVAILABLE:
        assert "Python 3.14" in describe_start_method("forkserver")


def test_multiprocess_context_matches_the_method():
    import multiprocess

    mp_ctx = get_multiprocess_context("spawn")
    assert mp_ctx.get_start_method() == "spawn"
    assert type(mp_ctx).__module__.startswith("multiprocess")
    assert multiprocess.__name__ == "multiprocess"


# --- usable_cpu_count: the machine's count is not the process's -------------


def _fake_cgroup(tmp_path, cpu_max, *, own="/"):
    """A cgroup v2 tree with ``cpu.max`` in this process's (fake) cgroup."""
    (tmp_path / own.strip("/")).mkdir(parents=True, exist_ok=True)
    (tmp_path / own.strip("/") / "cpu.max").write_text(cpu_max)
    return str(tmp_path)


@pytest.fixture
def binder_node(monkeypatch):
    """A 72-CPU node: the machine, the affinity mask and 3.13's count all say 72."""
    monkeypatch.setattr(os, "cpu_count", lambda: 72)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(72)), raising=False)
    monkeypatch.setattr(os, "process_cpu_count", lambda: 72, raising=False)


def test_usable_count_is_the_affinity_not_the_machine(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "cpu_count", lambda: 72)
    if sys.version_info >= (3, 13):
        monkeypatch.setattr(os, "process_cpu_count", lambda: 2)
    else:
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert usable_cpu_count(str(tmp_path)) == 2
    assert describe_cpus(str(tmp_path)) == (
        "The machine reports 72 CPUs; this process may run on 2, "
        "and nothing lowers that further: it can keep 2 busy."
    )


def test_a_smaller_cgroup_quota_wins_and_is_named(binder_node, tmp_path):
    root = _fake_cgroup(tmp_path, "200000 100000\n")
    assert cgroup_cpu_quota(root, proc_self_cgroup="/nonexistent") == 2.0
    assert usable_cpu_count(root) == 2
    assert describe_cpus(root) == (
        "The machine reports 72 CPUs; this process may run on 72, "
        "and its container's quota of 2 CPUs lets it keep 2 busy."
    )


def test_a_fractional_quota_rounds_up_and_never_reaches_zero(binder_node, tmp_path):
    assert usable_cpu_count(_fake_cgroup(tmp_path / "a", "150000 100000")) == 2
    assert usable_cpu_count(_fake_cgroup(tmp_path / "b", "10000 100000")) == 1


def test_no_quota_or_an_unreadable_file_leaves_the_affinity(binder_node, tmp_path):
    assert cgroup_cpu_quota(_fake_cgroup(tmp_path / "max", "max 100000")) is None
    assert cgroup_cpu_quota(_fake_cgroup(tmp_path / "junk", "lots")) is None
    assert cgroup_cpu_quota(str(tmp_path / "missing")) is None
    assert usable_cpu_count(str(tmp_path / "missing")) == 72


def test_the_smallest_quota_from_own_cgroup_up_to_the_root_binds(binder_node, tmp_path):
    _fake_cgroup(tmp_path, "400000 100000")
    _fake_cgroup(tmp_path, "max 100000", own="/pod/box")
    _fake_cgroup(tmp_path, "100000 100000", own="/pod")
    own = tmp_path / "self_cgroup"
    own.write_text("12:cpu:/\n0::/pod/box\n")
    assert cgroup_cpu_quota(str(tmp_path), proc_self_cgroup=str(own)) == 1.0
    assert cgroup_cpu_quota(str(tmp_path), proc_self_cgroup="/nonexistent") == 4.0


def test_this_machine_agrees_with_its_own_affinity():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 1 <= usable_cpu_count() <= (expected or 1)
