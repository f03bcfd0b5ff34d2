"""Handover benchmark: `python -m bench.handover` (README, "Benchmarks").

A 40-patient ward with a full shift of charting for everyone (hourly vitals, 4-hourly scales,
hourly safety checks from bench.seed; PRN doses with effects and notes added here), at two
history lengths. Prints, per database: the HTML view's and the PDF endpoint's p50 through
gunicorn, ReportLab alone building the same document from data already in memory (same run),
and the number of queries one handover takes at each history length.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url

from bench import run as bench_run
from bench import seed as seeding
from bench.load import Browser, Timings, timed
from config import TestConfig, normalise_database_url

OUT = Path(__file__).resolve().parent / "out"


def database_url(backend: str, size: str) -> str:
    """Return this benchmark's own databases, apart from bench.run's (other runs may use those)."""
    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        return f"sqlite:///{OUT / f'handover-{size}.sqlite3'}"
    return make_url(normalise_database_url(bench_run.PG_SERVER)).set(
        database=f"clinic_bench_handover_{size}").render_as_string(hide_password=False)


def _config(url: str):
    return type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})


def prepare(backend: str, size: str, past: int, hours: int, reseed: bool) -> str:
    """Seed (once) the ward, then this shift's PRN doses, effects and notes."""
    from flask_migrate import upgrade

    from clinic import MIGRATIONS_DIR, create_app
    from clinic.extensions import db

    url = database_url(backend, size)
    expected = (seeding.BEDS + past) * hours
    fresh = reseed or not bench_run._is_seeded(backend, url, expected)
    if fresh:
        print(f"  {backend}/{size}: seeding {expected:,} vitals sets …", flush=True)
        bench_run._fresh_database(backend, url)
    app = create_app(_config(url))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        if fresh:
            seeding.seed(past_admissions=past, hours=hours)
        if _shift_extras():
            # Fresh statistics, as bench.run keeps them: without, PostgreSQL planned the board's
            # newest-entries walk as if the tables were empty (200 ms instead of a few).
            if backend == "postgresql":
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            else:
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    return url


def _shift_extras() -> bool:
    """Give every current patient a PRN order, a dose every 3 h of the shift with its effect
    (the newest left unanswered, a gap), and a note every 2 h; once per database."""
    from clinic.db import utc_now
    from clinic.extensions import db
    from clinic.models import Admission, NursingNote, PrnDose, PrnEffect, PrnOrder, Unit, User

    if db.session.scalar(select(PrnOrder.id).limit(1)) is not None:
        return False
    unit = db.session.scalar(select(Unit).where(Unit.name == "Bench Ward"))
    nurse = db.session.scalar(select(User).where(User.username == "bench.nurse1"))
    now = utc_now()
    shift = unit.shift_for(now)
    admissions = db.session.scalars(select(Admission).where(Admission.unit_id == unit.id,
                                                            Admission.status == "admitted")).all()
    for admission in admissions:
        order = PrnOrder(admission_id=admission.id, drug="Lorazepam", drug_class="benzodiazepine",
                         dose=Decimal("1"), dose_unit="mg", route="oral", indication="Anxiety, agitation",
                         min_interval_minutes=180, max_doses_24h=6, reassess_after_minutes=60,
                         starts_at=shift.starts_at - timedelta(days=1), prescribed_by_id=nurse.id,
                         prescribed_at=shift.starts_at - timedelta(days=1), hold_parameters={},
                         idempotency_key=uuid.uuid4().hex)
        db.session.add(order)
        db.session.flush()
        at = shift.starts_at + timedelta(minutes=20)
        while at < now - timedelta(minutes=30):
            dose = {"admission_id": admission.id, "order_id": order.id, "observed_at": at, "recorded_at": at,
                    "is_late": False, "idempotency_key": uuid.uuid4().hex, "recorded_by_id": nurse.id,
                    "dose": Decimal("1"), "route": "oral", "outcome": "given", "reason": "Anxiety",
                    "effect_due_at": at + timedelta(minutes=60)}
            dose_id = db.session.execute(insert(PrnDose).returning(PrnDose.id), [dose]).scalar_one()
            if at + timedelta(hours=3) < now - timedelta(minutes=30):
                db.session.add(PrnEffect(dose_id=dose_id, admission_id=admission.id,
                                         assessed_at=at + timedelta(minutes=55), recorded_by_id=nurse.id,
                                         effect="better", side_effects=[], idempotency_key=uuid.uuid4().hex))
            at += timedelta(hours=3)
        at = shift.starts_at + timedelta(minutes=45)
        while at < now:
            db.session.add(NursingNote(admission_id=admission.id, observed_at=at, recorded_at=at,
                                       is_late=False, idempotency_key=uuid.uuid4().hex,
                                       recorded_by_id=nurse.id, text="Settled; cravings moderate, managed."))
            at += timedelta(hours=2)
    db.session.commit()
    return True


def measure(url: str, requests: int, workers: int, serve: bool) -> dict:
    """Count one handover's queries in process; with `serve`, time through gunicorn the HTML view
    and the PDF endpoint, and in process ReportLab building the same document from the data
    already assembled, the three in turn request by request (a shared machine's drift then falls
    on all alike)."""
    from clinic import create_app
    from clinic.db import utc_now
    from clinic.extensions import db
    from clinic.handover.services import assemble, choose_shift
    from clinic.models import Unit
    from clinic.reports.handover_pdf import build_pdf

    app = create_app(_config(url))
    with app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.name == "Bench Ward"))
        now = utc_now()
        shift = choose_shift(unit, now, "current")
        assemble(unit, now=now, shift=shift)  # warm the statement caches
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        handover = assemble(unit, now=now, shift=shift)
        event.remove(db.engine, "before_cursor_execute", listener)
        pdf = build_pdf(handover, printed_by="Bench", printed_at=now)
        result = {"queries": len(statements), "bytes": len(pdf), "patients": len(handover.patients)}
        # Give back the connection, and with it SQLite's write lock, before gunicorn needs it.
        db.session.remove()
        db.engine.dispose()
        if not serve:
            return result
        process, port = bench_run.serve(url, workers)
        try:
            browser = Browser(port)
            browser.login("bench.nurse1", seeding.PASSWORD)
            html, endpoint, alone = Timings(), Timings(), Timings()
            page = f"/units/{unit.id}/handover?shift=current"
            for n in range(5 + requests):
                warm = n < 5
                timed(browser, "GET", page, None, 200, Timings() if warm else html)
                timed(browser, "GET", page.replace("handover?", "handover.pdf?"), None, 200,
                      Timings() if warm else endpoint)
                started = time.perf_counter()
                build_pdf(handover, printed_by="Bench", printed_at=now)
                if not warm:
                    alone.samples.append(time.perf_counter() - started)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return result | {"html": html.summary(), "pdf": endpoint.summary(), "alone": alone.summary()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--past-admissions", type=int, default=460)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)
    print(f"Handover benchmark through gunicorn ({args.workers} workers, {os.cpu_count()} CPUs)", flush=True)
    sizes = {"small": (0, 42), "large": (args.past_admissions, seeding.DAYS * 24)}
    for backend in args.backends.split(","):
        queries = {}
        for size, (past, hours) in sizes.items():
            url = prepare(backend, size, past, hours, args.reseed)
            result = measure(url, args.requests, args.workers, serve=size == "large")
            queries[size] = result["queries"]
            if size == "small":
                continue
            html, pdf, alone = result["html"], result["pdf"], result["alone"]
            print(f"{backend} {size}: {result['patients']} patients, PDF {result['bytes'] / 1024:.0f} KiB; "
                  f"HTML p50 {html['p50']:.1f} ms (p95 {html['p95']:.1f}, target < 150); "
                  f"PDF endpoint p50 {pdf['p50']:.1f} ms (p95 {pdf['p95']:.1f}); "
                  f"ReportLab alone p50 {alone['p50']:.1f} ms; ratio {pdf['p50'] / alone['p50']:.2f} "
                  f"(target ≤ 1.5); errors {html['errors'] + pdf['errors']}", flush=True)
        print(f"{backend}: queries per handover {queries['small']} (short history) / "
              f"{queries['large']} (14 days + past admissions): "
              f"{'fixed' if queries['small'] == queries['large'] else 'NOT fixed'}", flush=True)


if __name__ == "__main__":
    main()
