"""Risk flags on an admission (seizure or DT history, falls, aggression, pregnancy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.user import User


class RiskFlag(db.Model):
    """One recording of one risk flag; the newest row per (admission, flag) is in force.

    Append-only: clearing a flag is a new row with ``present`` False and its reason.
    """

    __tablename__ = "admission_risk_flag"
    __table_args__ = (Index("ix_admission_risk_flag_admission_flag", "admission_id", "flag", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: clinic.scoring.risk.FLAGS code.
    flag: Mapped[str] = mapped_column(String(20))
    present: Mapped[bool] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    recorded_by: Mapped[User] = relationship()
