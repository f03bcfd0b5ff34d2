"""Withdrawal assessments charted through the forms: scoring, refusals, escalations, amendments."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.admissions import chart as chart_service
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Assessment, Escalation
from clinic.scoring import ciwa_ar, ciwa_b, cows, ketamine
from tests.conftest import redirect_path

ALL_SCALES = ("ketamine", "ciwa_ar", "cows", "ciwa_b")
#: A heart rate that gives each COWS pulse value.
HEART_RATE_FOR = {0: 70, 1: 90, 2: 110, 4: 130}


@pytest.fixture
def admission(make_admission):
    return make_admission(
        substances=(("ketamine", 20), ("alcohol", 30), ("opioids", 30), ("benzodiazepines", 30)),
        protocols=ALL_SCALES,
    )


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def local(admission, minutes_ago: float = 0) -> str:
    """Return a time on the unit's wall clock, as a datetime-local form field holds it."""
    at = utc_now() - timedelta(minutes=minutes_ago)
    return at.astimezone(admission.unit.zone).strftime("%Y-%m-%dT%H:%M")


def new_url(admission, scale: str) -> str:
    return f"/admissions/{admission.id}/assessments/new?scale={scale}"


def show_url(admission, assessment) -> str:
    return f"/admissions/{admission.id}/assessments/{assessment.id}"


def form_data(admission, answers: dict, *, minutes_ago: float = 0, key: str | None = None,
              **extra) -> dict:
    data = {"observed_at": local(admission, minutes_ago),
            "idempotency_key": key or uuid.uuid4().hex}
    data.update({name: str(value) for name, value in answers.items()})
    data.update(extra)
    return data


def post(client, admission, scale: str, answers: dict, **kw):
    return client.post(new_url(admission, scale), data=form_data(admission, answers, **kw))


def ciwa_answers(*values: int) -> dict:
    return dict(zip(ciwa_ar.KEYS, values, strict=True))


def cows_answers(*values: int) -> dict:
    """Return COWS form answers in table order, the pulse given as a typed heart rate."""
    answers = dict(zip(cows.KEYS, values, strict=True))
    answers["heart_rate"] = HEART_RATE_FOR[answers.pop("resting_pulse")]
    return answers


def ketamine_answers(*, self_harm: str = "no", blood: str = "no", retention: str = "no",
                     behaviour: str = "no", **items: int) -> dict:
    answers = {item.key: items.get(item.key, 0) for item in ketamine.DEFAULT_DEFINITION.items}
    answers.update(blood_in_urine=blood, unable_to_pass_urine=retention,
                   self_harm_thoughts=self_harm, behaviour=behaviour)
    return answers


def switch_user(auth, role: str):
    """Log out whoever is logged in, then log in a new user with `role`."""
    auth.logout()
    return auth.login_as(role)


def assessments() -> list[Assessment]:
    return list(db.session.scalars(select(Assessment).order_by(Assessment.id)))


def escalations(rule: str | None = None) -> list[Escalation]:
    query = select(Escalation).order_by(Escalation.id)
    if rule:
        query = query.where(Escalation.rule == rule)
    return list(db.session.scalars(query))


def saved(response) -> Assessment:
    assert response.status_code == 302, response.get_data(as_text=True)
    assessment_id = int(redirect_path(response).rstrip("/").split("/")[-1])
    return db.session.get(Assessment, assessment_id)


def fieldset(html: str, name: str) -> str:
    """Return the HTML of the fieldset that asks the question `name`."""
    match = re.search(rf'<fieldset[^>]*id="{name}-group".*?</fieldset>', html, re.S)
    assert match, f"no fieldset for {name}"
    return match.group(0)


def checked_value(html: str, name: str) -> str | None:
    """Return the value of the checked radio button called `name`, if any."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


# Worked examples (REFERENCE §11)


@pytest.mark.parametrize(("values", "total", "band"), [
    ((0,) * 10, 0, "mild"),
    ((2, 2, 1, 2, 0, 0, 0, 0, 0, 0), 7, "mild"),
    ((2, 2, 1, 2, 1, 0, 0, 0, 0, 0), 8, "moderate"),
    ((3, 3, 2, 3, 2, 0, 0, 0, 1, 0), 14, "moderate"),
    ((7,) * 9 + (4,), 67, "severe"),
])
def test_ciwa_ar_worked_examples(client, admission, nurse, values, total, band):
    assessment = saved(post(client, admission, "ciwa_ar", ciwa_answers(*values)))
    assert (assessment.outcome, assessment.total, assessment.band) == ("scored", total, band)
    assert assessment.items == ciwa_answers(*values)
    assert assessment.scale_version == "1"
    assert assessment.recorded_by_id == nurse.id


@pytest.mark.parametrize(("values", "total", "band"), [
    ((0,) * 11, 0, "none"),
    ((1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0), 4, "none"),
    ((1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0), 5, "mild"),
    ((2, 2, 3, 1, 2, 1, 1, 0, 0, 0, 0), 12, "mild"),
    ((2, 2, 3, 1, 2, 1, 1, 1, 0, 0, 0), 13, "moderate"),
    ((4, 4, 5, 5, 4, 4, 5, 4, 4, 4, 5), 48, "severe"),
])
def test_cows_worked_examples(client, admission, nurse, values, total, band):
    assessment = saved(post(client, admission, "cows", cows_answers(*values)))
    assert (assessment.total, assessment.band) == (total, band)
    assert assessment.items["resting_pulse"] == values[0]
    assert assessment.heart_rate == HEART_RATE_FOR[values[0]]
    assert assessment.heart_rate_source == "typed on form"


def test_show_lists_answers_with_anchor_text(client, admission, nurse):
    answers = ciwa_answers(4, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    assessment = saved(post(client, admission, "ciwa_ar", answers))
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "intermittent nausea with dry heaves" in html
    assert "not visible, can be felt fingertip to fingertip" in html
    assert "5 · mild" in html
    assert "Back to chart" in html and "Correct" in html and "Entered in error" in html


# The form


@pytest.mark.parametrize("scale", ALL_SCALES)
def test_form_offers_each_item_as_radio_buttons(client, admission, nurse, scale):
    response = client.get(new_url(admission, scale))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-draft-key="assessment:{scale}:{admission.id}:new:{nurse.id}"' in html
    assert "drafts.js" in html and "assessments.js" in html
    assert "<select" not in html


def test_cows_offers_only_the_allowed_values(client, admission, nurse):
    html = client.get(new_url(admission, "cows")).get_data(as_text=True)
    restlessness = fieldset(html, "restlessness")
    assert re.findall(r'name="restlessness"[^>]*value="(\d)"', restlessness) == ["0", "1", "3", "5"]
    assert "unable to sit still for more than a few seconds" in restlessness
    assert 'name="resting_pulse"' not in html
    assert 'name="heart_rate"' in html


def test_missing_item_is_refused_next_to_it_and_other_answers_kept(client, admission, nurse):
    answers = ciwa_answers(3, 2, 1, 2, 0, 0, 0, 0, 1, 0)
    del answers["nausea_vomiting"]
    response = post(client, admission, "ciwa_ar", answers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Answer this item" in fieldset(html, "nausea_vomiting")
    assert "Answer this item" not in fieldset(html, "tremor")
    for key, value in answers.items():
        assert checked_value(html, key) == str(value), key
    assert assessments() == []


@pytest.mark.parametrize(("scale", "answers", "bad"), [
    ("cows", {**cows_answers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "restlessness": 2}, "restlessness"),
    ("ciwa_ar", {**ciwa_answers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "orientation": 5}, "orientation"),
])
def test_disallowed_value_is_refused(client, admission, nurse, scale, answers, bad):
    response = post(client, admission, scale, answers)
    assert response.status_code == 422
    assert "is not a value of this item" in fieldset(response.get_data(as_text=True), bad)
    assert assessments() == []


# COWS pulse


def test_cows_pulse_from_vitals_20_minutes_earlier(client, admission, nurse):
    response = client.post(f"/admissions/{admission.id}/vitals/new", data={
        "observed_at": local(admission, 20), "idempotency_key": uuid.uuid4().hex,
        "heart_rate": "108",
    })
    assert response.status_code == 302
    answers = cows_answers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    del answers["heart_rate"]
    assessment = saved(post(client, admission, "cows", answers))
    assert assessment.heart_rate == 108
    assert assessment.items["resting_pulse"] == 2
    assert assessment.total == 2
    assert assessment.heart_rate_source.startswith("vitals at ")


def test_cows_refused_when_vitals_are_40_minutes_old_and_none_typed(client, admission, nurse):
    client.post(f"/admissions/{admission.id}/vitals/new", data={
        "observed_at": local(admission, 40), "idempotency_key": uuid.uuid4().hex,
        "heart_rate": "108",
    })
    answers = cows_answers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    del answers["heart_rate"]
    response = post(client, admission, "cows", answers)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = re.search(r'<div id="heart_rate-msg">(.*?)</div>', html, re.S).group(1)
    assert "Enter the resting heart rate" in message
    assert checked_value(html, "gooseflesh") == "0"
    assert assessments() == []


def test_cows_impossible_heart_rate_refused(client, admission, nurse):
    answers = {**cows_answers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "heart_rate": "400"}
    response = post(client, admission, "cows", answers)
    assert response.status_code == 422
    assert assessments() == []


# CIWA-B and the ketamine checklist


def test_ciwa_b_scored(client, admission, nurse):
    answers = dict.fromkeys(ciwa_b.KEYS, 1)
    answers["tremor"] = 3
    assessment = saved(post(client, admission, "ciwa_b", answers))
    assert (assessment.total, assessment.band) == (22, "moderate")
    assert escalations() == []


def test_ketamine_flags_stored_and_escalated(client, admission, nurse):
    answers = ketamine_answers(craving=3, hallucinations=2, blood="yes")
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.total == 5
    assert assessment.band is None
    assert assessment.scale_version == ketamine.DEFAULT_DEFINITION.version
    assert assessment.yes_no == {"blood_in_urine": True, "unable_to_pass_urine": False}
    assert assessment.flags == ["Craving 3 (severe)", "Hallucinations 2", "Blood in urine"]
    assert assessment.self_harm_thoughts is False
    # The behaviour question is asked of everyone (issue 11 item 8); the thoughts questions are not.
    assert assessment.suicide_answers["behaviour"] is False
    assert assessment.suicide_answers["wish_dead"] is None
    assert assessment.suicide_risk == "none"
    [escalation] = escalations("ketamine:flags")
    assert (escalation.level, escalation.source_kind, escalation.source_id) == (
        "urgent", "assessment", assessment.id)
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "Symptom burden (unvalidated): 5" in html
    assert "Craving 3 (severe)" in html


def test_ketamine_without_flags_raises_nothing(client, admission, nurse):
    assessment = saved(post(client, admission, "ketamine", ketamine_answers(craving=2)))
    assert assessment.flags == []
    assert escalations() == []


def test_self_harm_yes_with_wish_dead_only_is_low_risk(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"),
               "wish_dead": "yes", "active_thoughts": "no", "behaviour": "no"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.self_harm_thoughts is True
    assert assessment.suicide_risk == "low"
    assert assessment.suicide_answers["wish_dead"] is True
    assert assessment.suicide_answers["method"] is None
    assert escalations() == []


def test_self_harm_with_intent_is_high_risk_and_an_emergency(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"),
               "wish_dead": "yes", "active_thoughts": "yes", "method": "no", "intent": "yes",
               "plan": "no", "behaviour": "no"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.suicide_risk == "high"
    [escalation] = escalations("suicide:high")
    assert escalation.level == "emergency"
    assert escalation.source_id == assessment.id
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "Suicide risk: high" in html


def test_self_harm_with_method_is_moderate_and_urgent(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"),
               "wish_dead": "no", "active_thoughts": "yes", "method": "yes", "intent": "no",
               "plan": "no", "behaviour": "no"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.suicide_risk == "moderate"
    assert [e.level for e in escalations("suicide:moderate")] == ["urgent"]


def test_self_harm_yes_without_screen_answers_is_refused_naming_the_question(
        client, admission, nurse):
    response = post(client, admission, "ketamine", ketamine_answers(self_harm="yes"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Answer yes or no: “Have you wished you were dead" in fieldset(html, "wish_dead")
    assert checked_value(html, "self_harm_thoughts") == "yes"
    assert assessments() == []


def test_follow_up_yes_after_a_no_is_refused_next_to_it(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"),
               "wish_dead": "yes", "active_thoughts": "no", "intent": "yes", "behaviour": "no"}
    response = post(client, admission, "ketamine", answers)
    assert response.status_code == 422
    assert "is asked only after a yes to" in fieldset(response.get_data(as_text=True), "intent")
    assert assessments() == []


def test_cows_correction_looks_up_the_vitals_again(client, admission, nurse):
    client.post(f"/admissions/{admission.id}/vitals/new", data={
        "observed_at": local(admission, 10), "idempotency_key": uuid.uuid4().hex,
        "heart_rate": "95",
    })
    answers = cows_answers(*(0,) * 11)
    del answers["heart_rate"]
    original = saved(post(client, admission, "cows", answers))
    html = client.get(correct_url(admission, original)).get_data(as_text=True)
    assert "heart rate 95 /min from vitals at" in html
    correction = saved(client.post(correct_url(admission, original), data=form_data(
        admission, {**answers, "gooseflesh": 3}, correction_reason="Gooseflesh missed")))
    assert (correction.heart_rate, correction.total) == (95, 4)
    assert correction.heart_rate_source == original.heart_rate_source


def test_self_harm_question_is_required(client, admission, nurse):
    answers = ketamine_answers()
    del answers["self_harm_thoughts"]
    response = post(client, admission, "ketamine", answers)
    assert response.status_code == 422
    assert "Answer yes or no" in fieldset(response.get_data(as_text=True), "self_harm_thoughts")


def test_screen_answers_ignored_when_self_harm_is_no(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="no"), "wish_dead": "yes"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.suicide_answers["wish_dead"] is None and assessment.suicide_risk == "none"


# Unable to assess


def test_unable_to_assess_with_reason(client, admission, nurse):
    response = post(client, admission, "ciwa_ar", {"tremor": 3}, save_unable="Record",
                    unable_reason="Delirious, cannot answer")
    assessment = saved(response)
    assert assessment.outcome == "unable"
    assert assessment.unable_reason == "Delirious, cannot answer"
    assert (assessment.items, assessment.total, assessment.band) == ({}, None, None)
    [escalation] = escalations("unable:ciwa_ar")
    assert escalation.level == "urgent"
    assert "Delirious" in escalation.reason
    assert "ciwa_ar" not in chart_service.latest_assessments(admission)


def test_unable_to_assess_without_reason_refused(client, admission, nurse):
    response = post(client, admission, "cows", {}, save_unable="Record", unable_reason="  ")
    assert response.status_code == 422
    assert "Give the reason the patient could not be assessed" in response.get_data(as_text=True)
    assert assessments() == []
    assert escalations() == []


# CIWA-Ar physician notification


def test_ciwa_ar_20_escalates(client, admission, nurse):
    answers = ciwa_answers(4, 4, 4, 4, 4, 0, 0, 0, 0, 0)
    assessment = saved(post(client, admission, "ciwa_ar", answers))
    assert assessment.total == 20
    [escalation] = escalations("ciwa_ar:notify")
    assert escalation.source_id == assessment.id
    assert escalation.level == "urgent"


def test_ciwa_ar_two_consecutive_15s_escalate(client, admission, nurse):
    fifteen = ciwa_answers(3, 3, 3, 3, 3, 0, 0, 0, 0, 0)
    saved(post(client, admission, "ciwa_ar", fifteen, minutes_ago=60))
    assert escalations() == []
    second = saved(post(client, admission, "ciwa_ar", fifteen))
    [escalation] = escalations("ciwa_ar:notify")
    assert escalation.source_id == second.id
    assert "previous 15" in escalation.reason


def test_ciwa_ar_15_after_a_lower_score_does_not_escalate(client, admission, nurse):
    saved(post(client, admission, "ciwa_ar", ciwa_answers(3, 3, 3, 3, 2, 0, 0, 0, 0, 0),
               minutes_ago=60))
    saved(post(client, admission, "ciwa_ar", ciwa_answers(3, 3, 3, 3, 3, 0, 0, 0, 0, 0)))
    assert escalations() == []


def test_cows_severe_escalates(client, admission, nurse):
    saved(post(client, admission, "cows", cows_answers(4, 4, 5, 5, 4, 4, 5, 4, 4, 4, 5)))
    assert [e.level for e in escalations("cows:severe")] == ["urgent"]


# Corrections and entered in error


def correct_url(admission, assessment) -> str:
    return f"/admissions/{admission.id}/assessments/{assessment.id}/correct"


def test_author_corrects_and_original_stays_readable(client, admission, nurse, audit_events):
    original = saved(post(client, admission, "ciwa_ar", ciwa_answers(2, 2, 1, 2, 0, 0, 0, 0, 0, 0)))
    html = client.get(correct_url(admission, original)).get_data(as_text=True)
    assert checked_value(html, "nausea_vomiting") == "2"
    data = form_data(admission, ciwa_answers(2, 2, 1, 2, 1, 0, 0, 0, 0, 0),
                     correction_reason="Agitation scored wrongly")
    correction = saved(client.post(correct_url(admission, original), data=data))
    assert correction.supersedes_id == original.id
    assert (correction.total, correction.band) == (8, "moderate")
    assert correction.correction_reason == "Agitation scored wrongly"
    assert chart_service.latest_assessments(admission)["ciwa_ar"].id == correction.id
    old = client.get(show_url(admission, original))
    assert old.status_code == 200
    assert "Superseded" in old.get_data(as_text=True)
    history = client.get(show_url(admission, correction)).get_data(as_text=True)
    assert "Agitation scored wrongly" in history and "Original" in history
    [event] = [e for e in audit_events("correct") if e.object_type == "assessment"]
    assert event.object_id == str(correction.id)
    assert event.detail and "Agitation scored wrongly" in event.detail
    again = client.post(correct_url(admission, original), data=data)
    assert redirect_path(again).endswith(show_url(admission, correction))
    assert len(assessments()) == 2


def test_correction_needs_a_reason(client, admission, nurse):
    original = saved(post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10)))
    data = form_data(admission, ciwa_answers(1, *(0,) * 9))
    response = client.post(correct_url(admission, original), data=data)
    assert response.status_code == 422
    assert "Give the reason for the correction" in response.get_data(as_text=True)
    assert len(assessments()) == 1


def test_another_nurse_cannot_correct_but_a_charge_nurse_can(client, auth, admission):
    auth.login_as("nurse")
    original = saved(post(client, admission, "cows", cows_answers(*(0,) * 11)))
    switch_user(auth, "nurse")
    assert client.get(correct_url(admission, original)).status_code == 302
    data = form_data(admission, cows_answers(1, *(0,) * 10), correction_reason="Pulse was 90")
    refused = client.post(correct_url(admission, original), data=data)
    assert refused.status_code == 302
    assert redirect_path(refused).endswith(show_url(admission, original))
    assert len(assessments()) == 1
    page = client.get(redirect_path(refused)).get_data(as_text=True)
    assert "Only the person who charted this entry, or a charge nurse" in page
    switch_user(auth, "charge_nurse")
    correction = saved(client.post(correct_url(admission, original), data=form_data(
        admission, cows_answers(1, *(0,) * 10), correction_reason="Pulse was 90")))
    assert correction.supersedes_id == original.id
    assert correction.total == 1


def test_correct_an_unable_into_a_score(client, admission, nurse):
    original = saved(post(client, admission, "ciwa_ar", {}, save_unable="Record",
                          unable_reason="Asleep"))
    html = client.get(correct_url(admission, original)).get_data(as_text=True)
    assert "Asleep" in html
    correction = saved(client.post(correct_url(admission, original), data=form_data(
        admission, ciwa_answers(*(1,) * 10), correction_reason="Woke and was assessed")))
    assert (correction.outcome, correction.total) == ("scored", 10)


def test_entered_in_error_is_excluded_from_latest(client, admission, nurse):
    assessment = saved(post(client, admission, "ciwa_b", dict.fromkeys(ciwa_b.KEYS, 0)))
    assert chart_service.latest_assessments(admission)["ciwa_b"].id == assessment.id
    response = client.post(
        f"/admissions/{admission.id}/entries/assessment/{assessment.id}/retract",
        data={"reason": "Wrong patient"})
    assert response.status_code == 302
    assert "ciwa_b" not in chart_service.latest_assessments(admission)
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "Entered in error" in html and "Wrong patient" in html
    assert correct_url(admission, assessment) not in html


# Saving once, late entries, next, access


def test_double_submit_saves_once(client, admission, nurse):
    key = uuid.uuid4().hex
    first = saved(post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10), key=key))
    again = post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10), key=key)
    assert saved(again).id == first.id
    assert len(assessments()) == 1
    page = client.get(redirect_path(again)).get_data(as_text=True)
    assert "already saved" in page


def test_late_entry_is_marked(client, admission, nurse):
    assessment = saved(post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10),
                            minutes_ago=120))
    assert assessment.is_late
    assert "Late entry" in client.get(show_url(admission, assessment)).get_data(as_text=True)


def test_saving_returns_to_next(client, admission, nurse):
    next_url = f"/admissions/{admission.id}"
    response = client.post(new_url(admission, "ciwa_ar") + f"&next={next_url}",
                           data=form_data(admission, ciwa_answers(*(0,) * 10)))
    assert response.status_code == 302
    assert redirect_path(response).endswith(next_url)


def test_future_time_refused(client, admission, nurse):
    response = post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10), minutes_ago=-30)
    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)


def test_scale_not_in_protocols_is_404(client, make_admission, nurse):
    admission = make_admission(protocols=("ketamine",))
    assert client.get(new_url(admission, "cows")).status_code == 404
    assert client.get(new_url(admission, "nonsense")).status_code == 404
    assert post(client, admission, "cows", cows_answers(*(0,) * 11)).status_code == 404
    assert client.get(new_url(admission, "ketamine")).status_code == 200


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_non_charting_roles_are_forbidden(client, auth, admission, role):
    auth.login_as("nurse")
    assessment = saved(post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10)))
    switch_user(auth, role)
    assert client.get(new_url(admission, "ciwa_ar")).status_code == 403
    assert post(client, admission, "ciwa_ar", ciwa_answers(*(0,) * 10)).status_code == 403
    assert client.get(show_url(admission, assessment)).status_code == 403
    assert client.get(correct_url(admission, assessment)).status_code == 403


def test_audit_events_for_create_and_view(client, admission, nurse, audit_events):
    assessment = saved(post(client, admission, "ciwa_ar", ciwa_answers(*(1,) * 10)))
    [created] = [e for e in audit_events("create") if e.object_type == "assessment"]
    assert created.object_id == str(assessment.id)
    assert created.patient_id == admission.patient_id
    assert created.user_id == nurse.id
    client.get(show_url(admission, assessment))
    [viewed] = [e for e in audit_events("view") if e.object_type == "assessment"]
    assert viewed.object_id == str(assessment.id)


def test_chart_shows_the_latest_score(client, admission, nurse):
    saved(post(client, admission, "ciwa_ar", ciwa_answers(2, 2, 1, 2, 1, 0, 0, 0, 0, 0)))
    html = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "8 · moderate" in html
