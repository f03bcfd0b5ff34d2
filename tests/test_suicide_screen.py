"""The suicide-risk screen changes the care (issue 11 items 7, 8, 9), through the forms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Assessment, Escalation, SuicideReview
from tests.test_assessments import fieldset, ketamine_answers, post, saved, show_url, switch_user
from tests.test_board import board_rows

THOUGHTS_LOW = {"wish_dead": "yes", "active_thoughts": "yes", "method": "no", "intent": "no",
                "plan": "no", "behaviour": "no"}


@pytest.fixture
def admission(make_admission):
    return make_admission(substances=(("ketamine", 20),), protocols=("vitals", "ketamine"))


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def board_row(client, admission) -> str:
    response = client.get(f"/units/{admission.unit_id}/board")
    return board_rows(response)[admission.bed.label]


def chart(client, admission) -> str:
    return client.get(f"/admissions/{admission.id}").get_data(as_text=True)


def review(client, admission, note="Seen; safe plan agreed; stays on general observation"):
    return client.post(f"/admissions/{admission.id}/suicide-review", data={"note": note})


# Item 7: any yes flags the patient for a clinician's review the same shift.

def test_a_low_graded_yes_flags_the_patient_on_board_and_chart(client, admission, nurse):
    assessment = saved(post(client, admission, "ketamine",
                            {**ketamine_answers(self_harm="yes"), **THOUGHTS_LOW}))
    assert (assessment.suicide_risk, assessment.suicide_review_needed) == ("low", True)
    assert "Suicide screen: review needed" in board_row(client, admission)
    assert "Suicide screen: review needed" in chart(client, admission)
    assert db.session.scalars(select(Escalation)).all() == []


def test_a_screen_with_no_yes_raises_no_flag(client, admission, nurse):
    saved(post(client, admission, "ketamine", ketamine_answers()))
    row = board_row(client, admission)
    assert "review needed" not in row
    assert "Suicide risk: none" in row


@pytest.mark.parametrize("role", ["nurse", "admin", "auditor"])
def test_only_a_physician_or_charge_nurse_records_the_review(client, auth, admission, nurse, role):
    saved(post(client, admission, "ketamine", {**ketamine_answers(self_harm="yes"), **THOUGHTS_LOW}))
    switch_user(auth, role)
    response = review(client, admission)
    assert response.status_code == 403
    assert db.session.scalars(select(SuicideReview)).all() == []


@pytest.mark.parametrize("role", ["physician", "charge_nurse"])
def test_the_review_clears_the_flag_and_is_audited(client, auth, admission, nurse, role, audit_events):
    assessment = saved(post(client, admission, "ketamine",
                            {**ketamine_answers(self_harm="yes"), **THOUGHTS_LOW}))
    reviewer = switch_user(auth, role)
    response = review(client, admission)
    assert response.status_code == 302
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"Review of the suicide-risk screen saved for {admission.patient.display_name}, "
            "the flag is cleared.") in landing
    [row] = db.session.scalars(select(SuicideReview)).all()
    assert (row.assessment_id, row.reviewed_by_id) == (assessment.id, reviewer.id)
    assert any(e.object_type == "suicide_review" and e.object_id == str(row.id)
               for e in audit_events("create"))
    assert "review needed" not in board_row(client, admission)
    page = chart(client, admission)
    assert "review needed" not in page
    assert f"Reviewed by {reviewer.display_name}" in page


def test_a_review_without_a_note_is_refused_and_keeps_the_flag(client, auth, admission, nurse):
    saved(post(client, admission, "ketamine", {**ketamine_answers(self_harm="yes"), **THOUGHTS_LOW}))
    switch_user(auth, "physician")
    response = review(client, admission, note="   ")
    assert response.status_code == 422
    assert "Record what the review found" in response.get_data(as_text=True)
    assert db.session.scalars(select(SuicideReview)).all() == []


def test_moderate_risk_escalates_and_proposes_the_higher_level(client, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"), "wish_dead": "no", "active_thoughts": "yes",
               "method": "yes", "intent": "no", "plan": "no", "behaviour": "no"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert [e.rule for e in db.session.scalars(select(Escalation))] == ["suicide:moderate"]
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "Proposed observation level: Within eyesight (continuous)" in html
    assert f'href="/admissions/{admission.id}/observation-level?level=eyesight&amp;for_risk=1"' in html
    assert "Proposed observation level: Within eyesight" in board_row(client, admission)


def test_the_proposal_stands_until_the_screen_is_reviewed(client, auth, admission, nurse):
    answers = {**ketamine_answers(self_harm="yes"), "wish_dead": "no", "active_thoughts": "yes",
               "method": "yes", "intent": "no", "plan": "no", "behaviour": "no"}
    saved(post(client, admission, "ketamine", answers))
    switch_user(auth, "physician")
    review(client, admission, note="Seen with family; one-to-one not needed; 15-minute checks")
    assert "Proposed observation level" not in board_row(client, admission)


# Item 8: the behaviour question is asked of everyone.

def test_behaviour_is_asked_outside_the_thoughts_questions(client, admission, nurse):
    html = client.get(f"/admissions/{admission.id}/assessments/new?scale=ketamine").get_data(as_text=True)
    gated = re.search(r'<div class="suicide-thoughts" data-show-if="self_harm_thoughts=yes">'
                      r'(.*?)</div>\s*<!-- /thoughts -->', html, re.S)
    assert gated and 'id="wish_dead-group"' in gated.group(1)
    assert 'id="behaviour-group"' not in gated.group(1)
    assert 'id="behaviour-group"' in html


def test_behaviour_must_be_answered_after_a_no_to_thoughts(client, admission, nurse):
    answers = ketamine_answers()
    del answers["behaviour"]
    response = post(client, admission, "ketamine", answers)
    assert response.status_code == 422
    assert "Answer yes or no" in fieldset(response.get_data(as_text=True), "behaviour")
    assert db.session.scalars(select(Assessment)).all() == []


def test_recent_behaviour_after_a_no_to_thoughts_is_high_risk(client, admission, nurse):
    answers = {**ketamine_answers(), "behaviour": "yes", "behaviour_last_3_months": "yes"}
    assessment = saved(post(client, admission, "ketamine", answers))
    assert assessment.self_harm_thoughts is False
    assert assessment.suicide_risk == "high"
    assert assessment.suicide_answers["behaviour"] is True
    [escalation] = db.session.scalars(select(Escalation)).all()
    assert (escalation.rule, escalation.level) == ("suicide:high", "emergency")
    assert "Suicide screen: review needed" in board_row(client, admission)


# Item 9: the screen is its own entry on every admission, due at admission and then daily.

@pytest.fixture
def alcohol_admission(make_admission):
    return make_admission(substances=(("alcohol", 20),), protocols=("vitals", "ciwa_ar"), hours_ago=3)


def screen_url(admission) -> str:
    return f"/admissions/{admission.id}/assessments/new?scale=suicide_screen"


def due_list(client, admission) -> str:
    return client.get(f"/units/{admission.unit_id}/due").get_data(as_text=True)


def test_every_admission_gets_the_screen_whatever_the_substance(client, alcohol_admission, nurse):
    html = client.get(screen_url(alcohol_admission)).get_data(as_text=True)
    assert "Any thoughts of harming yourself or ending your life" in html
    assert 'id="behaviour-group"' in html
    assert "Suicide-risk screen" in chart(client, alcohol_admission)
    assert f'href="/admissions/{alcohol_admission.id}/assessments/new?scale=suicide_screen"' in chart(
        client, alcohol_admission)


def test_the_screen_is_due_at_admission_and_then_daily(client, alcohol_admission, nurse):
    html = due_list(client, alcohol_admission)
    assert "Suicide-risk screen — at admission (within 60 min)" in html
    assert "overdue by 2 h" in html
    saved(post(client, alcohol_admission, "suicide_screen", {"self_harm_thoughts": "no", "behaviour": "no"}))
    assert "Suicide-risk screen —" not in due_list(client, alcohol_admission)


def test_a_screen_of_its_own_shows_its_risk_and_time_on_the_board(client, alcohol_admission, nurse):
    answers = {"self_harm_thoughts": "yes", **THOUGHTS_LOW}
    assessment = saved(post(client, alcohol_admission, "suicide_screen", answers))
    assert (assessment.scale, assessment.suicide_risk, assessment.total) == ("suicide_screen", "low", None)
    at = assessment.observed_at.astimezone(alcohol_admission.unit.zone).strftime("%H:%M")
    row = board_row(client, alcohol_admission)
    assert f"Suicide risk: low {at}" in row
    assert "Suicide screen: review needed" in row
    html = client.get(show_url(alcohol_admission, assessment)).get_data(as_text=True)
    assert "Suicide risk: low" in html


def test_the_ketamine_checklist_counts_as_a_screen(client, admission, nurse):
    saved(post(client, admission, "ketamine", ketamine_answers()))
    assert "Suicide-risk screen —" not in due_list(client, admission)
    assert "Suicide risk: none" in board_row(client, admission)


def test_a_screen_is_corrected_like_any_entry(client, alcohol_admission, nurse):
    original = saved(post(client, alcohol_admission, "suicide_screen",
                          {"self_harm_thoughts": "no", "behaviour": "no"}))
    zone = alcohol_admission.unit.zone
    response = client.post(f"/admissions/{alcohol_admission.id}/assessments/{original.id}/correct", data={
        "observed_at": original.observed_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "idempotency_key": "corr-1", "self_harm_thoughts": "no", "behaviour": "yes",
        "behaviour_last_3_months": "no", "correction_reason": "Misheard the last question"})
    correction = saved(response)
    assert (correction.supersedes_id, correction.suicide_risk) == (original.id, "moderate")
