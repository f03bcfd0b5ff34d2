"""Clinical entries: vital signs, withdrawal assessments, nursing notes, and their retractions.

Clinical tables are append-only (database triggers). A correction is a new row whose
`supersedes_id` names the row it replaces; "entered in error" is a row in `entry_retraction`.
The current version of an entry is the row that nothing supersedes and nobody retracted.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from clinic.db import UTCDateTime, bounded_text, utc_now
from clinic.extensions import db
from clinic.models.patient import Admission
from clinic.models.user import User

TENTH = Decimal("0.1")


def from_tenths(value: int | None) -> Decimal | None:
    # scaleb gives the same Decimal as multiplying by 0.1 and quantizing (365 -> 36.5, 370 ->
    # 37.0) in a quarter of the time; a fortnight's trends convert every temperature.
    return None if value is None else Decimal(value).scaleb(-1)


def to_tenths(value: Decimal | None) -> int | None:
    return None if value is None else int((value / TENTH).to_integral_value())


class ClinicalEntry:
    """Columns every charted entry has: who, when observed, when recorded, what it replaces."""

    #: Name used in retractions, URLs and audit events.
    kind: str

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Clinical time: when it was observed or done (never in the future).
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: System time of recording.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: Recorded more than the unit's late-entry limit after the clinical time.
    is_late: Mapped[bool] = mapped_column(default=False)
    #: One per form shown, so a double tap or a resubmitted form charts once.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Why this row corrects the one it supersedes.
    correction_reason: Mapped[str | None] = mapped_column(bounded_text(2000))

    @declared_attr
    def admission_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("admission.id"))

    @declared_attr
    def recorded_by_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def supersedes_id(cls) -> Mapped[int | None]:
        # Unique: an entry is corrected once; later corrections correct the correction.
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"), unique=True)

    @declared_attr
    def admission(cls) -> Mapped[Admission]:
        return relationship(Admission)

    @declared_attr
    def recorded_by(cls) -> Mapped[User]:
        return relationship(User, foreign_keys=[cls.recorded_by_id])

    @declared_attr
    def supersedes(cls):
        return relationship(cls, remote_side=[cls.id], foreign_keys=[cls.supersedes_id])

    @declared_attr
    def __table_args__(cls):
        # With id last, "newest first" (observed_at, id descending) is an index walk with no
        # sort on PostgreSQL; SQLite appends the rowid to every index anyway.
        return (Index(f"ix_{cls.__tablename__}_admission_observed", "admission_id", "observed_at", "id"),)


class VitalSigns(ClinicalEntry, db.Model):
    __tablename__ = "vital_signs"
    kind = "vitals"

    heart_rate: Mapped[int | None] = mapped_column()
    systolic_bp: Mapped[int | None] = mapped_column()
    diastolic_bp: Mapped[int | None] = mapped_column()
    respiratory_rate: Mapped[int | None] = mapped_column()
    #: Tenths of a degree Celsius (371 = 37.1 °C): exact, never a binary float.
    temperature_tenths: Mapped[int | None] = mapped_column()
    spo2: Mapped[int | None] = mapped_column()
    #: NEWS2 SpO2 scale in force for this set (2 only on a recorded clinician decision).
    spo2_scale: Mapped[int] = mapped_column(default=1)
    #: True on supplemental oxygen, False on air, None when not recorded.
    on_oxygen: Mapped[bool | None] = mapped_column()
    oxygen_device: Mapped[str | None] = mapped_column(String(40))
    #: Tenths of a litre per minute.
    oxygen_flow_tenths: Mapped[int | None] = mapped_column()
    #: ACVPU letter.
    consciousness: Mapped[str | None] = mapped_column(String(1))
    pain: Mapped[int | None] = mapped_column()
    #: Tenths of the glucose unit (mmol/L unless glucose_unit says mg/dL).
    glucose_tenths: Mapped[int | None] = mapped_column()
    #: The unit the glucose was measured in, as the unit was set when charted; None on sets
    #: charted before units could choose (mmol/L, the only unit then; the table is append-only).
    glucose_unit: Mapped[str | None] = mapped_column(String(6))
    #: Meter reading "LO" or "HI" when the meter gave no number.
    glucose_reading: Mapped[str | None] = mapped_column(String(2))
    #: The nurse ticked "re-measured and confirmed" for the extreme values.
    confirmed_extreme: Mapped[bool] = mapped_column(default=False)
    #: Computed by the system; None when the set is incomplete.
    news2_total: Mapped[int | None] = mapped_column()
    news2_band: Mapped[str | None] = mapped_column(String(12))
    news2_points: Mapped[dict | None] = mapped_column(JSON)
    #: Parameter -> tier ("confirm" or "flag") with the message shown, for abnormal values.
    flags: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def temperature(self) -> Decimal | None:
        return from_tenths(self.temperature_tenths)

    @property
    def oxygen_flow(self) -> Decimal | None:
        return from_tenths(self.oxygen_flow_tenths)

    @property
    def glucose(self) -> Decimal | str | None:
        value = self.glucose_reading or from_tenths(self.glucose_tenths)
        # mg/dL is charted in whole numbers; tenths are only how it is stored.
        return value.quantize(Decimal(1)) if self.glucose_unit == "mg/dL" and value is not None \
            and not isinstance(value, str) else value

    @property
    def glucose_shown(self) -> str | None:
        """Return the glucose with its unit, or the meter's word ("LO", "HI")."""
        if self.glucose_reading:
            return f"{self.glucose_reading} (meter)"
        value = self.glucose
        return None if value is None else f"{value} {self.glucose_unit or 'mmol/L'}"


class Assessment(ClinicalEntry, db.Model):
    """One instance of a withdrawal scale (or a recorded inability to assess)."""

    __tablename__ = "withdrawal_assessment"
    __table_args__ = (
        Index("ix_withdrawal_assessment_admission_observed", "admission_id", "observed_at", "id"),
        # The board's "newest of this scale" probe would otherwise walk every other scale's rows.
        Index("ix_withdrawal_assessment_admission_scale_observed",
              "admission_id", "scale", "observed_at", "id"),
        # The board's "newest screen with a yes" probe would otherwise walk every assessment of a
        # patient who never had one (clinic.monitoring.safety).
        Index("ix_withdrawal_assessment_review_needed", "admission_id", "observed_at", "id",
              sqlite_where=text("suicide_review_needed = 1"),
              postgresql_where=text("suicide_review_needed = true")),
    )
    kind = "assessment"

    #: ciwa_ar, cows, ciwa_b or ketamine.
    scale: Mapped[str] = mapped_column(String(20))
    #: Version of the scale definition the items were scored with.
    scale_version: Mapped[str] = mapped_column(String(20))
    #: "scored" or "unable" (could not be assessed; reason given, never a forced number).
    outcome: Mapped[str] = mapped_column(String(10))
    unable_reason: Mapped[str | None] = mapped_column(bounded_text(2000))
    #: Item key -> value, as answered.
    items: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Yes/no items (ketamine: blood in urine, unable to pass urine).
    yes_no: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Computed total (ketamine: unvalidated symptom burden); None unless every item answered.
    total: Mapped[int | None] = mapped_column()
    band: Mapped[str | None] = mapped_column(String(24))
    #: Human-readable alerts (ketamine flags).
    flags: Mapped[list] = mapped_column(JSON, default=list)
    #: COWS: the heart rate the pulse item was derived from, and where it came from.
    heart_rate: Mapped[int | None] = mapped_column()
    heart_rate_source: Mapped[str | None] = mapped_column(String(40))
    #: Ketamine: "thoughts of harming yourself or ending your life since the last check?"
    self_harm_thoughts: Mapped[bool | None] = mapped_column()
    #: Suicide-risk screen answers, question key -> True/False/None.
    suicide_answers: Mapped[dict | None] = mapped_column(JSON)
    #: none, low, moderate or high; derived from the answers.
    suicide_risk: Mapped[str | None] = mapped_column(String(10))
    #: Any yes in the screen: the patient needs a clinician's review the same shift.
    suicide_review_needed: Mapped[bool | None] = mapped_column()
    #: CIWA-B, unscored: hours slept last night, in tenths, and minutes taken to fall asleep.
    sleep_hours_tenths: Mapped[int | None] = mapped_column()
    sleep_latency_minutes: Mapped[int | None] = mapped_column()

    @property
    def sleep_hours(self) -> Decimal | None:
        return from_tenths(self.sleep_hours_tenths)


class NursingNote(ClinicalEntry, db.Model):
    __tablename__ = "nursing_note"
    kind = "note"

    text: Mapped[str] = mapped_column(bounded_text(10000))


class EntryRetraction(db.Model):
    """An entry marked "entered in error": struck through, excluded from scores and trends."""

    __tablename__ = "entry_retraction"
    __table_args__ = (UniqueConstraint("entry_kind", "entry_id", name="uq_entry_retraction_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ClinicalEntry.kind of the retracted row.
    entry_kind: Mapped[str] = mapped_column(String(20))
    entry_id: Mapped[int] = mapped_column()
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    reason: Mapped[str] = mapped_column(bounded_text(2000))
    retracted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    retracted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    retracted_by: Mapped[User] = relationship()


ENTRY_MODELS: dict[str, type[ClinicalEntry]] = {
    VitalSigns.kind: VitalSigns,
    Assessment.kind: Assessment,
    NursingNote.kind: NursingNote,
}
