"""The tool's signing keys: create, rotate, retire, publish as a JWKS, sign JWTs."""

from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.exceptions import ConfigError
from lti_tool.models import ToolKey


def generate_key_pair() -> tuple[str, dict[str, str]]:
    """A new RSA-2048 private key (PEM) and its public JWK with a thumbprint kid."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    public = json.loads(jwk.export_public())
    public.update(kid=jwk.thumbprint(), alg="RS256", use="sig")
    return pem, public


def ensure_key(session: Session) -> ToolKey:
    """Return the active signing key, creating one when there is none."""
    key = active_key(session, required=False)
    if key is None:
        pem, public = generate_key_pair()
        key = ToolKey(kid=public["kid"], private_pem=pem, public_jwk=public)
        session.add(key)
        session.flush()
    return key


def active_key(session: Session, required: bool = True) -> ToolKey | None:
    """The newest active key, which signs everything the tool sends."""
    key = session.scalars(
        select(ToolKey).where(ToolKey.active.is_(True)).order_by(ToolKey.id.desc()).limit(1)
    ).first()
    if key is None and required:
        raise ConfigError("the tool has no signing key: run `microreview init`")
    return key


def rotate_key(session: Session) -> ToolKey:
    """Make a new active key; older keys stop signing but stay in the JWKS until retired."""
    for key in session.scalars(select(ToolKey).where(ToolKey.active.is_(True))):
        key.active = False
    pem, public = generate_key_pair()
    key = ToolKey(kid=public["kid"], private_pem=pem, public_jwk=public)
    session.add(key)
    session.flush()
    return key


def retire_keys(session: Session) -> list[str]:
    """Stop publishing every key that no longer signs; returns their kids."""
    retired = []
    for key in session.scalars(
        select(ToolKey).where(ToolKey.active.is_(False), ToolKey.published.is_(True))
    ):
        key.published = False
        key.retired_at = utcnow()
        retired.append(key.kid)
    return retired


def public_jwks(session: Session) -> dict[str, list[dict[str, str]]]:
    """The JWKS document: every published key."""
    keys = session.scalars(
        select(ToolKey).where(ToolKey.published.is_(True)).order_by(ToolKey.id.desc())
    )
    return {"keys": [dict(key.public_jwk) for key in keys]}


def sign_jwt(session: Session, claims: dict[str, Any]) -> str:
    """Sign claims with the active key (RS256, with its kid)."""
    key = active_key(session)
    assert key is not None
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
