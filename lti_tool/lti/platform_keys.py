"""Platform public keys: fetched over HTTP, cached in the database for every worker.

The cache honours Cache-Control (no-cache/no-store/max-age) and refetches once when a token
names a kid the cached set lacks, so platforms that rotate keys hourly keep working.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import requests
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.exceptions import LaunchError
from lti_tool.models import JwksCacheEntry

log = logging.getLogger(__name__)

# Refetching on an unknown kid at most this often stops a flood of bogus kids from
# turning into a flood of requests to the platform.
UNKNOWN_KID_REFETCH_INTERVAL = timedelta(seconds=5)
_MAX_AGE = re.compile(r"max-age=(\d+)")

# Parsed keys by (url, kid, body): parsing a JWK is the costly part, the DB row is the truth.
_parsed: dict[tuple[str, str, int], Any] = {}
# Keys this process already read from the shared cache, valid until that entry's expiry:
# reading the row again before then could only give the same answer.
_recent: dict[tuple[str, str], tuple[datetime, Any]] = {}


def cache_lifetime(headers: Any, default_ttl: int) -> int:
    """Seconds a JWKS response may be reused, from its Cache-Control header."""
    control = (headers.get("Cache-Control") or "").lower()
    if "no-store" in control or "no-cache" in control:
        return 0
    match = _MAX_AGE.search(control)
    return int(match.group(1)) if match else default_ttl


class PlatformKeys:
    """Looks up a platform's signing key by kid through the shared cache."""

    def __init__(self, session: Session, http: requests.Session, default_ttl: int, timeout: float):
        self.session = session
        self.http = http
        self.default_ttl = default_ttl
        self.timeout = timeout

    def key_for(self, url: str, kid: str, now: datetime) -> Any:
        """The public key object for kid, refetching once if it is unknown or the cache expired."""
        recent = _recent.get((url, kid))
        if recent is not None and recent[0] > now:
            return recent[1]
        entry = self.session.get(JwksCacheEntry, url)
        if entry is not None and entry.expires_at > now:
            key = self._find(entry, kid)
            if key is not None:
                self._remember(url, kid, entry.expires_at, key)
                return key
            if now - entry.fetched_at < UNKNOWN_KID_REFETCH_INTERVAL:
                raise LaunchError(f"unknown kid {kid!r}: the platform's key set does not have it")
        entry = self._fetch(url, now, entry)
        key = self._find(entry, kid)
        if key is None:
            raise LaunchError(f"unknown kid {kid!r}: the platform's key set does not have it")
        self._remember(url, kid, entry.expires_at, key)
        return key

    @staticmethod
    def _remember(url: str, kid: str, until: datetime, key: Any) -> None:
        if len(_recent) > 1000:
            _recent.clear()
        _recent[(url, kid)] = (until, key)

    def _find(self, entry: JwksCacheEntry, kid: str) -> Any:
        cache_key = (entry.url, kid, hash(entry.body))
        if cache_key in _parsed:
            return _parsed[cache_key]
        try:
            keys = json.loads(entry.body).get("keys", [])
        except (ValueError, AttributeError):
            return None
        for jwk in keys:
            if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("kty") == "RSA":
                if jwk.get("alg", "RS256") != "RS256":
                    continue
                key = RSAAlgorithm.from_jwk(jwk)
                if len(_parsed) > 1000:
                    _parsed.clear()
                _parsed[cache_key] = key
                return key
        return None

    def _fetch(self, url: str, now: datetime, entry: JwksCacheEntry | None) -> JwksCacheEntry:
        try:
            response = self.http.get(url, timeout=self.timeout)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("could not fetch platform key set %s: %s", url, type(exc).__name__)
            raise LaunchError(
                "the platform's public key set could not be fetched",
                status=401,
                advice="Check the key set URL of the platform registration and that it answers.",
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise LaunchError("the platform's key set URL did not return a JWKS document")
        ttl = cache_lifetime(response.headers, self.default_ttl)
        values = {
            "body": json.dumps(body),
            "fetched_at": now,
            "expires_at": now + timedelta(seconds=ttl),
        }
        if entry is None:
            entry = JwksCacheEntry(url=url, **values)
            try:
                with self.session.begin_nested():
                    self.session.add(entry)
            except IntegrityError:  # another worker cached it at the same moment
                entry = self.session.get(JwksCacheEntry, url, populate_existing=True)
                assert entry is not None
        for name, value in values.items():
            setattr(entry, name, value)
        self.session.flush()
        return entry
