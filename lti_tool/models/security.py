"""Short-lived protocol state shared by all workers: used nonces, key and token caches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base


class UsedNonce(Base):
    """A nonce already accepted once; a second launch with it is a replay."""

    __tablename__ = "used_nonces"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class JwksCacheEntry(Base):
    """A platform's public key set, cached for every worker as its Cache-Control allows."""

    __tablename__ = "jwks_cache"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ServiceToken(Base):
    """An OAuth2 access token for a platform's services, reused until shortly before expiry."""

    __tablename__ = "service_tokens"

    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True
    )
    scopes: Mapped[str] = mapped_column(String(1000), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
