"""Assemble one unit's (or one patient's) shift handover as plain data, for the page and the PDF.

Both the HTML view and clinic.reports.handover_pdf draw the same `Handover`, so they cannot
disagree. Gaps come from the due list's own rules (clinic.duelist.services.patient_entries and
the safety-check schedule of clinic.monitoring.services.due_for): what they find overdue is a
gap, and "none" is said only when they found nothing. Every query covers the whole unit at once
and is bounded by the shift, so their number does not grow with the beds or the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, null, or_, select, true, type_coerce, union_all
from sqlalchemy.orm import aliased

from clinic.assessments.services import SCREEN
from clinic.db import in_list, plain_rows
from clinic.duelist.services import PRN_EFFECT, SAFETY_CHECK, SAFETY_ITEMS, patient_entries
from clinic.entries import current_filter
from clinic.extensions import db
from clinic.handover import prn as prn_source
from clinic.handover.lines import Line
from clinic.models import (
    Admission,
    Assessment,
    Bed,
    BedMove,
    Escalation,
    EscalationUpdate,
    HandoverItem,
    HandoverSetting,
    NursingNote,
    Patient,
    SafetyCheck,
    Unit,
    User,
    VitalSigns,
)
from clinic.models.charting import from_tenths
from clinic.models.monitoring import SAFETY_ACTIVITIES
from clinic.models.patient import PROTOCOL_SHORT
from clinic.monitoring.queries import CurrentAdmission, current_admissions, latest_scores, unnested
from clinic.monitoring.services import definition_for, due_for, recent_for
from clinic.safety.cells import since_use_text
from clinic.scoring import due, severity
from clinic.scoring.shifts import ShiftInstance

#: A shift chosen in its first hour hands over the one that just ended.
HANDOVER_WINDOW = timedelta(minutes=60)
DEFAULT_PAPER = "A4"
SCALE_LABELS = {"ciwa_ar": "CIWA-Ar", "cows": "COWS", "ciwa_b": "CIWA-B", "ketamine": "Ketamine checklist"}


@dataclass(frozen=True)
class Action:
    """A to-do or contingency added by the outgoing nurse."""

    id: int
    kind: str
    text: str
    owner: str | None
    due_at: datetime | None
    by: str
    at: datetime


@dataclass
class PatientHandover:
    """One patient's I-PASS block."""

    admission_id: int
    patient_id: int
    bed: str
    name: str
    mrn: str
    age: int
    sex: str
    allergies: str
    substances: list[str]
    detox_day: int
    #: Hours since last use of the primary substance and of each with an active scale, in words.
    since_use: str
    protocols: list[str]
    observation_level: str
    attending: str | None
    risk_flags: list[str]
    suggested: severity.Severity
    #: The nurse's adjustment (level, reason, by), if any; the suggestion stays shown.
    adjusted: tuple[str, str, str] | None
    vitals: list[Line]
    scales: list[Line]
    prn: list[Line]
    prn_next: list[Line]
    safety: list[Line]
    escalations: list[Line]
    notes: list[Line]
    gaps: list[Line]
    next_due: list[Line]
    actions: list[Action] = field(default_factory=list)
    contingencies: list[Action] = field(default_factory=list)
    prn_available: bool = True

    @property
    def level(self) -> str:
        return self.adjusted[0] if self.adjusted else self.suggested.level

    @property
    def level_label(self) -> str:
        return severity.LEVELS[self.level]


@dataclass
class Census:
    current: int
    admitted: list[str]
    discharged: list[str]
    transferred: list[str]
    by_severity: dict[str, int]


@dataclass
class Handover:
    """A unit's (or one patient's) handover for one shift, as of one moment."""

    unit_id: int
    unit_name: str
    zone: ZoneInfo
    shift: ShiftInstance
    #: The moment the due rules were applied: now, or the shift's end for a past shift.
    as_of: datetime
    paper_size: str
    patients: list[PatientHandover]
    census: Census | None
    #: Every overdue item on the unit, for the first page: (bed, name, gap line).
    overdue: list[tuple[str, str, Line]]
    single_patient: bool = False

    def time(self, value: datetime | None, *, day: bool = False) -> str:
        """Return a time in the unit's zone: "03:10", or with the day for times outside the shift."""
        if value is None:
            return "—"
        local = value.astimezone(self.zone)
        if day or not (self.shift.starts_at - timedelta(hours=12) <= value < self.shift.ends_at):
            return local.strftime("%d %b %H:%M")
        return local.strftime("%H:%M")

    @property
    def shift_label(self) -> str:
        start = self.shift.starts_at.astimezone(self.zone)
        end = self.shift.ends_at.astimezone(self.zone)
        return (f"{self.shift.name} shift {start:%a %d %b %Y} {start:%H:%M}–{end:%H:%M} "
                f"{end.strftime('%Z')}")

    @property
    def patient_ids(self) -> list[int]:
        return [p.patient_id for p in self.patients]

    @property
    def admission_ids(self) -> list[int]:
        return [p.admission_id for p in self.patients]


def choose_shift(unit: Unit, now: datetime, which: str | None = None) -> ShiftInstance:
    """Return the shift to hand over: "current", "previous", an ISO time, or by default the one
    ending now (in the first hour of a shift) else the current one.

    Raises ValueError for a time that is not ISO 8601 or is in the future.
    """
    current = unit.shift_for(now)
    previous = unit.shift_for(current.starts_at - timedelta(seconds=1))
    if which in (None, ""):
        return previous if now - current.starts_at < HANDOVER_WINDOW else current
    if which == "current":
        return current
    if which == "previous":
        return previous
    at = datetime.fromisoformat(which)
    if at.tzinfo is None:
        at = at.replace(tzinfo=unit.zone)
    if at > now:
        raise ValueError("A shift in the future has nothing to hand over.")
    return unit.shift_for(at)


_PAPER = (select(HandoverSetting.paper_size).where(HandoverSetting.unit_id == bindparam("unit_id"))
          .order_by(HandoverSetting.id.desc()).limit(1))


def paper_size(unit: Unit) -> str:
    """Return the unit's paper size for handovers (newest setting; A4 by default)."""
    return db.session.scalar(_PAPER, {"unit_id": unit.id}) or DEFAULT_PAPER


def _admissions_for(unit: Unit, admission_id: int | None) -> list[CurrentAdmission]:
    admissions = current_admissions(unit.id)
    if admission_id is not None:
        admissions = [a for a in admissions if a.id == admission_id]
    return admissions


def assemble(unit: Unit, *, now: datetime, shift: ShiftInstance,
             admission_id: int | None = None) -> Handover:
    """Return the handover of `unit` for `shift` (or of one current admission), as of now."""
    as_of = min(now, shift.ends_at)
    admissions = _admissions_for(unit, admission_id)
    ids = [a.id for a in admissions]
    zone = unit.zone
    definition, _version = definition_for(unit)
    recent = recent_for(ids, definition)
    doses = prn_source.doses(ids, start=shift.starts_at, end=as_of)
    patients_due = due_for(admissions, now=as_of, shift=shift, definition=definition, recent=recent,
                           prn_doses=doses)
    scores = latest_scores(ids, recent)
    window = {"ids": ids, "since": shift.starts_at, "until": as_of}
    attending, latest_vitals = _attending_and_vitals(recent, ids)
    scales = _shift_rows(_SCALES_THIS_SHIFT, window) if ids else {}
    checks = _shift_rows(_CHECKS_THIS_SHIFT, window) if ids else {}
    notes = _shift_rows(_NOTES_THIS_SHIFT, window) if ids else {}
    escalations, updates = _escalations(window) if ids else ({}, {})
    items = _items(unit, shift, ids)
    prn = prn_source.for_handover(ids, doses, start=shift.starts_at, end=as_of, zone=zone)
    handover = Handover(unit.id, unit.name, zone, shift, as_of, paper_size(unit), [], None, [],
                        single_patient=admission_id is not None)
    for admission in admissions:
        patient_due = patients_due[admission.id]
        trends = scores[admission.id]
        entries = patient_entries(patient_due, now=as_of, scores=trends, definition=definition, zone=zone)
        block = _patient_block(
            handover, admission, as_of=as_of, trends=trends, entries=entries, checks=patient_due.checks,
            missed_notes=patient_due.missed_notes, latest=latest_vitals.get(admission.id),
            scales=scales.get(admission.id, []), safety=checks.get(admission.id, []),
            notes=notes.get(admission.id, []), escalations=escalations.get(admission.id, []),
            updates=updates, items=items.get(admission.id, []), attending=attending.get(admission.id),
            prn=prn.get(admission.id),
        )
        block.prn_available = prn_source.AVAILABLE
        handover.patients.append(block)
        handover.overdue.extend((block.bed, block.name, gap) for gap in block.gaps)
    if admission_id is None:
        handover.census = _census(unit, shift, as_of, handover.patients)
    return handover


# --- queries: each covers every admission of the unit, bounded by the shift ------------------------

def _read(statement, params: dict) -> list[tuple]:
    """Return the rows of one of this module's reads, run on the session's connection.

    A handover is assembled before its request writes anything, so there is nothing for the
    session to flush first; past the ORM layer each read cost a quarter to a third less. The
    rows are named tuples (clinic.db.plain_rows): their columns are read by name many times.
    """
    return plain_rows(db.session.connection().execute(statement, params))


# Per admission, its attending physician and the values its newest complete vitals set shows
# (the set recent_for found), in one statement.
_PEOPLE_AND_VITALS = (
    select(Admission.id.label("admission_id"), User.display_name.label("attending"),
           VitalSigns.observed_at, VitalSigns.is_late, VitalSigns.respiratory_rate, VitalSigns.spo2,
           VitalSigns.on_oxygen, VitalSigns.systolic_bp, VitalSigns.diastolic_bp, VitalSigns.heart_rate,
           VitalSigns.temperature_tenths, VitalSigns.consciousness)
    .outerjoin(User, User.id == Admission.attending_physician_id)
    .outerjoin(VitalSigns, (VitalSigns.admission_id == Admission.id) & in_list(VitalSigns.id, "vitals_ids"))
    .where(in_list(Admission.id, "ids"))
)


def _attending_and_vitals(recent, ids: list[int]) -> tuple[dict[int, str], dict[int, tuple]]:
    """Return each admission's attending physician's name and its newest complete vitals set."""
    attending: dict[int, str] = {}
    vitals: dict[int, tuple] = {}
    if not ids:
        return attending, vitals
    wanted = [row.id for aid in ids if (row := recent.entry(aid, ("news2", 0))) is not None]
    for row in _read(_PEOPLE_AND_VITALS, {"ids": ids, "vitals_ids": wanted}):
        if row.attending is not None:
            attending[row.admission_id] = row.attending
        if row.observed_at is not None:
            vitals[row.admission_id] = row
    return attending, vitals


def _this_shift(model, *names: str, author: bool = False) -> dict[str, object]:
    """Return, per database, the statement reading the shift's current rows of `model` for the
    admissions "ids" (oldest first), with the columns `names` and, with `author`, who recorded
    them ("display_name").

    On PostgreSQL each admission's rows come from a walk of its (admission_id, observed_at)
    index (LATERAL): as one statement over all admissions, PostgreSQL checked "not superseded"
    by hashing every row the table ever held (2.7 ms of a handover at 13 thousand safety
    checks, growing with the history), where per admission it probes the index on
    supersedes_id for the shift's few rows. SQLite probes that index either way.
    """
    def rows(m, *where):
        statement = select(m.admission_id, m.observed_at, m.id, *(getattr(m, name) for name in names))
        if author:
            statement = statement.add_columns(User.display_name).join(User, User.id == m.recorded_by_id)
        return statement.where(*where, current_filter(m), m.observed_at >= bindparam("since"),
                               m.observed_at < bindparam("until"))

    sqlite = rows(model, in_list(model.admission_id, "ids")).order_by(model.observed_at, model.id)
    wanted = unnested("ids", Integer, "wanted", "id")
    walk = aliased(model)
    found = rows(walk, walk.admission_id == wanted.c.id).lateral("found")
    postgresql = (select(found).select_from(wanted).join(found, true())
                  .order_by(found.c.observed_at, found.c.id))
    return {"sqlite": sqlite, "postgresql": postgresql}


_SCALES_THIS_SHIFT = _this_shift(Assessment, "scale", "outcome", "total", "band", "flags", "suicide_risk",
                                 "unable_reason", "is_late", "suicide_review_needed")
_CHECKS_THIS_SHIFT = _this_shift(SafetyCheck, "recorded_at", "is_late", "backdate_reason", "concern",
                                 "activity")
_NOTES_THIS_SHIFT = _this_shift(NursingNote, "text", "is_late", author=True)


def _shift_rows(statements: dict[str, object], params: dict) -> dict[int, list]:
    return _grouped(statements[db.session.get_bind().dialect.name], params)


def _grouped(statement, params: dict) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in _read(statement, params):
        grouped[row.admission_id].append(row)
    return grouped


_ESCALATIONS = (
    select(Escalation.id, Escalation.admission_id, Escalation.raised_at, Escalation.level, Escalation.reason)
    .where(in_list(Escalation.admission_id, "ids"),
           Escalation.raised_at < bindparam("until"),
           or_(Escalation.raised_at >= bindparam("since"),
               ~select(EscalationUpdate.id).where(
                   EscalationUpdate.escalation_id == Escalation.id, EscalationUpdate.kind == "closed",
                   EscalationUpdate.happened_at < bindparam("since")).exists()))
    .order_by(Escalation.raised_at, Escalation.id)
)
_UPDATES = (
    select(EscalationUpdate.escalation_id, EscalationUpdate.kind, EscalationUpdate.happened_at,
           EscalationUpdate.informed_who, EscalationUpdate.text)
    .where(in_list(EscalationUpdate.escalation_id, "escalation_ids"),
           EscalationUpdate.happened_at < bindparam("until"))
    .order_by(EscalationUpdate.id)
)


def _escalations(window: dict) -> tuple[dict[int, list], dict[int, list]]:
    """Return escalations raised this shift or still open at its start, and their updates so far."""
    raised = _grouped(_ESCALATIONS, window)
    escalation_ids = [e.id for rows in raised.values() for e in rows]
    updates: dict[int, list] = defaultdict(list)
    if escalation_ids:
        for row in _read(_UPDATES, {"escalation_ids": escalation_ids, "until": window["until"]}):
            updates[row.escalation_id].append(row)
    return raised, updates


_ITEMS = (
    select(HandoverItem.id, HandoverItem.admission_id, HandoverItem.kind, HandoverItem.text,
           HandoverItem.owner, HandoverItem.due_at, HandoverItem.level, HandoverItem.withdraws_id,
           HandoverItem.recorded_at, User.display_name)
    .join(User, User.id == HandoverItem.recorded_by_id)
    .where(HandoverItem.unit_id == bindparam("unit_id"), HandoverItem.shift_starts_at == bindparam("shift"))
    .order_by(HandoverItem.id)
)


def _items(unit: Unit, shift: ShiftInstance, ids: list[int]) -> dict[int, list]:
    """Return each admission's lines in force (not withdrawn), oldest first, with the author's name."""
    rows = _read(_ITEMS, {"unit_id": unit.id, "shift": shift.starts_at})
    withdrawn = {item.withdraws_id for item in rows if item.withdraws_id is not None}
    wanted = set(ids)
    grouped: dict[int, list] = defaultdict(list)
    for item in rows:
        if item.withdraws_id is None and item.id not in withdrawn and item.admission_id in wanted:
            grouped[item.admission_id].append(item)
    return grouped


# --- one patient's block --------------------------------------------------------------------------

def _vitals_text(v) -> str:
    parts = []
    if v.respiratory_rate is not None:
        parts.append(f"RR {v.respiratory_rate}")
    if v.spo2 is not None:
        parts.append(f"SpO2 {v.spo2}%" + (" on O2" if v.on_oxygen else ""))
    if v.systolic_bp is not None:
        parts.append(f"BP {v.systolic_bp}/{v.diastolic_bp if v.diastolic_bp is not None else '—'}")
    if v.heart_rate is not None:
        parts.append(f"HR {v.heart_rate}")
    if v.temperature_tenths is not None:
        parts.append(f"T {from_tenths(v.temperature_tenths)} °C")
    if v.consciousness:
        parts.append(v.consciousness)
    return ", ".join(parts)


def _news2_line(h: Handover, trends, latest) -> list[Line]:
    news = trends["news2"]
    if news.latest is None or latest is None:
        return [Line(None, "No complete vitals set recorded", alert=True)]
    text = f"NEWS2 {news.latest.total} ({news.latest.band})"
    if news.previous is not None:
        arrow = {"up": "up from", "down": "down from", "same": "same as"}[news.direction or "same"]
        text += f", {arrow} {news.previous.total} at {h.time(news.previous.observed_at)}"
    else:
        text += ", no previous set"
    alert = news.latest.band != "low" or news.latest.total >= 5
    late = " (late entry)" if latest.is_late else ""
    return [Line(latest.observed_at, f"{_vitals_text(latest)} — {text}{late}", alert=alert)]


def _scale_lines(rows) -> list[Line]:
    lines = []
    for row in rows:
        label = SCALE_LABELS.get(row.scale, row.scale)
        if row.scale == SCREEN:
            # A screen has no total: its result is the risk it derived.
            risk = row.suicide_risk or "none"
            review = row.suicide_review_needed
            text = f"Suicide-risk screen: risk {risk}"
            if review:
                text += "; a yes: clinician review needed"
            alert = risk != "none" or bool(review)
            if row.is_late:
                text += " (late entry)"
            lines.append(Line(row.observed_at, text, alert))
            continue
        if row.outcome == "unable":
            text, alert = f"{label} unable to assess: {row.unable_reason or 'no reason given'}", True
        elif row.total is None:
            text, alert = f"{label} incomplete", True
        elif row.scale == "ketamine":
            text = f"{label} burden {row.total} (unvalidated)"
            if row.flags:
                text += "; flagged: " + "; ".join(str(f) for f in row.flags)
            alert = bool(row.flags)
        else:
            text, alert = f"{label} {row.total} ({row.band})", row.band in ("moderate", "severe",
                                                                            "moderately severe",
                                                                            "very severe")
        if row.suicide_risk and row.suicide_risk != "none":
            text += f"; suicide-risk screen: {row.suicide_risk}"
            alert = True
        if row.is_late:
            text += " (late entry)"
        lines.append(Line(row.observed_at, text, alert))
    return lines


def _safety_lines(h: Handover, rows, checks: due.CheckSchedule | None, missed_notes: dict) -> list[Line]:
    """Return the shift's safety-check exceptions: missed windows, late and back-dated entries,
    possible back-filling, concerns."""
    lines: list[Line] = []
    if checks is not None:
        for window in checks.missed:
            note = " (reason recorded)" if window.due_at in missed_notes else ""
            lines.append(Line(window.due_at, f"Check missed: due {h.time(window.due_at)}, "
                                             f"late after {h.time(window.late_at)}{note}", True))
    backfilled = due.possible_backfill([row.recorded_at for row in rows])
    for i, row in enumerate(rows):
        reasons = []
        if row.is_late:
            reasons.append(f"late entry, recorded {h.time(row.recorded_at)}")
        if row.backdate_reason:
            reasons.append(f"back-dated: {row.backdate_reason}")
        if i in backfilled:
            reasons.append("possible back-filling (entered within a minute of another)")
        if row.concern or row.activity == "agitated":
            reasons.append(f"{SAFETY_ACTIVITIES.get(row.activity, row.activity)}"
                           + (f", concern: {row.concern}" if row.concern else ""))
        if reasons:
            lines.append(Line(row.observed_at, "Check " + "; ".join(reasons), True))
    lines.sort(key=lambda line: line.at)
    return lines


def _escalation_lines(h: Handover, rows, updates: dict) -> list[Line]:
    lines = []
    for row in rows:
        steps = updates.get(row.id, [])
        closed = next((u for u in steps if u.kind == "closed"), None)
        informed = [u for u in steps if u.kind == "informed"]
        responded = any(u.kind == "response" for u in steps)
        if closed is not None:
            state = f"closed {h.time(closed.happened_at)}"
        elif responded:
            state = "OPEN, response recorded"
        elif informed:
            told = informed[-1]
            state = (f"OPEN, {told.informed_who or 'someone'} informed {h.time(told.happened_at)}, "
                     "no response recorded")
        else:
            state = "OPEN, nobody informed yet"
        lines.append(Line(row.raised_at, f"{row.level.capitalize()}: {row.reason} — {state}", closed is None))
    return lines


def _gap_lines(h: Handover, entries, trends, checks: due.CheckSchedule | None, missed_notes: dict,
               escalation_lines: list[Line]) -> list[Line]:
    """Say plainly what the due rules find overdue: "No CIWA-Ar since 03:00 (due 04:00)"."""
    gaps: list[Line] = []
    for entry in entries:
        if entry.status != due.OVERDUE:
            continue
        if entry.kind == SAFETY_CHECK:
            last = checks.last_check if checks is not None else None
            since = f"last check {h.time(last)}" if last else "no check yet this shift"
            gaps.append(Line(entry.due_at, f"Safety check overdue {entry.words.removeprefix('overdue by ')} "
                                           f"({since})", True))
            continue
        if entry.kind == PRN_EFFECT:
            continue  # said by the PRN lines, with the drug: "effect of 02:10 Lorazepam not recorded"
        if entry.kind in SAFETY_ITEMS:
            gaps.append(Line(entry.due_at, f"{SAFETY_ITEMS[entry.kind]} not done (due "
                                           f"{h.time(entry.due_at)}, {entry.words})", True))
            continue
        label = "vitals" if entry.kind == "vitals" else due.PROTOCOL_LABELS.get(entry.kind, entry.kind)
        latest = trends.get("news2" if entry.kind == "vitals" else entry.kind)
        last_at = latest.latest.observed_at if latest is not None and latest.latest is not None else None
        since = f"since {h.time(last_at)}" if last_at else "recorded yet"
        gaps.append(Line(entry.due_at, f"No {label} {since} (due {h.time(entry.due_at)}, "
                                       f"{entry.words})", True))
    for window in checks.missed if checks is not None else ():
        note = "; reason recorded" if window.due_at in missed_notes else ""
        gaps.append(Line(window.due_at, f"Safety check missed: due {h.time(window.due_at)}, none made by "
                                        f"{h.time(window.late_at)}{note}", True))
    for line in escalation_lines:
        if line.alert and ("no response recorded" in line.text or "nobody informed" in line.text):
            gaps.append(Line(line.at, f"Escalation {h.time(line.at)} still open without a response", True))
    return gaps


def _next_due_lines(h: Handover, entries) -> list[Line]:
    return [Line(e.due_at, f"{e.label} due {h.time(e.due_at)}", False)
            for e in entries if e.status != due.OVERDUE][:4]


def _risk_flags(scale_rows, trends) -> tuple[list[str], str | None]:
    """Return the risk flags read from the record, and the newest suicide-risk grade."""
    flags = []
    screened = [row for row in scale_rows if row.suicide_risk]
    ketamine = trends.get("ketamine")
    risk = screened[-1].suicide_risk if screened else (
        ketamine.latest.suicide_risk if ketamine is not None and ketamine.latest is not None else None)
    if screened:
        last = screened[-1]
        flags.append(f"Suicide-risk screen {last.suicide_risk} (screened this shift)")
    elif risk and risk != "none":
        flags.append(f"Suicide-risk screen {risk} (last screen before this shift)")
    return flags, risk if risk != "none" else None


def _patient_block(h: Handover, a: CurrentAdmission, *, as_of, trends, entries, checks, missed_notes, latest,
                   scales, safety, notes, escalations, updates, items, attending, prn) -> PatientHandover:
    escalation_lines = _escalation_lines(h, escalations, updates)
    risk_flags, risk = _risk_flags(scales, trends)
    news = trends["news2"].latest
    scale_bands = [(SCALE_LABELS[s], t.latest.band) for s, t in trends.items()
                   if s != "news2" and t.latest is not None and t.latest.band]
    ketamine = trends.get("ketamine")
    suggested = severity.suggest(
        news2_total=news.total if news else None, news2_band=news.band if news else None,
        scale_bands=scale_bands,
        open_escalations=[e.level for e in escalations
                          if not any(u.kind == "closed" for u in updates.get(e.id, []))],
        suicide_risk=risk, scale_flagged=bool(ketamine and ketamine.latest and ketamine.latest.flags),
    )
    adjusted = None
    actions, contingencies = [], []
    for item in items:
        if item.kind == "severity":
            adjusted = (item.level, item.text, item.display_name)
        else:
            target = actions if item.kind == "todo" else contingencies
            target.append(Action(item.id, item.kind, item.text, item.owner, item.due_at, item.display_name,
                                 item.recorded_at))
    gaps = _gap_lines(h, entries, trends, checks, missed_notes, escalation_lines)
    prn_lines, prn_next, prn_gaps = prn if prn is not None else ([], [], [])
    gaps.extend(prn_gaps)
    gaps.sort(key=lambda line: line.at or as_of)
    return PatientHandover(
        admission_id=a.id, patient_id=a.patient_id, bed=a.bed.label, name=a.patient.display_name,
        mrn=a.patient.mrn, age=a.patient.age_on(as_of.astimezone(h.zone).date()),
        sex=a.patient.sex, allergies=a.patient.allergies or "Not recorded",
        substances=[_substance(s, as_of) for s in a.substances], detox_day=a.detox_day(as_of),
        since_use=since_use_text(a, as_of), protocols=[PROTOCOL_SHORT.get(p, p) for p in a.protocols],
        observation_level=due.OBSERVATION_LEVELS.get(a.observation_level, a.observation_level),
        attending=attending, risk_flags=risk_flags, suggested=suggested, adjusted=adjusted,
        vitals=_news2_line(h, trends, latest), scales=_scale_lines(scales), prn=prn_lines, prn_next=prn_next,
        safety=_safety_lines(h, safety, checks, missed_notes), escalations=escalation_lines,
        notes=[Line(n.observed_at, f"{n.text} — {n.display_name}" + (" (late entry)" if n.is_late else ""))
               for n in notes],
        gaps=gaps, next_due=_next_due_lines(h, entries), actions=actions, contingencies=contingencies,
    )


def _substance(s, as_of: datetime) -> str:
    if s.last_use_at is None:
        return f"{s.label} (last use unknown)"
    return f"{s.label} ({int((as_of - s.last_use_at).total_seconds() // 3600)} h since last use)"


# --- the unit summary ------------------------------------------------------------------------------

# Admissions and discharges (moved_at None) and transfers (with the bed moved to), in one statement;
# a union's result types are its first part's, so its empty columns carry theirs.
_MOVES = union_all(
    select(Patient.family_name, Patient.given_name, Admission.admitted_at, Admission.discharged_at,
           type_coerce(null(), BedMove.moved_at.type).label("moved_at"),
           type_coerce(null(), Bed.label.type).label("bed"))
    .join(Patient, Patient.id == Admission.patient_id)
    .where(Admission.unit_id == bindparam("unit_id"),
           or_(Admission.admitted_at.between(bindparam("since"), bindparam("until")),
               Admission.discharged_at.between(bindparam("since"), bindparam("until")))),
    select(Patient.family_name, Patient.given_name, null(), null(), BedMove.moved_at, Bed.label)
    .join(Admission, Admission.id == BedMove.admission_id).join(Patient, Patient.id == Admission.patient_id)
    .join(Bed, Bed.id == BedMove.to_bed_id)
    .where(Admission.unit_id == bindparam("unit_id"), BedMove.moved_at.between(bindparam("since"),
                                                                               bindparam("until"))),
)


def _census(unit: Unit, shift: ShiftInstance, as_of: datetime, patients: list[PatientHandover]) -> Census:
    params = {"unit_id": unit.id, "since": shift.starts_at, "until": as_of}
    rows = _read(_MOVES, params)
    admitted, discharged = [], []
    for row in sorted((row for row in rows if row.moved_at is None), key=lambda row: row.admitted_at):
        name = f"{row.family_name.upper()}, {row.given_name}"
        if row.admitted_at is not None and shift.starts_at <= row.admitted_at <= as_of:
            admitted.append(name)
        if row.discharged_at is not None and shift.starts_at <= row.discharged_at <= as_of:
            discharged.append(name)
    transferred = [f"{row.family_name.upper()}, {row.given_name} to bed {row.bed}"
                   for row in sorted((row for row in rows if row.moved_at is not None),
                                     key=lambda row: row.moved_at)]
    by_severity = {level: 0 for level in severity.LEVELS}
    for p in patients:
        by_severity[p.level] += 1
    return Census(len(patients), admitted, discharged, transferred, by_severity)
