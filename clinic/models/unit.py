"""Units (wards) with their time zone, shift pattern and beds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.scoring import shifts


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: IANA time zone name; all times are shown in it.
    timezone: Mapped[str] = mapped_column(String(64))
    #: Shift pattern as text, e.g. "Day 07:00, Night 19:00" (see clinic.scoring.shifts).
    shift_pattern: Mapped[str] = mapped_column(String(200))
    #: Minutes after its clinical time from which an entry counts as late.
    late_entry_minutes: Mapped[int] = mapped_column(default=60)
    #: Whether a nurse may override a PRN limit (with a reason, marked as an override everywhere).
    prn_override_allowed: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Unit of capillary glucose on this unit's meters: "mmol/L" or "mg/dL".
    glucose_unit: Mapped[str] = mapped_column(String(6), default="mmol/L", server_default="mmol/L")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    beds: Mapped[list[Bed]] = relationship(
        back_populates="unit", order_by="Bed.sort_key, Bed.label"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def shift_for(self, at: datetime) -> shifts.ShiftInstance:
        """Return the shift of this unit that contains the instant `at`."""
        return shifts.shift_for(shifts.parse_pattern(self.shift_pattern), self.timezone, at)


class Bed(db.Model):
    __tablename__ = "bed"
    __table_args__ = (UniqueConstraint("unit_id", "label", name="uq_bed_unit_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    label: Mapped[str] = mapped_column(String(20))
    #: Orders beds naturally (bed 2 before bed 10).
    sort_key: Mapped[int] = mapped_column(default=0)
    #: Closed beds keep their history but take no new admissions.
    active: Mapped[bool] = mapped_column(default=True)

    unit: Mapped[Unit] = relationship(back_populates="beds")
