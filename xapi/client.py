"""LRS client over httpx: timeouts on every request, one pooled connection set, Basic or OAuth2.

tincan's RemoteLRS has no timeouts and opens a connection per request, so statements are sent
here as JSON bodies (built with `xapi.statements.statement_dict`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from authlib.oauth2.rfc6749 import OAuth2Token

from xapi.exceptions import (
    LrsAuthError,
    LrsConflictError,
    LrsError,
    LrsHttpError,
    LrsRejectedError,
    LrsTransportError,
)
from xapi.statements import format_timestamp
from xapi.vocabulary import SUPPORTED_VERSIONS, VERSION_HEADER, XAPI_VERSION_1

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
_MAX_MESSAGE = 2000


@dataclass(frozen=True)
class BasicCredentials:
    """HTTP Basic credentials of an LRS (key and secret)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class OAuth2Credentials:
    """OAuth2 client-credentials grant: token endpoint, client id and secret, optional scope."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None


@dataclass(frozen=True)
class LrsConfig:
    """Where and how to reach one LRS."""

    endpoint: str
    credentials: BasicCredentials | OAuth2Credentials | None = None
    version: str = XAPI_VERSION_1
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class StatementsPage:
    """One page of a GET /statements answer and the `more` link (empty when done)."""

    statements: list[dict[str, Any]]
    more: str


def _filter_params(filters: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the xAPI wants them: JSON objects, lowercase booleans, timestamps."""
    params: dict[str, str] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[key] = format_timestamp(value)
        elif isinstance(value, dict):
            params[key] = json.dumps(value, separators=(",", ":"))
        else:
            params[key] = str(value)
    return params


def _message(response: httpx.Response) -> str:
    return response.text[:_MAX_MESSAGE]


class LrsClient:
    """Talks xAPI to one LRS; reuse it, and `close()` it (or use it as a context manager)."""

    def __init__(self, config: LrsConfig, *, transport: httpx.BaseTransport | None = None):
        if config.version not in SUPPORTED_VERSIONS:
            raise ValueError(f"unsupported xAPI version {config.version}")
        self.config = config
        self.base = config.endpoint.rstrip("/") + "/"
        self._http = self._make_http(config, transport)

    @staticmethod
    def _make_http(config: LrsConfig, transport: httpx.BaseTransport | None) -> httpx.Client:
        headers = {VERSION_HEADER: config.version}
        creds = config.credentials
        auth: httpx.Auth | None = None
        if isinstance(creds, OAuth2Credentials):
            auth = ClientCredentialsAuth(creds)
        elif creds is not None:
            auth = httpx.BasicAuth(creds.username, creds.password)
        return httpx.Client(
            headers=headers, timeout=httpx.Timeout(config.timeout), auth=auth, transport=transport
        )

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; transport failures raise LrsTransportError, HTTP errors LrsHttpError."""
        # A relative path is under the endpoint; a `more` link starts with "/" (server root).
        url = httpx.URL(self.base).join(path)
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise LrsTransportError(f"LRS timed out: {type(exc).__name__}") from exc
        except (httpx.TransportError, OSError) as exc:
            raise LrsTransportError(f"LRS unreachable: {type(exc).__name__}: {exc}") from exc
        _raise_for_status(response)
        return response

    # -- statements -------------------------------------------------------------------------

    def post_statements(self, bodies: list[dict[str, Any]]) -> list[str]:
        """POST a batch of statements; returns the ids the LRS stored."""
        response = self.request("POST", "statements", json=bodies)
        ids: list[str] = response.json()
        return ids

    def put_statement(self, body: dict[str, Any]) -> None:
        """PUT one statement under its own id (idempotent: a known id answers 409 or 204)."""
        self.request("PUT", "statements", params={"statementId": body["id"]}, json=body)

    def get_statement(self, statement_id: str, *, voided: bool = False) -> dict[str, Any]:
        """GET one statement by id (or a voided one by voidedStatementId)."""
        key = "voidedStatementId" if voided else "statementId"
        statement: dict[str, Any] = self.request(
            "GET", "statements", params={key: statement_id}
        ).json()
        return statement

    def get_statements(self, **filters: Any) -> StatementsPage:
        """GET statements with xAPI filters (agent as dict, verb, activity, since, limit...)."""
        data = self.request("GET", "statements", params=_filter_params(filters)).json()
        return StatementsPage(statements=data["statements"], more=data.get("more") or "")

    def get_statements_response(self, **filters: Any) -> httpx.Response:
        """GET statements with xAPI filters, the raw answer (multipart/mixed with attachments)."""
        return self.request("GET", "statements", params=_filter_params(filters))

    def more(self, more: str) -> StatementsPage:
        """Follow a `more` link from a previous page."""
        data = self.request("GET", more).json()
        return StatementsPage(statements=data["statements"], more=data.get("more") or "")

    def iter_statements(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every statement matching the filters, following `more` links."""
        page = self.get_statements(**filters)
        while True:
            yield from page.statements
            if not page.more:
                return
            page = self.more(page.more)

    def about(self) -> dict[str, Any]:
        """GET /about (versions the LRS speaks)."""
        about: dict[str, Any] = self.request("GET", "about").json()
        return about


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client-credentials grant: fetches a token, reuses it until expiry, renews on 401."""

    requires_response_body = True

    def __init__(self, credentials: OAuth2Credentials):
        self.credentials = credentials
        self.token: OAuth2Token | None = None

    def _fetch(self) -> Generator[httpx.Request, httpx.Response, None]:
        data = {"grant_type": "client_credentials"}
        if self.credentials.scope:
            data["scope"] = self.credentials.scope
        request = httpx.Request(
            "POST",
            self.credentials.token_url,
            data=data,
            headers={"Accept": "application/json"},
        )
        basic = httpx.BasicAuth(self.credentials.client_id, self.credentials.client_secret)
        request = next(basic.auth_flow(request))
        response = yield request
        if response.status_code != 200:
            raise LrsAuthError(response.status_code, "OAuth2 token endpoint refused the client")
        self.token = OAuth2Token.from_dict(response.json())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach a bearer token, fetching or renewing it as needed."""
        if self.token is None or self.token.is_expired():
            yield from self._fetch()
        assert self.token is not None
        request.headers["Authorization"] = f"Bearer {self.token['access_token']}"
        response = yield request
        if response.status_code == 401:
            yield from self._fetch()
            request.headers["Authorization"] = f"Bearer {self.token['access_token']}"
            yield request


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _message(response)
    if status == 409:
        raise LrsConflictError(status, message)
    if status == 400:
        raise LrsRejectedError(status, message)
    if status in (401, 403):
        raise LrsAuthError(status, message)
    raise LrsHttpError(status, message)


__all__ = [
    "BasicCredentials",
    "LrsClient",
    "LrsConfig",
    "LrsError",
    "OAuth2Credentials",
    "StatementsPage",
]
