"""Rounds that change the care (issue 11 items 10, 11): concerns escalate, levels set for risk,
hourly attestations at continuous levels."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, Escalation, ObservationAttestation, ObservationLevelChange
from tests.test_board import board_rows
from tests.test_rounds import page, round_form, rounds_url, row_html


@pytest.fixture
def ward(make_unit):
    """A unit whose only shift began eight hours ago, so "this shift" never starts mid-test."""
    start = utc_now().astimezone(ZoneInfo("Europe/London")) - timedelta(hours=8)
    return make_unit(beds=8, shift_pattern=f"Ward {start:%H:%M}")


@pytest.fixture
def patients(ward, make_user, make_admission):
    """Admit n patients to the ward, ten hours ago, in bed order."""
    charge = make_user("charge_nurse")

    def admit(n: int):
        return [make_admission(unit=ward, by=charge, hours_ago=10, family_name=f"Patient{i}")
                for i in range(n)]
    return admit


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def escalations() -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).order_by(Escalation.id)))


def board_row(client, admission) -> str:
    return board_rows(client.get(f"/units/{admission.unit_id}/board"))[admission.bed.label]


# Item 11: a check with a concern, or "agitated", escalates to the charge nurse with its words.

def test_a_check_with_a_concern_escalates_to_the_charge_nurse_with_its_words(client, ward, patients, nurse):
    a, b = patients(2)
    response = client.post(rounds_url(ward), data=round_form({
        a: ("bedroom", "resting", "Tying a sheet to the window latch"),
        b: ("day_room", "resting"),
    }))
    assert response.status_code == 302
    [escalation] = escalations()
    assert escalation.admission_id == a.id and escalation.automatic
    assert "Tying a sheet to the window latch" in escalation.reason
    assert "charge nurse" in escalation.reason
    assert escalation.source_kind == "safety_check"
    assert "Tying a sheet to the window latch" in board_row(client, a)


def test_an_agitated_patient_escalates_even_without_a_concern(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("day_room", "agitated")}))
    [escalation] = escalations()
    assert "Agitated" in escalation.reason and "Day room" in escalation.reason
    assert escalation.level == "urgent"


def test_each_concerning_check_raises_its_own_escalation(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("day_room", "agitated", "Shouting")}))
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "awake", "Crying, says no point")}))
    assert ["Shouting" in e.reason for e in escalations()] == [True, False]
    assert "Crying, says no point" in escalations()[1].reason


def test_a_quiet_check_raises_nothing(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "sleeping")}))
    assert escalations() == []


# Item 10: raising is for any nurse; lowering a level set for risk needs a physician or charge nurse.

def level_url(admission) -> str:
    return f"/admissions/{admission.id}/observation-level"


def set_level(client, admission, level, reason="Said she wants to die", for_risk=False):
    data = {"level": level, "reason": reason}
    if for_risk:
        data["for_risk"] = "y"
    return client.post(level_url(admission), data=data)


def current_level(admission) -> str:
    db.session.expire_all()
    return db.session.get(Admission, admission.id).observation_level


def test_any_nurse_raises_the_level_and_marks_it_set_for_risk(client, ward, patients, nurse):
    [a] = patients(1)
    assert set_level(client, a, "arms_length", for_risk=True).status_code == 302
    [change] = db.session.scalars(select(ObservationLevelChange)).all()
    assert (change.level, change.for_risk) == ("arms_length", True)
    assert "set for risk" in client.get(level_url(a)).get_data(as_text=True)


def test_the_proposal_link_prefills_the_level_and_the_risk_tick(client, ward, patients, nurse):
    [a] = patients(1)
    html = client.get(f"{level_url(a)}?level=eyesight&for_risk=1").get_data(as_text=True)
    checked = [tag for tag in re.findall(r"<input[^>]*>", html) if " checked" in tag]
    assert any('value="eyesight"' in tag for tag in checked)
    assert any('name="for_risk"' in tag for tag in checked)


@pytest.mark.parametrize(("role", "allowed"), [
    ("nurse", False), ("charge_nurse", True), ("physician", True),
])
def test_lowering_a_level_set_for_risk_is_for_a_physician_or_charge_nurse(client, auth, ward, patients,
                                                                         nurse, role, allowed):
    [a] = patients(1)
    set_level(client, a, "arms_length", for_risk=True)
    auth.logout()
    auth.login_as(role)
    response = set_level(client, a, "general", reason="Calm for 24 h, reviewed")
    if allowed:
        assert response.status_code == 302
        assert current_level(a) == "general"
    else:
        assert response.status_code == 422
        assert "only a physician or charge nurse can lower it" in response.get_data(as_text=True)
        assert current_level(a) == "arms_length"
        assert len(db.session.scalars(select(ObservationLevelChange)).all()) == 1


def test_a_nurse_may_lower_a_level_not_set_for_risk(client, ward, patients, nurse):
    [a] = patients(1)
    set_level(client, a, "intermittent_30", reason="Post-op falls watch")
    assert set_level(client, a, "general", reason="Mobile again").status_code == 302
    assert current_level(a) == "general"


def test_lowering_without_a_reason_is_refused_even_for_a_physician(client, auth, ward, patients, nurse):
    [a] = patients(1)
    set_level(client, a, "eyesight", for_risk=True)
    auth.logout()
    auth.login_as("physician")
    response = set_level(client, a, "general", reason=" ")
    assert response.status_code == 422 and current_level(a) == "eyesight"


# Item 10: continuous levels get an hourly attestation, so silent hours show as missing.

def put_on_continuous(admission, hours_ago: float, level="arms_length"):
    """Record a continuous level that began some hours ago, as if set then."""
    row = db.session.get(Admission, admission.id)
    since = utc_now() - timedelta(hours=hours_ago)
    db.session.add(ObservationLevelChange(admission_id=row.id, level=level, reason="Risk", for_risk=True,
                                          changed_by_id=row.admitted_by_id, changed_at=since))
    row.observation_level, row.observation_level_since = level, since
    db.session.commit()
    return since


def attest(client, admission, hour_start, concern=None):
    data = {"hour_start": hour_start.isoformat(), "outcome": "concern" if concern else "no_concern"}
    if concern:
        data["concern"] = concern
    return client.post(f"/admissions/{admission.id}/attestations", data=data)


def test_silent_hours_of_continuous_observation_show_as_missing(client, ward, patients, nurse):
    [a] = patients(1)
    put_on_continuous(a, hours_ago=3.5)
    html = row_html(page(client, rounds_url(ward)), a)
    assert html.count("Not attested: missing") == 3
    assert "3 hours of continuous observation not attested" in board_row(client, a)
    due = client.get(f"/units/{ward.id}/due").get_data(as_text=True)
    assert "Continuous observation: hourly attestation" in due


def test_an_attested_hour_is_no_longer_missing_and_is_audited(client, ward, patients, nurse, audit_events):
    [a] = patients(1)
    since = put_on_continuous(a, hours_ago=1.5)
    response = attest(client, a, since)
    assert response.status_code == 302
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"Attestation of continuous observation saved for {a.patient.display_name}, hour from "
            f"{since.astimezone(ward.zone):%H:%M}.") in landing
    [row] = db.session.scalars(select(ObservationAttestation)).all()
    assert (row.hour_start, row.concern, row.level) == (since, None, "arms_length")
    assert row.recorded_by_id == nurse.id
    assert any(e.object_type == "observation_attestation" for e in audit_events("create"))
    html = row_html(page(client, rounds_url(ward)), a)
    assert "Observed continuously, no concern" in html and "missing" not in html
    assert "not attested" not in board_row(client, a)


def test_an_attested_concern_escalates_to_the_charge_nurse(client, ward, patients, nurse):
    [a] = patients(1)
    since = put_on_continuous(a, hours_ago=1.5)
    attest(client, a, since, concern="Picked at wound, redirected")
    [escalation] = escalations()
    assert "Picked at wound, redirected" in escalation.reason and "charge nurse" in escalation.reason
    assert escalation.source_kind == "attestation"


def test_an_hour_is_attested_once_and_not_before_it_begins(client, ward, patients, nurse):
    [a] = patients(1)
    since = put_on_continuous(a, hours_ago=1.5)
    attest(client, a, since)
    again = attest(client, a, since, concern="late thought")
    assert again.status_code == 422 and "already attested" in again.get_data(as_text=True)
    future = attest(client, a, since + timedelta(hours=2))
    assert future.status_code == 422
    under_way = attest(client, a, since + timedelta(hours=1))
    assert under_way.status_code == 422 and "not over yet" in under_way.get_data(as_text=True)
    assert len(db.session.scalars(select(ObservationAttestation)).all()) == 1


def test_a_concern_needs_its_words(client, ward, patients, nurse):
    [a] = patients(1)
    since = put_on_continuous(a, hours_ago=1.5)
    response = client.post(f"/admissions/{a.id}/attestations",
                           data={"hour_start": since.isoformat(), "outcome": "concern", "concern": ""})
    assert response.status_code == 422 and "Say what the concern was" in response.get_data(as_text=True)
