"""Raise escalations by hand, follow them through to closure, and list a unit's open ones."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations import bp, services
from clinic.escalations.forms import UPDATE_FORMS, RaiseForm
from clinic.extensions import db
from clinic.models import Escalation, Unit
from clinic.models.escalation import UPDATE_KINDS
from clinic.routing import CHARTING_ROLES, admission_or_404, local_now, saved
from clinic.saved import flash_saved
from clinic.timefmt import from_local

#: Entry kinds an automatic escalation can name as its source -> (endpoint, id argument).
SOURCE_ENDPOINTS = {
    "vitals": ("vitals.show", "vitals_id"),
    "assessment": ("assessments.show", "assessment_id"),
}


def _escalation_or_404(admission, escalation_id: int) -> Escalation:
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None or escalation.admission_id != admission.id:
        abort(404)
    return escalation


def _attach(form, error: ChartingError, renamed: dict[str, str] | None = None) -> None:
    """Put a refusal next to the field it belongs to, or at the top of the form."""
    name = (renamed or {}).get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def _raise(form: RaiseForm, admission) -> Escalation | None:
    """Raise the escalation (and record who was told) or attach the refusal; return it or None."""
    key = form.idempotency_key.data
    already = services.escalation_by_key(key)
    if already is not None:
        flash("This escalation was already raised; it has not been raised twice.", "info")
        return already
    informed_who = (form.informed_who.data or "").strip()
    informed_at = from_local(form.informed_at.data, admission.unit.zone) if informed_who else None
    try:
        # Telling someone is escalating: if that happened before this form was saved, the
        # escalation dates from then, so the informed time is never "before it was raised".
        raised_at = min(informed_at, utc_now()) if informed_at is not None else None
        escalation = services.raise_by_hand(
            by=current_user, admission=admission, level=form.level.data, reason=form.reason.data,
            idempotency_key=key, raised_at=raised_at,
        )
        if informed_at is not None:
            services.add_update(by=current_user, escalation=escalation, kind="informed",
                                happened_at=informed_at, informed_who=informed_who)
        db.session.commit()
        return escalation
    except ChartingError as error:
        db.session.rollback()
        _attach(form, error, {"raised_at": "informed_at", "happened_at": "informed_at"})
    except IntegrityError:
        db.session.rollback()
        already = services.escalation_by_key(key)
        if already is not None:
            flash("This escalation was already raised; it has not been raised twice.", "info")
            return already
        raise
    return None


@bp.route("/admissions/<int:admission_id>/escalations/new", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    admission = admission_or_404(admission_id)
    form = RaiseForm()
    if request.method == "GET":
        form.informed_at.data = local_now(admission.unit)
        if not admission.is_current:
            flash("This admission has ended; escalations cannot be raised on it.", "error")
    if form.validate_on_submit():
        escalation = _raise(form, admission)
        if escalation is not None:
            return saved(form.idempotency_key.data,
                         url_for("escalations.show", admission_id=admission.id,
                                 escalation_id=escalation.id), escalation)
    return render_template("escalations/new.html", form=form, admission=admission,
                           levels=services.LEVELS), (422 if request.method == "POST" else 200)


def _update_forms(admission, submitted=None) -> dict:
    """Return a fresh form per update kind, with the submitted one (if any) in its place."""
    now = local_now(admission.unit)
    forms = {}
    for kind, form_class in UPDATE_FORMS.items():
        if submitted is not None and kind == submitted[0]:
            forms[kind] = submitted[1]
            continue
        form = form_class(formdata=None)
        form.happened_at.data = now
        forms[kind] = form
    return forms


def _render_show(admission, escalation, forms, *, submitted_kind=None, status=200):
    source_url = None
    if escalation.source_kind in SOURCE_ENDPOINTS and escalation.source_id is not None:
        endpoint, argument = SOURCE_ENDPOINTS[escalation.source_kind]
        source_url = url_for(endpoint, admission_id=admission.id, **{argument: escalation.source_id})
    return render_template(
        "escalations/show.html", admission=admission, escalation=escalation, forms=forms,
        submitted_kind=submitted_kind, source_url=source_url, levels=services.LEVELS,
        kinds=UPDATE_KINDS, can_close=current_user.has_role(*services.CLOSE_ROLES),
    ), status


@bp.route("/admissions/<int:admission_id>/escalations/<int:escalation_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, escalation_id: int):
    admission = admission_or_404(admission_id)
    escalation = _escalation_or_404(admission, escalation_id)
    audit.record("view", object_type="escalation", object_id=escalation.id,
                 patient_id=admission.patient_id, detail={"page": "escalation"})
    db.session.commit()
    return _render_show(admission, escalation, _update_forms(admission))


@bp.route("/admissions/<int:admission_id>/escalations/<int:escalation_id>/updates",
          methods=["POST"])
@role_required(*CHARTING_ROLES)
def update(admission_id: int, escalation_id: int):
    admission = admission_or_404(admission_id)
    escalation = _escalation_or_404(admission, escalation_id)
    kind = request.form.get("kind", "")
    if kind not in UPDATE_FORMS:
        abort(400)
    form = UPDATE_FORMS[kind]()
    show_url = url_for("escalations.show", admission_id=admission.id, escalation_id=escalation.id)
    if form.validate_on_submit():
        already = services.update_by_key(form.idempotency_key.data)
        if already is not None:
            flash("This was already recorded; it has not been recorded twice.", "info")
            return redirect(show_url)
        try:
            services.add_update(
                by=current_user, escalation=escalation, kind=kind,
                happened_at=from_local(form.happened_at.data, admission.unit.zone),
                informed_who=form.data.get("informed_who"), text=form.data.get("text"),
                idempotency_key=form.idempotency_key.data,
            )
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            _attach(form, error)
        except IntegrityError:
            db.session.rollback()
            if services.update_by_key(form.idempotency_key.data) is None:
                raise
            flash("This was already recorded; it has not been recorded twice.", "info")
            return redirect(show_url)
        else:
            flash_saved(UPDATE_KINDS[kind], admission.patient, "on the open escalation")
            return saved(form.idempotency_key.data, show_url)
    return _render_show(admission, escalation, _update_forms(admission, (kind, form)),
                        submitted_kind=kind, status=422)


@bp.route("/units/<int:unit_id>/escalations")
@role_required(*CHARTING_ROLES)
def index(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    escalations = services.open_on_unit(unit)
    # One event per page view listing the patients shown, as the board does.
    audit.record(
        "view", object_type="unit_escalations", object_id=unit.id,
        detail={"patients": sorted({e.admission.patient_id for e in escalations}),
                "unit": unit.name},
    )
    db.session.commit()
    return render_template("escalations/index.html", unit=unit, escalations=escalations,
                           now=utc_now(), levels=services.LEVELS)
