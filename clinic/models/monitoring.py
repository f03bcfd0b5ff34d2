"""What is due: protocol overrides, unit due-rule versions, safety checks and nurse assignments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, bounded_text, utc_now
from clinic.extensions import db
from clinic.models.charting import ENTRY_MODELS, ClinicalEntry
from clinic.models.unit import Bed, Unit
from clinic.models.user import User

SAFETY_LOCATIONS = {
    "bedroom": "Bedroom",
    "bathroom": "Bathroom",
    "day_room": "Day room",
    "dining": "Dining",
    "group": "Group",
    "off_unit": "Off unit",
}
SAFETY_ACTIVITIES = {
    "sleeping": "Sleeping — breathing observed",
    "resting": "Resting",
    "awake": "Awake",
    "in_group": "In group",
    "eating": "Eating",
    "agitated": "Agitated",
}


class DueDefinitionVersion(db.Model):
    """A unit's reassessment rules (clinic.scoring.due.DueDefinition as a dict), versioned."""

    __tablename__ = "due_definition"
    __table_args__ = (UniqueConstraint("unit_id", "version", name="uq_due_definition_unit_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: Increases by one per change; the newest applies.
    version: Mapped[int] = mapped_column()
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship()


class ProtocolOverride(db.Model):
    """A physician's per-patient reassessment interval; the newest row per protocol applies."""

    __tablename__ = "protocol_override"
    __table_args__ = (Index("ix_protocol_override_admission_protocol", "admission_id", "protocol", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: vitals, ciwa_ar, cows, ciwa_b or ketamine.
    protocol: Mapped[str] = mapped_column(String(20))
    #: None ends the override (the unit's rules apply again).
    interval_minutes: Mapped[int | None] = mapped_column()
    reason: Mapped[str] = mapped_column(bounded_text(1000))
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: The band of the newest result when set (clinic.scoring.due.band_of); the override may
    #: lengthen the interval only while the band is no worse.
    set_in_band: Mapped[str | None] = mapped_column(String(20))

    set_by: Mapped[User] = relationship()


class ObservationLevelChange(db.Model):
    """A change of observation level; the admission keeps the current one."""

    __tablename__ = "observation_level_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    #: clinic.scoring.due.OBSERVATION_LEVELS code.
    level: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(bounded_text(2000))
    #: Set for a risk (suicide, self-harm, aggression): only a physician or charge nurse lowers it.
    for_risk: Mapped[bool] = mapped_column(default=False, server_default=false())
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    changed_by: Mapped[User] = relationship()


class SafetyCheck(ClinicalEntry, db.Model):
    """One observation-round check: where the patient was, what they were doing, any concern."""

    __tablename__ = "safety_check"
    kind = "safety_check"

    #: One of SAFETY_LOCATIONS.
    location: Mapped[str] = mapped_column(String(20))
    #: One of SAFETY_ACTIVITIES.
    activity: Mapped[str] = mapped_column(String(20))
    concern: Mapped[str | None] = mapped_column(bounded_text(1000))
    #: Required when the check time is earlier than the time of entry.
    backdate_reason: Mapped[str | None] = mapped_column(bounded_text(1000))
    #: Shared by the checks saved together in one round.
    round_key: Mapped[str | None] = mapped_column(String(64))


class MissedCheckNote(db.Model):
    """A reason recorded against a missed check; the miss itself stays shown as missed."""

    __tablename__ = "missed_check_note"
    __table_args__ = (UniqueConstraint("admission_id", "due_at", name="uq_missed_check_note_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"))
    #: Due time of the missed window.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(bounded_text(1000))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    recorded_by: Mapped[User] = relationship()


class Assignment(db.Model):
    """A nurse assigned to a bed for one shift; the newest row per bed and shift applies."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_unit_shift", "unit_id", "shift_starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: Start of the shift (UTC), which with the unit identifies it.
    shift_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    #: None unassigns the bed.
    nurse_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    bed: Mapped[Bed] = relationship()
    nurse: Mapped[User | None] = relationship(foreign_keys=[nurse_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])


# Safety checks are corrected and retracted like every other charted entry.
ENTRY_MODELS[SafetyCheck.kind] = SafetyCheck
