"""Unit board views."""

from dataclasses import replace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board import bp
from clinic.board.cells import BoardCells
from clinic.board.services import SORTS, board_rows, choose_unit, sort_rows
from clinic.db import utc_now
from clinic.duelist.cells import DueLinks
from clinic.duelist.services import BedDue, mine_only, patient_entries
from clinic.extensions import db
from clinic.models import Unit
from clinic.models.user import CLINICAL_ROLES
from clinic.monitoring import queries as latest
from clinic.monitoring.services import definition_for, due_for, recent_for
from clinic.routing import id_arg
from clinic.trends.board import ReviewCells

#: Seconds between the board's own refreshes (board.js); DESIGN.md asks for at least every minute.
DEFAULT_REFRESH_SECONDS = 60


@bp.route("/board")
@role_required(*CLINICAL_ROLES)
def index():
    unit = choose_unit(request.args.get("unit", type=id_arg))
    # Switching units keeps the sort and the "my patients" filter.
    sort = request.args.get("sort")
    return redirect(url_for("board.unit", unit_id=unit.id,
                            sort=sort if sort in SORTS and sort != "bed" else None,
                            mine=1 if request.args.get("mine") == "1" else None))


def refresh_seconds() -> int:
    """Return how often board.js refreshes the board (BOARD_REFRESH_SECONDS, default a minute)."""
    return int(current_app.config.get("BOARD_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))


def wants_fragment() -> bool:
    """Return whether board.js asked for the table alone, to swap it in place."""
    return request.headers.get("X-Requested-With") == "fetch" or request.args.get("fragment") == "1"


_ALL_UNITS = select(Unit).order_by(Unit.name)


@bp.route("/units/<int:unit_id>/board")
@role_required(*CLINICAL_ROLES)
def unit(unit_id: int):
    fragment = wants_fragment()
    # The full page offers every unit to switch to; a refresh shows only this one.
    units = None if fragment else db.session.scalars(_ALL_UNITS).all()
    unit = choose_unit(unit_id, among=units)
    now = utc_now()
    shift = unit.shift_for(now)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "bed"
    mine = request.args.get("mine") == "1"
    rows = board_rows(unit)
    assigned_beds = None
    if mine:
        mine_admissions, assigned_beds = mine_only(
            [r.admission for r in rows if r.admission is not None], unit, shift, current_user.id)
        shown = {a.id for a in mine_admissions}
        rows = [r for r in rows if r.admission is not None and r.admission.id in shown]
    admissions = [r.admission for r in rows if r.admission is not None]
    admission_ids = [a.id for a in admissions]
    definition, _version = definition_for(unit)
    recent = recent_for(admission_ids, definition)
    scores = latest.latest_scores(admission_ids, recent)
    escalations = latest.open_escalations_by_admission(admission_ids)
    patients = due_for(admissions, now=now, shift=shift, definition=definition, recent=recent)
    due = {
        a.id: BedDue.of(patient_entries(patients[a.id], now=now, scores=scores[a.id],
                                        definition=definition, zone=unit.zone))
        for a in admissions
    }
    rows = sort_rows(rows, sort, due=due, scores=scores, escalations=escalations)
    patient_ids = [a.patient_id for a in admissions]
    # Where a form opened from the board returns after saving: this view, never the fragment.
    back = url_for("board.unit", unit_id=unit.id, sort=None if sort == "bed" else sort,
                   mine=1 if mine else None)
    cells = BoardCells(
        now=now, zone=unit.zone, links=DueLinks(back), is_charge=current_user.has_role("charge_nurse"),
        due_list_url=url_for("duelist.due", unit_id=unit.id, mine=1 if mine else None),
    )
    lines = {
        a.id: cells.line(a, scores=scores[a.id], due=due[a.id], patient_due=patients[a.id],
                         escalations=escalations.get(a.id, []))
        for a in admissions
    }
    reviewed = ReviewCells(admission_ids, now)
    lines = {aid: replace(line, patient=line.patient + reviewed(aid)) for aid, line in lines.items()}
    context = dict(
        unit=unit, units=units or [], rows=rows, lines=lines, now=now, occupied=len(patient_ids), shift=shift,
        sort=sort, sorts=SORTS, mine=mine, assigned_beds=assigned_beds, refresh_seconds=refresh_seconds(),
    )
    page = render_template("board/_live.html" if fragment else "board/board.html", **context)
    # One event per page view (a refresh is one too) listing the patients shown keeps the audit
    # write load low; written after rendering, so every read shares the one transaction.
    audit.record(
        "view", object_type="unit_board", object_id=unit.id,
        detail={"patients": patient_ids, "unit": unit.name},
    )
    db.session.commit()
    headers = {"Vary": "X-Requested-With"} | ({"X-Board-Fragment": "1"} if fragment else {})
    return page, 200, headers
