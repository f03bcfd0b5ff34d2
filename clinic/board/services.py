"""Queries behind the unit board."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, session
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.extensions import db
from clinic.models import Admission, Bed, Unit
from clinic.models.patient import ADMITTED


def choose_unit(unit_id: int | None) -> Unit:
    """Return the requested unit, else the one last used in this session, else the first."""
    unit = None
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            abort(404)
    if unit is None and session.get("unit_id"):
        unit = db.session.get(Unit, session["unit_id"])
    if unit is None:
        unit = db.session.scalar(select(Unit).order_by(Unit.name).limit(1))
    if unit is None:
        abort(404, "No unit has been set up yet.")
    session["unit_id"] = unit.id
    return unit


@dataclass(frozen=True)
class BoardRow:
    bed: Bed
    admission: Admission | None


def board_rows(unit: Unit) -> list[BoardRow]:
    """Return every open bed of `unit` with its current admission, in bed order (two queries)."""
    beds = db.session.scalars(
        select(Bed).where(Bed.unit_id == unit.id, Bed.active.is_(True)).order_by(Bed.sort_key, Bed.label)
    ).all()
    admissions = db.session.scalars(
        select(Admission)
        .where(Admission.unit_id == unit.id, Admission.status == ADMITTED)
        .options(selectinload(Admission.patient), selectinload(Admission.substances))
    ).all()
    by_bed = {a.bed_id: a for a in admissions}
    rows = [BoardRow(bed, by_bed.pop(bed.id, None)) for bed in beds]
    # A patient left in a bed that has since been closed must still appear.
    rows.extend(BoardRow(a.bed, a) for a in by_bed.values())
    return rows
