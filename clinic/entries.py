"""Rules shared by every charted entry: clinical time, late entries, idempotency, amendments."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import exists, select, text
from sqlalchemy.orm import aliased

from clinic import audit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, EntryRetraction, User
from clinic.models.charting import ENTRY_MODELS, ClinicalEntry
from clinic.prepared import PreparedInsert
from clinic.timefmt import local_time

#: Roles that may amend (correct or retract) an entry written by someone else.
AMEND_ANY_ROLES = ("charge_nurse",)


class ChartingError(Exception):
    """A broken charting rule, with the form field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_clinical_time(observed_at: datetime, admission: Admission, *, field="observed_at") -> None:
    """Refuse a clinical time in the future or outside the admission."""
    if observed_at.tzinfo is None:
        raise ValueError("clinical time must be aware")
    if observed_at > utc_now():
        raise ChartingError("The time cannot be in the future.", field)
    if observed_at < admission.admitted_at - timedelta(minutes=1):
        raise ChartingError("The time is before this admission began.", field)
    if admission.discharged_at is not None and observed_at > admission.discharged_at:
        raise ChartingError("The time is after this patient's discharge.", field)


def check_can_chart(admission: Admission) -> None:
    if not admission.is_current:
        raise ChartingError("This admission has ended; new entries cannot be charted on it.")


def is_late(admission: Admission, observed_at: datetime, recorded_at: datetime) -> bool:
    """Return whether an entry is late under the unit's late-entry limit."""
    return recorded_at - observed_at > timedelta(minutes=admission.unit.late_entry_minutes)


def existing_by_key(model: type[ClinicalEntry], key: str) -> ClinicalEntry | None:
    """Return the entry already saved from the form with this idempotency key."""
    return db.session.scalar(select(model).where(model.idempotency_key == key))


def current_filter(model: type[ClinicalEntry]):
    """Return the condition "neither superseded nor retracted" for `model` rows."""
    newer = aliased(model)
    return ~exists().where(newer.supersedes_id == model.id) & ~exists().where(
        EntryRetraction.entry_kind == model.kind, EntryRetraction.entry_id == model.id
    )


def is_superseded(entry: ClinicalEntry) -> bool:
    model = type(entry)
    return db.session.scalar(select(exists().where(model.supersedes_id == entry.id)))


def retraction_of(entry: ClinicalEntry) -> EntryRetraction | None:
    return db.session.scalar(
        select(EntryRetraction).where(
            EntryRetraction.entry_kind == entry.kind, EntryRetraction.entry_id == entry.id
        )
    )


def lock_for_amending(entry: ClinicalEntry) -> None:
    """Make amendments of one entry take turns until the transaction ends.

    Without it two corrections at once both passed the checks on PostgreSQL, and the loser hit
    the unique index: "database could not be reached". Now the second waits here, then sees the
    first. An advisory lock, as the app's role may not UPDATE (which FOR UPDATE needs). SQLite's
    BEGIN IMMEDIATE already makes writers take turns.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:kind, :id)"),
                           {"kind": zlib.crc32(entry.kind.encode()) & 0x7FFFFFFF, "id": entry.id})


def check_can_amend(user: User, entry: ClinicalEntry) -> None:
    """Allow only the author or a charge nurse to correct or retract a current entry."""
    if entry.recorded_by_id != user.id and not user.has_role(*AMEND_ANY_ROLES):
        raise ChartingError("Only the person who charted this entry, or a charge nurse, may amend it.")
    lock_for_amending(entry)
    # By key: an entry written by `insert` is transient, without its relationships.
    zone = db.session.get(Admission, entry.admission_id).unit.zone
    model = type(entry)
    newer = db.session.scalar(select(model).where(model.supersedes_id == entry.id))
    if newer is not None:
        raise ChartingError(
            f"This entry was already corrected by {newer.recorded_by.display_name} at "
            f"{local_time(newer.recorded_at, zone)}; amend the newest version."
        )
    retraction = retraction_of(entry)
    if retraction is not None:
        raise ChartingError(
            "This entry has been marked entered in error. It was marked by "
            f"{retraction.retracted_by.display_name} at {local_time(retraction.retracted_at, zone)}."
        )


def history(entry: ClinicalEntry) -> list[ClinicalEntry]:
    """Return the versions of an entry, oldest first, ending with `entry`."""
    versions = [entry]
    while versions[0].supersedes is not None:
        versions.insert(0, versions[0].supersedes)
    return versions


def retract(*, by: User, entry: ClinicalEntry, reason: str) -> EntryRetraction:
    """Mark an entry entered in error; it stays readable, struck through, out of scores."""
    check_can_amend(by, entry)
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError("Give the reason this entry was entered in error.", "reason")
    retraction = EntryRetraction(
        entry_kind=entry.kind, entry_id=entry.id, admission_id=entry.admission_id,
        reason=reason, retracted_by=by,
    )
    db.session.add(retraction)
    db.session.flush()
    audit.record(
        "retract", user=by, object_type=entry.kind, object_id=entry.id, patient_id=entry.admission.patient_id,
        clinical_at=entry.observed_at, detail={"reason": reason}, content_of=retraction,
    )
    return retraction


def load_entry(kind: str, entry_id: int, admission: Admission) -> ClinicalEntry | None:
    """Return the entry of `kind` with this id if it belongs to `admission`."""
    model = ENTRY_MODELS.get(kind)
    if model is None:
        return None
    entry = db.session.get(model, entry_id)
    if entry is None or entry.admission_id != admission.id:
        return None
    return entry


def insert(entry: ClinicalEntry) -> None:
    """Write a new entry with one INSERT and give it its id; it is not added to the session.

    Charting a set is the most frequent write on the ward, and the unit of work's flush cost
    more than the rest of the request's SQL (bench/). The entry comes back transient: read its
    columns, not its relationships.
    """
    entry.id = _INSERTS[type(entry)](entry.__dict__)


def stamp(entry: ClinicalEntry, *, by: User, admission: Admission, idempotency_key: str,
          supersedes: ClinicalEntry | None, reason: str | None) -> None:
    """Fill in the columns every entry shares, checking the correction rules."""
    # Keys rather than relationships: the flush then has no dependencies to sort (both rows
    # are already loaded, so reading the relationships later costs no query).
    entry.admission_id = admission.id
    entry.recorded_by_id = by.id
    entry.recorded_at = utc_now()
    entry.idempotency_key = idempotency_key
    entry.is_late = is_late(admission, entry.observed_at, entry.recorded_at)
    if supersedes is not None:
        check_can_amend(by, supersedes)
        if not (reason or "").strip():
            raise ChartingError("Give the reason for the correction.", "correction_reason")
        entry.supersedes_id = supersedes.id
        entry.correction_reason = reason.strip()


_INSERTS = {model: PreparedInsert(model.__table__) for model in ENTRY_MODELS.values()}
