"""PRN pages: ordering, giving under the limits, overrides, breaches, effect follow-up, roles, audit."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Escalation, PrnDiscontinuation, PrnDose, PrnEffect, PrnOrder
from clinic.prn import queries
from clinic.routing import local_now
from clinic.timefmt import local_time
from tests.prn_helpers import give, make_order
from tests.test_duelist import chart_check, chart_ketamine, chart_vitals

TIME_FORMAT = "%Y-%m-%dT%H:%M"


def local(admission, minutes_ago: float = 0) -> str:
    return (local_now(admission.unit) - timedelta(minutes=minutes_ago)).strftime(TIME_FORMAT)


def order_form(admission, **changes) -> dict:
    data = {
        "idempotency_key": uuid.uuid4().hex, "drug": "Lorazepam", "dose": "1", "dose_unit": "mg",
        "route": "oral", "indication": "Alcohol withdrawal: tremor, anxiety", "treats_scale": "",
        "min_interval_minutes": "240", "max_doses_24h": "4", "starts_at": local(admission, 60),
    }
    data.update(changes)
    return data


def give_form(admission, **changes) -> dict:
    data = {"idempotency_key": uuid.uuid4().hex, "given_at": local(admission), "outcome": "given",
            "dose": "1", "route": "oral", "reason": "Tremor, sweating", "prompting_assessment_id": "0"}
    data.update(changes)
    return data


def give_url(admission, order) -> str:
    return f"/admissions/{admission.id}/prn/orders/{order.id}/give"


def text_of(response) -> str:
    return text_of_html(response.get_data(as_text=True))


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def orders() -> list[PrnOrder]:
    db.session.expire_all()
    return list(db.session.scalars(select(PrnOrder).order_by(PrnOrder.id)))


def doses() -> list[PrnDose]:
    db.session.expire_all()
    return list(db.session.scalars(select(PrnDose).order_by(PrnDose.id)))


@pytest.fixture
def admission(make_admission):
    return make_admission(allergies="Ibuprofen (angioedema)")


def test_physician_orders_and_the_chart_shows_next_eligible(client, auth, admission, audit_events):
    auth.login_as("physician", display_name="Dr Ada")
    page = client.get(f"/admissions/{admission.id}/prn/orders/new")
    assert page.status_code == 200 and "Ibuprofen (angioedema)" in text_of(page)
    response = client.post(f"/admissions/{admission.id}/prn/orders/new", data=order_form(admission))
    assert response.status_code == 302, text_of(response)
    [order] = orders()
    name = admission.patient.display_name
    flashed = text_of(client.get(response.headers["Location"]))
    assert f"PRN order saved for {name}, Lorazepam 1 mg oral." in flashed
    assert (order.drug, order.dose, order.min_interval_minutes, order.reassess_after_minutes) == (
        "Lorazepam", Decimal("1.000"), 240, 60)
    assert order.drug_class == "benzodiazepine"
    chart = text_of(client.get(f"/admissions/{admission.id}"))
    assert "PRN medications" in chart and "Lorazepam 1 mg oral" in chart and "0 of 4 doses" in chart
    assert [e.object_type for e in audit_events("create")][-1] == "prn_order"


def test_bad_numbers_keep_what_was_typed(client, auth, admission):
    auth.login_as("physician")
    response = client.post(f"/admissions/{admission.id}/prn/orders/new",
                           data=order_form(admission, dose="1e3", min_interval_minutes="0"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the dose as a number" in html and 'value="1e3"' in html
    assert "at least 1 and at most 4320" in html
    assert orders() == []


def test_allergy_needs_an_acknowledgement_that_is_recorded(client, auth, admission, audit_events):
    auth.login_as("physician")
    response = client.post(f"/admissions/{admission.id}/prn/orders/new",
                           data=order_form(admission, drug="Ibuprofen", dose="400", max_doses_24h="3"))
    assert response.status_code == 422
    assert "allergies name ibuprofen" in text_of(response) and orders() == []
    response = client.post(f"/admissions/{admission.id}/prn/orders/new",
                           data=order_form(admission, drug="Ibuprofen", dose="400", max_doses_24h="3",
                                           allergy_acknowledged="y", allergy_note="Mild rash only, reviewed"))
    assert response.status_code == 302
    [order] = orders()
    assert order.allergy_acknowledged and order.allergy_note == "Mild rash only, reviewed"
    assert json.loads(audit_events("create")[-1].detail)["allergy_matches"] == ["ibuprofen"]


def test_benzodiazepine_and_opioid_warn_on_order_and_chart(client, auth, admission):
    auth.login_as("physician")
    client.post(f"/admissions/{admission.id}/prn/orders/new", data=order_form(admission))
    response = client.post(f"/admissions/{admission.id}/prn/orders/new",
                           data=order_form(admission, drug="Oxycodone", dose="5"), follow_redirects=True)
    assert "a benzodiazepine and an opioid are both ordered" in text_of(response)
    chart = text_of(client.get(f"/admissions/{admission.id}"))
    assert "A benzodiazepine and an opioid are both ordered" in chart


def test_nurse_gives_then_is_refused_too_soon_with_the_rule_and_time(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"))
    nurse = auth.login_as("nurse", display_name="Nurse Bo")
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == 302
    [dose] = doses()
    assert (dose.outcome, dose.dose, dose.recorded_by_id) == ("given", Decimal("1.000"), nurse.id)
    assert dose.effect_due_at == dose.observed_at + timedelta(minutes=60)
    due = dose.effect_due_at.astimezone(admission.unit.zone)
    assert (f"PRN dose saved for {admission.patient.display_name}, Lorazepam 1 mg given, effect "
            f"reassessment due {due:%H:%M}.") in text_of(client.get(response.headers["Location"]))
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == 422
    page = text_of(response)
    assert "too soon after another dose" in page and "by Nurse Bo" in page
    assert "A dose is possible from" in page
    assert len(doses()) == 1
    # The form keeps what was typed.
    assert "Tremor, sweating" in response.get_data(as_text=True)


def test_refused_and_held_do_not_count(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"), max_doses_24h=1)
    auth.login_as("nurse")
    for outcome in ("refused", "held"):
        response = client.post(f"/admissions/{admission.id}/prn/orders/{order.id}/give",
                               data=give_form(admission, outcome=outcome, dose="", reason="Asleep"))
        assert response.status_code == 302
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == 302
    assert [d.outcome for d in doses()] == ["refused", "held", "given"]


def test_override_where_the_unit_allows_is_recorded_and_marked(client, auth, admission, make_user,
                                                                audit_events):
    order = make_order(admission, make_user("physician"))
    nurse = make_user("nurse")
    give(admission, nurse, order, minutes_ago=60)
    auth.login_as("nurse")
    url = f"/admissions/{admission.id}/prn/orders/{order.id}/give"
    refused = client.post(url, data=give_form(admission, override_reason="Severe tremor, doctor on phone"))
    assert refused.status_code == 422 and "does not allow overriding" in text_of(refused)
    admission.unit.prn_override_allowed = True
    db.session.commit()
    refused = client.post(url, data=give_form(admission))
    assert "This unit allows an override" in text_of(refused)
    response = client.post(url, data=give_form(admission, override_reason="Severe tremor, doctor on phone"),
                           follow_redirects=True)
    assert "recorded as an OVERRIDE" in text_of(response)
    dose = doses()[-1]
    assert (dose.override_rule, dose.override_reason) == ("too_soon", "Severe tremor, doctor on phone")
    chart = text_of(client.get(f"/admissions/{admission.id}"))
    assert "Override (minimum interval)" in chart
    # On the due list (its effect follow-up), in the rows trends and handover read, and in the audit.
    assert "PRN effect — Lorazepam 1 mg — OVERRIDE" in text_of(client.get(f"/units/{admission.unit_id}/due"))
    row = queries.doses_for([admission.id], utc_now() - timedelta(hours=2), utc_now())[-1]
    assert row.is_override and row.override_reason == "Severe tremor, doctor on phone"
    assert json.loads(audit_events("create")[-1].detail)["override"] == "too_soon"


def test_backdated_breach_is_recorded_flagged_and_escalated(client, auth, admission, make_user, audit_events):
    order = make_order(admission, make_user("physician"))
    give(admission, make_user("nurse"), order, minutes_ago=30)
    auth.login_as("nurse")
    url = f"/admissions/{admission.id}/prn/orders/{order.id}/give"
    refused = client.post(url, data=give_form(admission, given_at=local(admission, 120)))
    assert refused.status_code == 422
    assert "If it was already given, record it with the reason" in text_of(refused)
    response = client.post(url, data=give_form(admission, given_at=local(admission, 120),
                                               breach_reason="Given by agency nurse, charted late"))
    assert response.status_code == 302
    dose = doses()[-1]
    assert dose.breach_rule == "too_soon" and dose.override_rule is None
    [escalation] = db.session.scalars(select(Escalation)).all()
    assert escalation.rule == f"prn_breach:{dose.id}" and "PRN limit breach" in escalation.reason
    assert "Limit breach (minimum interval)" in text_of(client.get(f"/admissions/{admission.id}"))
    assert json.loads(audit_events("create")[-2].detail)["breach"] == "too_soon"


def test_entered_in_error_is_struck_through_and_stops_counting(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"))
    nurse = auth.login_as("nurse")
    wrong = give(admission, nurse, order, minutes_ago=10)
    response = client.post(f"/admissions/{admission.id}/entries/prn_dose/{wrong.id}/retract",
                           data={"reason": "Wrong patient"})
    assert response.status_code == 302
    html = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert re.search(r'class="entry entry-prn_dose struck"', html)
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == 302
    assert len(doses()) == 2


def test_effect_follow_up_due_then_overdue_on_the_due_list_and_board(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"), reassess_after_minutes=30)
    nurse = auth.login_as("nurse")
    fresh = give(admission, nurse, order, minutes_ago=10)
    page = text_of(client.get(f"/units/{admission.unit_id}/due"))
    assert "PRN effect — Lorazepam 1 mg" in page and re.search(r"due in (19|20) min", page)
    # Make it overdue: a dose given 50 minutes ago on a second order.
    other = make_order(admission, make_user("physician"), drug="Ondansetron", dose=Decimal("4"),
                       reassess_after_minutes=30, route="oral")
    give(admission, nurse, other, minutes_ago=50, dose="4")
    html = client.get(f"/units/{admission.unit_id}/due").get_data(as_text=True)
    page = text_of_html(html)
    assert "PRN effect — Ondansetron 4 mg" in page and re.search(r"overdue by (20|21) min", page)
    # Two open checks for one patient: a row each, with ids of their own.
    assert f'id="due-prn_effect-{admission.id}-{fresh.id}"' in html
    chart = text_of(client.get(f"/admissions/{admission.id}"))
    assert "Overdue" in chart and "Effect of Ondansetron" in chart
    # Recording the effect completes it.
    response = client.post(f"/admissions/{admission.id}/prn/doses/{fresh.id}/effect",
                           data={"idempotency_key": uuid.uuid4().hex, "assessed_at": local(admission),
                                 "effect": "better", "side_effects": ["sedation"], "assessment_id": "0"})
    assert response.status_code == 302
    assert (f"PRN effect saved for {admission.patient.display_name}, Lorazepam."
            in text_of(client.get(response.headers["Location"])))
    [effect] = db.session.scalars(select(PrnEffect)).all()
    assert (effect.effect, effect.side_effects) == ("better", ["sedation"])
    page = text_of(client.get(f"/units/{admission.unit_id}/due"))
    assert "PRN effect — Lorazepam" not in page and "PRN effect — Ondansetron" in page


def test_effect_follow_up_is_the_board_s_next_due_when_it_is_the_most_overdue(client, auth, admission,
                                                                            make_user):
    nurse = auth.login_as("nurse")
    now = utc_now()
    chart_vitals(admission, nurse, now - timedelta(minutes=5))
    chart_ketamine(admission, nurse, now - timedelta(minutes=5), craving=2)
    chart_check(admission, nurse, now - timedelta(minutes=5))
    order = make_order(admission, make_user("physician"), reassess_after_minutes=30)
    give(admission, nurse, order, minutes_ago=45)
    board = text_of(client.get(f"/units/{admission.unit_id}/board"))
    assert re.search(r"⚠ Overdue PRN effect for TESTPERSON, Sam overdue by (15|16) min", board), board


def test_discontinue_and_change(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"))
    give(admission, make_user("nurse"), order, minutes_ago=120)
    auth.login_as("physician")
    response = client.post(f"/admissions/{admission.id}/prn/orders/new?supersedes={order.id}",
                           data=order_form(admission, min_interval_minutes="60", reason="More frequent"))
    assert response.status_code == 302
    old, new = orders()
    assert new.supersedes_id == old.id
    [stopped] = db.session.scalars(select(PrnDiscontinuation)).all()
    assert stopped.order_id == old.id and "More frequent" in stopped.reason
    chart = text_of(client.get(f"/admissions/{admission.id}"))
    assert "1 of 4 doses" in chart
    response = client.post(f"/admissions/{admission.id}/prn/orders/{new.id}/discontinue",
                           data={"reason": "Withdrawal settled"})
    assert response.status_code == 302
    assert (f"Discontinuation of a PRN order saved for {admission.patient.display_name}, Lorazepam "
            "stopped; its doses stay on the chart." in text_of(client.get(response.headers["Location"])))
    assert "No active PRN orders" in text_of(client.get(f"/admissions/{admission.id}"))
    auth.logout()
    auth.login_as("nurse")
    response = client.post(f"/admissions/{admission.id}/prn/orders/{new.id}/give", data=give_form(admission))
    assert response.status_code == 422 and "the order has stopped" in text_of(response)


@pytest.mark.parametrize("role, order_status, give_status", [
    ("nurse", 403, 200), ("charge_nurse", 403, 200), ("physician", 200, 200),
    ("admin", 403, 403), ("auditor", 403, 403),
])
def test_roles(client, auth, admission, make_user, role, order_status, give_status):
    order = make_order(admission, make_user("physician"))
    auth.login_as(role)
    assert client.get(f"/admissions/{admission.id}/prn/orders/new").status_code == order_status
    assert client.get(f"/admissions/{admission.id}/prn/orders/{order.id}/give").status_code == give_status
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == (302 if give_status == 200 else 403)
    if order_status == 403:
        assert client.post(f"/admissions/{admission.id}/prn/orders/new",
                           data=order_form(admission)).status_code == 403
        assert len(orders()) == 1


def test_order_from_another_admission_is_not_found(client, auth, admission, make_admission, make_user):
    other = make_admission(unit=admission.unit)
    order = make_order(other, make_user("physician"))
    auth.login_as("nurse")
    assert client.get(f"/admissions/{admission.id}/prn/orders/{order.id}/give").status_code == 404


def test_panel_view_is_audited(client, auth, admission, audit_events):
    auth.login_as("nurse")
    assert client.get(f"/admissions/{admission.id}/prn").status_code == 200
    assert json.loads(audit_events("view")[-1].detail) == {"page": "prn"}


def test_threshold_and_hold_parameters_refuse(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"), treats_scale="ciwa_ar", score_threshold=10,
                       hold_parameters={"systolic_bp": 90})
    auth.login_as("nurse")
    response = client.post(give_url(admission, order), data=give_form(admission))
    assert response.status_code == 422 and "no CIWA-Ar score charted" in text_of(response)
    assert utc_now()


def test_administrator_sets_the_unit_override_setting(client, auth, admission, audit_events):
    auth.login_as("admin")
    assert client.get(f"/admin/units/{admission.unit_id}/prn").status_code == 200
    response = client.post(f"/admin/units/{admission.unit_id}/prn", data={"prn_override_allowed": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert admission.unit.prn_override_allowed is True
    assert json.loads(audit_events("update")[-1].detail)["after"] == {"prn_override_allowed": True}


def test_hold_parameter_met_refuses_with_the_latest_value(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"), drug="Clonidine", dose=Decimal("0.1"),
                       hold_parameters={"systolic_bp": 90, "heart_rate": 60})
    nurse = auth.login_as("nurse")
    url = give_url(admission, order)
    response = client.post(url, data=give_form(admission, dose="0.1"))
    assert response.status_code == 422 and "no vital signs in the last hour" in text_of(response)
    chart_vitals(admission, nurse, utc_now() - timedelta(minutes=5), heart_rate=55)
    response = client.post(url, data=give_form(admission, dose="0.1"))
    page = text_of(response)
    assert response.status_code == 422 and "a hold parameter is met" in page and "heart rate 55" in page
    chart_vitals(admission, nurse, utc_now() - timedelta(minutes=1), heart_rate=72)
    assert client.post(url, data=give_form(admission, dose="0.1")).status_code == 302


def test_hold_parameters_need_vital_signs_from_the_last_hour(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"), drug="Clonidine", dose=Decimal("0.1"),
                       hold_parameters={"systolic_bp": 90})
    nurse = auth.login_as("nurse")
    chart_vitals(admission, nurse, utc_now() - timedelta(minutes=90))
    response = client.post(give_url(admission, order), data=give_form(admission, dose="0.1"))
    page = text_of(response)
    taken = local_time(utc_now() - timedelta(minutes=90), admission.unit.zone)
    assert response.status_code == 422 and "no vital signs in the last hour" in page
    assert f"90; latest systolic blood pressure 125 at {taken}" in page
    assert doses() == []
    chart_vitals(admission, nurse, utc_now() - timedelta(minutes=2))
    assert client.post(give_url(admission, order), data=give_form(admission, dose="0.1")).status_code == 302


def test_a_resubmitted_give_form_charts_once(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"))
    auth.login_as("nurse")
    form = give_form(admission)
    assert client.post(give_url(admission, order), data=form).status_code == 302
    again = client.post(give_url(admission, order), data=form, follow_redirects=True)
    assert again.status_code == 200 and "too soon" not in text_of(again)
    assert len(doses()) == 1
