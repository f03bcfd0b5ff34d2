"""The unit due list: work through a round from one page, returning to it after each save."""

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board.services import choose_unit
from clinic.db import utc_now
from clinic.duelist import bp
from clinic.duelist.services import SAFETY_CHECK, DueEntry, unit_due_list
from clinic.extensions import db
from clinic.routing import CHARTING_ROLES
from clinic.timefmt import local_time


def this_page() -> str:
    """Return the path and query string of this request, for the forms' ``next``."""
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


# The board and the due list show these on every row. As Jinja macros they took about 2 ms of a
# 40-bed board's 6 ms render.
@bp.app_template_global()
def form_url(entry: DueEntry, back: str) -> str:
    """Return the link into the right form for a due entry; saving it returns to `back`."""
    admission = entry.admission
    # The query is added here, encoded as url_for encodes it: url_for's own query encoding cost
    # more than building the rest of the link.
    then = urlencode({"next": back}, safe="!$'()*,/:;?@")
    if entry.kind == SAFETY_CHECK:
        return f"{url_for('rounds.round', unit_id=admission.unit_id)}?{then}#admission-{admission.id}"
    if entry.kind == "vitals":
        return f"{url_for('vitals.new', admission_id=admission.id)}?{then}"
    return f"{url_for('assessments.new', admission_id=admission.id)}?scale={entry.kind}&{then}"


@bp.app_template_global()
def due_clock(entry: DueEntry, zone: ZoneInfo, now: datetime) -> Markup:
    """Return the due time on the unit clock, with the date only when it is not today."""
    same_day = entry.due_at.astimezone(zone).date() == now.astimezone(zone).date()
    return Markup('<time datetime="{}">{}</time>').format(
        entry.due_at.isoformat(), local_time(entry.due_at, zone, date=not same_day))


@bp.route("/units/<int:unit_id>/due")
@role_required(*CHARTING_ROLES)
def due(unit_id: int):
    unit = choose_unit(unit_id)
    mine = request.args.get("mine") == "1"
    due_list = unit_due_list(unit, now=utc_now(), mine_of=current_user.id if mine else None)
    page = render_template("duelist/due.html", unit=unit, due_list=due_list, mine=mine,
                           back=this_page(), safety_check=SAFETY_CHECK)
    # After rendering, so the page's reads and the audit row share one transaction.
    audit.record(
        "view", object_type="due_list", object_id=unit.id,
        detail={"patients": due_list.patient_ids, "unit": unit.name, "mine": mine},
    )
    db.session.commit()
    return page
