"""Hostile numbers in every typed number field: refused fast with the field's own message."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from clinic.admin.services import due_field_name
from clinic.extensions import db
from clinic.models import Unit, VitalSigns
from tests.test_due_rules_admin import form_data as due_rules_data
from tests.test_vitals import message_next_to, new_url, shown_inputs, vitals_form

HOSTILE = ["1e1200000", "1e100000", "NaN", "-Infinity", "9" * 5000, "١٢٠", "1_000", "0x10"]


def _timed_post(client, url, data):
    started = time.perf_counter()
    response = client.post(url, data=data)
    # Generous: the bug took tens of seconds; a refusal takes milliseconds even on a busy machine.
    assert time.perf_counter() - started < 5
    return response


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field, message", [
    ("heart_rate", "Heart rate must be a number"),
    ("temperature", "Temperature must be a number"),
    ("glucose", "Capillary glucose must be a number"),
    ("pain", "Pain score must be a number"),
])
def test_vitals_refuse_hostile_numbers_next_to_the_field(client, make_admission, auth, field,
                                                          message, text):
    admission = make_admission()
    auth.login_as("nurse")
    response = _timed_post(client, new_url(admission), vitals_form(admission, {field: text}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in message_next_to(page, field)
    assert shown_inputs(page)[field] == text
    assert db.session.scalar(select(func.count()).select_from(VitalSigns)) == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_oxygen_flow_refuses_hostile_numbers(client, make_admission, auth, text):
    admission = make_admission()
    auth.login_as("nurse")
    data = vitals_form(admission, {"air_or_oxygen": "oxygen", "oxygen_device": "nasal_cannula",
                                   "oxygen_flow": text})
    response = _timed_post(client, new_url(admission), data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the flow in L/min (0.1–60)." in message_next_to(page, "oxygen_flow")
    assert db.session.scalar(select(func.count()).select_from(VitalSigns)) == 0


@pytest.mark.parametrize("text", [*HOSTILE, "60.5", "2.5"])
def test_late_entry_minutes_refuse_hostile_numbers(client, auth, text):
    auth.login_as("admin")
    data = {"name": "Ward 7", "timezone": "Europe/London", "shift_pattern": "Day 07:00, Night 19:00",
            "late_entry_minutes": text}
    response = _timed_post(client, "/admin/units/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number of minutes from 5 to 1440." in page
    assert db.session.scalar(select(Unit)) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_due_rule_settings_refuse_hostile_numbers(client, make_unit, auth, text):
    unit = make_unit()
    auth.login_as("admin")
    url = f"/admin/units/{unit.id}/due-rules"
    data = due_rules_data()
    data[due_field_name("cows_minutes")] = text
    data[due_field_name("on_time_factor")] = text
    response = _timed_post(client, url, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a whole number." in page
    assert "Enter a number such as 1.5." in page


@pytest.mark.parametrize("text", HOSTILE)
def test_monitoring_override_refuses_hostile_minutes(client, make_admission, auth, text):
    admission = make_admission(protocols=("ciwa_ar",))
    auth.login_as("physician")
    data = {"protocol": "ciwa_ar", "action": "set", "ciwa_ar-interval_minutes": text,
            "ciwa_ar-reason": "Settled"}
    response = _timed_post(client, f"/admissions/{admission.id}/monitoring", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:300]
    assert "Enter a whole number of minutes from" in page
