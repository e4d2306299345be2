"""The reminder sweep: learners with due reviews get at most one email a day, at their local hour.

Idempotent: each email is claimed by a unique key (learner and local day) in its own committed
transaction before it is sent, so a sweep that runs twice, or on two workers, or crashes halfway,
never sends the same learner two reminders on one day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.models import Card, CardStatus, Context, Placement, Platform, User
from lti_tool.models.review import (
    CardState,
    CourseSchedule,
    ReminderPreference,
    ReminderSend,
    ReviewSession,
)
from lti_tool.scheduling.exceptions import MailError
from lti_tool.scheduling.links import LinkSigner, SessionLink
from lti_tool.scheduling.mailer import Mail, Mailer
from lti_tool.settings import PROJECT_ROOT

log = logging.getLogger(__name__)
CHUNK = 900  # stays under SQLite's bound-parameter limit
SENT, CLAIMED, FAILED = "sent", "claimed", "failed"

templates = Environment(
    loader=FileSystemLoader(str(PROJECT_ROOT / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class ReminderConfig:
    """Installation-wide reminder settings."""

    base_url: str
    signer: LinkSigner
    default_zone: str = "UTC"
    default_hour: int = 9
    quiet_start: int = 21


@dataclass(frozen=True)
class CourseDue:
    """How many reviews a learner has due in one course, from when."""

    context_id: int
    count: int
    earliest: datetime


@dataclass
class SweepReport:
    """What one sweep did."""

    learners_due: int = 0
    sent: int = 0
    not_now: int = 0
    already: int = 0
    no_email: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def zone_of(name: str) -> ZoneInfo:
    """A time zone by IANA name; UTC for anything unknown."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def reminder_key(user_id: int, day: date) -> str:
    """The idempotency key of a learner's reminder on a local day."""
    return f"learner:{user_id}:{day.isoformat()}"


def in_send_window(local_now: datetime, hour: int, quiet_start: int) -> bool:
    """From the learner's hour until quiet hours begin (never at night)."""
    if quiet_start <= hour:
        return local_now.hour == hour
    return hour <= local_now.hour < quiet_start


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def due_by_learner(session: Session, before: datetime) -> dict[int, list[CourseDue]]:
    """Every learner with published cards due before `before`, per course (one aggregate)."""
    rows = session.execute(
        select(
            CardState.user_id,
            CardState.context_id,
            func.count(),
            func.min(CardState.due),
        )
        .join(Card, Card.id == CardState.card_id)
        .where(CardState.due < before, Card.status == CardStatus.PUBLISHED)
        .group_by(CardState.user_id, CardState.context_id)
    )
    found: dict[int, list[CourseDue]] = defaultdict(list)
    for user_id, context_id, count, earliest in rows:
        found[user_id].append(CourseDue(context_id, int(count), earliest))
    return found


@dataclass(frozen=True)
class Recipient:
    """A learner who should get a reminder now."""

    user_id: int
    email: str
    zone: str
    day: date
    courses: list[CourseDue]


def recipients(
    session: Session, due: dict[int, list[CourseDue]], now: datetime, config: ReminderConfig
) -> tuple[list[Recipient], SweepReport]:
    """Learners whose local hour has come, with an address, not unsubscribed, not yet reminded."""
    report = SweepReport(learners_due=len(due))
    ids = sorted(due)
    prefs: dict[int, ReminderPreference] = {}
    emails: dict[int, str] = {}
    for chunk in _chunks(ids):
        prefs.update(
            (p.user_id, p)
            for p in session.scalars(
                select(ReminderPreference).where(ReminderPreference.user_id.in_(chunk))
            )
        )
        query = select(User.id, User.email).where(User.id.in_(chunk))
        emails.update((row[0], row[1]) for row in session.execute(query))
    waiting: list[Recipient] = []
    for user_id in ids:
        pref = prefs.get(user_id)
        if pref is not None and pref.unsubscribed:
            continue
        address = (pref.email if pref is not None and pref.email else "") or emails.get(user_id, "")
        if not address:
            report.no_email += 1
            continue
        zone = pref.time_zone if pref is not None else config.default_zone
        tz = zone_of(zone)
        local_now = now.astimezone(tz)
        hour = (
            pref.local_hour
            if pref is not None and pref.local_hour is not None
            else (config.default_hour)
        )
        day_end = datetime.combine(local_now.date() + timedelta(days=1), time(0), tz)
        courses = [c for c in due[user_id] if c.earliest < day_end]
        if not courses or not in_send_window(local_now, hour, config.quiet_start):
            report.not_now += 1
            continue
        waiting.append(Recipient(user_id, address, zone, local_now.date(), courses))
    return _not_yet_sent(session, waiting, report)


def _not_yet_sent(
    session: Session, waiting: list[Recipient], report: SweepReport
) -> tuple[list[Recipient], SweepReport]:
    keys = [reminder_key(r.user_id, r.day) for r in waiting]
    done: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        done.update(
            session.scalars(
                select(ReminderSend.key).where(ReminderSend.key.in_(keys[start : start + CHUNK]))
            )
        )
    fresh = [r for r, key in zip(waiting, keys, strict=True) if key not in done]
    report.already += len(waiting) - len(fresh)
    return fresh, report


def claim(session_factory: Callable[[], Session], key: str, user_id: int | None, kind: str) -> bool:
    """Claim a send by its key in its own transaction; False when someone already has it."""
    with session_factory() as session:
        try:
            session.add(ReminderSend(key=key, user_id=user_id, kind=kind, status=CLAIMED))
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def settle(
    session_factory: Callable[[], Session], key: str, error: MailError | None, now: datetime
) -> None:
    """Record a claimed send's outcome; a send that never reached the server is released."""
    with session_factory() as session, session.begin():
        if error is None:
            session.execute(
                update(ReminderSend).where(ReminderSend.key == key).values(status=SENT, sent_at=now)
            )
        elif not error.connected:
            session.execute(delete(ReminderSend).where(ReminderSend.key == key))
        else:
            session.execute(
                update(ReminderSend)
                .where(ReminderSend.key == key)
                .values(status=FAILED, error=str(error)[:500])
            )


def sweep(
    session_factory: Callable[[], Session],
    mailer: Mailer,
    config: ReminderConfig,
    now: datetime,
) -> SweepReport:
    """Find learners with due reviews and send each at most one reminder for their local day."""
    with session_factory() as session:
        due = due_by_learner(session, now + timedelta(days=1))
        waiting, report = recipients(session, due, now, config)
    for recipient in waiting:
        key = reminder_key(recipient.user_id, recipient.day)
        if not claim(session_factory, key, recipient.user_id, "learner"):
            report.already += 1
            continue
        error: MailError | None = None
        try:
            with session_factory() as session:
                mail = reminder_mail(session, recipient, config)
            mailer.send(mail)
            report.sent += 1
        except MailError as exc:
            error = exc
            report.failed += 1
            report.errors.append(str(exc))
            log.warning("reminder %s not sent: %s", key, exc)
        settle(session_factory, key, error, now)
    return report


@dataclass(frozen=True)
class CourseLink:
    """One course in a reminder: its title, what is due, and where to go."""

    title: str
    count: int
    session_url: str
    course_url: str


def _placement_of(session: Session, user_id: int, context_id: int) -> int | None:
    latest = session.scalar(
        select(ReviewSession.placement_id)
        .where(
            ReviewSession.user_id == user_id,
            ReviewSession.context_id == context_id,
            ReviewSession.placement_id.is_not(None),
        )
        .order_by(ReviewSession.id.desc())
        .limit(1)
    )
    if latest is not None:
        return int(latest)
    first = session.scalar(
        select(Placement.id).where(Placement.context_id == context_id).order_by(Placement.id)
    )
    return int(first) if first is not None else None


def course_links(
    session: Session, user_id: int, courses: Iterable[CourseDue], config: ReminderConfig
) -> list[CourseLink]:
    """A signed review link and an LMS link for each course with due reviews."""
    pref = session.get(ReminderPreference, user_id)
    generation = pref.link_generation if pref is not None else 1
    links = []
    for course in courses:
        context = session.get(Context, course.context_id)
        if context is None:
            continue
        schedule = session.get(CourseSchedule, course.context_id)
        platform = session.get(Platform, context.platform_id)
        token = config.signer.session_token(
            SessionLink(
                user_id,
                course.context_id,
                _placement_of(session, user_id, course.context_id),
                generation,
            )
        )
        links.append(
            CourseLink(
                title=context.title or context.label or "your course",
                count=course.count,
                session_url=f"{config.base_url}/reminders/open/{token}",
                course_url=(schedule.course_url if schedule and schedule.course_url else "")
                or (platform.issuer if platform else ""),
            )
        )
    return links


def reminder_mail(session: Session, recipient: Recipient, config: ReminderConfig) -> Mail:
    """The reminder email of one learner: HTML and plain text, with unsubscribe and calendar."""
    from lti_tool.scheduling.course_settings import ensure_preference

    pref = ensure_preference(session, recipient.user_id, config.default_zone)
    session.commit()  # the calendar secret and link generation must exist before we link them
    links = course_links(session, recipient.user_id, recipient.courses, config)
    unsubscribe = (
        f"{config.base_url}/reminders/unsubscribe/"
        f"{config.signer.unsubscribe_token(recipient.user_id)}"
    )
    values = {
        "courses": links,
        "total": sum(link.count for link in links),
        "unsubscribe_url": unsubscribe,
        "calendar_url": f"{config.base_url}/reminders/calendar/{pref.feed_secret}.ics",
    }
    total = values["total"]
    return Mail(
        to=recipient.email,
        subject=f"{total} review{'s' if total != 1 else ''} due today",
        text=templates.get_template("email/reminder.txt").render(values),
        html=templates.get_template("email/reminder.html").render(values),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
