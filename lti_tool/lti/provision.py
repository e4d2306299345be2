"""Turn a verified launch into rows: used nonce, course, person, membership and placement.

On PostgreSQL all five writes go to the server as one statement (data-modifying CTEs), so a
launch pays one round trip for them instead of five; SQLite runs them one by one. Both run in
the caller's transaction, so a replayed nonce rolls the whole launch back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, literal, null, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti import claims
from lti_tool.lti.course_link import course_link
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.roles import map_roles
from lti_tool.models import Context, Deployment, Membership, Placement, Platform, UsedNonce, User
from lti_tool.upsert import insert_once, upsert, upsert_insert


@dataclass(frozen=True)
class RowWrite:
    """One upsert: the unique key, the columns to refresh, the columns set only on insert."""

    keys: dict[str, Any]
    values: dict[str, Any]
    on_insert: dict[str, Any]


def _context_write(
    platform: Platform, deployment: Deployment, body: dict, now: datetime
) -> RowWrite:
    claim = body.get(claims.CONTEXT) or {}
    link = body.get(claims.RESOURCE_LINK) or {}
    # A launch may come without a course context: the resource link then stands for the course.
    key = claim.get("id") or f"link:{deployment.deployment_id}:{link.get('id', '')}"
    values: dict[str, Any] = {"deployment_id": deployment.id}
    if claim.get("title"):
        values["title"] = str(claim["title"])[:500]
    if claim.get("label"):
        values["label"] = str(claim["label"])[:255]
    nrps = (body.get(claims.NRPS) or {}).get("context_memberships_url")
    if nrps:
        values["nrps_url"] = str(nrps)
    lms_url = course_link(body)
    if lms_url:
        values["lms_url"] = lms_url[:1000]
    return RowWrite(
        {"platform_id": platform.id, "context_id": str(key)}, values, {"created_at": now}
    )


def _user_write(platform: Platform, body: dict, now: datetime) -> RowWrite | None:
    if not body.get("sub"):
        return None  # anonymous launch: no person to record
    values: dict[str, Any] = {}
    name = body.get("name") or " ".join(
        str(p) for p in (body.get("given_name"), body.get("family_name")) if p
    )
    if name:
        values["name"] = str(name)[:255]
    if body.get("email"):
        values["email"] = str(body["email"])[:320]
    return RowWrite(
        {"platform_id": platform.id, "sub": str(body["sub"])}, values, {"created_at": now}
    )


def _membership_values(roles: list[str], now: datetime) -> RowWrite:
    return RowWrite(
        {}, {"roles": roles, "updated_at": now}, {"status": "Active", "source": "launch"}
    )


def _placement_write(body: dict, now: datetime) -> RowWrite | None:
    if body.get(claims.MESSAGE_TYPE) != claims.RESOURCE_LINK_REQUEST:
        return None
    link = body.get(claims.RESOURCE_LINK) or {}
    values: dict[str, Any] = {}
    if link.get("title"):
        values["title"] = str(link["title"])[:500]
    ags = body.get(claims.AGS_ENDPOINT) or {}
    if ags.get("lineitem"):
        values["lineitem_url"] = str(ags["lineitem"])
    if ags.get("lineitems"):
        values["lineitems_url"] = str(ags["lineitems"])
    if ags:
        values["ags_scopes"] = [str(s) for s in ags.get("scope") or []]
    return RowWrite({"resource_link_id": str(link["id"])}, values, {"created_at": now})


@dataclass(frozen=True)
class LaunchWrites:
    """Everything one launch writes."""

    nonce: dict[str, Any]
    context: RowWrite
    user: RowWrite | None
    membership: RowWrite
    placement: RowWrite | None


def launch_writes(
    platform: Platform, deployment: Deployment, body: dict[str, Any], nonce: dict[str, Any]
) -> LaunchWrites:
    """The rows a verified launch records (nonce: the UsedNonce row that consumes it)."""
    now = utcnow()
    roles = [str(r) for r in body.get(claims.ROLES) or []]
    return LaunchWrites(
        nonce=nonce,
        context=_context_write(platform, deployment, body, now),
        user=_user_write(platform, body, now),
        membership=_membership_values(roles, now),
        placement=_placement_write(body, now),
    )


def record_launch(
    session: Session,
    platform: Platform,
    deployment: Deployment,
    body: dict[str, Any],
    writes: LaunchWrites,
) -> LaunchIdentity | None:
    """Consume the nonce and record the launch; None if the nonce was already used."""
    if session.get_bind().dialect.name == "postgresql":
        ids = _write_postgresql(session, writes)
    else:
        ids = _write_one_by_one(session, writes)
    if ids is None:
        return None
    context_id, user_id, placement_id = ids
    deep_link: dict[str, Any] = {}
    if body.get(claims.MESSAGE_TYPE) == claims.DEEP_LINKING_REQUEST:
        settings = body[claims.DEEP_LINKING_SETTINGS]
        deep_link = {
            "return_url": settings["deep_link_return_url"],
            "data": settings.get("data"),
            "deployment_id": deployment.deployment_id,
            "accept_types": settings.get("accept_types") or [],
        }
    return LaunchIdentity(
        platform_id=platform.id,
        deployment_id=deployment.id,
        context_id=context_id,
        user_id=user_id,
        role=map_roles(writes.membership.values["roles"]),
        placement_id=placement_id,
        message_type=str(body[claims.MESSAGE_TYPE]),
        deep_link=deep_link,
    )


Ids = tuple[int, int | None, int | None]


def _write_one_by_one(session: Session, w: LaunchWrites) -> Ids | None:
    if not insert_once(session, UsedNonce, w.nonce):
        return None
    context_id = upsert(session, Context, w.context.keys, w.context.values, w.context.on_insert)
    user_id = placement_id = None
    if w.user is not None:
        user_id = upsert(session, User, w.user.keys, w.user.values, w.user.on_insert)
        keys = {"context_id": context_id, "user_id": user_id}
        upsert(session, Membership, keys, w.membership.values, w.membership.on_insert)
    if w.placement is not None:
        keys = {"context_id": context_id, **w.placement.keys}
        placement_id = upsert(session, Placement, keys, w.placement.values, w.placement.on_insert)
    return context_id, user_id, placement_id


def _write_postgresql(session: Session, w: LaunchWrites) -> Ids | None:
    def shape(write: RowWrite | None) -> tuple[tuple[str, ...], ...] | None:
        if write is None:
            return None
        return tuple(write.keys), tuple(write.values), tuple(write.on_insert)

    statement = _launch_statement(
        tuple(w.nonce),
        shape(w.context),  # type: ignore[arg-type]
        shape(w.user),
        shape(w.membership),  # type: ignore[arg-type]
        shape(w.placement),
    )
    params: dict[str, Any] = {f"n_{k}": v for k, v in w.nonce.items()}
    for prefix, write in (("c", w.context), ("u", w.user), ("m", w.membership), ("p", w.placement)):
        if write is not None:
            for part in (write.keys, write.values, write.on_insert):
                params.update({f"{prefix}_{k}": v for k, v in part.items()})
    fresh, context_id, user_id, placement_id = session.execute(statement, params).one()
    if not fresh:
        return None
    return int(context_id), user_id, placement_id


Shape = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _bound(table: Table, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: bindparam(f"{prefix}_{n}", type_=table.c[n].type) for n in names}


def _upsert_cte(
    table: Table, prefix: str, shape: Shape, extra: dict[str, Any], conflict: list[str], name: str
) -> Any:
    keys, values, on_insert = shape
    columns = keys + values + on_insert
    fixed = {**_defaults(table, {*extra, *columns}), **extra}
    statement = upsert_insert(
        "postgresql", table, conflict, columns, values, prefix=prefix, fixed=fixed
    )
    return statement.cte(name)


def _defaults(table: Table, given: set[str]) -> dict[str, Any]:
    # SQLAlchemy applies Python-side column defaults to a top-level INSERT only, not to one
    # inside a CTE, so spell them out.
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or not hasattr(default, "arg"):
            continue
        value = default.arg(None) if default.is_callable else default.arg  # type: ignore[operator]
        defaults[column.name] = literal(value, type_=column.type)
    return defaults


@lru_cache(maxsize=128)
def _launch_statement(
    nonce: tuple[str, ...],
    context: Shape,
    user: Shape | None,
    membership: Shape,
    placement: Shape | None,
) -> Select[Any]:
    nonces: Table = UsedNonce.__table__  # type: ignore[assignment]
    used = (
        postgresql.insert(nonces)
        .values(_bound(nonces, "n", nonce))
        .on_conflict_do_nothing()
        .returning(nonces.c.nonce)
        .cte("used_nonce")
    )
    contexts: Table = Context.__table__  # type: ignore[assignment]
    ctx = _upsert_cte(contexts, "c", context, {}, ["platform_id", "context_id"], "ctx")
    context_id = select(ctx.c.id).scalar_subquery()
    user_id: Any = null()
    placement_id: Any = null()
    if user is not None:
        users: Table = User.__table__  # type: ignore[assignment]
        usr = _upsert_cte(users, "u", user, {}, ["platform_id", "sub"], "usr")
        user_id = select(usr.c.id).scalar_subquery()
        memberships: Table = Membership.__table__  # type: ignore[assignment]
        member = _upsert_cte(
            memberships,
            "m",
            membership,
            {"context_id": context_id, "user_id": user_id},
            ["context_id", "user_id"],
            "member",
        )
        # Reference the membership write so it is part of the statement.
        user_id = select(usr.c.id).where(select(member.c.id).exists()).scalar_subquery()
    if placement is not None:
        placements: Table = Placement.__table__  # type: ignore[assignment]
        plc = _upsert_cte(
            placements,
            "p",
            placement,
            {"context_id": context_id},
            ["context_id", "resource_link_id"],
            "plc",
        )
        placement_id = select(plc.c.id).scalar_subquery()
    fresh = select(func.count()).select_from(used).scalar_subquery()
    return select(fresh, context_id, user_id, placement_id)
