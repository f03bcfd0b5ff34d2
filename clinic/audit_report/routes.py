"""Audit search (being written)."""

from flask import render_template

from clinic.audit_report import bp
from clinic.auth.decorators import role_required


@bp.route("/")
@role_required("admin", "auditor")
def search():
    return render_template("errors/error.html", title="Audit", message="Coming in this change.")
