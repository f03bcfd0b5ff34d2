"""Patients and their admissions (detox episodes)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, bounded_text, utc_now
from clinic.extensions import db
from clinic.models.unit import Bed, Unit
from clinic.models.user import User

SEXES = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Unknown"}
SUBSTANCES = {
    "ketamine": "Ketamine",
    "alcohol": "Alcohol",
    "opioids": "Opioids",
    "benzodiazepines": "Benzodiazepines",
    "stimulants": "Stimulants",
    "cannabis": "Cannabis",
    "gabapentinoids": "Gabapentinoids",
    "other": "Other",
}
PROTOCOLS = {
    "vitals": "Vital signs (NEWS2)",
    "ketamine": "Ketamine withdrawal checklist",
    "ciwa_ar": "CIWA-Ar (alcohol)",
    "cows": "COWS (opioid)",
    "ciwa_b": "CIWA-B (benzodiazepine)",
}
#: Short names for tight columns (board, handover).
PROTOCOL_SHORT = {"vitals": "Vitals", "ketamine": "Ketamine", "ciwa_ar": "CIWA-Ar", "cows": "COWS",
                  "ciwa_b": "CIWA-B"}
DISPOSITIONS = {
    "residential": "Residential treatment",
    "partial_hospitalization": "Partial hospitalization",
    "intensive_outpatient": "Intensive outpatient",
    "home": "Home",
    "left_against_advice": "Left against advice",
    "transfer": "Transfer to another facility",
}
ADMITTED = "admitted"
DISCHARGED = "discharged"


class PatientFacts:
    """How a patient is named and aged: shared by the model and the busy pages' plain rows."""

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_on(self, day: date) -> int:
        """Return the patient's age in whole years on `day`."""
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


class SubstanceFacts:
    @property
    def label(self) -> str:
        return SUBSTANCES.get(self.substance, self.substance)


class AdmissionFacts:
    """The detox timeline of an episode: shared by the model and the busy pages' plain rows."""

    @property
    def substance_labels(self) -> str:
        return ", ".join(s.label for s in self.substances)

    @property
    def primary_substance(self):
        return next((s for s in self.substances if s.is_primary), None)

    def detox_day(self, now: datetime) -> int:
        """Return the day of the episode, day 1 being the first 24 hours after admission."""
        return max(1, int((now - self.admitted_at).total_seconds() // 86400) + 1)


class Patient(PatientFacts, db.Model):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Medical record number, unique across the hospital; a returning patient keeps it.
    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    family_name: Mapped[str] = mapped_column(String(80))
    given_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date] = mapped_column(Date)
    #: One of SEXES.
    sex: Mapped[str] = mapped_column(String(10))
    #: Free text; "No known drug allergies" is recorded explicitly, never assumed.
    allergies: Mapped[str] = mapped_column(bounded_text(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    admissions: Mapped[list[Admission]] = relationship(
        back_populates="patient", order_by="Admission.admitted_at"
    )


class Admission(AdmissionFacts, db.Model):
    """One detox episode: from admission to discharge, on one unit."""

    __tablename__ = "admission"
    __table_args__ = (
        # A bed holds one patient, and a patient one admission, at a time: enforced by the
        # database so two charge nurses admitting at once cannot both succeed.
        Index(
            "uq_admission_current_bed",
            "bed_id",
            unique=True,
            sqlite_where=text("status = 'admitted'"),
            postgresql_where=text("status = 'admitted'"),
        ),
        Index(
            "uq_admission_current_patient",
            "patient_id",
            unique=True,
            sqlite_where=text("status = 'admitted'"),
            postgresql_where=text("status = 'admitted'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: Current bed; kept after discharge as the last bed occupied.
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    #: "admitted" or "discharged".
    status: Mapped[str] = mapped_column(String(12), default=ADMITTED)
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    admitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    attending_physician_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Protocol codes from PROTOCOLS that apply to this episode.
    protocols: Mapped[list[str]] = mapped_column(JSON, default=list)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    discharged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: One of DISPOSITIONS.
    disposition: Mapped[str | None] = mapped_column(String(40))
    discharge_note: Mapped[str | None] = mapped_column(bounded_text(4000))
    #: NEWS2 SpO2 scale: 2 only for confirmed hypercapnic respiratory failure, on a recorded
    #: clinician decision (who and when below).
    spo2_scale: Mapped[int] = mapped_column(default=1, server_default="1")
    spo2_scale_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    spo2_scale_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: clinic.scoring.due.OBSERVATION_LEVELS code; history in observation_level_change.
    observation_level: Mapped[str] = mapped_column(String(20), default="general", server_default="general")
    #: When the current observation level began (admission time at first).
    observation_level_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship(back_populates="admissions")
    unit: Mapped[Unit] = relationship()
    bed: Mapped[Bed] = relationship()
    admitted_by: Mapped[User] = relationship(foreign_keys=[admitted_by_id])
    attending_physician: Mapped[User | None] = relationship(foreign_keys=[attending_physician_id])
    discharged_by: Mapped[User | None] = relationship(foreign_keys=[discharged_by_id])
    spo2_scale_set_by: Mapped[User | None] = relationship(foreign_keys=[spo2_scale_set_by_id])
    substances: Mapped[list[AdmissionSubstance]] = relationship(
        back_populates="admission",
        order_by="(AdmissionSubstance.is_primary.desc(), AdmissionSubstance.id)",
    )
    bed_moves: Mapped[list[BedMove]] = relationship(
        back_populates="admission", order_by="BedMove.moved_at"
    )

    @property
    def is_current(self) -> bool:
        return self.status == ADMITTED


class AdmissionSubstance(SubstanceFacts, db.Model):
    __tablename__ = "admission_substance"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    #: One of SUBSTANCES.
    substance: Mapped[str] = mapped_column(String(30))
    is_primary: Mapped[bool] = mapped_column(default=False)
    #: Patient-reported time of last use; unknown is allowed and shown as unknown.
    last_use_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[str | None] = mapped_column(String(200))

    admission: Mapped[Admission] = relationship(back_populates="substances")


class BedMove(db.Model):
    """A transfer between beds; the admission's bed changes, this row keeps the history."""

    __tablename__ = "bed_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    from_bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    to_bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    moved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    admission: Mapped[Admission] = relationship(back_populates="bed_moves")
    from_bed: Mapped[Bed] = relationship(foreign_keys=[from_bed_id])
    to_bed: Mapped[Bed] = relationship(foreign_keys=[to_bed_id])
    moved_by: Mapped[User] = relationship()
