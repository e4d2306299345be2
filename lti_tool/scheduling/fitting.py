"""Per-course FSRS parameter fitting from the course's own review logs (fsrs-rs, no torch)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import fsrs_rs_python as fsrs_rs
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS as LOWER_BOUNDS
from fsrs.scheduler import UPPER_BOUNDS_PARAMETERS as UPPER_BOUNDS
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models.review import CourseSchedule, ReviewLog
from lti_tool.scheduling.course_settings import ensure_schedule
from lti_tool.scheduling.scheduler import fsrs_scheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitResult:
    """What a fitting run did: how many reviews it used and whether it stored new parameters."""

    context_id: int
    reviews: int
    fitted: bool
    reason: str = ""


def training_items(histories: list[list[tuple[int, datetime]]]) -> list[fsrs_rs.FSRSItem]:
    """FSRS items: every prefix of each card history that ends in a review on a later day."""
    items = []
    for history in histories:
        reviews: list[fsrs_rs.FSRSReview] = []
        previous: datetime | None = None
        for rating, when in history:
            delta = 0 if previous is None else max(0, (when.date() - previous.date()).days)
            reviews.append(fsrs_rs.FSRSReview(rating, delta))
            previous = when
            if len(reviews) > 1 and delta > 0:
                items.append(fsrs_rs.FSRSItem(list(reviews)))
    return items


def clamp(parameters: list[float]) -> tuple[float, ...]:
    """Parameters inside py-fsrs' bounds (fsrs-rs works in float32, a hair may stick out)."""
    return tuple(
        min(max(float(p), low), high)
        for p, low, high in zip(parameters, LOWER_BOUNDS, UPPER_BOUNDS, strict=True)
    )


def course_histories(session: Session, context_id: int) -> list[list[tuple[int, datetime]]]:
    """Each (learner, card) review history of the course, oldest first."""
    rows = session.execute(
        select(ReviewLog.user_id, ReviewLog.card_id, ReviewLog.rating, ReviewLog.reviewed_at)
        .where(ReviewLog.context_id == context_id)
        .order_by(ReviewLog.user_id, ReviewLog.card_id, ReviewLog.reviewed_at, ReviewLog.id)
    )
    histories: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    for user_id, card_id, rating, when in rows:
        histories[(user_id, card_id)].append((int(rating), when))
    return list(histories.values())


def review_count(session: Session, context_id: int) -> int:
    """How many reviews a course has logged."""
    return int(session.scalar(select(func.count()).where(ReviewLog.context_id == context_id)) or 0)


def fit_course(session: Session, context_id: int, now: datetime, min_reviews: int) -> FitResult:
    """Fit the course's parameters when it has enough reviews; keep the old ones otherwise."""
    total = review_count(session, context_id)
    if total < min_reviews:
        return FitResult(context_id, total, False, f"needs {min_reviews} reviews, has {total}")
    items = training_items(course_histories(session, context_id))
    if not items:
        return FitResult(context_id, total, False, "no review was repeated on a later day yet")
    model = fsrs_rs.FSRS(list(fsrs_rs.DEFAULT_PARAMETERS))
    try:
        parameters = clamp(model.compute_parameters(items))
        fsrs_scheduler(parameters, 0.9, 180)  # py-fsrs checks the bounds of every parameter
    except (ValueError, RuntimeError) as exc:
        log.warning("fitting course %s failed: %s", context_id, exc)
        return FitResult(context_id, total, False, f"fitting failed: {exc}")
    schedule = ensure_schedule(session, context_id)
    schedule.parameters = list(parameters)
    schedule.parameters_fitted_at = now
    schedule.parameters_reviews = total
    return FitResult(context_id, total, True)


def courses_to_refit(session: Session, min_reviews: int) -> list[int]:
    """Courses with enough reviews and a quarter more than at their last fitting."""
    counts = session.execute(
        select(ReviewLog.context_id, func.count()).group_by(ReviewLog.context_id)
    ).all()
    fitted = dict(
        session.execute(select(CourseSchedule.context_id, CourseSchedule.parameters_reviews)).all()
    )
    return [
        int(context_id)
        for context_id, count in counts
        if count >= min_reviews and count >= 1.25 * (fitted.get(context_id) or 0)
    ]
