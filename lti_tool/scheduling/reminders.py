"""The reminder sweep: learners with due reviews get at most one email a day, at their local hour.

Idempotent: each email is claimed by a unique key (learner and local day) in a committed
transaction before it is sent (see `sends`), so a sweep that runs twice, or on two workers, or
crashes halfway, never sends the same learner two reminders on one day. Work goes in batches:
one claim statement, one preferences statement and one placements query per batch; a few SMTP
connections send claimed batches while the next ones are claimed and written (see `delivery`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Card, CardStatus, User
from lti_tool.models.review import CardState, ReminderPreference, ReminderSend
from lti_tool.scheduling.bulk import among
from lti_tool.scheduling.course_settings import LinkSecrets, create_preferences
from lti_tool.scheduling.delivery import Delivery
from lti_tool.scheduling.links import LinkSigner
from lti_tool.scheduling.mailer import Mail, Mailer
from lti_tool.scheduling.reminder_mail import ReminderWriter, course_infos, placements_of
from lti_tool.scheduling.sends import claim_batch, release, release_stale

log = logging.getLogger(__name__)
CHUNK = 900  # stays under SQLite's bound-parameter limit
# Reminders claimed per transaction. A crash loses at most the batches being sent, one per SMTP
# connection: claims that never reached the mail server are released by a later sweep.
BATCH = 100


@dataclass(frozen=True)
class ReminderConfig:
    """Installation-wide reminder settings."""

    base_url: str
    signer: LinkSigner
    default_zone: str = "UTC"
    default_hour: int = 9
    quiet_start: int = 21
    connections: int = 4  # SMTP connections sending at once


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


@lru_cache(maxsize=1024)
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
    # None until the learner has a preferences row (the sweep creates it before linking to it).
    secrets: LinkSecrets | None = None

    @property
    def key(self) -> str:
        """This reminder's idempotency key."""
        return reminder_key(self.user_id, self.day)


@dataclass(frozen=True)
class _Contact:
    email: str
    zone: str
    hour: int
    secrets: LinkSecrets | None


def _contacts(session: Session, ids: list[int], config: ReminderConfig) -> dict[int, _Contact]:
    """Address, zone, hour and link secrets of the subscribed learners among `ids`."""
    pref = ReminderPreference
    found: dict[int, _Contact] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                User.id,
                User.email,
                pref.email,
                pref.time_zone,
                pref.local_hour,
                pref.unsubscribed,
                pref.feed_secret,
                pref.link_generation,
            )
            .outerjoin(pref, pref.user_id == User.id)
            .where(among(session, User.id, chunk))
        )
        for user_id, lms_email, own_email, zone, hour, unsubscribed, secret, generation in rows:
            if unsubscribed:
                continue
            found[user_id] = _Contact(
                own_email or lms_email or "",
                zone if secret is not None else config.default_zone,
                hour if hour is not None else config.default_hour,
                LinkSecrets(secret, generation) if secret is not None else None,
            )
    return found


def recipients(
    session: Session, due: dict[int, list[CourseDue]], now: datetime, config: ReminderConfig
) -> tuple[list[Recipient], SweepReport]:
    """Learners whose local hour has come, with an address, not unsubscribed, not yet reminded."""
    report = SweepReport(learners_due=len(due))
    ids = sorted(due)
    contacts = _contacts(session, ids, config)
    waiting: list[Recipient] = []
    for user_id in ids:
        contact = contacts.get(user_id)
        if contact is None:
            continue  # unsubscribed (or gone)
        if not contact.email:
            report.no_email += 1
            continue
        tz = zone_of(contact.zone)
        local_now = now.astimezone(tz)
        day_end = datetime.combine(local_now.date() + timedelta(days=1), time(0), tz)
        courses = [c for c in due[user_id] if c.earliest < day_end]
        if not courses or not in_send_window(local_now, contact.hour, config.quiet_start):
            report.not_now += 1
            continue
        waiting.append(
            Recipient(
                user_id, contact.email, contact.zone, local_now.date(), courses, contact.secrets
            )
        )
    return _not_yet_sent(session, waiting, report)


def _not_yet_sent(
    session: Session, waiting: list[Recipient], report: SweepReport
) -> tuple[list[Recipient], SweepReport]:
    keys = [r.key for r in waiting]
    done: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        done.update(
            session.scalars(
                select(ReminderSend.key).where(
                    among(session, ReminderSend.key, keys[start : start + CHUNK])
                )
            )
        )
    fresh = [r for r, key in zip(waiting, keys, strict=True) if key not in done]
    report.already += len(waiting) - len(fresh)
    return fresh, report


def sweep(
    session_factory: Callable[[], Session],
    mailer: Mailer,
    config: ReminderConfig,
    now: datetime,
) -> SweepReport:
    """Find learners with due reviews and send each at most one reminder for their local day."""
    with session_factory() as session:
        if released := release_stale(session, now):
            log.warning("released %s reminder claims a stopped sweep left unsent", released)
        session.commit()
        due = due_by_learner(session, now + timedelta(days=1))
        waiting, report = recipients(session, due, now, config)
        courses = course_infos(session, {c.context_id for r in waiting for c in r.courses})
    waiting.sort(key=lambda r: r.key)  # one claim order for every sweep: no deadlocks
    writer = ReminderWriter(config, courses)
    batches = [waiting[start : start + BATCH] for start in range(0, len(waiting), BATCH)]
    connections = max(1, min(config.connections, len(batches)))
    unclaimed = 0
    with Delivery(session_factory, mailer, connections, now, report) as delivery:
        for index, batch in enumerate(batches):
            if delivery.stopped:  # the mail server is gone: leave the rest unclaimed
                unclaimed = sum(len(later) for later in batches[index:])
                break
            prepared = _prepare(session_factory, writer, batch, now)
            report.already += len(batch) - len(prepared)
            delivery.post(prepared)
    report.failed += unclaimed  # once the senders have stopped counting
    return report


def _prepare(
    session_factory: Callable[[], Session],
    writer: ReminderWriter,
    batch: list[Recipient],
    now: datetime,
) -> list[tuple[str, Mail]]:
    """Claim a batch's reminders, give its learners their link secrets, and write the emails."""
    with session_factory() as session:
        won = claim_batch(session, [(r.key, r.user_id) for r in batch], "learner", now)
        mine = [r for r in batch if r.key in won]
        made = create_preferences(
            session, {r.user_id: r.zone for r in mine if r.secrets is None}, now
        )
        contexts = {c.context_id for r in mine for c in r.courses}
        placements = placements_of(session, [r.user_id for r in mine], contexts) if mine else {}
        session.commit()  # the claims, and the secrets the links carry, exist before any send
    try:
        prepared = []
        for recipient in mine:
            secrets = recipient.secrets or made[recipient.user_id]
            links = writer.links(recipient, secrets.link_generation, placements)
            prepared.append((recipient.key, writer.mail(recipient, secrets, links)))
        return prepared
    except Exception:
        with session_factory() as session, session.begin():
            release(session, won)  # nothing of this batch left: a later sweep may send it
        raise
