"""Chart, view and correct withdrawal assessments."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import entries
from clinic.assessments import bp, services
from clinic.assessments.forms import AssessmentForm, form_class
from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations.services import open_escalations
from clinic.models import Assessment
from clinic.routing import (
    CHARTING_ROLES,
    admission_or_404,
    audited_page,
    local_now,
    safe_next,
    save_entry,
    saved,
)
from clinic.scoring import ciwa_ar, ciwa_b, cows, ketamine, safety
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.timefmt import from_local

ALREADY_SAVED = "This assessment was already saved; it has not been charted twice."


def _assessment_or_404(admission, assessment_id: int) -> Assessment:
    assessment = entries.load_entry("assessment", assessment_id, admission)
    if assessment is None:
        abort(404)
    return assessment


def superseded_or_retracted(assessment: Assessment) -> bool:
    return entries.is_superseded(assessment) or entries.retraction_of(assessment) is not None


def _prefill(form: AssessmentForm, assessment: Assessment) -> None:
    zone = assessment.admission.unit.zone
    form.observed_at.data = assessment.observed_at.astimezone(zone).replace(tzinfo=None)
    if assessment.outcome == services.UNABLE:
        form.unable_reason.data = assessment.unable_reason
        return
    for item in form.scale.chosen_items:
        value = assessment.items.get(item.key)
        form[item.key].data = None if value is None else str(value)
    for key, _ in form.scale.yes_no_items:
        form[key].data = {True: "yes", False: "no"}.get(assessment.yes_no.get(key))
    # A heart rate from vitals is looked up again, so only a typed one is put back in the box.
    if form.scale.asks_heart_rate and assessment.heart_rate_source == services.TYPED_ON_FORM:
        form["heart_rate"].data = str(assessment.heart_rate)
    if form.scale.asks_sleep:
        hours, latency = assessment.sleep_hours_tenths, assessment.sleep_latency_minutes
        form["sleep_hours"].data = None if hours is None else str(assessment.sleep_hours)
        form["sleep_latency"].data = None if latency is None else str(latency)
    if form.scale.asks_self_harm:
        form["self_harm_thoughts"].data = {True: "yes", False: "no"}.get(
            assessment.self_harm_thoughts)
        for key, value in (assessment.suicide_answers or {}).items():
            if key in services.SUICIDE_QUESTIONS:
                form[key].data = {True: "yes", False: "no"}.get(value)


def _save(form: AssessmentForm, admission, supersedes: Assessment | None = None):
    """Save the form or put the refusal next to its field; return the assessment or None."""
    unable = form.unable
    return save_entry(
        form, Assessment,
        lambda: services.record_assessment(
            by=current_user, admission=admission, scale=form.scale.code,
            observed_at=from_local(form.observed_at.data, admission.unit.zone),
            items={} if unable else form.item_values(),
            yes_no={} if unable else form.yes_no_values(),
            heart_rate=None if unable else form.heart_rate_value,
            self_harm_thoughts=None if unable else form.self_harm_answer,
            suicide_answers=None if unable else form.suicide_values(),
            unable_reason=(form.unable_reason.data or "") if unable else None,
            idempotency_key=form.idempotency_key.data, supersedes=supersedes,
            correction_reason=form.correction_reason.data,
            **_sleep(form, unable),
        ),
        already_saved=ALREADY_SAVED,
    )


def _sleep(form: AssessmentForm, unable: bool) -> dict:
    hours, latency = (None, None) if unable else form.sleep_values()
    return {"sleep_hours": hours, "sleep_latency": latency}


def _pulse_hint(form: AssessmentForm, admission) -> str | None:
    """Describe the vitals heart rate the COWS pulse item would use if none is typed."""
    if not form.scale.asks_heart_rate:
        return None
    observed = form.observed_at.data
    at = from_local(observed, admission.unit.zone) if observed else utc_now()
    try:
        rate, source = services.heart_rate_for_pulse(admission, at, None)
    except ChartingError:
        return None
    return f"Left empty, the heart rate {rate} /min from {source} is used."


def _render(form: AssessmentForm, admission, *, correcting=None, status=200):
    return render_template(
        "assessments/form.html", form=form, scale=form.scale, admission=admission,
        correcting=correcting, pulse_hint=_pulse_hint(form, admission),
        follows=services.SUICIDE_FOLLOWS, questions=ketamine.QUESTIONS,
        after_gate=services.SUICIDE_AFTER_GATE,
        within_minutes=int(services.PULSE_FROM_VITALS_WITHIN.total_seconds() // 60),
        running_bands=_RUNNING_BANDS.get(form.scale.code, ()),
    ), status


#: The default bands, for the running total shown while a scale is filled in (the saved score,
#: worked out by the server, is the one of record). The ketamine checklist has no bands.
_RUNNING_BANDS = {"ciwa_ar": ciwa_ar.DEFAULT_BANDS, "cows": cows.DEFAULT_BANDS,
                  "ciwa_b": ciwa_b.DEFAULT_BANDS}


@bp.route("/admissions/<int:admission_id>/assessments/new", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    admission = admission_or_404(admission_id)
    code = request.args.get("scale", "")
    if code not in services.SCALES or not services.available(code, admission):
        abort(404)
    form = form_class(code)()
    if request.method == "GET":
        form.observed_at.data = local_now(admission.unit)
        if not admission.is_current:
            flash("This admission has ended; new entries cannot be charted on it.", "error")
    if form.validate_on_submit():
        assessment = _save(form, admission)
        if assessment is not None:
            return saved(
                form.idempotency_key.data,
                safe_next(url_for("assessments.show", admission_id=admission.id,
                                  assessment_id=assessment.id)),
                assessment,
            )
    return _render(form, admission, status=422 if request.method == "POST" else 200)


@bp.route("/admissions/<int:admission_id>/assessments/<int:assessment_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, assessment_id: int):
    admission = admission_or_404(admission_id)
    assessment = _assessment_or_404(admission, assessment_id)
    try:
        scale = services.definition(assessment.scale, assessment.scale_version)
    except KeyError:
        scale = None  # an old definition no longer known: the answers show by their keys
    return audited_page(
        "assessments/show.html",
        viewed=dict(object_type="assessment", object_id=assessment.id,
                    patient_id=admission.patient_id, detail={"page": "assessment"}),
        admission=admission, assessment=assessment, scale=scale,
        versions=entries.history(assessment), superseded=entries.is_superseded(assessment),
        retraction=entries.retraction_of(assessment), escalations=open_escalations(admission),
        questions=ketamine.QUESTIONS, follows=services.SUICIDE_FOLLOWS,
        gate_question=ketamine.GATE_QUESTION, burden_label=ketamine.BURDEN_LABEL,
        proposed_level=(safety.proposed_level(assessment.suicide_risk, admission.observation_level)
                        if admission.is_current and not superseded_or_retracted(assessment) else None),
        levels=OBSERVATION_LEVELS,
    )


@bp.route("/admissions/<int:admission_id>/assessments/<int:assessment_id>/correct",
          methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def correct(admission_id: int, assessment_id: int):
    admission = admission_or_404(admission_id)
    original = _assessment_or_404(admission, assessment_id)
    if request.method == "POST":
        # A second tap on "Save correction": the first one saved it and superseded the original.
        already = entries.existing_by_key(Assessment, request.form.get("idempotency_key", ""))
        if already is not None:
            flash(ALREADY_SAVED, "info")
            return redirect(url_for("assessments.show", admission_id=admission.id,
                                    assessment_id=already.id))
    try:
        entries.check_can_amend(current_user, original)
    except ChartingError as error:
        flash(str(error), "error")
        return redirect(url_for("assessments.show", admission_id=admission.id,
                                assessment_id=original.id))
    form = form_class(original.scale)()
    if request.method == "GET":
        _prefill(form, original)
    if form.is_submitted():
        valid = form.validate()
        # Asked for alongside any other refusal, so the nurse fixes everything in one pass.
        if not (form.correction_reason.data or "").strip():
            form.correction_reason.errors.append("Give the reason for the correction.")
            valid = False
        assessment = _save(form, admission, supersedes=original) if valid else None
        if assessment is not None:
            return saved(form.idempotency_key.data,
                         url_for("assessments.show", admission_id=admission.id,
                                 assessment_id=assessment.id), assessment)
    return _render(form, admission, correcting=original,
                   status=422 if request.method == "POST" else 200)
