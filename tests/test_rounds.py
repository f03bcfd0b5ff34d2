"""Safety observation rounds: several patients per submission, lateness, missed checks, levels."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import escape

import pytest
from sqlalchemy import event, func, select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, MissedCheckNote, ObservationLevelChange, SafetyCheck
from clinic.rounds import services
from clinic.routing import local_now

TIME_FORMAT = "%Y-%m-%dT%H:%M"


# --- helpers -------------------------------------------------------------------------------------

@pytest.fixture
def ward(make_unit):
    """A unit whose only shift began eight hours ago, so "this shift" never starts mid-test."""
    from zoneinfo import ZoneInfo

    start = utc_now().astimezone(ZoneInfo("Europe/London")) - timedelta(hours=8)
    return make_unit(beds=8, shift_pattern=f"Ward {start:%H:%M}")


@pytest.fixture
def charge(make_user):
    return make_user("charge_nurse")


@pytest.fixture
def patients(ward, charge, make_admission):
    """Admit n patients to the ward, ten hours ago, in bed order."""
    def admit(n: int) -> list[Admission]:
        return [make_admission(unit=ward, by=charge, hours_ago=10, family_name=f"Patient{i}")
                for i in range(n)]
    return admit


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def rounds_url(unit) -> str:
    return f"/units/{unit.id}/rounds"


def local(unit, minutes_ago: float = 0) -> str:
    return (local_now(unit) - timedelta(minutes=minutes_ago)).strftime(TIME_FORMAT)


def hhmm(unit, at) -> str:
    return at.astimezone(unit.zone).strftime("%H:%M")


def shows_time(html: str, clock: str) -> bool:
    """Whether a page shows a clock time: "18:18", not the minutes and seconds of "02:18:18.17"."""
    return re.search(rf"(?<![\d:]){clock}(?![\d:])", html) is not None


def round_form(rows: dict, *, key: str | None = None, checked_at: str | None = None,
               shown: str | None = None, reason: str | None = None) -> dict:
    """Build a round submission; rows map an admission to (location, activity[, concern])."""
    data = {"idempotency_key": key or uuid.uuid4().hex}
    for admission, values in rows.items():
        for name, value in zip(("location", "activity", "concern"), values, strict=False):
            if value is not None:
                data[f"p{admission.id}-{name}"] = value
    if checked_at is not None:
        data["checked_at"] = checked_at
    if shown is not None:
        data["checked_at_shown"] = shown
    if reason is not None:
        data["backdate_reason"] = reason
    return data


def stored_checks() -> list[SafetyCheck]:
    db.session.expire_all()
    return list(db.session.scalars(select(SafetyCheck).order_by(SafetyCheck.id)))


def add_check(admission, by, minutes_ago: float, *, recorded_minutes_ago: float | None = None) -> SafetyCheck:
    """Store a check with chosen clinical and recording times, as if charted then."""
    now = utc_now()
    check = SafetyCheck(
        admission=admission, recorded_by=by, observed_at=now - timedelta(minutes=minutes_ago),
        recorded_at=now - timedelta(minutes=minutes_ago if recorded_minutes_ago is None
                                    else recorded_minutes_ago),
        idempotency_key=uuid.uuid4().hex, location="bedroom", activity="resting",
    )
    db.session.add(check)
    db.session.commit()
    return check


def row_html(page: str, admission) -> str:
    found = re.search(
        rf'<section class="round-row[^"]*" id="admission-{admission.id}".*?</section>', page, re.S
    )
    assert found, f"no row for admission {admission.id}"
    return found.group(0)


def checked_values(html: str) -> dict[str, str]:
    """Return the name -> value of every checked radio, and every text input with a value."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or not value:
            continue
        if 'type="radio"' in tag and " checked" not in tag:
            continue
        values[name.group(1)] = value.group(1)
    return values


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- recording a round ---------------------------------------------------------------------------

def test_round_for_three_patients_saves_three_checks_under_one_round_key(client, ward, patients, nurse,
                                                                          audit_events):
    a, b, c, untouched = patients(4)
    before = utc_now()
    response = client.post(rounds_url(ward), data=round_form({
        a: ("bedroom", "sleeping"), b: ("day_room", "awake", "Tearful, talking to staff"),
        c: ("bathroom", "resting"), untouched: (None, None, ""),
    }), follow_redirects=True)

    checks = stored_checks()
    assert response.status_code == 200
    assert response.request.path == rounds_url(ward)
    assert (f"Safety checks saved for {escape(a.patient.display_name)} and 2 others, checked at "
            in response.get_data(as_text=True))
    assert [ch.admission_id for ch in checks] == [a.id, b.id, c.id]
    assert len({ch.round_key for ch in checks}) == 1 and checks[0].round_key
    assert {ch.idempotency_key for ch in checks} == {f"{checks[0].round_key}:{x.id}" for x in (a, b, c)}
    assert [(ch.location, ch.activity) for ch in checks] == [
        ("bedroom", "sleeping"), ("day_room", "awake"), ("bathroom", "resting")]
    assert checks[1].concern == "Tearful, talking to staff" and checks[0].concern is None
    assert all(ch.recorded_by_id == nurse.id and ch.backdate_reason is None for ch in checks)
    assert all(before - timedelta(seconds=1) <= ch.observed_at <= utc_now() for ch in checks)
    created = [e for e in audit_events("create") if e.object_type == "safety_check"]
    assert sorted(int(e.object_id) for e in created) == [ch.id for ch in checks]
    assert {e.patient_id for e in created} == {a.patient_id, b.patient_id, c.patient_id}
    assert all(json.loads(e.detail)["after"]["round_key"] == checks[0].round_key for e in created)


def test_row_with_only_a_location_refuses_the_whole_round_and_keeps_what_was_tapped(client, ward, patients,
                                                                                   nurse):
    a, b = patients(2)
    response = client.post(rounds_url(ward), data=round_form({
        a: ("bedroom", "sleeping", "Snoring"), b: ("dining", None, "Pacing"),
    }))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert stored_checks() == []
    assert "Nothing in this round was charted" in html
    assert "Tap what the patient was doing as well." in row_html(html, b)
    assert "Tap what the patient was doing" not in row_html(html, a)
    shown = checked_values(html)
    assert shown[f"p{a.id}-location"] == "bedroom" and shown[f"p{a.id}-activity"] == "sleeping"
    assert shown[f"p{b.id}-location"] == "dining" and f"p{b.id}-activity" not in shown
    assert shown[f"p{a.id}-concern"] == "Snoring" and shown[f"p{b.id}-concern"] == "Pacing"


def test_an_empty_round_saves_nothing(client, ward, patients, nurse):
    patients(2)
    response = client.post(rounds_url(ward), data=round_form({}))
    assert response.status_code == 422
    assert "Nothing to save" in response.get_data(as_text=True)
    assert stored_checks() == []


def test_back_dated_round_needs_a_reason_which_is_stored(client, ward, patients, nurse):
    [a] = patients(1)
    typed = local(ward, 20)
    refused = client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")}, checked_at=typed))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "needs the reason it is back-dated" in html
    assert stored_checks() == []
    assert checked_values(html)["checked_at"] == typed

    saved = client.post(rounds_url(ward), data=round_form(
        {a: ("bedroom", "resting")}, checked_at=typed, reason="Charted after a fire alarm"))
    [check] = stored_checks()
    assert saved.status_code == 302
    assert check.backdate_reason == "Charted after a fire alarm"
    assert hhmm(ward, check.observed_at) == typed[-5:]
    # Typed to the minute, so 20 to 21 minutes ago, plus however long this test has run.
    assert 19 <= (utc_now() - check.observed_at).total_seconds() / 60 < 22
    history = page(client, f"/admissions/{a.id}/checks")
    assert "Back-dated because:" in history and "Charted after a fire alarm" in history


def test_a_few_minutes_earlier_is_not_back_dated(client, ward, patients, nurse):
    [a] = patients(1)
    response = client.post(rounds_url(ward), data=round_form({a: ("group", "in_group")},
                                                             checked_at=local(ward, 3)))
    [check] = stored_checks()
    assert response.status_code == 302
    assert check.backdate_reason is None


def test_round_time_before_a_patients_admission_is_refused_next_to_that_row(client, ward, charge,
                                                                            make_admission, patients, nurse):
    [settled] = patients(1)
    newcomer = make_admission(unit=ward, by=charge, hours_ago=0.1)
    response = client.post(rounds_url(ward), data=round_form(
        {settled: ("bedroom", "resting"), newcomer: ("bedroom", "awake")},
        checked_at=local(ward, 30), reason="Charting after an incident"))

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "before this admission began" in row_html(html, newcomer)
    assert "before this admission began" not in row_html(html, settled)
    assert stored_checks() == []


def test_future_check_time_is_refused(client, ward, patients, nurse):
    [a] = patients(1)
    response = client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")},
                                                             checked_at=local(ward, -10)))
    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)
    assert stored_checks() == []


def test_time_left_as_offered_is_stamped_at_saving(client, ward, patients, nurse):
    # A round walked slowly: the page offered 15 min ago, the nurse saves now without touching it.
    [a] = patients(1)
    offered = local(ward, 15)
    response = client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")},
                                                             checked_at=offered, shown=offered))
    [check] = stored_checks()
    assert response.status_code == 302
    assert (utc_now() - check.observed_at) < timedelta(minutes=1)
    assert check.backdate_reason is None


def test_resubmitted_round_is_saved_once(client, ward, patients, nurse):
    a, b = patients(2)
    form = round_form({a: ("bedroom", "sleeping"), b: ("day_room", "eating")})
    first = client.post(rounds_url(ward), data=form)
    again = client.post(rounds_url(ward), data=form, follow_redirects=True)

    assert first.status_code == 302
    assert again.status_code == 200
    assert "already saved" in again.get_data(as_text=True)
    assert len(stored_checks()) == 2


def test_service_returns_the_saved_round_for_a_used_key(app, ward, patients, make_user):
    [a] = patients(1)
    nurse = make_user("nurse")
    entry = services.RoundEntry(a, "bedroom", "resting")
    first = services.record_round(by=nurse, unit=ward, entries=[entry], checked_at=utc_now(),
                                  backdate_reason=None, round_key="k" * 32)
    second = services.record_round(by=nurse, unit=ward, entries=[entry], checked_at=utc_now(),
                                   backdate_reason=None, round_key="k" * 32)
    db.session.commit()
    assert [c.id for c in second] == [c.id for c in first]
    assert len(stored_checks()) == 1


def test_patient_not_on_the_unit_refuses_the_round(client, ward, patients, make_admission, nurse):
    [a] = patients(1)
    elsewhere = make_admission()
    response = client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting"),
                                                               elsewhere: ("bedroom", "resting")}))
    assert response.status_code == 422
    assert "is no longer on" in response.get_data(as_text=True)
    assert stored_checks() == []


# --- lateness, missed checks, back-filling -------------------------------------------------------

def test_status_is_overdue_after_one_and_a_half_intervals(client, ward, patients, charge, nurse):
    late, due_now, fresh = patients(3)
    add_check(late, charge, 91)
    add_check(due_now, charge, 89)
    fresh_check = add_check(fresh, charge, 10)

    html = page(client, rounds_url(ward))
    assert "OVERDUE" in row_html(html, late) and "status-overdue" in row_html(html, late)
    assert "OVERDUE" not in row_html(html, due_now) and "DUE" in row_html(html, due_now)
    assert "OK" in row_html(html, fresh) and "DUE" not in row_html(html, fresh)
    assert f"next due {hhmm(ward, fresh_check.observed_at + timedelta(minutes=60))}" in row_html(html, fresh)
    assert f"by {charge.display_name}" in row_html(html, fresh)


def test_history_marks_a_check_late_by_the_one_and_a_half_rule(client, ward, patients, charge, nurse):
    on_time, late = patients(2)
    for minutes in (200, 111):
        add_check(on_time, charge, minutes)
    for minutes in (200, 109):
        add_check(late, charge, minutes)

    on_time_page = page(client, f"/admissions/{on_time.id}/checks")
    late_page = page(client, f"/admissions/{late.id}/checks")
    assert "On time" in on_time_page and "LATE" not in on_time_page
    assert "89 min after the previous check" in on_time_page
    assert "LATE" in late_page and "91 min after the previous check" in late_page


def test_missed_checks_are_listed_not_filled_and_can_be_annotated_once(client, ward, patients, charge,
                                                                       nurse, audit_events):
    [a] = patients(1)
    check = add_check(a, charge, 200)
    first_due = check.observed_at + timedelta(minutes=60)
    second_due = check.observed_at + timedelta(minutes=120)

    html = row_html(page(client, rounds_url(ward)), a)
    assert f"Missed check due {hhmm(ward, first_due)}" in html
    assert f"Missed check due {hhmm(ward, second_due)}" in html
    assert f"Missed check due {hhmm(ward, check.observed_at + timedelta(minutes=180))}" not in html
    assert len(stored_checks()) == 1

    url = f"/admissions/{a.id}/missed-checks"
    response = client.post(url, data={"due_at": first_due.isoformat(), "reason": "Escorting bed 2 to ED",
                                      "next": rounds_url(ward)})
    assert response.status_code == 302 and response.headers["Location"].endswith(rounds_url(ward))
    [note] = db.session.scalars(select(MissedCheckNote)).all()
    assert (note.due_at, note.reason, note.recorded_by_id) == (first_due, "Escorting bed 2 to ED", nurse.id)
    assert [e.object_id for e in audit_events("create") if e.object_type == "missed_check_note"] == [
        str(note.id)]

    html = row_html(page(client, rounds_url(ward)), a)
    assert f"Missed check due {hhmm(ward, first_due)}" in html
    assert "Note: Escorting bed 2 to ED" in html
    assert len(stored_checks()) == 1
    history = page(client, f"/admissions/{a.id}/checks")
    assert f"Missed check due {hhmm(ward, first_due)}" in history and "Escorting bed 2 to ED" in history

    again = client.post(url, data={"due_at": first_due.isoformat(), "reason": "Another reason"})
    assert again.status_code == 422
    assert "already been recorded" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MissedCheckNote)) == 1

    not_missed = client.post(url, data={"due_at": (first_due + timedelta(minutes=7)).isoformat(),
                                        "reason": "Made up"})
    assert not_missed.status_code == 422
    assert "There is no missed check due" in not_missed.get_data(as_text=True)
    blank = client.post(url, data={"due_at": second_due.isoformat(), "reason": "  "})
    assert blank.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(MissedCheckNote)) == 1


def test_checks_recorded_within_a_minute_are_flagged_as_possible_back_filling(client, ward, patients, nurse,
                                                                             charge, audit_events):
    a, b = patients(2)
    add_check(b, charge, 30)
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")}, checked_at=local(ward, 60),
                                                  reason="Charting the last hour"))
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "sleeping"), b: ("bedroom", "resting")}))

    assert len(stored_checks()) == 4
    html = page(client, rounds_url(ward))
    assert "Possible back-filling" in row_html(html, a)
    assert "Possible back-filling" not in row_html(html, b)
    assert "Possible back-filling" in page(client, f"/admissions/{a.id}/checks")
    assert "Possible back-filling" not in page(client, f"/admissions/{b.id}/checks")
    flags = {int(e.object_id): json.loads(e.detail)["possible_backfill"]
             for e in audit_events("create") if e.object_type == "safety_check"}
    assert sorted(flags.values()) == [False, False, True]


# --- observation level ---------------------------------------------------------------------------

def test_observation_level_change_is_recorded_and_brings_checks_forward(client, ward, patients, charge, nurse,
                                                                        audit_events):
    [a] = patients(1)
    add_check(a, charge, 30)
    assert "OVERDUE" not in row_html(page(client, rounds_url(ward)), a)
    url = f"/admissions/{a.id}/observation-level"
    assert "General (every 60 min)" in page(client, url)

    refused = client.post(url, data={"level": "intermittent_15", "reason": ""})
    assert refused.status_code == 422
    response = client.post(url, data={"level": "intermittent_15", "reason": "Voiced thoughts of self-harm",
                                      "next": rounds_url(ward)})

    assert response.status_code == 302 and response.headers["Location"].endswith(rounds_url(ward))
    db.session.expire_all()
    admission = db.session.get(Admission, a.id)
    [change] = db.session.scalars(select(ObservationLevelChange)).all()
    assert (change.level, change.reason, change.changed_by_id) == (
        "intermittent_15", "Voiced thoughts of self-harm", nurse.id)
    assert admission.observation_level == "intermittent_15"
    assert admission.observation_level_since == change.changed_at
    assert utc_now() - admission.observation_level_since < timedelta(minutes=1)
    [update] = [e for e in audit_events("update") if e.object_type == "admission"]
    detail = json.loads(update.detail)
    assert detail["before"]["observation_level"] == "general"
    assert detail["after"]["observation_level"] == "intermittent_15"
    assert detail["reason"] == "Voiced thoughts of self-harm"

    html = row_html(page(client, rounds_url(ward)), a)
    assert "Intermittent (every 15 min)" in html and "OVERDUE" in html
    same = client.post(url, data={"level": "intermittent_15", "reason": "again"})
    assert same.status_code == 422 and "already on" in same.get_data(as_text=True)


def test_continuous_level_shows_no_due_time_and_can_still_be_charted(client, ward, patients, charge, nurse):
    [a] = patients(1)
    client.post(f"/admissions/{a.id}/observation-level", data={"level": "arms_length", "reason": "Agitated"})
    add_check(a, charge, 300)

    html = row_html(page(client, rounds_url(ward)), a)
    assert "Continuous observation" in html
    assert "next due" not in html and "OVERDUE" not in html and "Missed check" not in html

    response = client.post(rounds_url(ward), data=round_form({a: ("day_room", "agitated", "Shouting")}))
    assert response.status_code == 302
    assert stored_checks()[-1].activity == "agitated"


# --- history -------------------------------------------------------------------------------------

def test_history_shows_this_shift_by_default_and_the_whole_stay_on_request(client, ward, patients, charge,
                                                                         nurse, audit_events):
    [a] = patients(1)
    old = hhmm(ward, add_check(a, charge, 9 * 60).observed_at)  # before the shift began (8 h ago)
    recent = hhmm(ward, add_check(a, charge, 30).observed_at)

    shift = page(client, f"/admissions/{a.id}/checks")
    stay = page(client, f"/admissions/{a.id}/checks?view=stay")
    assert not shows_time(shift, old) and shows_time(stay, old)
    assert shows_time(shift, recent)
    views = [json.loads(e.detail)["view"] for e in audit_events("view") if e.object_type == "safety_checks"]
    assert views == ["shift", "stay"]
    # Newest first: the recent check comes before the windows missed earlier in the shift.
    assert shift.index(recent) < shift.index("Missed check due")


# --- access, audit, queries ----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_administrators_and_auditors_are_refused(client, auth, ward, patients, role):
    [a] = patients(1)
    auth.login_as(role)
    assert client.get(rounds_url(ward)).status_code == 403
    assert client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")})).status_code == 403
    assert client.get(f"/admissions/{a.id}/checks").status_code == 403
    assert client.get(f"/admissions/{a.id}/observation-level").status_code == 403
    note = {"due_at": utc_now().isoformat(), "reason": "y"}
    assert client.post(f"/admissions/{a.id}/missed-checks", data=note).status_code == 403
    assert stored_checks() == []


def test_anonymous_users_are_sent_to_log_in(client, ward, patients):
    [a] = patients(1)
    for url in (rounds_url(ward), f"/admissions/{a.id}/checks", f"/admissions/{a.id}/observation-level"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["charge_nurse", "physician"])
def test_every_charting_role_can_chart_a_round_and_change_the_level(client, auth, ward, patients, role):
    [a] = patients(1)
    auth.login_as(role)
    assert client.post(rounds_url(ward), data=round_form({a: ("bedroom", "resting")})).status_code == 302
    assert client.post(f"/admissions/{a.id}/observation-level",
                       data={"level": "eyesight", "reason": "Review"}).status_code == 302


def test_rounds_page_view_is_audited_with_the_patients_shown(client, ward, patients, nurse, audit_events):
    a, b = patients(2)
    page(client, rounds_url(ward))
    [view] = [e for e in audit_events("view") if e.object_type == "rounds"]
    assert view.user_id == nurse.id and view.object_id == str(ward.id)
    assert sorted(json.loads(view.detail)["patients"]) == sorted([a.patient_id, b.patient_id])


def _populate(admission, make_user):
    """Give a patient checks and an annotated miss by different people, as on a real ward."""
    check = add_check(admission, make_user("nurse"), 200)
    add_check(admission, make_user("nurse"), 50, recorded_minutes_ago=49.9)
    add_check(admission, make_user("nurse"), 20, recorded_minutes_ago=49.8)
    missed_at = check.observed_at + timedelta(minutes=60)
    db.session.add(MissedCheckNote(admission_id=admission.id, due_at=missed_at, reason="Busy",
                                   recorded_by=make_user("nurse")))
    db.session.commit()


def _count_queries(client, url: str) -> tuple[int, str]:
    statements = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def test_rounds_page_query_count_does_not_grow_with_patients(client, ward, patients, make_user, nurse):
    for admission in patients(2):
        _populate(admission, make_user)
    client.get(rounds_url(ward))
    with_two, _ = _count_queries(client, rounds_url(ward))
    for admission in patients(4):
        _populate(admission, make_user)
    with_six, html = _count_queries(client, rounds_url(ward))

    assert html.count('class="round-row') == 6
    assert html.count("Note: Busy") == 6
    assert html.count("Possible back-filling") == 6
    assert with_six == with_two
