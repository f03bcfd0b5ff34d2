"""Helpers shared by the charting views: loading records, local times, where to go next."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, redirect, request, session, url_for
from sqlalchemy.orm import joinedload

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, Unit

#: Roles that chart (DESIGN.md: physicians may chart; administrators and auditors never do).
CHARTING_ROLES = ("nurse", "charge_nurse", "physician")


def admission_or_404(admission_id: int) -> Admission:
    # The unit comes in the same query: every charting rule needs its zone or late-entry limit.
    admission = db.session.get(Admission, admission_id, options=[joinedload(Admission.unit)])
    if admission is None:
        abort(404)
    return admission


def local_now(unit: Unit) -> datetime:
    """Return now on the unit's wall clock, to the minute, for a datetime-local input."""
    return utc_now().astimezone(unit.zone).replace(tzinfo=None, second=0, microsecond=0)


def safe_next(default: str) -> str:
    """Return the `next` URL if it is a path on this site, else `default`."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target and not parts.scheme and not parts.netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return default


def saved(idempotency_key: str, location: str):
    """Redirect after a save, telling the page which browser draft it may now discard."""
    session["saved_form_key"] = idempotency_key
    return redirect(location)


def chart_url(admission: Admission) -> str:
    return url_for("admissions.chart", admission_id=admission.id)
