"""Fixtures of the scheduling tests: the database with the xAPI tables, and an SMTP server."""

from tests.scheduling.builders import db
from tests.scheduling.smtp import smtp

__all__ = ["db", "smtp"]
