"""OIDC login initiation: the first leg of every LTI 1.3 launch.

The OIDC state is a signed, expiring token that carries the login's nonce, platform and
fallback details, so a login writes nothing to the database; the nonce's one-time use is
enforced when the launch consumes it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from lti_tool.exceptions import LaunchError
from lti_tool.lti.tool_config import DbToolConf

LAUNCH_PATH = "/lti/launch"
_SALT = "microreview.oidc-state.v1"


@dataclass(frozen=True)
class LoginState:
    """What the tool remembers of a login, carried inside the signed state."""

    state: str
    nonce: str
    issuer: str
    client_id: str
    storage_target: str | None
    storage_secret: str | None  # a digest; the secret itself lives in the platform's storage
    login_query: str

    @property
    def cookie_name(self) -> str:
        """The name of the cookie that ties this login to the browser that started it."""
        return "mr_state_" + secret_digest(self.state)[:24]


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser next, and what to bind to it."""

    redirect_url: str
    login: LoginState
    storage_secret: str | None
    auth_origin: str


def secret_digest(value: str) -> str:
    """A SHA-256 digest, so a secret is never stored or sent where it could be replayed."""
    return hashlib.sha256(value.encode()).hexdigest()


class StateSigner:
    """Signs and reads OIDC state values."""

    def __init__(self, secret_key: str, ttl: int):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.ttl = ttl

    def issue(
        self,
        nonce: str,
        issuer: str,
        client_id: str,
        storage_target: str | None,
        storage_digest: str | None,
        login_query: str,
    ) -> LoginState:
        """A new login state."""
        payload = [
            nonce,
            issuer,
            client_id,
            storage_target or "",
            storage_digest or "",
            login_query,
        ]
        state = self._serializer.dumps(payload)
        return self._build(state, payload)

    def read(self, state: str) -> LoginState:
        """The login behind a state value; LaunchError if forged or expired."""
        try:
            payload = self._serializer.loads(state, max_age=self.ttl)
        except SignatureExpired as exc:
            raise LaunchError(
                "the sign-in took too long and expired",
                advice="Launch the tool again from your course.",
            ) from exc
        except BadSignature as exc:
            raise LaunchError("the launch's state was not issued by this tool") from exc
        return self._build(state, payload)

    @staticmethod
    def _build(state: str, payload: list[str]) -> LoginState:
        nonce, issuer, client_id, target, digest, query = payload
        return LoginState(state, nonce, issuer, client_id, target or None, digest or None, query)


@dataclass(frozen=True)
class LoginTarget:
    """What a login needs of a platform registration."""

    issuer: str
    client_id: str
    auth_login_url: str


# Logins only read the registration, and the launch checks it again in the database, so a
# short-lived per-process copy is safe and spares every login a database round trip.
LOGIN_CACHE_SECONDS = 10.0
_targets: dict[tuple[str, str | None], tuple[float, LoginTarget]] = {}


def login_target(session: Session, issuer: str, client_id: str | None) -> LoginTarget | None:
    """The registration a login goes to (cached briefly; unknown platforms are never cached)."""
    key = (issuer, client_id)
    cached = _targets.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    platform = DbToolConf(session).find_platform(issuer, client_id)
    if platform is None:
        return None
    target = LoginTarget(platform.issuer, platform.client_id, platform.auth_login_url)
    if len(_targets) > 1000:
        _targets.clear()
    _targets[key] = (time.monotonic() + LOGIN_CACHE_SECONDS, target)
    return target


def start_login(
    session: Session, signer: StateSigner, params: dict[str, str], base_url: str
) -> LoginStart:
    """Validate a login request and build the redirect to the platform's auth endpoint."""
    issuer = params.get("iss", "")
    login_hint = params.get("login_hint", "")
    target = params.get("target_link_uri", "")
    if not issuer or not login_hint or not target:
        raise LaunchError(
            "the login request lacks iss, login_hint or target_link_uri",
            status=400,
            advice="Start the tool from your LMS; this address is not meant to be opened directly.",
        )
    platform = login_target(session, issuer, params.get("client_id") or None)
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
    storage_target = params.get("lti_storage_target") or None
    storage_secret = secrets.token_urlsafe(24) if storage_target else None
    login = signer.issue(
        nonce=secrets.token_urlsafe(24),
        issuer=platform.issuer,
        client_id=platform.client_id,
        storage_target=storage_target,
        storage_digest=secret_digest(storage_secret) if storage_secret else None,
        login_query=urlencode(sorted(params.items())),
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": base_url.rstrip("/") + LAUNCH_PATH,
        "login_hint": login_hint,
        "state": login.state,
        "nonce": login.nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginStart(
        redirect_url=platform.auth_login_url + separator + urlencode(query),
        login=login,
        storage_secret=storage_secret,
        auth_origin=origin_of(platform.auth_login_url),
    )


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _same_tool(target: str, base_url: str) -> bool:
    base = base_url.rstrip("/")
    return target == base or target.startswith(base + "/")
