"""A learner's personal iCalendar feed of upcoming review days, at a secret URL."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from urllib.parse import urlparse

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import Card, CardStatus
from lti_tool.models.review import CardState, ReminderPreference
from lti_tool.scheduling.reminders import zone_of

HORIZON_DAYS = 90
PRODUCT_ID = "-//Microreview//Review days//EN"


def review_days(
    session: Session, user_id: int, zone: str, now: datetime, horizon: int = HORIZON_DAYS
) -> Counter[date]:
    """Cards due per local day from today (overdue ones count today) to the horizon."""
    tz = zone_of(zone)
    today = now.astimezone(tz).date()
    dues = session.scalars(
        select(CardState.due)
        .join(Card, Card.id == CardState.card_id)
        .where(
            CardState.user_id == user_id,
            Card.status == CardStatus.PUBLISHED,
            CardState.due < now + timedelta(days=horizon),
        )
    )
    days: Counter[date] = Counter()
    for due in dues:
        days[max(today, due.astimezone(tz).date())] += 1
    return days


def feed(session: Session, pref: ReminderPreference, base_url: str, now: datetime) -> bytes:
    """The learner's feed: one all-day event per review day, with how many cards are due."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Microreview: review days")
    host = urlparse(base_url).hostname or "microreview"
    for day, count in sorted(review_days(session, pref.user_id, pref.time_zone, now).items()):
        event = Event()
        event.add("uid", f"review-{pref.user_id}-{day.isoformat()}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"Microreview: {count} card{'s' if count != 1 else ''} to review")
        event.add("description", "Open Microreview from your course to do today's review.")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
