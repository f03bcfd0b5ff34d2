"""Work out what is due per admission from the record, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select

from clinic.extensions import db
from clinic.models import (
    Admission,
    Assessment,
    Assignment,
    DueDefinitionVersion,
    MissedCheckNote,
    ProtocolOverride,
    SafetyCheck,
    Unit,
    VitalSigns,
)
from clinic.monitoring.queries import SCALES, nth_latest_ids
from clinic.scoring import due
from clinic.scoring.shifts import ShiftInstance

#: How many recent results per scale the rules look at (CIWA-Ar steps down after three).
HISTORY_DEPTH = 3


def definition_for(unit: Unit) -> tuple[due.DueDefinition, int | None]:
    """Return the unit's newest due rules and their version (None: the built-in defaults)."""
    row = db.session.scalar(
        select(DueDefinitionVersion)
        .where(DueDefinitionVersion.unit_id == unit.id)
        .order_by(DueDefinitionVersion.version.desc())
        .limit(1)
    )
    if row is None:
        return due.DEFAULT_DEFINITION, None
    return due.DueDefinition.from_dict(row.definition), row.version


def current_overrides(admission_ids: list[int]) -> dict[tuple[int, str], ProtocolOverride]:
    """Return the override in force per (admission, protocol); a cleared one is left out."""
    newest: dict[tuple[int, str], ProtocolOverride] = {}
    if not admission_ids:
        return newest
    for row in db.session.scalars(
        select(ProtocolOverride)
        .where(ProtocolOverride.admission_id.in_(admission_ids))
        .order_by(ProtocolOverride.id)
    ):
        newest[(row.admission_id, row.protocol)] = row
    return {key: row for key, row in newest.items() if row.interval_minutes is not None}


def _score_point(entry) -> due.ScorePoint:
    if isinstance(entry, VitalSigns):
        return due.ScorePoint(at=entry.observed_at, total=entry.news2_total, band=entry.news2_band)
    flagged = bool(entry.flags) or entry.suicide_risk in ("moderate", "high")
    return due.ScorePoint(at=entry.observed_at, total=entry.total, band=entry.band,
                          outcome=entry.outcome, flagged=flagged)


def histories(admission_ids: list[int]) -> dict[tuple[int, str], list[due.ScorePoint]]:
    """Return the recent current results per (admission, protocol), newest first."""
    ids = nth_latest_ids(
        admission_ids,
        {("vitals", 0): (VitalSigns, lambda v: (v.news2_total.is_not(None),), 0)}
        | {(scale, n): (Assessment, lambda a, s=scale: (a.scale == s,), n)
           for scale in SCALES for n in range(HISTORY_DEPTH)},
        name="due_histories",
    )
    vitals_ids = {i for (_, (name, _)), i in ids.items() if name == "vitals" and i}
    assessment_ids = {i for (_, (name, _)), i in ids.items() if name != "vitals" and i}
    vitals = {v.id: v for v in db.session.scalars(select(VitalSigns).where(VitalSigns.id.in_(vitals_ids)))}
    assessments = {
        a.id: a for a in db.session.scalars(select(Assessment).where(Assessment.id.in_(assessment_ids)))
    }
    result: dict[tuple[int, str], list[due.ScorePoint]] = defaultdict(list)
    for (admission_id, (name, _n)), entry_id in sorted(ids.items(), key=lambda kv: kv[0][1][1]):
        entry = (vitals if name == "vitals" else assessments).get(entry_id)
        if entry is not None:
            result[(admission_id, name)].append(_score_point(entry))
    return result


@dataclass
class PatientDue:
    """Everything due for one admission."""

    admission: Admission
    items: list[due.DueItem] = field(default_factory=list)
    checks: due.CheckSchedule | None = None
    missed_notes: dict[datetime, MissedCheckNote] = field(default_factory=dict)
    last_check: SafetyCheck | None = None

    def next_item(self) -> due.DueItem | None:
        return min(self.items, key=lambda item: item.due_at, default=None)

    def most_overdue_minutes(self, now: datetime) -> int:
        minutes = [item.overdue_minutes(now) for item in self.items]
        if self.checks is not None and self.checks.status(now) == "overdue" and self.checks.next_due:
            minutes.append(int((now - self.checks.next_due).total_seconds() // 60))
        return max(minutes, default=0)


def due_for(admissions: list[Admission], *, now: datetime, shift: ShiftInstance,
            definition: due.DueDefinition) -> dict[int, PatientDue]:
    """Return what is due per admission: protocol reassessments and safety checks this shift."""
    ids = [a.id for a in admissions]
    history = histories(ids)
    overrides = current_overrides(ids)
    checks = _checks_since(admissions, shift)
    notes = _missed_notes(ids, shift)
    result = {}
    for admission in admissions:
        patient = PatientDue(admission)
        for protocol in admission.protocols:
            override = overrides.get((admission.id, protocol))
            patient.items.append(
                due.next_due(
                    protocol, history.get((admission.id, protocol), []),
                    admitted_at=admission.admitted_at, definition=definition,
                    override=due.Override(override.interval_minutes, override.reason) if override else None,
                )
            )
        times = [c.observed_at for c in checks.get(admission.id, [])]
        start = max(filter(None, [admission.observation_level_since, admission.admitted_at]))
        # Only this shift's windows are listed as missed; earlier shifts were handed over.
        start = max(start, shift.starts_at)
        patient.checks = due.check_schedule(admission.observation_level, times, start=start, now=now,
                                            definition=definition)
        patient.last_check = checks[admission.id][-1] if checks.get(admission.id) else None
        patient.missed_notes = notes.get(admission.id, {})
        result[admission.id] = patient
    return result


def _checks_since(admissions: list[Admission], shift: ShiftInstance) -> dict[int, list[SafetyCheck]]:
    """Return current safety checks since the shift began, plus the one just before it."""
    from clinic.entries import current_filter

    ids = [a.id for a in admissions]
    grouped: dict[int, list[SafetyCheck]] = defaultdict(list)
    if not ids:
        return grouped
    before = nth_latest_ids(
        ids, {("check", 0): (SafetyCheck, lambda c: (c.observed_at < bindparam("before"),), 0)},
        name="check_before_shift", params={"before": shift.starts_at},
    )
    earlier_ids = [i for i in before.values() if i]
    rows = db.session.scalars(
        select(SafetyCheck)
        .where(
            SafetyCheck.admission_id.in_(ids), current_filter(SafetyCheck),
            (SafetyCheck.observed_at >= shift.starts_at) | SafetyCheck.id.in_(earlier_ids),
        )
        .order_by(SafetyCheck.observed_at)
    )
    for row in rows:
        grouped[row.admission_id].append(row)
    return grouped


def _missed_notes(
    admission_ids: list[int], shift: ShiftInstance
) -> dict[int, dict[datetime, MissedCheckNote]]:
    grouped: dict[int, dict[datetime, MissedCheckNote]] = defaultdict(dict)
    if not admission_ids:
        return grouped
    for note in db.session.scalars(
        select(MissedCheckNote).where(
            MissedCheckNote.admission_id.in_(admission_ids), MissedCheckNote.due_at >= shift.starts_at
        )
    ):
        grouped[note.admission_id][note.due_at] = note
    return grouped


def assignments_for(unit: Unit, shift: ShiftInstance) -> dict[int, Assignment]:
    """Return the assignment in force per bed for a shift (newest row per bed)."""
    newest: dict[int, Assignment] = {}
    for row in db.session.scalars(
        select(Assignment)
        .where(Assignment.unit_id == unit.id, Assignment.shift_starts_at == shift.starts_at)
        .order_by(Assignment.id)
    ):
        newest[row.bed_id] = row
    return {bed_id: row for bed_id, row in newest.items() if row.nurse_id is not None}
