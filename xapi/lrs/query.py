"""Reading statements from the embedded LRS: every GET filter, ordering and `more` cursors."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, union
from sqlalchemy.orm import Session, aliased

from xapi.lrs import formats
from xapi.lrs.exceptions import BadRequest
from xapi.lrs.models import LrsStatement, LrsStatementRelation

MAX_PAGE = 500


@dataclass(frozen=True)
class StatementQuery:
    """The filters of a GET /statements request (already validated), plus the paging cursor."""

    agent_key: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: str | None = None
    until: str | None = None
    limit: int = 0
    ascending: bool = False
    format: str = "exact"
    attachments: bool = False
    after_stored: str | None = None
    after_pk: int | None = None

    def cursor(self) -> str:
        """This query as an opaque `more` token."""
        raw = json.dumps(asdict(self), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_cursor(cls, token: str) -> StatementQuery:
        """The query a `more` token stands for; 400 when it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return cls(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise BadRequest("the more token is not valid") from exc

    @property
    def has_content_filter(self) -> bool:
        """True when a filter other than time, limit or order is set."""
        return any((self.agent_key, self.verb, self.activity, self.registration))


def _related(table: Any, kind: str, key: str) -> ColumnElement[bool]:
    return exists().where(
        LrsStatementRelation.statement_pk == table.pk,
        LrsStatementRelation.kind == kind,
        LrsStatementRelation.key == key,
    )


def _content_filter(table: Any, query: StatementQuery) -> list[ColumnElement[bool]]:
    """Filters a StatementRef's target must meet for the referring statement to match too."""
    conditions: list[ColumnElement[bool]] = []
    if query.agent_key:
        agent = or_(table.actor_key == query.agent_key, table.object_agent_key == query.agent_key)
        if query.related_agents:
            agent = or_(agent, _related(table, "agent", query.agent_key))
        conditions.append(agent)
    if query.verb:
        conditions.append(table.verb == query.verb)
    if query.activity:
        activity = table.object_activity == query.activity
        if query.related_activities:
            activity = or_(activity, _related(table, "activity", query.activity))
        conditions.append(activity)
    if query.registration:
        conditions.append(table.registration == uuid.UUID(query.registration))
    return conditions


def _time_filter(table: Any, query: StatementQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.since:
        conditions.append(table.stored > formats.parse_timestamp(query.since, "since"))
    if query.until:
        conditions.append(table.stored <= formats.parse_timestamp(query.until, "until"))
    if query.after_stored is not None and query.after_pk is not None:
        stored = datetime.fromisoformat(query.after_stored)
        if query.ascending:
            conditions.append(
                or_(table.stored > stored, and_(table.stored == stored, table.pk > query.after_pk))
            )
        else:
            conditions.append(
                or_(table.stored < stored, and_(table.stored == stored, table.pk < query.after_pk))
            )
    return conditions


def find_statements(
    session: Session, tenant: str, query: StatementQuery
) -> tuple[list[str], StatementQuery | None]:
    """Payloads of one page of matching statements and the query for the next page (or None)."""
    page = min(query.limit or MAX_PAGE, MAX_PAGE)
    base = [LrsStatement.tenant == tenant, LrsStatement.voided == false()]
    direct = select(LrsStatement.pk).where(
        *base, *_content_filter(LrsStatement, query), *_time_filter(LrsStatement, query)
    )
    if query.has_content_filter:
        # Statements that target a matching statement match too (xAPI "StatementRef" rule).
        target = aliased(LrsStatement)
        referring = (
            select(LrsStatement.pk)
            .join(
                target,
                and_(target.tenant == tenant, target.statement_id == LrsStatement.object_ref),
            )
            .where(*base, *_content_filter(target, query), *_time_filter(LrsStatement, query))
        )
        matching = union(direct, referring).subquery()
        where = LrsStatement.pk.in_(select(matching.c.pk))
        statement = select(LrsStatement.pk, LrsStatement.stored, LrsStatement.payload).where(where)
    else:
        statement = direct.with_only_columns(
            LrsStatement.pk, LrsStatement.stored, LrsStatement.payload
        )
    order = (
        (LrsStatement.stored.asc(), LrsStatement.pk.asc())
        if query.ascending
        else (LrsStatement.stored.desc(), LrsStatement.pk.desc())
    )
    rows = session.execute(statement.order_by(*order).limit(page + 1)).all()
    more = None
    if len(rows) > page:
        rows = rows[:page]
        last = rows[-1]
        more = replace(query, after_stored=last.stored.isoformat(), after_pk=last.pk)
    return [row.payload for row in rows], more


def get_statement(session: Session, tenant: str, statement_id: str, *, voided: bool) -> str | None:
    """Payload of one statement by id; a voided one only when asked by voidedStatementId."""
    row = session.execute(
        select(LrsStatement.payload, LrsStatement.voided).where(
            LrsStatement.tenant == tenant,
            LrsStatement.statement_id == uuid.UUID(statement_id),
        )
    ).first()
    if row is None or row.voided != voided:
        return None
    return str(row.payload)
