"""The unit due list: work through a round from one page, returning to it after each save."""

from flask import render_template, request
from flask_login import current_user

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board.services import choose_unit
from clinic.db import utc_now
from clinic.duelist import bp
from clinic.duelist.cells import DueLinks, due_row
from clinic.duelist.services import unit_due_list
from clinic.extensions import db
from clinic.routing import CHARTING_ROLES


def this_page() -> str:
    """Return the path and query string of this request, for the forms' ``next``."""
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


@bp.route("/units/<int:unit_id>/due")
@role_required(*CHARTING_ROLES)
def due(unit_id: int):
    unit = choose_unit(unit_id)
    mine = request.args.get("mine") == "1"
    due_list = unit_due_list(unit, now=utc_now(), mine_of=current_user.id if mine else None)
    page = render_template("duelist/due.html", unit=unit, due_list=due_list, mine=mine,
                           links=DueLinks(this_page()), due_row=due_row)
    # After rendering, so the page's reads and the audit row share one transaction.
    audit.record(
        "view", object_type="due_list", object_id=unit.id,
        detail={"patients": due_list.patient_ids, "unit": unit.name, "mine": mine},
    )
    db.session.commit()
    return page
