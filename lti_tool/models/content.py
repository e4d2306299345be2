"""A course's micro-units, review cards, figures and import runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class CardStatus(enum.StrEnum):
    """Where a card stands: only published cards are reviewed."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Unit(Base):
    """A micro-unit: a few minutes of the course's own material, in course order."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("context_id", "key"),
        Index("ix_units_context_position", "context_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    module_index: Mapped[int] = mapped_column(default=0)
    module_title: Mapped[str] = mapped_column(String(500), default="")
    title: Mapped[str] = mapped_column(String(500))
    body_html: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[float] = mapped_column(default=0.0)
    key_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    critical: Mapped[bool] = mapped_column(default=False)
    retired: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    provenance: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Card(Base):
    """A review card: the course's own question, a generated cloze, or a recall prompt."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("context_id", "key"),
        Index("ix_cards_context_status", "context_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), default=None, index=True
    )
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    origin: Mapped[str] = mapped_column(String(20), default="manual")
    status: Mapped[CardStatus] = mapped_column(
        Enum(CardStatus, native_enum=False, length=20), default=CardStatus.DRAFT
    )
    title: Mapped[str] = mapped_column(String(500), default="")
    prompt_html: Mapped[str] = mapped_column(Text, default="")
    prompt_text: Mapped[str] = mapped_column(Text, default="")
    # Kind-specific answer data: choices, answers, blanks, pairs, sequence, numeric, key points.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    feedback_html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Asset(Base):
    """A figure or file from an imported course, served by the tool to the course's users."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("context_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1000))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CourseImport(Base):
    """One upload of course material and the background job that imports it."""

    __tablename__ = "course_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    stored_path: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
