"""Launch validation: pylti1p3's message launch plus every check it lacks.

Order matters: nothing is consumed (state, nonce) until the token is fully verified and the
browser is known to be the one that started the login.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.session import SessionService
from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

from lti_tool.exceptions import LaunchError, PendingDeploymentError
from lti_tool.lti import claims
from lti_tool.lti.login import LoginState, StateSigner, secret_digest
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.tool_config import DbToolConf
from lti_tool.models import Deployment, DeploymentStatus, Platform, UsedNonce

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchChecks:
    """The knobs of launch validation, taken from settings."""

    base_url: str
    iat_max_age: int
    clock_skew: int
    jwks_default_ttl: int
    http_timeout: float


# The platform and the launch's deployment in one round trip; built once, reused by every launch.
_REGISTRATION = (
    select(Platform, Deployment)
    .outerjoin(
        Deployment,
        and_(
            Deployment.platform_id == Platform.id,
            Deployment.deployment_id == bindparam("deployment_id"),
        ),
    )
    .where(Platform.issuer == bindparam("issuer"), Platform.client_id == bindparam("client_id"))
)


class _Unused(SessionService, CookieService):
    """pylti1p3 insists on session and cookie services; state lives in the database instead."""

    def __init__(self) -> None:
        pass

    def get_cookie(self, name: str) -> str | None:
        """Never used: the state cookie is read by the view."""
        return None

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        """Never used: the state cookie is set by the view."""


class ToolMessageLaunch(MessageLaunch):  # type: ignore[type-arg]
    """A pylti1p3 launch validated against the database, with the Security Framework checks."""

    def __init__(
        self,
        form: dict[str, str],
        session: Session,
        http: requests.Session,
        checks: LaunchChecks,
        signer: StateSigner,
        now: datetime,
    ):
        self.form = form
        self.signer = signer
        self.db = session
        self.checks = checks
        self.now = now
        self.login: LoginState | None = None
        self.platform: Platform | None = None
        self.deployment: Deployment | None = None
        self._deployment_row: Deployment | None = None
        self.keys = PlatformKeys(session, http, checks.jwks_default_ttl, checks.http_timeout)
        unused = _Unused()
        super().__init__(
            None,
            DbToolConf(session),
            session_service=unused,
            cookie_service=unused,
            requests_session=http,
        )

    def _get_request_param(self, key: str) -> str:
        return self.form.get(key, "")

    @property
    def body(self) -> dict[str, Any]:
        """The verified id_token claims."""
        return self._jwt.get("body", {})  # type: ignore[return-value]

    def validate(self) -> ToolMessageLaunch:
        """Run every check; raises LaunchError naming the first one that fails."""
        try:
            self.validate_state()
            self.validate_jwt_format()
            self._validate_header()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
        except LtiException as exc:
            raise LaunchError(str(exc)) from exc
        self._validated = True
        return self

    def validate_state(self) -> ToolMessageLaunch:
        """The state must be one this tool signed at login and not expired."""
        state = self.form.get("state", "")
        if not state:
            raise LaunchError("the launch has no state parameter", status=400)
        self.login = self.signer.read(state)
        return self

    def _validate_header(self) -> None:
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LaunchError(
                f"id_token algorithm {header.get('alg')!r} is not allowed (RS256 only)"
            )
        if not header.get("kid"):
            raise LaunchError("id_token header has no kid")

    def validate_registration(self) -> ToolMessageLaunch:
        """Exact iss, aud containing our client id, azp equal to it when present."""
        assert self.login is not None
        body = self.body
        if body.get("iss") != self.login.issuer:
            raise LaunchError("id_token iss does not match the platform that started the login")
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        client_id = self.login.client_id
        if client_id not in audiences:
            raise LaunchError("id_token aud does not contain this tool's client id")
        azp = body.get("azp")
        if azp is not None and azp != client_id:
            raise LaunchError("id_token azp is not this tool's client id")
        if len(audiences) > 1 and azp is None:
            raise LaunchError("id_token has several audiences but no azp")
        deployment_id = str(body.get(claims.DEPLOYMENT_ID) or "")
        found = self.db.execute(
            _REGISTRATION,
            {"issuer": self.login.issuer, "client_id": client_id, "deployment_id": deployment_id},
        ).first()
        if found is None:
            raise LaunchError("the platform registration was removed during the launch")
        self.platform, self._deployment_row = found
        return self

    def get_client_id(self) -> str:
        """Our client id (pylti1p3 would take aud[0], whatever it is)."""
        assert self.login is not None
        return self.login.client_id

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        """Signature by the platform key named by kid, exp, and an iat window."""
        assert self.platform is not None
        key = self.keys.key_for(self.platform.key_set_url, self._jwt["header"]["kid"], self.now)
        try:
            jwt.decode(
                self._get_id_token(),
                key=key,
                algorithms=["RS256"],
                audience=self.get_client_id(),
                issuer=self.platform.issuer,
                leeway=self.checks.clock_skew,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise LaunchError("id_token signature is invalid") from exc
        except jwt.ExpiredSignatureError as exc:
            raise LaunchError("id_token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise LaunchError("id_token iat is in the future") from exc
        except jwt.InvalidTokenError as exc:
            raise LaunchError(f"id_token is invalid: {exc}") from exc
        iat = self.body["iat"]
        oldest = self.now - timedelta(seconds=self.checks.iat_max_age + self.checks.clock_skew)
        if iat < oldest.timestamp():
            raise LaunchError("id_token iat is too old")
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        """The nonce must be the one sent at login (one-time use is enforced on consume)."""
        assert self.login is not None
        if not self.body.get("nonce"):
            raise LaunchError("id_token has no nonce")
        if self.body["nonce"] != self.login.nonce:
            raise LaunchError("id_token nonce does not match the login")
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        """The deployment must be known and approved; unknown ones are recorded as pending."""
        assert self.platform is not None
        deployment_id = self.body.get(claims.DEPLOYMENT_ID)
        if not deployment_id or not isinstance(deployment_id, str):
            raise LaunchError("id_token has no deployment_id", status=400)
        row = self._deployment_row
        if row is None:
            row = Deployment(
                platform_id=self.platform.id,
                deployment_id=deployment_id,
                status=DeploymentStatus.PENDING,
            )
            self.db.add(row)
            self.db.flush()
            log.info("new deployment recorded as pending for platform %s", self.platform.id)
        if row.status != DeploymentStatus.ACTIVE:
            raise PendingDeploymentError(
                f"deployment {deployment_id!r} of this platform is waiting for approval",
                advice="An administrator of Microreview must approve it: `microreview platform "
                f"approve --issuer {self.platform.issuer} --client-id {self.platform.client_id} "
                f"--deployment-id {deployment_id}`.",
            )
        self.deployment = row
        return self

    def validate_message(self) -> ToolMessageLaunch:
        """LTI Core: message type, version, roles, target link, per-type required claims."""
        assert self.login is not None
        body = self.body
        message_type = body.get(claims.MESSAGE_TYPE)
        if message_type not in claims.SUPPORTED_MESSAGES:
            raise LaunchError(
                f"message_type {message_type!r} is missing or not supported", status=400
            )
        if body.get(claims.VERSION) != claims.LTI_VERSION:
            raise LaunchError("LTI version claim is missing or is not 1.3.0", status=400)
        if not isinstance(body.get(claims.ROLES), list):
            raise LaunchError("the roles claim is missing", status=400)
        target = body.get(claims.TARGET_LINK_URI)
        base = self.checks.base_url.rstrip("/")
        if not isinstance(target, str) or not (target == base or target.startswith(base + "/")):
            raise LaunchError(
                "target_link_uri is missing or does not point at this tool", status=400
            )
        if message_type == claims.RESOURCE_LINK_REQUEST:
            if not (body.get(claims.RESOURCE_LINK) or {}).get("id"):
                raise LaunchError("resource link launch without resource_link.id", status=400)
        else:
            settings = body.get(claims.DEEP_LINKING_SETTINGS) or {}
            if not settings.get("deep_link_return_url"):
                raise LaunchError("deep linking launch without deep_link_return_url", status=400)
        return self

    def browser_is_bound(self, cookie: str | None, storage_secret: str | None) -> bool:
        """True if this browser started the login: our state cookie, or platform storage."""
        assert self.login is not None
        if cookie is not None and cookie == secret_digest(self.login.nonce)[:24]:
            return True
        return bool(
            storage_secret
            and self.login.storage_secret
            and secret_digest(storage_secret) == self.login.storage_secret
        )

    def nonce_row(self) -> dict[str, Any]:
        """The UsedNonce row that uses up this launch's nonce (and the state bound to it).

        Inserting it is what makes the launch one-time: a second insert finds it and the
        launch is refused as a replay, atomically across workers.
        """
        assert self.login is not None
        exp = datetime.fromtimestamp(self.body["exp"], tz=self.now.tzinfo)
        return {
            "issuer": self.login.issuer,
            "nonce": self.body["nonce"],
            "expires_at": max(exp, self.now) + timedelta(seconds=self.checks.clock_skew),
        }


def purge_expired(session: Session, now: datetime) -> int:
    """Delete nonces that can no longer be replayed (their tokens expired); returns the count."""
    result = session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    return int(result.rowcount)  # type: ignore[attr-defined]
