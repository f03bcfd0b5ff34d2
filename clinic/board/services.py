"""Queries behind the unit board."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, session
from sqlalchemy import bindparam, select

from clinic.extensions import db
from clinic.models import Bed, Unit
from clinic.monitoring.queries import BedRow, CurrentAdmission, current_admissions


def choose_unit(unit_id: int | None, *, among: list[Unit] | None = None) -> Unit:
    """Return the requested unit, else the one last used in this session, else the first.

    A page that lists every unit anyway passes them as `among`, saving a query.
    """
    unit = None
    if unit_id is not None:
        if among is not None:
            unit = next((u for u in among if u.id == unit_id), None)
        else:
            unit = db.session.get(Unit, unit_id)
        if unit is None:
            abort(404)
    if unit is None and session.get("unit_id"):
        unit = db.session.get(Unit, session["unit_id"])
    if unit is None:
        unit = db.session.scalar(select(Unit).order_by(Unit.name).limit(1))
    if unit is None:
        abort(404, "No unit has been set up yet.")
    if session.get("unit_id") != unit.id:
        # Only on a change: writing the session re-signs and resends its cookie.
        session["unit_id"] = unit.id
    return unit


@dataclass(frozen=True)
class BoardRow:
    bed: BedRow
    admission: CurrentAdmission | None


# Built once: the board runs it on every view and refresh.
_OPEN_BEDS = (
    select(Bed.id, Bed.label, Bed.sort_key)
    .where(Bed.unit_id == bindparam("unit_id"), Bed.active.is_(True))
    .order_by(Bed.sort_key, Bed.label)
)


def board_rows(unit: Unit) -> list[BoardRow]:
    """Return every open bed of `unit` with its current admission, in bed order (three queries)."""
    beds = [BedRow(*row) for row in db.session.execute(_OPEN_BEDS, {"unit_id": unit.id})]
    by_bed = {a.bed_id: a for a in current_admissions(unit.id)}
    rows = [BoardRow(bed, by_bed.pop(bed.id, None)) for bed in beds]
    # A patient left in a bed that has since been closed must still appear.
    rows.extend(BoardRow(a.bed, a) for a in by_bed.values())
    return rows


SORTS = {"bed": "Bed", "overdue": "Most overdue", "unwell": "Most unwell"}

#: Severity bands of the validated scales, least to most severe (REFERENCE §2, §3, §4).
_BAND_RANK = {"none": 0, "mild": 1, "moderate": 2, "moderately severe": 3, "severe": 4, "very severe": 5}


def _scale_rank(entry) -> int:
    """Rank a latest scale result by severity; the ketamine checklist, which has no band, by risk."""
    if entry is None:
        return -1
    if entry.scale == "ketamine":
        # Unvalidated burden, so its flags and the suicide-risk screen decide, never the total.
        return {"high": 5, "moderate": 4}.get(entry.suicide_risk, 3 if entry.flags else 0)
    return _BAND_RANK.get(entry.band, 0)


def unwell_key(scores: dict, open_escalations: list) -> tuple:
    """Return a sort key putting the highest NEWS2, then scale band, then open escalations first."""
    news2 = scores.get("news2")
    total = news2.latest.total if news2 is not None and news2.latest is not None else None
    if total is None and news2 is not None and news2.latest is not None and news2.latest.flags:
        # A partial set ranks by the points it has (its flags column holds them): the least it can be.
        total = sum(news2.latest.flags.values())
    ranks = [_scale_rank(trend.latest) for name, trend in scores.items() if name != "news2"]
    return (-(total if total is not None else -1), -max(ranks, default=-1), -len(open_escalations))


def overdue_key(entries: list) -> tuple[int, float]:
    """Return a sort key putting the most overdue patient first, then the one due soonest."""
    if not entries:
        return (0, math.inf)
    return (-max(e.overdue_minutes for e in entries), min(e.due_at for e in entries).timestamp())


def sort_rows(rows: list[BoardRow], how: str, *, due: dict, scores: dict,
              escalations: dict) -> list[BoardRow]:
    """Return the rows in the chosen order; empty beds stay last, in bed order, when not by bed."""
    if how not in ("overdue", "unwell"):
        return rows
    occupied = [r for r in rows if r.admission is not None]
    empty = [r for r in rows if r.admission is None]
    position = {id(r): n for n, r in enumerate(rows)}
    if how == "overdue":
        def key(row):
            return (*overdue_key(due[row.admission.id].entries), position[id(row)])
    else:
        def key(row):
            aid = row.admission.id
            return (*unwell_key(scores.get(aid, {}), escalations.get(aid, [])), position[id(row)])
    return sorted(occupied, key=key) + empty
