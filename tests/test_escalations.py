"""Escalations: raised by hand or by NEWS2, informed, answered, closed; the unit's open list."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.escalations.services import open_escalations
from clinic.extensions import db
from clinic.models import Escalation, EscalationUpdate
from clinic.routing import local_now
from tests.conftest import redirect_path

TIME_FORMAT = "%Y-%m-%dT%H:%M"
#: REFERENCE §11 "first abnormal values": NEWS2 6, medium.
MEDIUM = {"respiratory_rate": "21", "spo2": "95", "air_or_oxygen": "air", "systolic_bp": "110",
          "diastolic_bp": "70", "heart_rate": "91", "consciousness": "A", "temperature": "36.0"}


def when(admission, minutes_ago: float = 0) -> str:
    return (local_now(admission.unit) - timedelta(minutes=minutes_ago)).strftime(TIME_FORMAT)


def new_url(admission) -> str:
    return f"/admissions/{admission.id}/escalations/new"


def show_url(admission, escalation_id: int) -> str:
    return f"/admissions/{admission.id}/escalations/{escalation_id}"


def update_url(admission, escalation_id: int) -> str:
    return f"/admissions/{admission.id}/escalations/{escalation_id}/updates"


def message_next_to(html: str, field_id: str) -> str:
    found = re.search(rf'<div id="{field_id}-msg">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def raise_form(**values) -> dict:
    data = {"idempotency_key": uuid.uuid4().hex, "level": "urgent",
            "reason": "Says she hears voices telling her to leave; agitated.", **values}
    return {k: v for k, v in data.items() if v is not None}


def stored() -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).order_by(Escalation.id)))


def raise_by_hand(client, admission, **values) -> Escalation:
    response = client.post(new_url(admission), data=raise_form(**values))
    assert response.status_code == 302, response.get_data(as_text=True)
    escalation_id = int(redirect_path(response).rstrip("/").rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(Escalation, escalation_id)


def post_update(client, admission, escalation, kind, *, minutes_ago=0, **values):
    data = {"kind": kind, "idempotency_key": uuid.uuid4().hex,
            "happened_at": when(admission, minutes_ago), **values}
    return client.post(update_url(admission, escalation.id), data=data)


def chart_vitals(client, admission, values=MEDIUM):
    data = {"observed_at": when(admission), "idempotency_key": uuid.uuid4().hex, **values}
    response = client.post(f"/admissions/{admission.id}/vitals/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(redirect_path(response).rstrip("/").rsplit("/", 1)[1])


def escalation_events(audit_events, action):
    return [e for e in audit_events(action) if e.object_type == "escalation"]


@pytest.fixture
def admission(make_admission):
    return make_admission()


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


@pytest.fixture
def escalation(client, admission, nurse):
    return raise_by_hand(client, admission)


# --- raising by hand -----------------------------------------------------------------------------

def test_new_form_offers_both_levels_as_radio_buttons(client, admission, nurse):
    page = client.get(new_url(admission)).get_data(as_text=True)

    assert 'type="radio"' in page and 'value="urgent"' in page and 'value="emergency"' in page
    assert f'value="{when(admission)}"' in page or f'value="{when(admission, 1)}"' in page
    assert "data-draft-key" in page


def test_raise_by_hand_without_informed(client, admission, nurse, audit_events):
    response = client.post(new_url(admission), data=raise_form(level="emergency",
                                                                 informed_who=""))

    [escalation] = stored()
    assert redirect_path(response).endswith(show_url(admission, escalation.id))
    assert (escalation.level, escalation.automatic, escalation.rule) == ("emergency", False, None)
    assert escalation.raised_by_id == nurse.id
    assert escalation.reason == "Says she hears voices telling her to leave; agitated."
    assert escalation.updates == []
    [event] = escalation_events(audit_events, "create")
    assert event.object_id == str(escalation.id) and event.patient_id == admission.patient_id
    assert open_escalations(admission) == [escalation]

    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert "Emergency · open" in page
    assert "Says she hears voices telling her to leave; agitated." in page
    assert f"by {nurse.display_name}" in page
    assert "Nothing recorded yet" in page
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "Open escalations (1)" in chart


def test_raise_by_hand_with_who_was_informed(client, admission, nurse, audit_events):
    escalation = raise_by_hand(client, admission, informed_who="Dr Okafor, on-call physician",
                               informed_at=when(admission, 10))

    [update] = escalation.updates
    assert (update.kind, update.informed_who) == ("informed", "Dr Okafor, on-call physician")
    assert update.recorded_by_id == nurse.id
    # The escalation dates from when the physician was told, so that time is not "before" it.
    assert escalation.raised_at == update.happened_at
    [event] = escalation_events(audit_events, "update")
    assert json.loads(event.detail)["informed_who"] == "Dr Okafor, on-call physician"
    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert "Told: Dr Okafor, on-call physician" in page


def test_informed_time_in_the_future_is_refused_at_raise(client, admission, nurse):
    response = client.post(new_url(admission), data=raise_form(
        informed_who="Dr Okafor", informed_at=when(admission, -30)))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The time cannot be in the future." in message_next_to(page, "informed_at")
    assert 'value="Dr Okafor"' in page
    assert stored() == []


def test_missing_reason_is_refused_and_the_form_kept(client, admission, nurse, audit_events):
    data = raise_form(reason="  ", level="emergency", informed_who="Charge nurse Lee",
                      informed_at=when(admission))

    response = client.post(new_url(admission), data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say why you are escalating." in message_next_to(page, "reason")
    assert re.search(r'checked[^>]*value="emergency"|value="emergency"[^>]*checked', page)
    assert 'value="Charge nurse Lee"' in page
    assert data["idempotency_key"] in page
    assert stored() == []
    assert escalation_events(audit_events, "create") == []


def test_missing_level_is_refused(client, admission, nurse):
    response = client.post(new_url(admission), data=raise_form(level=None))

    assert response.status_code == 422
    assert "Choose urgent or emergency." in message_next_to(response.get_data(as_text=True), "level")
    assert stored() == []


def test_double_submit_raises_once(client, admission, nurse):
    data = raise_form()

    first = client.post(new_url(admission), data=data)
    second = client.post(new_url(admission), data=data, follow_redirects=True)

    assert first.status_code == 302 and second.status_code == 200
    assert "already raised" in second.get_data(as_text=True)
    assert len(stored()) == 1


# --- automatic escalation from NEWS2 -------------------------------------------------------------

def test_medium_news2_raises_one_automatic_escalation_while_open(client, admission, nurse,
                                                                 audit_events):
    first_set = chart_vitals(client, admission)
    second_set = chart_vitals(client, admission)

    [escalation] = stored()
    assert (escalation.automatic, escalation.rule, escalation.level) == (True, "news2:medium", "urgent")
    assert (escalation.source_kind, escalation.source_id) == ("vitals", first_set)
    assert second_set != first_set
    assert "NEWS2 6 (medium)" in escalation.reason
    assert len(escalation_events(audit_events, "create")) == 1

    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert f'href="/admissions/{admission.id}/vitals/{first_set}"' in page
    assert "automatically" in page


def test_a_new_medium_set_after_closing_raises_again(client, auth, admission):
    auth.login_as("nurse")
    chart_vitals(client, admission)
    [escalation] = stored()
    post_update(client, admission, escalation, "response", text="Reviewed; repeat obs in 1 h.")
    auth.logout()
    auth.login_as("physician")
    assert post_update(client, admission, escalation, "closed", text="Settled.").status_code == 302

    chart_vitals(client, admission)

    assert [e.rule for e in stored()] == ["news2:medium", "news2:medium"]
    assert len(open_escalations(admission)) == 1


# --- informed, response, closure -----------------------------------------------------------------

def test_informed_and_response_updates_are_recorded_in_order(client, admission, nurse, escalation,
                                                             audit_events):
    informed = post_update(client, admission, escalation, "informed",
                           informed_who="Dr Okafor, on-call physician")
    response = post_update(client, admission, escalation, "response",
                           text="Lorazepam 1 mg PRN; 1:1 observation.")

    assert informed.status_code == 302 and response.status_code == 302
    assert redirect_path(informed).endswith(show_url(admission, escalation.id))
    db.session.expire_all()
    updates = db.session.get(Escalation, escalation.id).updates
    assert [u.kind for u in updates] == ["informed", "response"]
    assert updates[0].informed_who == "Dr Okafor, on-call physician"
    assert updates[1].text == "Lorazepam 1 mg PRN; 1:1 observation."
    details = [json.loads(e.detail)["update"] for e in escalation_events(audit_events, "update")]
    assert details == ["informed", "response"]

    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert page.index("Told: Dr Okafor") < page.index("Lorazepam 1 mg PRN")


def test_update_refusals_are_shown_next_to_the_field_with_the_typing_kept(client, admission, nurse,
                                                                         escalation):
    no_who = post_update(client, admission, escalation, "informed", informed_who="  ",
                         minutes_ago=0)
    future = post_update(client, admission, escalation, "response", text="Will review at 18:00",
                         minutes_ago=-20)
    no_text = post_update(client, admission, escalation, "response", text="")

    assert no_who.status_code == 422
    assert "Say who was informed (name and role)." in message_next_to(
        no_who.get_data(as_text=True), "informed-who")
    page = future.get_data(as_text=True)
    assert future.status_code == 422
    assert "The time cannot be in the future." in message_next_to(page, "response-at")
    assert "Will review at 18:00</textarea>" in page
    assert "Not saved." in page
    assert no_text.status_code == 422
    assert "Record the response (what was decided or done)." in message_next_to(
        no_text.get_data(as_text=True), "response-text")
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).updates == []


def test_double_submitted_update_is_recorded_once(client, admission, nurse, escalation):
    data = {"kind": "informed", "idempotency_key": uuid.uuid4().hex,
            "happened_at": when(admission), "informed_who": "Dr Okafor"}

    first = client.post(update_url(admission, escalation.id), data=data)
    second = client.post(update_url(admission, escalation.id), data=data, follow_redirects=True)

    assert first.status_code == 302 and second.status_code == 200
    assert "already recorded" in second.get_data(as_text=True)
    assert len(db.session.scalars(select(EscalationUpdate)).all()) == 1


def test_unknown_update_kind_is_a_bad_request(client, admission, nurse, escalation):
    assert post_update(client, admission, escalation, "deleted", text="x").status_code == 400


def test_nurse_cannot_close(client, admission, nurse, escalation):
    post_update(client, admission, escalation, "response", text="Reviewed by phone.")
    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert 'name="kind" value="closed"' not in page
    assert "A physician or charge nurse closes the escalation" in page

    response = post_update(client, admission, escalation, "closed", text="All fine now.")

    assert response.status_code == 422
    assert "Only a physician or charge nurse can close an escalation." in response.get_data(as_text=True)
    assert "All fine now.</textarea>" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Escalation, escalation.id).is_open


def test_physician_cannot_close_before_a_response_but_can_after(client, auth, admission,
                                                                audit_events):
    auth.login_as("nurse")
    escalation = raise_by_hand(client, admission)
    auth.logout()
    physician = auth.login_as("physician")

    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert 'name="kind" value="closed"' not in page
    assert "Record the response first" in page
    early = post_update(client, admission, escalation, "closed", text="Nothing needed.")
    assert early.status_code == 422
    assert "Record the response before closing the escalation." in early.get_data(as_text=True)

    post_update(client, admission, escalation, "response", text="Seen on ward round; no change.")
    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert 'name="kind" value="closed"' in page
    closed = post_update(client, admission, escalation, "closed", text="Settled; plan in notes.")

    assert closed.status_code == 302
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalation.id)
    assert not escalation.is_open
    assert escalation.closed.recorded_by_id == physician.id
    assert escalation.closed.text == "Settled; plan in notes."
    assert open_escalations(admission) == []
    assert [json.loads(e.detail)["update"] for e in escalation_events(audit_events, "update")] == [
        "response", "closed"]
    page = client.get(show_url(admission, escalation.id)).get_data(as_text=True)
    assert "Urgent · closed" in page
    assert 'name="kind"' not in page
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "Open escalations (" not in chart
    again = post_update(client, admission, escalation, "informed", informed_who="Dr Late")
    assert again.status_code == 422
    assert "This escalation is already closed." in again.get_data(as_text=True)


def test_charge_nurse_can_close_after_a_response(client, auth, admission):
    auth.login_as("nurse")
    escalation = raise_by_hand(client, admission)
    post_update(client, admission, escalation, "response", text="Physician will review at 16:00.")
    auth.logout()
    auth.login_as("charge_nurse")

    assert post_update(client, admission, escalation, "closed", text="Reviewed.").status_code == 302
    assert open_escalations(admission) == []


def test_show_is_audited(client, admission, nurse, escalation, audit_events):
    client.get(show_url(admission, escalation.id))

    views = escalation_events(audit_events, "view")
    assert [(e.object_id, e.patient_id) for e in views] == [(str(escalation.id), admission.patient_id)]


def test_escalation_of_another_admission_is_not_found(client, make_admission, admission, nurse,
                                                      escalation):
    other = make_admission(unit=admission.unit)

    assert client.get(show_url(other, escalation.id)).status_code == 404
    assert post_update(client, other, escalation, "informed", informed_who="x").status_code == 404


# --- the unit's open list ------------------------------------------------------------------------

def test_unit_list_shows_open_escalations_only_oldest_first(client, auth, make_admission, make_unit,
                                                             audit_events):
    unit = make_unit()
    first = make_admission(unit=unit, family_name="Ahmed")
    second = make_admission(unit=unit, family_name="Brown")
    elsewhere = make_admission(family_name="Elsewhere")
    auth.login_as("charge_nurse")
    newer = raise_by_hand(client, first, reason="Newer: bladder pain 8/10.",
                          informed_who="Dr Ng", informed_at=when(first))
    # Raised after the one above, but dated from when the physician was told, 3 h ago.
    older = raise_by_hand(client, second, reason="Older: wants to leave now.",
                          informed_who="Dr Ng", informed_at=when(second, 185))
    closed = raise_by_hand(client, first, reason="Closed one.")
    raise_by_hand(client, elsewhere, reason="On another unit.")
    post_update(client, first, closed, "response", text="Done.")
    post_update(client, first, closed, "closed", text="Closed.")

    response = client.get(f"/units/{unit.id}/escalations")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("Older: wants to leave now.") < page.index("Newer: bladder pain 8/10.")
    assert "Closed one." not in page and "On another unit." not in page
    assert show_url(second, older.id) in page and show_url(first, newer.id) in page
    assert "3 h" in page
    assert "Dr Ng" in page
    [event] = [e for e in audit_events("view") if e.object_type == "unit_escalations"]
    assert json.loads(event.detail)["patients"] == sorted([first.patient_id, second.patient_id])


def test_unknown_unit_is_not_found(client, nurse):
    assert client.get("/units/9999/escalations").status_code == 404


# --- roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_are_forbidden(client, auth, admission, role):
    auth.login_as("nurse")
    escalation = raise_by_hand(client, admission)
    auth.logout()
    auth.login_as(role)

    assert client.get(new_url(admission)).status_code == 403
    assert client.post(new_url(admission), data=raise_form()).status_code == 403
    assert client.get(show_url(admission, escalation.id)).status_code == 403
    assert post_update(client, admission, escalation, "informed", informed_who="x").status_code == 403
    assert client.get(f"/units/{admission.unit_id}/escalations").status_code == 403
    assert len(stored()) == 1
