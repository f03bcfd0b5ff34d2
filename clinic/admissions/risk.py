"""The risk-flags page of an admission, and the chart's access to its flags."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from clinic.admissions import bp
from clinic.auth.decorators import role_required
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.forms import PlainText
from clinic.models import Admission
from clinic.risk_flags import flags_by_admission, record_flags, risk_badges
from clinic.routing import CHARTING_ROLES, admission_or_404, audited_page
from clinic.saved import flash_saved
from clinic.scoring.risk import FLAGS


@bp.app_template_global()
def risk_flags_of(admission: Admission) -> dict[str, str | None]:
    """Return the risk flags in force on an admission (for the chart)."""
    return flags_by_admission([admission.id]).get(admission.id, {})


bp.add_app_template_global(risk_badges, "risk_badges")


class RiskFlagsForm(FlaskForm):
    pass


for _flag, _label in FLAGS.items():
    setattr(RiskFlagsForm, _flag, BooleanField(_label))
    setattr(RiskFlagsForm, f"{_flag}_note", StringField(
        f"{_label}: details", validators=[Length(max=200), PlainText()]))


@bp.route("/admissions/<int:admission_id>/risk-flags", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def risk_flags(admission_id: int):
    admission = admission_or_404(admission_id)
    current = risk_flags_of(admission)
    form = RiskFlagsForm()
    if not form.is_submitted():
        for flag in FLAGS:
            form[flag].data = flag in current
            form[f"{flag}_note"].data = current.get(flag) or ""
    if form.validate_on_submit():
        present = {flag: form[f"{flag}_note"].data for flag in FLAGS if form[flag].data}
        try:
            changed = record_flags(by=current_user, admission=admission, present=present)
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            if changed:
                flash_saved("Risk flags", admission.patient,
                            ", ".join(FLAGS[f].lower() for f in present) or "none")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admissions.chart", admission_id=admission.id))
    return audited_page(
        "admissions/risk_flags.html",
        viewed=dict(object_type="admission", object_id=admission.id, patient_id=admission.patient_id,
                    detail={"page": "risk flags"}),
        admission=admission, form=form, flags=FLAGS,
    ), 422 if form.errors else 200
