"""Seed a benchmark database: a 40-bed ward charted hourly, plus past admissions.

"Observations" counts measured values as ENGINEERING.md does: a full vitals set holds six
(heart rate, systolic and diastolic BP, respiratory rate, temperature, SpO2).
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from clinic.auth.passwords import hash_password
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import (
    Admission,
    AdmissionSubstance,
    Assessment,
    Bed,
    Patient,
    SafetyCheck,
    Unit,
    User,
    VitalSigns,
)
from clinic.scoring import ketamine, news2

OBSERVATIONS_PER_SET = 6
BEDS = 40
DAYS = 14
NURSES = 4
PASSWORD = "bench-password-1"


def _vitals_rows(admission_id: int, nurse_id: int, start, hours: int, rng: random.Random):
    rows = []
    for hour in range(hours):
        at = start + timedelta(hours=hour)
        hr = rng.randint(55, 115)
        sbp = rng.randint(95, 160)
        rr = rng.randint(12, 24)
        spo2 = rng.randint(93, 100)
        temp = rng.randint(362, 384)
        result = news2.score(respiratory_rate=rr, spo2=spo2, on_oxygen=False, systolic_bp=sbp,
                             heart_rate=hr, consciousness="A", temperature=temp / 10)
        rows.append({
            "admission_id": admission_id, "observed_at": at, "recorded_at": at + timedelta(minutes=3),
            "is_late": False, "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse_id,
            "heart_rate": hr, "systolic_bp": sbp, "diastolic_bp": rng.randint(60, 95),
            "respiratory_rate": rr, "temperature_tenths": temp, "spo2": spo2, "spo2_scale": 1,
            "on_oxygen": False, "consciousness": "A", "confirmed_extreme": False,
            "news2_total": result.total, "news2_band": result.band, "news2_points": result.points,
            "flags": {},
        })
    return rows


def _current_extras(admission, nurse_id: int, start, hours: int, rng: random.Random) -> None:
    definition = ketamine.DEFAULT_DEFINITION
    assessments, checks = [], []
    for hour in range(0, hours, 4):
        at = start + timedelta(hours=hour, minutes=5)
        items = {item.key: rng.choice((0, 0, 1, 2)) for item in definition.items}
        yes_no = {key: False for key, _label in definition.yes_no_items}
        result = ketamine.score(items, yes_no, definition)
        assessments.append({
            "admission_id": admission.id, "observed_at": at, "recorded_at": at + timedelta(minutes=2),
            "is_late": False, "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse_id,
            "scale": "ketamine", "scale_version": definition.version, "outcome": "scored",
            "items": items, "yes_no": yes_no, "total": result.burden, "band": None,
            "flags": list(result.flags), "self_harm_thoughts": False,
        })
    for hour in range(hours):
        at = start + timedelta(hours=hour, minutes=30)
        checks.append({
            "admission_id": admission.id, "observed_at": at, "recorded_at": at, "is_late": False,
            "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse_id,
            "location": "bedroom", "activity": "resting",
        })
    db.session.execute(insert(Assessment), assessments)
    db.session.execute(insert(SafetyCheck), checks)


def seed(*, past_admissions: int, hours: int = DAYS * 24, batch: int = 5000, seed_value: int = 7) -> dict:
    """Create the ward and its history; return counts. Expects an empty, migrated database.

    Every admission gets hourly vitals for `hours`; current ones also get a ketamine checklist
    every 4 hours and an hourly safety check, so the board and due list have real work to do.
    """
    rng = random.Random(seed_value)
    now = utc_now().replace(minute=0, second=0, microsecond=0)
    hashed = hash_password(PASSWORD)
    nurses = [User(username=f"bench.nurse{i}", display_name=f"Bench Nurse {i}", role="nurse",
                   password_hash=hashed) for i in range(1, NURSES + 1)]
    charge = User(username="bench.charge", display_name="Bench Charge", role="charge_nurse",
                  password_hash=hashed)
    unit = Unit(name="Bench Ward", timezone="Europe/London", shift_pattern="Day 07:00, Night 19:00")
    db.session.add_all([*nurses, charge, unit])
    beds = [Bed(unit=unit, label=str(n), sort_key=n) for n in range(1, BEDS + 1)]
    db.session.add_all(beds)
    db.session.flush()

    pending: list[dict] = []

    def flush_vitals(force=False):
        if pending and (force or len(pending) >= batch):
            db.session.execute(insert(VitalSigns), pending)
            pending.clear()

    total_admissions = BEDS + past_admissions
    for index in range(total_admissions):
        current = index < BEDS
        patient = Patient(mrn=f"B{index:07d}", family_name=f"Bench{index}", given_name="Pat",
                          date_of_birth=date(1970 + index % 40, 1 + index % 12, 1 + index % 28),
                          sex=("female", "male")[index % 2], allergies="No known drug allergies")
        if current:
            admitted_at = now - timedelta(hours=hours)
        else:
            admitted_at = now - timedelta(hours=hours * 2, days=index % 300)
        admission = Admission(
            patient=patient, unit=unit, bed=beds[index % BEDS], admitted_at=admitted_at,
            admitted_by=charge, protocols=["vitals", "ketamine"],
            status="admitted" if current else "discharged",
            discharged_at=None if current else admitted_at + timedelta(hours=hours),
            disposition=None if current else "home",
        )
        db.session.add_all([patient, admission])
        db.session.add(AdmissionSubstance(admission=admission, substance="ketamine", is_primary=True,
                                          last_use_at=admitted_at - timedelta(hours=12)))
        db.session.flush()
        nurse_id = nurses[index % NURSES].id
        pending.extend(_vitals_rows(admission.id, nurse_id, admitted_at, hours, rng))
        flush_vitals()
        if current:
            _current_extras(admission, nurse_id, admitted_at, hours, rng)
    flush_vitals(force=True)
    db.session.commit()
    sets = db.session.scalar(select(func.count()).select_from(VitalSigns))
    db.session.commit()
    return {"admissions": total_admissions, "current": BEDS, "vitals_sets": sets,
            "observations": sets * OBSERVATIONS_PER_SET}
