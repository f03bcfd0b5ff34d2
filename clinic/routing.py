"""Helpers shared by the charting views: loading records, local times, where to go next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from werkzeug.routing import IntegerConverter, ValidationError

from clinic import audit, entries
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission, Unit
from clinic.models.charting import ClinicalEntry
from clinic.saved import mark

#: Roles that chart (DESIGN.md: physicians may chart; administrators and auditors never do).
CHARTING_ROLES = ("nurse", "charge_nurse", "physician")

#: The largest id either database holds (PostgreSQL's INTEGER); a larger one was a 500 on SQLite
#: (an integer Python cannot bind) and a 503 on PostgreSQL (out of range for the column).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id out of the databases' range does not match, so 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        # The rule's pattern lets any run of digits through; refuse long ones before int() reads them.
        if len(value) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


def id_arg(text: str) -> int:
    """Return a query-string id as an int, or raise ValueError (``request.args.get(type=id_arg)``)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)) \
            or not 0 < int(text) <= MAX_ID:
        raise ValueError(f"not an id: {text[:20]!r}")
    return int(text)


# The unit comes in the same query: every charting rule needs its zone or late-entry limit. So
# does the patient, whom every save message names: loaded lazily after the commit, it began a
# second transaction (on SQLite a second write lock) for one name. Built once, as every charting
# request runs it. Inner joins filling the relationships: the eager load's own outer joins cost
# more to set up per query.
_ADMISSION_WITH_UNIT = (
    select(Admission).join(Admission.unit).join(Admission.patient)
    .options(contains_eager(Admission.unit), contains_eager(Admission.patient))
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


#: Longest `next` kept; a real page's path and query are far shorter.
MAX_NEXT_LENGTH = 1000


def local_path(value: object) -> str | None:
    """Return `value` if it is a path on this site (with its query), else None.

    Refused: anything not starting with one "/", a scheme or host, a backslash (browsers read
    "/\\host" as "//host"), any whitespace or control character (a CR/LF made the redirect
    itself fail after the entry was saved), and anything longer than MAX_NEXT_LENGTH.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT_LENGTH:
        return None
    if value.startswith("//") or "\\" in value or not value.isprintable() or " " in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def next_path() -> str:
    """Return the request's `next` as a local path, or "" (templates' Cancel links and hidden fields)."""
    return local_path(request.values.get("next")) or ""


def safe_next(default: str) -> str:
    """Return the request's `next` if it is a path on this site, else `default`."""
    return next_path() or default


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
