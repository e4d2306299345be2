"""Builders for scheduling tests: a course with units and published cards, straight in the DB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from lti_tool.db import Database
from lti_tool.models import (
    Card,
    CardStatus,
    Context,
    Deployment,
    Membership,
    Placement,
    Platform,
    Unit,
    User,
)
from xapi.db import XapiBase, create_xapi_tables
from xapi.outbox import OutboxEntry

ISSUER = "https://lms.example.edu"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday

CHOICE_DATA: dict[str, Any] = {
    "choices": [
        {"ident": "a", "text": "Lock out the machine", "correct": True},
        {"ident": "b", "text": "Keep working", "correct": False},
        {"ident": "c", "text": "Call a friend", "correct": False},
    ]
}
RIGHT = {"choice": ["a"]}
WRONG = {"choice": ["b"]}


@dataclass
class CourseRows:
    """Ids of a built course."""

    platform_id: int
    deployment_id: int
    context_id: int
    placement_id: int
    learner_ids: list[int]
    instructor_id: int
    unit_ids: list[int]
    card_ids: list[int] = field(default_factory=list)


def add_card(
    session: Session,
    context_id: int,
    unit_id: int | None,
    key: str,
    kind: str = "single_choice",
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> Card:
    """A published card with the given answer data (default: a three-way single choice)."""
    card = Card(
        context_id=context_id,
        unit_id=unit_id,
        key=key,
        kind=kind,
        status=CardStatus.PUBLISHED,
        title=extra.pop("title", f"Card {key}"),
        prompt_html=f"<p>Question {key}?</p>",
        prompt_text=f"Question {key}?",
        data=data if data is not None else CHOICE_DATA,
        feedback_html=extra.pop("feedback_html", "<p>Because safety first.</p>"),
        **extra,
    )
    session.add(card)
    session.flush()
    return card


def build_course(
    session: Session,
    *,
    units: int = 2,
    cards_per_unit: int = 3,
    learners: int = 1,
    critical: tuple[int, ...] = (),
    issuer: str = ISSUER,
    lineitem: str | None = None,
    email: bool = True,
) -> CourseRows:
    """A platform, course, placement, learners and an instructor, units and published cards."""
    platform = Platform(
        name="LMS",
        issuer=issuer,
        client_id="client-1",
        auth_login_url=issuer + "/auth",
        auth_token_url=issuer + "/token",
        key_set_url=issuer + "/jwks",
    )
    session.add(platform)
    session.flush()
    deployment = Deployment(platform_id=platform.id, deployment_id="dep-1")
    session.add(deployment)
    session.flush()
    context = Context(
        platform_id=platform.id,
        deployment_id=deployment.id,
        context_id="course-1",
        title="Forklift safety",
    )
    session.add(context)
    session.flush()
    placement = Placement(
        context_id=context.id,
        resource_link_id="link-1",
        title="Daily review",
        lineitem_url=lineitem,
    )
    session.add(placement)
    people = []
    for i in range(learners + 1):
        user = User(
            platform_id=platform.id,
            sub=f"user-{i}",
            name=f"Person {i}",
            email=f"person{i}@example.org" if email else "",
        )
        session.add(user)
        session.flush()
        role = "http://purl.imsglobal.org/vocab/lis/v2/membership#" + (
            "Instructor" if i == 0 else "Learner"
        )
        session.add(Membership(context_id=context.id, user_id=user.id, roles=[role]))
        people.append(user.id)
    rows = CourseRows(platform.id, deployment.id, context.id, 0, people[1:], people[0], [])
    for u in range(units):
        unit = Unit(
            context_id=context.id,
            key=f"u{u}",
            position=u,
            title=f"Unit {u}",
            body_html=f"<p>Material of unit {u}.</p>",
            critical=u in critical,
        )
        session.add(unit)
        session.flush()
        rows.unit_ids.append(unit.id)
        for c in range(cards_per_unit):
            rows.card_ids.append(add_card(session, context.id, unit.id, f"u{u}c{c}").id)
    session.flush()
    rows.placement_id = placement.id
    return rows


def outbox_count(session: Session, **where: Any) -> int:
    """Outbox rows (optionally filtered by column values)."""
    query = select(func.count()).select_from(OutboxEntry)
    for name, value in where.items():
        query = query.where(getattr(OutboxEntry, name) == value)
    return int(session.scalar(query) or 0)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test database with the xAPI outbox tables too, emptied afterwards."""
    database = Database(database_url)
    create_xapi_tables(database.engine)
    yield database
    database.engine.dispose()
    clear_xapi_tables(database_url)


def clear_xapi_tables(url: str) -> None:
    """Empty the xAPI tables (the shared PostgreSQL database outlives a test)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in XapiBase.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
