"""Shift handover: the unit's paper size, the nurse's additions, signatures and acceptances.

Every table is append-only: a changed setting or a withdrawn line is a new row, and a signed
handover keeps the PDF exactly as it was signed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.user import User

PAPER_SIZES = {"A4": "A4", "letter": "US Letter"}
#: Kinds of line the outgoing nurse adds to a patient's handover.
ITEM_KINDS = {"todo": "To do", "contingency": "If … then", "severity": "Severity adjusted"}
ACCEPT_OUTCOMES = {"accepted": "Accepted", "questions": "Accepted with questions"}


class HandoverSetting(db.Model):
    """A unit's handover settings; the newest row per unit applies."""

    __tablename__ = "handover_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: One of PAPER_SIZES.
    paper_size: Mapped[str] = mapped_column(String(10))
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class HandoverItem(db.Model):
    """A line the outgoing nurse adds for one patient and shift: a to-do, a contingency, a severity."""

    __tablename__ = "handover_item"
    __table_args__ = (Index("ix_handover_item_unit_shift", "unit_id", "shift_starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: Start of the shift (UTC) handed over.
    shift_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: One of ITEM_KINDS.
    kind: Mapped[str] = mapped_column(String(12))
    #: The to-do, the "if … then …", or the reason for the adjusted severity.
    text: Mapped[str] = mapped_column(String(500))
    #: To-do: who does it (name or role) and by when.
    owner: Mapped[str | None] = mapped_column(String(80))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Severity: the level chosen (clinic.scoring.severity.LEVELS).
    level: Mapped[str | None] = mapped_column(String(10))
    #: A line withdrawn by a later row names it here (the original stays).
    withdraws_id: Mapped[int | None] = mapped_column(ForeignKey("handover_item.id"), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    recorded_by: Mapped[User] = relationship()


class HandoverSignature(db.Model):
    """A unit handover signed by the outgoing nurse, with the PDF exactly as signed."""

    __tablename__ = "handover_signature"
    __table_args__ = (Index("ix_handover_signature_unit_shift", "unit_id", "shift_starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    shift_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: Name and role as they were at signing (an account may later change).
    signed_by_name: Mapped[str] = mapped_column(String(120))
    signed_by_role: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: Deferred: the page lists signatures on every view, the bytes are read only to reprint.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: Hex SHA-256 of `pdf`, checked on every reprint.
    sha256: Mapped[str] = mapped_column(String(64))
    #: Admissions handed over, so a later view can tell what was charted after signing.
    admission_ids: Mapped[str] = mapped_column(String(2000))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)

    signed_by: Mapped[User] = relationship()


class HandoverAcceptance(db.Model):
    """The receiving nurse's acceptance of a signed handover, with any questions."""

    __tablename__ = "handover_acceptance"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("handover_signature.id"), index=True)
    accepted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    accepted_by_name: Mapped[str] = mapped_column(String(120))
    accepted_by_role: Mapped[str] = mapped_column(String(20))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: One of ACCEPT_OUTCOMES.
    outcome: Mapped[str] = mapped_column(String(12))
    questions: Mapped[str | None] = mapped_column(String(1000))
