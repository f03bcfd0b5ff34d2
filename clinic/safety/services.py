"""Record the review of a suicide-risk screen, an hour of continuous observation, the thiamine prompt."""

from __future__ import annotations

from sqlalchemy import select

from clinic import audit
from clinic import entries as charting
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission, SuicideReview, ThiaminePrompt, User
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
                 detail={"after": {"assessment_id": pending.id, "note": note}})
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
                 detail={"after": {"given": given, "reason": row.reason}})
    return row
