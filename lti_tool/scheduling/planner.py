"""The session builder: due cards first (lowest retrievability first), then new cards, by minutes.

`plan` is a pure function over candidates; `load_candidates` fetches them in one query.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import Session

from lti_tool.ingest.cards import CardKind
from lti_tool.models import Card, CardStatus, Unit
from lti_tool.models.review import CardState
from lti_tool.scheduling.scheduler import Targets, retrievability

# Rough answering time per kind; sessions are capped by their sum.
SECONDS_PER_CARD = 20
SECONDS_BY_KIND = {
    CardKind.RECALL: 45,
    CardKind.MATCHING: 35,
    CardKind.ORDERING: 35,
    CardKind.FILL_IN: 30,
}


class Candidate(NamedTuple):
    """A published card as the planner sees it, with this learner's memory of it.

    A named tuple rather than a dataclass: sessions are built from thousands of these per
    request, and tuples are several times cheaper to make.
    """

    card_id: int
    unit_key: int
    unit_position: int
    kind: str
    critical: bool = False
    due: datetime | None = None
    stability: float | None = None
    last_review: datetime | None = None

    @property
    def is_new(self) -> bool:
        """The learner has never answered this card."""
        return self.due is None


@dataclass(frozen=True)
class Limits:
    """What bounds one session."""

    minutes: int
    new_allowed: int


@dataclass(frozen=True)
class Plan:
    """The cards of a session in order, and when the next review falls due after it."""

    card_ids: list[int]
    next_due: datetime | None


def local_day(now: datetime, zone: str) -> date:
    """The learner's calendar day at `now`."""
    return now.astimezone(_zone(zone)).date()


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of a local calendar day, as aware datetimes."""
    tz = _zone(zone)
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def seconds_for(kind: str) -> int:
    """Expected seconds to answer a card of this kind."""
    return SECONDS_BY_KIND.get(kind, SECONDS_PER_CARD)  # type: ignore[call-overload,no-any-return]


def interleave(cards: Sequence[Candidate]) -> list[Candidate]:
    """Round-robin over units, keeping each unit's internal order and units by first appearance."""
    groups: OrderedDict[int, list[Candidate]] = OrderedDict()
    for card in cards:
        groups.setdefault(card.unit_key, []).append(card)
    queues = [list(reversed(group)) for group in groups.values()]
    ordered: list[Candidate] = []
    while queues:
        for queue in queues:
            ordered.append(queue.pop())
        queues = [q for q in queues if q]
    return ordered


def _cap(cards: Iterable[Candidate], budget: int, at_least_one: bool) -> list[Candidate]:
    chosen: list[Candidate] = []
    for card in cards:
        cost = seconds_for(card.kind)
        if cost > budget and (chosen or not at_least_one):
            break
        chosen.append(card)
        budget -= cost
    return chosen


def plan(
    candidates: Sequence[Candidate],
    now: datetime,
    day_end: datetime,
    targets: Targets,
    limits: Limits,
    extra: bool = False,
) -> Plan:
    """Due cards by lowest retrievability, then new ones in course order, capped by minutes.

    An extra round (nothing due) takes not-yet-due cards by lowest retrievability instead.
    """
    reviewed = [c for c in candidates if not c.is_new]
    new = sorted((c for c in candidates if c.is_new), key=lambda c: (c.unit_position, c.card_id))

    def r_now(card: Candidate) -> float:
        return retrievability(card.stability, card.last_review, now, targets)

    # Only the most forgotten few can fit in the minutes: no need to sort every due card.
    fits = most_cards(limits.minutes)
    if extra:
        first = heapq.nsmallest(fits, reviewed, key=r_now)
        fresh = new
    else:
        due = (c for c in reviewed if c.due and c.due < day_end)
        first = heapq.nsmallest(fits, due, key=r_now)
        fresh = interleave(new)[: max(0, limits.new_allowed)]
    budget = max(1, limits.minutes) * 60
    due_part = _cap(first, budget, at_least_one=True)
    spent = sum(seconds_for(c.kind) for c in due_part)
    new_part = _cap(fresh, budget - spent, at_least_one=not due_part)
    chosen = {c.card_id for c in due_part} | {c.card_id for c in new_part}
    ordered = interleave(due_part) + interleave(new_part)
    later = [c.due for c in reviewed if c.card_id not in chosen and c.due is not None]
    return Plan([c.card_id for c in ordered], min(later) if later else None)


def most_cards(minutes: int) -> int:
    """The most cards a session of `minutes` can hold, each taking at least the shortest time."""
    shortest = min(SECONDS_PER_CARD, *SECONDS_BY_KIND.values())
    return max(1, minutes) * 60 // shortest + 1


_CARD_COLUMNS = (Card.id, Card.unit_id, Unit.position, Card.kind, Unit.critical)
_NO_UNIT_POSITION = 1_000_000  # cards outside any unit come after every unit
# Statements are built once with bound parameters: building them per call costs more than
# PostgreSQL takes to run them.
_USER: BindParameter[int] = bindparam("user_id")
_CONTEXT: BindParameter[int] = bindparam("context_id")


def _reviewed_statement() -> Select:  # type: ignore[type-arg]
    return (
        select(*_CARD_COLUMNS, CardState.due, CardState.stability, CardState.last_review)
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .where(
            CardState.user_id == _USER,
            CardState.context_id == _CONTEXT,
            Card.context_id == _CONTEXT,
            Card.status == CardStatus.PUBLISHED,
        )
    )


def _new_statement() -> Select:  # type: ignore[type-arg]
    seen = select(CardState.id).where(CardState.card_id == Card.id, CardState.user_id == _USER)
    return (
        select(*_CARD_COLUMNS)
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .where(Card.context_id == _CONTEXT, Card.status == CardStatus.PUBLISHED)
        .where(~seen.exists())
    )


def _first_new_statement() -> Select:  # type: ignore[type-arg]
    """The first new cards in the order `interleave` gives them, with today's new-card count.

    Round by round (the n-th card of every unit), units in course order (position, then
    their first card), cards within a unit by id.
    """
    rank = func.row_number().over(partition_by=Card.unit_id, order_by=Card.id)
    first = func.min(Card.id).over(partition_by=Card.unit_id)
    position = func.coalesce(Unit.position, _NO_UNIT_POSITION)
    ranked = (
        _new_statement()
        .add_columns(rank.label("rank"), position.label("unit_order"), first.label("first"))
        .subquery()
    )
    started = (
        select(func.count())
        .select_from(CardState)
        .where(
            CardState.user_id == _USER,
            CardState.context_id == _CONTEXT,
            CardState.created_at >= bindparam("day_start"),
        )
        .scalar_subquery()
    )
    return (
        select(*list(ranked.c)[: len(_CARD_COLUMNS)], started.label("started"))
        .order_by(ranked.c.rank, ranked.c.unit_order, ranked.c.first)
        .limit(bindparam("limit"))
    )


_REVIEWED = _reviewed_statement()
_DUE = _REVIEWED.where(CardState.due < bindparam("due_before"))
_NEW = _new_statement()
_FIRST_NEW = _first_new_statement()


def _reviewed_candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    none = _NO_UNIT_POSITION
    return [
        Candidate(card, unit or 0, none if at is None else at, kind, bool(critical), *state)
        for card, unit, at, kind, critical, *state in rows
    ]


def _new_candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    none = _NO_UNIT_POSITION
    return [
        Candidate(card, unit or 0, none if at is None else at, kind, bool(critical))
        for card, unit, at, kind, critical, *_ in rows
    ]


def load_candidates(session: Session, user_id: int, context_id: int) -> list[Candidate]:
    """Every published card with this learner's state (for an extra round)."""
    # Core rows fetched in one go: ORM objects, or row-by-row fetching, cost more than the
    # queries themselves for a learner with thousands of cards.
    connection = session.connection()
    keys = {"user_id": user_id, "context_id": context_id}
    reviewed = connection.execute(_REVIEWED, keys).all()
    return _reviewed_candidates(reviewed) + _new_candidates(connection.execute(_NEW, keys).all())


def load_today(
    session: Session,
    user_id: int,
    context_id: int,
    day: tuple[datetime, datetime],
    new_per_day: int,
    minutes: int,
) -> list[Candidate]:
    """Today's candidates: reviewed cards due before the day ends, and the first new cards in
    interleaved course order that the day still allows (`new_per_day` less those started
    since the day began) and that could fit in `minutes`."""
    connection = session.connection()
    keys = {"user_id": user_id, "context_id": context_id}
    reviewed = connection.execute(_DUE, {**keys, "due_before": day[1]}).all()
    limit = min(max(0, new_per_day), most_cards(minutes))
    new = connection.execute(_FIRST_NEW, {**keys, "day_start": day[0], "limit": limit}).all()
    allowed = max(0, new_per_day - new[0].started) if new else 0
    return _reviewed_candidates(reviewed) + _new_candidates(new[:allowed])


def next_due_after(
    session: Session, user_id: int, context_id: int, moment: datetime
) -> datetime | None:
    """The earliest due time at or after `moment` among the learner's published cards."""
    return session.scalar(
        select(func.min(CardState.due))
        .join(Card, Card.id == CardState.card_id)
        .where(
            CardState.user_id == user_id,
            CardState.context_id == context_id,
            CardState.due >= moment,
            Card.status == CardStatus.PUBLISHED,
        )
    )


def new_cards_started(session: Session, user_id: int, context_id: int, since: datetime) -> int:
    """How many cards this learner met for the first time since `since` (today's new cards)."""
    count = session.scalar(
        select(func.count())
        .select_from(CardState)
        .where(
            CardState.user_id == user_id,
            CardState.context_id == context_id,
            CardState.created_at >= since,
        )
    )
    return int(count or 0)
