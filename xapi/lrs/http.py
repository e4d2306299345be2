"""HTTP side of the embedded LRS: request model (and alternate syntax), auth, versions, errors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Request, Response

from xapi.lrs import jsontext
from xapi.lrs.exceptions import BadRequest, LrsRequestError, Unauthorized
from xapi.vocabulary import VERSION_HEADER, XAPI_VERSION_1, XAPI_VERSION_2

AuthLookup = Callable[[str, str], "str | None"]
"""Maps Basic credentials (username, password) to a tenant key, or None when they are wrong."""

_VERSION = re.compile(r"^(1\.0|2\.0)(\.\d+)?$")
_ALT_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
_ALT_HEADERS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}


@dataclass
class XapiRequest:
    """A request as the LRS sees it, after unwrapping the 1.0.3 alternate request syntax."""

    method: str
    args: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    tenant: str = ""
    username: str = ""
    version: str = XAPI_VERSION_1
    alternate: bool = False

    @property
    def content_type(self) -> str:
        """Content-Type without parameters, lowercased."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def arg(self, name: str) -> str | None:
        """One query parameter (400 if given twice)."""
        values = self.args.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise BadRequest(f"parameter {name} given more than once")
        return values[0]

    def only_args(self, allowed: set[str]) -> None:
        """400 for any parameter the resource does not define (names are case-sensitive)."""
        unknown = set(self.args) - allowed
        if unknown:
            raise BadRequest(f"unknown parameters {sorted(unknown)}; allowed: {sorted(allowed)}")

    def json(self) -> Any:
        """The body parsed as JSON (400 when it is not)."""
        try:
            return jsontext.loads(self.body)
        except ValueError as exc:
            raise BadRequest("the body is not valid JSON") from exc


def from_flask(request: Request) -> XapiRequest:
    """Build an XapiRequest, unwrapping `POST ?method=X` (alternate request syntax)."""
    args = {key: request.args.getlist(key) for key in request.args}
    headers = {key.lower(): value for key, value in request.headers.items()}
    body = request.get_data(cache=True)
    if request.method != "POST" or "method" not in args:
        return XapiRequest(request.method, args, headers, body)
    method = args.pop("method")[0].upper()
    if method not in _ALT_METHODS:
        raise BadRequest(f"alternate request syntax: unknown method {method}")
    if args:
        raise BadRequest("alternate request syntax: all parameters go in the form body")
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise BadRequest("alternate request syntax needs an application/x-www-form-urlencoded body")
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    content = form.pop("content", [""])[0].encode("utf-8")
    # The outer Content-Type described the form; the content's own type defaults to JSON.
    headers["content-type"] = "application/json"
    for name in list(form):
        if name.lower() in _ALT_HEADERS:
            headers[name.lower()] = form.pop(name)[0]
    headers.pop("content-length", None)
    return XapiRequest(method, form, headers, content, alternate=True)


def authenticate(xreq: XapiRequest, auth_lookup: AuthLookup) -> None:
    """Resolve Basic credentials to the tenant; 401 when absent or wrong."""
    header = xreq.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        raise Unauthorized("send HTTP Basic credentials of this LRS")
    try:
        username, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("the Basic credentials are not valid base64") from exc
    tenant = auth_lookup(username, password)
    if tenant is None:
        raise Unauthorized("unknown credentials")
    xreq.tenant = tenant
    xreq.username = username


def negotiate_version(xreq: XapiRequest, *, required: bool = True) -> None:
    """Check X-Experience-API-Version (1.0.x or 2.0.x); remember which answer version to use."""
    value = xreq.headers.get(VERSION_HEADER.lower())
    if value is None:
        if required:
            raise BadRequest(f"the {VERSION_HEADER} header is required")
        return
    match = _VERSION.match(value.strip())
    if match is None:
        raise BadRequest(f"xAPI version {value!r} is not supported (use 1.0.3 or 2.0.0)")
    xreq.version = XAPI_VERSION_2 if match.group(1) == "2.0" else XAPI_VERSION_1
    if xreq.alternate and xreq.version == XAPI_VERSION_2:
        raise BadRequest("xAPI 2.0 has no alternate request syntax; send a normal request")


def error_response(error: LrsRequestError, version: str) -> Response:
    """The JSON error answer for an LRS exception."""
    response = Response(
        json.dumps({"error": error.message}), status=error.status, mimetype="application/json"
    )
    response.headers[VERSION_HEADER] = version
    return response


def json_response(document: Any, status: int = 200, **headers: str) -> Response:
    """A JSON answer."""
    response = Response(json.dumps(document), status=status, mimetype="application/json")
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def raw_json_response(text: str, status: int = 200) -> Response:
    """A JSON answer from already-serialised text."""
    return Response(text, status=status, mimetype="application/json")


def check_json_or_multipart(xreq: XapiRequest) -> None:
    """Statement writes accept application/json or multipart/mixed only."""
    if xreq.content_type not in {"application/json", "multipart/mixed"}:
        raise BadRequest("send statements as application/json or multipart/mixed")


def parse_bool(value: str | None, name: str) -> bool:
    """A boolean query parameter: true or false."""
    if value is None:
        return False
    if value.lower() not in {"true", "false"}:
        raise BadRequest(f"{name} must be true or false")
    return value.lower() == "true"
