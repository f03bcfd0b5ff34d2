"""Benchmark giving a PRN dose: `python -m bench.prn` (see README, "Benchmarks").

Seeds its own small ward (a fresh SQLite file and PostgreSQL database `clinic_bench_prn`, so the
shared board benchmarks are untouched), gives every current admission many PRN orders, each with
three doses in the last day, and times the give-dose POST (its limit check under the order's row
lock) beside the bare-insert floor: one client alternating the two, then four clients at once.
Every timed dose goes to an order of its own, so each one is allowed and charted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import threading
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bench.load import Browser, Timings, run_clients, timed, vitals_form
from bench.run import _ids, database_url, prepare, serve
from bench.seed import NURSES, PASSWORD
from config import TestConfig


def seed_orders(url: str, orders_per_admission: int) -> None:
    """Give each current admission PRN orders with three doses each in the last 24 hours."""
    from clinic import create_app
    from clinic.db import utc_now
    from clinic.extensions import db
    from clinic.models import Admission, PrnDose, PrnOrder, User

    app = create_app(type("SeedConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        now = utc_now()
        nurse = db.session.scalar(select(User).where(User.username == "bench.nurse1"))
        admissions = db.session.scalars(select(Admission).where(Admission.status == "admitted")).all()
        orders = []
        for admission in admissions:
            for n in range(orders_per_admission):
                orders.append(
                    dict(
                        admission_id=admission.id,
                        drug=f"Lorazepam {n}",
                        drug_class="benzodiazepine",
                        dose=Decimal("1"),
                        dose_unit="mg",
                        route="oral",
                        indication="Alcohol withdrawal",
                        treats_scale=None,
                        min_interval_minutes=120,
                        max_doses_24h=6,
                        max_amount_24h=Decimal("6"),
                        score_threshold=None,
                        hold_parameters={},
                        reassess_after_minutes=60,
                        starts_at=now - timedelta(days=1),
                        stops_at=None,
                        prescribed_by_id=nurse.id,
                        prescribed_at=now - timedelta(days=1),
                        supersedes_id=None,
                        allergy_acknowledged=False,
                        allergy_note=None,
                        idempotency_key=uuid.uuid4().hex,
                    )
                )
        db.session.execute(insert(PrnOrder), orders)
        rows = db.session.execute(select(PrnOrder.id, PrnOrder.admission_id)).all()
        doses = [
            dict(
                order_id=row.id,
                admission_id=row.admission_id,
                observed_at=now - timedelta(hours=hours),
                recorded_at=now - timedelta(hours=hours),
                is_late=False,
                idempotency_key=uuid.uuid4().hex,
                recorded_by_id=nurse.id,
                dose=Decimal("1"),
                route="oral",
                outcome="given",
                reason="Tremor",
                effect_due_at=now - timedelta(hours=hours - 1),
            )
            for row in rows
            for hours in (20, 12, 4)
        ]
        db.session.execute(insert(PrnDose), doses)
        db.session.commit()
        db.engine.dispose()


def _orders(url: str) -> list[tuple[int, int]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT admission_id, id FROM prn_order ORDER BY id")).all()
    engine.dispose()
    return [(row[0], row[1]) for row in rows]


def give_form(token: str, zone: str) -> dict:
    now = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    return {
        "csrf_token": token,
        "idempotency_key": uuid.uuid4().hex,
        "given_at": now,
        "outcome": "given",
        "dose": "1",
        "route": "oral",
        "reason": "CIWA-Ar 12, tremor",
        "prompting_assessment_id": "0",
    }


def measure(port: int, url: str, requests: int, warmup: int) -> dict[str, dict]:
    _unit_id, admissions = _ids(url)
    orders = iter(_orders(url))
    lock = threading.Lock()

    def next_order() -> tuple[int, int]:
        with lock:
            return next(orders)

    browsers = []
    for index in range(NURSES):
        browser = Browser(port)
        browser.login(f"bench.nurse{index + 1}", PASSWORD)
        browsers.append(browser)
    first_admission, first_order = _orders(url)[0]
    tokens = [b.csrf(f"/admissions/{first_admission}/prn/orders/{first_order}/give") for b in browsers]
    counter = itertools.count()

    def give(browser: Browser, token: str, timings: Timings) -> None:
        admission, order = next_order()
        timed(
            browser,
            "POST",
            f"/admissions/{admission}/prn/orders/{order}/give",
            give_form(token, "Europe/London"),
            302,
            timings,
        )

    def floor(index: int, timings: Timings, count: int):
        browser = Browser(port)
        for _ in range(count):
            timed(
                browser,
                "POST",
                f"/bench/floor/{admissions[next(counter) % len(admissions)]}",
                {},
                201,
                timings,
            )

    def doses(index: int, timings: Timings, count: int):
        for _ in range(count):
            give(browsers[index], tokens[index], timings)

    floor_browser = Browser(port)

    def alternating(trio: tuple[Timings, Timings, Timings], count: int):
        # The vitals POST, the ward's other frequent write, for scale on a shared, noisy machine.
        for n in range(count):
            admission = admissions[n % len(admissions)]
            timed(floor_browser, "POST", f"/bench/floor/{admission}", {}, 201, trio[0])
            give(browsers[0], tokens[0], trio[1])
            timed(browsers[0], "POST", f"/admissions/{admission}/vitals/new",
                  vitals_form(tokens[0], "Europe/London"), 302, trio[2])

    results: dict[str, dict] = {}
    alternating((Timings(), Timings(), Timings()), warmup)
    trio = (Timings(), Timings(), Timings())
    alternating(trio, requests)
    results["floor ×1"], results["give ×1"], results["vitals ×1"] = (t.summary() for t in trio)
    for name, work in (("floor", floor), ("give", doses)):
        run_clients(4, lambda i, t, work=work: work(i, t, max(1, warmup // 4)))
        results[f"{name} ×4"] = run_clients(
            4, lambda i, t, work=work: work(i, t, max(1, requests // 4))
        ).summary()
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args(argv)
    warmup = 30
    # Every timed or warm-up give needs an order of its own.
    per_admission = -(-(2 * (args.requests + warmup) + 40) // 40)
    print(
        f"PRN give-dose benchmark through gunicorn ({args.workers} workers, {os.cpu_count()} CPUs)",
        flush=True,
    )
    report = {}
    for backend in args.backends.split(","):
        url = database_url(backend, "prn")
        prepare(backend, "prn", 0, 42, reseed=True)
        seed_orders(url, per_admission)
        process, port = serve(url, args.workers)
        try:
            report[backend] = measure(port, url, args.requests, warmup)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        f"\n{'backend':<11} {'scenario':<9} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
    )
    for backend, results in report.items():
        for scenario, s in results.items():
            print(
                f"{backend:<11} {scenario:<9} {s['n']:>5} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f} "
                f"{s['errors']:>6}"
            )
    print()
    for backend, r in report.items():
        print(
            f"{backend}: give ×1 p50 / floor ×1 p50 = {r['give ×1']['p50'] / r['floor ×1']['p50']:.2f} "
            f"(target ≤ 2.5); give ×4 p50 / floor ×4 p50 = {r['give ×4']['p50'] / r['floor ×4']['p50']:.2f}; "
            f"give ×4 p99 = {r['give ×4']['p99']:.1f} ms (target < 60); errors {r['give ×4']['errors']}; "
            f"vitals ×1 p50 / floor ×1 p50 = {r['vitals ×1']['p50'] / r['floor ×1']['p50']:.2f} (for scale)"
        )


if __name__ == "__main__":
    main()
