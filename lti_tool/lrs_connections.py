"""Each platform's LRS: the embedded one by default, or an external LRS an admin configures.

The embedded LRS is reached over HTTP at BASE_URL/xapi/ exactly like an external one, with
per-platform Basic credentials created on first use and stored encrypted.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.exceptions import PlatformError
from lti_tool.models import LrsConnection, Platform
from lti_tool.secret_box import SecretBox
from xapi.client import BasicCredentials, LrsClient, LrsConfig, OAuth2Credentials
from xapi.exceptions import LrsError

EMBEDDED_PATH = "/xapi/"
VERSIONS = ("1.0.3", "2.0.0")
_USER_PREFIX = "platform-"


def lrs_key(platform_id: int) -> str:
    """The outbox key (and embedded-LRS tenant) of a platform."""
    return f"platform:{platform_id}"


def platform_of(key: str) -> int:
    """The platform id of an outbox key."""
    return int(key.split(":", 1)[1])


def connection(session: Session, platform_id: int, box: SecretBox) -> LrsConnection:
    """The platform's LRS connection, creating embedded-LRS credentials on first use."""
    row = session.get(LrsConnection, platform_id)
    if row is None:
        row = LrsConnection(
            platform_id=platform_id,
            mode="embedded",
            username=f"{_USER_PREFIX}{platform_id}",
            secret_sealed=box.seal(secrets.token_urlsafe(24)),
        )
        session.add(row)
        session.flush()
    return row


def lrs_config(row: LrsConnection, base_url: str, box: SecretBox, timeout: float) -> LrsConfig:
    """How to reach a platform's LRS."""
    secret = box.open(row.secret_sealed) if row.secret_sealed else ""
    if row.mode == "embedded":
        return LrsConfig(
            base_url.rstrip("/") + EMBEDDED_PATH,
            BasicCredentials(row.username, secret),
            row.version,
            timeout,
        )
    credentials: BasicCredentials | OAuth2Credentials | None
    if row.auth == "oauth2":
        credentials = OAuth2Credentials(row.token_url, row.username, secret)
    else:
        credentials = BasicCredentials(row.username, secret) if row.username else None
    return LrsConfig(row.endpoint, credentials, row.version, timeout)


def set_external(
    session: Session,
    platform: Platform,
    box: SecretBox,
    *,
    endpoint: str,
    auth: str,
    username: str,
    secret: str,
    token_url: str = "",
    version: str = "1.0.3",
) -> LrsConnection:
    """Send a platform's statements to an external LRS (Basic or OAuth2 client credentials)."""
    if not endpoint.startswith(("https://", "http://")):
        raise PlatformError("--endpoint must be the LRS's xAPI URL, e.g. https://lrs.example/xAPI/")
    if "?" in endpoint:
        raise PlatformError("--endpoint must not contain a query string")
    if auth not in ("basic", "oauth2"):
        raise PlatformError("--auth must be basic or oauth2")
    if auth == "oauth2" and not token_url:
        raise PlatformError("--token-url is required with --auth oauth2")
    if version not in VERSIONS:
        raise PlatformError(f"--version must be one of {', '.join(VERSIONS)}")
    row = connection(session, platform.id, box)
    row.mode, row.endpoint, row.auth, row.username = "external", endpoint, auth, username
    row.secret_sealed, row.token_url, row.version = box.seal(secret), token_url, version
    session.flush()
    return row


def set_embedded(session: Session, platform: Platform, box: SecretBox) -> LrsConnection:
    """Send a platform's statements back to the embedded LRS (with fresh credentials)."""
    row = connection(session, platform.id, box)
    row.mode, row.endpoint, row.auth, row.token_url = "embedded", "", "basic", ""
    row.username = f"{_USER_PREFIX}{platform.id}"
    row.secret_sealed = box.seal(secrets.token_urlsafe(24))
    row.version = "1.0.3"
    session.flush()
    return row


@dataclass
class EmbeddedAuth:
    """Maps Basic credentials to the embedded-LRS tenant (one per platform)."""

    sessions: Callable[[], Session]
    box: SecretBox
    ttl: float = 60.0
    _seen: dict[tuple[str, str], tuple[float, str | None]] = field(default_factory=dict)

    def __call__(self, username: str, password: str) -> str | None:
        """The tenant key for these credentials, or None."""
        cached = self._seen.get((username, password))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        tenant = self._lookup(username, password)
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[(username, password)] = (time.monotonic() + self.ttl, tenant)
        return tenant

    def _lookup(self, username: str, password: str) -> str | None:
        if not username.startswith(_USER_PREFIX) or not username[len(_USER_PREFIX) :].isdigit():
            return None
        platform_id = int(username[len(_USER_PREFIX) :])
        with self.sessions() as session:
            row = session.get(LrsConnection, platform_id)
            if row is None or row.username != username or not row.secret_sealed:
                return None
            secret = self.box.open(row.secret_sealed)
        if not hmac.compare_digest(secret.encode(), password.encode()):
            return None
        return lrs_key(platform_id)


@dataclass
class ClientPool:
    """One LRS client per outbox key, built from the platform's connection, reused."""

    sessions: Callable[[], Session]
    box: SecretBox
    base_url: str
    timeout: float
    _clients: dict[str, tuple[LrsConfig, LrsClient]] = field(default_factory=dict)

    def __call__(self, key: str) -> LrsClient:
        """The client for an outbox key (rebuilt when the platform's settings changed)."""
        with self.sessions() as session:
            config = lrs_config(
                connection(session, platform_of(key), self.box),
                self.base_url,
                self.box,
                self.timeout,
            )
            session.commit()
        known = self._clients.get(key)
        if known and known[0] == config:
            return known[1]
        if known:
            known[1].close()
        client = LrsClient(config)
        self._clients[key] = (config, client)
        return client

    def close(self) -> None:
        """Close every pooled connection."""
        for _, client in self._clients.values():
            client.close()
        self._clients.clear()


def test_connection(config: LrsConfig) -> list[str]:
    """About, write a statement, read it back; returns what passed, raises LrsError on failure."""
    steps = []
    with LrsClient(config) as client:
        about = client.about()
        steps.append(
            f"About: LRS speaks {', '.join(about.get('version', [])) or 'an unknown version'}"
        )
        statement_id = str(uuid.uuid4())
        body: dict[str, Any] = {
            "id": statement_id,
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": "https://microreview.invalid", "name": "connection-test"},
            },
            "verb": {
                "id": "http://adlnet.gov/expapi/verbs/experienced",
                "display": {"en-US": "experienced"},
            },
            "object": {
                "id": "https://microreview.invalid/connection-test",
                "objectType": "Activity",
            },
        }
        client.put_statement(body)
        steps.append("Write: a test statement was accepted")
        back = client.get_statement(statement_id)
        if back.get("id") != statement_id:
            raise LrsError("the LRS returned another statement than the one written")
        steps.append("Read back: the test statement was found")
    return steps
