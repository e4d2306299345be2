"""Names and Role Provisioning: the course roster, every page of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.exceptions import ServiceError
from lti_tool.lti import claims
from lti_tool.lti.platform_api import PlatformApi, next_page
from lti_tool.models import Context, Membership, User

MAX_PAGES = 500


def roster_is_stale(context: Context, now: datetime, refresh_seconds: int) -> bool:
    """True when the roster was never fetched or is older than refresh_seconds."""
    if not context.nrps_url:
        return False
    return (
        context.nrps_synced_at is None
        or (now - context.nrps_synced_at).total_seconds() >= refresh_seconds
    )


def sync_roster(api: PlatformApi, context: Context) -> int:
    """Fetch all pages of the roster and store members with roles and status; returns the count."""
    if not context.nrps_url:
        raise ServiceError("the LMS gave this course no roster service")
    session: Session = api.session
    url: str | None = context.nrps_url
    seen = 0
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = api.request("GET", url, [claims.SCOPE_NRPS], accept=claims.MEDIA_MEMBERSHIPS)
        for member in response.json().get("members", []):
            _store_member(session, context, member)
            seen += 1
        url = next_page(response)
    context.nrps_synced_at = api.now
    session.flush()
    return seen


def _store_member(session: Session, context: Context, member: dict[str, object]) -> None:
    sub = str(member.get("user_id") or "")
    if not sub:
        return
    user = session.scalars(
        select(User).where(User.platform_id == context.platform_id, User.sub == sub)
    ).first()
    if user is None:
        user = User(platform_id=context.platform_id, sub=sub)
        session.add(user)
        session.flush()
    if member.get("name"):
        user.name = str(member["name"])[:255]
    if member.get("email"):
        user.email = str(member["email"])[:320]
    membership = session.scalars(
        select(Membership).where(Membership.context_id == context.id, Membership.user_id == user.id)
    ).first()
    if membership is None:
        membership = Membership(context_id=context.id, user_id=user.id, source="nrps")
        session.add(membership)
    roles = member.get("roles")
    membership.roles = [str(r) for r in roles] if isinstance(roles, list) else []
    membership.status = str(member.get("status") or "Active")
