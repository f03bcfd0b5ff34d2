"""Record the review of a suicide-risk screen, an hour of continuous observation, the thiamine prompt."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from clinic.auth.decorators import role_required
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.routing import CHARTING_ROLES, admission_or_404, safe_next
from clinic.safety import bp, services
from clinic.safety.forms import AttestationForm, ReviewForm, ThiamineForm
from clinic.saved import flash_saved
from clinic.scoring.safety import SENIOR_ROLES


def _refuse(form, error: ChartingError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    (target.errors if target is not None else form.form_errors).append(str(error))


@bp.route("/admissions/<int:admission_id>/suicide-review", methods=["GET", "POST"])
@role_required(*SENIOR_ROLES)
def review(admission_id: int):
    admission = admission_or_404(admission_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.record_review(by=current_user, admission=admission, note=form.note.data)
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            _refuse(form, error)
        else:
            flash_saved("Review of the suicide-risk screen", admission.patient, "the flag is cleared")
            return redirect(safe_next(url_for("admissions.chart", admission_id=admission.id)))
    return render_template("safety/review.html", form=form, admission=admission), (
        422 if form.errors or form.form_errors else 200)


@bp.route("/admissions/<int:admission_id>/thiamine", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def thiamine(admission_id: int):
    admission = admission_or_404(admission_id)
    form = ThiamineForm()
    if form.validate_on_submit():
        try:
            services.record_thiamine(by=current_user, admission=admission, given=form.given.data == "yes",
                                     reason=form.reason.data)
            db.session.commit()
        except (ChartingError, IntegrityError) as error:
            db.session.rollback()
            if isinstance(error, IntegrityError):
                error = ChartingError("Thiamine was already recorded for this admission.")
            _refuse(form, error)
        else:
            flash_saved("Thiamine at admission", admission.patient,
                        "given" if form.given.data == "yes" else "not given")
            return redirect(safe_next(url_for("admissions.chart", admission_id=admission.id)))
    return render_template("safety/thiamine.html", form=form, admission=admission), (
        422 if form.errors or form.form_errors else 200)


@bp.route("/admissions/<int:admission_id>/attestations", methods=["POST"])
@role_required(*CHARTING_ROLES)
def attest(admission_id: int):
    admission = admission_or_404(admission_id)
    form = AttestationForm()
    back = safe_next(url_for("rounds.round", unit_id=admission.unit_id))
    if form.validate_on_submit():
        concern = form.concern.data if form.outcome.data == "concern" else None
        try:
            hour_start = _aware(form.hour_start.data)
            if form.outcome.data == "concern" and not (concern or "").strip():
                raise ChartingError("Say what the concern was.", "concern")
            services.record_attestation(by=current_user, admission=admission, hour_start=hour_start,
                                        concern=concern)
            db.session.commit()
        except (ChartingError, IntegrityError) as error:
            db.session.rollback()
            if isinstance(error, IntegrityError):
                error = ChartingError("This hour was already attested; it cannot be replaced.")
            _refuse(form, error)
        else:
            flash_saved("Attestation of continuous observation", admission.patient,
                        f"hour from {hour_start.astimezone(admission.unit.zone):%H:%M}"
                        + (", concern escalated" if concern else ""))
            return redirect(f"{back}#admission-{admission.id}")
    return render_template("safety/attestation.html", form=form, admission=admission, back=back), 422


def _aware(text: str | None) -> datetime:
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ChartingError("This hour could not be identified; reload the page.", "hour_start")
    return value.astimezone(UTC)
