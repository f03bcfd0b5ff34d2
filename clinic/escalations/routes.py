"""Placeholder until the escalation pages land in this change."""

from flask import abort

from clinic.auth.decorators import role_required
from clinic.escalations import bp
from clinic.routing import CHARTING_ROLES


@bp.route("/admissions/<int:admission_id>/escalations/new")
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    abort(404)


@bp.route("/admissions/<int:admission_id>/escalations/<int:escalation_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, escalation_id: int):
    abort(404)
