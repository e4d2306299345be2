"""A course's scheduling settings and a learner's reminder preferences: read, create, validate."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.models.review import MAX_RETENTION, MIN_RETENTION, CourseSchedule, ReminderPreference
from lti_tool.scheduling.bulk import among, insert_new
from lti_tool.scheduling.exceptions import InvalidSettingsError
from lti_tool.scheduling.scheduler import Targets, targets_for

MAX_MINUTES = 60
MAX_NEW_PER_DAY = 200
MIN_INTERVAL_CAP, MAX_INTERVAL_CAP = 7, 3650


def schedule_of(session: Session, context_id: int) -> CourseSchedule | None:
    """The course's settings row, if it has one."""
    return session.get(CourseSchedule, context_id)


def course_targets(session: Session, context_id: int) -> Targets:
    """The course's retention targets and parameters (defaults without a settings row)."""
    return targets_for(schedule_of(session, context_id))


def ensure_schedule(session: Session, context_id: int) -> CourseSchedule:
    """The course's settings row, created with defaults when missing (safe under races)."""
    schedule = session.get(CourseSchedule, context_id)
    if schedule is not None:
        return schedule
    try:
        with session.begin_nested():
            schedule = CourseSchedule(context_id=context_id)
            session.add(schedule)
    except IntegrityError:
        schedule = session.get(CourseSchedule, context_id)
    assert schedule is not None
    return schedule


@dataclass(frozen=True)
class ScheduleForm:
    """Instructor-editable settings, validated."""

    desired_retention: float
    critical_retention: float
    session_minutes: int
    new_per_day: int
    maximum_interval: int
    course_url: str


def _number(form: dict[str, Any], name: str, cast: type, low: float, high: float) -> Any:
    raw = str(form.get(name, "")).strip()
    try:
        value = cast(raw)
    except ValueError:
        raise InvalidSettingsError(f"{name.replace('_', ' ')} must be a number") from None
    if not low <= value <= high:
        raise InvalidSettingsError(f"{name.replace('_', ' ')} must be between {low:g} and {high:g}")
    return value


def parse_schedule_form(form: dict[str, Any]) -> ScheduleForm:
    """Validate the instructor form; retention targets are fractions 0.70-0.97."""
    course_url = str(form.get("course_url", "")).strip()
    if course_url and not course_url.startswith(("https://", "http://")):
        raise InvalidSettingsError("the course address must start with https:// or http://")
    return ScheduleForm(
        desired_retention=_number(form, "desired_retention", float, MIN_RETENTION, MAX_RETENTION),
        critical_retention=_number(form, "critical_retention", float, MIN_RETENTION, MAX_RETENTION),
        session_minutes=_number(form, "session_minutes", int, 1, MAX_MINUTES),
        new_per_day=_number(form, "new_per_day", int, 0, MAX_NEW_PER_DAY),
        maximum_interval=_number(form, "maximum_interval", int, MIN_INTERVAL_CAP, MAX_INTERVAL_CAP),
        course_url=course_url[:1000],
    )


def save_schedule(session: Session, context_id: int, values: ScheduleForm) -> CourseSchedule:
    """Store validated settings for the course."""
    schedule = ensure_schedule(session, context_id)
    schedule.desired_retention = values.desired_retention
    schedule.critical_retention = values.critical_retention
    schedule.session_minutes = values.session_minutes
    schedule.new_per_day = values.new_per_day
    schedule.maximum_interval = values.maximum_interval
    schedule.course_url = values.course_url
    return schedule


def preference_of(session: Session, user_id: int) -> ReminderPreference | None:
    """The learner's reminder preferences, if set."""
    return session.get(ReminderPreference, user_id)


def ensure_preference(session: Session, user_id: int, zone: str = "UTC") -> ReminderPreference:
    """The learner's preferences, created with defaults and fresh secrets when missing."""
    pref = session.get(ReminderPreference, user_id)
    if pref is not None:
        return pref
    try:
        with session.begin_nested():
            pref = ReminderPreference(
                user_id=user_id, time_zone=zone, feed_secret=secrets.token_urlsafe(24)
            )
            session.add(pref)
    except IntegrityError:
        pref = session.get(ReminderPreference, user_id)
    assert pref is not None
    return pref


@dataclass(frozen=True)
class LinkSecrets:
    """What a learner's reminder links carry: the calendar feed secret and the link generation."""

    feed_secret: str
    link_generation: int


def create_preferences(
    session: Session, zones: Mapping[int, str], now: datetime
) -> dict[int, LinkSecrets]:
    """Default preference rows for many learners in one statement (kept where one exists)."""
    if not zones:
        return {}
    table: Table = ReminderPreference.__table__  # type: ignore[assignment]
    rows = [
        {
            "user_id": user_id,
            "email": "",
            "time_zone": zones[user_id],
            "local_hour": None,
            "unsubscribed": False,
            "feed_secret": secrets.token_urlsafe(24),
            "link_generation": 1,
            "updated_at": now,
        }
        for user_id in sorted(zones)  # one lock order for every writer: no deadlocks
    ]
    returned = table.c.user_id, table.c.feed_secret, table.c.link_generation
    made = insert_new(session, table, rows, returned)
    found = {row[0]: LinkSecrets(row[1], row[2]) for row in made}
    raced = [user_id for user_id in zones if user_id not in found]
    if raced:  # created meanwhile by the learner or another sweep: use theirs
        query = select(*returned).where(among(session, table.c.user_id, raced))
        found.update((row[0], LinkSecrets(row[1], row[2])) for row in session.execute(query))
    return found


def valid_zone(name: str) -> bool:
    """Whether a time zone name is a known IANA zone."""
    return name in _zones()


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES
