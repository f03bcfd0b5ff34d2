"""Discharges entered in error and reversed: the admission reopens, this row keeps the discharge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.patient import Admission
from clinic.models.unit import Bed
from clinic.models.user import User


class DischargeReversal(db.Model):
    """A charge nurse's reversal of a discharge entered in error, with the discharge it undid.

    The admission's discharge fields are cleared when it reopens; what they said is kept here
    (append-only), so the record still shows the discharge, who reversed it and why.
    """

    __tablename__ = "discharge_reversal"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    #: When the reversal was recorded.
    reversed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    reversed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: Why the discharge was entered in error (required).
    reason: Mapped[str] = mapped_column(String(200))
    #: The bed the admission reopened in.
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    #: The reversed discharge, as it was recorded.
    discharged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    discharged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    disposition: Mapped[str | None] = mapped_column(String(40))
    discharge_note: Mapped[str | None] = mapped_column(Text)

    admission: Mapped[Admission] = relationship()
    bed: Mapped[Bed] = relationship()
    reversed_by: Mapped[User] = relationship(foreign_keys=[reversed_by_id])
    discharged_by: Mapped[User | None] = relationship(foreign_keys=[discharged_by_id])
