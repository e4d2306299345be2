"""The FSRS wrapper: course retention targets, binary and self-rated grades, card states.

Sessions are daily, so there are no minute-scale learning steps: a first answer already
schedules the card days ahead (Good at 0.90 retention: about 2, 11, 46, 163 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from lti_tool.models.review import (
    DEFAULT_CRITICAL_RETENTION,
    DEFAULT_MAXIMUM_INTERVAL,
    DEFAULT_RETENTION,
    CardState,
    CourseSchedule,
)

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(Scheduler().parameters)
SELF_RATINGS = {
    "again": Rating.Again,
    "hard": Rating.Hard,
    "good": Rating.Good,
    "easy": Rating.Easy,
}


@dataclass(frozen=True)
class Targets:
    """A course's scheduling targets and FSRS parameters."""

    desired_retention: float = DEFAULT_RETENTION
    critical_retention: float = DEFAULT_CRITICAL_RETENTION
    maximum_interval: int = DEFAULT_MAXIMUM_INTERVAL
    parameters: tuple[float, ...] = DEFAULT_PARAMETERS

    def retention_for(self, critical: bool) -> float:
        """The desired retention of a card, raised when its unit is critical."""
        return (
            max(self.critical_retention, self.desired_retention)
            if critical
            else (self.desired_retention)
        )

    @cached_property
    def decay(self) -> float:
        """FSRS-6 forgetting-curve decay (negative)."""
        return -self.parameters[20]

    @cached_property
    def factor(self) -> float:
        """FSRS-6 forgetting-curve factor: R(t = S) is 0.9 by construction."""
        return 0.9 ** (1 / self.decay) - 1


def targets_for(schedule: CourseSchedule | None) -> Targets:
    """The targets of a course (defaults when it has no settings row yet)."""
    if schedule is None:
        return Targets()
    return Targets(
        desired_retention=schedule.desired_retention,
        critical_retention=schedule.critical_retention,
        maximum_interval=schedule.maximum_interval,
        parameters=tuple(schedule.parameters) if schedule.parameters else DEFAULT_PARAMETERS,
    )


@lru_cache(maxsize=512)
def fsrs_scheduler(
    parameters: tuple[float, ...], retention: float, maximum_interval: int, fuzz: bool = True
) -> Scheduler:
    """A py-fsrs scheduler for these settings (cached: building one validates parameters)."""
    return Scheduler(
        parameters=parameters,
        desired_retention=retention,
        learning_steps=(),
        relearning_steps=(),
        maximum_interval=maximum_interval,
        enable_fuzzing=fuzz,
    )


def rating_for(correct: bool | None, self_rating: str | None = None) -> Rating:
    """Objective cards: correct is Good, wrong is Again; recall cards carry their own rating."""
    if self_rating is not None:
        return SELF_RATINGS[self_rating]
    return Rating.Good if correct else Rating.Again


def to_fsrs(row: CardState | None, card_id: int, now: datetime) -> FsrsCard:
    """The py-fsrs card for a stored state (a fresh card when there is none)."""
    if row is None:
        # card_id given explicitly: py-fsrs otherwise sleeps a millisecond to make one up.
        return FsrsCard(card_id=card_id, due=now)
    return FsrsCard(
        card_id=card_id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=row.due,
        last_review=row.last_review,
    )


@dataclass(frozen=True)
class Scheduled:
    """The outcome of one review: the new memory state and what it was before."""

    card: FsrsCard
    retrievability_before: float

    @property
    def interval_days(self) -> float:
        """Days from this review to the next one."""
        assert self.card.last_review is not None
        return (self.card.due - self.card.last_review).total_seconds() / 86400


def review(
    row: CardState | None,
    card_id: int,
    rating: Rating,
    now: datetime,
    targets: Targets,
    critical: bool = False,
    fuzz: bool = True,
) -> Scheduled:
    """Schedule one answer given at `now` under the course's targets."""
    scheduler = fsrs_scheduler(
        targets.parameters, targets.retention_for(critical), targets.maximum_interval, fuzz
    )
    before = to_fsrs(row, card_id, now)
    r_before = scheduler.get_card_retrievability(before, now)
    after, _log = scheduler.review_card(before, rating, now)
    return Scheduled(card=after, retrievability_before=float(r_before))


def apply(row: CardState, scheduled: Scheduled) -> None:
    """Copy a scheduled card into its stored state."""
    card = scheduled.card
    row.state = int(card.state)
    row.step = card.step
    row.stability = card.stability
    row.difficulty = card.difficulty
    row.due = card.due
    row.last_review = card.last_review
    row.reps += 1


def retrievability(
    stability: float | None, last_review: datetime | None, at: datetime, targets: Targets
) -> float:
    """Predicted recall probability at `at` (0 if never reviewed), as py-fsrs computes it."""
    if stability is None or last_review is None:
        return 0.0
    elapsed_days = max(0, (at - last_review).days)
    return float((1 + targets.factor * elapsed_days / stability) ** targets.decay)
