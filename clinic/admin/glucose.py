"""A unit's glucose unit (mmol/L or mg/dL): the vitals form checks and shows glucose in it."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import DataRequired

from clinic import audit
from clinic.admin import bp
from clinic.auth.decorators import role_required
from clinic.extensions import db
from clinic.models import Unit, User
from clinic.scoring.limits import GLUCOSE_UNITS


class GlucoseUnitForm(FlaskForm):
    glucose_unit = RadioField(
        "Capillary glucose unit", choices=[(unit, unit) for unit in GLUCOSE_UNITS],
        validators=[DataRequired(message="Choose mmol/L or mg/dL.")],
    )


def set_glucose_unit(*, by: User, unit: Unit, glucose_unit: str) -> bool:
    """Set the unit's glucose unit; return whether it changed."""
    if glucose_unit not in GLUCOSE_UNITS:
        raise ValueError(f"{glucose_unit!r} is not a glucose unit")
    before = unit.glucose_unit
    if before == glucose_unit:
        return False
    unit.glucose_unit = glucose_unit
    db.session.flush()
    audit.record("update", user=by, object_type="unit", object_id=unit.id,
                 detail={"before": {"glucose_unit": before}, "after": {"glucose_unit": glucose_unit}})
    return True


@bp.route("/units/<int:unit_id>/glucose-unit", methods=["POST"])
@role_required("admin")
def glucose_unit(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = GlucoseUnitForm()
    if not form.validate_on_submit():
        flash("Not saved: choose mmol/L or mg/dL for capillary glucose.", "error")
    elif set_glucose_unit(by=current_user, unit=unit, glucose_unit=form.glucose_unit.data):
        db.session.commit()
        flash(f"Capillary glucose on {unit.name} is now charted in {unit.glucose_unit}.", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("admin.edit_unit", unit_id=unit.id, _anchor="glucose"))
