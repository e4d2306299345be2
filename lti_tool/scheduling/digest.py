"""The weekly instructor digest: learners overdue on critical units, once per course and week."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.lti.roles import Role, map_roles
from lti_tool.models import Card, CardStatus, Context, Membership, Unit, User
from lti_tool.models.review import CardState, ReminderPreference
from lti_tool.scheduling.exceptions import MailError
from lti_tool.scheduling.mailer import Mail, Mailer
from lti_tool.scheduling.reminder_mail import templates
from lti_tool.scheduling.sends import claim, settle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverdueLearner:
    """A learner with critical reviews overdue."""

    name: str
    cards: int
    since: datetime


def digest_key(context_id: int, instructor_id: int, now: datetime) -> str:
    """The idempotency key of one instructor's digest for one course and ISO week."""
    year, week, _ = now.isocalendar()
    return f"digest:{context_id}:{instructor_id}:{year}-W{week:02d}"


def overdue_on_critical(
    session: Session, now: datetime, overdue_days: int
) -> dict[int, list[OverdueLearner]]:
    """Per course, learners whose cards of critical units are overdue by more than N days."""
    rows = session.execute(
        select(CardState.context_id, User.name, User.sub, func.count(), func.min(CardState.due))
        .join(Card, Card.id == CardState.card_id)
        .join(Unit, Unit.id == Card.unit_id)
        .join(User, User.id == CardState.user_id)
        .where(
            Unit.critical.is_(True),
            Card.status == CardStatus.PUBLISHED,
            CardState.due < now - timedelta(days=overdue_days),
        )
        .group_by(CardState.context_id, User.id, User.name, User.sub)
        .order_by(func.min(CardState.due))
    )
    found: dict[int, list[OverdueLearner]] = defaultdict(list)
    for context_id, name, sub, count, since in rows:
        found[context_id].append(OverdueLearner(name or sub, int(count), since))
    return found


def instructors(session: Session, context_id: int) -> list[tuple[int, str]]:
    """(user id, email) of the course's active instructors who have an address."""
    rows = session.execute(
        select(User.id, User.email, Membership.roles, ReminderPreference.unsubscribed)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == User.id)
        .where(Membership.context_id == context_id, Membership.status == "Active")
    )
    return [
        (user_id, email)
        for user_id, email, roles, unsubscribed in rows
        if email and not unsubscribed and map_roles(roles or []) >= Role.INSTRUCTOR
    ]


def send_digests(
    session_factory: Callable[[], Session], mailer: Mailer, now: datetime, overdue_days: int
) -> int:
    """Send this week's digests not sent yet; returns how many went out."""
    with session_factory() as session:
        overdue = overdue_on_critical(session, now, overdue_days)
        plans = [
            (
                context_id,
                session.get(Context, context_id),
                learners,
                instructors(session, context_id),
            )
            for context_id, learners in overdue.items()
        ]
    sent = 0
    for context_id, context, learners, people in plans:
        title = (context.title if context else "") or "your course"
        for instructor_id, email in people:
            key = digest_key(context_id, instructor_id, now)
            if not claim(session_factory, key, instructor_id, "digest"):
                continue
            values = {"course": title, "learners": learners, "overdue_days": overdue_days}
            mail = Mail(
                to=email,
                subject=f"{len(learners)} learner(s) overdue on critical units in {title}",
                text=templates.get_template("email/digest.txt").render(values),
                html=templates.get_template("email/digest.html").render(values),
            )
            error: MailError | None = None
            try:
                mailer.send(mail)
                sent += 1
            except MailError as exc:
                error = exc
                log.warning("digest %s not sent: %s", key, exc)
            settle(session_factory, key, error, now)
    return sent
