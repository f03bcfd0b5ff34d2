"""Unit board views."""

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board import bp
from clinic.board.services import board_rows, choose_unit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Unit
from clinic.models.user import CLINICAL_ROLES
from clinic.monitoring import queries as latest


@bp.route("/board")
@role_required(*CLINICAL_ROLES)
def index():
    unit = choose_unit(request.args.get("unit", type=int))
    return redirect(url_for("board.unit", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/board")
@role_required(*CLINICAL_ROLES)
def unit(unit_id: int):
    unit = choose_unit(unit_id)
    rows = board_rows(unit)
    now = utc_now()
    admission_ids = [r.admission.id for r in rows if r.admission is not None]
    scores = latest.latest_scores(admission_ids)
    escalations = latest.open_escalations_by_admission(admission_ids)
    units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    patients = [r.admission.patient_id for r in rows if r.admission is not None]
    # One event per page view listing the patients shown keeps the audit write load low.
    audit.record(
        "view", object_type="unit_board", object_id=unit.id,
        detail={"patients": patients, "unit": unit.name},
    )
    db.session.commit()
    return render_template(
        "board/board.html", unit=unit, units=units, rows=rows, now=now,
        occupied=len(patients), shift=unit.shift_for(now), scores=scores, escalations=escalations,
    )
