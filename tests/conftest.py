"""Shared fixtures: the start-method context the whole suite runs under."""

from __future__ import annotations

import pytest

from helpers.context import get_context


@pytest.fixture(scope="session")
def ctx():
    """The multiprocessing context chosen by COURSE_START_METHOD (default spawn)."""
    return get_context()
