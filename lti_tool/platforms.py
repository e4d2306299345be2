"""Platform registrations by hand: add, list, remove, approve deployments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.exceptions import PlatformError
from lti_tool.models import Context, Deployment, DeploymentStatus, Platform


def _check_url(name: str, url: str, allow_http: bool) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise PlatformError(f"--{name} must be an absolute https:// URL, got {url!r}")
    if parsed.scheme == "http" and not allow_http:
        raise PlatformError(f"--{name} must use https in production, got {url!r}")


def find_platform(session: Session, issuer: str, client_id: str) -> Platform:
    """The platform with this issuer and client id, or a PlatformError saying how to list them."""
    row = session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if row is None:
        raise PlatformError(
            f"no platform with issuer {issuer!r} and client id {client_id!r} "
            "(see `microreview platform list`)"
        )
    return row


def find_course(session: Session, platform_id: int, context_id: str) -> Context:
    """A platform's course by its LTI context id; PlatformError if it never used the tool."""
    course = session.scalars(
        select(Context).where(Context.platform_id == platform_id, Context.context_id == context_id)
    ).first()
    if course is None:
        raise PlatformError(f"no course {context_id!r} on that platform has used the tool")
    return course


def add_platform(
    session: Session,
    issuer: str,
    client_id: str,
    deployment_ids: list[str],
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    name: str = "",
    allow_http: bool = False,
) -> Platform:
    """Register a platform with active deployments; refuses duplicates and bad URLs."""
    for flag, url in (
        ("auth-login-url", auth_login_url),
        ("auth-token-url", auth_token_url),
        ("key-set-url", key_set_url),
    ):
        _check_url(flag, url, allow_http)
    if not issuer.strip() or not client_id.strip():
        raise PlatformError("--issuer and --client-id must not be empty")
    exists = session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if exists is not None:
        raise PlatformError(
            f"a platform with issuer {issuer!r} and client id {client_id!r} already exists "
            "(remove it first, or use another client id)"
        )
    platform = Platform(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
    )
    session.add(platform)
    session.flush()
    for deployment_id in dict.fromkeys(deployment_ids):
        session.add(
            Deployment(
                platform_id=platform.id, deployment_id=deployment_id, status=DeploymentStatus.ACTIVE
            )
        )
    session.flush()
    return platform


def remove_platform(session: Session, issuer: str, client_id: str) -> None:
    """Delete a platform and, through cascades, everything of its tenants."""
    session.delete(find_platform(session, issuer, client_id))
    session.flush()


def approve_deployment(session: Session, issuer: str, client_id: str, deployment_id: str) -> None:
    """Mark a deployment active (creating it if the platform never launched from it)."""
    platform = find_platform(session, issuer, client_id)
    row = session.scalars(
        select(Deployment).where(
            Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id
        )
    ).first()
    if row is None:
        row = Deployment(platform_id=platform.id, deployment_id=deployment_id)
        session.add(row)
    row.status = DeploymentStatus.ACTIVE
    session.flush()


def describe_platforms(session: Session) -> list[dict[str, Any]]:
    """Every platform with its deployments, as plain data."""
    return [
        {
            "id": p.id,
            "name": p.name,
            "issuer": p.issuer,
            "client_id": p.client_id,
            "auth_login_url": p.auth_login_url,
            "auth_token_url": p.auth_token_url,
            "key_set_url": p.key_set_url,
            "deployments": [
                {"deployment_id": d.deployment_id, "status": d.status.value} for d in p.deployments
            ],
        }
        for p in session.scalars(select(Platform).order_by(Platform.id))
    ]
