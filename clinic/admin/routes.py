"""Administration views (being written)."""

from flask import render_template

from clinic.admin import bp
from clinic.auth.decorators import role_required


@bp.route("/users")
@role_required("admin")
def users():
    return render_template("errors/error.html", title="Users", message="Coming in this change.")


@bp.route("/units")
@role_required("admin")
def units():
    return render_template("errors/error.html", title="Units", message="Coming in this change.")
