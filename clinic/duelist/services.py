"""What is overdue or due within the hour on a unit, across patients, in time order.

The due times come from clinic.monitoring.services.due_for (protocol reassessments and safety
checks, by the pure rules in clinic.scoring.due); this module turns them into one entry per thing
to do, with the words a nurse reads, and orders them. The unit board shows the soonest entry per
patient from the same list, so the two pages never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from clinic.models import Unit
from clinic.monitoring.queries import CurrentAdmission, Trend, current_admissions, latest_scores
from clinic.monitoring.services import PatientDue, assignments_for, definition_for, due_for, recent_for
from clinic.scoring import due
from clinic.scoring.shifts import ShiftInstance
from clinic.timefmt import local_time

#: The kind of an entry that is a safety check rather than a protocol reassessment.
SAFETY_CHECK = "safety_check"
#: The kind of an entry that is a PRN dose's effect reassessment.
PRN_EFFECT = "prn_effect"

#: Due items beside the protocols: the suicide-risk screen, thiamine, hourly attestations.
SAFETY_ITEMS = {"suicide_screen": "Suicide-risk screen", "thiamine": "Thiamine at admission",
                "attestation": "Continuous observation: hourly attestation"}
#: Long names, for the due list.
LABELS = {**due.PROTOCOL_LABELS, "vitals": "Vital signs (NEWS2)", SAFETY_CHECK: "Safety check",
          PRN_EFFECT: "PRN effect", **SAFETY_ITEMS}
#: Short names, for the board's narrow column.
SHORT_LABELS = {**due.PROTOCOL_LABELS, "vitals": "Vitals", "ketamine": "Ketamine",
                SAFETY_CHECK: "Safety check", PRN_EFFECT: "PRN effect", **SAFETY_ITEMS,
                "attestation": "Hourly attestation"}


@dataclass(frozen=True)
class DueEntry:
    """One thing to do for one patient, as of one moment: a reassessment or a safety check."""

    admission: CurrentAdmission
    #: A protocol code (clinic.scoring.due.PROTOCOLS) or SAFETY_CHECK.
    kind: str
    #: What to do and on what schedule: "CIWA-Ar — hourly while ≥8 (last 12)".
    what: str
    #: Why it is due then, from the rules.
    reason: str
    due_at: datetime
    #: due.OVERDUE, due.DUE (now or within the hour) or due.LATER.
    status: str
    overdue_minutes: int
    #: Whole minutes until due; 0 once due.
    due_in_minutes: int
    #: A safety check in its on-time window: due, and late only after this time.
    late_at: datetime | None = None
    #: The PRN dose a PRN_EFFECT entry reassesses.
    target_id: int | None = None

    @property
    def label(self) -> str:
        return SHORT_LABELS[self.kind]

    @property
    def listed(self) -> bool:
        """Return whether the due list shows it: overdue, or due within the hour."""
        return self.status in (due.OVERDUE, due.DUE)

    @property
    def words(self) -> str:
        """Say when, in words: "overdue by 45 min", "due in 20 min", "due now"."""
        if self.status == due.OVERDUE:
            return f"overdue by {duration(self.overdue_minutes)}"
        if self.due_in_minutes == 0:
            return "due now"
        return f"due in {duration(self.due_in_minutes)}"


def duration(minutes: int) -> str:
    """Return minutes as "45 min" or, from an hour, "2 h 05 min"."""
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _every(minutes: int) -> str:
    if minutes == 60:
        return "hourly"
    if minutes % 60 == 0:
        return f"every {minutes // 60} h"
    return f"every {minutes} min"


def _last_result(protocol: str, trend: Trend | None) -> str:
    latest = trend.latest if trend is not None else None
    if latest is None:
        return ""
    if protocol == "vitals":
        if latest.total is None:
            return f" (last NEWS2 incomplete, at least {latest.band})"
        return f" (last NEWS2 {latest.total})"
    if protocol == "ketamine":
        return f" (last burden {latest.total})"
    return f" (last {latest.total})"


def _what(item: due.DueItem, trend: Trend | None, definition: due.DueDefinition) -> str:
    label = LABELS[item.protocol]
    if item.protocol in SAFETY_ITEMS:
        return f"{label} — {item.reason}"
    if item.reason.startswith("first assessment"):
        return f"{label} — first assessment"
    schedule = _every(item.interval_minutes)
    if item.overridden:
        schedule += " (physician override)"
    latest = trend.latest if trend is not None else None
    threshold = definition.ciwa_ar_frequent_threshold
    if (item.protocol == "ciwa_ar" and not item.overridden and latest is not None
            and latest.total is not None and latest.total >= threshold
            and item.interval_minutes == definition.ciwa_ar_frequent_minutes):
        schedule += f" while ≥{threshold}"
    return f"{label} — {schedule}{_last_result(item.protocol, trend)}"


def _minutes_after(later: datetime, earlier: datetime) -> int:
    """Return whole minutes from earlier to later, a started minute counting as whole; 0 if none."""
    return max(0, math.ceil((later - earlier) / timedelta(minutes=1)))


def _minutes_until(at: datetime, now: datetime) -> int:
    """Return whole minutes left until a time ("due in 4 min" at 4 min 50 s); 0 once it has come."""
    return max(0, (at - now) // timedelta(minutes=1))


def _item_entry(patient: PatientDue, item: due.DueItem, *, now: datetime, trend: Trend | None,
                definition: due.DueDefinition) -> DueEntry:
    return DueEntry(
        admission=patient.admission, kind=item.protocol, what=_what(item, trend, definition),
        reason=item.reason, due_at=item.due_at, status=item.status(now),
        overdue_minutes=item.overdue_minutes(now),
        due_in_minutes=_minutes_until(item.due_at, now),
    )


def _check_entry(patient: PatientDue, *, now: datetime, zone: ZoneInfo) -> DueEntry | None:
    """Return the next safety check as an entry; None at a continuous level (no scheduled checks)."""
    schedule = patient.checks
    if schedule is None or schedule.next_due is None:
        return None
    state = schedule.status(now)
    if state == due.OVERDUE:
        status, overdue_by = due.OVERDUE, _minutes_after(now, schedule.next_due)
    elif state == due.DUE:
        status, overdue_by = due.DUE, 0
    else:
        soon = schedule.next_due - now <= timedelta(minutes=due.DUE_SOON_MINUTES)
        status, overdue_by = (due.DUE if soon else due.LATER), 0
    if schedule.last_check is not None:
        reason = f"Last check {local_time(schedule.last_check, zone, date=False)}"
    else:
        reason = "No check yet since the level or shift began"
    if state == due.DUE:
        reason += f"; late after {local_time(schedule.late_at, zone, date=False)}"
    missed = len(schedule.missed)
    if missed:
        reason += f"; {missed} {'check' if missed == 1 else 'checks'} missed this shift"
    return DueEntry(
        admission=patient.admission, kind=SAFETY_CHECK,
        what=f"Safety check — {due.OBSERVATION_LEVELS.get(schedule.level, schedule.level)}",
        reason=reason, due_at=schedule.next_due, status=status, overdue_minutes=overdue_by,
        due_in_minutes=_minutes_until(schedule.next_due, now),
        late_at=schedule.late_at,
    )


def _bed_order(admission: CurrentAdmission) -> tuple:
    return (admission.bed.sort_key, admission.bed.label, admission.id)


def time_order(entries: list[DueEntry], *, one_patient: bool = False) -> list[DueEntry]:
    """Return overdue entries first (most overdue at the top), then the rest by due time.

    Entries due at the same time go in bed order, unless they are all `one_patient`'s.
    """
    def key(e: DueEntry) -> tuple:
        bed = () if one_patient else _bed_order(e.admission)
        return (0 if e.status == due.OVERDUE else 1, -e.overdue_minutes, e.due_at, *bed, e.kind)

    return sorted(entries, key=key)


def patient_entries(patient: PatientDue, *, now: datetime, scores: dict[str, Trend],
                    definition: due.DueDefinition, zone: ZoneInfo) -> list[DueEntry]:
    """Return every protocol reassessment and the next safety check of one patient, in time order."""
    entries = [
        _item_entry(patient, item, now=now, trend=scores.get("news2" if item.protocol == "vitals"
                                                              else item.protocol),
                    definition=definition)
        for item in patient.items
    ]
    check = _check_entry(patient, now=now, zone=zone)
    if check is not None:
        entries.append(check)
    entries += [_prn_entry(patient, dose, now=now, zone=zone) for dose in patient.prn_follow_ups]
    return time_order(entries, one_patient=True)


def _prn_entry(patient: PatientDue, dose, *, now: datetime, zone: ZoneInfo) -> DueEntry:
    """Return a PRN dose's effect reassessment as an entry, its override or breach said in words."""
    amount = "" if dose.dose is None else format(dose.dose.normalize(), "f")
    marks = "".join([" — OVERRIDE" if dose.is_override else "", " — LIMIT BREACH" if dose.is_breach else ""])
    item = due.DueItem(PRN_EFFECT, dose.effect_due_at, 0, "", False)
    return DueEntry(
        admission=patient.admission, kind=PRN_EFFECT,
        what=f"PRN effect — {dose.drug} {amount} {dose.dose_unit}{marks}",
        reason=f"Given {local_time(dose.given_at, zone, date=False)} by {dose.given_by} ({dose.route}): "
               "reassess its effect",
        due_at=dose.effect_due_at, status=item.status(now), overdue_minutes=item.overdue_minutes(now),
        due_in_minutes=_minutes_until(dose.effect_due_at, now), target_id=dose.id,
    )


@dataclass(frozen=True)
class BedDue:
    """A patient's due entries as the board shows them, worked out once in Python."""

    #: Every entry, in time order (patient_entries).
    entries: list[DueEntry]
    #: The soonest, shown in the "next due" column.
    next: DueEntry | None
    #: How many more are due within the hour.
    more: int
    #: The next safety check, if the patient has scheduled checks.
    check: DueEntry | None

    @classmethod
    def of(cls, entries: list[DueEntry]) -> BedDue:
        return cls(
            entries, entries[0] if entries else None, sum(1 for e in entries[1:] if e.listed),
            next((e for e in entries if e.kind == SAFETY_CHECK), None),
        )


@dataclass
class DueList:
    """A unit's due list as of one moment."""

    unit: Unit
    now: datetime
    shift: ShiftInstance
    #: The admissions looked at (all current ones, or only the user's under "my patients").
    admissions: list[CurrentAdmission]
    entries: list[DueEntry]
    #: Under "my patients": how many beds are assigned to the user this shift; else None.
    assigned_beds: int | None = None

    @property
    def overdue(self) -> list[DueEntry]:
        return [e for e in self.entries if e.status == due.OVERDUE]

    @property
    def due_soon(self) -> list[DueEntry]:
        return [e for e in self.entries if e.status == due.DUE]

    @property
    def patient_ids(self) -> list[int]:
        """Return the patients shown, each once, in list order (for the audit event)."""
        return list(dict.fromkeys(e.admission.patient_id for e in self.entries))


def mine_only(admissions: list[CurrentAdmission], unit: Unit, shift: ShiftInstance,
              user_id: int) -> tuple[list[CurrentAdmission], int]:
    """Return the admissions in beds assigned to the user this shift, and how many beds that is."""
    beds = {bed_id for bed_id, row in assignments_for(unit, shift).items() if row.nurse_id == user_id}
    return [a for a in admissions if a.bed_id in beds], len(beds)


def unit_due_list(unit: Unit, *, now: datetime, mine_of: int | None = None) -> DueList:
    """Return what is overdue or due within the hour on a unit, in a fixed number of queries.

    With ``mine_of`` (a user id), only the patients in beds assigned to that user this shift.
    """
    shift = unit.shift_for(now)
    admissions = current_admissions(unit.id)
    assigned = None
    if mine_of is not None:
        admissions, assigned = mine_only(admissions, unit, shift, mine_of)
    definition, _version = definition_for(unit)
    ids = [a.id for a in admissions]
    recent = recent_for(ids, definition)
    patients = due_for(admissions, now=now, shift=shift, definition=definition, recent=recent)
    scores = latest_scores(ids, recent)
    entries = [
        entry
        for admission in admissions
        for entry in patient_entries(patients[admission.id], now=now, scores=scores[admission.id],
                                     definition=definition, zone=unit.zone)
        if entry.listed
    ]
    return DueList(unit, now, shift, admissions, time_order(entries), assigned)
