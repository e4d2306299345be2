"""Signed statements (xAPI 1.0.3 Data 2.6): a JWS of the statement, sent as its attachment.

The JWS payload is the statement exactly as the outbox recorded it (id and timestamp fixed at
event time), before the signature attachment was added. Its header names the signing key: `kid`
(the tool's JWKS key id), `jwk` (the public key itself) and `x5c` (a self-signed certificate
of it, so an LRS can check the signature on receipt). The statement goes out with one
attachment of usageType `.../attachments/signature`, contentType `application/octet-stream`,
whose content (the compact JWS) travels in a multipart/mixed part carrying its sha2.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm
from jwt.api_jws import PyJWS

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"
SIGNATURE_ALGORITHM = "RS256"
_DISPLAY = {"en-US": "Signature"}


@dataclass(frozen=True)
class SignedStatement:
    """A statement with its signature attachment declared, and that attachment's content."""

    statement: str
    jws: bytes
    sha2: str


def is_signature(attachment: Any) -> bool:
    """True for an attachment object declaring a statement signature."""
    return isinstance(attachment, dict) and attachment.get("usageType") == SIGNATURE_USAGE


def signing_certificate(private_key: RSAPrivateKey, kid: str) -> bytes:
    """A self-signed X.509 certificate (DER) for the key, for the JWS `x5c` header the xAPI
    spec asks for: it lets any LRS check the signature on receipt. Trust in the key comes from
    the tool's own JWKS (`kid`), not from a certificate authority."""
    common_name = f"Microreview {kid}"[:64]  # X.509 caps a common name at 64 characters
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


class StatementSigner:
    """Signs statement bodies with one RSA key (RS256); build it once per forwarding pass."""

    def __init__(self, private_key: RSAPrivateKey, kid: str, certificate: bytes | None = None):
        """`certificate`: the key's X.509 certificate (DER) for `x5c`; self-signed if None."""
        self.kid = kid
        self._key = private_key
        public = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        jwk = {"kty": "RSA", "n": public["n"], "e": public["e"], "kid": kid}
        self._headers: dict[str, Any] = {
            "kid": kid,
            "jwk": jwk,
            "x5c": [
                base64.b64encode(certificate or signing_certificate(private_key, kid)).decode()
            ],
            "typ": None,
        }
        self._jws = PyJWS()

    @classmethod
    def from_pem(cls, private_pem: str, kid: str) -> StatementSigner:
        """A signer from a PEM private key (parsing it is the slow part: do it once)."""
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("statement signing needs an RSA private key")
        return cls(key, kid)

    def sign(self, body: str) -> SignedStatement:
        """Sign a statement's JSON text; returns it with the signature attachment declared."""
        token = self._jws.encode(
            body.encode(), self._key, algorithm=SIGNATURE_ALGORITHM, headers=self._headers
        ).encode("ascii")
        sha2 = hashlib.sha256(token).hexdigest()
        statement = json.loads(body)
        attachment = {
            "usageType": SIGNATURE_USAGE,
            "display": _DISPLAY,
            "contentType": SIGNATURE_CONTENT_TYPE,
            "length": len(token),
            "sha2": sha2,
        }
        statement["attachments"] = [*(statement.get("attachments") or []), attachment]
        return SignedStatement(json.dumps(statement, separators=(",", ":")), token, sha2)


def multipart_statements(signed: Sequence[SignedStatement], *, batch: bool) -> tuple[bytes, str]:
    """multipart/mixed body and its Content-Type: the statements (a list when `batch`), then one
    binary part per signature carrying X-Experience-API-Hash."""
    if not batch and len(signed) != 1:
        raise ValueError("a single-statement request carries exactly one statement")
    boundary = uuid.uuid4().hex
    delimiter = f"--{boundary}\r\n".encode()
    document = "[" + ",".join(s.statement for s in signed) + "]" if batch else signed[0].statement
    chunks = [delimiter, b"Content-Type: application/json\r\n\r\n", document.encode(), b"\r\n"]
    for item in signed:
        chunks += [
            delimiter,
            f"Content-Type: {SIGNATURE_CONTENT_TYPE}\r\n"
            f"Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {item.sha2}\r\n\r\n".encode(),
            item.jws,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


def signed_request(
    signer: StatementSigner, bodies: Sequence[str], *, batch: bool
) -> tuple[bytes, str]:
    """Sign each statement body and build the multipart/mixed request carrying them all."""
    return multipart_statements([signer.sign(body) for body in bodies], batch=batch)
