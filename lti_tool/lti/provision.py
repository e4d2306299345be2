"""Turn a verified launch into rows: course, person, membership and placement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import Base, utcnow
from lti_tool.lti import claims
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.roles import map_roles
from lti_tool.models import Context, Deployment, Membership, Placement, Platform, User


def _get_or_create(session: Session, model: type[Base], keys: dict[str, Any]) -> Any:
    """Fetch a row by its unique keys, or insert it; safe when two workers race."""
    query = select(model).filter_by(**keys)
    row = session.scalars(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**keys)
            session.add(row)
    except IntegrityError:
        row = session.scalars(query).one()
    return row


def provision(
    session: Session, platform: Platform, deployment: Deployment, body: dict[str, Any]
) -> LaunchIdentity:
    """Record what the launch says about course, person and placement; return the identity."""
    context_claim = body.get(claims.CONTEXT) or {}
    link = body.get(claims.RESOURCE_LINK) or {}
    # A launch may come without a course context: the resource link then stands for the course.
    context_key = context_claim.get("id") or f"link:{deployment.deployment_id}:{link.get('id', '')}"
    context = _get_or_create(
        session, Context, {"platform_id": platform.id, "context_id": str(context_key)}
    )
    context.deployment_id = deployment.id
    if context_claim.get("title"):
        context.title = str(context_claim["title"])[:500]
    if context_claim.get("label"):
        context.label = str(context_claim["label"])[:255]
    nrps = body.get(claims.NRPS) or {}
    if nrps.get("context_memberships_url"):
        context.nrps_url = nrps["context_memberships_url"]

    roles = [str(r) for r in body.get(claims.ROLES) or []]
    user_id = None
    if body.get("sub"):
        user = _get_or_create(session, User, {"platform_id": platform.id, "sub": str(body["sub"])})
        name = body.get("name") or " ".join(
            p for p in (body.get("given_name"), body.get("family_name")) if p
        )
        if name:
            user.name = str(name)[:255]
        if body.get("email"):
            user.email = str(body["email"])[:320]
        membership = _get_or_create(
            session, Membership, {"context_id": context.id, "user_id": user.id}
        )
        if membership.roles != roles:
            membership.roles = roles
        membership.updated_at = utcnow()
        user_id = user.id

    placement_id = None
    if body.get(claims.MESSAGE_TYPE) == claims.RESOURCE_LINK_REQUEST:
        placement = _get_or_create(
            session, Placement, {"context_id": context.id, "resource_link_id": str(link["id"])}
        )
        if link.get("title"):
            placement.title = str(link["title"])[:500]
        ags = body.get(claims.AGS_ENDPOINT) or {}
        if ags:
            placement.lineitem_url = ags.get("lineitem") or placement.lineitem_url
            placement.lineitems_url = ags.get("lineitems") or placement.lineitems_url
            placement.ags_scopes = list(ags.get("scope") or [])
        placement_id = placement.id

    deep_link: dict[str, Any] = {}
    if body.get(claims.MESSAGE_TYPE) == claims.DEEP_LINKING_REQUEST:
        settings = body[claims.DEEP_LINKING_SETTINGS]
        deep_link = {
            "return_url": settings["deep_link_return_url"],
            "data": settings.get("data"),
            "deployment_id": deployment.deployment_id,
            "accept_types": settings.get("accept_types") or [],
        }
    session.flush()
    return LaunchIdentity(
        platform_id=platform.id,
        deployment_id=deployment.id,
        context_id=context.id,
        user_id=user_id,
        role=map_roles(roles),
        placement_id=placement_id,
        message_type=str(body[claims.MESSAGE_TYPE]),
        deep_link=deep_link,
    )
