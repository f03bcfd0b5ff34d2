"""Thiamine prompted at admission for alcohol withdrawal: given, or not given and why (issue 11)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import ThiaminePrompt
from tests.test_board import board_rows


@pytest.fixture
def admission(make_admission):
    return make_admission(substances=(("alcohol", 20),), protocols=("vitals", "ciwa_ar"), hours_ago=2)


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def url(admission) -> str:
    return f"/admissions/{admission.id}/thiamine"


def due_list(client, admission) -> str:
    return client.get(f"/units/{admission.unit_id}/due").get_data(as_text=True)


def chart(client, admission) -> str:
    return client.get(f"/admissions/{admission.id}").get_data(as_text=True)


def test_alcohol_withdrawal_is_prompted_until_recorded(client, admission, nurse):
    due = due_list(client, admission)
    assert "Thiamine at admission — alcohol withdrawal: record given or not given" in due
    assert f'href="/admissions/{admission.id}/thiamine?next=' in due_list(client, admission)
    assert "Thiamine: not yet recorded" in board_rows(
        client.get(f"/units/{admission.unit_id}/board"))[admission.bed.label]
    assert "not yet recorded" in chart(client, admission)


def test_given_is_recorded_audited_and_clears_the_prompt(client, admission, nurse, audit_events):
    response = client.post(url(admission), data={"given": "yes"})
    assert response.status_code == 302
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Thiamine at admission saved for {admission.patient.display_name}, given." in landing
    [row] = db.session.scalars(select(ThiaminePrompt)).all()
    assert (row.given, row.reason, row.recorded_by_id) == (True, None, nurse.id)
    assert any(e.object_type == "thiamine_prompt" for e in audit_events("create"))
    assert "Thiamine at admission —" not in due_list(client, admission)
    assert "Thiamine at admission (alcohol withdrawal): <strong>given</strong>" in chart(client, admission)


def test_not_given_needs_the_reason_and_keeps_what_was_chosen(client, admission, nurse):
    response = client.post(url(admission), data={"given": "no", "reason": " "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Say why thiamine was not given." in html
    assert db.session.scalars(select(ThiaminePrompt)).all() == []
    saved = client.post(url(admission), data={"given": "no", "reason": "Vomiting; IV ordered by Dr Ng"})
    assert saved.status_code == 302
    assert "not given</strong> — Vomiting; IV ordered by Dr Ng" in chart(client, admission)


def test_recorded_once_and_never_replaced(client, admission, nurse):
    client.post(url(admission), data={"given": "yes"})
    again = client.post(url(admission), data={"given": "no", "reason": "changed mind"})
    assert again.status_code == 422 and "cannot be replaced" in again.get_data(as_text=True)
    assert [r.given for r in db.session.scalars(select(ThiaminePrompt))] == [True]


def test_a_reason_over_the_limit_is_refused(client, admission, nurse):
    response = client.post(url(admission), data={"given": "no", "reason": "x" * 501})
    assert response.status_code == 422
    assert db.session.scalars(select(ThiaminePrompt)).all() == []


def test_no_prompt_without_alcohol_withdrawal(client, make_admission, nurse):
    other = make_admission(substances=(("ketamine", 20),), protocols=("vitals", "ketamine"))
    assert "Thiamine" not in due_list(client, other)
    assert "Thiamine" not in chart(client, other)
    response = client.post(url(other), data={"given": "yes"})
    assert response.status_code == 422
    assert db.session.scalars(select(ThiaminePrompt)).all() == []
