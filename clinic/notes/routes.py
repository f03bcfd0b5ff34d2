"""Placeholder until the note forms land in this change."""

from flask import abort

from clinic.auth.decorators import role_required
from clinic.notes import bp
from clinic.routing import CHARTING_ROLES


@bp.route("/admissions/<int:admission_id>/notes/new")
@role_required(*CHARTING_ROLES)
def new(admission_id: int):
    abort(404)


@bp.route("/admissions/<int:admission_id>/notes/<int:note_id>")
@role_required(*CHARTING_ROLES)
def show(admission_id: int, note_id: int):
    abort(404)
