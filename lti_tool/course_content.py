"""A course's content as instructors see and change it: units, cards, imports and figures.

Every function takes the launch's course id and never returns another course's rows.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.course_import import ANSWER_FIELDS
from lti_tool.db import utcnow
from lti_tool.exceptions import NotFound, PlatformError
from lti_tool.ingest.cards import CardKind
from lti_tool.ingest.sanitize import clean_html, clean_text
from lti_tool.models import Asset, Card, CardStatus, Context, CourseImport, Platform, Unit
from lti_tool.upsert import upsert


def course_units(session: Session, context_id: int) -> list[Unit]:
    """The course's current units in course order."""
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.context_id == context_id, Unit.retired.is_(False))
            .order_by(Unit.position, Unit.id)
        )
    )


def course_cards(
    session: Session, context_id: int, status: CardStatus | None = None, unit_id: int | None = None
) -> list[Card]:
    """The course's cards, optionally of one status or one unit, oldest first."""
    query = select(Card).where(Card.context_id == context_id)
    if status is not None:
        query = query.where(Card.status == status)
    if unit_id is not None:
        query = query.where(Card.unit_id == unit_id)
    return list(session.scalars(query.order_by(Card.unit_id, Card.id)))


def find_unit(session: Session, context_id: int, unit_id: int) -> Unit:
    """A unit of this course; NotFound for any other course's unit."""
    row = session.get(Unit, unit_id)
    if row is None or row.context_id != context_id:
        raise NotFound("this unit is not part of your course")
    return row


def find_card(session: Session, context_id: int, card_id: int) -> Card:
    """A card of this course; NotFound for any other course's card."""
    row = session.get(Card, card_id)
    if row is None or row.context_id != context_id:
        raise NotFound("this card is not part of your course")
    return row


def find_import(session: Session, context_id: int, import_id: int) -> CourseImport:
    """An import run of this course; NotFound for any other course's run."""
    row = session.get(CourseImport, import_id)
    if row is None or row.context_id != context_id:
        raise NotFound("this import is not part of your course")
    return row


def recent_imports(session: Session, context_id: int, limit: int = 5) -> list[CourseImport]:
    """The course's latest import runs, newest first."""
    query = select(CourseImport).where(CourseImport.context_id == context_id)
    return list(session.scalars(query.order_by(CourseImport.id.desc()).limit(limit)))


def find_asset(session: Session, context_id: int, path: str) -> Asset:
    """A figure of this course by its path in the upload; NotFound otherwise."""
    row = session.scalar(select(Asset).where(Asset.context_id == context_id, Asset.path == path))
    if row is None:
        raise NotFound("this file is not part of your course")
    return row


def edit_card(card: Card, prompt_html: str, data: dict[str, Any]) -> None:
    """Save an instructor's edit of a card's prompt and answers (sanitized)."""
    card.prompt_html = clean_html(prompt_html)
    card.prompt_text = clean_text(card.prompt_html)
    card.data = {**(card.data or {}), **data}


def add_manual_card(
    session: Session, context_id: int, unit: Unit | None, kind: CardKind, prompt_html: str,
    data: dict[str, Any],
) -> Card:  # fmt: skip
    """Add an instructor's own card (a draft) to the course, optionally tied to a unit."""
    card = Card(
        context_id=context_id,
        unit_id=unit.id if unit else None,
        key=f"manual:{uuid.uuid4().hex}",
        kind=kind.value,
        origin="manual",
        status=CardStatus.DRAFT,
        title=unit.title if unit else "",
        data={name: [] for name in ANSWER_FIELDS},
        provenance={"source": "manual", "anchor": ""},
    )
    edit_card(card, prompt_html, data)
    session.add(card)
    session.flush()
    return card


def publish_drafts(session: Session, context_id: int, unit_id: int | None = None) -> int:
    """Publish every draft card of the course (or of one unit); returns how many."""
    query = update(Card).where(Card.context_id == context_id, Card.status == CardStatus.DRAFT)
    if unit_id is not None:
        query = query.where(Card.unit_id == unit_id)
    result = session.execute(query.values(status=CardStatus.PUBLISHED, updated_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


def ensure_context(session: Session, issuer: str, client_id: str, context_id: str) -> int:
    """The id of a platform's course, created if new (for scripted imports)."""
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    platforms = list(session.scalars(query))
    if len(platforms) != 1:
        problem = "no platform is" if not platforms else "several platforms are"
        raise PlatformError(
            f"{problem} registered with issuer {issuer!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + "; register it with `microreview platform add` or pass --client-id"
        )
    keys = {"platform_id": platforms[0].id, "context_id": context_id}
    return upsert(session, Context, keys, {})


def card_counts(session: Session, context_id: int) -> dict[int | None, dict[str, int]]:
    """Number of cards per unit and status (unit None: cards of the whole course)."""
    rows = session.execute(
        select(Card.unit_id, Card.status, func.count())
        .where(Card.context_id == context_id)
        .group_by(Card.unit_id, Card.status)
    )
    counts: dict[int | None, dict[str, int]] = {}
    for unit_id, status, count in rows:
        counts.setdefault(unit_id, {})[CardStatus(status).value] = count
    return counts
