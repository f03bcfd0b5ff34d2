"""Trends benchmark: `python -m bench.trends` (see README, "Benchmarks").

Seeds one patient with 14 days of hourly vitals, a CIWA-Ar every 4 hours and 60 PRN doses (with
their effects), one with 2 days of the same density, and 20 other 14-day stays beside them; serves
the database with gunicorn as production would; and times, at one client, the timeline over the
whole stay and the flowsheet over 72 h for both patients, with the size of each page.
Targets (issue 14): p50 under 60 ms, page under 300 kB, 2-day p50 within 1.3x of the 14-day one.
"""

from __future__ import annotations

import argparse
import os
import random
import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench import seed as seeding
from bench.load import Browser, Timings, timed
from bench.run import OUT, PG_SERVER, _fresh_database, serve
from config import TestConfig, normalise_database_url

DAYS_LONG, DAYS_SHORT = 14, 2
DOSES_LONG = 60
OTHERS = 20
PHYSICIAN = "bench.physician"


def database_url(backend: str) -> str:
    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        return f"sqlite:///{OUT / 'bench-trends.sqlite3'}"
    return make_url(normalise_database_url(PG_SERVER)).set(
        database="clinic_bench_trends").render_as_string(hide_password=False)


def _assessments(admission_id: int, nurse_id: int, start, hours: int, rng: random.Random) -> list[dict]:
    from clinic.scoring import ciwa_ar

    rows = []
    for hour in range(0, hours, 4):
        at = start + timedelta(hours=hour, minutes=10)
        items = {key: rng.choice((0, 1, 1, 2, 3)) for key in ciwa_ar.KEYS}
        items["orientation"] = min(items["orientation"], 4)
        result = ciwa_ar.score(items)
        rows.append({
            "admission_id": admission_id, "observed_at": at, "recorded_at": at + timedelta(minutes=2),
            "is_late": False, "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse_id,
            "scale": "ciwa_ar", "scale_version": "1", "outcome": "scored", "items": items,
            "yes_no": {}, "total": result.total, "band": result.band, "flags": [],
        })
    return rows


def _doses(admission_id: int, order_id: int, nurse_id: int, start, hours: int, count: int,
           rng: random.Random) -> tuple[list[dict], list[dict]]:
    from clinic.models.prn import EFFECTS

    doses, effects = [], []
    step = hours * 60 // count
    for n in range(count):
        at = start + timedelta(minutes=n * step + rng.randint(5, 40))
        override = "too_soon" if n % 15 == 7 else None
        doses.append({
            "admission_id": admission_id, "observed_at": at, "recorded_at": at + timedelta(minutes=1),
            "is_late": False, "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse_id,
            "order_id": order_id, "dose": Decimal("10"), "route": "oral", "outcome": "given",
            "reason": "Tremor and sweating", "override_rule": override,
            "override_reason": "Severe tremor, physician aware" if override else None,
            "effect_due_at": at + timedelta(hours=1),
        })
        effects.append((at + timedelta(minutes=70), rng.choice(list(EFFECTS))))
    return doses, effects


def seed_trends() -> dict:
    """Create the patients; return the two admissions whose pages are timed."""
    from clinic.auth.passwords import hash_password
    from clinic.db import utc_now
    from clinic.extensions import db
    from clinic.models import (
        Admission,
        AdmissionSubstance,
        Assessment,
        Bed,
        Patient,
        PrnDose,
        PrnEffect,
        PrnOrder,
        Unit,
        User,
        VitalSigns,
    )

    rng = random.Random(14)
    now = utc_now().replace(minute=0, second=0, microsecond=0)
    hashed = hash_password(seeding.PASSWORD)
    nurse = User(username="bench.nurse1", display_name="Bench Nurse 1", role="nurse", password_hash=hashed)
    physician = User(username=PHYSICIAN, display_name="Bench Physician", role="physician",
                     password_hash=hashed)
    charge = User(username="bench.charge", display_name="Bench Charge", role="charge_nurse",
                  password_hash=hashed)
    unit = Unit(name="Bench Ward", timezone="Europe/London", shift_pattern="Day 07:00, Night 19:00")
    db.session.add_all([nurse, physician, charge, unit])
    beds = [Bed(unit=unit, label=str(n), sort_key=n) for n in range(1, OTHERS + 3)]
    db.session.add_all(beds)
    db.session.flush()
    timed_ids = {}
    for index in range(OTHERS + 2):
        days = DAYS_SHORT if index == 1 else DAYS_LONG
        hours = days * 24
        admitted_at = now - timedelta(hours=hours)
        patient = Patient(mrn=f"T{index:07d}", family_name=f"Trend{index}", given_name="Pat",
                          date_of_birth=date(1975, 1 + index % 12, 1 + index % 28), sex="male",
                          allergies="No known drug allergies")
        admission = Admission(patient=patient, unit=unit, bed=beds[index], admitted_at=admitted_at,
                              admitted_by=charge, protocols=["vitals", "ciwa_ar"], status="admitted")
        db.session.add_all([patient, admission,
                            AdmissionSubstance(admission=admission, substance="alcohol", is_primary=True,
                                               last_use_at=admitted_at - timedelta(hours=10))])
        db.session.flush()
        vitals = seeding._vitals_rows(admission.id, nurse.id, admitted_at, hours, rng)
        db.session.execute(insert(VitalSigns), vitals)
        db.session.execute(insert(Assessment), _assessments(admission.id, nurse.id, admitted_at, hours, rng))
        order = PrnOrder(admission_id=admission.id, drug="Diazepam", drug_class="benzodiazepine",
                         dose=Decimal("10"), dose_unit="mg", route="oral", indication="Alcohol withdrawal",
                         treats_scale="ciwa_ar", min_interval_minutes=120, max_doses_24h=8,
                         hold_parameters={}, reassess_after_minutes=60, starts_at=admitted_at,
                         prescribed_by_id=physician.id, prescribed_at=admitted_at,
                         idempotency_key=uuid.uuid4().hex)
        db.session.add(order)
        db.session.flush()
        count = DOSES_LONG * days // DAYS_LONG
        doses, effects = _doses(admission.id, order.id, nurse.id, admitted_at, hours, count, rng)
        dose_ids = db.session.execute(insert(PrnDose).returning(PrnDose.id), doses).scalars().all()
        db.session.execute(insert(PrnEffect), [
            {"dose_id": dose_id, "admission_id": admission.id, "assessed_at": at, "recorded_at": at,
             "recorded_by_id": nurse.id, "effect": effect, "side_effects": [],
             "idempotency_key": uuid.uuid4().hex}
            for dose_id, (at, effect) in zip(dose_ids, effects, strict=True)
        ])
        if index < 2:
            timed_ids[days] = admission.id
    db.session.commit()
    return timed_ids


def prepare(backend: str) -> tuple[str, dict]:
    from flask_migrate import upgrade

    from clinic import MIGRATIONS_DIR, create_app
    from clinic.extensions import db

    url = database_url(backend)
    _fresh_database(backend, url)
    config = type("SeedConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        ids = seed_trends()
        with db.engine.connect() as conn:
            if backend == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        db.engine.dispose()
    return url, ids


def measure(port: int, ids: dict, requests: int, warmup: int, interleave: bool = False) -> dict[str, dict]:
    browser = Browser(port)
    browser.login(PHYSICIAN, seeding.PASSWORD)
    scenarios = {}
    for days, admission_id in sorted(ids.items(), reverse=True):
        for name, path in (("timeline stay", f"/admissions/{admission_id}/trends?range=stay"),
                           ("flowsheet 72h", f"/admissions/{admission_id}/trends/flowsheet?range=72h")):
            scenarios[f"{name} {days}d"] = path
    sizes, timings = {}, {}
    for scenario, path in scenarios.items():
        _status, body = browser.request("GET", path)
        sizes[scenario] = len(body.encode()) / 1024
        timings[scenario] = Timings()
    # Interleaved, each round times every scenario once, so a burst of load from elsewhere on a
    # shared machine falls on the 14-day and the 2-day pages alike and leaves their ratio alone.
    rounds = [list(scenarios)] * requests if interleave else [[s] * requests for s in scenarios]
    warmed = set()
    for round_ in rounds:
        for scenario in round_:
            if scenario not in warmed:
                for _ in range(warmup):
                    browser.request("GET", scenarios[scenario])
                warmed.add(scenario)
            timed(browser, "GET", scenarios[scenario], None, 200, timings[scenario])
    return {scenario: timings[scenario].summary() | {"kB": sizes[scenario]} for scenario in scenarios}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interleave", action="store_true",
                        help="time the four pages in turn, round by round, instead of one after another")
    args = parser.parse_args(argv)
    print(f"Trends benchmark through gunicorn ({args.workers} workers, {os.cpu_count()} CPUs)", flush=True)
    report = {}
    for backend in args.backends.split(","):
        url, ids = prepare(backend)
        process, port = serve(url, args.workers)
        try:
            report[backend] = measure(port, ids, args.requests, warmup=20, interleave=args.interleave)
        finally:
            process.terminate()
            process.wait(timeout=30)
        engine = create_engine(url)
        engine.dispose()
    print(f"\n{'backend':<11} {'scenario':<18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'kB':>7}")
    for backend, results in report.items():
        for scenario, s in results.items():
            print(f"{backend:<11} {scenario:<18} {s['n']:>5} {s['p50']:>8.1f} {s['p95']:>8.1f} "
                  f"{s['p99']:>8.1f} {s['errors']:>6} {s['kB']:>7.1f}")
    print()
    for backend, results in report.items():
        for page in ("timeline stay", "flowsheet 72h"):
            long, short = results[f"{page} {DAYS_LONG}d"], results[f"{page} {DAYS_SHORT}d"]
            print(f"{backend}: {page}: p50 {long['p50']:.1f} ms (14 d), {short['p50']:.1f} ms (2 d), "
                  f"ratio {long['p50'] / short['p50']:.2f}; {long['kB']:.0f} kB "
                  "(targets < 60 ms, ≤ 1.3, < 300 kB)")


if __name__ == "__main__":
    main()
