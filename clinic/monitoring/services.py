"""Work out what is due per admission from the record, in a fixed number of queries; record overrides."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, literal_column, select, true, union_all
from sqlalchemy.orm import aliased, selectinload

from clinic import audit
from clinic.db import in_list
from clinic.entries import current_filter
from clinic.extensions import db
from clinic.models import (
    Admission,
    Assignment,
    DueDefinitionVersion,
    MissedCheckNote,
    ProtocolOverride,
    SafetyCheck,
    Unit,
    User,
)
from clinic.monitoring.queries import SCALES, CurrentAdmission, Recent, newest_id, recent_entries, unnested
from clinic.monitoring.safety import SafetyFacts
from clinic.monitoring.safety import facts_for as safety_facts
from clinic.prn import queries as prn_queries
from clinic.risk_flags import flags_by_admission
from clinic.scoring import due, risk
from clinic.scoring.shifts import ShiftInstance

# Plain columns, not the object: every board, due list and rounds view reads it.
_NEWEST_DEFINITION = (
    select(DueDefinitionVersion.definition, DueDefinitionVersion.version)
    .where(DueDefinitionVersion.unit_id == bindparam("unit_id"))
    .order_by(DueDefinitionVersion.version.desc())
    .limit(1)
)


def definition_for(unit: Unit) -> tuple[due.DueDefinition, int | None]:
    """Return the unit's newest due rules and their version (None: the built-in defaults)."""
    row = db.session.execute(_NEWEST_DEFINITION, {"unit_id": unit.id}).first()
    if row is None:
        return due.DEFAULT_DEFINITION, None
    return due.DueDefinition.from_dict(row.definition), row.version


def _overrides(*columns):
    return (
        select(*columns)
        .where(in_list(ProtocolOverride.admission_id, "ids"))
        .order_by(ProtocolOverride.id)
    )


_OVERRIDES = _overrides(ProtocolOverride)
# What the due rules read, as plain rows: the board and due list run it on every view.
_OVERRIDE_INTERVALS = _overrides(ProtocolOverride.admission_id, ProtocolOverride.protocol,
                                 ProtocolOverride.interval_minutes, ProtocolOverride.reason,
                                 ProtocolOverride.set_in_band, ProtocolOverride.set_at)


def _in_force(rows) -> dict:
    """Keep the newest row per (admission, protocol), then drop those that cleared an override."""
    newest = {(row.admission_id, row.protocol): row for row in rows}
    return {key: row for key, row in newest.items() if row.interval_minutes is not None}


def current_overrides(admission_ids: list[int]) -> dict[tuple[int, str], ProtocolOverride]:
    """Return the override in force per (admission, protocol); a cleared one is left out."""
    if not admission_ids:
        return {}
    return _in_force(db.session.scalars(_OVERRIDES, {"ids": list(admission_ids)}))


def override_intervals(admission_ids: list[int]) -> dict[tuple[int, str], due.Override]:
    """Return the override in force per (admission, protocol) as the due rules take it."""
    if not admission_ids:
        return {}
    rows = _in_force(db.session.execute(_OVERRIDE_INTERVALS, {"ids": list(admission_ids)}))
    return {key: due.Override(row.interval_minutes, row.reason, row.set_in_band, row.set_at)
            for key, row in rows.items()}


def _scale_point(result) -> due.ScorePoint:
    flagged = bool(result.flags) or result.suicide_risk in ("moderate", "high")
    return due.ScorePoint(at=result.observed_at, total=result.total, band=result.band,
                          outcome=result.outcome, flagged=flagged)


def recent_for(admission_ids: list[int], definition: due.DueDefinition) -> Recent:
    """Return the newest entries the due rules need: enough CIWA-Ar results for the step-down
    (its run, and the score before it, to tell whether the run began on the routine interval)."""
    return recent_entries(admission_ids, ciwa_ar_depth=definition.ciwa_ar_settled_after + 1)


def histories(admission_ids: list[int], recent: Recent) -> dict[tuple[int, str], list[due.ScorePoint]]:
    """Return the recent current results per (admission, protocol), newest first."""
    result: dict[tuple[int, str], list[due.ScorePoint]] = defaultdict(list)
    for admission_id in admission_ids:
        newest_set = recent.entry(admission_id, ("news2", 0))
        if newest_set is not None:
            result[(admission_id, "vitals")].append(due.ScorePoint(
                at=newest_set.observed_at, total=newest_set.total, band=newest_set.band))
        for scale in SCALES:
            result[(admission_id, scale)].extend(
                _scale_point(entry) for entry in recent.results(admission_id, scale))
    return result


@dataclass
class PatientDue:
    """Everything due for one admission."""

    #: An ORM object (rounds, monitoring) or a plain row (the board and due list).
    admission: Admission | CurrentAdmission
    items: list[due.DueItem] = field(default_factory=list)
    checks: due.CheckSchedule | None = None
    #: The id of the note on each missed window that has one, by the window's due time.
    missed_notes: dict[datetime, int] = field(default_factory=dict)
    #: The newest current safety check (its time is in `checks.last_check`).
    last_check_id: int | None = None
    #: PRN doses whose effect is still to be reassessed (clinic.prn.queries.DoseRow), oldest due first.
    prn_follow_ups: list = field(default_factory=list)
    #: Risk flags in force (flag -> note).
    risk_flags: dict[str, str | None] = field(default_factory=dict)
    #: What the suicide-risk screen, continuous observation and thiamine call for.
    safety: SafetyFacts | None = None

    def next_item(self) -> due.DueItem | None:
        return min(self.items, key=lambda item: item.due_at, default=None)

    def most_overdue_minutes(self, now: datetime) -> int:
        minutes = [item.overdue_minutes(now) for item in self.items]
        if self.checks is not None and self.checks.status(now) == "overdue" and self.checks.next_due:
            minutes.append(int((now - self.checks.next_due).total_seconds() // 60))
        minutes += [int((now - d.effect_due_at).total_seconds() // 60) for d in self.prn_follow_ups
                    if d.effect_due_at < now]
        return max(minutes, default=0)


def due_for(admissions: list[Admission | CurrentAdmission], *, now: datetime, shift: ShiftInstance,
            definition: due.DueDefinition, recent: Recent | None = None,
            prn_doses: list[prn_queries.DoseRow] | None = None) -> dict[int, PatientDue]:
    """Return what is due per admission: protocol reassessments and safety checks this shift.

    Pass `recent` when the page has already fetched it (the board shows the same scores), and
    `prn_doses` when it has read the PRN doses given up to `now` (clinic.prn.queries.doses_for):
    the doses treating a scale and the effects still to reassess are then taken from them, so
    only follow-ups of those doses are listed. They must reach back a day before `now`; the
    handover's reach back a day before its shift, which holds every follow-up not yet overdue
    (an order's reassessment is at most 24 h after a dose, clinic.prn.forms.BOUNDS).
    """
    ids = [a.id for a in admissions]
    history = histories(ids, recent or recent_for(ids, definition))
    overrides = override_intervals(ids)
    check_times, last_checks = _checks_since(admissions, shift)
    notes = _missed_notes(ids, shift)
    # A dose for a scale brings that scale's reassessment forward where the rules say so (COWS).
    if prn_doses is None:
        treated = prn_queries.treated_dose_times(ids, now - timedelta(days=1))
        open_doses = prn_queries.open_follow_ups(ids)
    else:
        treated = prn_queries.treated_times_among(prn_doses, now - timedelta(days=1))
        open_doses = prn_queries.open_follow_ups_among(prn_doses)
    follow_ups = defaultdict(list)
    for dose in open_doses:
        follow_ups[dose.admission_id].append(dose)
    flags = flags_by_admission(ids)
    facts = safety_facts(admissions, now=now, shift=shift)
    result = {}
    for admission in admissions:
        patient = PatientDue(admission, risk_flags=flags.get(admission.id, {}))
        seizure_until = risk.seizure_risk_until(set(patient.risk_flags), admission.admitted_at)
        for protocol in admission.protocols:
            patient.items.append(
                due.next_due(
                    protocol, history.get((admission.id, protocol), []),
                    admitted_at=admission.admitted_at, definition=definition,
                    override=overrides.get((admission.id, protocol)),
                    prn_doses=treated.get((admission.id, protocol), ()),
                    seizure_risk_until=seizure_until,
                )
            )
        patient.prn_follow_ups = follow_ups[admission.id]
        _vitals_with_severe_scales(patient, history)
        start = max(filter(None, [admission.observation_level_since, admission.admitted_at]))
        # Only this shift's windows are listed as missed; earlier shifts were handed over.
        start = max(start, shift.starts_at)
        patient.checks = due.check_schedule(admission.observation_level, check_times.get(admission.id, []),
                                            start=start, now=now, definition=definition)
        patient.last_check_id = last_checks.get(admission.id)
        patient.missed_notes = notes.get(admission.id, {})
        patient.safety = facts[admission.id]
        patient.items.extend(patient.safety.items)
        result[admission.id] = patient
    return result


def _vitals_with_severe_scales(patient: PatientDue,
                               history: dict[tuple[int, str], list[due.ScorePoint]]) -> None:
    scales = {}
    for item in patient.items:
        points = history.get((patient.admission.id, item.protocol), [])
        if item.protocol in due.SEVERE_FROM:
            # Histories are newest first.
            scales[item.protocol] = (item, points[0] if points else None)
    for index, item in enumerate(patient.items):
        if item.protocol == "vitals":
            patient.items[index] = due.with_severe_scales(item, scales)


def _checks_since(
    admissions: list[Admission | CurrentAdmission], shift: ShiftInstance
) -> tuple[dict[int, list[datetime]], dict[int, int]]:
    """Return the times of the current safety checks of this shift, plus the one just before
    it, oldest first; and the id of each admission's newest check.

    Times only, as plain rows: by the end of a shift a patient on 15-minute checks has fifty,
    and loading each as an object cost more than the rest of the board.
    """
    ids = [a.id for a in admissions]
    times: dict[int, list[datetime]] = defaultdict(list)
    newest: dict[int, int] = {}
    if not ids:
        return times, newest
    if db.session.get_bind().dialect.name == "postgresql":
        statement, params = _CHECK_TIMES_POSTGRESQL, {"admission_ids": ids}
    else:
        statement, params = _CHECK_TIMES, {"ids": ids}
    params |= {"since": shift.starts_at, "until": shift.ends_at}
    for admission_id, check_id, observed_at in db.session.execute(statement, params):
        times[admission_id].append(observed_at)
        newest[admission_id] = check_id
    return times, newest


# Built once: every board and due list runs them, and building them cost as much as running them.
# The check just before the shift comes from a subquery, in a second branch of the same statement
# (as an OR of one WHERE, PostgreSQL scanned the whole table).
_CHECK_COLUMNS = (SafetyCheck.admission_id, SafetyCheck.id, SafetyCheck.observed_at)
_CHECKS_THIS_SHIFT = select(*_CHECK_COLUMNS).where(
    SafetyCheck.admission_id.in_(bindparam("ids", expanding=True)), current_filter(SafetyCheck),
    SafetyCheck.observed_at >= bindparam("since"), SafetyCheck.observed_at < bindparam("until"),
)
_LAST_CHECK_BEFORE_SHIFT = select(*_CHECK_COLUMNS).where(SafetyCheck.id.in_(
    select(newest_id(SafetyCheck, lambda c: (c.observed_at < bindparam("since"),)))
    .where(Admission.id.in_(bindparam("ids", expanding=True)))
))
_CHECK_TIMES = union_all(_CHECKS_THIS_SHIFT, _LAST_CHECK_BEFORE_SHIFT).order_by("observed_at", "id")


def _postgresql_check_times():
    """The same rows on PostgreSQL, by a walk of each admission's checks (LATERAL).

    As one statement over all admissions, PostgreSQL checked "not superseded" by hashing every
    safety check ever made (2 ms at 13 thousand, growing with the history); per admission it
    probes the index on supersedes_id for the few rows of the shift. The shift's end bounds the
    walk (no check is charted in the future) so that PostgreSQL's generic plan, which guesses a
    third of the rows for an open-ended time, is not planned anew on every view.
    """
    wanted = unnested("admission_ids", Integer, "wanted", "id")

    def walk(name, condition, newest_only=False):
        check = aliased(SafetyCheck)
        rows = select(check.id, check.observed_at).where(
            check.admission_id == wanted.c.id, current_filter(check), condition(check))
        if newest_only:
            rows = rows.order_by(check.observed_at.desc(), check.id.desc()).limit(literal_column("1"))
        rows = rows.lateral(name)
        return select(wanted.c.id, rows.c.id, rows.c.observed_at).select_from(wanted).join(rows, true())

    def this_shift(check):
        return (check.observed_at >= bindparam("since")) & (check.observed_at < bindparam("until"))

    return union_all(
        walk("this_shift", this_shift),
        walk("before_shift", lambda c: c.observed_at < bindparam("since"), newest_only=True),
    ).order_by("observed_at", "id")


_CHECK_TIMES_POSTGRESQL = _postgresql_check_times()


_MISSED_NOTES = select(MissedCheckNote.admission_id, MissedCheckNote.due_at, MissedCheckNote.id).where(
    in_list(MissedCheckNote.admission_id, "ids"),
    MissedCheckNote.due_at >= bindparam("since"),
)


def _missed_notes(admission_ids: list[int], shift: ShiftInstance) -> dict[int, dict[datetime, int]]:
    grouped: dict[int, dict[datetime, int]] = defaultdict(dict)
    if not admission_ids:
        return grouped
    params = {"ids": list(admission_ids), "since": shift.starts_at}
    for admission_id, due_at, note_id in db.session.execute(_MISSED_NOTES, params):
        grouped[admission_id][due_at] = note_id
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


# --- Per-patient overrides and the chart's monitoring summary -----------------------------------

#: A physician's override interval, in minutes (every 5 min to once a day).
OVERRIDE_MIN_MINUTES = 5
OVERRIDE_MAX_MINUTES = 1440


class MonitoringError(Exception):
    """A refused override, with the form field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def override_history(admission: Admission) -> dict[str, list[ProtocolOverride]]:
    """Return every override row of an admission per protocol, newest first."""
    grouped: dict[str, list[ProtocolOverride]] = defaultdict(list)
    for row in db.session.scalars(
        select(ProtocolOverride)
        .where(ProtocolOverride.admission_id == admission.id)
        .options(selectinload(ProtocolOverride.set_by))
        .order_by(ProtocolOverride.id.desc())
    ):
        grouped[row.protocol].append(row)
    return grouped


def _override_snapshot(row: ProtocolOverride | None) -> dict:
    if row is None:
        return {"interval_minutes": None, "reason": None}
    return {"interval_minutes": row.interval_minutes, "reason": row.reason}


def _write_override(*, by: User, admission: Admission, protocol: str, interval_minutes: int | None,
                    reason: str, change: str) -> ProtocolOverride:
    if not by.has_role("physician"):
        raise MonitoringError("Only a physician can set or end a reassessment override.")
    if not admission.is_current:
        raise MonitoringError("This admission has ended; its monitoring can no longer be changed.")
    if protocol not in admission.protocols:
        raise MonitoringError(
            f"{due.PROTOCOL_LABELS.get(protocol, protocol)} is not a protocol of this admission.")
    reason = (reason or "").strip()
    if not reason:
        raise MonitoringError("Give the clinical reason.", "reason")
    # Lock the admission (PostgreSQL; SQLite writers already queue) so "before" is still true at commit.
    db.session.execute(select(Admission.id).where(Admission.id == admission.id).with_for_update())
    before = current_overrides([admission.id]).get((admission.id, protocol))
    if interval_minutes is None and before is None:
        raise MonitoringError("There is no override in force to end; the unit's rules already apply.")
    band = current_band(admission, protocol)
    row = ProtocolOverride(admission_id=admission.id, protocol=protocol, interval_minutes=interval_minutes,
                           reason=reason, set_by_id=by.id,
                           set_in_band=None if interval_minutes is None else band)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "update", user=by, object_type="protocol_override", object_id=row.id,
        patient_id=admission.patient_id,
        detail={"change": change, "protocol": protocol,
                "before": _override_snapshot(before), "after": _override_snapshot(row),
                "set_in_band": row.set_in_band},
        content_of=row,
    )
    return row


def newest_result(admission: Admission, protocol: str) -> due.ScorePoint | None:
    """Return the newest counted result of a protocol (None: no result yet)."""
    definition, _ = definition_for(admission.unit)
    points = histories([admission.id], recent_for([admission.id], definition)).get(
        (admission.id, protocol), [])
    return max((point for point in points if point.counts), key=lambda point: point.at, default=None)


def current_band(admission: Admission, protocol: str) -> str | None:
    """Return the band of the newest counted result of a protocol (None: no result yet)."""
    newest = newest_result(admission, protocol)
    return None if newest is None else due.band_of(protocol, newest)


def set_override(*, by: User, admission: Admission, protocol: str, interval_minutes: int,
                 reason: str) -> ProtocolOverride:
    """Record a physician's interval for one protocol of an admission, replacing the computed one."""
    if (isinstance(interval_minutes, bool) or not isinstance(interval_minutes, int)
            or not OVERRIDE_MIN_MINUTES <= interval_minutes <= OVERRIDE_MAX_MINUTES):
        raise MonitoringError(
            f"Enter a whole number of minutes from {OVERRIDE_MIN_MINUTES} to {OVERRIDE_MAX_MINUTES}.",
            "interval_minutes",
        )
    newest = newest_result(admission, protocol)
    limit = due.published_max(protocol, newest, definition_for(admission.unit)[0])
    if limit is not None and interval_minutes > limit[0]:
        total = "incomplete" if newest is None or newest.total is None else newest.total
        shown = "no result yet" if newest is None else f"newest {due.PROTOCOL_LABELS[protocol]} {total}"
        raise MonitoringError(
            f"{interval_minutes} min is longer than the published minimum frequency allows ({shown}): "
            f"{limit[1]}, so {limit[0]} min at most.", "interval_minutes")
    return _write_override(by=by, admission=admission, protocol=protocol,
                           interval_minutes=interval_minutes, reason=reason, change="set")


def end_override(*, by: User, admission: Admission, protocol: str, reason: str) -> ProtocolOverride:
    """End the override of one protocol, so the unit's rules compute the interval again."""
    return _write_override(by=by, admission=admission, protocol=protocol, interval_minutes=None,
                           reason=reason, change="end")


@dataclass(frozen=True)
class ProtocolStatus:
    """One protocol of an admission: when it is next due and the override in force, if any."""

    protocol: str
    item: due.DueItem | None
    override: ProtocolOverride | None

    @property
    def label(self) -> str:
        return due.PROTOCOL_LABELS.get(self.protocol, self.protocol)


@dataclass(frozen=True)
class MonitoringSummary:
    """What the chart card and the monitoring page show for one admission."""

    admission: Admission
    now: datetime
    protocols: list[ProtocolStatus]
    checks: due.CheckSchedule | None
    #: Version of the unit's due rules in use; None means the built-in defaults.
    rules_version: int | None

    @property
    def level_label(self) -> str:
        level = self.admission.observation_level
        return due.OBSERVATION_LEVELS.get(level, level)

    @property
    def overrides(self) -> list[ProtocolStatus]:
        return [status for status in self.protocols if status.override is not None]


def monitoring_summary(admission: Admission, now: datetime) -> MonitoringSummary:
    """Return each protocol's next due time and override, and the safety-check schedule.

    A discharged admission has nothing due: its protocols are listed with no due time.
    """
    definition, version = definition_for(admission.unit)
    overrides = current_overrides([admission.id])
    if not admission.is_current:
        statuses = [ProtocolStatus(p, None, overrides.get((admission.id, p))) for p in admission.protocols]
        return MonitoringSummary(admission, now, statuses, None, version)
    patient = due_for([admission], now=now, shift=admission.unit.shift_for(now),
                      definition=definition)[admission.id]
    by_protocol = {item.protocol: item for item in patient.items}
    statuses = [ProtocolStatus(p, by_protocol.get(p), overrides.get((admission.id, p)))
                for p in admission.protocols]
    return MonitoringSummary(admission, now, statuses, patient.checks, version)
