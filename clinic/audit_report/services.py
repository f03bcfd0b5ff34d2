"""Search the audit trail and render its events for reading."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from clinic import content_hash
from clinic.extensions import db
from clinic.models import AuditEvent, Patient, User
from clinic.timefmt import from_local, local_time

PAGE_SIZE = 50
#: Longest value shown in the detail column; the stored event keeps everything.
MAX_VALUE_CHARS = 80
#: An ISO 8601 timestamp inside a detail value, shown as a local time instead.
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
#: Objects whose event details hold no clinical content, so administrators read them too. Any
#: other event's detail (notes, reasons, vitals, allergies, dates of birth, and whatever tables
#: come later) is for auditors only: administrators see who did what, to what and when.
ADMIN_READABLE_OBJECTS = frozenset(
    {None, "user", "session", "unit", "bed", "due_definition", "audit_report", "request"}
)
#: Sortable columns: what each sorts by, and whether it can be empty (NULL, or no patient joined).
#: Only these names ever reach ORDER BY.
SORT_EXPRESSIONS = {
    "occurred_at": ((AuditEvent.occurred_at, False),),
    "user": ((AuditEvent.username, True),),
    "patient": ((Patient.mrn, True),),
    "action": ((AuditEvent.action, False),),
    "object": ((AuditEvent.object_type, True), (AuditEvent.object_id, True)),
    "ip": ((AuditEvent.ip, True),),
}


@dataclass(frozen=True)
class Filters:
    """Validated filters; None means "not filtered on this"."""

    username: str | None = None
    username_prefix: bool = False
    patient_id: int | None = None
    action: str | None = None
    #: Inclusive lower and exclusive upper bound, in UTC.
    since: datetime | None = None
    before: datetime | None = None
    #: Events up to this id only: later pages keep the rows the first page counted, although
    #: events (this report's own views among them) keep arriving.
    upto_id: int | None = None


@dataclass(frozen=True)
class ReportRow:
    """One event as the report shows it, detached from the session."""

    id: int
    occurred_at: datetime
    username: str | None
    user_display_name: str | None
    patient_mrn: str | None
    patient_name: str | None
    action: str
    object_label: str | None
    detail_lines: list[str]
    ip: str | None
    #: The detail exists but is clinical, and the reader may not see it.
    detail_withheld: bool = False


@dataclass(frozen=True)
class ReportPage:
    rows: list[ReportRow]
    total: int
    page: int
    pages: int
    #: The newest event id the search covered; pass it back as upto_id for the other pages.
    snapshot_id: int | None
    patient_ids: list[int] = field(default_factory=list)

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.rows)


def find_patient_id(mrn: str) -> int | None:
    """Return the id of the patient with this MRN (as typed, any case), or None."""
    return db.session.scalar(select(Patient.id).where(Patient.mrn == mrn.strip().upper()))


def username_filter(typed: str) -> tuple[str, bool]:
    """Return the name to match and whether a trailing * asked for a prefix match."""
    name = typed.strip().lower()
    if name.endswith("*"):
        return name.rstrip("*"), True
    return name, False


def utc_bounds(
    first: date | None, last: date | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    """Return the UTC instants bounding whole local days `first` to `last`, both inclusive."""
    since = from_local(datetime.combine(first, time()), zone) if first else None
    before = from_local(datetime.combine(last + timedelta(days=1), time()), zone) if last else None
    return since, before


def _where(query: Select, filters: Filters) -> Select:
    if filters.username is not None:
        if filters.username_prefix:
            pattern = _escape_like(filters.username) + "%"
            query = query.where(AuditEvent.username.like(pattern, escape="\\"))
        else:
            query = query.where(AuditEvent.username == filters.username)
    if filters.patient_id is not None:
        query = query.where(AuditEvent.patient_id == filters.patient_id)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.before is not None:
        query = query.where(AuditEvent.occurred_at < filters.before)
    if filters.upto_id is not None:
        query = query.where(AuditEvent.id <= filters.upto_id)
    return query


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    filters: Filters, *, sort: str, descending: bool, page: int, clinical: bool
) -> ReportPage:
    """Return one page of matching events: one count query and one query for the rows.

    Without `clinical`, the detail of events about clinical objects is withheld.
    """
    total, snapshot_id = db.session.execute(
        _where(select(func.count(AuditEvent.id), func.max(AuditEvent.id)), filters)
    ).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)

    columns = SORT_EXPRESSIONS.get(sort, SORT_EXPRESSIONS["occurred_at"])
    order = []
    for column, may_be_empty in columns:
        clause = column.desc() if descending else column.asc()
        # Empty values (no patient, no IP) go last either way, alike on SQLite and PostgreSQL;
        # the time column is never empty, and a plain order there can use its index.
        order.append(clause.nulls_last() if may_be_empty else clause)
    # The id breaks ties (events share a second), so paging never skips or repeats a row.
    order.append(AuditEvent.id.desc() if descending else AuditEvent.id.asc())
    query = (
        _where(select(AuditEvent), filters)
        .outerjoin(AuditEvent.user)
        .outerjoin(AuditEvent.patient)
        .options(contains_eager(AuditEvent.user), contains_eager(AuditEvent.patient))
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    events = db.session.scalars(query).all()
    rows = [_row(event, clinical) for event in events]
    patient_ids = sorted({e.patient_id for e in events if e.patient_id is not None})
    return ReportPage(
        rows=rows, total=total, page=page, pages=pages, snapshot_id=snapshot_id,
        patient_ids=patient_ids,
    )


def _row(event: AuditEvent, clinical: bool) -> ReportRow:
    user: User | None = event.user
    patient: Patient | None = event.patient
    readable = clinical or event.object_type in ADMIN_READABLE_OBJECTS
    lines = detail_lines(event.detail)
    return ReportRow(
        id=event.id,
        occurred_at=event.occurred_at,
        username=event.username or (user.username if user else None),
        user_display_name=user.display_name if user else None,
        patient_mrn=patient.mrn if patient else None,
        patient_name=patient.display_name if patient else None,
        action=event.action,
        object_label=_object_label(event),
        detail_lines=lines if readable else [],
        ip=event.ip,
        detail_withheld=not readable and bool(lines),
    )


def _object_label(event: AuditEvent) -> str | None:
    if event.object_type is None:
        return None
    label = event.object_type.replace("_", " ")
    return f"{label} #{event.object_id}" if event.object_id is not None else label


def detail_lines(raw: str | None) -> list[str]:
    """Render an event's JSON detail as short lines; changes read "field: old → new"."""
    try:
        detail = json.loads(raw or "{}")
    except ValueError:
        return [_short(raw or "")]
    if not isinstance(detail, dict):
        return [_value(detail)]
    before = detail.get("before")
    after = detail.get("after")
    before = before if isinstance(before, dict) else None
    after = after if isinstance(after, dict) else None
    lines = [
        f"{_label(k)}: {_value(v)}"
        for k, v in detail.items()
        if not (k == "before" and before is not None) and not (k == "after" and after is not None)
        # The content hash is for verify-audit, not for reading.
        and k != content_hash.DETAIL_KEY
    ]
    if before is not None and after is not None:
        for key in [*after, *(k for k in before if k not in after)]:
            lines.append(f"{_label(key)}: {_value(before.get(key))} → {_value(after.get(key))}")
    elif after is not None:
        lines.extend(f"{_label(k)}: {_value(v)}" for k, v in after.items())
    elif before is not None:
        lines.extend(f"{_label(k)}: {_value(v)} → (removed)" for k, v in before.items())
    return lines


def _label(key: str) -> str:
    return str(key).replace("_", " ")


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        separator = "; " if any(isinstance(v, dict) for v in value) else ", "
        return _short(separator.join(_value(v) for v in value)) if value else "none"
    if isinstance(value, dict):
        return _short(", ".join(f"{_label(k)} {_value(v)}" for k, v in value.items()))
    if isinstance(value, str) and _ISO_TIMESTAMP.match(value):
        return _short(_timestamp(value))
    return _short(str(value))


def _timestamp(text: str) -> str:
    """Return a stored UTC timestamp in local time, or the text itself if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return local_time(moment) if moment.tzinfo is not None else text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
