"""Admission prompts done, for tests about other due items (issue 11: screen, thiamine)."""

from __future__ import annotations

import uuid

from clinic.assessments import services as assessments
from clinic.extensions import db
from clinic.models import Admission, ThiaminePrompt
from clinic.scoring import safety


def complete_admission_prompts(admission: Admission) -> None:
    """Record what every admission is prompted for, as a unit does on admitting the patient."""
    if safety.thiamine_prompted((s.substance for s in admission.substances), admission.protocols):
        db.session.add(ThiaminePrompt(admission_id=admission.id, given=True,
                                      recorded_by_id=admission.admitted_by_id))
    assessments.record_assessment(
        by=admission.admitted_by, admission=admission, scale=assessments.SCREEN,
        observed_at=admission.admitted_at, items={}, yes_no={}, heart_rate=None,
        self_harm_thoughts=False, suicide_answers={"behaviour": False}, unable_reason=None,
        idempotency_key=uuid.uuid4().hex)
    db.session.commit()


def settled(make_admission):
    """Wrap a make_admission fixture so its admissions have their admission prompts done."""
    def make(*args, **kwargs):
        admission = make_admission(*args, **kwargs)
        complete_admission_prompts(admission)
        return admission
    return make
