"""Send each role to the page it starts from."""

from flask import redirect, url_for
from flask_login import current_user

from clinic.auth.decorators import role_required
from clinic.main import bp
from clinic.models.user import CLINICAL_ROLES, ROLES


@bp.route("/")
@role_required(*ROLES)
def home():
    if current_user.has_role(*CLINICAL_ROLES):
        return redirect(url_for("board.index"))
    if current_user.has_role("admin"):
        return redirect(url_for("admin.users"))
    return redirect(url_for("audit_report.search"))
