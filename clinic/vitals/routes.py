"""Chart, view and correct vital-signs sets."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import entries
from clinic.auth.decorators import role_required
from clinic.entries import ChartingError
from clinic.escalations.services import open_escalations
from clinic.extensions import db
from clinic.models import VitalSigns
from clinic.numbers import parse_decimal
from clinic.routing import (
    CHARTING_ROLES,
    admission_or_404,
    attach_error,
    audited_page,
    local_now,
    next_path,
    safe_next,
    save_entry,
    saved,
)
from clinic.saved import flash_saved
from clinic.scoring import news2
from clinic.timefmt import from_local
from clinic.vitals import bp
from clinic.vitals.forms import Spo2ScaleForm, VitalsForm
from clinic.vitals.services import (
    CONSCIOUSNESS,
    MEASURED,
    OXYGEN_DEVICES,
    record_vitals,
    set_spo2_scale,
)

ALREADY_SAVED = "This set was already saved; it has not been charted twice."


def _vitals_or_404(admission, vitals_id: int) -> VitalSigns:
    vitals = entries.load_entry("vitals", vitals_id, admission)
    if vitals is None:
        abort(404)
    return vitals


def _prefill(form: VitalsForm, vitals: VitalSigns) -> None:
    for name in MEASURED:
        value = getattr(vitals, name)
        getattr(form, name).data = "" if value is None else str(value)
    form.air_or_oxygen.data = {True: "oxygen", False: "air"}.get(vitals.on_oxygen)
    form.oxygen_device.data = vitals.oxygen_device or ""
    form.oxygen_flow.data = str(vitals.oxygen_flow) if vitals.oxygen_flow is not None else ""
    form.consciousness.data = vitals.consciousness
    form.observed_at.data = vitals.observed_at.astimezone(vitals.admission.unit.zone).replace(
        tzinfo=None
    )


def _save(form: VitalsForm, admission, supersedes: VitalSigns | None = None):
    """Save the form or put the refusal next to its field; return the new set or None."""
    return save_entry(
        form, VitalSigns,
        lambda: record_vitals(
            by=current_user, admission=admission,
            observed_at=from_local(form.observed_at.data, admission.unit.zone),
            checked=form.checked, on_oxygen=form.on_oxygen,
            oxygen_device=form.oxygen_device.data or None, oxygen_flow=form.oxygen_flow_value,
            consciousness=form.consciousness_value, confirmed=form.confirmed.data,
            idempotency_key=form.idempotency_key.data, supersedes=supersedes,
            correction_reason=form.correction_reason.data,
        ),
        already_saved=ALREADY_SAVED,
    )


def _render(form, admission, *, correcting=None, status=200):
    return render_template(
        "vitals/form.html", form=form, admission=admission, correcting=correcting,
        consciousness=CONSCIOUSNESS, devices=OXYGEN_DEVICES,
        next_url=next_path(),
    ), status


def _convert_temperature(form) -> bool:
    """Apply the offered °F → °C conversion; return whether the button was pressed."""
    try:
        # Only a value the page offered: anything else would be flashed back into the cookie.
        converted = parse_decimal(request.form.get("use_celsius"), int_digits=2, frac_digits=1)
    except ValueError:
        converted = None
    if converted is None:
        return False
    converted = str(converted)
    form.temperature.data = converted
    form.temperature.errors = []
    flash(f"Temperature converted to {converted} °C. Check it, then save.", "info")
    return True


@bp.route("/admissions/<int:admission_id>/vitals/new", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    admission = admission_or_404(admission_id)
    form = VitalsForm()
    form.glucose_unit = admission.unit.glucose_unit
    if request.method == "GET":
        form.observed_at.data = local_now(admission.unit)
        if not admission.is_current:
            flash("This admission has ended; new entries cannot be charted on it.", "error")
    if request.method == "POST" and _convert_temperature(form):
        return _render(form, admission)
    if form.validate_on_submit():
        vitals = _save(form, admission)
        if vitals is not None:
            return saved(
                form.idempotency_key.data,
                safe_next(url_for("vitals.show", admission_id=admission.id, vitals_id=vitals.id)),
                vitals,
            )
    return _render(form, admission, status=422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/vitals/<int:vitals_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, vitals_id: int):
    admission = admission_or_404(admission_id)
    vitals = _vitals_or_404(admission, vitals_id)
    result = None
    if vitals.news2_total is not None:
        result = news2.News2Result(vitals.news2_total, vitals.news2_band, vitals.news2_points,
                                   vitals.spo2_scale)
    return audited_page(
        "vitals/show.html",
        viewed=dict(object_type="vitals", object_id=vitals.id, patient_id=admission.patient_id,
                    detail={"page": "vitals"}),
        admission=admission, vitals=vitals, result=result,
        versions=entries.history(vitals), superseded=entries.is_superseded(vitals),
        retraction=entries.retraction_of(vitals), escalations=open_escalations(admission),
        consciousness=CONSCIOUSNESS, devices=OXYGEN_DEVICES,
    )


@bp.route("/admissions/<int:admission_id>/vitals/<int:vitals_id>/correct", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def correct(admission_id: int, vitals_id: int):
    admission = admission_or_404(admission_id)
    original = _vitals_or_404(admission, vitals_id)
    try:
        entries.check_can_amend(current_user, original)
    except ChartingError as error:
        flash(str(error), "error")
        return redirect(url_for("vitals.show", admission_id=admission.id, vitals_id=original.id))
    form = VitalsForm()
    form.glucose_unit = admission.unit.glucose_unit
    if request.method == "GET":
        _prefill(form, original)
    if request.method == "POST" and _convert_temperature(form):
        return _render(form, admission, correcting=original)
    if form.validate_on_submit():
        if not (form.correction_reason.data or "").strip():
            form.correction_reason.errors.append("Give the reason for the correction.")
        else:
            vitals = _save(form, admission, supersedes=original)
            if vitals is not None:
                return saved(form.idempotency_key.data,
                             url_for("vitals.show", admission_id=admission.id, vitals_id=vitals.id),
                             vitals)
    return _render(form, admission, correcting=original,
                   status=422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/spo2-scale", methods=["GET", "POST"])
@role_required("physician")
def spo2_scale(admission_id: int):
    admission = admission_or_404(admission_id)
    form = Spo2ScaleForm()
    if request.method == "GET":
        form.scale.data = str(admission.spo2_scale)
    if form.validate_on_submit():
        try:
            set_spo2_scale(by=current_user, admission=admission, scale=int(form.scale.data),
                           reason=form.reason.data)
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash_saved("SpO₂ scale", admission.patient,
                        f"scale {admission.spo2_scale}; new sets are scored with it")
            return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template("vitals/spo2_scale.html", form=form, admission=admission), (
        422 if form.errors or form.form_errors else 200
    )
