"""The session builder: priorities, limits, interleaving, minutes, extra rounds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from lti_tool.scheduling.planner import Candidate, Limits, interleave, plan, seconds_for
from lti_tool.scheduling.scheduler import Targets

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
END = NOW + timedelta(hours=15)
TARGETS = Targets()


def due_card(
    card_id: int, unit: int, days_ago: int, stability: float, due_in: float = -1
) -> Candidate:
    """A reviewed card, last seen days_ago, due due_in days from now."""
    return Candidate(
        card_id=card_id,
        unit_key=unit,
        unit_position=unit,
        kind="single_choice",
        due=NOW + timedelta(days=due_in),
        stability=stability,
        last_review=NOW - timedelta(days=days_ago),
    )


def new_card(card_id: int, unit: int) -> Candidate:
    """A card the learner has never seen."""
    return Candidate(card_id=card_id, unit_key=unit, unit_position=unit, kind="single_choice")


def test_due_cards_come_first_lowest_retrievability_first():
    """Due cards precede new ones, and the most forgotten due card is asked first."""
    cards = [
        new_card(1, 0),
        due_card(2, 0, 10, 20.0),
        due_card(3, 1, 30, 2.0),
        due_card(4, 2, 5, 50.0),
    ]
    result = plan(cards, NOW, END, TARGETS, Limits(minutes=5, new_allowed=5))
    assert result.card_ids[0] == 3
    assert result.card_ids[-1] == 1
    assert set(result.card_ids[:3]) == {2, 3, 4}


def test_cards_not_due_today_are_left_out_and_give_the_next_due_time():
    """A card due tomorrow is not planned; its due time is reported as the next review."""
    later = due_card(5, 0, 1, 10.0, due_in=2)
    result = plan([later], NOW, END, TARGETS, Limits(minutes=5, new_allowed=0))
    assert result.card_ids == []
    assert result.next_due == later.due


def test_new_cards_respect_the_daily_limit_in_course_order():
    """Only as many new cards as the day still allows, earliest units first."""
    cards = [new_card(i, unit=5 - i) for i in range(6)]
    result = plan(cards, NOW, END, TARGETS, Limits(minutes=30, new_allowed=2))
    assert sorted(result.card_ids) == [4, 5]
    assert plan(cards, NOW, END, TARGETS, Limits(30, 0)).card_ids == []


def test_sessions_are_capped_by_minutes():
    """A five-minute session holds as many cards as fit in five minutes, never zero."""
    cards = [due_card(i, i % 3, 10, 5.0) for i in range(100)]
    result = plan(cards, NOW, END, TARGETS, Limits(minutes=5, new_allowed=10))
    assert len(result.card_ids) == 5 * 60 // seconds_for("single_choice")
    longer = plan(cards, NOW, END, TARGETS, Limits(minutes=10, new_allowed=10))
    assert len(longer.card_ids) == 2 * len(result.card_ids)
    recall = [Candidate(1, 0, 0, "recall")]
    assert plan(recall, NOW, END, TARGETS, Limits(minutes=0, new_allowed=1)).card_ids == [1]


def test_units_are_interleaved():
    """Consecutive cards come from different units while more than one unit is left."""
    cards = [new_card(i, unit=i // 3) for i in range(9)]
    ordered = interleave(cards)
    units = [c.unit_key for c in ordered]
    assert all(a != b for a, b in itertools.pairwise(units))
    assert [c.card_id for c in ordered][:3] == [0, 3, 6]


def test_extra_round_reviews_cards_not_yet_due_weakest_first():
    """With nothing due, an extra round takes not-yet-due cards by lowest retrievability."""
    cards = [due_card(1, 0, 1, 50.0, due_in=20), due_card(2, 1, 9, 3.0, due_in=1)]
    assert plan(cards, NOW, END, TARGETS, Limits(5, 0)).card_ids == []
    extra = plan(cards, NOW, END, TARGETS, Limits(5, 0), extra=True)
    assert extra.card_ids == [2, 1]
