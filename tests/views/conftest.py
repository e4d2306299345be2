"""Fixtures of the view tests: the in-test LMS against the live tool, with the xAPI tables."""

from tests.views.learner_support import lms

__all__ = ["lms"]
