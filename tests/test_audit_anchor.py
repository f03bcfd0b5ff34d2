"""verify-audit --anchor: a head kept off the database catches removal of the newest events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from clinic import audit
from clinic.extensions import db
from clinic.models import AuditEvent
from tests.tamper import triggers_dropped


@pytest.fixture
def events(app, make_user):
    """Write a few events and return their ids."""
    user = make_user("nurse")
    ids = [audit.record("view", user=user, object_type="test", object_id=n).id for n in range(5)]
    db.session.commit()
    return ids


def _verify(runner, anchor):
    return runner.invoke(args=["verify-audit", "--anchor", str(anchor)])


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_first_run_writes_the_verified_head(runner, events, tmp_path):
    anchor = tmp_path / "audit-head.json"
    result = _verify(runner, anchor)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 5 events checked." in result.output
    head = json.loads(anchor.read_text())
    newest = db.session.get(AuditEvent, events[-1])
    assert head["event_id"] == newest.id and head["count"] == 5 and head["hash"] == newest.hash
    assert head["verified_at"]


def test_a_longer_chain_moves_the_head_on(runner, events, make_user, tmp_path):
    anchor = tmp_path / "audit-head.json"
    assert _verify(runner, anchor).exit_code == 0
    newer = audit.record("view", user=make_user("nurse"), object_type="test").id
    db.session.commit()
    result = _verify(runner, anchor)
    assert result.exit_code == 0, result.output
    assert json.loads(anchor.read_text())["event_id"] == newer


def test_removing_the_newest_events_is_detected(runner, events, tmp_path):
    anchor = tmp_path / "audit-head.json"
    assert _verify(runner, anchor).exit_code == 0
    written = anchor.read_text()
    with triggers_dropped("audit_event"):
        db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": events[3]})
    # The shorter chain verifies on its own: that is the gap the anchor closes.
    assert audit.verify_chain().ok and _count() == 3

    result = _verify(runner, anchor)
    assert result.exit_code != 0
    assert f"event id {events[-1]}" in result.output and "no longer in the chain" in result.output
    assert anchor.read_text() == written, "a failed run keeps the earlier head"


def test_emptying_the_table_is_detected(runner, events, tmp_path):
    anchor = tmp_path / "audit-head.json"
    assert _verify(runner, anchor).exit_code == 0
    with triggers_dropped("audit_event"):
        db.session.execute(text("DELETE FROM audit_event"))
    result = _verify(runner, anchor)
    assert result.exit_code != 0 and "removed" in result.output


def test_a_head_whose_hash_changed_is_detected(runner, events, tmp_path):
    anchor = tmp_path / "audit-head.json"
    assert _verify(runner, anchor).exit_code == 0
    head = json.loads(anchor.read_text())
    anchor.write_text(json.dumps({**head, "hash": "f" * 64}))
    result = _verify(runner, anchor)
    assert result.exit_code != 0 and "no longer has the hash" in result.output


def test_an_unreadable_anchor_fails_and_is_not_overwritten(runner, events, tmp_path):
    anchor = tmp_path / "audit-head.json"
    anchor.write_text("not json")
    result = _verify(runner, anchor)
    assert result.exit_code != 0 and "cannot read the anchor file" in result.output
    assert anchor.read_text() == "not json"


def test_without_anchor_the_command_is_unchanged(runner, events):
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0 and "5 events checked" in result.output
    assert "Head" not in result.output
