"""OAuth2 access tokens for platform services (AGS, NRPS), shared by all workers.

The token is obtained with the client-credentials grant and a JWT assertion signed by the
tool's key (authlib's private_key_jwt), and reused from the database until shortly before
it expires.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.exceptions import ServiceError
from lti_tool.lti.keys import active_key
from lti_tool.models import Platform, ServiceToken

log = logging.getLogger(__name__)
EXPIRY_MARGIN = timedelta(seconds=60)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def access_token(
    session: Session,
    platform: Platform,
    scopes: list[str],
    now: datetime,
    timeout: float,
    user_agent: str,
) -> str:
    """A valid access token for these scopes, from the cache or freshly requested."""
    scope = " ".join(sorted(set(scopes)))
    cached = session.get(ServiceToken, (platform.id, scope))
    if cached is not None and cached.expires_at - EXPIRY_MARGIN > now:
        return cached.access_token
    key = active_key(session)
    assert key is not None
    audience = platform.auth_audience or platform.auth_token_url
    client = OAuth2Session(
        platform.client_id,
        key.private_pem,
        scope=scope,
        token_endpoint_auth_method=PrivateKeyJWT(audience, headers={"kid": key.kid}),
    )
    client.headers["User-Agent"] = user_agent
    try:
        token = client.fetch_token(
            platform.auth_token_url, grant_type="client_credentials", timeout=timeout
        )
    except (OAuthError, requests.RequestException, ValueError) as exc:
        log.warning("token request to platform %s failed: %s", platform.id, type(exc).__name__)
        raise ServiceError("the LMS refused the tool's access token request") from exc
    finally:
        client.close()
    expires = now + timedelta(seconds=int(token.get("expires_in") or 3600))
    _store(session, platform.id, scope, str(token["access_token"]), expires)
    return str(token["access_token"])


def _store(session: Session, platform_id: int, scope: str, token: str, expires: datetime) -> None:
    """Cache the token in its own short transaction: no lock is held across the service call."""
    with Session(bind=session.get_bind()) as own:
        own.merge(
            ServiceToken(
                platform_id=platform_id, scopes=scope, access_token=token, expires_at=expires
            )
        )
        try:
            own.commit()
        except IntegrityError:  # another worker stored one at the same moment: use either
            own.rollback()
    cached = session.get(ServiceToken, (platform_id, scope))
    if cached is not None:
        session.refresh(cached)
