"""Admission operations: each writes its audit event and leaves the commit to the view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from clinic import audit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import (
    Admission,
    AdmissionSubstance,
    Bed,
    BedMove,
    DischargeReversal,
    Patient,
    Unit,
    User,
)
from clinic.models.patient import ADMITTED, DISCHARGED, DISPOSITIONS, PROTOCOLS, SUBSTANCES


class AdmissionError(Exception):
    """A broken admission rule, with the form field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SubstanceEntry:
    substance: str
    last_use_at: datetime | None
    is_primary: bool
    detail: str | None = None


@dataclass(frozen=True)
class NewPatient:
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str


def find_patient(mrn: str) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.mrn == normalise_mrn(mrn)))


def normalise_mrn(mrn: str) -> str:
    return mrn.strip().upper()


def current_admission_in_bed(bed: Bed) -> Admission | None:
    return db.session.scalar(
        select(Admission).where(Admission.bed_id == bed.id, Admission.status == ADMITTED)
    )


def current_admission_of(patient: Patient) -> Admission | None:
    """Return the patient's admission under way, if they are on a unit now."""
    return db.session.scalar(
        select(Admission).where(Admission.patient_id == patient.id, Admission.status == ADMITTED)
    )


def free_beds(unit: Unit) -> list[Bed]:
    occupied = select(Admission.bed_id).where(
        Admission.unit_id == unit.id, Admission.status == ADMITTED
    )
    return list(
        db.session.scalars(
            select(Bed)
            .where(Bed.unit_id == unit.id, Bed.active.is_(True), Bed.id.not_in(occupied))
            .order_by(Bed.sort_key, Bed.label)
        )
    )


def _check_bed_free(bed: Bed, unit: Unit) -> None:
    if bed.unit_id != unit.id:
        raise AdmissionError(f"Bed {bed.label} is not on {unit.name}.", "bed")
    if not bed.active:
        raise AdmissionError(f"Bed {bed.label} is closed.", "bed")
    holder = current_admission_in_bed(bed)
    if holder is not None:
        raise AdmissionError(
            f"Bed {bed.label} is occupied by {holder.patient.display_name} "
            f"(MRN {holder.patient.mrn}). Transfer or discharge them first.",
            "bed",
        )


def _check_time(at: datetime, field: str, label: str) -> None:
    if at > utc_now():
        raise AdmissionError(f"{label} cannot be in the future.", field)


def admit(
    *,
    by: User,
    unit: Unit,
    bed: Bed,
    admitted_at: datetime,
    substances: list[SubstanceEntry],
    protocols: list[str],
    allergies: str,
    patient: Patient | None = None,
    new_patient: NewPatient | None = None,
    attending: User | None = None,
) -> Admission:
    """Admit a new or returning patient to a free bed; a returning patient is never duplicated."""
    if (patient is None) == (new_patient is None):
        raise ValueError("give exactly one of patient and new_patient")
    _check_time(admitted_at, "admitted_at", "Admission time")
    if new_patient is not None:
        existing = find_patient(new_patient.mrn)
        if existing is not None:
            raise AdmissionError(
                f"MRN {existing.mrn} already belongs to {existing.display_name}, born "
                f"{existing.date_of_birth:%d %b %Y}. Use “Find by MRN” to readmit them.",
                "mrn",
            )
    if patient is not None:
        current = db.session.scalar(
            select(Admission).where(Admission.patient_id == patient.id, Admission.status == ADMITTED)
        )
        if current is not None:
            raise AdmissionError(
                f"{patient.display_name} is already admitted to {current.unit.name}, "
                f"bed {current.bed.label}.",
                "mrn",
            )
    _check_bed_free(bed, unit)
    if not substances:
        raise AdmissionError("Record at least one substance.", "substances")
    if sum(1 for s in substances if s.is_primary) != 1:
        raise AdmissionError("Choose exactly one primary substance.", "primary_substance")
    for entry in substances:
        if entry.substance not in SUBSTANCES:
            raise AdmissionError(f"Unknown substance {entry.substance!r}.", "substances")
        if entry.last_use_at is not None and entry.last_use_at > utc_now():
            raise AdmissionError(
                f"Last use of {SUBSTANCES[entry.substance].lower()} cannot be in the future.",
                "substances",
            )
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        raise AdmissionError(f"Unknown protocol {unknown[0]!r}.", "protocols")
    if attending is not None and attending.role != "physician":
        raise AdmissionError("The attending must be a physician.", "attending_physician")

    if new_patient is not None:
        patient = Patient(
            mrn=normalise_mrn(new_patient.mrn),
            family_name=new_patient.family_name.strip(),
            given_name=new_patient.given_name.strip(),
            date_of_birth=new_patient.date_of_birth,
            sex=new_patient.sex,
            allergies=allergies.strip(),
        )
        db.session.add(patient)
        db.session.flush()
        audit.record(
            "create", user=by, object_type="patient", object_id=patient.id, patient_id=patient.id,
            detail={"after": patient_snapshot(patient)},
        )
    elif allergies.strip() != patient.allergies:
        before = patient.allergies
        patient.allergies = allergies.strip()
        audit.record(
            "correct", user=by, object_type="patient", object_id=patient.id, patient_id=patient.id,
            detail={"before": {"allergies": before}, "after": {"allergies": patient.allergies},
                    "reason": "updated at readmission"},
        )

    admission = Admission(
        patient=patient, unit=unit, bed=bed, status=ADMITTED, admitted_at=admitted_at,
        admitted_by=by, attending_physician=attending, observation_level_since=admitted_at,
        protocols=sorted(set(protocols) | {"vitals"}, key=list(PROTOCOLS).index),
    )
    db.session.add(admission)
    for entry in substances:
        db.session.add(
            AdmissionSubstance(
                admission=admission, substance=entry.substance, is_primary=entry.is_primary,
                last_use_at=entry.last_use_at, detail=entry.detail,
            )
        )
    db.session.flush()
    audit.record(
        "create", user=by, object_type="admission", object_id=admission.id, patient_id=patient.id,
        clinical_at=admitted_at, detail={"after": admission_snapshot(admission)},
    )
    return admission


def check_transfer(admission: Admission, to_bed: Bed) -> None:
    """Raise AdmissionError if the admission cannot move to this bed now."""
    if not admission.is_current:
        raise AdmissionError("Only a current admission can be transferred.")
    if to_bed.id == admission.bed_id:
        raise AdmissionError(f"The patient is already in bed {to_bed.label}.", "bed")
    _check_bed_free(to_bed, admission.unit)


def transfer(*, by: User, admission: Admission, to_bed: Bed, reason: str | None) -> BedMove:
    """Move a current admission to a free bed on the same unit."""
    check_transfer(admission, to_bed)
    before_label = admission.bed.label
    move = BedMove(
        admission=admission, from_bed_id=admission.bed_id, to_bed_id=to_bed.id, moved_by=by,
        reason=(reason or "").strip() or None,
    )
    db.session.add(move)
    admission.bed = to_bed
    db.session.flush()
    audit.record(
        "update", user=by, object_type="admission", object_id=admission.id, patient_id=admission.patient_id,
        detail={"change": "transfer", "before": {"bed": before_label}, "after": {"bed": to_bed.label},
                "reason": move.reason},
    )
    return move


def check_discharge(admission: Admission, discharged_at: datetime, disposition: str) -> None:
    """Raise AdmissionError if the admission cannot be discharged with these details."""
    if not admission.is_current:
        raise AdmissionError("This admission has already ended.")
    if disposition not in DISPOSITIONS:
        raise AdmissionError("Choose a disposition.", "disposition")
    _check_time(discharged_at, "discharged_at", "Discharge time")
    if discharged_at < admission.admitted_at:
        raise AdmissionError("Discharge cannot be before the admission time.", "discharged_at")


def discharge(
    *, by: User, admission: Admission, discharged_at: datetime, disposition: str, note: str | None
) -> None:
    """End a current admission with a disposition; the bed is free afterwards."""
    check_discharge(admission, discharged_at, disposition)
    before = admission_snapshot(admission)
    admission.status = DISCHARGED
    admission.discharged_at = discharged_at
    admission.discharged_by = by
    admission.disposition = disposition
    admission.discharge_note = (note or "").strip() or None
    db.session.flush()
    audit.record(
        "update", user=by, object_type="admission", object_id=admission.id, patient_id=admission.patient_id,
        clinical_at=discharged_at,
        detail={"change": "discharge", **audit.changes(before, admission_snapshot(admission))},
    )


def reversal_refusal(admission: Admission, now: datetime) -> str | None:
    """Return why this discharge cannot be reversed now, or None if a charge nurse may reverse it."""
    if admission.is_current:
        return "This admission is under way; there is no discharge to reverse."
    shift = admission.unit.shift_for(now)
    if admission.discharged_at < shift.starts_at:
        return ("Only a discharge in the current shift can be reversed. "
                "Admit the patient again if they are back on the unit.")
    if current_admission_of(admission.patient) is not None:
        return f"{admission.patient.display_name} has been admitted again since this discharge."
    return None


def discharge_reversals(admission: Admission) -> list[DischargeReversal]:
    """Return the admission's reversed discharges, oldest first."""
    return list(db.session.scalars(
        select(DischargeReversal).where(DischargeReversal.admission_id == admission.id)
        .order_by(DischargeReversal.id)
    ))


def reverse_discharge(*, by: User, admission: Admission, bed: Bed, reason: str,
                      now: datetime) -> DischargeReversal:
    """Reopen an admission discharged in error, keeping the discharge in a reversal row."""
    if not by.has_role("charge_nurse"):
        raise AdmissionError("Only a charge nurse can reverse a discharge.")
    refusal = reversal_refusal(admission, now)
    if refusal is not None:
        raise AdmissionError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise AdmissionError("Say why the discharge was entered in error.", "reason")
    _check_bed_free(bed, admission.unit)
    before = admission_snapshot(admission)
    reversal = DischargeReversal(
        admission=admission, reversed_at=now, reversed_by=by, reason=reason, bed=bed,
        discharged_at=admission.discharged_at, discharged_by_id=admission.discharged_by_id,
        disposition=admission.disposition, discharge_note=admission.discharge_note,
    )
    db.session.add(reversal)
    if bed.id != admission.bed_id:
        db.session.add(BedMove(admission=admission, from_bed_id=admission.bed_id, to_bed_id=bed.id,
                               moved_by=by, moved_at=now, reason="Discharge reversed"))
    admission.bed = bed
    admission.status = ADMITTED
    admission.discharged_at = None
    admission.discharged_by = None
    admission.disposition = None
    admission.discharge_note = None
    db.session.flush()
    audit.record(
        "update", user=by, object_type="admission", object_id=admission.id,
        patient_id=admission.patient_id, clinical_at=now,
        detail={"change": "discharge reversed", "reason": reason, "reversal_id": reversal.id,
                **audit.changes(before, admission_snapshot(admission))},
        content_of=reversal,
    )
    return reversal


def patient_snapshot(patient: Patient) -> dict:
    return {
        "mrn": patient.mrn, "family_name": patient.family_name, "given_name": patient.given_name,
        "date_of_birth": patient.date_of_birth.isoformat(), "sex": patient.sex,
        "allergies": patient.allergies,
    }


def admission_snapshot(admission: Admission) -> dict:
    return {
        "unit": admission.unit.name,
        "bed": admission.bed.label,
        "status": admission.status,
        "admitted_at": admission.admitted_at.isoformat(),
        "attending": admission.attending_physician.username if admission.attending_physician else None,
        "protocols": list(admission.protocols),
        "substances": [
            {"substance": s.substance, "primary": s.is_primary,
             "last_use_at": s.last_use_at.isoformat() if s.last_use_at else None}
            for s in admission.substances
        ],
        "discharged_at": admission.discharged_at.isoformat() if admission.discharged_at else None,
        "disposition": admission.disposition,
    }
