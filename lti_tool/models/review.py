"""Spaced review: card states, review logs, sessions, course settings and reminder bookkeeping."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow

DEFAULT_RETENTION = 0.90
DEFAULT_CRITICAL_RETENTION = 0.95
MIN_RETENTION = 0.70
MAX_RETENTION = 0.97
DEFAULT_MAXIMUM_INTERVAL = 180
DEFAULT_SESSION_MINUTES = 5
DEFAULT_NEW_PER_DAY = 10


class ZoneSource(enum.StrEnum):
    """Where a learner's time zone came from; only the learner's own choice is never replaced."""

    DEFAULT = "default"
    BROWSER = "browser"
    LEARNER = "learner"


class CourseSchedule(Base):
    """A course's scheduling settings and its fitted FSRS parameters."""

    __tablename__ = "course_schedules"

    context_id: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True
    )
    desired_retention: Mapped[float] = mapped_column(default=DEFAULT_RETENTION)
    critical_retention: Mapped[float] = mapped_column(default=DEFAULT_CRITICAL_RETENTION)
    maximum_interval: Mapped[int] = mapped_column(default=DEFAULT_MAXIMUM_INTERVAL)
    session_minutes: Mapped[int] = mapped_column(default=DEFAULT_SESSION_MINUTES)
    new_per_day: Mapped[int] = mapped_column(default=DEFAULT_NEW_PER_DAY)
    course_url: Mapped[str] = mapped_column(String(1000), default="")
    parameters: Mapped[list[float] | None] = mapped_column(JSON, default=None)
    parameters_fitted_at: Mapped[datetime | None] = mapped_column(default=None)
    parameters_reviews: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CardState(Base):
    """One learner's FSRS memory state of one card."""

    __tablename__ = "card_states"
    __table_args__ = (
        UniqueConstraint("user_id", "card_id"),
        Index("ix_card_states_user_context", "user_id", "context_id"),
        Index("ix_card_states_due", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    state: Mapped[int] = mapped_column(default=1)
    step: Mapped[int | None] = mapped_column(default=None)
    stability: Mapped[float | None] = mapped_column(default=None)
    difficulty: Mapped[float | None] = mapped_column(default=None)
    due: Mapped[datetime]
    last_review: Mapped[datetime | None] = mapped_column(default=None)
    reps: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewSession(Base):
    """A planned review session: which cards, in what order, and how far the learner got."""

    __tablename__ = "review_sessions"
    __table_args__ = (Index("ix_review_sessions_user_context", "user_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placements.id", ondelete="SET NULL"), default=None
    )
    plan: Mapped[list[int]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    extra: Mapped[bool] = mapped_column(default=False)
    # Who and where, as every statement of the session repeats it (saves queries per answer).
    event_scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    local_day: Mapped[date]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def remaining(self) -> int:
        """Cards of the plan not answered yet."""
        return max(0, len(self.plan) - self.position)


class ReviewLog(Base):
    """One answer; (session, position) is the answer's idempotency key."""

    __tablename__ = "review_logs"
    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        Index("ix_review_logs_context_time", "context_id", "reviewed_at"),
        Index("ix_review_logs_user_card", "user_id", "card_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("review_sessions.id", ondelete="CASCADE"))
    position: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    rating: Mapped[int]
    correct: Mapped[bool | None] = mapped_column(default=None)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_ms: Mapped[int] = mapped_column(default=0)
    retrievability: Mapped[float | None] = mapped_column(default=None)
    stability: Mapped[float | None] = mapped_column(default=None)
    due_after: Mapped[datetime | None] = mapped_column(default=None)
    statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderPreference(Base):
    """How and when a learner wants review reminders; also holds their link secrets."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    time_zone_source: Mapped[str] = mapped_column(String(16), default=ZoneSource.DEFAULT)
    local_hour: Mapped[int | None] = mapped_column(default=None)
    unsubscribed: Mapped[bool] = mapped_column(default=False)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(default=None)
    feed_secret: Mapped[str] = mapped_column(String(64), unique=True)
    link_generation: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReminderSend(Base):
    """A reminder or digest claimed for sending; the unique key makes every send happen once."""

    __tablename__ = "reminder_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="learner")
    status: Mapped[str] = mapped_column(String(20), default="claimed")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(String(500), default="")
