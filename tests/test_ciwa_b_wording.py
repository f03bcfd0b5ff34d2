"""CIWA-B asked as the instrument asks it (issue 11 item 14, REFERENCE §4), through the form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Assessment
from clinic.scoring import ciwa_b
from tests.test_assessments import fieldset, post, saved, show_url


@pytest.fixture
def admission(make_admission):
    return make_admission(substances=(("benzodiazepines", 30),), protocols=("vitals", "ciwa_b"))


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def answers(**values) -> dict:
    return {key: values.get(key, 0) for key in ciwa_b.KEYS}


def form_html(client, admission) -> str:
    return client.get(f"/admissions/{admission.id}/assessments/new?scale=ciwa_b").get_data(as_text=True)


def test_the_sleep_items_are_asked_with_their_own_answer_words(client, admission, nurse):
    html = form_html(client, admission)
    restful = fieldset(html, "restful_sleep")
    assert "Did you have restful sleep last night?" in restful
    assert "very restful" in restful and "not at all" in restful
    assert "very severe" not in restful
    enough = fieldset(html, "enough_sleep")
    assert "Did you have enough sleep last night?" in enough
    assert "enough" in enough and "not at all" in enough


def test_a_patient_who_slept_very_well_scores_0_for_sleep(client, admission, nurse):
    assessment = saved(post(client, admission, "ciwa_b", {**answers(), "sleep_hours": "8",
                                                          "sleep_latency": "15"}))
    assert assessment.items["restful_sleep"] == 0 and assessment.total == 0


def test_observed_items_use_the_observation_anchors(client, admission, nurse):
    html = form_html(client, admission)
    assert "can be felt in fingers" in fieldset(html, "tremor")
    assert "beads of sweat on forehead" in fieldset(html, "sweating")
    assert "paces back and forth" in fieldset(html, "restlessness")


def test_the_unscored_sleep_questions_are_stored_and_shown(client, admission, nurse):
    assessment = saved(post(client, admission, "ciwa_b", {**answers(enough_sleep=3), "sleep_hours": "4.5",
                                                          "sleep_latency": "90"}))
    assert (assessment.sleep_hours_tenths, assessment.sleep_latency_minutes) == (45, 90)
    assert assessment.total == 3
    correct_url = f"/admissions/{admission.id}/assessments/{assessment.id}/correct"
    html = client.get(correct_url).get_data(as_text=True)
    assert 'value="4.5"' in html and 'value="90"' in html
    html = client.get(show_url(admission, assessment)).get_data(as_text=True)
    assert "Hours slept last night</dt><dd>4.5 " in html
    assert "Minutes to fall asleep</dt><dd>90 " in html


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("sleep_hours", "25", "from 0 to 24"),
    ("sleep_hours", "7,5", "Enter a number"),
    ("sleep_latency", "1441", "from 0 to 1440"),
    ("sleep_latency", "1e3", "Enter a number"),
])
def test_impossible_sleep_numbers_are_refused_next_to_the_field_and_kept(client, admission, nurse,
                                                                         field, typed, message):
    data = {**answers(), "sleep_hours": "7", "sleep_latency": "20", field: typed}
    response = post(client, admission, "ciwa_b", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'value="{typed}"' in html
    assert db.session.scalars(select(Assessment)).all() == []
