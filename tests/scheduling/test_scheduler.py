"""The FSRS wrapper: intervals, lapses, retention targets, maximum interval, retrievability."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from fsrs import Card as FsrsCard
from fsrs import Rating

from lti_tool.models.review import CardState
from lti_tool.scheduling.planner import day_bounds, local_day
from lti_tool.scheduling.scheduler import (
    Targets,
    apply,
    fsrs_scheduler,
    rating_for,
    retrievability,
    review,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _answer_good_repeatedly(targets: Targets, times: int, critical: bool = False) -> list[float]:
    """Intervals (days) after each on-time Good answer, without fuzz."""
    row: CardState | None = None
    now, intervals = T0, []
    for _ in range(times):
        result = review(row, 1, Rating.Good, now, targets, critical=critical, fuzz=False)
        if row is None:
            row = CardState(user_id=1, card_id=1, context_id=1, due=now, reps=0, lapses=0)
        apply(row, result)
        intervals.append(result.interval_days)
        now = row.due
    return intervals


def test_intervals_grow_with_each_success():
    """Each on-time correct answer pushes the next review further out."""
    intervals = _answer_good_repeatedly(Targets(), 4)
    assert all(later > earlier for earlier, later in itertools.pairwise(intervals))
    assert intervals[0] >= 1


def test_a_lapse_shrinks_the_interval():
    """A wrong answer on a mature card brings it back much sooner than a right one would."""
    targets = Targets()
    row = CardState(user_id=1, card_id=1, context_id=1, due=T0, reps=0, lapses=0)
    now = T0
    for _ in range(3):
        result = review(row if row.last_review else None, 1, Rating.Good, now, targets, fuzz=False)
        apply(row, result)
        now = row.due
    good = review(row, 1, Rating.Good, now, targets, fuzz=False)
    again = review(row, 1, Rating.Again, now, targets, fuzz=False)
    previous = (row.due - row.last_review).days
    assert again.interval_days < previous < good.interval_days
    assert again.card.stability < row.stability


def test_higher_retention_target_means_shorter_intervals():
    """0.95 (critical) schedules reviews sooner than 0.90, and critical units use it."""
    normal = _answer_good_repeatedly(Targets(desired_retention=0.90), 3)
    strict = _answer_good_repeatedly(Targets(desired_retention=0.95), 3)
    critical = _answer_good_repeatedly(Targets(0.90, 0.95), 3, critical=True)
    assert all(s < n for s, n in zip(strict, normal, strict=True))
    assert critical == strict


def test_reviews_at_the_due_date_meet_the_retention_target():
    """At its due moment a card's predicted recall is about the course's desired retention."""
    for target in (0.80, 0.90, 0.95):
        targets = Targets(desired_retention=target)
        row = CardState(user_id=1, card_id=1, context_id=1, due=T0, reps=0, lapses=0)
        apply(row, review(None, 1, Rating.Good, T0, targets, fuzz=False))
        apply(row, review(row, 1, Rating.Good, row.due, targets, fuzz=False))
        r_due = retrievability(row.stability, row.last_review, row.due, targets)
        assert abs(r_due - target) < 0.02


def test_no_interval_exceeds_the_maximum():
    """However well a card is known, it comes back within the course's maximum interval."""
    intervals = _answer_good_repeatedly(Targets(maximum_interval=180), 8)
    assert max(intervals) <= 180
    assert intervals[-1] == 180
    short = _answer_good_repeatedly(Targets(maximum_interval=30), 6)
    assert max(short) <= 30


def test_binary_grading_maps_correct_to_good_and_wrong_to_again():
    """Objective cards use Good/Again; recall cards use the learner's own rating."""
    assert rating_for(True) == Rating.Good
    assert rating_for(False) == Rating.Again
    assert rating_for(None, "easy") == Rating.Easy
    assert rating_for(None, "hard") == Rating.Hard


def test_retrievability_matches_py_fsrs_at_any_moment():
    """The fast retrievability formula gives py-fsrs' own value, and decays over time."""
    targets = Targets()
    scheduler = fsrs_scheduler(targets.parameters, 0.9, 180, False)
    card = FsrsCard(card_id=1, due=T0)
    card, _ = scheduler.review_card(card, Rating.Good, T0)
    values = []
    for days in (0, 1, 5, 30, 400):
        at = T0 + timedelta(days=days, hours=3)
        ours = retrievability(card.stability, card.last_review, at, targets)
        assert abs(ours - scheduler.get_card_retrievability(card, at)) < 1e-9
        values.append(ours)
    assert values == sorted(values, reverse=True)
    assert retrievability(None, None, T0, targets) == 0.0


def test_local_day_follows_the_learners_time_zone():
    """The same instant is a different calendar day in Auckland and in Los Angeles."""
    instant = datetime(2025, 1, 6, 20, 0, tzinfo=UTC)
    assert local_day(instant, "Pacific/Auckland") == date(2025, 1, 7)
    assert local_day(instant, "America/Los_Angeles") == date(2025, 1, 6)
    assert local_day(instant, "Not/AZone") == date(2025, 1, 6)
    start, end = day_bounds(date(2025, 1, 7), "Pacific/Auckland")
    assert start.astimezone(UTC) == datetime(2025, 1, 6, 11, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)
