"""Moodle 1.9 backups (``moodle.xml``): recognised and refused with advice."""

from __future__ import annotations

from ..exceptions import LegacyMoodleBackupError
from ..tree import Course
from .base import ReadContext


def read(ctx: ReadContext) -> Course:
    """Always raises: Moodle 1.9 backups must be re-exported from a current Moodle."""
    raise LegacyMoodleBackupError(f"{ctx.source.label} is a Moodle 1.9 backup (moodle.xml).")
