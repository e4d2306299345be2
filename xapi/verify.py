"""Check signed statements read back from an LRS against the signer's own public keys.

A statement is *valid* when it has exactly one signature attachment whose content (fetched with
`attachments=true`) matches its sha2, is a compact JWS (RS256/384/512) that verifies with the
key its `kid` names, and whose payload is the statement itself. The comparison ignores what an
LRS may add or change (xAPI Data 2.3.1 and 2.6): `authority`, `stored`, `version`, the `id` when
the payload has none, the signature attachment, the serialization of `timestamp` (compared as a
point in time) and a `duration` below 0.01 s (xAPI 2.0 lets an LRS truncate it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from jwt.api_jws import PyJWS

from xapi.client import LrsClient
from xapi.exceptions import LrsError
from xapi.lrs.exceptions import BadRequest
from xapi.lrs.formats import duration_hundredths
from xapi.lrs.multipart import HASH_HEADER, split_parts
from xapi.signing import SIGNATURE_CONTENT_TYPE, is_signature

ALGORITHMS = ("RS256", "RS384", "RS512")
_LRS_PROPERTIES = ("authority", "stored", "version")

Status = Literal["valid", "unsigned", "invalid"]


@dataclass(frozen=True)
class Verdict:
    """The outcome for one statement: valid (with the signing kid), unsigned or invalid (why)."""

    statement_id: str
    status: Status
    reason: str = ""
    kid: str = ""


@dataclass
class VerifyReport:
    """Counts of a verification run, with the ids of unsigned and invalid statements."""

    valid: int = 0
    unsigned: list[str] = field(default_factory=list)
    invalid: list[Verdict] = field(default_factory=list)
    by_kid: Counter[str] = field(default_factory=Counter)

    @property
    def checked(self) -> int:
        """Statements looked at."""
        return self.valid + len(self.unsigned) + len(self.invalid)

    def add(self, verdict: Verdict) -> None:
        """Count one statement's verdict."""
        if verdict.status == "valid":
            self.valid += 1
            self.by_kid[verdict.kid] += 1
        elif verdict.status == "unsigned":
            self.unsigned.append(verdict.statement_id)
        else:
            self.invalid.append(verdict)

    def ok(self, *, require_signed: bool = False) -> bool:
        """True when nothing is invalid (and, if required, nothing is unsigned)."""
        return not self.invalid and not (require_signed and self.unsigned)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "checked": self.checked,
            "valid": self.valid,
            "unsigned": len(self.unsigned),
            "invalid": len(self.invalid),
            "valid_by_kid": dict(sorted(self.by_kid.items())),
            "invalid_statements": [
                {"id": verdict.statement_id, "reason": verdict.reason} for verdict in self.invalid
            ],
            "unsigned_statements": list(self.unsigned),
        }


def public_keys(jwks: Iterable[Mapping[str, Any]]) -> dict[str, RSAPublicKey]:
    """RSA public keys by kid from JWK dicts (keys without a kid, or not RSA, are skipped)."""
    keys: dict[str, RSAPublicKey] = {}
    for jwk in jwks:
        if jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        public = {name: jwk[name] for name in ("kty", "n", "e")}
        key = RSAAlgorithm.from_jwk(public)
        if isinstance(key, RSAPublicKey):
            keys[str(jwk["kid"])] = key
    return keys


def verify_statement(
    statement: Mapping[str, Any],
    attachments: Mapping[str, bytes],
    keys: Mapping[str, RSAPublicKey],
) -> Verdict:
    """Check one statement's signature; `attachments` maps sha2 to content as the LRS sent it."""
    statement_id = str(statement.get("id", ""))
    signatures = [a for a in statement.get("attachments") or [] if is_signature(a)]
    if not signatures:
        return Verdict(statement_id, "unsigned")
    try:
        kid = _check(statement, signatures, attachments, keys)
    except _Invalid as exc:
        return Verdict(statement_id, "invalid", str(exc))
    return Verdict(statement_id, "valid", kid=kid)


class _Invalid(Exception):
    """Why a signed statement fails verification."""


def _check(
    statement: Mapping[str, Any],
    signatures: list[dict[str, Any]],
    attachments: Mapping[str, bytes],
    keys: Mapping[str, RSAPublicKey],
) -> str:
    if len(signatures) > 1:
        raise _Invalid("more than one signature attachment")
    attachment = signatures[0]
    if attachment.get("contentType") != SIGNATURE_CONTENT_TYPE:
        raise _Invalid(f"signature attachment is not {SIGNATURE_CONTENT_TYPE}")
    sha2 = str(attachment.get("sha2", "")).lower()
    content = attachments.get(sha2)
    if content is None:
        raise _Invalid("the LRS did not return the signature attachment's content")
    if hashlib.sha256(content).hexdigest() != sha2:
        raise _Invalid("signature content does not match its sha2")
    token = content.decode("ascii", "replace").strip()
    if token.count(".") != 2:
        raise _Invalid("signature is not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _Invalid(f"signature header is unreadable: {exc}") from exc
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise _Invalid(f"signature algorithm {algorithm!r} is not RS256, RS384 or RS512")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _Invalid("signature header names no key (kid)")
    key = keys.get(kid)
    if key is None:
        raise _Invalid(f"signed by an unknown key (kid {kid})")
    _check_header_jwk(header, key, kid)
    _check_header_x5c(header, key, kid)
    try:
        decoded = PyJWS().decode_complete(token, key, algorithms=[algorithm])
    except jwt.PyJWTError as exc:
        raise _Invalid(f"signature does not verify with key {kid}") from exc
    try:
        payload = json.loads(decoded["payload"])
    except ValueError as exc:
        raise _Invalid("signed payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise _Invalid("signed payload is not a statement")
    differences = differing_properties(payload, statement)
    if differences:
        raise _Invalid(f"statement differs from its signed payload in: {', '.join(differences)}")
    return kid


def _check_header_jwk(header: Mapping[str, Any], key: RSAPublicKey, kid: str) -> None:
    jwk = header.get("jwk")
    if jwk is None:
        return
    numbers = key.public_numbers()
    if not isinstance(jwk, dict) or (
        _b64int(jwk.get("n")) != numbers.n or _b64int(jwk.get("e")) != numbers.e
    ):
        raise _Invalid(f"the jwk in the signature header is not key {kid}")


def _check_header_x5c(header: Mapping[str, Any], key: RSAPublicKey, kid: str) -> None:
    chain = header.get("x5c")
    if chain is None:
        return
    try:
        certified = x509.load_der_x509_certificate(base64.b64decode(chain[0])).public_key()
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise _Invalid("the x5c certificate in the signature header is unreadable") from exc
    if not isinstance(certified, RSAPublicKey) or (
        certified.public_numbers() != key.public_numbers()
    ):
        raise _Invalid(f"the x5c certificate in the signature header is not key {kid}")


def _b64int(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")
    except ValueError:
        return None


def differing_properties(payload: Mapping[str, Any], statement: Mapping[str, Any]) -> list[str]:
    """Top-level properties in which the statement and its signed payload differ (sorted)."""
    keep_id = "id" in payload
    signed = comparable(payload, keep_id=keep_id)
    stored = comparable(statement, keep_id=keep_id)
    return sorted(k for k in signed.keys() | stored.keys() if signed.get(k) != stored.get(k))


def comparable(statement: Mapping[str, Any], *, keep_id: bool = True) -> dict[str, Any]:
    """The statement without what an LRS may add or change, serializations normalized."""
    result = {k: v for k, v in statement.items() if k not in _LRS_PROPERTIES}
    if not keep_id:
        result.pop("id", None)
    attachments = [a for a in result.pop("attachments", None) or [] if not is_signature(a)]
    if attachments:
        result["attachments"] = attachments
    if "timestamp" in result:
        result["timestamp"] = _instant(result["timestamp"])
    target = result.get("object")
    sub = isinstance(target, dict) and target.get("objectType") == "SubStatement"
    if sub and isinstance(target, dict) and "timestamp" in target:
        result["object"] = dict(target, timestamp=_instant(target["timestamp"]))
    outcome = result.get("result")
    if isinstance(outcome, dict) and isinstance(outcome.get("duration"), str):
        result["result"] = dict(outcome, duration=duration_hundredths(outcome["duration"]))
    return result


def _instant(value: Any) -> Any:
    """A timestamp as a UTC point in time (an LRS may re-serialize it); other values as is."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(UTC).isoformat()


# -- reading statements with their attachments --------------------------------------------------


def statements_with_attachments(
    client: LrsClient, **filters: Any
) -> Iterator[tuple[dict[str, Any], dict[str, bytes]]]:
    """Every statement matching the filters with the attachment contents of its page (by sha2),
    asking with `attachments=true` and following `more` links."""
    response = client.get_statements_response(**filters, attachments=True)
    while True:
        document, attachments = _read_page(response)
        for statement in document.get("statements") or []:
            yield statement, attachments
        more = document.get("more") or ""
        if not more:
            return
        response = client.request("GET", more)


def _read_page(response: httpx.Response) -> tuple[dict[str, Any], dict[str, bytes]]:
    content_type = response.headers.get("content-type", "")
    attachments: dict[str, bytes] = {}
    raw = response.content
    if content_type.split(";")[0].strip().lower() == "multipart/mixed":
        try:
            parts = split_parts(response.content, content_type)
        except BadRequest as exc:
            raise LrsError(f"the LRS sent a malformed multipart answer: {exc.message}") from exc
        raw = parts[0].content
        for part in parts[1:]:
            content = _declared_length(part.headers, part.content)
            sha2 = part.headers.get(HASH_HEADER, "").lower()
            attachments[sha2 or hashlib.sha256(content).hexdigest()] = content
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise LrsError("the LRS answered with something other than a statements list") from exc
    if not isinstance(document, dict) or not isinstance(document.get("statements"), list):
        raise LrsError("the LRS answered with something other than a statements list")
    return document, attachments


def _declared_length(headers: Mapping[str, str], content: bytes) -> bytes:
    """The part's content cut to its Content-Length when it declares one: Learning Locker ends
    each part with an extra CRLF before the delimiter's own."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) <= len(content):
        return content[: int(declared)]
    return content


def verify_lrs(client: LrsClient, keys: Mapping[str, RSAPublicKey], **filters: Any) -> VerifyReport:
    """Read every statement matching the filters back from an LRS and verify each one."""
    report = VerifyReport()
    for statement, attachments in statements_with_attachments(client, **filters):
        report.add(verify_statement(statement, attachments, keys))
    return report
