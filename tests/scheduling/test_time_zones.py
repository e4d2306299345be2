"""A learner's time zone: the browser fills it in, their own choice stands, reminders follow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lti_tool.jobs import run_reminders
from lti_tool.models.review import ReminderPreference
from lti_tool.scheduling.exceptions import InvalidSettingsError
from lti_tool.scheduling.time_zones import LearnerZone, choose_zone, record_browser_zone, zone_of
from tests.scheduling.builders import T0, build_course
from tests.scheduling.test_reminders import make_due, settings_for

TOKYO_MORNING = T0.replace(hour=0, minute=30)  # 09:30 in Tokyo, 00:30 UTC


def test_zone_is_the_default_until_the_browser_reports_one(db):
    """Without preferences the installation default applies; a browser report replaces it."""
    with db.session() as s:
        learner = build_course(s).learner_ids[0]
        assert zone_of(s, learner, "UTC") == LearnerZone("UTC", "default")
        assert record_browser_zone(s, learner, "Asia/Tokyo")
        assert zone_of(s, learner, "UTC") == LearnerZone("Asia/Tokyo", "browser")


def test_browser_report_leaves_the_learners_choice_alone(db):
    """Once the learner chose a zone, a browser report stores nothing."""
    with db.session() as s:
        learner = build_course(s).learner_ids[0]
        record_browser_zone(s, learner, "Asia/Tokyo")
        choose_zone(s.get(ReminderPreference, learner), "Europe/Berlin")
    with db.session() as s:
        assert not record_browser_zone(s, learner, "America/Chicago")
    with db.session() as s:
        assert zone_of(s, learner, "UTC") == LearnerZone("Europe/Berlin", "learner")


def test_unknown_zone_from_a_browser_is_refused_before_anything_is_stored(db):
    """An unknown name raises InvalidSettingsError and creates no preferences row."""
    with db.session() as s:
        learner = build_course(s).learner_ids[0]
        with pytest.raises(InvalidSettingsError, match="unknown time zone"):
            record_browser_zone(s, learner, "Mars/Olympus")
        assert s.scalar(select(func.count()).select_from(ReminderPreference)) == 0


def test_reminder_goes_at_the_local_hour_of_the_detected_zone(db, smtp):
    """After the browser reports Asia/Tokyo, the reminder waits for 09:00 in Tokyo, not UTC."""
    inbox, port = smtp
    with db.session() as s:
        rows = build_course(s)
    make_due(db, rows)
    with db.session() as s:
        record_browser_zone(s, rows.learner_ids[0], "Asia/Tokyo")
    settings = settings_for(db, port)
    assert run_reminders(db, settings, TOKYO_MORNING - timedelta(hours=1)).sent == 0  # 08:30
    assert run_reminders(db, settings, TOKYO_MORNING).sent == 1  # 09:30 in Tokyo
    assert len(inbox.messages) == 1
