"""Fixtures for protocol tests."""

from __future__ import annotations

import pytest

from tests.lti.lms import TestLms


@pytest.fixture
def lms(live):  # type: ignore[no-untyped-def]
    """The in-test LMS, registered with the live tool."""
    return TestLms(live)
