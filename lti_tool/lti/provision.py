"""Turn a verified launch into rows: course, person, membership and placement."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti import claims
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.roles import map_roles
from lti_tool.models import Context, Deployment, Membership, Placement, Platform, User
from lti_tool.upsert import upsert


def _context_id(session: Session, platform: Platform, deployment: Deployment, body: dict) -> int:
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
    return upsert(
        session,
        Context,
        {"platform_id": platform.id, "context_id": str(key)},
        values,
        {"created_at": utcnow()},
    )


def _user_id(
    session: Session, platform: Platform, body: dict, context_id: int, roles: list[str]
) -> int | None:
    if not body.get("sub"):
        return None
    values: dict[str, Any] = {}
    name = body.get("name") or " ".join(
        str(p) for p in (body.get("given_name"), body.get("family_name")) if p
    )
    if name:
        values["name"] = str(name)[:255]
    if body.get("email"):
        values["email"] = str(body["email"])[:320]
    user_id = upsert(
        session,
        User,
        {"platform_id": platform.id, "sub": str(body["sub"])},
        values,
        {"created_at": utcnow()},
    )
    upsert(
        session,
        Membership,
        {"context_id": context_id, "user_id": user_id},
        {"roles": roles, "updated_at": utcnow()},
        {"status": "Active", "source": "launch"},
    )
    return user_id


def _placement_id(session: Session, context_id: int, body: dict) -> int | None:
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
    return upsert(
        session,
        Placement,
        {"context_id": context_id, "resource_link_id": str(link["id"])},
        values,
        {"created_at": utcnow()},
    )


def provision(
    session: Session, platform: Platform, deployment: Deployment, body: dict[str, Any]
) -> LaunchIdentity:
    """Record what the launch says about course, person and placement; return the identity."""
    roles = [str(r) for r in body.get(claims.ROLES) or []]
    context_id = _context_id(session, platform, deployment, body)
    user_id = _user_id(session, platform, body, context_id, roles)
    placement_id = _placement_id(session, context_id, body)
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
        role=map_roles(roles),
        placement_id=placement_id,
        message_type=str(body[claims.MESSAGE_TYPE]),
        deep_link=deep_link,
    )
