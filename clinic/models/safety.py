"""Suicide-screen reviews, hourly attestations of continuous observation, thiamine prompts.

All three are clinical history: append-only, never edited (database triggers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.user import User

#: Limits of the typed texts, shared by the forms and the schema.
NOTE_MAX = 2000
REASON_MAX = 500


class SuicideReview(db.Model):
    """A physician's or charge nurse's review of a suicide-risk screen that had a yes."""

    __tablename__ = "suicide_review"
    __table_args__ = (Index("ix_suicide_review_admission_reviewed", "admission_id", "reviewed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: The screen reviewed (the newest with a yes); a review covers every screen recorded before it.
    assessment_id: Mapped[int] = mapped_column(ForeignKey("withdrawal_assessment.id"))
    #: What the reviewer found and decided.
    note: Mapped[str] = mapped_column(String(NOTE_MAX))
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    reviewed_by: Mapped[User] = relationship()


class ObservationAttestation(db.Model):
    """The observer's word for one hour of continuous observation: no concern, or the concern."""

    __tablename__ = "observation_attestation"
    __table_args__ = (UniqueConstraint("admission_id", "hour_start", name="uq_observation_attestation_hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: Start of the hour attested (UTC), counted from when the continuous level began.
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime())
    #: clinic.scoring.due.OBSERVATION_LEVELS code in force that hour.
    level: Mapped[str] = mapped_column(String(20))
    #: The concern seen in the hour; None means "observed continuously, no concern".
    concern: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    recorded_by: Mapped[User] = relationship()


class ThiaminePrompt(db.Model):
    """Whether thiamine was given at admission for alcohol withdrawal, and why not if it was not."""

    __tablename__ = "thiamine_prompt"
    __table_args__ = (UniqueConstraint("admission_id", name="uq_thiamine_prompt_admission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    given: Mapped[bool] = mapped_column()
    #: Required when not given.
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    recorded_by: Mapped[User] = relationship()
