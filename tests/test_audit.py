"""The audit trail: append-only in the database, HMAC-chained, written by features, searchable."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from clinic import audit
from clinic.audit_report.services import PAGE_SIZE, detail_lines
from clinic.db import append_only_ddl
from clinic.extensions import db
from clinic.models import AuditEvent, User

SORT_COLUMNS = ("occurred_at", "user", "patient", "action", "object", "ip")


def _event_ids(response) -> list[int]:
    """Return the event ids a report page lists, in the order shown."""
    return [int(n) for n in re.findall(r"event #(\d+)", response.get_data(as_text=True))]


def _all_ids() -> list[int]:
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


@pytest.fixture
def some_events(app, make_user):
    """Write a few events straight through the writer and return their ids."""
    user = make_user("nurse")
    ids = []
    for n in range(5):
        ids.append(audit.record("view", user=user, object_type="test", object_id=n,
                                detail={"n": n}).id)
    db.session.commit()
    return ids


@contextmanager
def append_only_lifted():
    """Let the test tamper with audit_event, restoring the trigger afterwards."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            db.session.execute(text(f"DROP TRIGGER audit_event_no_{verb}"))
    else:
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    try:
        yield
    finally:
        if dialect == "sqlite":
            for statement in append_only_ddl("audit_event", "sqlite"):
                db.session.execute(text(statement))
        else:
            db.session.execute(
                text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
            )
        db.session.commit()


# --- append-only, enforced by the database -------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET detail = 'forged' WHERE id = :id",
        "UPDATE audit_event SET user_id = NULL WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_raw_sql_cannot_change_or_remove_events(app, some_events, statement):
    before = db.session.execute(select(AuditEvent.id, AuditEvent.detail)).all()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": some_events[2]})
    db.session.rollback()
    assert db.session.execute(select(AuditEvent.id, AuditEvent.detail)).all() == before


def test_orm_cannot_change_an_event(app, some_events):
    db.session.get(AuditEvent, some_events[0]).detail = '{"forged":true}'
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, some_events[0]).detail == '{"n":0}'


def test_orm_cannot_delete_an_event(app, some_events):
    db.session.delete(db.session.get(AuditEvent, some_events[0]))
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()
    assert _all_ids() == some_events


def test_lifting_the_trigger_in_a_test_restores_it(app, some_events):
    with append_only_lifted():
        pass
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()


# --- the HMAC chain -------------------------------------------------------------------------


def _busy_day(client, auth, make_admission):
    """Write a realistic mix of events: logins, a failed login, an admission, views, a logout."""
    admission = make_admission()
    nurse = auth.login_as("nurse")
    client.get(f"/admissions/{admission.id}")
    auth.logout()
    auth.login(nurse.username, "wrong password")
    auth.login_as("auditor")
    client.get("/audit/")
    db.session.commit()


def test_chain_is_intact_after_ordinary_use(client, auth, make_admission):
    _busy_day(client, auth, make_admission)
    count = len(_all_ids())
    assert count >= 8
    report = audit.verify_chain()
    assert report.ok and report.rows_checked == count and report.problem is None
    # Small batches cross batch boundaries and still link up.
    assert audit.verify_chain(batch_size=3).ok


def test_writers_at_once_extend_one_chain(app, make_user):
    """Concurrent writers each link to the row before theirs: the chain never forks."""
    user_id = make_user("nurse").id
    db.session.commit()
    errors = []

    def write(worker: int):
        try:
            for n in range(15):
                with app.app_context():
                    audit.record("view", object_type="test", object_id=f"{worker}-{n}",
                                 user=db.session.get(User, user_id))
                    db.session.commit()
        except Exception as error:  # reported below, as a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = audit.verify_chain()
    assert report.ok, report.problem
    assert report.rows_checked == len(_all_ids()) >= 60


def test_chain_names_the_row_whose_content_changed(app, client, auth, make_admission):
    _busy_day(client, auth, make_admission)
    ids = _all_ids()
    tampered = ids[len(ids) // 2]
    with append_only_lifted():
        db.session.execute(
            text("UPDATE audit_event SET detail = :d WHERE id = :id"),
            {"d": '{"page":"nothing to see"}', "id": tampered},
        )
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_broken_id == tampered
    assert report.rows_checked == ids.index(tampered)
    assert "content" in report.problem


def test_chain_names_the_row_after_a_deleted_one(app, client, auth, make_admission):
    _busy_day(client, auth, make_admission)
    ids = _all_ids()
    middle = len(ids) // 2
    with append_only_lifted():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[middle]})
    report = audit.verify_chain()
    assert report.first_broken_id == ids[middle + 1]
    assert "missing" in report.problem


def test_chain_notices_a_deleted_last_row_only_by_count(app, some_events):
    # Documented limit: dropping the newest rows leaves a valid shorter chain; the count in the
    # command's output is what an operator compares with the last run.
    with append_only_lifted():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": some_events[-1]})
    report = audit.verify_chain()
    assert report.ok and report.rows_checked == len(some_events) - 1


def test_verify_audit_command_on_a_good_chain(runner, some_events):
    db.session.commit()
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert f"{len(some_events)} events" in result.output


def test_verify_audit_command_on_a_broken_chain(runner, some_events):
    with append_only_lifted():
        db.session.execute(
            text("UPDATE audit_event SET ip = '10.6.6.6' WHERE id = :id"), {"id": some_events[3]}
        )
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code != 0
    assert f"event id {some_events[3]}" in result.output


def test_wrong_key_fails_at_the_first_row(app, runner, some_events, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_HMAC_KEY", "not-the-key-the-chain-was-written-with")
    report = audit.verify_chain()
    assert report.first_broken_id == some_events[0]
    assert report.rows_checked == 0
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code != 0 and f"event id {some_events[0]}" in result.output


class TestChainWrittenUnderAnotherKey:
    """An app configured with another key writes a chain only that key verifies."""

    @pytest.fixture
    def config_overrides(self):
        return {"AUDIT_HMAC_KEY": "a-different-deployment-key"}

    def test_own_key_verifies_and_the_test_key_does_not(self, app, some_events, monkeypatch):
        assert audit.verify_chain().ok
        monkeypatch.setitem(app.config, "AUDIT_HMAC_KEY", "test-audit-key")
        assert audit.verify_chain().first_broken_id == some_events[0]


# --- events written by the features --------------------------------------------------------


def test_login_is_audited(client, auth, audit_events):
    user = auth.login_as("nurse")
    (login,) = audit_events("login")
    assert login.user_id == user.id and login.username == user.username
    assert login.object_type == "session" and login.session_id is not None
    assert login.ip == "127.0.0.1"


def test_failed_login_is_audited_with_the_name_typed(client, auth, make_user, audit_events):
    user = make_user("nurse")
    auth.login(user.username, "not the password")
    auth.login("  No-Such-Person ", "whatever")
    known, unknown = audit_events("login_failed")
    assert known.user_id == user.id and known.username == user.username
    assert unknown.user_id is None and unknown.username == "no-such-person"
    assert '"reason":"bad credentials"' in unknown.detail
    assert audit_events("login") == []


def test_logout_is_audited(client, auth, audit_events):
    user = auth.login_as("nurse")
    auth.logout()
    (logout,) = audit_events("logout")
    assert logout.user_id == user.id and logout.object_type == "session"


def test_chart_view_is_audited_with_the_patient(client, auth, make_admission, audit_events):
    admission = make_admission()
    nurse = auth.login_as("nurse")
    assert client.get(f"/admissions/{admission.id}").status_code == 200
    (view,) = audit_events("view")
    assert view.user_id == nurse.id and view.patient_id == admission.patient_id
    assert view.object_type == "admission" and view.object_id == str(admission.id)


def test_board_view_is_audited_with_the_patients_shown(client, auth, make_admission, audit_events):
    admission = make_admission()
    auth.login_as("charge_nurse")
    assert client.get(f"/units/{admission.unit_id}/board").status_code == 200
    (view,) = audit_events("view")
    assert view.object_type == "unit_board" and view.object_id == str(admission.unit_id)
    assert f'"patients":[{admission.patient_id}]' in view.detail


def test_admission_writes_create_events_with_after_detail(app, make_admission, audit_events):
    admission = make_admission(mrn="K-100")
    creates = {e.object_type: e for e in audit_events("create")}
    patient, episode = creates["patient"], creates["admission"]
    assert patient.object_id == str(admission.patient_id)
    assert patient.patient_id == episode.patient_id == admission.patient_id
    assert episode.object_id == str(admission.id) and episode.clinical_at is not None
    assert '"after":' in patient.detail and "K-100" in patient.detail
    assert '"after":' in episode.detail


# --- the report ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_open_the_report(client, auth, role):
    auth.login_as(role)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Audit report" in page and "style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, "no inline script (CSP)"


@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "physician"])
def test_clinical_roles_cannot_open_the_report(client, auth, audit_events, role):
    auth.login_as(role)
    assert client.get("/audit/").status_code == 403
    assert [e for e in audit_events("view") if e.object_type == "audit_report"] == []


def test_anonymous_is_sent_to_login(client):
    response = client.get("/audit/?action=login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_viewing_the_report_is_audited(client, auth, audit_events, make_admission):
    admission = make_admission(mrn="Q-7")
    auditor = auth.login_as("auditor")
    client.get("/audit/?mrn=q-7&action=create&date_from=2020-01-01")
    (view,) = audit_events("view")
    assert view.user_id == auditor.id and view.object_type == "audit_report"
    assert view.patient_id == admission.patient_id
    assert '"mrn":"q-7"' in view.detail and '"action":"create"' in view.detail
    assert '"date_from":"2020-01-01"' in view.detail and '"page":1' in view.detail
    assert f'"patients":[{admission.patient_id}]' in view.detail


def test_filter_by_user_exact_or_prefix(client, auth, make_user):
    users = [make_user("nurse", username=n) for n in ("ann", "anna", "an_x", "bob")]
    mine = {u.username: audit.record("view", user=u).id for u in users}
    db.session.commit()
    auth.login_as("auditor")
    assert _event_ids(client.get("/audit/?user=ANN")) == [mine["ann"]]
    assert _event_ids(client.get("/audit/?user=ann*")) == [mine["anna"], mine["ann"]]
    # LIKE wildcards typed by the user are taken literally.
    assert _event_ids(client.get("/audit/?user=an_*")) == [mine["an_x"]]
    assert _event_ids(client.get("/audit/?user=nobody")) == []


def test_filter_by_mrn(client, auth, make_admission):
    first = make_admission(mrn="A-1")
    second = make_admission(mrn="B-2", unit=first.unit)
    expected = list(db.session.scalars(
        select(AuditEvent.id).where(AuditEvent.patient_id == second.patient_id)
        .order_by(AuditEvent.id.desc())
    ))
    assert expected
    auth.login_as("admin")
    response = client.get("/audit/?mrn=%20b-2%20")
    assert _event_ids(response) == expected
    page = response.get_data(as_text=True)
    assert "TESTPERSON, Sam" in page and "B-2" in page


def test_filter_by_action(client, auth, make_user):
    nurse = make_user("nurse")
    auth.login(nurse.username, "wrong")
    auth.login_as("auditor")
    failed = [e.id for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login_failed")
    )]
    assert _event_ids(client.get("/audit/?action=login_failed")) == failed
    logins = _event_ids(client.get("/audit/?action=login"))
    assert len(logins) == 1 and logins != failed


def test_filter_by_local_date_range(app, client, auth, make_user, monkeypatch):
    user = make_user("nurse")
    # Europe/London in July is UTC+1, so the middle event falls on 2 July locally.
    times = {
        "late on the 1st": datetime(2024, 7, 1, 22, 30, tzinfo=UTC),
        "early on the 2nd": datetime(2024, 7, 1, 23, 30, tzinfo=UTC),
        "on the 3rd": datetime(2024, 7, 3, 12, 0, tzinfo=UTC),
    }
    ids = {}
    for label, when in times.items():
        monkeypatch.setattr(audit, "utc_now", lambda when=when: when)
        ids[label] = audit.record("view", user=user, object_type="test").id
    db.session.commit()
    monkeypatch.undo()
    assert app.config["DISPLAY_TIMEZONE"] == "Europe/London"
    auth.login_as("auditor")

    def found(query):
        return _event_ids(client.get(f"/audit/?user={user.username}&{query}"))

    assert found("date_from=2024-07-02&date_to=2024-07-02") == [ids["early on the 2nd"]]
    assert found("date_to=2024-07-01") == [ids["late on the 1st"]]
    assert found("date_from=2024-07-02") == [ids["on the 3rd"], ids["early on the 2nd"]]
    assert found("date_from=2024-07-01&date_to=2024-07-03") == [
        ids["on the 3rd"], ids["early on the 2nd"], ids["late on the 1st"]
    ]


@pytest.mark.parametrize("column", SORT_COLUMNS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_column_sorts_both_ways(client, auth, make_admission, column, direction):
    make_admission()
    auth.login_as("auditor")
    response = client.get(f"/audit/?sort={column}&dir={direction}&action=any")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'aria-sort="{"ascending" if direction == "asc" else "descending"}"' in page
    assert len(_event_ids(response)) >= 3
    # The header link of the sorted column flips the order and keeps the filters.
    flipped = "desc" if direction == "asc" else "asc"
    assert f'href="/audit/?sort={column}&amp;dir={flipped}"' in page


def test_sorting_puts_rows_in_order(client, auth, make_user):
    names = ["carol", "alice", "bob"]
    users = [make_user("nurse", username=n) for n in names]
    for user, action in zip(users, ["print", "export", "view"], strict=True):
        audit.record(action, user=user, object_type="test")
    db.session.commit()
    auth.login_as("auditor")

    def shown(query):
        ids = _event_ids(client.get(f"/audit/?{query}"))
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)))
        by_id = {e.id: e for e in rows}
        return [by_id[i] for i in ids]

    usernames = [e.username for e in shown("sort=user&dir=asc")]
    assert usernames == sorted(usernames) and {"alice", "bob", "carol"} <= set(usernames)
    usernames = [e.username for e in shown("sort=user&dir=desc")]
    assert usernames == sorted(usernames, reverse=True)
    actions = [e.action for e in shown("sort=action&dir=asc")]
    assert actions == sorted(actions) and {"print", "export", "view"} <= set(actions)
    ids = _all_ids()
    assert _event_ids(client.get("/audit/?sort=occurred_at&dir=asc"))[:3] == ids[:3]


def test_unknown_sort_column_falls_back_to_newest_first(client, auth, some_events):
    auth.login_as("auditor")
    response = client.get("/audit/?sort=password_hash;drop&dir=sideways")
    assert response.status_code == 200
    shown = _event_ids(response)
    assert shown == sorted(shown, reverse=True)


def test_paging_fifty_a_page(client, auth, make_user):
    user = make_user("nurse")
    for n in range(2 * PAGE_SIZE + 7):
        audit.record("view", user=user, object_type="test", object_id=n)
    db.session.commit()
    auth.login_as("auditor")
    total = len(_all_ids())
    first = client.get("/audit/")
    text_first = first.get_data(as_text=True)
    assert f"<strong>{total}</strong> events" in text_first
    assert "Page 1 of 3" in text_first and "Older" in text_first and "Newer" not in text_first
    older = re.search(r'rel="next" href="([^"]+)"', text_first).group(1).replace("&amp;", "&")
    second = client.get(older)
    text_second = second.get_data(as_text=True)
    assert "Page 2 of 3" in text_second and "Newer" in text_second
    third_url = re.search(r'rel="next" href="([^"]+)"', text_second).group(1).replace("&amp;", "&")
    third = client.get(third_url)
    pages = [_event_ids(first), _event_ids(second), _event_ids(third)]
    assert [len(p) for p in pages] == [PAGE_SIZE, PAGE_SIZE, total - 2 * PAGE_SIZE]
    # The report's own view events, written meanwhile, neither shift nor repeat rows.
    assert sum(pages, []) == sorted(_all_ids()[:total], reverse=True)
    assert "Page 3 of 3" in third.get_data(as_text=True)
    assert 'rel="next"' not in third.get_data(as_text=True)
    # A page number past the end shows the last page, never an error.
    assert client.get("/audit/?page=999999999999999999999").status_code == 200


def test_report_query_count_does_not_grow_with_rows(app, client, auth, make_admission, make_user):
    auth.login_as("auditor")

    def queries_for(url):
        statements = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    few = queries_for("/audit/")
    unit = make_admission().unit
    for _ in range(3):
        admission = make_admission(unit=unit, by=make_user("charge_nurse"))
        audit.record("view", user=make_user("nurse"), patient_id=admission.patient_id)
    db.session.commit()
    many = queries_for("/audit/")
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "field", "message", "kept"),
    [
        ("date_from=2024-02-30", "date_from", "Not a valid date value", 'value="2024-02-30"'),
        ("date_to=yesterday", "date_to", "Not a valid date value", 'value="yesterday"'),
        ("date_from=0001-01-01", "date_from", "Enter a date between", 'value="0001-01-01"'),
        ("date_to=9999-12-31", "date_to", "Enter a date between", 'value="9999-12-31"'),
        ("date_from=2024-03-02&date_to=2024-03-01", "date_from", "after the end date",
         'value="2024-03-02"'),
        ("mrn=ZZ-404", "mrn", "No patient has this MRN", 'value="ZZ-404"'),
        ("mrn=%27%3B--", "mrn", "letters, digits and hyphens", 'value="&#39;;--"'),
        ("action=drop_table", "action", "Not a valid choice", "Any"),
    ],
)
def test_invalid_filters_say_why_and_keep_what_was_typed(client, auth, query, field, message, kept):
    auth.login_as("auditor")
    response = client.get(f"/audit/?{query}&user=kept.name")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    msg_block = re.search(rf'id="{field}-msg">(.*?)</div>', page, re.S)
    assert msg_block and message in msg_block.group(1)
    assert kept in page and 'value="kept.name"' in page
    assert "No search done" in page and _event_ids(response) == []


def test_every_wrong_filter_is_marked_at_once(client, auth):
    auth.login_as("auditor")
    page = client.get("/audit/?mrn=ZZ-404&date_to=2024-02-30").get_data(as_text=True)
    assert "No patient has this MRN" in page and "Not a valid date value" in page


def test_detail_reads_as_field_changes(app):
    lines = detail_lines(
        '{"after":{"allergies":"Penicillin","bed":"4"},"before":{"allergies":null,"bed":"2"},'
        '"change":"transfer","reason":"closer to the station"}'
    )
    assert lines == [
        "change: transfer",
        "reason: closer to the station",
        "allergies: — → Penicillin",
        "bed: 2 → 4",
    ]
    assert detail_lines('{"after":{"mrn":"A-1","protocols":["vitals","ketamine"]}}') == [
        "mrn: A-1", "protocols: vitals, ketamine"
    ]
    assert detail_lines("{}") == []
    assert detail_lines('{"after":{"admitted_at":"2024-07-01T23:30:00+00:00"}}') == [
        "admitted at: 02 Jul 2024 00:30 BST"
    ]
    long = detail_lines('{"note":"' + "x" * 500 + '"}')[0]
    assert len(long) < 100 and long.endswith("…")


def test_report_shows_events_readably(client, auth, make_admission):
    admission = make_admission(mrn="R-9")
    auth.login_as("auditor")
    page = client.get("/audit/?mrn=R-9&action=create").get_data(as_text=True)
    assert "R-9" in page and admission.patient.display_name in page
    assert f"admission #{admission.id}" in page and f"patient #{admission.patient_id}" in page
    assert "mrn: R-9" in page
    assert re.search(r"\d{2} \w{3} \d{4} \d{2}:\d{2} (GMT|BST)", page)


def test_old_events_sort_after_recent_ones(client, auth, make_user, monkeypatch):
    user = make_user("nurse")
    monkeypatch.setattr(audit, "utc_now", lambda: datetime.now(UTC) - timedelta(days=400))
    old = audit.record("view", user=user, object_type="test").id
    monkeypatch.undo()
    db.session.commit()
    auth.login_as("auditor")
    assert _event_ids(client.get("/audit/"))[-1] == old
