"""A fictional charting history for the demo ward, so the board and charts have something to show.

Rows are built directly (not through the charting services) because they are back-dated
fiction: charted through the services they would all be late entries. What follows from them
does follow the live rules: each set and score is passed, in time order, to the same escalation
rules live charting applies, raised when the entry was recorded; notes claim nothing the record
does not show.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from clinic import audit
from clinic.assessments import services as assessment_services
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import (
    Admission,
    Assessment,
    NursingNote,
    SafetyCheck,
    ThiaminePrompt,
    TrendReview,
    User,
    VitalSigns,
)
from clinic.scoring import ciwa_ar, ciwa_b, cows, ketamine, news2
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.vitals import services as vitals_services

# Per MRN: how unwell the patient is now (0 settled … 3 struggling), so the board varies.
SEVERITY = {"D100001": 2, "D100002": 2, "D100003": 3, "D100004": 1, "D100005": 1, "D100006": 3,
            "D100007": 0, "D100008": 0}


def chart_history(admissions: list[Admission], nurse: User, physician: User | None = None) -> None:
    """Add vitals, scale scores, notes and safety checks of the last day, and a ward-round review."""
    rng = random.Random(2026)
    now = utc_now().replace(second=0, microsecond=0)
    patient_of = {admission.id: admission.patient_id for admission in admissions}
    written: list = []
    for admission in admissions:
        severity = SEVERITY.get(admission.patient.mrn, 1)
        start = max(admission.admitted_at, now - timedelta(hours=24)) + timedelta(minutes=20)
        times = []
        at = start
        while at < now - timedelta(minutes=45):
            times.append(at)
            at += timedelta(hours=4)
        for index, at in enumerate(times):
            # Worse towards the end for the struggling, better for the settled.
            level = max(0, severity - 1 + (1 if index == len(times) - 1 and severity >= 2 else 0))
            vitals, result = _vitals(admission, nurse, at, level, rng)
            written.append(vitals)
            db.session.flush()
            vitals_services._escalate(nurse, admission, vitals, result, at=vitals.recorded_at)
            for protocol in admission.protocols:
                if protocol != "vitals":
                    assessment = _assessment(admission, nurse, at + timedelta(minutes=5), protocol,
                                             level, rng)
                    written.append(assessment)
                    db.session.flush()
                    assessment_services._escalate(nurse, admission, assessment,
                                                  at=assessment.recorded_at)
        # Rounds every 50 minutes (general observation is hourly), so no check shows as missed.
        at = now - timedelta(minutes=10)
        while at > start - timedelta(minutes=20):
            awake = 8 <= at.hour < 22
            check = SafetyCheck(location="day_room" if awake else "bedroom",
                                activity="awake" if awake else "sleeping")
            written.append(_entry(check, admission, nurse, at))
            at -= timedelta(minutes=50)
        written.append(_entry(NursingNote(text=_note(severity, admission)), admission, nurse,
                              now - timedelta(minutes=40)))
        written += _admission_prompts(admission, nurse, now)
        if physician is not None and admission.admitted_at < now - timedelta(hours=8):
            written.append(TrendReview(admission_id=admission.id, reviewed_by=physician,
                                       reviewed_at=now - timedelta(hours=6), comment="Ward round",
                                       idempotency_key=uuid.uuid4().hex))
            db.session.add(written[-1])
    db.session.flush()
    for row in sorted(written, key=lambda r: (type(r).__tablename__, r.id)):
        # Created outside the services, so their creation events (and content hashes) are added here.
        if isinstance(row, ThiaminePrompt):
            object_type, clinical_at = "thiamine_prompt", row.recorded_at
        elif isinstance(row, TrendReview):
            object_type, clinical_at = "trend_review", row.reviewed_at
        else:
            object_type, clinical_at = row.kind, row.observed_at
        audit.record("create", user=nurse, username="(demo seed)", object_type=object_type,
                     object_id=row.id, patient_id=patient_of[row.admission_id], clinical_at=clinical_at,
                     content_of=row)


def _admission_prompts(admission: Admission, nurse: User, now: datetime) -> list:
    """Screen every patient for suicide risk (the day's last one) and record thiamine for alcohol."""
    rows = [_entry(Assessment(scale="suicide_screen", scale_version="1", outcome="scored", items={},
                              yes_no={}, flags=[], **_NO_SCREEN_YES),
                   admission, nurse, max(admission.admitted_at, now - timedelta(hours=6)))]
    if any(s.substance == "alcohol" for s in admission.substances):
        rows.append(ThiaminePrompt(admission_id=admission.id, given=True, recorded_by=nurse,
                                   recorded_at=admission.admitted_at + timedelta(minutes=30)))
        db.session.add(rows[-1])
    return rows


_NOTES = {
    0: "Settled. Slept most of the night. Eating and drinking well; engaging in groups.",
    1: "Mild anxiety and cravings, managed with support. No self-harm thoughts reported.",
    2: "Restless and sweating this afternoon; cravings strong. Encouraged fluids; reviewed on the hour.",
    3: "Distressed, low mood, poor sleep; physician aware.",
}


def _note(severity: int, admission: Admission) -> str:
    """Return the note for a patient, naming their observation level only as the record has it."""
    text = _NOTES[severity]
    if admission.observation_level != "general":
        text += f" On {OBSERVATION_LEVELS[admission.observation_level].lower()} observation."
    return text


def _entry(entry, admission: Admission, nurse: User, at: datetime):
    entry.admission = admission
    entry.recorded_by = nurse
    entry.observed_at = at
    entry.recorded_at = at + timedelta(minutes=4)
    entry.is_late = False
    entry.idempotency_key = uuid.uuid4().hex
    db.session.add(entry)
    return entry


def _vitals(admission: Admission, nurse: User, at: datetime, level: int,
            rng: random.Random) -> tuple[VitalSigns, news2.News2Result]:
    hr = rng.randint(70, 85) + 12 * level
    sbp = rng.randint(118, 135) + 6 * level
    rr = 16 + 2 * level
    spo2 = 98 - level
    temp = 366 + 6 * level + rng.randint(0, 3)
    result = news2.score(respiratory_rate=rr, spo2=spo2, on_oxygen=False, systolic_bp=sbp,
                         heart_rate=hr, consciousness="A", temperature=temp / 10)
    return _entry(VitalSigns(heart_rate=hr, systolic_bp=sbp, diastolic_bp=rng.randint(70, 88),
                             respiratory_rate=rr, temperature_tenths=temp, spo2=spo2, spo2_scale=1,
                             on_oxygen=False, consciousness="A",
                      pain=min(10, 2 * level), news2_total=result.total, news2_band=result.band,
                      news2_points=dict(result.points), flags={}),
           admission, nurse, at), result


def _assessment(admission: Admission, nurse: User, at: datetime, scale: str, level: int,
                rng: random.Random) -> Assessment:
    def graded(keys, allowed_for):
        return {key: _pick(allowed_for(key), level, rng) for key in keys}

    yes_no, flags, band, version = {}, [], None, "1"
    if scale == "ciwa_ar":
        items = graded(ciwa_ar.KEYS, lambda k: range(0, 5 if k == "orientation" else 8))
        result = ciwa_ar.score(items)
        total, band = result.total, result.band
    elif scale == "cows":
        allowed = {item.key: sorted(item.allowed_values) for item in cows.ITEMS}
        items = graded(cows.KEYS, lambda k: allowed[k])
        result = cows.score(items)
        total, band = result.total, result.band
    elif scale == "ciwa_b":
        items = graded(ciwa_b.KEYS, lambda k: range(0, 5))
        result = ciwa_b.score(items)
        total, band = result.total, result.band
    else:
        definition = ketamine.DEFAULT_DEFINITION
        items = graded([item.key for item in definition.items], lambda k: range(0, 5))
        yes_no = {key: False for key, _label in definition.yes_no_items}
        result = ketamine.score(items, yes_no, definition)
        total, flags, version = result.burden, list(result.flags), definition.version
    return _entry(Assessment(scale=scale, scale_version=version, outcome="scored", items=items, yes_no=yes_no,
                      total=total, band=band, flags=flags,
                      **(_NO_SCREEN_YES if scale == "ketamine" else {})),
           admission, nurse, at)


# The ketamine checklist opens the suicide-risk screen; the behaviour question is asked of everyone.
_NO_SCREEN_YES = {
    "self_harm_thoughts": False, "suicide_risk": "none", "suicide_review_needed": False,
    "suicide_answers": {key: (False if key == "behaviour" else None) for key, _ in ketamine.QUESTIONS},
}


def _pick(allowed, level: int, rng: random.Random) -> int:
    values = list(allowed)
    # Mostly low values, rising with the patient's level; a quarter of items one step higher.
    index = min(len(values) - 1, max(0, level - 2 + (1 if rng.random() < 0.3 else 0)))
    return values[index]


def prn_orders(admissions: list[Admission], physician: User, nurse: User) -> None:
    """Order the unit's usual PRNs, through the live services, and give one dose a few minutes ago.

    Alcohol withdrawal gets lorazepam by CIWA-Ar, everyone ondansetron for nausea; the first
    alcohol patient's dose leaves its effect follow-up due on the board and the due list.
    """
    from clinic.prn import services as prn

    now = utc_now()
    given = False
    for admission in admissions:
        orders = [prn.OrderInput(
            drug="Ondansetron", dose=Decimal("4"), dose_unit="mg", route="oral", indication="Nausea",
            treats_scale=None, min_interval_minutes=480, max_doses_24h=3, max_amount_24h=None,
            score_threshold=None, hold_parameters={}, reassess_after_minutes=60,
            starts_at=admission.admitted_at, stops_at=None)]
        if "ciwa_ar" in admission.protocols:
            orders.append(prn.OrderInput(
                drug="Lorazepam", dose=Decimal("1"), dose_unit="mg", route="oral",
                indication="Alcohol withdrawal", treats_scale="ciwa_ar", min_interval_minutes=240,
                max_doses_24h=4, max_amount_24h=Decimal("4"), score_threshold=None, hold_parameters={},
                reassess_after_minutes=60, starts_at=admission.admitted_at, stops_at=None))
        for data in orders:
            order = prn.create_order(by=physician, admission=admission, data=data,
                                     idempotency_key=uuid.uuid4().hex, allergy_acknowledged=False,
                                     supersedes=None, reason=None)
            if order.drug == "Lorazepam" and not given:
                prn.give_dose(by=nurse, admission=admission, order_id=order.id,
                              given_at=now - timedelta(minutes=5), outcome="given", dose=Decimal("1"),
                              route="oral", reason="Tremor and sweating", idempotency_key=uuid.uuid4().hex)
                given = True
