"""Admission prompts done, for tests about other due items (issue 11: screen, thiamine)."""

from __future__ import annotations

from clinic.extensions import db
from clinic.models import Admission, ThiaminePrompt
from clinic.scoring import safety


def complete_admission_prompts(admission: Admission) -> None:
    """Record what every admission is prompted for, as a unit does on admitting the patient."""
    if safety.thiamine_prompted((s.substance for s in admission.substances), admission.protocols):
        db.session.add(ThiaminePrompt(admission_id=admission.id, given=True,
                                      recorded_by_id=admission.admitted_by_id))
    db.session.commit()


def settled(make_admission):
    """Wrap a make_admission fixture so its admissions have their admission prompts done."""
    def make(*args, **kwargs):
        admission = make_admission(*args, **kwargs)
        complete_admission_prompts(admission)
        return admission
    return make
