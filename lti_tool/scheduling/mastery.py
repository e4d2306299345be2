"""Mastery: the share of a course's published cards retained at the target, and its grade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from lti_tool.lti.ags import queue_score
from lti_tool.models import Card, CardStatus, Placement, ScoreSubmission, Unit
from lti_tool.models.review import CardState
from lti_tool.scheduling.scheduler import Targets, retrievability

ACTIVITY_IN_PROGRESS = "InProgress"
ACTIVITY_COMPLETED = "Completed"
GRADING_FULLY_GRADED = "FullyGraded"
# Retention is judged a day ahead: right after any answer, even a wrong one, FSRS predicts
# near-certain recall, which says nothing about whether the learner will know it tomorrow.
HORIZON = timedelta(days=1)


@dataclass(frozen=True)
class Mastery:
    """How many published cards a learner retains at their target, out of how many, and seen."""

    retained: int
    total: int
    seen: int

    @property
    def percent(self) -> float:
        """Mastery as a grade, 0-100 (0 for a course with no published cards)."""
        return round(100.0 * self.retained / self.total, 2) if self.total else 0.0


def mastery(
    session: Session, user_id: int, context_id: int, now: datetime, targets: Targets
) -> Mastery:
    """Count the published cards whose retention predicted a day ahead meets the card's target."""
    rows = session.execute(
        select(Unit.critical, CardState.stability, CardState.last_review)
        .select_from(Card)
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .outerjoin(CardState, and_(CardState.card_id == Card.id, CardState.user_id == user_id))
        .where(Card.context_id == context_id, Card.status == CardStatus.PUBLISHED)
    ).all()
    retained = seen = 0
    for critical, stability, last_review in rows:
        if last_review is None:
            continue
        seen += 1
        target = targets.retention_for(bool(critical))
        if retrievability(stability, last_review, now + HORIZON, targets) >= target - 1e-9:
            retained += 1
    return Mastery(retained=retained, total=len(rows), seen=seen)


def queue_mastery_grade(
    session: Session, placement: Placement, user_id: int, value: Mastery, now: datetime
) -> ScoreSubmission | None:
    """Queue the learner's mastery for the placement's gradebook (one pending per learner)."""
    if not (placement.lineitem_url or placement.lineitems_url):
        return None
    activity = (
        ACTIVITY_COMPLETED if value.total and value.seen == value.total else (ACTIVITY_IN_PROGRESS)
    )
    comment = f"{value.retained} of {value.total} cards at the retention target"
    pending = session.scalars(
        select(ScoreSubmission).where(
            ScoreSubmission.placement_id == placement.id,
            ScoreSubmission.user_id == user_id,
            ScoreSubmission.status == "pending",
        )
    ).first()
    if pending is None:
        pending = queue_score(
            session, placement.id, user_id, value.percent, now, activity, GRADING_FULLY_GRADED
        )
    else:
        # A newer mastery replaces one still waiting: the LMS only needs the latest.
        pending.score_given = value.percent
        pending.activity_progress = activity
        pending.timestamp = now
        pending.next_attempt_at = now
    pending.comment = comment
    return pending
