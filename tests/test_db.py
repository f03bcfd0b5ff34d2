"""Database plumbing: UTC-only times, SQLite connection settings, write serialisation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, func, select, text

from clinic import audit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import AuditEvent, Unit
from tests.conftest import PG_URL

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite connection settings")


def test_times_come_back_aware_in_utc(app):
    tokyo = timezone(timedelta(hours=9))
    unit = Unit(name="Tz ward", timezone="Asia/Tokyo", shift_pattern="Day 07:00, Night 19:00",
                created_at=datetime(2026, 3, 29, 10, 30, tzinfo=tokyo))
    db.session.add(unit)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Unit, unit.id).created_at
    assert stored.tzinfo is UTC
    assert stored == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL session settings")
def test_postgresql_sessions_run_in_utc(app):
    # So that psycopg hands times back already in UTC and nothing converts them per row.
    assert db.session.execute(text("SHOW TimeZone")).scalar() == "UTC"
    assert db.session.execute(text("SELECT now()")).scalar().tzinfo is UTC


def test_naive_times_are_refused(app):
    db.session.add(Unit(name="Naive ward", timezone="UTC", shift_pattern="Day 07:00",
                        created_at=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(exc.StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


@sqlite_only
def test_sqlite_connection_settings(app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_concurrent_writers_all_succeed(app):
    """Four threads appending audit events at once: no "database is locked", an intact chain."""
    errors = []

    def writer(n):
        with app.app_context():
            try:
                for i in range(10):
                    audit.record("view", username=f"writer{n}", detail={"i": i})
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 40
    assert audit.verify_chain().ok


@sqlite_only
@pytest.mark.parametrize("config_overrides", [{"SQLITE_BUSY_TIMEOUT_MS": 200}])
def test_a_second_connection_in_one_thread_fails_instead_of_hanging(app):
    db.session.execute(text("SELECT 1"))  # the session's transaction now holds the write lock
    started = utc_now()
    with pytest.raises(exc.OperationalError, match="locked"):
        with db.engine.begin() as other:
            other.exec_driver_sql("INSERT INTO login_throttle (username, failed_count) VALUES ('x', 0)")
    assert utc_now() - started < timedelta(seconds=5)
    db.session.rollback()
