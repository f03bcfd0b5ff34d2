"""Record the review of a suicide-risk screen, an hour of continuous observation, the thiamine prompt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from clinic import audit
from clinic import entries as charting
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations import services as escalations
from clinic.extensions import db
from clinic.models import Admission, ObservationAttestation, SuicideReview, ThiaminePrompt, User
from clinic.monitoring.safety import facts_for
from clinic.scoring import safety

# --- recording -----------------------------------------------------------------------------------


def record_review(*, by: User, admission: Admission, note: str) -> SuicideReview:
    """Record a physician's or charge nurse's review of the screen that flagged the patient."""
    if not by.has_role(*safety.SENIOR_ROLES):
        raise ChartingError(
            "Only a physician or charge nurse can record the review of a suicide-risk screen.")
    charting.check_can_chart(admission)
    note = (note or "").strip()
    if not note:
        raise ChartingError("Record what the review found and decided.", "note")
    now = utc_now()
    facts = facts_for([admission], now=now, shift=admission.unit.shift_for(now))[admission.id]
    pending = facts.review_pending
    if pending is None:
        raise ChartingError("No suicide-risk screen is waiting for a review.")
    review = SuicideReview(admission_id=admission.id, assessment_id=pending.id, note=note, reviewed_by=by)
    db.session.add(review)
    db.session.flush()
    audit.record("create", user=by, object_type="suicide_review", object_id=review.id,
                 patient_id=admission.patient_id, clinical_at=review.reviewed_at,
                 detail={"after": {"assessment_id": pending.id, "note": note}}, content_of=review)
    return review


def record_thiamine(*, by: User, admission: Admission, given: bool, reason: str | None) -> ThiaminePrompt:
    """Record whether thiamine was given at admission for alcohol withdrawal, and why not."""
    charting.check_can_chart(admission)
    if not safety.thiamine_prompted((s.substance for s in admission.substances), admission.protocols):
        raise ChartingError("Thiamine is prompted only for an admission for alcohol withdrawal.")
    reason = (reason or "").strip() or None
    if not given and reason is None:
        raise ChartingError("Say why thiamine was not given.", "reason")
    existing = db.session.scalar(select(ThiaminePrompt).where(ThiaminePrompt.admission_id == admission.id))
    if existing is not None:
        raise ChartingError(f"Thiamine was already recorded as {'given' if existing.given else 'not given'} "
                            f"by {existing.recorded_by.display_name}; it cannot be replaced.")
    row = ThiaminePrompt(admission_id=admission.id, given=given, reason=None if given else reason,
                         recorded_by=by)
    db.session.add(row)
    db.session.flush()
    audit.record("create", user=by, object_type="thiamine_prompt", object_id=row.id,
                 patient_id=admission.patient_id, clinical_at=row.recorded_at,
                 detail={"after": {"given": given, "reason": row.reason}}, content_of=row)
    return row


def record_attestation(*, by: User, admission: Admission, hour_start: datetime,
                       concern: str | None) -> ObservationAttestation:
    """Record the observer's word for one hour of continuous observation; a concern escalates."""
    charting.check_can_chart(admission)
    now = utc_now()
    facts = facts_for([admission], now=now, shift=admission.unit.shift_for(now))[admission.id]
    hour = next((h for h in facts.hours if h.starts_at == hour_start), None)
    if hour is None:
        raise ChartingError("There is no hour of continuous observation starting then for this patient; "
                            "reload the page.", "hour_start")
    if hour.attested:
        raise ChartingError("This hour was already attested; it cannot be replaced.", "hour_start")
    if not hour.open_to_attest(now):
        at = (hour.ends_at - safety.ATTEST_FROM_BEFORE_END).astimezone(admission.unit.zone).strftime("%H:%M")
        raise ChartingError(f"This hour is not over yet: attest it from {at}.", "hour_start")
    concern = (concern or "").strip() or None
    row = ObservationAttestation(admission_id=admission.id, hour_start=hour.starts_at,
                                 level=admission.observation_level, concern=concern, recorded_by=by)
    db.session.add(row)
    db.session.flush()
    audit.record("create", user=by, object_type="observation_attestation", object_id=row.id,
                 patient_id=admission.patient_id, clinical_at=hour.starts_at,
                 detail={"after": {"hour_start": hour.starts_at.isoformat(), "level": row.level,
                                   "concern": concern}}, content_of=row)
    if concern:
        at = hour.starts_at.astimezone(admission.unit.zone).strftime("%H:%M")
        escalations.raise_automatic(
            by=by, admission=admission, rule=f"attestation:{row.id}", level="urgent",
            reason=f"Continuous observation, hour from {at}: “{concern}”. Inform the charge nurse now.",
            source_kind="attestation", source_id=row.id)
    return row
