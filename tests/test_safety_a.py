"""Issue 11 (stream safety-a) through the forms: what the record does with deterioration."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Escalation
from tests.test_vitals import chart, new_url, vitals_form  # noqa: F401

#: The issue's part-filled set: life-threatening values, no temperature.
PARTIAL_CRITICAL = {
    "respiratory_rate": "6", "spo2": "82", "air_or_oxygen": "air", "systolic_bp": "85",
    "heart_rate": "135", "consciousness": "U",
}


def open_escalations(admission):
    db.session.expire_all()
    return list(db.session.scalars(
        select(Escalation).where(Escalation.admission_id == admission.id).order_by(Escalation.id)))


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_partial_set_with_red_parameters_escalates_and_is_due_within_the_hour(
        client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")

    vitals = chart(client, admission, PARTIAL_CRITICAL, confirmed="y")

    assert vitals.news2_total is None
    assert vitals.news2_band == "high"
    assert vitals.news2_points["respiratory_rate"] == 3 and "temperature" not in vitals.news2_points
    [escalation] = open_escalations(admission)
    assert escalation.automatic and escalation.level == "emergency"
    assert "NEWS2 incomplete (missing: temperature)" in escalation.reason
    assert "scoring 3: respiratory rate, SpO₂, systolic BP, pulse, consciousness" in escalation.reason

    board = page(client, f"/units/{admission.unit_id}/board")
    assert "NEWS2 incomplete · at least high" in board
    assert "missing: temperature" in board
    assert "NEWS2 0" not in board and "· low</span>" not in board
    chart_page = page(client, f"/admissions/{admission.id}")
    assert "NEWS2 incomplete · at least high" in chart_page and "missing: temperature" in chart_page
    monitoring = page(client, f"/admissions/{admission.id}/monitoring")
    assert "NEWS2 incomplete, at least high" in monitoring


def test_single_red_parameter_alone_raises_the_urgent_response(client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")

    vitals = chart(client, admission, {"consciousness": "C"})

    assert vitals.news2_band == "low-medium"
    [escalation] = open_escalations(admission)
    assert escalation.level == "urgent" and escalation.rule == "news2:red"


def test_partial_set_without_a_red_parameter_is_shown_incomplete_never_low(
        client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")
    chart(client, admission, {"heart_rate": "72", "spo2": "96"})

    assert open_escalations(admission) == []
    chart_page = page(client, f"/admissions/{admission.id}")
    assert "NEWS2 incomplete" in chart_page
    assert "missing: respiratory rate, air or oxygen, systolic BP, consciousness, temperature" in chart_page


@pytest.mark.parametrize(("field", "value", "label"), [
    ("spo2", "49", "SpO₂"), ("respiratory_rate", "0", "respiratory rate"),
    ("heart_rate", "19", "pulse"), ("temperature", "29.9", "temperature"),
])
def test_emergency_reading_is_charted_with_the_confirmation_and_escalates_at_once(
        client, make_admission, auth, field, value, label):
    admission = make_admission(protocols=("vitals",), substances=(("opioids", 2),))
    auth.login_as("nurse")
    data = vitals_form(admission, {field: value})

    asked = client.post(new_url(admission), data=data)
    assert asked.status_code == 422
    assert "re-measure and confirm" in unescape(asked.get_data(as_text=True))
    assert open_escalations(admission) == []

    vitals = chart(client, admission, {field: value}, confirmed="y")
    assert vitals.confirmed_extreme
    assert vitals.news2_points[field] == 3
    [escalation] = open_escalations(admission)
    assert escalation.level == "urgent" and f"scoring 3: {label}" in escalation.reason
