"""Run the benchmarks: `python -m bench.run` (see README, "Benchmarks").

Seeds (once, then reuses) SQLite files and PostgreSQL databases at two sizes, serves each with
gunicorn as production would, and prints latency percentiles: the vitals POST next to the
bare-insert floor at 1 and 4 concurrent clients, and the unit board and due list at about ten
thousand and about one million observations.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench import seed as seeding
from bench.load import Browser, Timings, run_clients, timed, vitals_form
from config import TestConfig, normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = os.environ.get("CLINIC_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(backend: str, size: str) -> str:
    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        return f"sqlite:///{OUT / f'bench-{size}.sqlite3'}"
    return make_url(normalise_database_url(PG_SERVER)).set(
        database=f"clinic_bench_{size}").render_as_string(hide_password=False)


def _fresh_database(backend: str, url: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm", ".writelock"):
            Path(make_url(url).database + suffix).unlink(missing_ok=True)
        return
    name = make_url(url).database
    admin = create_engine(normalise_database_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _is_seeded(backend: str, url: str, expected_sets: int) -> bool:
    if backend == "sqlite" and not Path(make_url(url).database).exists():
        return False
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM vital_signs")).scalar()
        engine.dispose()
        return count >= expected_sets
    except Exception:
        return False


def prepare(backend: str, size: str, past: int, hours: int, reseed: bool) -> str:
    from flask_migrate import upgrade

    from clinic import MIGRATIONS_DIR, create_app
    from clinic.extensions import db

    url = database_url(backend, size)
    expected = (seeding.BEDS + past) * hours
    config = type("SeedConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 19456,
    })
    if not reseed and _is_seeded(backend, url, expected):
        print(f"  {backend}/{size}: reusing seeded database (upgraded to the newest schema)", flush=True)
        app = create_app(config)
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
            db.engine.dispose()
        return url
    print(f"  {backend}/{size}: seeding {expected:,} vitals sets …", flush=True)
    _fresh_database(backend, url)
    app = create_app(config)
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        counts = seeding.seed(past_admissions=past, hours=hours)
        if backend == "postgresql":
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    print(f"    {counts} in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, workers: int):
    port = _free_port()
    env = dict(os.environ, CLINIC_CONFIG="production", SECRET_KEY=secrets.token_hex(16),
               AUDIT_HMAC_KEY=secrets.token_hex(16), DATABASE_URL=url,
               CLINIC_SESSION_IDLE_MINUTES="600")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench.app:app"],
        cwd=ROOT, env=env,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            status, _ = Browser(port).request("GET", "/login")
            if status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def _ids(url: str) -> tuple[int, list[int]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        unit_id = conn.execute(text("SELECT id FROM unit WHERE name = 'Bench Ward'")).scalar()
        admissions = conn.execute(
            select(text("id")).select_from(text("admission"))
            .where(text("status = 'admitted'")).order_by(text("id"))
        ).scalars().all()
    engine.dispose()
    return unit_id, list(admissions)


def _browsers(port: int, url: str):
    unit_id, admissions = _ids(url)
    browsers = []
    for index in range(4):
        browser = Browser(port)
        browser.login(f"bench.nurse{index + 1}", seeding.PASSWORD)
        browsers.append(browser)
    return unit_id, admissions, browsers


def _scenario(results: dict, name: str, work, clients: int, requests: int, warmup: int) -> None:
    run_clients(clients, lambda i, t: work(i, t, warmup))
    per_client = max(1, requests // clients)
    results[f"{name} ×{clients}"] = run_clients(clients, lambda i, t: work(i, t, per_client)).summary()


def measure_pages(port: int, url: str, requests: int, warmup: int) -> dict[str, dict]:
    """Time the unit board and the due list, one client."""
    unit_id, _admissions, browsers = _browsers(port, url)

    def page(path):
        def work(index: int, timings: Timings, count: int):
            for _ in range(count):
                timed(browsers[index], "GET", path, None, 200, timings)
        return work

    results: dict[str, dict] = {}
    _scenario(results, "board", page(f"/units/{unit_id}/board"), 1, requests, warmup)
    _scenario(results, "due list", page(f"/units/{unit_id}/due"), 1, requests, warmup)
    return results


def measure_charting(port: int, url: str, requests: int, warmup: int) -> dict[str, dict]:
    """Time the vitals POST against the bare-insert floor: one client alternating the two, then
    four clients at once running each in turn."""
    _unit_id, admissions, browsers = _browsers(port, url)
    tokens = [b.csrf(f"/admissions/{admissions[i]}/vitals/new") for i, b in enumerate(browsers)]

    def floor(index: int, timings: Timings, count: int):
        browser = Browser(port)
        for n in range(count):
            timed(browser, "POST", f"/bench/floor/{admissions[(index * 10 + n) % 40]}", {}, 201,
                  timings)

    def vitals(index: int, timings: Timings, count: int):
        browser = browsers[index]
        for n in range(count):
            admission = admissions[(index * 10 + n) % 40]
            timed(browser, "POST", f"/admissions/{admission}/vitals/new",
                  vitals_form(tokens[index], "Europe/London"), 302, timings)

    floor_browser = Browser(port)

    def alternating(timings: tuple[Timings, Timings], count: int):
        # One request of each in turn: a shared machine's speed drifts over a run, and the ratio
        # of the two should not depend on which of them ran in the slower minute.
        for n in range(count):
            admission = admissions[n % 40]
            timed(floor_browser, "POST", f"/bench/floor/{admission}", {}, 201, timings[0])
            timed(browsers[0], "POST", f"/admissions/{admission}/vitals/new",
                  vitals_form(tokens[0], "Europe/London"), 302, timings[1])

    results: dict[str, dict] = {}
    alternating((Timings(), Timings()), warmup)
    pair = (Timings(), Timings())
    alternating(pair, requests)
    results["floor ×1"], results["vitals ×1"] = pair[0].summary(), pair[1].summary()
    for name, work, clients in (("floor", floor, 4), ("vitals", vitals, 4)):
        _scenario(results, name, work, clients, requests, warmup)
    return results


def _print_rows(backend: str, size: str, results: dict) -> None:
    for scenario, s in results.items():
        print(f"{backend:<11} {size:<6} {scenario:<11} {s['n']:>5} {s['p50']:>8.1f} {s['p95']:>8.1f} "
              f"{s['p99']:>8.1f} {s['errors']:>6} {s['locked']:>6}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--past-admissions", type=int, default=460,
                        help="discharged admissions with 14 days of hourly vitals (default 460: "
                             "with the 40 current ones, 1,008,000 observations)")
    parser.add_argument("--requests", type=int, default=400, help="timed requests per scenario")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded databases")
    args = parser.parse_args(argv)

    print("Benchmark through gunicorn "
          f"({args.workers} workers, {os.cpu_count()} CPUs)", flush=True)
    sizes = {"small": (0, 42), "large": (args.past_admissions, seeding.DAYS * 24)}
    report: dict[str, dict[str, dict]] = {}
    for backend in args.backends.split(","):
        for size, (past, hours) in sizes.items():
            url = prepare(backend, size, past, hours, args.reseed)
            process, port = serve(url, args.workers)
            try:
                results = measure_pages(port, url, args.requests, warmup=30)
                if size == "large":
                    results |= measure_charting(port, url, args.requests, warmup=30)
                report.setdefault(backend, {})[size] = results
            finally:
                process.terminate()
                process.wait(timeout=30)
    print()
    print(f"{'backend':<11} {'size':<6} {'scenario':<11} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6} {'locked':>6}")
    for backend, by_size in report.items():
        for size, results in by_size.items():
            _print_rows(backend, size, results)
    print()
    for backend, by_size in report.items():
        large, small = by_size["large"], by_size["small"]
        ratio = large["vitals ×1"]["p50"] / large["floor ×1"]["p50"]
        print(f"{backend}: vitals ×1 p50 / floor ×1 p50 = {ratio:.2f} (target ≤ 2.5); "
              f"vitals ×4 p99 = {large['vitals ×4']['p99']:.1f} ms (target < 60); "
              f"errors {large['vitals ×4']['errors']}, database locked {large['vitals ×4']['locked']}")
        for page in ("board ×1", "due list ×1"):
            growth = large[page]["p50"] / small[page]["p50"]
            print(f"{backend}: {page} p50 {large[page]['p50']:.1f} ms at ~1 M observations, "
                  f"{small[page]['p50']:.1f} ms at ~10 k: ratio {growth:.2f} (targets < 25 ms, ≤ 1.3)")


if __name__ == "__main__":
    main()
