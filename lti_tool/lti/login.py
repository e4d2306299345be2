"""OIDC login initiation: the first leg of every LTI 1.3 launch."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from lti_tool.exceptions import LaunchError
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import LoginState

LAUNCH_PATH = "/lti/launch"


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser next, and what to bind to it."""

    redirect_url: str
    state: str
    storage_target: str | None
    storage_secret: str | None
    auth_origin: str


def secret_digest(value: str) -> str:
    """A SHA-256 digest, so stored secrets are useless if the database leaks."""
    return hashlib.sha256(value.encode()).hexdigest()


def start_login(
    session: Session, params: dict[str, str], base_url: str, ttl: int, now: datetime
) -> LoginStart:
    """Validate a login request, remember its state and nonce, build the platform redirect."""
    issuer = params.get("iss", "")
    login_hint = params.get("login_hint", "")
    target = params.get("target_link_uri", "")
    if not issuer or not login_hint or not target:
        raise LaunchError(
            "the login request lacks iss, login_hint or target_link_uri",
            status=400,
            advice="Start the tool from your LMS; this address is not meant to be opened directly.",
        )
    platform = DbToolConf(session).find_platform(issuer, params.get("client_id") or None)
    if platform is None:
        raise LaunchError(
            f"no platform is registered for issuer {issuer!r}"
            + (f" and client id {params['client_id']!r}" if params.get("client_id") else ""),
            status=400,
            advice="Ask the LMS administrator to register Microreview (Dynamic Registration, or "
            "`microreview platform add`).",
        )
    if not _same_tool(target, base_url):
        raise LaunchError(
            "target_link_uri does not point at this tool",
            status=400,
            advice="The LMS tool settings must use this tool's URL as the target link URI.",
        )
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    storage_target = params.get("lti_storage_target") or None
    storage_secret = secrets.token_urlsafe(24) if storage_target else None
    session.add(
        LoginState(
            state=state,
            nonce=nonce,
            issuer=platform.issuer,
            client_id=platform.client_id,
            target_link_uri=target,
            storage_target=storage_target,
            storage_secret=secret_digest(storage_secret) if storage_secret else None,
            login_query=urlencode(sorted(params.items())),
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": base_url.rstrip("/") + LAUNCH_PATH,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(
        redirect_url=platform.auth_login_url + separator + urlencode(query),
        state=state,
        storage_target=storage_target,
        storage_secret=storage_secret,
        auth_origin=_origin(platform.auth_login_url),
    )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _same_tool(target: str, base_url: str) -> bool:
    base = base_url.rstrip("/")
    return target == base or target.startswith(base + "/")
