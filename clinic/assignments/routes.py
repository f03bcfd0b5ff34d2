"""The assignment sheet: charge nurses give each bed a nurse for this shift or the next."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import audit
from clinic.assignments import bp
from clinic.assignments.forms import sheet_form
from clinic.assignments.services import (
    SHIFT_CHOICES,
    AssignmentError,
    assignable_nurses,
    save_assignments,
    sheet,
    shift_of,
    shift_starting,
)
from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Unit
from clinic.models.user import CLINICAL_ROLES
from clinic.saved import flash_saved


def _posted_shift_start() -> datetime | None:
    """Return the shift start the sheet was opened for, if the form sent a readable one."""
    try:
        value = datetime.fromisoformat(request.form.get("shift_start", ""))
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def _which(shift, now: datetime) -> str:
    return "next" if shift.starts_at > now else "current"


@bp.route("/units/<int:unit_id>/assignments", methods=["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def index(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    if request.method == "POST" and not current_user.has_role("charge_nurse"):
        abort(403)
    now = utc_now()
    which = request.args.get("shift", "current")
    if which not in SHIFT_CHOICES:
        which = "current"
    shift = shift_of(unit, which, now)
    if request.method == "POST" and (posted := _posted_shift_start()) is not None:
        # Save to the shift the sheet was opened for, not whatever "current" means by now.
        shift = shift_starting(unit, posted, now)
        if shift is None:
            flash("The shift you were assigning has already ended; nothing was saved. "
                  "Here is the current shift.", "error")
            return redirect(url_for("assignments.index", unit_id=unit.id, shift="current"))
        which = _which(shift, now)

    rows = sheet(unit, shift)
    form = sheet_form(rows, assignable_nurses())
    if request.method == "GET":
        form.shift_start.data = shift.starts_at.isoformat()
    if form.validate_on_submit():
        try:
            written = save_assignments(by=current_user, unit=unit, shift=shift,
                                       wanted=form.chosen(), seen=form.shown())
            db.session.commit()
        except AssignmentError as error:
            db.session.rollback()
            target = getattr(form, error.field, None) if error.field else None
            if target is None:
                flash(str(error), "error")
                return redirect(url_for("assignments.index", unit_id=unit.id, shift=which))
            target.errors = [*target.errors, str(error)]
        else:
            if written:
                count = "1 bed" if len(written) == 1 else f"{len(written)} beds"
                changed = {row.bed_id for row in written}
                patients = [r.admission.patient for r in rows if r.admission and r.bed.id in changed]
                labels = [r.bed.label for r in rows if r.bed.id in changed]
                flash_saved(f"Assignments for the {shift.name} shift",
                            patients or f"empty bed{'s' if len(labels) > 1 else ''} {', '.join(labels)}",
                            f"{count} changed")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("assignments.index", unit_id=unit.id, shift=which))
    if request.method == "GET":
        patients = [row.admission.patient_id for row in rows if row.admission is not None]
        audit.record("view", object_type="assignments", object_id=unit.id,
                     detail={"unit": unit.name, "shift": shift.name, "patients": patients})
        db.session.commit()
    load: dict[str, list[str]] = {}
    for row in rows:
        if row.assignment is not None and row.assignment.nurse is not None:
            load.setdefault(row.assignment.nurse.display_name, []).append(row.bed.label)
    return render_template(
        "assignments/index.html", unit=unit, shift=shift, which=which, rows=rows, form=form,
        can_edit=current_user.has_role("charge_nurse"), load=load, now=now,
    ), (422 if form.errors else 200)
