"""Signed links in reminders: open my review (expiring, revocable) and unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin
from sqlalchemy.orm import Session

from lti_tool.models.review import ReminderPreference
from lti_tool.scheduling.exceptions import InvalidLinkError

_SESSION_SALT = "microreview.session-link.v1"
_UNSUBSCRIBE_SALT = "microreview.unsubscribe.v1"


class _Serializer(URLSafeTimedSerializer):
    """URL-safe timed tokens that skip the zlib attempt when signing.

    A payload of a few numbers never shrinks, and trying costs more than the rest of signing
    (a sweep signs two tokens per email). `loads` reads these tokens as before: only a payload
    that starts with "." is decompressed.
    """

    def dump_payload(self, obj: Any) -> bytes:
        """The payload as compact JSON in URL-safe base64, never compressed."""
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@dataclass(frozen=True)
class SessionLink:
    """What a session link opens: one learner's review in one course placement."""

    user_id: int
    context_id: int
    placement_id: int | None
    generation: int


class LinkSigner:
    """Signs and checks reminder links with the installation's secret key."""

    def __init__(self, secret_key: str, ttl: int):
        self._session = _Serializer(secret_key, salt=_SESSION_SALT)
        self._unsubscribe = _Serializer(secret_key, salt=_UNSUBSCRIBE_SALT)
        self.ttl = ttl

    def session_token(self, link: SessionLink) -> str:
        """A token that opens this learner's review until it expires or is revoked."""
        return self._session.dumps(
            [link.user_id, link.context_id, link.placement_id, link.generation]
        )

    def open_session(self, session: Session, token: str) -> SessionLink:
        """Check a session token: signature, age, and that the learner has not revoked it."""
        try:
            user_id, context_id, placement_id, generation = self._session.loads(
                token, max_age=self.ttl
            )
        except SignatureExpired as exc:
            raise InvalidLinkError("this review link has expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise InvalidLinkError("this review link is not valid") from exc
        pref = session.get(ReminderPreference, user_id)
        if pref is None or pref.link_generation != generation:
            raise InvalidLinkError("this review link was revoked")
        return SessionLink(user_id, context_id, placement_id, generation)

    def unsubscribe_token(self, user_id: int) -> str:
        """A token that unsubscribes a learner from reminders (never expires)."""
        return self._unsubscribe.dumps(user_id)

    def unsubscribe_user(self, token: str) -> int:
        """The learner an unsubscribe token names."""
        try:
            return int(self._unsubscribe.loads(token))
        except (BadSignature, ValueError, TypeError) as exc:
            raise InvalidLinkError("this unsubscribe link is not valid") from exc


def revoke_links(pref: ReminderPreference) -> None:
    """Invalidate every session link sent so far."""
    pref.link_generation += 1
