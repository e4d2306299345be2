"""The instructor's course overview: roster, placements and grade delivery."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.lti.roles import Role, map_roles
from lti_tool.models import Context, Membership, Placement, ScoreSubmission, User


@dataclass(frozen=True)
class Person:
    """One member of the course as the overview shows them."""

    name: str
    role: str
    status: str
    source: str


@dataclass(frozen=True)
class Overview:
    """Everything the instructor course page shows."""

    context: Context
    people: list[Person]
    placements: list[Placement]
    scores_pending: int
    scores_sent: int


def build(session: Session, context_id: int) -> Overview:
    """The overview of one course (and nothing from any other course)."""
    context = session.get(Context, context_id)
    assert context is not None
    rows = session.execute(
        select(Membership, User)
        .join(User, Membership.user_id == User.id)
        .where(Membership.context_id == context_id)
        .order_by(User.name, User.sub)
    ).all()
    people = [
        Person(
            user.name or "(name not shared)",
            map_roles(m.roles).name.title() if map_roles(m.roles) != Role.NONE else "Other",
            m.status,
            m.source,
        )
        for m, user in rows
    ]
    placements = list(session.scalars(select(Placement).where(Placement.context_id == context_id)))
    counts: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(ScoreSubmission.status, func.count())
            .join(Placement, ScoreSubmission.placement_id == Placement.id)
            .where(Placement.context_id == context_id)
            .group_by(ScoreSubmission.status)
        )
    }
    return Overview(context, people, placements, counts.get("pending", 0), counts.get("sent", 0))
