"""A learner's time zone and where it came from: installation default, browser, or their choice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from lti_tool.models.review import ReminderPreference, ZoneSource
from lti_tool.scheduling.course_settings import ensure_preference, valid_zone
from lti_tool.scheduling.exceptions import InvalidSettingsError


@dataclass(frozen=True)
class LearnerZone:
    """A learner's time zone name and its source."""

    name: str
    source: str

    @property
    def chosen(self) -> bool:
        """Whether the learner picked this zone themselves (detection then leaves it alone)."""
        return self.source == ZoneSource.LEARNER


def zone_of(session: Session, user_id: int, default: str) -> LearnerZone:
    """The learner's time zone and its source (the installation default without preferences)."""
    pref = session.get(ReminderPreference, user_id)
    if pref is None:
        return LearnerZone(default, ZoneSource.DEFAULT)
    return LearnerZone(pref.time_zone, pref.time_zone_source)


def check_zone(name: str) -> str:
    """The name when it is a known IANA zone; InvalidSettingsError that says what to give if not."""
    if not valid_zone(name):
        raise InvalidSettingsError(f"unknown time zone {name!r}: use a name like Europe/Berlin")
    return name


def record_browser_zone(session: Session, user_id: int, name: str) -> bool:
    """Store the zone the learner's browser reports unless the learner chose one; True if stored."""
    check_zone(name)
    ensure_preference(session, user_id, name)
    pref = ReminderPreference
    # One conditional UPDATE, so a choice the learner saves meanwhile is never overwritten.
    stored = session.execute(
        update(pref)
        .where(pref.user_id == user_id, pref.time_zone_source != ZoneSource.LEARNER)
        .values(time_zone=name, time_zone_source=ZoneSource.BROWSER)
        .returning(pref.user_id)
    ).first()
    return stored is not None


def choose_zone(pref: ReminderPreference, name: str, follow_browser: bool = False) -> None:
    """The learner's zone from the settings page: kept whatever their browser says, unless they
    ask to follow their browser (then a later detection replaces it, e.g. after travelling)."""
    source = ZoneSource.BROWSER if follow_browser else ZoneSource.LEARNER
    pref.time_zone, pref.time_zone_source = check_zone(name), source
