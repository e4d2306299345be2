"""The session builder: due cards first (lowest retrievability first), then new cards, by minutes.

`plan` is a pure function over candidates; `load_candidates` fetches them in one query.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
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

    if extra:
        first = sorted(reviewed, key=r_now)
        fresh = new
    else:
        first = sorted((c for c in reviewed if c.due and c.due < day_end), key=r_now)
        fresh = interleave(new)[: max(0, limits.new_allowed)]
    budget = max(1, limits.minutes) * 60
    due_part = _cap(first, budget, at_least_one=True)
    spent = sum(seconds_for(c.kind) for c in due_part)
    new_part = _cap(fresh, budget - spent, at_least_one=not due_part)
    chosen = {c.card_id for c in due_part} | {c.card_id for c in new_part}
    ordered = interleave(due_part) + interleave(new_part)
    later = [c.due for c in reviewed if c.card_id not in chosen and c.due is not None]
    return Plan([c.card_id for c in ordered], min(later) if later else None)


def _columns(user_id: int) -> Select:  # type: ignore[type-arg]
    return (
        select(
            Card.id,
            Card.unit_id,
            Unit.position,
            Card.kind,
            Unit.critical,
            CardState.due,
            CardState.stability,
            CardState.last_review,
        )
        .outerjoin(Unit, Unit.id == Card.unit_id)
        .outerjoin(CardState, and_(CardState.card_id == Card.id, CardState.user_id == user_id))
    )


def load_candidates(
    session: Session,
    user_id: int,
    context_id: int,
    due_before: datetime | None = None,
    new_limit: int | None = None,
) -> list[Candidate]:
    """Published cards with this learner's state: reviewed ones due before `due_before` (all
    when None), and new ones (only the first `new_limit` in interleaved course order)."""
    published = and_(Card.context_id == context_id, Card.status == CardStatus.PUBLISHED)
    reviewed = _columns(user_id).where(published, CardState.id.is_not(None))
    if due_before is not None:
        reviewed = reviewed.where(CardState.due < due_before)
    # Rank within the unit, then unit order: the same order `interleave` gives new cards.
    rank = func.row_number().over(partition_by=Card.unit_id, order_by=Card.id)
    new = _columns(user_id).add_columns(rank.label("rank")).where(published, CardState.id.is_(None))
    if new_limit is not None:
        inner = new.subquery()
        new = select(*inner.c).order_by(inner.c.rank, inner.c.position, inner.c.id)
        new = new.limit(max(0, new_limit))
    # Core execution: the ORM's row processing costs more than the query for 2,000 cards.
    connection = session.connection()
    rows = list(connection.execute(reviewed)) + list(connection.execute(new))
    return [
        Candidate(
            row[0],
            row[1] if row[1] is not None else 0,
            row[2] if row[2] is not None else 1_000_000,
            row[3],
            bool(row[4]),
            row[5],
            row[6],
            row[7],
        )
        for row in rows
    ]


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
