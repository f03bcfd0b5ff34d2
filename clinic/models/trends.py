"""Physicians' sign-off that a patient's trends were reviewed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.user import User

#: Longest review comment, in characters.
REVIEW_COMMENT_MAX = 500


class TrendReview(db.Model):
    """A physician marked the trends reviewed; append-only, the newest row is the last review."""

    __tablename__ = "trend_review"
    __table_args__ = (Index("ix_trend_review_admission_reviewed", "admission_id", "reviewed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: Optional note from the physician (plan, concern).
    comment: Mapped[str | None] = mapped_column(String(REVIEW_COMMENT_MAX))
    #: One per form shown, so a double tap signs once.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)

    reviewed_by: Mapped[User] = relationship()
