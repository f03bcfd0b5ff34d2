"""Issue 11 (stream safety-a) through the forms: what the record does with deterioration."""

from __future__ import annotations

import uuid
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from clinic.assessments.services import record_assessment
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Escalation, ProtocolOverride, RiskFlag
from clinic.monitoring.services import definition_for, due_for
from clinic.scoring import ciwa_ar, ciwa_b
from tests import test_assessments as assessment_tests
from tests.test_vitals import NORMAL, chart, new_url, vitals_form

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


# --- item 2: an override outlives no deterioration ----------------------------------------------

def record_ciwa(admission, nurse, items, minutes_ago):
    record_assessment(
        by=nurse, admission=admission, scale="ciwa_ar",
        observed_at=utc_now().replace(microsecond=0) - timedelta(minutes=minutes_ago),
        items=dict(zip(ciwa_ar.KEYS, items, strict=True)), yes_no={},
        heart_rate=None, self_harm_thoughts=None, suicide_answers=None, unable_reason=None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()


def due_item(admission, protocol):
    now = utc_now()
    definition, _ = definition_for(admission.unit)
    patient = due_for([admission], now=now, shift=admission.unit.shift_for(now), definition=definition)
    return next(item for item in patient[admission.id].items if item.protocol == protocol)


def test_override_stops_applying_when_ciwa_ar_worsens_and_the_page_says_why(
        client, make_admission, make_user, auth):
    admission = make_admission(protocols=("ciwa_ar",), substances=(("alcohol", 20),))
    nurse = make_user("nurse")
    record_ciwa(admission, nurse, (1, 1, 1, 1, 0, 0, 0, 0, 0, 0), 120)  # 4, mild
    auth.login_as("physician")
    response = client.post(f"/admissions/{admission.id}/monitoring", data={
        "protocol": "ciwa_ar", "action": "set", "ciwa_ar-interval_minutes": "480",
        "ciwa_ar-reason": "Settled; let him sleep"})
    assert response.status_code == 302
    row = db.session.scalars(select(ProtocolOverride)).one()
    assert row.set_in_band == "mild"
    assert due_item(admission, "ciwa_ar").interval_minutes == 480

    record_ciwa(admission, nurse, (4, 4, 4, 4, 4, 2, 2, 1, 0, 0), 10)  # 25, severe

    item = due_item(admission, "ciwa_ar")
    assert item.interval_minutes == 60 and not item.overridden
    monitoring = page(client, f"/admissions/{admission.id}/monitoring")
    assert "No longer applies" in monitoring
    assert "CIWA-Ar 25 (severe) is worse than the band it was set in (mild)" in monitoring


def test_vitals_override_stops_applying_at_news2_11(client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")
    chart(client, admission, NORMAL, minutes_ago=60)
    auth.login_as("physician")
    client.post(f"/admissions/{admission.id}/monitoring", data={
        "protocol": "vitals", "action": "set", "vitals-interval_minutes": "720",
        "vitals-reason": "Stable; sleeping"})
    assert due_item(admission, "vitals").interval_minutes == 720
    auth.login_as("nurse")
    chart(client, admission, {**NORMAL, "respiratory_rate": "26", "spo2": "91", "heart_rate": "135",
                              "systolic_bp": "100"}, confirmed="y")

    item = due_item(admission, "vitals")
    assert item.interval_minutes == 15


# --- item 3: CIWA-Ar steps down only after three settled 4-hourly scores -------------------------

def test_rising_ciwa_ar_scores_do_not_step_down_on_the_monitoring_page(client, make_admission,
                                                                      make_user, auth):
    admission = make_admission(protocols=("ciwa_ar",), substances=(("alcohol", 20),), hours_ago=24)
    nurse = make_user("nurse")
    for total_items, minutes_ago in (((1, 1, 0, 0, 0, 0, 0, 0, 0, 0), 490),   # 2
                                     ((2, 1, 1, 1, 0, 0, 0, 0, 0, 0), 250),   # 5
                                     ((2, 2, 1, 2, 0, 0, 0, 0, 0, 0), 10)):   # 7
        record_ciwa(admission, nurse, total_items, minutes_ago)
    item = due_item(admission, "ciwa_ar")
    assert (item.interval_minutes, item.reason) == (240, "CIWA-Ar 7 (below 8): every 4 h")
    auth.login_as("nurse")
    assert "CIWA-Ar 7 (below 8): every 4 h" in page(client, f"/admissions/{admission.id}/monitoring")


# --- items 5 and 6: severe withdrawal shortens intervals and tells the physician ----------------

@pytest.fixture
def withdrawal(make_admission):
    return make_admission(
        substances=(("alcohol", 20), ("opioids", 20), ("benzodiazepines", 20)),
        protocols=("vitals", "ciwa_ar", "cows", "ciwa_b"), hours_ago=24)


def test_ciwa_b_very_severe_escalates_to_the_physician_and_is_hourly(client, withdrawal, auth):
    auth.login_as("nurse")
    answers = {key: (4 if n < 15 else 2) for n, key in enumerate(ciwa_b.KEYS)}
    assessment = assessment_tests.saved(assessment_tests.post(client, withdrawal, "ciwa_b", answers))
    assert (assessment.total, assessment.band) == (70, "very severe")

    [escalation] = [e for e in open_escalations(withdrawal) if e.rule == "ciwa_b:severe"]
    assert "notify the physician" in escalation.reason and "seizures" in escalation.reason
    item = due_item(withdrawal, "ciwa_b")
    assert (item.interval_minutes, item.reason) == (60, "CIWA-B 70 (very severe): hourly")
    assert "CIWA-B 70 (very severe): hourly" in page(client, f"/admissions/{withdrawal.id}/monitoring")


def test_cows_moderately_severe_notifies_the_physician_and_is_hourly(client, withdrawal, auth):
    auth.login_as("nurse")
    answers = assessment_tests.cows_answers(4, 4, 5, 5, 4, 4, 3, 1, 0, 0, 0)
    assessment = assessment_tests.saved(assessment_tests.post(client, withdrawal, "cows", answers))
    assert (assessment.total, assessment.band) == (30, "moderately severe")

    assert [e.level for e in open_escalations(withdrawal) if e.rule == "cows:severe"] == ["urgent"]
    assert due_item(withdrawal, "cows").interval_minutes == 60


def test_severe_ciwa_ar_makes_vitals_due_with_each_reassessment(client, withdrawal, auth):
    auth.login_as("nurse")
    chart(client, withdrawal, NORMAL, minutes_ago=5)
    assert due_item(withdrawal, "vitals").interval_minutes == 720
    answers = dict(zip(ciwa_ar.KEYS, (4, 4, 4, 4, 4, 2, 2, 1, 0, 0), strict=True))
    assessment_tests.saved(assessment_tests.post(client, withdrawal, "ciwa_ar", answers))

    vitals, ciwa = due_item(withdrawal, "vitals"), due_item(withdrawal, "ciwa_ar")
    assert vitals.due_at == ciwa.due_at and vitals.interval_minutes == 60
    assert "CIWA-Ar 25 (severe range): vitals with each CIWA-Ar reassessment" in vitals.reason
    assert "vitals with each CIWA-Ar reassessment" in page(
        client, f"/admissions/{withdrawal.id}/monitoring")


# --- item 4: no interval longer than the published minimum frequencies ---------------------------

def test_due_rules_refuse_news2_bands_beyond_the_published_frequency(client, make_unit, auth):
    from tests.test_due_rules_admin import form_data, versions

    unit = make_unit()
    auth.login_as("admin")
    response = client.post(f"/admin/units/{unit.id}/due-rules",
                           data=form_data(vitals_minutes_by_band__low=10080,
                                          vitals_minutes_by_band__zero=10080))
    assert response.status_code == 422
    assert ("Vital-signs interval by NEWS2 band, “zero” (10080 min) is longer than the published minimum "
            "frequency allows: NEWS2 0: at least every 12 h, so 720 min at most.") in unescape(
        response.get_data(as_text=True))
    assert versions(unit) == []


def test_override_beyond_the_published_frequency_is_refused(client, make_admission, make_user, auth):
    admission = make_admission(protocols=("ciwa_ar",), substances=(("alcohol", 20),))
    record_ciwa(admission, make_user("nurse"), (2, 2, 2, 2, 2, 0, 0, 0, 0, 0), 20)  # 10
    auth.login_as("physician")
    response = client.post(f"/admissions/{admission.id}/monitoring", data={
        "protocol": "ciwa_ar", "action": "set", "ciwa_ar-interval_minutes": "240",
        "ciwa_ar-reason": "Settled overnight"})
    assert response.status_code == 422
    assert ("240 min is longer than the published minimum frequency allows (newest CIWA-Ar 10): "
            "CIWA-Ar 8 or more: every hour, so 60 min at most.") in unescape(response.get_data(as_text=True))
    assert db.session.scalars(select(ProtocolOverride)).all() == []


# --- item 13 and issue 12 item 12: glucose in the unit's unit, LO and HI as buttons --------------

def test_admin_sets_the_glucose_unit_and_the_form_checks_in_it(client, make_admission, auth,
                                                               audit_events):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("admin")
    edit = page(client, f"/admin/units/{admission.unit_id}")
    assert "Capillary glucose unit" in edit
    response = client.post(f"/admin/units/{admission.unit_id}/glucose-unit",
                           data={"glucose_unit": "mg/dL"}, follow_redirects=True)
    assert "is now charted in mg/dL" in unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert admission.unit.glucose_unit == "mg/dL"
    assert [e for e in audit_events("update") if e.object_type == "unit"]

    auth.logout()
    auth.login_as("nurse")
    form = page(client, new_url(admission))
    assert "In mg/dL, this unit's setting" in form and "Meter reads LO" in form
    refused = client.post(new_url(admission), data=vitals_form(admission, {"glucose": "5.5"}))
    assert refused.status_code == 422
    assert "5.5 mmol/L is 99 mg/dL" in unescape(refused.get_data(as_text=True))

    vitals = chart(client, admission, {"glucose": "99"})
    assert (vitals.glucose, vitals.glucose_unit) == (99, "mg/dL")
    assert "BG 99 mg/dL" in page(client, f"/admissions/{admission.id}?view=stay")


def test_mg_dl_value_typed_on_a_mmol_l_unit_names_the_mixup(client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")
    refused = client.post(new_url(admission), data=vitals_form(admission, {"glucose": "40"}))
    assert refused.status_code == 422
    text = unescape(refused.get_data(as_text=True))
    assert "40 mg/dL is 2.2 mmol/L" in text and "this unit charts mmol/L" in text


@pytest.mark.parametrize("word", ["LO", "HI"])
def test_glucose_meter_words_have_their_own_buttons(client, make_admission, auth, word):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")
    assert f'Meter reads {word}' in page(client, new_url(admission))

    vitals = chart(client, admission, {"heart_rate": "80", "glucose_meter": word}, confirmed="y")
    assert (vitals.glucose_reading, vitals.glucose_tenths) == (word, None)
    both = client.post(new_url(admission), data=vitals_form(
        admission, {"glucose": "5.5", "glucose_meter": word}, confirmed="y"))
    assert both.status_code == 422
    assert f"Type a number or choose “Meter reads {word}”, not both." in unescape(both.get_data(as_text=True))


# --- risk flags on the admission -----------------------------------------------------------------

def test_risk_flags_are_recorded_shown_and_shorten_ciwa_ar(client, make_admission, make_user, auth,
                                                           audit_events):
    admission = make_admission(protocols=("ciwa_ar",), substances=(("alcohol", 20),), hours_ago=30)
    auth.login_as("nurse")
    form = page(client, f"/admissions/{admission.id}/risk-flags")
    assert "Seizure or DT history" in form and "Pregnancy" in form
    response = client.post(f"/admissions/{admission.id}/risk-flags", data={
        "seizure_dt": "y", "seizure_dt_note": "Withdrawal seizure 2024", "falls": "y"})
    assert response.status_code == 302
    landing = page(client, response.headers["Location"])
    assert (f"Risk flags saved for {admission.patient.display_name}, seizure or dt history, falls risk."
            in landing)
    rows = db.session.scalars(select(RiskFlag).order_by(RiskFlag.id)).all()
    assert [(r.flag, r.present, r.note) for r in rows] == [
        ("seizure_dt", True, "Withdrawal seizure 2024"), ("falls", True, None)]
    assert [e for e in audit_events("update") if e.object_type == "admission"]

    chart_page = page(client, f"/admissions/{admission.id}")
    assert "⚑ Seizure or DT history" in chart_page and "⚑ Falls risk" in chart_page
    board = page(client, f"/units/{admission.unit_id}/board")
    assert "⚑ Seizure or DT history" in board and "⚑ Falls risk" in board
    assert "Aggression" not in board

    record_ciwa(admission, make_user("nurse"), (1, 1, 1, 1, 0, 0, 0, 0, 0, 0), 10)
    item = due_item(admission, "ciwa_ar")
    assert item.interval_minutes == 120 and "seizure or DT history" in item.reason

    # Clearing is a new row; nothing is overwritten.
    client.post(f"/admissions/{admission.id}/risk-flags", data={"seizure_dt": "y",
                                                                "seizure_dt_note": "Withdrawal seizure 2024"})
    assert [(r.flag, r.present) for r in db.session.scalars(select(RiskFlag).order_by(RiskFlag.id))] == [
        ("seizure_dt", True), ("falls", True), ("falls", False)]
    assert "⚑ Falls risk" not in page(client, f"/admissions/{admission.id}")


def test_risk_flag_note_is_limited(client, make_admission, auth):
    admission = make_admission()
    auth.login_as("nurse")
    response = client.post(f"/admissions/{admission.id}/risk-flags",
                           data={"aggression": "y", "aggression_note": "x" * 201})
    assert response.status_code == 422
    assert db.session.scalars(select(RiskFlag)).all() == []


def test_partial_set_ranks_by_its_points_and_the_due_list_says_incomplete(client, make_unit,
                                                                         make_admission, auth):
    unit = make_unit(beds=3)
    stable = make_admission(unit=unit, protocols=("vitals",), substances=(("alcohol", 20),),
                            family_name="Stable")
    critical = make_admission(unit=unit, protocols=("vitals",), substances=(("alcohol", 20),),
                              family_name="Critical")
    auth.login_as("nurse")
    chart(client, stable, {**NORMAL, "heart_rate": "95"})  # NEWS2 1
    chart(client, critical, PARTIAL_CRITICAL, confirmed="y")

    board = page(client, f"/units/{unit.id}/board?sort=unwell")
    assert board.index("CRITICAL") < board.index("STABLE")
    due_list = page(client, f"/units/{unit.id}/due")
    assert "(last NEWS2 incomplete, at least high)" in due_list


def test_newer_partial_set_without_a_red_is_shown_incomplete_on_the_board(client, make_admission, auth):
    admission = make_admission(protocols=("vitals",), substances=(("alcohol", 20),))
    auth.login_as("nurse")
    chart(client, admission, NORMAL, minutes_ago=30)  # NEWS2 0, low
    chart(client, admission, {"heart_rate": "72", "spo2": "96"})

    board = page(client, f"/units/{admission.unit_id}/board")
    assert "NEWS2 incomplete" in board
    assert "missing: respiratory rate, air or oxygen, systolic BP, consciousness, temperature" in board
    assert "NEWS2 0 · low" not in board
    # The clock still runs from the complete set (12-hourly at NEWS2 0).
    assert due_item(admission, "vitals").interval_minutes == 720
