"""PRN pages: the physician's order, the nurse's dose, its effect, and the PRN panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.forms import RetractForm
from clinic.models import Admission, Assessment, PrnDose, PrnEffect, PrnOrder, Unit
from clinic.monitoring.services import definition_for
from clinic.prn import queries, services
from clinic.prn.forms import HOLD_FIELDS, DiscontinueForm, EffectForm, GiveForm, OrderForm, UnitSettingsForm
from clinic.routing import (
    CHARTING_ROLES,
    admission_or_404,
    attach_error,
    audited_page,
    id_arg,
    local_now,
    safe_next,
    saved,
)
from clinic.saved import flash_saved
from clinic.scoring import prn
from clinic.timefmt import from_local, to_local_input

PRESCRIBER_ROLES = ("physician",)

bp = Blueprint("prn", __name__)


@bp.record_once
def _globals(state) -> None:
    state.app.add_template_global(prn.describe_hold, "describe_hold")
    state.app.add_template_filter(lambda rule: prn.RULE_NAMES.get(rule, rule), "prn_rule")


@dataclass(frozen=True)
class Panel:
    """What the chart's PRN panel shows for one admission at one moment."""

    orders: list[queries.OrderRow]
    #: A benzodiazepine and an opioid order both active.
    risky: bool
    follow_ups: list[queries.DoseRow]
    #: Doses charted in the last 24 hours, newest first.
    recent: list[queries.DoseRow]
    now: datetime


def panel_for(admission: Admission, now: datetime) -> Panel:
    """Return the admission's active orders, open effect follow-ups and last 24 hours of doses."""
    orders = queries.active_orders([admission.id], now)
    doses = queries.doses_for([admission.id], now - timedelta(hours=24), now)
    return Panel(
        orders,
        prn.risky_combination(o.drug_class for o in orders),
        queries.open_follow_ups([admission.id]),
        list(reversed(doses)),
        now,
    )


def _order_or_404(admission: Admission, order_id: int) -> PrnOrder:
    order = db.session.get(PrnOrder, order_id)
    if order is None or order.admission_id != admission.id:
        abort(404)
    return order


def _recent_assessments(admission: Admission, now: datetime) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Assessment)
        .where(
            Assessment.admission_id == admission.id,
            Assessment.total.is_not(None),
            Assessment.observed_at > now - timedelta(hours=12),
        )
        .order_by(Assessment.observed_at.desc())
        .limit(10)
    )
    zone = admission.unit.zone
    return [(a.id, f"{prn_label(a.scale)} {a.total} at {a.observed_at.astimezone(zone):%H:%M}") for a in rows]


def prn_label(scale: str | None) -> str:
    return services.TREATED_SCALES.get(scale or "", scale or "")


@bp.route("/admissions/<int:admission_id>/prn")
@role_required(*CHARTING_ROLES)
def panel(admission_id: int):
    admission = admission_or_404(admission_id)
    return audited_page(
        "prn/panel.html",
        viewed=dict(
            object_type="admission",
            object_id=admission.id,
            patient_id=admission.patient_id,
            detail={"page": "prn"},
        ),
        admission=admission,
        prn=panel_for(admission, utc_now()),
    )


def _fill_from(form: OrderForm, order: PrnOrder, zone) -> None:
    form.drug.data, form.dose.data = order.drug, _plain(order.dose)
    form.dose_unit.data, form.route.data, form.indication.data = (
        order.dose_unit,
        order.route,
        order.indication,
    )
    form.treats_scale.data = order.treats_scale or ""
    form.min_interval_minutes.data = str(order.min_interval_minutes)
    form.max_doses_24h.data = "" if order.max_doses_24h is None else str(order.max_doses_24h)
    form.max_amount_24h.data = _plain(order.max_amount_24h)
    form.score_threshold.data = "" if order.score_threshold is None else str(order.score_threshold)
    for name, vital, _label in HOLD_FIELDS:
        value = (order.hold_parameters or {}).get(vital)
        form[name].data = "" if value is None else str(value)
    form.reassess_after_minutes.data = str(order.reassess_after_minutes)
    if order.stops_at is not None:
        form.stops_at.data = order.stops_at.astimezone(zone).replace(tzinfo=None)


def _plain(value) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _whole(field) -> int | None:
    return None if field.number is None else int(field.number)


@bp.route("/admissions/<int:admission_id>/prn/orders/new", methods=["GET", "POST"])
@role_required(*PRESCRIBER_ROLES)
def order_new(admission_id: int):
    admission = admission_or_404(admission_id)
    zone = admission.unit.zone
    now = utc_now()
    supersedes = None
    if request.values.get("supersedes"):
        try:
            supersedes = _order_or_404(admission, id_arg(request.values["supersedes"]))
        except ValueError:
            abort(404)
    form = OrderForm()
    if request.method == "GET":
        form.starts_at.data = local_now(admission.unit)
        if supersedes is not None:
            _fill_from(form, supersedes, zone)
    if form.validate_on_submit():
        definition, _version = definition_for(admission.unit)
        reassess = _whole(form.reassess_after_minutes) or services.effect_minutes(form.route.data, definition)
        data = services.OrderInput(
            drug=form.drug.data or "",
            dose=form.dose.number,
            dose_unit=form.dose_unit.data,
            route=form.route.data,
            indication=form.indication.data or "",
            treats_scale=form.treats_scale.data or None,
            min_interval_minutes=_whole(form.min_interval_minutes),
            max_doses_24h=_whole(form.max_doses_24h),
            max_amount_24h=form.max_amount_24h.number,
            score_threshold=_whole(form.score_threshold),
            hold_parameters=form.hold_parameters(),
            reassess_after_minutes=reassess,
            starts_at=from_local(form.starts_at.data, zone),
            stops_at=from_local(form.stops_at.data, zone) if form.stops_at.data else None,
        )
        try:
            order = services.create_order(
                by=current_user,
                admission=admission,
                data=data,
                idempotency_key=form.idempotency_key.data,
                allergy_acknowledged=form.allergy_acknowledged.data,
                allergy_note=form.allergy_note.data,
                supersedes=supersedes,
                reason=form.reason.data,
            )
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append(
                "That order has just been changed or discontinued by someone else; reload the chart."
            )
        else:
            flash_saved("PRN order", admission.patient,
                        f"{order.drug} {_plain(order.dose)} {order.dose_unit} {order.route}")
            if services.risky_now(admission, utc_now()):
                flash(
                    "⚠ Warning: a benzodiazepine and an opioid are both ordered for this patient "
                    "(risk of respiratory depression).",
                    "error",
                )
            return redirect(url_for("admissions.chart", admission_id=admission.id))
    matches = (
        prn.allergy_matches(form.drug.data or "", admission.patient.allergies or "") if form.drug.data else []
    )
    return render_template(
        "prn/order_form.html",
        form=form,
        admission=admission,
        supersedes=supersedes,
        matches=matches,
        orders=queries.active_orders([admission.id], now),
        hold_fields=HOLD_FIELDS,
    ), (422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/prn/orders/<int:order_id>/discontinue", methods=["GET", "POST"])
@role_required(*PRESCRIBER_ROLES)
def discontinue(admission_id: int, order_id: int):
    admission = admission_or_404(admission_id)
    order = _order_or_404(admission, order_id)
    form = DiscontinueForm()
    if form.validate_on_submit():
        try:
            services.discontinue(by=current_user, order=order, reason=form.reason.data)
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append("This order has already been discontinued.")
        else:
            flash_saved("Discontinuation of a PRN order", admission.patient,
                        f"{order.drug} stopped; its doses stay on the chart")
            return redirect(url_for("admissions.chart", admission_id=admission.id))
    return render_template("prn/discontinue.html", form=form, admission=admission, order=order), (
        422 if request.method == "POST" else 200
    )


@bp.route("/admissions/<int:admission_id>/prn/orders/<int:order_id>/give", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def give(admission_id: int, order_id: int):
    admission = admission_or_404(admission_id)
    now = utc_now()
    form = GiveForm()
    refusal = None
    if request.method == "GET":
        order = _order_or_404(admission, order_id)
        form.given_at.data = local_now(admission.unit)
        form.dose.data = _plain(order.dose)
        form.route.data = order.route
    # The order is loaded (and locked) by the service on a save.
    if form.validate_on_submit():
        try:
            dose = services.give_dose(
                by=current_user,
                admission=admission,
                order_id=order_id,
                given_at=from_local(form.given_at.data, admission.unit.zone),
                outcome=form.outcome.data,
                dose=form.dose.number,
                route=form.route.data,
                reason=form.reason.data,
                idempotency_key=form.idempotency_key.data,
                prompting_assessment_id=form.prompting_assessment_id.data or None,
                override_reason=form.override_reason.data,
                breach_reason=form.breach_reason.data,
            )
            db.session.commit()
        except services.DoseRefused as error:
            db.session.rollback()
            refusal = error
            if error.field:
                attach_error(form, error)
        except ChartingError as error:
            db.session.rollback()
            attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            dose = db.session.scalar(
                select(PrnDose).where(PrnDose.idempotency_key == form.idempotency_key.data)
            )
            if dose is None:
                raise
            flash("This dose was already charted; it has not been charted twice.", "info")
            return redirect(safe_next(url_for("admissions.chart", admission_id=admission.id)))
        else:
            # The page it lands on says what was saved (clinic.saved): flashed, the message
            # re-signed the session cookie on every dose.
            return saved(form.idempotency_key.data,
                         safe_next(url_for("admissions.chart", admission_id=admission.id)), dose)
    order = _order_or_404(admission, order_id)
    form.prompting_assessment_id.choices = [(0, "None")] + _recent_assessments(admission, now)
    standing = next((o for o in queries.active_orders([admission.id], now) if o.id == order.id), None)
    return render_template(
        "prn/give.html",
        form=form,
        admission=admission,
        order=order,
        standing=standing,
        refusal=refusal,
        override_allowed=admission.unit.prn_override_allowed,
        now=now,
    ), (422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/prn/doses/<int:dose_id>/effect", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def effect(admission_id: int, dose_id: int):
    admission = admission_or_404(admission_id)
    dose = db.session.get(PrnDose, dose_id)
    if dose is None or dose.admission_id != admission.id:
        abort(404)
    form = EffectForm()
    form.assessment_id.choices = [(0, "None")] + _recent_assessments(admission, utc_now())
    if request.method == "GET":
        form.assessed_at.data = local_now(admission.unit)
    if form.validate_on_submit():
        try:
            services.record_effect(
                by=current_user,
                dose=dose,
                assessed_at=from_local(form.assessed_at.data, admission.unit.zone),
                effect=form.effect.data,
                side_effects=form.side_effects.data or [],
                note=form.note.data,
                idempotency_key=form.idempotency_key.data,
                assessment_id=form.assessment_id.data or None,
            )
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            flash("This reassessment was already saved.", "info")
            return redirect(safe_next(url_for("admissions.chart", admission_id=admission.id)))
        else:
            flash_saved("PRN effect", admission.patient, f"{dose.order.drug}")
            return redirect(safe_next(url_for("admissions.chart", admission_id=admission.id)))
    return render_template(
        "prn/effect.html", form=form, admission=admission, dose=dose, to_local_input=to_local_input,
        recorded=queries.effects_of(dose.id),
    ), (422 if request.method == "POST" else 200)


@bp.route("/admin/units/<int:unit_id>/prn", methods=["GET", "POST"])
@role_required("admin")
def unit_settings(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    form = UnitSettingsForm(obj=unit)
    if form.validate_on_submit():
        changed = services.set_override_allowed(
            by=current_user, unit=unit, allowed=form.prn_override_allowed.data
        )
        db.session.commit()
        if changed:
            flash(f"PRN override setting saved for {unit.name}.", "success")
        else:
            flash("Nothing changed.", "info")
        return redirect(url_for("prn.unit_settings", unit_id=unit.id))
    return render_template("prn/unit_settings.html", form=form, unit=unit)


@bp.route("/admissions/<int:admission_id>/prn/effects/<int:effect_id>/retract", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def retract_effect(admission_id: int, effect_id: int):
    admission = admission_or_404(admission_id)
    effect = db.session.get(PrnEffect, effect_id)
    if effect is None or effect.admission_id != admission.id:
        abort(404)
    back = url_for("prn.panel", admission_id=admission.id)
    form = RetractForm()
    if form.validate_on_submit():
        try:
            services.retract_effect(by=current_user, effect=effect, reason=form.reason.data)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash("This effect had already been marked entered in error.", "info")
            return redirect(back)
        except ChartingError as error:
            db.session.rollback()
            if error.field != "reason":
                flash(str(error), "error")
                return redirect(back)
            form.reason.errors.append(str(error))
        else:
            flash_saved("Entered-in-error mark", admission.patient,
                        f"the effect of {effect.dose.order.drug} stays on record, struck through")
            return redirect(back)
    return render_template("prn/retract_effect.html", form=form, admission=admission, effect=effect,
                           cancel=back), \
        (422 if form.errors else 200)
