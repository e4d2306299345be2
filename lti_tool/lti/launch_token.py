"""The short-lived signed launch token the tool carries in links and forms after a launch.

It replaces a session cookie (third-party cookies are blocked in LMS iframes), binds every
later request to one platform, deployment, course, user and role, and doubles as the CSRF
token: a form without it, or with another person's, is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.exceptions import LaunchError
from lti_tool.lti.roles import Role

_SALT = "microreview.launch-token.v1"


@dataclass(frozen=True)
class LaunchIdentity:
    """Who launched, from where, as what; everything a view may scope its data by."""

    platform_id: int
    deployment_id: int
    context_id: int
    user_id: int | None
    role: Role
    placement_id: int | None = None
    message_type: str = "LtiResourceLinkRequest"
    deep_link: dict[str, Any] = field(default_factory=dict)

    @property
    def is_instructor(self) -> bool:
        """Instructors and admins may manage the course."""
        return self.role >= Role.INSTRUCTOR


class LaunchTokens:
    """Signs and verifies launch tokens with the app's secret key."""

    def __init__(self, secret_key: str, ttl: int):
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.ttl = ttl

    def issue(self, identity: LaunchIdentity) -> str:
        """A signed, timestamped token for identity."""
        data = asdict(identity)
        data["role"] = int(identity.role)
        return self._serializer.dumps(data)

    def verify(self, token: str) -> LaunchIdentity:
        """The identity in a token; raises LaunchError if tampered or expired."""
        try:
            data = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired as exc:
            raise LaunchError(
                "your session with the tool has expired",
                advice="Launch the tool again from your course to continue.",
            ) from exc
        except BadSignature as exc:
            raise LaunchError(
                "the launch token is invalid",
                advice="Launch the tool again from your course.",
            ) from exc
        data["role"] = Role(data["role"])
        return LaunchIdentity(**data)
