"""Helpers shared by the charting views: loading records, local times, where to go next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from clinic import audit, entries
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission, Unit
from clinic.models.charting import ClinicalEntry
from clinic.saved import mark

#: Roles that chart (DESIGN.md: physicians may chart; administrators and auditors never do).
CHARTING_ROLES = ("nurse", "charge_nurse", "physician")


# The unit comes in the same query: every charting rule needs its zone or late-entry limit.
# Built once, as every charting request runs it. An inner join filling the relationship: the
# eager load's own outer join cost more to set up per query.
_ADMISSION_WITH_UNIT = (
    select(Admission).join(Admission.unit).options(contains_eager(Admission.unit))
    .where(Admission.id == bindparam("id"))
)


def admission_or_404(admission_id: int) -> Admission:
    admission = db.session.scalar(_ADMISSION_WITH_UNIT, {"id": admission_id})
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


def saved(idempotency_key: str, location: str, entry=None):
    """Redirect after a save, telling the page which browser draft it may now discard.

    The key rides in the fragment, which only the page's script reads: kept in the session it
    made every save re-sign and resend the session cookie. A saved `entry` is named in the query
    so the page says what was saved and for whom (clinic.saved).
    """
    location = location.split('#', 1)[0]
    if entry is not None:
        location = mark(location, entry)
    return redirect(f"{location}#saved={idempotency_key}")


#: Stands in for a whole-number argument while url_for builds a pattern; large enough that no
#: other part of a path is likely to contain it, and checked.
_PLACEHOLDER = 987_654_321


def url_pattern(endpoint: str, *names: str, **values) -> Callable[..., str]:
    """Return a function building `endpoint`'s URL from whole-number arguments `names`.

    The pattern is url_for's own answer, built once with placeholders, so it is the same URL;
    url_for itself cost about 5 µs a call, and a board draws some two hundred links.
    """
    placeholders = {name: _PLACEHOLDER + i for i, name in enumerate(names)}
    url = url_for(endpoint, **values, **placeholders).replace("{", "{{").replace("}", "}}")
    for name, number in placeholders.items():
        if url.count(str(number)) != 1:
            raise ValueError(f"cannot make a pattern of {endpoint}'s {name}")
        url = url.replace(str(number), "{" + name + "}")
    return url.format


def chart_url(admission: Admission) -> str:
    return url_for("admissions.chart", admission_id=admission.id)


def attach_error(form, error: ChartingError) -> None:
    """Put a refused rule's message next to its field, or above the form if it has none."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def save_entry(form, model: type[ClinicalEntry], write: Callable[[], ClinicalEntry], *,
               already_saved: str) -> ClinicalEntry | None:
    """Run `write` and commit once; on a refusal, roll back and show it; never chart twice.

    Returns the saved entry (or the one an earlier submission of this form saved), or None
    when the form has to be shown again with its messages. A resubmitted form is caught by the
    unique idempotency key at INSERT, so the usual first submission costs no lookup.
    """
    try:
        entry = write()
        db.session.commit()
        return entry
    except ChartingError as error:
        db.session.rollback()
        # Saved earlier, and since refused (the patient discharged, say): it is still saved.
        existing = entries.existing_by_key(model, form.idempotency_key.data)
        if existing is None:
            attach_error(form, error)
            return None
    except IntegrityError:
        db.session.rollback()
        existing = entries.existing_by_key(model, form.idempotency_key.data)
        if existing is None:
            raise
    flash(already_saved, "info")
    return existing


def audited_page(template: str, *, viewed: dict, **context) -> str:
    """Render a patient page, then write its "view" audit event and commit.

    Rendering first keeps the page's reads and the audit row in one transaction; auditing
    first would commit and open a second (on SQLite, write-locked) one for the reads after it.
    """
    page = render_template(template, **context)
    audit.record("view", **viewed)
    db.session.commit()
    return page
