"""Vital signs through the form: input limits, NEWS2, late entries, corrections, retractions."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import g
from sqlalchemy import func, select

from clinic.admissions import chart as chart_service
from clinic.admissions import services as admission_services
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import EntryRetraction, Escalation, VitalSigns
from clinic.routing import local_now
from tests.conftest import redirect_path

TIME_FORMAT = "%Y-%m-%dT%H:%M"
#: REFERENCE §11 "all mid-normal", with a diastolic, pain and glucose to make a full form.
NORMAL = {
    "respiratory_rate": "16",
    "spo2": "97",
    "air_or_oxygen": "air",
    "systolic_bp": "125",
    "diastolic_bp": "80",
    "heart_rate": "75",
    "consciousness": "A",
    "temperature": "37.0",
    "pain": "2",
    "glucose": "5.5",
}
#: The same set with a pulse just above normal: flagged, NEWS2 1.
FAST_PULSE = {**NORMAL, "heart_rate": "95"}
NEWS2_ORDER = ("respiratory_rate", "spo2", "on_oxygen", "systolic_bp", "heart_rate",
               "consciousness", "temperature")


# --- helpers -------------------------------------------------------------------------------------

class _Inputs(HTMLParser):
    """Collect the value shown in each input: text and hidden values, and the checked radio."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "input" or "name" not in attrs:
            return
        if attrs.get("type") in ("radio", "checkbox"):
            if "checked" in attrs:
                self.values[attrs["name"]] = attrs.get("value")
            else:
                self.values.setdefault(attrs["name"], None)
        else:
            self.values[attrs["name"]] = attrs.get("value", "")


def shown_inputs(html: str) -> dict[str, str | None]:
    parser = _Inputs()
    parser.feed(html)
    return parser.values


def message_next_to(html: str, name: str) -> str:
    """Return the text of the message block that belongs to one field ('' when there is none)."""
    found = re.search(rf'<div id="{name}-msg">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def when(admission, minutes_ago: float = 0) -> str:
    return (local_now(admission.unit) - timedelta(minutes=minutes_ago)).strftime(TIME_FORMAT)


def vitals_form(admission, values=NORMAL, *, minutes_ago: float = 0, **extra) -> dict:
    data = {"observed_at": when(admission, minutes_ago), "idempotency_key": uuid.uuid4().hex,
            **values, **extra}
    return {k: v for k, v in data.items() if v is not None}


def new_url(admission) -> str:
    return f"/admissions/{admission.id}/vitals/new"


def show_url(admission, vitals_id: int) -> str:
    return f"/admissions/{admission.id}/vitals/{vitals_id}"


def correct_url(admission, vitals_id: int) -> str:
    return f"/admissions/{admission.id}/vitals/{vitals_id}/correct"


def retract_url(admission, vitals_id: int) -> str:
    return f"/admissions/{admission.id}/entries/vitals/{vitals_id}/retract"


def chart_html(client, admission) -> str:
    response = client.get(f"/admissions/{admission.id}?view=stay")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stored_vitals() -> list[VitalSigns]:
    db.session.expire_all()
    return list(db.session.scalars(select(VitalSigns).order_by(VitalSigns.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def chart(client, admission, values=NORMAL, **kw) -> VitalSigns:
    """Save a set through the form and return the stored row."""
    response = client.post(new_url(admission), data=vitals_form(admission, values, **kw))
    assert response.status_code == 302, response.get_data(as_text=True)
    vitals_id = int(redirect_path(response).rstrip("/").rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(VitalSigns, vitals_id)


def vitals_events(audit_events, action: str):
    return [e for e in audit_events(action) if e.object_type == "vitals"]


@pytest.fixture
def admission(make_admission):
    return make_admission()


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


# --- a full set and NEWS2 ------------------------------------------------------------------------

def test_full_normal_set_saves_with_news2_shown(client, admission, nurse):
    response = client.post(new_url(admission), data=vitals_form(admission))

    [vitals] = stored_vitals()
    assert response.status_code == 302
    assert redirect_path(response).endswith(show_url(admission, vitals.id))
    assert (vitals.heart_rate, vitals.systolic_bp, vitals.diastolic_bp) == (75, 125, 80)
    assert (vitals.respiratory_rate, vitals.spo2, vitals.on_oxygen) == (16, 97, False)
    assert (vitals.temperature, vitals.pain, vitals.glucose) == (Decimal("37.0"), 2, Decimal("5.5"))
    assert vitals.consciousness == "A"
    assert vitals.recorded_by_id == nurse.id
    assert (vitals.news2_total, vitals.news2_band) == (0, "low")
    assert vitals.news2_points == dict.fromkeys(NEWS2_ORDER, 0)
    assert vitals.flags == {}
    assert not vitals.is_late and not vitals.confirmed_extreme

    page = client.get(redirect_path(response)).get_data(as_text=True)
    assert "NEWS2 0 · low" in page
    assert "at least every 12 h" in page


SCALE_1_EXAMPLES = [
    # REFERENCE §11: RR, SpO2, air/O2, SBP, pulse, ACVPU, temp -> points, total, band.
    ("all mid-normal", (16, 97, 125, 75, "A", "37.0"), (0, 0, 0, 0, 0, 0, 0), 0, "low"),
    ("lower edges of 0-bands", (12, 96, 111, 51, "A", "36.1"), (0, 0, 0, 0, 0, 0, 0), 0, "low"),
    ("first abnormal values", (21, 95, 110, 91, "A", "36.0"), (2, 1, 0, 1, 1, 0, 1), 6, "medium"),
    ("single red 3", (25, 97, 120, 80, "A", "37.0"), (3, 0, 0, 0, 0, 0, 0), 3, "low-medium"),
    ("7 without a red", (9, 93, 100, 50, "A", "35.1"), (1, 2, 0, 2, 1, 0, 1), 7, "high"),
    ("new confusion", (16, 97, 125, 75, "C", "37.0"), (0, 0, 0, 0, 0, 3, 0), 3, "low-medium"),
    ("same on scale 1", (18, 90, 130, 80, "A", "37.0"), (0, 3, 0, 0, 0, 0, 0), 3, "low-medium"),
]


@pytest.mark.parametrize(("inputs", "points", "total", "band"),
                         [case[1:] for case in SCALE_1_EXAMPLES],
                         ids=[case[0] for case in SCALE_1_EXAMPLES])
def test_news2_worked_examples_on_scale_1(client, admission, nurse, inputs, points, total, band):
    rr, spo2, sbp, pulse, acvpu, temp = inputs
    values = {"respiratory_rate": str(rr), "spo2": str(spo2), "air_or_oxygen": "air",
              "systolic_bp": str(sbp), "heart_rate": str(pulse), "consciousness": acvpu,
              "temperature": temp}

    vitals = chart(client, admission, values)

    assert vitals.spo2_scale == 1
    assert (vitals.news2_total, vitals.news2_band) == (total, band)
    assert tuple(vitals.news2_points[name] for name in NEWS2_ORDER) == points
    page = client.get(show_url(admission, vitals.id)).get_data(as_text=True)
    assert f"NEWS2 {total} · {band}" in page


# --- refusals (REFERENCE §6) ---------------------------------------------------------------------

REFUSALS = [
    ("respiratory_rate", "81", "Respiratory rate 81 is outside the possible range 0–80 /min"),
    ("heart_rate", "301", "Heart rate 301 is outside the possible range 0–300 /min"),
    ("systolic_bp", "19", "Systolic BP 19 is outside the possible range 20–300 mmHg"),
    ("systolic_bp", "301", "Systolic BP 301 is outside the possible range 20–300 mmHg"),
    ("diastolic_bp", "4", "Diastolic BP 4 is outside the possible range 5–200 mmHg"),
    ("diastolic_bp", "125", "Diastolic BP 125 must be below the systolic (125)"),
    ("diastolic_bp", "130", "Diastolic BP 130 must be below the systolic (125)"),
    ("temperature", "24.9", "Temperature 24.9 is outside the possible range 25.0–45.0 °C"),
    ("temperature", "45.1", "Temperature 45.1 is outside the possible range 25.0–45.0 °C"),
    ("temperature", "37.05", "Temperature is recorded to 0.1 °C"),
    ("spo2", "101", "SpO2 101 is outside the possible range 0–100 %"),
    ("glucose", "0.4", "Capillary glucose 0.4 is outside the possible range 0.5–50.0 mmol/L"),
    ("glucose", "50.1", "Capillary glucose 50.1 is outside the possible range 0.5–50.0 mmol/L"),
    ("pain", "11", "Pain score 11 is outside the possible range 0–10"),
    ("pain", "-1", "Pain score -1 is outside the possible range 0–10"),
    ("heart_rate", "abc", "Heart rate must be a number"),
    ("heart_rate", "72.5", "Heart rate must be a whole number"),
]


@pytest.mark.parametrize(("name", "typed", "message"), REFUSALS,
                         ids=[f"{name}={typed}" for name, typed, _ in REFUSALS])
def test_impossible_value_is_refused_next_to_its_field(client, admission, nurse, audit_events,
                                                       name, typed, message):
    data = vitals_form(admission, {**NORMAL, name: typed})

    response = client.post(new_url(admission), data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in message_next_to(page, name)
    assert "Not saved." in page
    assert stored_vitals() == []
    assert vitals_events(audit_events, "create") == []
    shown = shown_inputs(page)
    assert shown[name] == typed
    for other, value in NORMAL.items():
        if other != name:
            assert shown[other] == value, other
            assert "⚠" not in message_next_to(page, other), other
    assert shown["idempotency_key"] == data["idempotency_key"]


def test_fahrenheit_is_refused_with_the_conversion_offered(client, admission, nurse):
    data = vitals_form(admission, {**NORMAL, "temperature": "98.6"})

    refused = client.post(new_url(admission), data=data)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Temperature 98.6 looks like °F (= 37.0 °C); enter °C" in message_next_to(
        page, "temperature")
    assert 'name="use_celsius"' in page and 'value="37.0"' in page
    assert "Use 37.0 °C instead" in page
    assert stored_vitals() == []

    converted = client.post(new_url(admission), data={**data, "use_celsius": "37.0"})

    page = converted.get_data(as_text=True)
    assert converted.status_code == 200
    assert "Temperature converted to 37.0 °C. Check it, then save." in page
    shown = shown_inputs(page)
    assert shown["temperature"] == "37.0"
    assert shown["heart_rate"] == "75" and shown["air_or_oxygen"] == "air"
    assert stored_vitals() == []

    saved = client.post(new_url(admission), data={**data, "temperature": shown["temperature"],
                                                   "idempotency_key": shown["idempotency_key"]})

    assert saved.status_code == 302
    [vitals] = stored_vitals()
    assert vitals.temperature == Decimal("37.0")
    assert vitals.news2_total == 0


# --- confirm and flag tiers ----------------------------------------------------------------------

def test_extreme_value_needs_the_confirmation_tick(client, admission, nurse):
    data = vitals_form(admission, {**NORMAL, "heart_rate": "35"})

    refused = client.post(new_url(admission), data=data)

    page = refused.get_data(as_text=True)
    message = message_next_to(page, "heart_rate")
    assert refused.status_code == 422
    assert "Heart rate 35 is very low (below 40 /min)" in message
    assert "tick “Re-measured and confirmed” and save again" in message
    assert shown_inputs(page)["heart_rate"] == "35"
    assert stored_vitals() == []

    saved = client.post(new_url(admission), data={**data, "confirmed": "y"})

    assert saved.status_code == 302
    [vitals] = stored_vitals()
    assert vitals.heart_rate == 35
    assert vitals.confirmed_extreme is True
    assert vitals.flags["heart_rate"]["tier"] == "confirm"
    assert vitals.news2_points["heart_rate"] == 3
    page = client.get(redirect_path(saved)).get_data(as_text=True)
    assert "‼ extreme, confirmed" in page
    assert "Heart rate 35 is very low (below 40 /min): re-measure and confirm" in page
    assert "! 1 flagged" in chart_html(client, admission)


def test_abnormal_value_is_saved_and_flagged(client, admission, nurse):
    vitals = chart(client, admission, FAST_PULSE)

    assert vitals.heart_rate == 95
    assert vitals.confirmed_extreme is False
    assert vitals.flags == {"heart_rate": {
        "tier": "flag", "message": "Heart rate 95 is above the normal range 51–90 /min"}}
    page = client.get(show_url(admission, vitals.id)).get_data(as_text=True)
    assert "! abnormal" in page
    assert "Heart rate 95 is above the normal range 51–90 /min" in page


def test_glucose_meter_reading_is_recorded_as_such_once_confirmed(client, admission, nurse):
    data = vitals_form(admission, {**NORMAL, "glucose": "lo"})

    refused = client.post(new_url(admission), data=data)
    saved = client.post(new_url(admission), data={**data, "confirmed": "y"})

    assert refused.status_code == 422
    assert "meter reading LO" in message_next_to(refused.get_data(as_text=True), "glucose")
    assert saved.status_code == 302
    [vitals] = stored_vitals()
    assert (vitals.glucose_reading, vitals.glucose_tenths, vitals.glucose) == ("LO", None, "LO")
    assert vitals.confirmed_extreme is True


# --- partial and empty sets ----------------------------------------------------------------------

def test_partial_set_saves_with_news2_incomplete(client, admission, nurse):
    vitals = chart(client, admission, {"heart_rate": "72", "spo2": "96"})

    assert (vitals.heart_rate, vitals.spo2) == (72, 96)
    assert vitals.respiratory_rate is None and vitals.on_oxygen is None
    assert vitals.news2_total is None and vitals.news2_band is None
    page = client.get(show_url(admission, vitals.id)).get_data(as_text=True)
    assert "NEWS2 incomplete" in page
    assert "a partial set" in page
    # The chart's latest NEWS2 is this set, shown as incomplete, never an older set's total.
    assert chart_service.latest_news2(admission).id == vitals.id


def test_empty_form_is_refused(client, admission, nurse):
    response = client.post(new_url(admission), data=vitals_form(admission, {}))

    assert response.status_code == 422
    assert "Enter at least one measurement." in response.get_data(as_text=True)
    assert stored_vitals() == []


# --- oxygen --------------------------------------------------------------------------------------

def test_oxygen_needs_device_and_flow(client, admission, nurse):
    response = client.post(new_url(admission),
                           data=vitals_form(admission, {**NORMAL, "air_or_oxygen": "oxygen"}))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the oxygen device." in message_next_to(page, "oxygen_device")
    assert "Enter the flow in L/min (0.1–60)." in message_next_to(page, "oxygen_flow")
    assert shown_inputs(page)["air_or_oxygen"] == "oxygen"
    assert stored_vitals() == []


def test_oxygen_with_device_and_flow_scores_two(client, admission, nurse):
    vitals = chart(client, admission, {**NORMAL, "air_or_oxygen": "oxygen",
                                       "oxygen_device": "nasal_cannula", "oxygen_flow": "2"})

    assert vitals.on_oxygen is True
    assert (vitals.oxygen_device, vitals.oxygen_flow) == ("nasal_cannula", Decimal("2.0"))
    assert vitals.news2_points["on_oxygen"] == 2
    assert (vitals.news2_total, vitals.news2_band) == (2, "low")
    page = client.get(show_url(admission, vitals.id)).get_data(as_text=True)
    assert "Oxygen: Nasal cannula, 2.0 L/min" in page


# --- clinical time and late entries --------------------------------------------------------------

def test_future_clinical_time_is_refused(client, admission, nurse):
    data = vitals_form(admission, minutes_ago=-10)

    response = client.post(new_url(admission), data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The time cannot be in the future." in message_next_to(page, "observed_at")
    assert shown_inputs(page)["observed_at"] == data["observed_at"]
    assert shown_inputs(page)["heart_rate"] == "75"
    assert stored_vitals() == []


def test_entry_two_hours_back_is_late_and_shown_so(client, admission, nurse):
    vitals = chart(client, admission, minutes_ago=120)

    assert vitals.is_late is True
    assert "Late entry" in chart_html(client, admission)
    assert "Late entry" in client.get(show_url(admission, vitals.id)).get_data(as_text=True)


def test_entry_thirty_minutes_back_is_not_late(client, admission, nurse):
    vitals = chart(client, admission, minutes_ago=30)

    assert vitals.is_late is False
    assert "Late entry" not in chart_html(client, admission)


def test_unit_late_entry_limit_is_used(client, make_unit, make_admission, auth):
    unit = make_unit()
    unit.late_entry_minutes = 20
    db.session.commit()
    admission = make_admission(unit=unit)
    auth.login_as("nurse")

    vitals = chart(client, admission, minutes_ago=30)

    assert vitals.is_late is True
    assert "Late entry" in chart_html(client, admission)


# --- idempotency ---------------------------------------------------------------------------------

def test_same_form_posted_twice_charts_once(client, admission, nurse, audit_events):
    data = vitals_form(admission)

    first = client.post(new_url(admission), data=data)
    second = client.post(new_url(admission), data=data)

    [vitals] = stored_vitals()
    assert first.status_code == second.status_code == 302
    assert redirect_path(first) == redirect_path(second)
    assert redirect_path(second).endswith(show_url(admission, vitals.id))
    assert len(vitals_events(audit_events, "create")) == 1
    page = client.get(redirect_path(second)).get_data(as_text=True)
    assert "This set was already saved; it has not been charted twice." in page


def test_save_names_the_saved_draft_in_the_fragment_and_leaves_the_cookie_alone(client, admission,
                                                                                nurse):
    """The page after a save learns which browser draft to discard from the redirect's fragment."""
    data = vitals_form(admission)

    response = client.post(new_url(admission), data=data)

    [vitals] = stored_vitals()
    assert response.headers["Location"] == (f"{show_url(admission, vitals.id)}?saved=vitals-{vitals.id}"
                                            f"#saved={data['idempotency_key']}")
    assert "Set-Cookie" not in response.headers


def test_form_resubmitted_after_discharge_is_still_already_saved(client, admission, nurse,
                                                                 make_user, audit_events):
    """A set saved before the discharge is not refused when its form comes again: it is saved."""
    data = vitals_form(admission, minutes_ago=5)
    assert client.post(new_url(admission), data=data).status_code == 302
    admission_services.discharge(by=make_user("charge_nurse"), admission=admission,
                                 discharged_at=utc_now(), disposition="residential", note=None)
    db.session.commit()

    again = client.post(new_url(admission), data=data)

    [vitals] = stored_vitals()
    assert again.status_code == 302
    assert redirect_path(again).endswith(show_url(admission, vitals.id))
    assert len(vitals_events(audit_events, "create")) == 1


def test_new_form_after_discharge_is_refused(client, admission, nurse, make_user):
    admission_services.discharge(by=make_user("charge_nurse"), admission=admission,
                                 discharged_at=utc_now(), disposition="residential", note=None)
    db.session.commit()

    response = client.post(new_url(admission), data=vitals_form(admission, minutes_ago=5))

    assert response.status_code == 422
    assert "This admission has ended" in response.get_data(as_text=True)
    assert stored_vitals() == []


# --- corrections ---------------------------------------------------------------------------------

def correction_form(admission, original, values=NORMAL, reason="Misread the monitor", **extra):
    observed = original.observed_at.astimezone(admission.unit.zone).strftime(TIME_FORMAT)
    return {"observed_at": observed, "idempotency_key": uuid.uuid4().hex, **values,
            "correction_reason": reason, **extra}


def test_author_corrects_a_set(client, admission, nurse):
    original = chart(client, admission)

    response = client.post(correct_url(admission, original.id),
                           data=correction_form(admission, original, FAST_PULSE))

    old, new = stored_vitals()
    assert response.status_code == 302
    assert redirect_path(response).endswith(show_url(admission, new.id))
    assert old.id == original.id and old.heart_rate == 75
    assert new.supersedes_id == old.id
    assert new.correction_reason == "Misread the monitor"
    assert new.heart_rate == 95 and new.news2_total == 1
    assert new.observed_at == old.observed_at

    old_page = client.get(show_url(admission, old.id))
    assert old_page.status_code == 200
    assert "Superseded" in old_page.get_data(as_text=True)
    assert ">Correct</a>" not in old_page.get_data(as_text=True)
    new_page = client.get(show_url(admission, new.id)).get_data(as_text=True)
    assert "Corrected" in new_page and "Misread the monitor" in new_page

    page = chart_html(client, admission)
    assert f'{show_url(admission, new.id)}"' in page
    assert f'{show_url(admission, old.id)}"' not in page
    assert chart_service.latest_news2(admission).id == new.id
    assert "NEWS2 1 · low" in page


def test_same_correction_posted_twice_corrects_once(client, admission, nurse):
    original = chart(client, admission)
    data = correction_form(admission, original, FAST_PULSE)

    client.post(correct_url(admission, original.id), data=data)
    client.post(correct_url(admission, original.id), data=data)

    old, new = stored_vitals()
    assert new.supersedes_id == old.id


def test_correction_needs_a_reason(client, admission, nurse):
    original = chart(client, admission)

    response = client.post(correct_url(admission, original.id),
                           data=correction_form(admission, original, FAST_PULSE,
                                                reason="  "))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the reason for the correction." in message_next_to(page, "correction_reason")
    assert shown_inputs(page)["heart_rate"] == "95"
    assert len(stored_vitals()) == 1


def test_another_nurse_cannot_correct(client, admission, auth):
    auth.login_as("nurse")
    original = chart(client, admission)
    auth.logout()
    auth.login_as("nurse")

    form_page = client.get(correct_url(admission, original.id), follow_redirects=True)
    response = client.post(correct_url(admission, original.id),
                           data=correction_form(admission, original, FAST_PULSE))

    message = "Only the person who charted this entry, or a charge nurse, may amend it."
    assert message in form_page.get_data(as_text=True)
    assert response.status_code == 302
    assert redirect_path(response).endswith(show_url(admission, original.id))
    assert message in client.get(redirect_path(response)).get_data(as_text=True)
    assert len(stored_vitals()) == 1


def test_charge_nurse_may_correct_another_nurses_set(client, admission, auth):
    auth.login_as("nurse")
    original = chart(client, admission)
    auth.logout()
    charge = auth.login_as("charge_nurse")

    response = client.post(correct_url(admission, original.id),
                           data=correction_form(admission, original, FAST_PULSE))

    assert response.status_code == 302
    old, new = stored_vitals()
    assert new.supersedes_id == old.id and new.recorded_by_id == charge.id


def test_latest_news2_uses_the_correction(client, admission, nurse):
    earlier = chart(client, admission, minutes_ago=30)
    later = chart(client, admission, FAST_PULSE)
    assert chart_service.latest_news2(admission).id == later.id

    client.post(correct_url(admission, later.id),
                data=correction_form(admission, later, {**NORMAL, "respiratory_rate": "21"}))

    *_, correction = stored_vitals()
    latest = chart_service.latest_news2(admission)
    assert latest.id == correction.id != earlier.id
    assert latest.news2_total == 2


# --- entered in error ----------------------------------------------------------------------------

def test_retraction_needs_a_reason(client, admission, nurse):
    vitals = chart(client, admission)

    response = client.post(retract_url(admission, vitals.id), data={"reason": ""})

    assert response.status_code == 422
    assert "Give the reason." in response.get_data(as_text=True)
    assert count(EntryRetraction) == 0


def test_retracted_set_is_marked_and_left_out_of_news2(client, admission, nurse):
    earlier = chart(client, admission, minutes_ago=30)
    wrong = chart(client, admission, FAST_PULSE)

    response = client.post(retract_url(admission, wrong.id), data={"reason": "Wrong patient"})

    assert response.status_code == 302
    assert redirect_path(response).endswith(f"/admissions/{admission.id}")
    [retraction] = db.session.scalars(select(EntryRetraction)).all()
    assert (retraction.entry_kind, retraction.entry_id) == ("vitals", wrong.id)
    assert retraction.reason == "Wrong patient"
    assert len(stored_vitals()) == 2  # nothing clinical is deleted
    assert chart_service.latest_news2(admission).id == earlier.id

    page = chart_html(client, admission)
    assert page.count("entry entry-vitals struck") == 1
    assert "Entered in error" in page
    assert "entered in error: “Wrong patient”" in page
    shown = client.get(show_url(admission, wrong.id)).get_data(as_text=True)
    assert "Entered in error" in shown and "Wrong patient" in shown


def test_set_cannot_be_retracted_twice(client, admission, nurse):
    vitals = chart(client, admission)
    client.post(retract_url(admission, vitals.id), data={"reason": "Wrong patient"})

    again = client.post(retract_url(admission, vitals.id), data={"reason": "Again"},
                        follow_redirects=True)

    assert "This entry has been marked entered in error." in again.get_data(as_text=True)
    assert count(EntryRetraction) == 1


def test_retracted_set_cannot_be_corrected(client, admission, nurse):
    vitals = chart(client, admission)
    client.post(retract_url(admission, vitals.id), data={"reason": "Wrong patient"})

    response = client.post(correct_url(admission, vitals.id),
                           data=correction_form(admission, vitals, FAST_PULSE),
                           follow_redirects=True)

    assert "This entry has been marked entered in error." in response.get_data(as_text=True)
    assert len(stored_vitals()) == 1


# --- escalations ---------------------------------------------------------------------------------

FIRST_ABNORMAL = {"respiratory_rate": "21", "spo2": "95", "air_or_oxygen": "air",
                  "systolic_bp": "110", "heart_rate": "91", "consciousness": "A",
                  "temperature": "36.0"}


def test_medium_news2_raises_one_automatic_escalation(client, admission, nurse, audit_events):
    vitals = chart(client, admission, FIRST_ABNORMAL)
    chart(client, admission, FIRST_ABNORMAL, minutes_ago=1)

    [escalation] = db.session.scalars(select(Escalation)).all()
    assert vitals.news2_band == "medium"
    assert escalation.automatic is True
    assert (escalation.rule, escalation.level) == ("news2:medium", "urgent")
    assert (escalation.source_kind, escalation.source_id) == ("vitals", vitals.id)
    assert [e.object_id for e in audit_events("create") if e.object_type == "escalation"] == [
        str(escalation.id)]
    page = chart_html(client, admission)
    assert "Open escalations (1)" in page
    assert "Urgent · open" in page
    assert "NEWS2 6 (medium)" in page


def test_low_news2_raises_no_escalation(client, admission, nurse):
    chart(client, admission, FAST_PULSE)

    assert count(Escalation) == 0
    assert "Open escalations" not in chart_html(client, admission)


# --- who may chart (CSRF on, as in production) ---------------------------------------------------

#: The password conftest's make_user gives every user.
PASSWORD = "correct-horse-battery"


class TestAccessWithCsrfOn:
    """Role checks with CSRF protection on, every POST carrying a valid token."""

    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def token(client, url: str = "/login") -> str:
        # The test's app context outlives each request, so Flask-WTF's per-request token cache
        # in `g` would hand out a token from before login cleared the session.
        g.pop("csrf_token", None)
        return shown_inputs(client.get(url).get_data(as_text=True))["csrf_token"]

    def log_in(self, client, user) -> None:
        response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                               "csrf_token": self.token(client)})
        assert response.status_code == 302

    def log_out(self, client, admission) -> None:
        client.post("/logout", data={"csrf_token": self.token(client, new_url(admission))})

    def charted_by_nurse(self, client, admission, make_user) -> VitalSigns:
        self.log_in(client, make_user("nurse"))
        data = vitals_form(admission, csrf_token=self.token(client, new_url(admission)))
        assert client.post(new_url(admission), data=data).status_code == 302
        self.log_out(client, admission)
        [vitals] = stored_vitals()
        return vitals

    def test_a_refused_form_is_drawn_again_with_a_token_that_saves(self, client, admission, make_user):
        """The form's token is signed only when drawn: a redrawn form must still carry one."""
        self.log_in(client, make_user("nurse"))
        data = vitals_form(admission, csrf_token=self.token(client, new_url(admission)))

        refused = client.post(new_url(admission), data={**data, "heart_rate": "400"})
        g.pop("csrf_token", None)
        redrawn = shown_inputs(refused.get_data(as_text=True))

        assert refused.status_code == 422 and redrawn["csrf_token"]
        assert client.post(new_url(admission), data={**data, "csrf_token": redrawn["csrf_token"]}
                           ).status_code == 302
        assert len(stored_vitals()) == 1

    def test_post_without_the_token_is_refused(self, client, admission, make_user):
        self.log_in(client, make_user("nurse"))

        response = client.post(new_url(admission), data=vitals_form(admission))

        assert response.status_code == 400
        assert "Nothing was saved." in response.get_data(as_text=True)
        assert stored_vitals() == []

    @pytest.mark.parametrize("role", ["admin", "auditor"])
    def test_non_clinical_roles_are_forbidden(self, client, admission, make_user, role):
        vitals = self.charted_by_nurse(client, admission, make_user)
        self.log_in(client, make_user(role))
        token = self.token(client, show_url(admission, vitals.id))

        assert client.get(new_url(admission)).status_code == 403
        assert client.post(new_url(admission),
                           data=vitals_form(admission, csrf_token=token)).status_code == 403
        assert client.get(show_url(admission, vitals.id)).status_code == 403
        assert client.get(correct_url(admission, vitals.id)).status_code == 403
        assert client.post(correct_url(admission, vitals.id),
                           data=correction_form(admission, vitals, FAST_PULSE,
                                                csrf_token=token)).status_code == 403
        assert len(stored_vitals()) == 1

    def test_anonymous_is_sent_to_login(self, client, admission, make_user, audit_events):
        vitals = self.charted_by_nurse(client, admission, make_user)
        token = self.token(client)
        views_before = len(vitals_events(audit_events, "view"))

        for response in (
            client.get(new_url(admission)),
            client.post(new_url(admission), data=vitals_form(admission, csrf_token=token)),
            client.get(show_url(admission, vitals.id)),
            client.get(correct_url(admission, vitals.id)),
            client.post(correct_url(admission, vitals.id),
                        data=correction_form(admission, vitals, FAST_PULSE, csrf_token=token)),
        ):
            assert response.status_code == 302
            assert urlsplit(redirect_path(response)).path == "/login"
        assert len(stored_vitals()) == 1
        assert len(vitals_events(audit_events, "view")) == views_before

    def test_physician_may_chart(self, client, admission, make_user):
        physician = make_user("physician")
        self.log_in(client, physician)

        response = client.post(new_url(admission), data=vitals_form(
            admission, csrf_token=self.token(client, new_url(admission))))

        assert response.status_code == 302
        [vitals] = stored_vitals()
        assert vitals.recorded_by_id == physician.id


def test_discharged_admission_cannot_be_charted_on(client, admission, make_user, auth):
    admission_services.discharge(by=make_user("charge_nurse"), admission=admission,
                                 discharged_at=utc_now() - timedelta(minutes=5),
                                 disposition="home", note=None)
    db.session.commit()
    auth.login_as("nurse")
    message = "This admission has ended; new entries cannot be charted on it."

    form_page = client.get(new_url(admission))
    response = client.post(new_url(admission), data=vitals_form(admission, minutes_ago=60))

    assert message in form_page.get_data(as_text=True)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored_vitals() == []


# --- audit ---------------------------------------------------------------------------------------

def test_audit_events_for_create_correct_retract_and_view(client, admission, nurse, audit_events):
    original = chart(client, admission)

    [created] = vitals_events(audit_events, "create")
    assert created.object_id == str(original.id)
    assert created.patient_id == admission.patient_id
    assert created.user_id == nurse.id
    after = json.loads(created.detail)["after"]
    assert (after["heart_rate"], after["temperature"], after["news2_total"]) == (75, "37.0", 0)
    assert after["news2_band"] == "low" and after["late"] is False

    client.post(correct_url(admission, original.id),
                data=correction_form(admission, original, FAST_PULSE))
    _, correction = stored_vitals()

    [corrected] = vitals_events(audit_events, "correct")
    detail = json.loads(corrected.detail)
    assert corrected.object_id == str(correction.id) and corrected.user_id == nurse.id
    assert detail["supersedes"] == original.id
    assert detail["reason"] == "Misread the monitor"
    assert detail["before"]["heart_rate"] == 75 and detail["after"]["heart_rate"] == 95
    assert detail["before"]["news2_total"] == 0 and detail["after"]["news2_total"] == 1

    client.post(retract_url(admission, correction.id), data={"reason": "Wrong patient"})

    [retracted] = vitals_events(audit_events, "retract")
    assert retracted.object_id == str(correction.id) and retracted.user_id == nurse.id
    retraction = json.loads(retracted.detail)
    assert retraction["reason"] == "Wrong patient"
    assert retraction["content_hash"].startswith("entry_retraction:")

    client.get(show_url(admission, original.id))

    [viewed] = vitals_events(audit_events, "view")
    assert viewed.object_id == str(original.id) and viewed.user_id == nurse.id
    assert viewed.patient_id == admission.patient_id
    assert json.loads(viewed.detail) == {"page": "vitals"}


# --- unit clock, same-minute sets, the correct form, records of another admission ---------------

@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Auckland"])
def test_clinical_time_is_read_on_the_units_clock(client, make_unit, make_admission, auth, zone):
    admission = make_admission(unit=make_unit(timezone=zone))
    auth.login_as("nurse")

    vitals = chart(client, admission)

    assert vitals.is_late is False
    assert abs(utc_now() - vitals.observed_at) < timedelta(minutes=2)


def test_newest_recording_wins_when_two_sets_share_a_minute(client, admission, nurse):
    observed = when(admission)
    for values in (NORMAL, FAST_PULSE, NORMAL, FAST_PULSE):
        response = client.post(new_url(admission),
                               data=vitals_form(admission, values, observed_at=observed))
        assert response.status_code == 302
    *_, newest = stored_vitals()

    assert chart_service.latest_news2(admission).id == newest.id


def test_correct_form_is_prefilled(client, admission, nurse):
    original = chart(client, admission, {**NORMAL, "air_or_oxygen": "oxygen",
                                         "oxygen_device": "venturi", "oxygen_flow": "4"},
                     minutes_ago=15)

    page = client.get(correct_url(admission, original.id)).get_data(as_text=True)

    shown = shown_inputs(page)
    assert shown["observed_at"] == original.observed_at.astimezone(
        admission.unit.zone).strftime(TIME_FORMAT)
    for name in ("heart_rate", "systolic_bp", "respiratory_rate", "temperature", "pain", "glucose"):
        assert shown[name] == NORMAL[name], name
    assert shown["air_or_oxygen"] == "oxygen" and shown["oxygen_flow"] == "4.0"
    assert shown["consciousness"] == "A"


def test_set_of_another_admission_is_not_found(client, admission, make_admission, nurse):
    vitals = chart(client, admission)
    other = make_admission()

    assert client.get(show_url(other, vitals.id)).status_code == 404
    assert client.post(correct_url(other, vitals.id),
                       data=correction_form(other, vitals, FAST_PULSE)).status_code == 404
    assert client.post(retract_url(other, vitals.id), data={"reason": "x"}).status_code == 404
    assert len(stored_vitals()) == 1 and count(EntryRetraction) == 0
