"""Placeholder until the assessment forms land in this change."""

from flask import abort

from clinic.assessments import bp
from clinic.auth.decorators import role_required
from clinic.routing import CHARTING_ROLES


@bp.route("/admissions/<int:admission_id>/assessments/new")
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    abort(404)


@bp.route("/admissions/<int:admission_id>/assessments/<int:assessment_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, assessment_id: int):
    abort(404)
