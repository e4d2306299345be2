"""Authenticated calls to a platform's LTI Advantage services (timeouts, User-Agent, errors)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from sqlalchemy.orm import Session

from lti_tool.exceptions import ServiceError
from lti_tool.lti.service_token import access_token
from lti_tool.models import Platform, ServiceToken

_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


@dataclass
class PlatformApi:
    """Calls one platform's services with a cached access token."""

    session: Session
    http: requests.Session
    platform: Platform
    now: datetime
    timeout: float

    def request(
        self,
        method: str,
        url: str,
        scopes: list[str],
        *,
        accept: str,
        json_body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send one request; a 401 refreshes the token once."""
        for attempt in (1, 2):
            token = access_token(
                self.session,
                self.platform,
                scopes,
                self.now,
                self.timeout,
                str(self.http.headers.get("User-Agent", "")),
            )
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            if content_type:
                headers["Content-Type"] = content_type
            try:
                response = self.http.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    timeout=self.timeout,
                    data=None if json_body is None else _dumps(json_body),
                )
            except requests.RequestException as exc:
                raise ServiceError(f"the LMS did not answer ({type(exc).__name__})") from exc
            if response.status_code == 401 and attempt == 1:
                self._forget_token(scopes)
                continue
            if not response.ok:
                raise ServiceError(f"the LMS answered HTTP {response.status_code} on {method}")
            return response
        raise ServiceError("the LMS refused the tool's access token")

    def _forget_token(self, scopes: list[str]) -> None:
        key = (self.platform.id, " ".join(sorted(set(scopes))))
        with Session(bind=self.session.get_bind()) as own:
            cached = own.get(ServiceToken, key)
            if cached is not None:
                own.delete(cached)
                own.commit()
        stale = self.session.identity_map.get(self.session.identity_key(ServiceToken, key))
        if stale is not None:
            self.session.expunge(stale)


def next_page(response: requests.Response) -> str | None:
    """The rel="next" URL of a paged answer."""
    match = _NEXT.search(response.headers.get("Link", ""))
    return match.group(1) if match else None


def _dumps(body: Any) -> str:
    return json.dumps(body)
