"""Admit, transfer and discharge (charge nurse) and the patient chart (clinical staff)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import FormField

from clinic import audit, entries
from clinic.admissions import bp, services
from clinic.admissions import chart as chart_service
from clinic.admissions.forms import AdmitForm, DischargeForm, ReverseDischargeForm, TransferForm
from clinic.auth.decorators import role_required
from clinic.board.services import choose_unit
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations.services import open_escalations
from clinic.extensions import db
from clinic.forms import RetractForm
from clinic.models import Admission, Bed, User
from clinic.models.patient import DISPOSITIONS, SUBSTANCES
from clinic.models.user import CLINICAL_ROLES
from clinic.monitoring.safety import chart_panel as safety_panel
from clinic.monitoring.services import monitoring_summary
from clinic.prn.routes import panel_for as prn_panel
from clinic.routing import id_arg
from clinic.safety.cells import since_use_words
from clinic.saved import flash_saved
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.timefmt import from_local, local_time, to_local_input


def _load_admission(admission_id: int) -> Admission:
    admission = db.session.get(Admission, admission_id)
    if admission is None:
        abort(404)
    return admission


def _attach_error(form, error: services.AdmissionError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if isinstance(target, FormField):
        # A group of fields (the substances table) has no error list of its own.
        target.form.form_errors.append(str(error))
    elif target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        flash(str(error), "error")


@bp.route("/admit", methods=["GET", "POST"])
@role_required("charge_nurse")
def admit():
    unit = choose_unit(request.args.get("unit", type=id_arg))
    form = AdmitForm()
    free = services.free_beds(unit)
    form.bed.choices = [(-1, "Choose…")] + [(b.id, f"Bed {b.label}") for b in free]
    physicians = db.session.scalars(
        select(User).where(User.role == "physician", User.active.is_(True)).order_by(User.display_name)
    ).all()
    form.attending_physician.choices = [(0, "Not yet assigned")] + [
        (p.id, p.display_name) for p in physicians
    ]

    lookup = request.args.get("mrn", "").strip()
    returning = services.find_patient(lookup) if lookup else None
    # A patient on a unit now is not offered for re-admission: say where they are instead.
    on_ward = services.current_admission_of(returning) if returning is not None else None
    if on_ward is not None and request.method == "GET":
        returning = None
    if request.method == "GET":
        form.admitted_at.data = _local_naive_now(unit)
        if returning is not None:
            form.mrn.data = returning.mrn
            form.allergies.data = returning.allergies
        elif lookup and on_ward is None:
            form.mrn.data = lookup
            flash(f"No patient with MRN {lookup.upper()}: enter the new patient's details.", "info")

    if returning is not None:
        # Identity comes from the existing record; only allergies are re-confirmed.
        for sub in form.identity.form:
            sub.validators = []
            sub.flags.required = False
        form.identity.form.validate = lambda *a, **k: True

    if form.validate_on_submit():
        if form.bed.data not in {b.id for b in free}:
            form.bed.errors.append(_bed_refusal(form.bed.data))
        else:
            try:
                admission = services.admit(
                    by=current_user,
                    unit=unit,
                    bed=db.session.get(Bed, form.bed.data),
                    admitted_at=from_local(form.admitted_at.data, unit.zone),
                    substances=_substances_from(form, unit),
                    protocols=form.protocols.data or [],
                    allergies=form.allergies.data,
                    patient=returning,
                    new_patient=None if returning is not None else _new_patient_from(form),
                    attending=db.session.get(User, form.attending_physician.data)
                    if form.attending_physician.data
                    else None,
                )
                db.session.commit()
            except services.AdmissionError as error:
                db.session.rollback()
                _attach_error(form, error)
            except IntegrityError:
                db.session.rollback()
                form.bed.errors.append(
                    "Someone else has just admitted a patient to this bed or this patient to "
                    "another bed. Nothing was saved; check the board and choose again."
                )
            else:
                flash_saved("Admission", admission.patient, f"bed {admission.bed.label}")
                return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template(
        "admissions/admit.html", form=form, unit=unit, returning=returning, lookup=lookup,
        on_ward=on_ward,
        substance_labels=SUBSTANCES,
    ), (422 if form.errors else 200)


def _bed_refusal(bed_id: int) -> str:
    bed = db.session.get(Bed, bed_id) if bed_id and bed_id > 0 else None
    if bed is None:
        return "Choose a free bed."
    holder = services.current_admission_in_bed(bed)
    if holder is not None:
        return (
            f"Bed {bed.label} is occupied by {holder.patient.display_name} "
            f"(MRN {holder.patient.mrn}). Choose another bed."
        )
    return f"Bed {bed.label} cannot take an admission now. Choose another bed."


def _local_naive_now(unit):
    return utc_now().astimezone(unit.zone).replace(tzinfo=None, second=0, microsecond=0)


def _substances_from(form: AdmitForm, unit) -> list[services.SubstanceEntry]:
    entries = []
    for key in SUBSTANCES:
        row = getattr(form.substances.form, key).form
        if not row.used.data:
            continue
        entries.append(
            services.SubstanceEntry(
                substance=key,
                last_use_at=from_local(row.last_use.data, unit.zone) if row.last_use.data else None,
                is_primary=form.primary_substance.data == key,
                detail=row.detail.data or None,
            )
        )
    return entries


def _new_patient_from(form: AdmitForm) -> services.NewPatient:
    identity = form.identity.form
    return services.NewPatient(
        mrn=form.mrn.data,
        family_name=identity.family_name.data,
        given_name=identity.given_name.data,
        date_of_birth=identity.date_of_birth.data,
        sex=identity.sex.data,
    )


@bp.route("/admissions/<int:admission_id>")
@role_required(*CLINICAL_ROLES)
def chart(admission_id: int):
    admission = _load_admission(admission_id)
    now = utc_now()
    default_view = "stay" if current_user.has_role("physician") or not admission.is_current else "shift"
    view = request.args.get("view", default_view)
    shift = admission.unit.shift_for(now if admission.is_current else admission.discharged_at)
    if view == "stay":
        groups = chart_service.by_shift(admission, chart_service.timeline(admission))
    else:
        view = "shift"
        groups = [(shift, chart_service.timeline(admission, since=shift.starts_at))]
    # Rendered before the audit commit, so the page's reads share one transaction.
    page = render_template(
        "admissions/chart.html", admission=admission, now=now, view=view, groups=groups,
        shift=shift, latest_news2=chart_service.latest_news2(admission),
        latest_scores=chart_service.latest_assessments(admission),
        open_escalations=open_escalations(admission),
        monitoring=monitoring_summary(admission, now) if admission.is_current else None,
        prn=prn_panel(admission, now),
        safety=safety_panel(admission, now), levels=OBSERVATION_LEVELS,
        since_use=since_use_words(admission, now),
        discharge_reversals=services.discharge_reversals(admission),
        can_reverse_discharge=current_user.has_role("charge_nurse")
        and services.reversal_refusal(admission, now) is None,
    )
    audit.record(
        "view", object_type="admission", object_id=admission.id, patient_id=admission.patient_id,
        detail={"page": "chart", "view": view},
    )
    db.session.commit()
    return page


@bp.route("/admissions/<int:admission_id>/entries/<kind>/<int:entry_id>/retract",
          methods=["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def retract(admission_id: int, kind: str, entry_id: int):
    admission = _load_admission(admission_id)
    entry = entries.load_entry(kind, entry_id, admission)
    if entry is None:
        abort(404)
    form = RetractForm()
    if form.validate_on_submit():
        try:
            entries.retract(by=current_user, entry=entry, reason=form.reason.data)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash("This entry had already been marked entered in error.", "info")
            return redirect(url_for("admissions.chart", admission_id=admission.id))
        except ChartingError as error:
            db.session.rollback()
            if error.field == "reason":
                form.reason.errors.append(str(error))
            else:
                flash(str(error), "error")
                return redirect(url_for("admissions.chart", admission_id=admission.id))
        else:
            flash_saved("Entered-in-error mark", admission.patient,
                        "the entry stays on the chart, struck through")
            return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template("admissions/retract.html", form=form, admission=admission, entry=entry,
                           kind=kind), (422 if form.errors else 200)


@bp.route("/admissions/<int:admission_id>/transfer", methods=["GET", "POST"])
@role_required("charge_nurse")
def transfer(admission_id: int):
    admission = _load_admission(admission_id)
    if not admission.is_current:
        flash("This admission has ended; it cannot be transferred.", "error")
        return redirect(url_for("admissions.chart", admission_id=admission.id))
    form = TransferForm()
    free = services.free_beds(admission.unit)
    form.bed.choices = [(-1, "Choose…")] + [(b.id, f"Bed {b.label}") for b in free]
    if not _changing() and form.validate_on_submit():
        bed = db.session.get(Bed, form.bed.data) if form.bed.data > 0 else None
        if bed is None or bed.unit_id != admission.unit_id:
            form.bed.errors.append("Choose a free bed on this unit.")
        elif _confirming():
            try:
                services.check_transfer(admission, bed)
            except services.AdmissionError as error:
                _attach_error(form, error)
            else:
                return _confirm_page(
                    admission, f"Move {admission.patient.display_name} to bed {bed.label}?",
                    [("From bed", admission.bed.label), ("To bed", bed.label),
                     ("Reason", form.reason.data or "None given")],
                    f"Yes, move {admission.patient.display_name} to bed {bed.label}",
                )
        else:
            try:
                services.transfer(
                    by=current_user, admission=admission, to_bed=bed, reason=form.reason.data
                )
                db.session.commit()
            except services.AdmissionError as error:
                db.session.rollback()
                _attach_error(form, error)
            except IntegrityError:
                db.session.rollback()
                form.bed.errors.append(_bed_refusal(bed.id))
            else:
                flash_saved("Transfer", admission.patient, f"now in bed {bed.label}")
                # Back to the patient the nurse was working on, not the whole unit.
                return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template("admissions/transfer.html", form=form, admission=admission), (
        422 if form.errors else 200
    )


@bp.route("/admissions/<int:admission_id>/discharge", methods=["GET", "POST"])
@role_required("charge_nurse")
def discharge(admission_id: int):
    admission = _load_admission(admission_id)
    if not admission.is_current:
        flash("This admission has already ended.", "error")
        return redirect(url_for("admissions.chart", admission_id=admission.id))
    form = DischargeForm()
    if request.method == "GET":
        form.discharged_at.data = _local_naive_now(admission.unit)
    if not _changing() and form.validate_on_submit():
        discharged_at = from_local(form.discharged_at.data, admission.unit.zone)
        try:
            if _confirming():
                services.check_discharge(admission, discharged_at, form.disposition.data)
                return _confirm_page(
                    admission, f"Discharge {admission.patient.display_name}?",
                    [("Discharged at", local_time(discharged_at, admission.unit.zone)),
                     ("Disposition", DISPOSITIONS[form.disposition.data]),
                     ("Note", form.note.data or "None")],
                    f"Yes, discharge {admission.patient.display_name}",
                    danger=True,
                )
            services.discharge(
                by=current_user,
                admission=admission,
                discharged_at=discharged_at,
                disposition=form.disposition.data,
                note=form.note.data,
            )
            db.session.commit()
        except services.AdmissionError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            flash_saved("Discharge", admission.patient,
                        f"bed {admission.bed.label} is free. Entered in error? A charge nurse can "
                        "reverse it from the chart during this shift")
            return redirect(url_for("board.unit", unit_id=admission.unit_id))
    return render_template(
        "admissions/discharge.html", form=form, admission=admission, to_local_input=to_local_input
    ), (422 if form.errors else 200)


def _confirming() -> bool:
    """Return whether this POST is the first step, to be confirmed, rather than the confirmation."""
    return request.form.get("confirm") != "yes"


def _changing() -> bool:
    """Return whether the confirmation step sent the user back to change what they typed."""
    return request.form.get("confirm") == "change"


def _confirm_page(admission: Admission, question: str, details: list[tuple[str, str]], button: str,
                  *, danger: bool = False):
    """Return the step that names the patient, MRN and bed before a discharge or a move is saved."""
    kept = [(name, value) for name, values in request.form.lists() for value in values
            if name not in ("csrf_token", "confirm")]
    return render_template("admissions/confirm.html", admission=admission, question=question,
                           details=details, button=button, danger=danger, kept=kept)


@bp.route("/admissions/<int:admission_id>/reverse-discharge", methods=["GET", "POST"])
@role_required("charge_nurse")
def reverse_discharge(admission_id: int):
    admission = _load_admission(admission_id)
    now = utc_now()
    refusal = services.reversal_refusal(admission, now)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for("admissions.chart", admission_id=admission.id))
    form = ReverseDischargeForm()
    free = services.free_beds(admission.unit)
    form.bed.choices = [(-1, "Choose…")] + [(b.id, f"Bed {b.label}") for b in free]
    if request.method == "GET" and admission.bed_id in {b.id for b in free}:
        form.bed.data = admission.bed_id  # the bed it left, if nobody has taken it since
    if form.validate_on_submit():
        bed = db.session.get(Bed, form.bed.data) if form.bed.data > 0 else None
        if bed is None or bed.unit_id != admission.unit_id:
            form.bed.errors.append("Choose a free bed on this unit.")
        else:
            try:
                services.reverse_discharge(by=current_user, admission=admission, bed=bed,
                                           reason=form.reason.data, now=now)
                db.session.commit()
            except services.AdmissionError as error:
                db.session.rollback()
                _attach_error(form, error)
            except IntegrityError:
                db.session.rollback()
                form.bed.errors.append(_bed_refusal(bed.id))
            else:
                flash_saved("Discharge reversal", admission.patient, f"back in bed {bed.label}")
                return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template("admissions/reverse_discharge.html", form=form, admission=admission), (
        422 if form.errors else 200
    )
