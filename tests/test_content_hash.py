"""Each clinical row's creation event carries its content hash; verify-audit names changed rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from clinic import content_hash
from clinic.demo import seed
from clinic.extensions import db
from clinic.models import AuditEvent
from tests.charting import chart_vitals
from tests.tamper import triggers_dropped

#: Append-only tables that are not clinical entries, so carry no content hash.
NOT_HASHED = {"audit_event", "assignment", "due_definition"}


@pytest.fixture
def charted(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("nurse")
    first = chart_vitals(client, admission, heart_rate="88")
    second = chart_vitals(client, admission, heart_rate="91")
    return admission, first, second


def _verify(runner):
    return runner.invoke(args=["verify-audit"])


def test_creation_event_carries_the_hash_of_what_was_stored(charted):
    _, first, _ = charted
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.object_type == "vitals", AuditEvent.object_id == str(first.id)))
    table, row_id, digest = content_hash.parse(json.loads(event.detail)["content_hash"])
    assert (table, row_id) == ("vital_signs", first.id)
    stored = db.session.execute(
        text("SELECT * FROM vital_signs WHERE id = :id"), {"id": first.id}).mappings().one()
    assert len(digest) == 64
    assert digest == content_hash.stamp(first).rsplit(":", 1)[1]
    assert dict(stored)["heart_rate"] == 88


def test_untouched_rows_verify(runner, charted):
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "Clinical rows intact: 2 rows match their creation events." in result.output


def test_a_heart_rate_changed_in_the_database_is_named(runner, charted):
    _, first, second = charted
    with triggers_dropped("vital_signs"):
        db.session.execute(text("UPDATE vital_signs SET heart_rate = 60 WHERE id = :id"),
                           {"id": first.id})
    result = _verify(runner)
    assert result.exit_code != 0
    assert f"vital_signs #{first.id}: content differs from when it was recorded" in result.output
    assert f"vital_signs #{second.id}" not in result.output
    assert "1 of 2 clinical rows do not match" in result.output


def _copy_by_sql(vitals_id: int, key: str) -> int:
    """Insert a copy of a vitals row with plain SQL, as no service would; return its id."""
    columns = [c for c in db.metadata.tables["vital_signs"].columns.keys() if c != "id"]
    select_list = ", ".join(f"'{key}'" if c == "idempotency_key" else c for c in columns)
    db.session.execute(text(f"INSERT INTO vital_signs ({', '.join(columns)}) SELECT {select_list} "
                            "FROM vital_signs WHERE id = :id"), {"id": vitals_id})
    db.session.commit()
    return db.session.scalar(text("SELECT max(id) FROM vital_signs"))


def test_a_row_inserted_past_the_app_is_named(runner, charted):
    _, first, _ = charted
    forged = _copy_by_sql(first.id, "forged")
    result = _verify(runner)
    assert result.exit_code != 0
    assert f"vital_signs #{forged}: no creation event carries its hash" in result.output


def test_a_deleted_row_is_named(runner, charted):
    _, _, second = charted
    with triggers_dropped("vital_signs"):
        db.session.execute(text("DELETE FROM vital_signs WHERE id = :id"), {"id": second.id})
    result = _verify(runner)
    assert result.exit_code != 0
    assert f"vital_signs #{second.id}: row is missing" in result.output


def test_demo_ward_verifies_with_every_kind_of_entry(runner):
    seed()
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    # verify-audit names any row without a hash, so passing means every entry below has one.
    for table in ("vital_signs", "withdrawal_assessment", "nursing_note", "safety_check",
                  "escalation"):
        count = db.session.scalar(text(f"SELECT count(*) FROM {table}"))
        assert count > 0, table


def _append_only_tables() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(text(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_update'"))
    else:
        rows = db.session.execute(text(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE '%_append_only' AND trigger_schema = current_schema()"))
    return {name for name, in rows}


def test_every_append_only_clinical_table_is_hashed(app):
    # A new clinical table (PRN orders and doses, …) fails here until it is added to
    # content_hash.HASHED_TABLES and its service passes content_of= to audit.record.
    assert _append_only_tables() - NOT_HASHED == set(content_hash.HASHED_TABLES)


@pytest.mark.parametrize(("row", "same_as"), [
    ({"a": 1, "b": None}, {"a": 1}),
    ({"t": datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))},
     {"t": datetime(2026, 3, 1, 8, 0, tzinfo=UTC)}),
    ({"d": Decimal("1.50")}, {"d": Decimal("1.5")}),
    ({"j": {"b": 1, "a": [1, 2]}}, {"j": {"a": [1, 2], "b": 1}}),
])
def test_canonical_content_ignores_nulls_zones_trailing_zeros_and_key_order(row, same_as):
    assert content_hash.content_digest(row) == content_hash.content_digest(same_as)


def test_canonical_content_changes_with_any_value():
    assert content_hash.content_digest({"heart_rate": 88}) != content_hash.content_digest(
        {"heart_rate": 60})


def test_the_other_entry_kinds_carry_hashes_and_changes_to_them_are_named(
        runner, charted, make_user):
    from clinic import entries
    from clinic.escalations import services as escalations
    from clinic.monitoring import services as monitoring
    from clinic.rounds import services as rounds

    admission, first, _ = charted
    nurse = make_user("nurse")
    physician = make_user("physician")
    escalation = escalations.raise_by_hand(by=nurse, admission=admission, level="urgent",
                                           reason="Agitated", idempotency_key="esc-1")
    escalations.add_update(by=nurse, escalation=escalation, kind="informed",
                           happened_at=datetime.now(UTC), informed_who="Dr Raman, physician")
    rounds.change_observation_level(by=nurse, admission=admission, level="intermittent_15",
                                    reason="Paranoid thoughts")
    monitoring.set_override(by=physician, admission=admission, protocol="ketamine",
                            interval_minutes=120, reason="Settled for two days")
    entries.retract(by=first.recorded_by, entry=first, reason="Wrong patient")
    db.session.commit()
    assert _verify(runner).exit_code == 0

    tampered = {
        "escalation_update": "informed_who = 'nobody'",
        "observation_level_change": "reason = 'changed'",
        "protocol_override": "interval_minutes = 600",
        "entry_retraction": "reason = 'changed'",
        "escalation": "reason = 'changed'",
    }
    with triggers_dropped(*tampered):
        for table, change in tampered.items():
            db.session.execute(text(f"UPDATE {table} SET {change}"))
    result = _verify(runner)
    assert result.exit_code != 0
    for table in tampered:
        assert f"{table} #" in result.output, table


def test_baseline_vouches_for_rows_written_before_content_hashes(runner, charted):
    _, first, _ = charted
    # As an upgraded database holds them: a row whose creation event carries no hash.
    _copy_by_sql(first.id, "legacy")
    assert _verify(runner).exit_code != 0

    result = runner.invoke(args=["audit-baseline"])
    assert result.exit_code == 0, result.output
    assert "vital_signs: 1 rows vouched for as they are now." in result.output
    assert _verify(runner).exit_code == 0
    again = runner.invoke(args=["audit-baseline"])
    assert "nothing to do" in again.output


def test_rows_charted_while_verifying_are_left_for_the_next_run(runner, charted, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's verifying transaction already holds writers back")
    first_id = charted[1].id
    real_verify = content_hash.verify

    def commit_a_row_meanwhile(recorded, **kwargs):
        # Another connection commits a row after the events were read (no event for it yet).
        with db.engine.connect() as other:
            columns = [c for c in db.metadata.tables["vital_signs"].columns.keys() if c != "id"]
            select_list = ", ".join("'meanwhile'" if c == "idempotency_key" else c for c in columns)
            other.execute(text(f"INSERT INTO vital_signs ({', '.join(columns)}) SELECT "
                               f"{select_list} FROM vital_signs WHERE id = :id"), {"id": first_id})
            other.commit()
        return real_verify(recorded, **kwargs)

    monkeypatch.setattr(content_hash, "verify", commit_a_row_meanwhile)
    result = _verify(runner)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Clinical rows intact: 2 rows" in result.output
