"""The demo platform's own tables: its key, gradebook columns, scores and placed links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class DemoKey(Base):
    """The demo platform's RSA signing key."""

    __tablename__ = "demo_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)


class DemoLineItem(Base):
    """A gradebook column of the demo course."""

    __tablename__ = "demo_lineitems"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(300))
    score_maximum: Mapped[float] = mapped_column(default=100.0)
    resource_id: Mapped[str] = mapped_column(String(200), default="")
    resource_link_id: Mapped[str] = mapped_column(String(200), default="")
    tag: Mapped[str] = mapped_column(String(200), default="")


class DemoScore(Base):
    """A score the tool posted to a demo gradebook column."""

    __tablename__ = "demo_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    lineitem_id: Mapped[int] = mapped_column(ForeignKey("demo_lineitems.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(100))
    score_given: Mapped[float | None]
    score_maximum: Mapped[float | None]
    activity_progress: Mapped[str] = mapped_column(String(30))
    grading_progress: Mapped[str] = mapped_column(String(30))
    timestamp: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemoLink(Base):
    """A resource link the instructor placed in the demo course through Deep Linking."""

    __tablename__ = "demo_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_link_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000))
    custom: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    lineitem_id: Mapped[int | None] = mapped_column(ForeignKey("demo_lineitems.id"), default=None)
