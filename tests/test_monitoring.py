"""Per-patient monitoring: next due per protocol, physicians' overrides, and the chart card."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.assessments.services import record_assessment
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import ProtocolOverride
from clinic.monitoring.services import current_overrides, definition_for, due_for
from clinic.scoring import ciwa_ar


@pytest.fixture
def admission(make_admission):
    return make_admission(protocols=("ketamine", "ciwa_ar"), substances=(("ketamine", 20), ("alcohol", 12)))


@pytest.fixture
def ciwa_at(admission, make_user):
    """A CIWA-Ar of 10 (hourly while 8 or more) charted 20 minutes ago; return its time."""
    nurse = make_user("nurse")
    observed_at = utc_now().replace(microsecond=0) - timedelta(minutes=20)
    record_assessment(
        by=nurse, admission=admission, scale="ciwa_ar", observed_at=observed_at,
        items=dict(zip(ciwa_ar.KEYS, (2, 2, 2, 2, 2, 0, 0, 0, 0, 0), strict=True)), yes_no={},
        heart_rate=None, self_harm_thoughts=None, suicide_answers=None, unable_reason=None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()
    return observed_at


def due_item(admission, protocol: str):
    """Return the protocol's due item as the board and due list compute it."""
    now = utc_now()
    definition, _ = definition_for(admission.unit)
    patient = due_for([admission], now=now, shift=admission.unit.shift_for(now), definition=definition)
    return next(item for item in patient[admission.id].items if item.protocol == protocol)


def url(admission) -> str:
    return f"/admissions/{admission.id}/monitoring"


def set_data(protocol="ciwa_ar", minutes="45", reason="Settled overnight; fewer wake-ups") -> dict:
    return {"protocol": protocol, "action": "set", f"{protocol}-interval_minutes": minutes,
            f"{protocol}-reason": reason}


def end_data(protocol="ciwa_ar", reason="Tremor back; hourly again") -> dict:
    return {"protocol": protocol, "action": "end", f"{protocol}-reason": reason}


def test_physician_sets_override_and_due_time_follows_it(client, auth, admission, ciwa_at, audit_events):
    assert due_item(admission, "ciwa_ar").due_at == ciwa_at + timedelta(minutes=60)
    physician = auth.login_as("physician", display_name="Dr Who")
    response = client.post(url(admission), data=set_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url(admission)}#protocol-ciwa_ar")

    row = db.session.scalars(select(ProtocolOverride)).one()
    assert (row.protocol, row.interval_minutes, row.set_by_id) == ("ciwa_ar", 45, physician.id)
    item = due_item(admission, "ciwa_ar")
    assert item.overridden and item.interval_minutes == 45
    assert item.due_at == ciwa_at + timedelta(minutes=45)
    assert "Settled overnight" in item.reason
    assert due_item(admission, "ketamine").overridden is False

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Override saved for {admission.patient.display_name}, CIWA-Ar every 45 min." in page
    assert "every 45 min — “Settled overnight; fewer wake-ups”" in page and "Dr Who" in page

    event = [e for e in audit_events("update") if e.object_type == "protocol_override"][-1]
    assert event.patient_id == admission.patient_id and event.object_id == str(row.id)
    detail = json.loads(event.detail)
    assert detail["before"] == {"interval_minutes": None, "reason": None}
    assert detail["after"] == {"interval_minutes": 45, "reason": "Settled overnight; fewer wake-ups"}


def test_ending_override_restores_computed_interval(client, auth, admission, ciwa_at, audit_events):
    auth.login_as("physician")
    client.post(url(admission), data=set_data(minutes="30"))
    assert due_item(admission, "ciwa_ar").due_at == ciwa_at + timedelta(minutes=30)
    response = client.post(url(admission), data=end_data(), follow_redirects=True)
    assert (f"End of override saved for {admission.patient.display_name}, CIWA-Ar follows the "
            "unit&#39;s rules again.") in response.get_data(as_text=True)

    item = due_item(admission, "ciwa_ar")
    assert not item.overridden and item.interval_minutes == 60
    assert item.due_at == ciwa_at + timedelta(minutes=60)
    assert current_overrides([admission.id]) == {}
    rows = db.session.scalars(select(ProtocolOverride).order_by(ProtocolOverride.id)).all()
    assert [(r.interval_minutes, r.reason) for r in rows] == [
        (30, "Settled overnight; fewer wake-ups"), (None, "Tremor back; hourly again")]
    detail = json.loads(audit_events("update")[-1].detail)
    assert detail["change"] == "end"
    assert detail["before"]["interval_minutes"] == 30 and detail["after"]["interval_minutes"] is None


@pytest.mark.parametrize("data, field, message", [
    (set_data(reason="  "), "ciwa_ar-reason", "Give the clinical reason."),
    (set_data(minutes="4"), "ciwa_ar-interval_minutes", "from 5 to 1440"),
    (set_data(minutes="1441"), "ciwa_ar-interval_minutes", "from 5 to 1440"),
    # Issue 11 item 4: never longer than the published minimum frequency.
    (set_data(minutes="600"), "ciwa_ar-interval_minutes",
     "600 min is longer than the published minimum frequency allows (no result yet): "
     "CIWA-Ar settled below 8: every 8 h, so 480 min at most."),
    (set_data(minutes="hourly"), "ciwa_ar-interval_minutes", "from 5 to 1440"),
    (set_data(minutes=""), "ciwa_ar-interval_minutes", "from 5 to 1440"),
    (end_data(reason=""), "ciwa_ar-reason", "Give the reason for ending the override."),
])
def test_refused_override_says_why_and_keeps_input(client, auth, admission, data, field, message):
    auth.login_as("physician")
    if data["action"] == "end":
        client.post(url(admission), data=set_data())
    before = db.session.scalars(select(ProtocolOverride)).all()
    response = client.post(url(admission), data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-msg"' in page
    assert db.session.scalars(select(ProtocolOverride)).all() == before


def test_ending_when_none_in_force_is_refused(client, auth, admission):
    auth.login_as("physician")
    response = client.post(url(admission), data=end_data(), follow_redirects=True)
    assert "There is no override in force to end" in response.get_data(as_text=True)
    assert db.session.scalars(select(ProtocolOverride)).all() == []


def test_protocol_not_on_admission_is_refused(client, auth, admission):
    auth.login_as("physician")
    response = client.post(url(admission), data=set_data(protocol="cows"), follow_redirects=True)
    assert "Choose a protocol of this admission" in response.get_data(as_text=True)
    assert db.session.scalars(select(ProtocolOverride)).all() == []


@pytest.mark.parametrize("role", ["nurse", "charge_nurse"])
def test_nurses_see_overrides_read_only(client, auth, admission, role):
    auth.login_as(role)
    page = client.get(url(admission))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Only a physician can set or end an override." in text
    assert "Save override" not in text
    assert client.post(url(admission), data=set_data()).status_code == 403
    assert db.session.scalars(select(ProtocolOverride)).all() == []


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_non_clinical_roles_are_refused(client, auth, admission, role):
    auth.login_as(role)
    assert client.get(url(admission)).status_code == 403


def test_page_shows_next_due_and_reason_and_is_audited(client, auth, admission, ciwa_at, audit_events):
    auth.login_as("nurse")
    page = client.get(url(admission)).get_data(as_text=True)
    assert "CIWA-Ar 10 (8 or more): hourly" in page
    assert "Ketamine checklist" in page and "first assessment" in page
    assert "General (every 60 min)" in page
    event = audit_events("view")[-1]
    assert event.patient_id == admission.patient_id and json.loads(event.detail) == {"page": "monitoring"}


def test_chart_card_shows_summary_and_links(client, auth, admission, ciwa_at):
    auth.login_as("physician")
    client.post(url(admission), data=set_data(minutes="50"))
    page = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    card = page[page.index('id="monitoring-heading"'):]
    card = card[:card.index("</section>")]
    assert f'href="{url(admission)}"' in card
    assert "CIWA-Ar" in card and "Physician override: every 50 min" in card and ">Override<" in card
    assert "Ketamine checklist" in card and "General (every 60 min)" in card
    assert "Unit due rules: built-in defaults." in card


def test_discharged_admission_is_read_only(client, auth, admission, make_user):
    from clinic.admissions import services

    services.discharge(by=make_user("charge_nurse"), admission=admission, discharged_at=utc_now(),
                       disposition="home", note=None)
    db.session.commit()
    auth.login_as("physician")
    page = client.get(url(admission)).get_data(as_text=True)
    assert "This admission has ended" in page and "Save override" not in page
    refused = client.post(url(admission), data=set_data(), follow_redirects=True).get_data(as_text=True)
    assert "This admission has ended; its monitoring can no longer be changed." in refused
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "The admission has ended; nothing is due." in chart
