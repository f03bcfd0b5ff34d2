"""Handover views: the page, its PDF, lines added before signing, signing, accepting, reprinting."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board.services import choose_unit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.forms import EmptyForm
from clinic.handover import bp
from clinic.handover.cells import section
from clinic.handover.forms import AcceptForm, ItemForm, SettingsForm, SignForm
from clinic.handover.services import Handover, assemble, choose_shift, paper_size
from clinic.handover.signing import (
    HANDOVER_ROLES,
    HandoverError,
    accept,
    acceptances_for,
    add_item,
    changes_since,
    set_paper_size,
    sign,
    signatures_for,
    stored_pdf,
    withdraw_item,
)
from clinic.models import Admission, HandoverSignature, Unit
from clinic.models.handover import ACCEPT_OUTCOMES, PAPER_SIZES
from clinic.reports.handover_pdf import build_pdf
from clinic.routing import CHARTING_ROLES, admission_or_404
from clinic.saved import flash_saved
from clinic.timefmt import from_local


def _handover(unit: Unit, now, admission_id: int | None = None) -> Handover:
    try:
        shift = choose_shift(unit, now, request.args.get("shift"))
    except ValueError as error:
        abort(400, str(error))
    return assemble(unit, now=now, shift=shift, admission_id=admission_id)


def _pdf_response(pdf: bytes, filename: str):
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _shift_arg(h: Handover) -> str:
    return h.shift.starts_at.isoformat()


@bp.route("/units/<int:unit_id>/handover")
@role_required(*CHARTING_ROLES)
def unit_handover(unit_id: int):
    unit = choose_unit(unit_id)
    now = utc_now()
    handover = _handover(unit, now)
    return _page(unit, handover, now)


def _page(unit: Unit, handover: Handover, now, item_form: ItemForm | None = None,
          accept_form: AcceptForm | None = None, status: int = 200):
    signatures = signatures_for(unit.id, handover.shift.starts_at)
    latest = signatures[0] if signatures else None
    changes = changes_since(latest) if latest is not None else None
    page = render_template(
        "handover/handover.html", unit=unit, h=handover, now=now, item_form=item_form or ItemForm(),
        sign_form=SignForm(), accept_form=accept_form or AcceptForm(), signature=latest,
        acceptances=acceptances_for(latest) if latest is not None else [],
        changes=changes, can_hand_over=current_user.has_role(*HANDOVER_ROLES), outcomes=ACCEPT_OUTCOMES,
        paper_sizes=PAPER_SIZES, shift_arg=_shift_arg(handover), section=section,
    )
    audit.record("view", object_type="handover", object_id=unit.id,
                 detail={"unit": unit.name, "patients": handover.patient_ids,
                         "shift_starts_at": handover.shift.starts_at})
    db.session.commit()
    return page, status


@bp.route("/units/<int:unit_id>/handover.pdf")
@role_required(*CHARTING_ROLES)
def unit_handover_pdf(unit_id: int):
    unit = choose_unit(unit_id)
    now = utc_now()
    handover = _handover(unit, now)
    pdf = build_pdf(handover, printed_by=current_user.display_name, printed_at=now)
    audit.record("print", object_type="handover", object_id=unit.id,
                 detail={"unit": unit.name, "patients": handover.patient_ids, "pages": "pdf",
                         "shift_starts_at": handover.shift.starts_at, "bytes": len(pdf)})
    db.session.commit()
    return _pdf_response(pdf, f"handover-{handover.shift.local_date:%Y%m%d}-{handover.shift.name}.pdf")


@bp.route("/units/<int:unit_id>/handover/items", methods=["POST"])
@role_required(*HANDOVER_ROLES)
def add_line(unit_id: int):
    unit = choose_unit(unit_id)
    now = utc_now()
    handover = _handover(unit, now)
    form = ItemForm()
    if not form.validate():
        db.session.rollback()
        return _page(unit, handover, now, item_form=form, status=422)
    try:
        item = add_item(by=current_user, handover=handover, admission_id=form.admission_id.data,
                        kind=form.kind.data, text=form.text.data, owner=form.owner.data,
                        due_at=from_local(form.due_at.data, unit.zone) if form.due_at.data else None,
                        level=form.level.data)
    except HandoverError as error:
        db.session.rollback()
        getattr(form, error.field or "text").errors = [str(error)]
        return _page(unit, handover, now, item_form=form, status=422)
    db.session.commit()
    flash_saved("Handover line", db.session.get(Admission, item.admission_id).patient,
                f"{handover.shift.name} shift")
    return redirect(url_for("handover.unit_handover", unit_id=unit.id, shift=_shift_arg(handover)))


@bp.route("/units/<int:unit_id>/handover/items/<int:item_id>/withdraw", methods=["POST"])
@role_required(*HANDOVER_ROLES)
def withdraw_line(unit_id: int, item_id: int):
    unit = choose_unit(unit_id)
    handover = _handover(unit, utc_now())
    if not EmptyForm().validate():
        abort(400)
    try:
        item = withdraw_item(by=current_user, handover=handover, item_id=item_id)
    except HandoverError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash_saved("Withdrawal of a handover line", db.session.get(Admission, item.admission_id).patient,
                    "the line stays in the record")
    return redirect(url_for("handover.unit_handover", unit_id=unit.id, shift=_shift_arg(handover)))


@bp.route("/units/<int:unit_id>/handover/sign", methods=["POST"])
@role_required(*HANDOVER_ROLES)
def sign_handover(unit_id: int):
    unit = choose_unit(unit_id)
    now = utc_now()
    handover = _handover(unit, now)
    form = SignForm()
    if not form.validate():
        abort(400)
    try:
        sign(by=current_user, handover=handover, now=now, idempotency_key=form.idempotency_key.data)
    except HandoverError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash_saved("Handover signature", [p.name for p in handover.patients] or unit.name,
                    f"{unit.name} {handover.shift.name} shift; the signed copy is stored exactly as printed")
    return redirect(url_for("handover.unit_handover", unit_id=unit.id, shift=_shift_arg(handover)))


def _signature_or_404(signature_id: int) -> HandoverSignature:
    signature = db.session.get(HandoverSignature, signature_id)
    if signature is None:
        abort(404)
    return signature


@bp.route("/handover/signatures/<int:signature_id>/accept", methods=["POST"])
@role_required(*HANDOVER_ROLES)
def accept_handover(signature_id: int):
    signature = _signature_or_404(signature_id)
    unit = db.session.get(Unit, signature.unit_id)
    now = utc_now()
    form = AcceptForm()
    back = url_for("handover.unit_handover", unit_id=unit.id, shift=signature.shift_starts_at.isoformat())
    if form.validate():
        try:
            accept(by=current_user, signature=signature, outcome=form.outcome.data,
                   questions=form.questions.data, now=now)
        except HandoverError as error:
            db.session.rollback()
            getattr(form, error.field or "outcome").errors = [str(error)]
        else:
            db.session.commit()
            flash_saved("Handover acceptance", unit.name,
                        f"{unit.shift_for(signature.shift_starts_at).name} shift, "
                        f"{ACCEPT_OUTCOMES.get(form.outcome.data, form.outcome.data).lower()}")
            return redirect(back)
    db.session.rollback()
    shift = unit.shift_for(signature.shift_starts_at)
    return _page(unit, assemble(unit, now=now, shift=shift), now, accept_form=form, status=422)


@bp.route("/handover/signatures/<int:signature_id>.pdf")
@role_required(*CHARTING_ROLES)
def signed_pdf(signature_id: int):
    signature = _signature_or_404(signature_id)
    try:
        pdf = stored_pdf(signature)
    except HandoverError as error:
        abort(409, str(error))
    audit.record("print", object_type="handover_signature", object_id=signature.id,
                 detail={"event": "reprint", "unit_id": signature.unit_id, "sha256": signature.sha256,
                         "patients_admissions": signature.admission_ids})
    db.session.commit()
    return _pdf_response(pdf, f"handover-signed-{signature.id}.pdf")


@bp.route("/admissions/<int:admission_id>/handover")
@role_required(*CHARTING_ROLES)
def patient_handover(admission_id: int):
    admission = admission_or_404(admission_id)
    if not admission.is_current:
        abort(404, "A single-patient handover is for a current admission.")
    now = utc_now()
    handover = _handover(admission.unit, now, admission_id=admission.id)
    page = render_template("handover/handover.html", unit=admission.unit, h=handover, now=now,
                           item_form=None, sign_form=None, accept_form=None, signature=None, changes=None,
                           acceptances=[],
                           can_hand_over=False, outcomes=ACCEPT_OUTCOMES, paper_sizes=PAPER_SIZES,
                           shift_arg=_shift_arg(handover), admission=admission, section=section)
    audit.record("view", object_type="handover", object_id=admission.unit_id, patient_id=admission.patient_id,
                 detail={"single_patient": admission.id, "shift_starts_at": handover.shift.starts_at})
    db.session.commit()
    return page


@bp.route("/admissions/<int:admission_id>/handover.pdf")
@role_required(*CHARTING_ROLES)
def patient_handover_pdf(admission_id: int):
    admission = admission_or_404(admission_id)
    if not admission.is_current:
        abort(404, "A single-patient handover is for a current admission.")
    now = utc_now()
    handover = _handover(admission.unit, now, admission_id=admission.id)
    pdf = build_pdf(handover, printed_by=current_user.display_name, printed_at=now)
    audit.record("print", object_type="handover", object_id=admission.unit_id,
                 patient_id=admission.patient_id,
                 detail={"single_patient": admission.id, "shift_starts_at": handover.shift.starts_at,
                         "bytes": len(pdf)})
    db.session.commit()
    return _pdf_response(pdf, f"handover-{admission.patient.mrn}.pdf")


@bp.route("/admin/units/<int:unit_id>/handover", methods=["GET", "POST"])
@role_required("admin")
def settings(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    form = SettingsForm(paper_size=paper_size(unit))
    if form.validate_on_submit():
        try:
            set_paper_size(by=current_user, unit=unit, paper_size=form.paper_size.data)
        except HandoverError as error:
            db.session.rollback()
            form.paper_size.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"{unit.name} handovers now print on {PAPER_SIZES[form.paper_size.data]}.", "success")
            return redirect(url_for("handover.settings", unit_id=unit.id))
    return render_template("handover/settings.html", unit=unit, form=form)
