"""Where each platform's learning records go: the embedded LRS or an external one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class LrsConnection(Base):
    """One platform's LRS: endpoint, credentials (encrypted) and xAPI version."""

    __tablename__ = "lrs_connections"

    platform_id: Mapped[int] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True
    )
    # "embedded": the tool's own LRS at BASE_URL/xapi/; "external": endpoint below.
    mode: Mapped[str] = mapped_column(String(20), default="embedded")
    endpoint: Mapped[str] = mapped_column(String(1000), default="")
    auth: Mapped[str] = mapped_column(String(20), default="basic")  # basic | oauth2
    username: Mapped[str] = mapped_column(String(255), default="")
    secret_sealed: Mapped[str] = mapped_column(Text, default="")
    token_url: Mapped[str] = mapped_column(String(1000), default="")
    version: Mapped[str] = mapped_column(String(10), default="1.0.3")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
