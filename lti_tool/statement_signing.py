"""Signed xAPI statements with the tool's own keys: the forwarder's signer, the verifier's keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.exceptions import ConfigError, PlatformError
from lti_tool.lrs_connections import connection, lrs_config
from lti_tool.models import Platform, ToolKey
from lti_tool.platforms import find_course
from lti_tool.secret_box import SecretBox
from lti_tool.settings import Settings
from xapi.client import LrsConfig
from xapi.signing import StatementSigner
from xapi.vocabulary import ActivityKind, Vocabulary


class ToolKeySigner:
    """Gives the forwarder a signer for the tool's active key: one small query per pass, the
    private key parsed only when the active key changes (after `microreview keys rotate`)."""

    def __init__(self, sessions: Callable[[], Session]):
        self.sessions = sessions
        self._signer: StatementSigner | None = None

    def __call__(self) -> StatementSigner:
        """The signer of the newest active key (ConfigError when the tool has none)."""
        with self.sessions() as session:
            row = session.execute(
                select(ToolKey.id, ToolKey.kid)
                .where(ToolKey.active.is_(True))
                .order_by(ToolKey.id.desc())
                .limit(1)
            ).first()
            if row is None:
                raise ConfigError(
                    "signed statements are on but the tool has no signing key: "
                    "run `microreview init`"
                )
            if self._signer is None or self._signer.kid != row.kid:
                pem = session.scalar(select(ToolKey.private_pem).where(ToolKey.id == row.id))
                assert pem is not None
                self._signer = StatementSigner.from_pem(pem, row.kid)
        return self._signer


def forwarder_signer(
    settings: Settings, sessions: Callable[[], Session]
) -> Callable[[], StatementSigner] | None:
    """The forwarder's `signer` when MICROREVIEW_XAPI_SIGN_STATEMENTS is on, else None."""
    return ToolKeySigner(sessions) if settings.xapi_sign_statements else None


def verification_jwks(session: Session) -> list[dict[str, Any]]:
    """Public JWKs of every key the tool ever had (current, rotated and retired) for verifying."""
    return [dict(jwk) for jwk in session.scalars(select(ToolKey.public_jwk).order_by(ToolKey.id))]


@dataclass
class VerifyTarget:
    """One LRS to read back, the platforms whose statements it holds, and the query filters."""

    config: LrsConfig
    platforms: list[str]
    filters: dict[str, Any] = field(default_factory=dict)


def verify_targets(
    session: Session,
    settings: Settings,
    *,
    issuer: str = "",
    client_id: str = "",
    context_id: str = "",
) -> list[VerifyTarget]:
    """The LRSs of every platform (or those of `issuer`/`client_id`), each once, with the
    course filter when `context_id` is given."""
    if context_id and not issuer:
        raise PlatformError("--context-id needs --issuer (course ids are per platform)")
    query = select(Platform).order_by(Platform.id)
    if issuer:
        query = query.where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    platforms = session.scalars(query).all()
    if not platforms:
        raise PlatformError("no platform matches; see `microreview platform list`")
    if context_id and len(platforms) != 1:
        raise PlatformError(f"{len(platforms)} platforms match issuer {issuer!r}; add --client-id")
    box = SecretBox(settings.secret_key)
    targets: dict[LrsConfig, VerifyTarget] = {}
    for platform in platforms:
        config = lrs_config(
            connection(session, platform.id, box), settings.base_url, box, settings.http_timeout
        )
        target = targets.setdefault(config, VerifyTarget(config, []))
        target.platforms.append(f"{platform.issuer} ({platform.client_id})")
    if context_id:
        course = find_course(session, platforms[0].id, context_id)
        course_iri = Vocabulary(settings.base_url).activity(ActivityKind.COURSE, str(course.id))
        for target in targets.values():
            target.filters.update(activity=course_iri, related_activities=True)
    return list(targets.values())
