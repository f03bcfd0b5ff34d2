"""Record observation rounds, annotate missed checks, change observation levels, and read them back.

A round saves one safety check per patient it touches, all in one transaction under one round
key, so a round is saved whole or not at all and a resubmitted round never charts twice. The
lateness, missed-window and back-filling rules are the pure ones in clinic.scoring.due; this
module only loads what they need, in a fixed number of queries per page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from clinic import audit
from clinic import entries as charting
from clinic.db import utc_now
from clinic.entries import ChartingError, current_filter
from clinic.extensions import db
from clinic.models import (
    Admission,
    Bed,
    EntryRetraction,
    MissedCheckNote,
    ObservationLevelChange,
    SafetyCheck,
    Unit,
    User,
)
from clinic.models.monitoring import SAFETY_ACTIVITIES, SAFETY_LOCATIONS
from clinic.models.patient import ADMITTED
from clinic.monitoring.services import PatientDue, definition_for, due_for
from clinic.scoring import due
from clinic.scoring.shifts import ShiftInstance

#: A check time more than this many minutes before the time of entry is back-dated: it needs a reason.
BACKDATE_MINUTES = 5
#: The level an admission starts on when no change was recorded before a period (the model default).
INITIAL_LEVEL = "general"


def row_field(admission_id: int, name: str | None = None) -> str:
    """Return the form name of a round row's field (or of the row itself) for ChartingError.field."""
    return f"p{admission_id}-{name}" if name else f"p{admission_id}"


def is_continuous(level: str, definition: due.DueDefinition) -> bool:
    return definition.observation_minutes.get(level, 0) == 0


# --- recording -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundEntry:
    """One patient's check in a round, as tapped."""

    admission: Admission
    location: str | None
    activity: str | None
    concern: str | None = None


def round_checks(round_key: str) -> list[SafetyCheck]:
    """Return the checks already saved under a round key (empty if the round is new)."""
    return list(db.session.scalars(
        select(SafetyCheck).where(SafetyCheck.round_key == round_key).order_by(SafetyCheck.id)
    ))


def record_round(*, by: User, unit: Unit, entries: list[RoundEntry], checked_at: datetime,
                 backdate_reason: str | None, round_key: str) -> list[SafetyCheck]:
    """Save every check of a round at one time, or none of them; return the checks of the round.

    A round key already used returns that round's checks and saves nothing.
    """
    if not round_key or len(round_key) > 40:
        raise ChartingError("This round form is damaged; reload the page and chart again.")
    already = round_checks(round_key)
    if already:
        return already
    if checked_at.tzinfo is None:
        raise ValueError("checked_at must be aware")
    if not entries:
        raise ChartingError("Nothing to save: for each patient checked, tap where they were and "
                            "what they were doing.")
    now = utc_now()
    if checked_at > now:
        raise ChartingError("The check time cannot be in the future.", "checked_at")
    reason = (backdate_reason or "").strip() or None
    backdated = now - checked_at > timedelta(minutes=BACKDATE_MINUTES)
    if backdated and reason is None:
        minutes = int((now - checked_at).total_seconds() // 60)
        raise ChartingError(
            f"The check time is {minutes} minutes ago. A check charted more than {BACKDATE_MINUTES} "
            "minutes after it was made needs the reason it is back-dated.", "backdate_reason")
    seen: set[int] = set()
    for entry in entries:
        _check_entry(entry, unit, checked_at, seen)

    recent = _recorded_since({e.admission.id for e in entries}, now - timedelta(minutes=1))
    checks = []
    for entry in entries:
        admission = entry.admission
        check = SafetyCheck(
            observed_at=checked_at, location=entry.location, activity=entry.activity,
            concern=(entry.concern or "").strip() or None,
            backdate_reason=reason if backdated else None, round_key=round_key,
        )
        charting.stamp(check, by=by, admission=admission, idempotency_key=f"{round_key}:{admission.id}",
                       supersedes=None, reason=None)
        db.session.add(check)
        checks.append(check)
    db.session.flush()
    for check in checks:
        audit.record(
            "create", user=by, object_type=SafetyCheck.kind, object_id=check.id,
            patient_id=check.admission.patient_id, clinical_at=check.observed_at,
            detail={"after": _snapshot(check),
                    "possible_backfill": check.admission_id in recent},
            content_of=check,
        )
    return checks


def _check_entry(entry: RoundEntry, unit: Unit, checked_at: datetime, seen: set[int]) -> None:
    admission = entry.admission
    who = f"Bed {admission.bed.label} ({admission.patient.display_name})"
    if admission.id in seen:
        raise ChartingError(f"{who} appears twice in this round.", row_field(admission.id))
    seen.add(admission.id)
    if admission.unit_id != unit.id or not admission.is_current:
        raise ChartingError(f"{who} is no longer on {unit.name}; nothing in this round was saved. "
                            "Reload the rounds page.", row_field(admission.id))
    if entry.location not in SAFETY_LOCATIONS:
        raise ChartingError("Tap where the patient was.", row_field(admission.id, "location"))
    if entry.activity not in SAFETY_ACTIVITIES:
        raise ChartingError("Tap what the patient was doing.", row_field(admission.id, "activity"))
    try:
        charting.check_clinical_time(checked_at, admission, field=row_field(admission.id))
    except ChartingError as error:
        raise ChartingError(f"{who}: {error}", error.field) from None


def _recorded_since(admission_ids: set[int], since: datetime) -> set[int]:
    """Return which admissions already have a check recorded since a time (back-filling)."""
    return set(db.session.scalars(
        select(SafetyCheck.admission_id).where(
            SafetyCheck.admission_id.in_(admission_ids), SafetyCheck.recorded_at >= since)
    ))


def _snapshot(check: SafetyCheck) -> dict:
    return {
        "observed_at": check.observed_at.isoformat(), "location": check.location,
        "activity": check.activity, "concern": check.concern,
        "backdate_reason": check.backdate_reason, "round_key": check.round_key, "late": check.is_late,
    }


# --- missed checks and observation levels ---------------------------------------------------------


def annotate_missed(*, by: User, admission: Admission, due_at: datetime, reason: str) -> MissedCheckNote:
    """Record why a missed check was missed; the window stays shown as missed."""
    charting.check_can_chart(admission)
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError("Give the reason the check was missed.", "reason")
    if due_at.tzinfo is None:
        raise ChartingError("This missed check could not be identified; reload the page.", "due_at")
    due_at = due_at.astimezone(UTC)
    when = due_at.astimezone(admission.unit.zone).strftime("%H:%M")
    if not any(window.due_at == due_at for window in missed_windows(admission, now=utc_now())):
        raise ChartingError(f"There is no missed check due at {when} for this patient.", "due_at")
    existing = db.session.scalar(select(MissedCheckNote).where(
        MissedCheckNote.admission_id == admission.id, MissedCheckNote.due_at == due_at))
    if existing is not None:
        raise ChartingError(
            f"A note has already been recorded for the check due at {when} "
            f"(by {existing.recorded_by.display_name}); it cannot be replaced.", "reason")
    note = MissedCheckNote(admission_id=admission.id, due_at=due_at, reason=reason, recorded_by=by)
    db.session.add(note)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="missed_check_note", object_id=note.id,
        patient_id=admission.patient_id, clinical_at=due_at,
        detail={"after": {"due_at": due_at.isoformat(), "reason": reason}}, content_of=note,
    )
    return note


def change_observation_level(*, by: User, admission: Admission, level: str, reason: str
                             ) -> ObservationLevelChange:
    """Put a patient on another observation level from now, with the reason."""
    charting.check_can_chart(admission)
    if level not in due.OBSERVATION_LEVELS:
        raise ChartingError("Choose an observation level.", "level")
    if level == admission.observation_level:
        raise ChartingError(
            f"The patient is already on “{due.OBSERVATION_LEVELS[level]}”.", "level")
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError("Give the reason for the change of observation level.", "reason")
    now = utc_now()
    before = {"observation_level": admission.observation_level,
              "observation_level_since": _iso(admission.observation_level_since)}
    change = ObservationLevelChange(admission_id=admission.id, level=level, reason=reason,
                                    changed_by=by, changed_at=now)
    admission.observation_level = level
    admission.observation_level_since = now
    db.session.add(change)
    db.session.flush()
    audit.record(
        "update", user=by, object_type="admission", object_id=admission.id,
        patient_id=admission.patient_id, clinical_at=now,
        detail={"change": "observation level", "reason": reason, "before": before,
                "after": {"observation_level": level, "observation_level_since": now.isoformat()}},
        content_of=change,
    )
    return change


def level_changes(admission: Admission) -> list[ObservationLevelChange]:
    """Return the admission's observation-level changes, newest first."""
    return list(db.session.scalars(
        select(ObservationLevelChange).options(joinedload(ObservationLevelChange.changed_by))
        .where(ObservationLevelChange.admission_id == admission.id)
        .order_by(ObservationLevelChange.changed_at.desc(), ObservationLevelChange.id.desc())
    ))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- the rounds page ------------------------------------------------------------------------------


@dataclass
class RoundRow:
    """One patient on the rounds page."""

    admission: Admission
    due: PatientDue
    #: Current checks observed or recorded this shift, oldest first.
    checks: list[SafetyCheck] = field(default_factory=list)
    #: Ids of those checks recorded less than a minute from another of the patient's checks.
    backfill_ids: set[int] = field(default_factory=set)
    #: The newest current check, perhaps from before the shift.
    last_check: SafetyCheck | None = None
    #: The notes on this shift's missed windows, by the window's due time.
    notes: dict[datetime, MissedCheckNote] = field(default_factory=dict)

    @property
    def schedule(self) -> due.CheckSchedule:
        return self.due.checks

    @property
    def backfilled(self) -> list[SafetyCheck]:
        return [c for c in self.checks if c.id in self.backfill_ids]


def current_admissions(unit: Unit) -> list[Admission]:
    """Return the unit's current admissions in bed order, with patient and bed (one query)."""
    return list(db.session.scalars(
        select(Admission).join(Admission.bed)
        .where(Admission.unit_id == unit.id, Admission.status == ADMITTED)
        .options(joinedload(Admission.patient), joinedload(Admission.bed))
        .order_by(Bed.sort_key, Bed.label)
    ))


def round_rows(unit: Unit, *, now: datetime, shift: ShiftInstance
               ) -> tuple[list[RoundRow], due.DueDefinition]:
    """Return a row per current admission with its schedule, checks and flags; fixed query count."""
    admissions = current_admissions(unit)
    definition, _version = definition_for(unit)
    dues = due_for(admissions, now=now, shift=shift, definition=definition)
    checks = _shift_checks([a.id for a in admissions], shift)
    last_ids = [d.last_check_id for d in dues.values() if d.last_check_id is not None]
    last_checks = {c.id: c for c in db.session.scalars(
        select(SafetyCheck).where(SafetyCheck.id.in_(last_ids)))} if last_ids else {}
    note_ids = [i for d in dues.values() for i in d.missed_notes.values()]
    notes = {n.id: n for n in db.session.scalars(
        select(MissedCheckNote).where(MissedCheckNote.id.in_(note_ids)))} if note_ids else {}
    rows = []
    for admission in admissions:
        mine = checks.get(admission.id, [])
        flagged = due.possible_backfill([c.recorded_at for c in mine])
        patient = dues[admission.id]
        rows.append(RoundRow(admission, patient, mine, {mine[i].id for i in flagged},
                             last_checks.get(patient.last_check_id),
                             {at: notes[i] for at, i in patient.missed_notes.items()}))
    _attach_authors(list(last_checks.values()) + list(notes.values()))
    return rows, definition


def _shift_checks(admission_ids: list[int], shift: ShiftInstance) -> dict[int, list[SafetyCheck]]:
    grouped: dict[int, list[SafetyCheck]] = defaultdict(list)
    if not admission_ids:
        return grouped
    for check in db.session.scalars(
        select(SafetyCheck).options(joinedload(SafetyCheck.recorded_by))
        .where(SafetyCheck.admission_id.in_(admission_ids), current_filter(SafetyCheck),
               or_(SafetyCheck.observed_at >= shift.starts_at, SafetyCheck.recorded_at >= shift.starts_at))
        .order_by(SafetyCheck.observed_at, SafetyCheck.id)
    ):
        grouped[check.admission_id].append(check)
    return grouped


def _attach_authors(records: list) -> None:
    """Load the authors of these checks and notes in one query and attach them to each record."""
    wanted = {r.recorded_by_id for r in records}
    if not wanted:
        return
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    for record in records:
        # Set as loaded, not as a change: the identity map alone holds users only weakly.
        set_committed_value(record, "recorded_by", users.get(record.recorded_by_id))


# --- history --------------------------------------------------------------------------------------


@dataclass
class CheckLine:
    """A check in the history, with its lateness against the previous current check."""

    kind: ClassVar[str] = "check"
    check: SafetyCheck
    level: str
    previous_at: datetime | None = None
    interval_minutes: int = 0
    late: bool = False
    backfill: bool = False
    retracted: EntryRetraction | None = None
    superseded: bool = False

    @property
    def at(self) -> datetime:
        return self.check.observed_at

    @property
    def current(self) -> bool:
        return self.retracted is None and not self.superseded

    @property
    def minutes_after_previous(self) -> int | None:
        if self.previous_at is None:
            return None
        return int((self.check.observed_at - self.previous_at).total_seconds() // 60)


@dataclass
class MissedLine:
    """A missed window in the history, with its note if one was recorded."""

    kind: ClassVar[str] = "missed"
    window: due.CheckWindow
    note: MissedCheckNote | None

    @property
    def at(self) -> datetime:
        return self.window.due_at


@dataclass
class History:
    admission: Admission
    lines: list[CheckLine | MissedLine]
    definition: due.DueDefinition
    shift: ShiftInstance
    whole_stay: bool


def level_periods(admission: Admission, changes: list[ObservationLevelChange]
                  ) -> list[tuple[datetime, str]]:
    """Return (from, level) for each observation-level period of the stay, oldest first."""
    ordered = sorted(changes, key=lambda c: (c.changed_at, c.id))
    periods = [(admission.admitted_at, INITIAL_LEVEL)]
    periods += [(c.changed_at, c.level) for c in ordered]
    # The admission holds the level in force and when it began; it has the last word.
    since = admission.observation_level_since or admission.admitted_at
    periods = [p for p in periods if p[0] < since] + [(since, admission.observation_level)]
    return periods


def level_at(periods: list[tuple[datetime, str]], at: datetime) -> str:
    level = periods[0][1]
    for start, name in periods:
        if start <= at:
            level = name
    return level


def _stay_windows(admission: Admission, times: list[datetime], periods: list[tuple[datetime, str]],
                  definition: due.DueDefinition, now: datetime) -> list[due.CheckWindow]:
    """Return the missed windows of the stay, shift by shift, as the rounds page showed them."""
    end = min(filter(None, [now, admission.discharged_at]))
    bounds = [(max(start, admission.admitted_at), level) for start, level in periods]
    windows: list[due.CheckWindow] = []
    at = admission.admitted_at
    while at < end:
        shift = admission.unit.shift_for(at)
        stop = min(shift.ends_at, end)
        for i, (start, level) in enumerate(bounds):
            until = bounds[i + 1][0] if i + 1 < len(bounds) else end
            begin, finish = max(start, shift.starts_at, at), min(until, stop)
            if begin < finish:
                windows += due.check_schedule(level, times, start=begin, now=finish,
                                              definition=definition).missed
        at = stop
    return windows


def missed_windows(admission: Admission, *, now: datetime) -> list[due.CheckWindow]:
    """Return every missed check window of the stay (used to check an annotation's window)."""
    checks = _admission_checks(admission)
    current = [c for c in checks if c.id in _current_ids(checks)]
    definition, _version = definition_for(admission.unit)
    periods = level_periods(admission, level_changes(admission))
    return _stay_windows(admission, [c.observed_at for c in current], periods, definition, now)


def _admission_checks(admission: Admission) -> list[SafetyCheck]:
    """Return every check of the admission, current or not, oldest first."""
    return list(db.session.scalars(
        select(SafetyCheck).options(joinedload(SafetyCheck.recorded_by))
        .where(SafetyCheck.admission_id == admission.id)
        .order_by(SafetyCheck.observed_at, SafetyCheck.id)
    ))


def _current_ids(checks: list[SafetyCheck]) -> set[int]:
    ids = {c.id for c in checks}
    superseded = {c.supersedes_id for c in checks if c.supersedes_id}
    retracted = _retractions(list(ids))
    return ids - superseded - set(retracted)


def _retractions(ids: list[int]) -> dict[int, EntryRetraction]:
    if not ids:
        return {}
    return {r.entry_id: r for r in db.session.scalars(
        select(EntryRetraction).options(joinedload(EntryRetraction.retracted_by))
        .where(EntryRetraction.entry_kind == SafetyCheck.kind, EntryRetraction.entry_id.in_(ids))
    )}


def check_history(admission: Admission, *, now: datetime, whole_stay: bool) -> History:
    """Return the admission's checks and missed windows, newest first, this shift or the whole stay."""
    shift = admission.unit.shift_for(now)
    definition, _version = definition_for(admission.unit)
    checks = _admission_checks(admission)
    retractions = _retractions([c.id for c in checks])
    superseded = {c.supersedes_id for c in checks if c.supersedes_id}
    periods = level_periods(admission, level_changes(admission))

    lines: list[CheckLine | MissedLine] = []
    current = [c for c in checks if c.id not in superseded and c.id not in retractions]
    flagged = {current[i].id for i in due.possible_backfill([c.recorded_at for c in current])}
    previous: datetime | None = None
    by_id: dict[int, CheckLine] = {}
    for check in current:
        level = level_at(periods, check.observed_at)
        minutes = definition.observation_minutes.get(level, 0)
        line = CheckLine(check, level, previous, minutes, backfill=check.id in flagged)
        if previous is not None and minutes:
            line.late = due.late(check.observed_at, previous, minutes, factor=definition.on_time_factor)
        by_id[check.id] = line
        previous = check.observed_at
    for check in checks:
        line = by_id.get(check.id) or CheckLine(check, level_at(periods, check.observed_at))
        line.retracted = retractions.get(check.id)
        line.superseded = check.id in superseded
        lines.append(line)

    notes = {n.due_at: n for n in db.session.scalars(
        select(MissedCheckNote).options(joinedload(MissedCheckNote.recorded_by))
        .where(MissedCheckNote.admission_id == admission.id))}
    windows = _stay_windows(admission, [c.observed_at for c in current], periods, definition, now)
    lines += [MissedLine(w, notes.get(w.due_at)) for w in windows]
    if not whole_stay:
        lines = [line for line in lines if line.at >= shift.starts_at
                 or (isinstance(line, CheckLine) and line.check.recorded_at >= shift.starts_at)]
    lines.sort(key=lambda line: (line.at, isinstance(line, CheckLine)), reverse=True)
    return History(admission, lines, definition, shift, whole_stay)
