"""The database against its own quirks: REPLACE on SQLite, and what a failing statement logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from clinic.extensions import db
from clinic.models import NursingNote, VitalSigns
from tests.test_notes import new_url, note_form
from tests.test_vitals import NORMAL, chart


@pytest.fixture
def admission(make_admission):
    return make_admission(given_name="Quentin", family_name="Zebediah", allergies="Penicillin")


def test_recursive_triggers_are_on_for_every_sqlite_connection(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1


def test_insert_or_replace_cannot_rewrite_a_charted_set(app, client, admission, auth):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    auth.login_as("nurse")
    vitals_id = chart(client, admission, NORMAL).id
    columns = [c.name for c in VitalSigns.__table__.columns]
    db.session.rollback()  # the session's transaction holds SQLite's write lock
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            # The same row with the heart rate changed: REPLACE deletes the old row first, which
            # the delete trigger must refuse (SQLite fires it only with recursive_triggers on).
            conn.exec_driver_sql(
                f"INSERT OR REPLACE INTO vital_signs ({', '.join(columns)}) "
                f"SELECT {', '.join('140' if c == 'heart_rate' else c for c in columns)} "
                f"FROM vital_signs WHERE id = {vitals_id}"
            )
    db.session.expire_all()
    assert db.session.get(VitalSigns, vitals_id).heart_rate == 75


def _refuse_notes(dialect: str) -> tuple[list[str], list[str]]:
    if dialect == "sqlite":
        return (["CREATE TRIGGER test_refuse_note BEFORE INSERT ON nursing_note "
                 "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"],
                ["DROP TRIGGER test_refuse_note"])
    # PostgreSQL's check violation carries the whole row in its DETAIL: the worst case.
    return (["ALTER TABLE nursing_note ADD CONSTRAINT test_refuse_note CHECK (false) NOT VALID"],
            ["ALTER TABLE nursing_note DROP CONSTRAINT test_refuse_note"])


def test_a_failing_statement_logs_no_clinical_content(app, client, admission, auth, caplog):
    auth.login_as("nurse")
    secret = "Disclosed heroin relapse to QZ-marker-77"
    create, drop = _refuse_notes(db.engine.dialect.name)
    db.session.rollback()  # the session's transaction holds SQLite's write lock
    with db.engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        with caplog.at_level(logging.DEBUG):
            response = client.post(new_url(admission), data=note_form(admission, secret))
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "NOT saved" in page
    assert db.session.scalar(select(NursingNote)) is None
    logged = "\n".join(
        record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                               if record.exc_info else "")
        for record in caplog.records
    )
    assert "nursing_note" in logged  # the failure itself is logged ...
    for clinical in ("QZ-marker-77", "heroin", "Zebediah", "Quentin", "Penicillin"):
        assert clinical not in logged  # ... without what was typed or who it was about
