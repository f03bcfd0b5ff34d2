"""One admission's monitoring: next due per protocol and the physician's overrides."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models.user import CLINICAL_ROLES
from clinic.monitoring import bp
from clinic.monitoring.forms import EndOverrideForm, OverrideForm
from clinic.monitoring.services import (
    MonitoringError,
    end_override,
    monitoring_summary,
    override_history,
    set_override,
)
from clinic.routing import admission_or_404
from clinic.saved import flash_saved
from clinic.scoring.due import PROTOCOL_LABELS

ACTIONS = {"set": OverrideForm, "end": EndOverrideForm}


@bp.route("/admissions/<int:admission_id>/monitoring", methods=["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def overrides(admission_id: int):
    admission = admission_or_404(admission_id)
    failed = None
    if request.method == "POST":
        if not current_user.has_role("physician"):
            abort(403)
        protocol = request.form.get("protocol", "")
        action = request.form.get("action", "")
        if protocol not in admission.protocols or action not in ACTIONS:
            flash("Choose a protocol of this admission and set or end its override.", "error")
            return redirect(url_for("monitoring.overrides", admission_id=admission.id))
        form = ACTIONS[action](prefix=protocol)
        if form.validate_on_submit():
            try:
                if action == "set":
                    set_override(by=current_user, admission=admission, protocol=protocol,
                                 interval_minutes=form.interval_minutes.data, reason=form.reason.data)
                else:
                    end_override(by=current_user, admission=admission, protocol=protocol,
                                 reason=form.reason.data)
                db.session.commit()
            except MonitoringError as error:
                db.session.rollback()
                target = getattr(form, error.field, None) if error.field else None
                if target is None:
                    flash(str(error), "error")
                    return redirect(url_for("monitoring.overrides", admission_id=admission.id))
                target.errors = [*target.errors, str(error)]
            else:
                if action == "set":
                    flash_saved("Override", admission.patient,
                                f"{_label(protocol)} every {form.interval_minutes.data} min")
                else:
                    flash_saved("End of override", admission.patient,
                                f"{_label(protocol)} follows the unit's rules again")
                return redirect(url_for("monitoring.overrides", admission_id=admission.id,
                                        _anchor=f"protocol-{protocol}"))
        failed = (protocol, action, form)

    now = utc_now()
    summary = monitoring_summary(admission, now)
    set_forms, end_forms = {}, {}
    for protocol in admission.protocols:
        set_forms[protocol] = OverrideForm(formdata=None, prefix=protocol)
        end_forms[protocol] = EndOverrideForm(formdata=None, prefix=protocol)
    if failed is not None:
        protocol, action, form = failed
        (set_forms if action == "set" else end_forms)[protocol] = form
    if request.method == "GET":
        audit.record("view", object_type="admission", object_id=admission.id,
                     patient_id=admission.patient_id, detail={"page": "monitoring"})
        db.session.commit()
    return render_template(
        "monitoring/overrides.html", admission=admission, summary=summary, now=now,
        history=override_history(admission), set_forms=set_forms, end_forms=end_forms,
        failed=failed[:2] if failed else None,
        can_override=current_user.has_role("physician") and admission.is_current,
    ), (422 if failed else 200)


def _label(protocol: str) -> str:
    return PROTOCOL_LABELS.get(protocol, protocol)
