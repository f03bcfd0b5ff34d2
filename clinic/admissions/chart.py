"""What the patient chart shows: entries in time order, latest scores, shifts of the stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.entries import current_filter
from clinic.extensions import db
from clinic.models import (
    Admission,
    Assessment,
    EntryRetraction,
    Escalation,
    NursingNote,
    PrnDose,
    VitalSigns,
)
from clinic.models.charting import ClinicalEntry
from clinic.scoring.shifts import ShiftInstance


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    entry: object
    retraction: EntryRetraction | None = None


def _entries(model: type[ClinicalEntry], admission: Admission, since, until) -> list:
    newer = db.aliased(model)
    query = (
        select(model)
        .where(model.admission_id == admission.id)
        # Superseded versions are reached through the history of their correction.
        .where(~select(newer.id).where(newer.supersedes_id == model.id).exists())
        .options(selectinload(model.recorded_by))
        .order_by(model.observed_at)
    )
    if since is not None:
        query = query.where(model.observed_at >= since)
    if until is not None:
        query = query.where(model.observed_at < until)
    return list(db.session.scalars(query))


def timeline(admission: Admission, since: datetime | None = None,
             until: datetime | None = None) -> list[TimelineItem]:
    """Return the current version of every entry (retracted ones marked) and escalations."""
    retractions = {
        (r.entry_kind, r.entry_id): r
        for r in db.session.scalars(
            select(EntryRetraction).where(EntryRetraction.admission_id == admission.id)
        )
    }
    items = []
    for model in (VitalSigns, Assessment, NursingNote, PrnDose):
        for entry in _entries(model, admission, since, until):
            items.append(TimelineItem(entry.observed_at, model.kind, entry,
                                      retractions.get((model.kind, entry.id))))
    query = select(Escalation).where(Escalation.admission_id == admission.id).options(
        selectinload(Escalation.updates), selectinload(Escalation.raised_by)
    )
    if since is not None:
        query = query.where(Escalation.raised_at >= since)
    if until is not None:
        query = query.where(Escalation.raised_at < until)
    for escalation in db.session.scalars(query):
        items.append(TimelineItem(escalation.raised_at, "escalation", escalation))
    # Newest first, as a nurse reads back from now; by_shift keeps this order within each shift.
    items.sort(key=lambda item: (item.at, item.kind), reverse=True)
    return items


def by_shift(admission: Admission, items: list[TimelineItem]) -> list[tuple[ShiftInstance, list]]:
    """Group timeline items by the unit shift they fall in, newest shift first."""
    groups: dict[datetime, tuple[ShiftInstance, list]] = {}
    for item in items:
        shift = admission.unit.shift_for(item.at)
        groups.setdefault(shift.starts_at, (shift, []))[1].append(item)
    return [groups[key] for key in sorted(groups, reverse=True)]


def latest_news2(admission: Admission) -> VitalSigns | None:
    """Return the newest current set; a partial one is shown as incomplete, never as an older total."""
    return db.session.scalar(
        select(VitalSigns)
        .where(VitalSigns.admission_id == admission.id, current_filter(VitalSigns))
        .order_by(VitalSigns.observed_at.desc())
        .limit(1)
    )


def latest_assessments(admission: Admission) -> dict[str, Assessment]:
    """Return the newest current scored assessment of each scale on this admission."""
    latest = {}
    for scale in admission.protocols:
        if scale == "vitals":
            continue
        found = db.session.scalar(
            select(Assessment)
            .where(Assessment.admission_id == admission.id, Assessment.scale == scale,
                   Assessment.outcome == "scored", current_filter(Assessment))
            .order_by(Assessment.observed_at.desc())
            .limit(1)
        )
        if found is not None:
            latest[scale] = found
    return latest
