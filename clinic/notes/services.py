"""Record and correct nursing notes."""

from __future__ import annotations

from datetime import datetime

from clinic import audit, entries
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission, NursingNote, User
from clinic.notes.forms import MAX_NOTE_CHARS


def record_note(
    *,
    by: User,
    admission: Admission,
    observed_at: datetime,
    text: str,
    idempotency_key: str,
    supersedes: NursingNote | None = None,
    correction_reason: str | None = None,
) -> NursingNote:
    """Save a note (or a correction of one) with its late-entry mark and audit event."""
    if supersedes is None:
        # A correction may follow a discharge; a new note may not.
        entries.check_can_chart(admission)
    entries.check_clinical_time(observed_at, admission)
    text = (text or "").strip()
    if not text:
        raise ChartingError("Write the note; an empty note is not saved.", "text")
    if len(text) > MAX_NOTE_CHARS:
        raise ChartingError("A note can be at most 10,000 characters; split it into two notes.", "text")
    note = NursingNote(observed_at=observed_at, text=text)
    entries.stamp(note, by=by, admission=admission, idempotency_key=idempotency_key,
                  supersedes=supersedes, reason=correction_reason)
    db.session.add(note)
    db.session.flush()
    if supersedes is None:
        detail = {"after": {"text": text}}
    else:
        detail = {"supersedes": supersedes.id, "reason": note.correction_reason,
                  **audit.changes(_snapshot(supersedes), _snapshot(note))}
    audit.record(
        "correct" if supersedes is not None else "create", user=by,
        object_type=note.kind, object_id=note.id, patient_id=admission.patient_id,
        clinical_at=observed_at, detail=detail, content_of=note,
    )
    return note


def _snapshot(note: NursingNote) -> dict:
    return {"text": note.text, "observed_at": note.observed_at.isoformat()}
