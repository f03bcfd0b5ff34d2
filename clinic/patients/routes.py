"""Patient search and the discharged list (clinical staff); every list shown is audited."""

from __future__ import annotations

from flask import abort, render_template, request

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.extensions import db
from clinic.models import Unit
from clinic.models.user import CLINICAL_ROLES
from clinic.patients import bp, services

#: Longest search term accepted (longer is not a name, MRN or date).
MAX_QUERY = 100


@bp.route("/patients")
@role_required(*CLINICAL_ROLES)
def search():
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    found = services.search(query) if query else []
    more = len(found) > services.SEARCH_LIMIT
    found = found[:services.SEARCH_LIMIT]
    page = render_template("patients/search.html", query=query, found=found, more=more,
                           limit=services.SEARCH_LIMIT, searched_date=services.as_date(query))
    if query:
        audit.record("view", object_type="patient_search",
                     detail={"query": query, "patients": [p.id for p in found]})
        db.session.commit()
    return page


@bp.route("/units/<int:unit_id>/discharged")
@role_required(*CLINICAL_ROLES)
def discharged(unit_id: int):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    admissions = services.discharged(unit)
    page = render_template("patients/discharged.html", unit=unit, admissions=admissions,
                           limit=services.DISCHARGED_LIMIT)
    audit.record("view", object_type="discharged_list", object_id=unit.id,
                 detail={"unit": unit.name, "patients": [a.patient_id for a in admissions]})
    db.session.commit()
    return page
