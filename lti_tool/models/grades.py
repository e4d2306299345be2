"""Scores waiting to reach, or already sent to, a platform's gradebook (AGS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, utcnow


class ScoreSubmission(Base):
    """One score for one learner in one placement; the sender retries until the LMS accepts."""

    __tablename__ = "score_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score_given: Mapped[float]
    score_maximum: Mapped[float] = mapped_column(default=100.0)
    activity_progress: Mapped[str] = mapped_column(String(30), default="Completed")
    grading_progress: Mapped[str] = mapped_column(String(30), default="FullyGraded")
    comment: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
