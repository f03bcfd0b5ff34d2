"""Write, view and correct nursing notes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import entries
from clinic.auth.decorators import role_required
from clinic.entries import ChartingError
from clinic.models import NursingNote
from clinic.notes import bp
from clinic.notes.forms import NoteForm
from clinic.notes.services import record_note
from clinic.routing import (
    CHARTING_ROLES,
    admission_or_404,
    audited_page,
    local_now,
    safe_next,
    save_entry,
    saved,
)
from clinic.timefmt import from_local

ALREADY_SAVED = "This note was already saved; it has not been charted twice."


def _note_or_404(admission, note_id: int) -> NursingNote:
    note = entries.load_entry("note", note_id, admission)
    if note is None:
        abort(404)
    return note


def _save(form: NoteForm, admission, supersedes: NursingNote | None = None):
    """Save the form or put the refusal next to its field; return the note or None."""
    return save_entry(
        form, NursingNote,
        lambda: record_note(
            by=current_user, admission=admission,
            observed_at=from_local(form.observed_at.data, admission.unit.zone),
            text=form.text.data, idempotency_key=form.idempotency_key.data,
            supersedes=supersedes, correction_reason=form.correction_reason.data,
        ),
        already_saved=ALREADY_SAVED,
    )


def _render(form, admission, *, correcting=None, status=200):
    return render_template("notes/form.html", form=form, admission=admission,
                           correcting=correcting), status


@bp.route("/admissions/<int:admission_id>/notes/new", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    admission = admission_or_404(admission_id)
    form = NoteForm()
    if request.method == "GET":
        form.observed_at.data = local_now(admission.unit)
        if not admission.is_current:
            flash("This admission has ended; new entries cannot be charted on it.", "error")
    if form.validate_on_submit():
        note = _save(form, admission)
        if note is not None:
            return saved(
                form.idempotency_key.data,
                safe_next(url_for("notes.show", admission_id=admission.id, note_id=note.id)),
                note,
            )
    return _render(form, admission, status=422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/notes/<int:note_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, note_id: int):
    admission = admission_or_404(admission_id)
    note = _note_or_404(admission, note_id)
    return audited_page(
        "notes/show.html",
        viewed=dict(object_type=note.kind, object_id=note.id, patient_id=admission.patient_id,
                    detail={"page": "note"}),
        admission=admission, note=note,
        shift=admission.unit.shift_for(note.observed_at), versions=entries.history(note),
        superseded=entries.is_superseded(note), retraction=entries.retraction_of(note),
    )


@bp.route("/admissions/<int:admission_id>/notes/<int:note_id>/correct", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def correct(admission_id: int, note_id: int):
    admission = admission_or_404(admission_id)
    original = _note_or_404(admission, note_id)
    try:
        entries.check_can_amend(current_user, original)
    except ChartingError as error:
        flash(str(error), "error")
        return redirect(url_for("notes.show", admission_id=admission.id, note_id=original.id))
    form = NoteForm()
    if request.method == "GET":
        form.text.data = original.text
        form.observed_at.data = original.observed_at.astimezone(admission.unit.zone).replace(
            tzinfo=None
        )
    if form.validate_on_submit():
        if not (form.correction_reason.data or "").strip():
            form.correction_reason.errors.append("Give the reason for the correction.")
        else:
            note = _save(form, admission, supersedes=original)
            if note is not None:
                return saved(form.idempotency_key.data,
                             url_for("notes.show", admission_id=admission.id, note_id=note.id), note)
    return _render(form, admission, correcting=original,
                   status=422 if request.method == "POST" else 200)
