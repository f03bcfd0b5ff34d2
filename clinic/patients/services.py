"""Read patients and discharged admissions for the search and discharged-list pages."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from clinic.extensions import db
from clinic.models import Admission, Patient, Unit
from clinic.models.patient import DISCHARGED

#: At most this many patients are listed for one search; the page says when there were more.
SEARCH_LIMIT = 50
#: The discharged list shows this many admissions, newest discharge first.
DISCHARGED_LIMIT = 200
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y")


def as_date(text: str) -> date | None:
    """Return the date a search term spells (2026-12-01, 01/12/2026, 1 Dec 2026), else None."""
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def search(query: str) -> list[Patient]:
    """Return patients whose MRN, name or date of birth matches `query`, by name."""
    query = query.strip()
    born = as_date(query)
    if born is not None:
        condition = Patient.date_of_birth == born
    else:
        words = [w for w in re.split(r"[\s,]+", query) if w]
        # Every word must appear in the family or given name ("walker jade", "Jade Walker").
        names = [or_(func.lower(Patient.family_name).contains(w.lower(), autoescape=True),
                     func.lower(Patient.given_name).contains(w.lower(), autoescape=True))
                 for w in words]
        condition = or_(Patient.mrn == query.upper(), *([db.and_(*names)] if names else []))
    return list(db.session.scalars(
        select(Patient).where(condition)
        .options(selectinload(Patient.admissions).selectinload(Admission.unit),
                 selectinload(Patient.admissions).selectinload(Admission.bed))
        .order_by(Patient.family_name, Patient.given_name, Patient.id)
        .limit(SEARCH_LIMIT + 1)
    ))


def discharged(unit: Unit) -> list[Admission]:
    """Return the unit's discharged admissions, newest discharge first."""
    return list(db.session.scalars(
        select(Admission)
        .where(Admission.unit_id == unit.id, Admission.status == DISCHARGED)
        .options(selectinload(Admission.patient), selectinload(Admission.bed))
        .order_by(Admission.discharged_at.desc(), Admission.id.desc())
        .limit(DISCHARGED_LIMIT)
    ))
