"""Daily review sessions: start or resume, answer one card (idempotently), finish, summarise."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Rating, State
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lti_tool import learning_events
from lti_tool.models import Card, Placement, Unit
from lti_tool.models.review import (
    CardState,
    CourseSchedule,
    ReminderPreference,
    ReviewLog,
    ReviewSession,
)
from lti_tool.scheduling import grading, planner, scheduler
from lti_tool.scheduling.course_settings import ensure_schedule
from lti_tool.scheduling.exceptions import SessionNotFoundError, StaleAnswerError
from lti_tool.scheduling.mastery import Mastery, mastery, queue_mastery_grade

MAX_DURATION = timedelta(minutes=30)


@dataclass(frozen=True)
class Learner:
    """Who reviews, in which course and placement, in which time zone, for which installation."""

    user_id: int
    context_id: int
    placement_id: int | None
    zone: str
    base_url: str


def open_session(session: Session, learner: Learner) -> ReviewSession | None:
    """The learner's latest unfinished session in this course."""
    return session.scalars(
        select(ReviewSession)
        .where(
            ReviewSession.user_id == learner.user_id,
            ReviewSession.context_id == learner.context_id,
            ReviewSession.finished_at.is_(None),
        )
        .order_by(ReviewSession.id.desc())
        .limit(1)
    ).first()


def build_plan(
    session: Session, learner: Learner, now: datetime, extra: bool = False
) -> planner.Plan:
    """Today's plan for the learner under the course's settings."""
    schedule = ensure_schedule(session, learner.context_id)
    targets = scheduler.targets_for(schedule)
    today = planner.local_day(now, learner.zone)
    start, end = planner.day_bounds(today, learner.zone)
    user_id, context_id = learner.user_id, learner.context_id
    # The day's new-card allowance is already applied by load_today; an extra round has none.
    limits = planner.Limits(schedule.session_minutes, schedule.new_per_day)
    if extra:
        candidates = planner.load_candidates(session, user_id, context_id)
    else:
        candidates = planner.load_today(
            session, user_id, context_id, (start, end), schedule.new_per_day, limits.minutes
        )
    found = planner.plan(candidates, now, end, targets, limits, extra=extra)
    if extra or (found.next_due is not None and found.next_due < end):
        return found
    later = planner.next_due_after(session, user_id, context_id, end)
    return planner.Plan(found.card_ids, later)


def start_or_resume(
    session: Session, learner: Learner, now: datetime, extra: bool = False
) -> tuple[ReviewSession | None, planner.Plan | None]:
    """Resume today's unfinished session, or plan a new one; (None, plan) when nothing is due."""
    today = planner.local_day(now, learner.zone)
    current = open_session(session, learner)
    if current is not None and current.local_day == today and current.remaining:
        return current, None
    if current is not None:
        current.finished_at = now  # yesterday's leftovers: today's plan covers what is still due
    found = build_plan(session, learner, now, extra=extra)
    if not found.card_ids:
        return None, found
    review = ReviewSession(
        user_id=learner.user_id,
        context_id=learner.context_id,
        placement_id=learner.placement_id,
        plan=found.card_ids,
        extra=extra,
        local_day=today,
        started_at=now,
        public_id=uuid.uuid4(),
    )
    scope = learning_events.scope_for(
        session, learner.base_url, learner.user_id, learner.context_id, learner.placement_id
    )
    review.event_scope = learning_events.scope_to_dict(scope)
    session.add(review)
    session.flush()
    learning_events.session_started(session, scope, review.public_id, now)
    return review, found


def _public_key(public_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(public_id)
    except ValueError:
        raise SessionNotFoundError("no such review session") from None


def _owned(found: ReviewSession | None, user_id: int, context_id: int) -> ReviewSession:
    if found is None or found.user_id != user_id or found.context_id != context_id:
        raise SessionNotFoundError("no such review session")
    return found


def find_session(session: Session, learner: Learner, public_id: str) -> ReviewSession:
    """The learner's own session by its public id (404 for anyone else's)."""
    key = _public_key(public_id)
    found = session.scalars(select(ReviewSession).where(ReviewSession.public_id == key)).first()
    return _owned(found, learner.user_id, learner.context_id)


def find_session_and_zone(
    session: Session, user_id: int, context_id: int, public_id: str, default_zone: str
) -> tuple[ReviewSession, str]:
    """The learner's own session and their time zone, in one query (404 for anyone else's)."""
    key = _public_key(public_id)
    row = session.execute(
        select(ReviewSession, ReminderPreference.time_zone)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == ReviewSession.user_id)
        .where(ReviewSession.public_id == key)
    ).first()
    found = _owned(row[0] if row else None, user_id, context_id)
    return found, (row[1] if row and row[1] else default_zone)


def current_card(session: Session, review: ReviewSession) -> tuple[Card, Unit | None]:
    """The card a session is waiting for, and its unit (one query)."""
    row = session.execute(
        select(Card, Unit)
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .where(Card.id == review.plan[review.position])
    ).one()
    return row[0], row[1]


def _scope(session: Session, learner: Learner, review: ReviewSession) -> learning_events.EventScope:
    if review.event_scope:
        return learning_events.scope_from_dict(review.event_scope)
    return learning_events.scope_for(
        session, learner.base_url, learner.user_id, learner.context_id, review.placement_id
    )


@dataclass(frozen=True)
class Outcome:
    """What the learner sees after answering: the verdict, the right answer and what comes next."""

    card: Card
    unit: Unit | None
    grade: grading.Grade
    due: datetime | None
    finished: bool
    duplicate: bool = False


def answer(
    session: Session,
    learner: Learner,
    review: ReviewSession,
    position: int,
    form: grading.Answer,
    now: datetime,
    duration: timedelta,
) -> Outcome:
    """Record one answer: review log, card state, statements, and at the end the grade.

    (session, position) is the answer's idempotency key: an answer already recorded is
    returned as it was, never counted twice. The caller commits; a concurrent duplicate
    fails that commit on the unique key and should then call `recorded`.
    """
    # Logs exist exactly for the positions before review.position (both commit together),
    # so only an earlier position can be a repeat worth looking up.
    if position < review.position:
        existing = recorded(session, review, position)
        if existing is not None:
            return existing
    if position != review.position or position >= len(review.plan):
        raise StaleAnswerError("this card is not the one your review is waiting for")
    card, unit, state, schedule = _answer_rows(session, learner, review.plan[position])
    grade = grading.check(card.kind, card.data or {}, form)
    if state is None:
        state = _new_state(session, learner, card.id, now)
    targets = scheduler.targets_for(schedule or ensure_schedule(session, learner.context_id))
    rating = scheduler.rating_for(grade.correct, grade.self_rating)
    result = scheduler.review(
        state, card.id, rating, now, targets, critical=bool(unit and unit.critical)
    )
    if rating == Rating.Again and state.state == State.Review:
        state.lapses += 1
    scheduler.apply(state, result)
    duration = min(max(duration, timedelta(0)), MAX_DURATION)
    log = ReviewLog(
        session_id=review.id,
        position=position,
        user_id=learner.user_id,
        card_id=card.id,
        context_id=learner.context_id,
        rating=int(rating),
        correct=grade.correct,
        response=grade.response,
        duration_ms=int(duration.total_seconds() * 1000),
        retrievability=result.retrievability_before,
        stability=state.stability,
        due_after=state.due,
        reviewed_at=now,
    )
    session.add(log)
    review.position = position + 1
    scope = _scope(session, learner, review)
    memory = learning_events.Memory(
        result.retrievability_before, float(state.stability or 0.0), state.due
    )
    log.statement_id = learning_events.card_answered(
        session, scope, card, unit, grade, memory, duration, review.public_id, now
    )
    finished = review.remaining == 0
    if finished:
        _finish(session, learner, review, scope, now)
    session.flush()
    return Outcome(card, unit, grade, state.due, finished)


def _answer_rows(
    session: Session, learner: Learner, card_id: int
) -> tuple[Card, Unit | None, CardState | None, CourseSchedule | None]:
    """The card, its unit, the learner's state of it and the course settings, in one query."""
    row = session.execute(
        select(Card, Unit, CardState, CourseSchedule)
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .outerjoin(
            CardState, and_(CardState.card_id == Card.id, CardState.user_id == learner.user_id)
        )
        .outerjoin(CourseSchedule, CourseSchedule.context_id == learner.context_id)
        .where(Card.id == card_id)
    ).one()
    return row[0], row[1], row[2], row[3]


def _new_state(session: Session, learner: Learner, card_id: int, now: datetime) -> CardState:
    state = CardState(
        user_id=learner.user_id,
        card_id=card_id,
        context_id=learner.context_id,
        state=int(State.Learning),
        due=now,
        reps=0,
        lapses=0,
        created_at=now,
    )
    session.add(state)
    return state


def _finish(
    session: Session,
    learner: Learner,
    review: ReviewSession,
    scope: learning_events.EventScope,
    now: datetime,
) -> None:
    review.finished_at = now
    learning_events.session_finished(session, scope, review.public_id, review.started_at, now)
    placement = session.get(Placement, review.placement_id) if review.placement_id else None
    if placement is not None:
        session.flush()  # the new card states count towards the grade
        value = course_mastery(session, learner, now)
        queue_mastery_grade(session, placement, learner.user_id, value, now)


def course_mastery(session: Session, learner: Learner, now: datetime) -> Mastery:
    """The learner's mastery of the course now."""
    targets = scheduler.targets_for(ensure_schedule(session, learner.context_id))
    return mastery(session, learner.user_id, learner.context_id, now, targets)


def recorded(session: Session, review: ReviewSession, position: int) -> Outcome | None:
    """The outcome of an answer already recorded at this position, if any."""
    log = session.scalars(
        select(ReviewLog).where(ReviewLog.session_id == review.id, ReviewLog.position == position)
    ).first()
    if log is None:
        return None
    card = session.get(Card, log.card_id)
    assert card is not None
    unit = session.get(Unit, card.unit_id) if card.unit_id else None
    expected = grading.check(card.kind, card.data or {}, {}).expected
    rating = grading.RATINGS[log.rating - 1] if grading.is_self_rated(card.kind) else None
    grade = grading.Grade(log.correct, dict(log.response), expected, rating)
    finished = review.finished_at is not None
    return Outcome(card, unit, grade, log.due_after, finished, duplicate=True)


@dataclass(frozen=True)
class Summary:
    """The end of a session: what was reviewed, how it went, what is due next and when."""

    review: ReviewSession
    answered: int
    correct: int
    cards: list[tuple[Card, ReviewLog]]
    next_due: datetime | None
    mastery: Mastery


def summary(session: Session, learner: Learner, review: ReviewSession, now: datetime) -> Summary:
    """Summarise a session for the learner."""
    logs = session.scalars(
        select(ReviewLog).where(ReviewLog.session_id == review.id).order_by(ReviewLog.position)
    ).all()
    ids = [log.card_id for log in logs]
    cards = {c.id: c for c in session.scalars(select(Card).where(Card.id.in_(ids)))}
    return Summary(
        review=review,
        answered=len(logs),
        correct=sum(1 for log in logs if log.correct or (log.correct is None and log.rating > 1)),
        cards=[(cards[log.card_id], log) for log in logs],
        next_due=next_due(session, learner),
        mastery=course_mastery(session, learner, now),
    )


def next_due(session: Session, learner: Learner) -> datetime | None:
    """When the learner's next review in this course falls due."""
    return session.scalar(
        select(func.min(CardState.due)).where(
            CardState.user_id == learner.user_id, CardState.context_id == learner.context_id
        )
    )
