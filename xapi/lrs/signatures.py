"""Signed statements (xAPI Data 2.6): the JWS attachment must be well formed and match."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from xapi.lrs.exceptions import BadRequest
from xapi.lrs.formats import duration_hundredths

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = ("RS256", "RS384", "RS512")
_IGNORED = {"attachments", "authority", "stored", "version", "id"}


def _b64json(segment: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:
        raise BadRequest("the statement signature is not a valid JWS") from exc


def _significant(statement: dict[str, Any]) -> dict[str, Any]:
    significant = {key: value for key, value in statement.items() if key not in _IGNORED}
    result = significant.get("result")
    if isinstance(result, dict) and isinstance(result.get("duration"), str):
        # Durations compare at 0.01 s precision (xAPI 2.0, 4.2.7).
        significant["result"] = dict(result, duration=duration_hundredths(result["duration"]))
    return significant


def _verify_x5c(token: str, header: dict[str, Any]) -> None:
    chain = header.get("x5c")
    if not chain:
        return
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise BadRequest("the x5c certificate must hold an RSA key")
        jwt.PyJWS().decode_complete(
            token,
            key=key,
            algorithms=list(ALGORITHMS),
        )
    except (ValueError, jwt.PyJWTError) as exc:
        raise BadRequest(
            "the statement signature does not verify with its x5c certificate"
        ) from exc


def check_signature(statement: dict[str, Any], content: bytes) -> None:
    """400 unless `content` is an RS256/384/512 JWS whose payload is this statement."""
    try:
        token = content.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise BadRequest("the statement signature is not a JWS") from exc
    segments = token.split(".")
    if len(segments) != 3:
        raise BadRequest("the statement signature is not a compact JWS")
    header = _b64json(segments[0])
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise BadRequest("the statement signature must use RS256, RS384 or RS512")
    payload = _b64json(segments[1])
    if not isinstance(payload, dict) or _significant(payload) != _significant(statement):
        raise BadRequest("the signed payload does not match the statement")
    if "id" in payload and "id" in statement and payload["id"] != statement["id"]:
        raise BadRequest("the signed payload has another statement id")
    _verify_x5c(token, header)


def check_signatures(statements: list[dict[str, Any]], parts: dict[str, tuple[str, bytes]]) -> None:
    """Check every signature attachment of a batch against its statement."""
    for statement in statements:
        found = statement.get("attachments")
        for attachment in found if isinstance(found, list) else []:  # others: validation's 400
            if not isinstance(attachment, dict) or attachment.get("usageType") != SIGNATURE_USAGE:
                continue
            if attachment.get("contentType") != "application/octet-stream":
                raise BadRequest("a signature attachment must be application/octet-stream")
            part = parts.get(attachment.get("sha2", ""))
            if part is None:
                raise BadRequest("the signature attachment's content is missing")
            check_signature(statement, part[1])
