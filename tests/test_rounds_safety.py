"""Rounds that change the care (issue 11 items 10, 11): concerns escalate, levels set for risk,
hourly attestations at continuous levels."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Escalation
from tests.test_board import board_rows
from tests.test_rounds import round_form, rounds_url


@pytest.fixture
def ward(make_unit):
    """A unit whose only shift began eight hours ago, so "this shift" never starts mid-test."""
    start = utc_now().astimezone(ZoneInfo("Europe/London")) - timedelta(hours=8)
    return make_unit(beds=8, shift_pattern=f"Ward {start:%H:%M}")


@pytest.fixture
def patients(ward, make_user, make_admission):
    """Admit n patients to the ward, ten hours ago, in bed order."""
    charge = make_user("charge_nurse")

    def admit(n: int):
        return [make_admission(unit=ward, by=charge, hours_ago=10, family_name=f"Patient{i}")
                for i in range(n)]
    return admit


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def escalations() -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).order_by(Escalation.id)))


def board_row(client, admission) -> str:
    return board_rows(client.get(f"/units/{admission.unit_id}/board"))[admission.bed.label]


# Item 11: a check with a concern, or "agitated", escalates to the charge nurse with its words.

def test_a_check_with_a_concern_escalates_to_the_charge_nurse_with_its_words(client, ward, patients, nurse):
    a, b = patients(2)
    response = client.post(rounds_url(ward), data=round_form({
        a: ("bedroom", "resting", "Tying a sheet to the window latch"),
        b: ("day_room", "resting"),
    }))
    assert response.status_code == 302
    [escalation] = escalations()
    assert escalation.admission_id == a.id and escalation.automatic
    assert "Tying a sheet to the window latch" in escalation.reason
    assert "charge nurse" in escalation.reason
    assert escalation.source_kind == "safety_check"
    assert "Tying a sheet to the window latch" in board_row(client, a)


def test_an_agitated_patient_escalates_even_without_a_concern(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("day_room", "agitated")}))
    [escalation] = escalations()
    assert "Agitated" in escalation.reason and "Day room" in escalation.reason
    assert escalation.level == "urgent"


def test_each_concerning_check_raises_its_own_escalation(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("day_room", "agitated", "Shouting")}))
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "awake", "Crying, says no point")}))
    assert ["Shouting" in e.reason for e in escalations()] == [True, False]
    assert "Crying, says no point" in escalations()[1].reason


def test_a_quiet_check_raises_nothing(client, ward, patients, nurse):
    [a] = patients(1)
    client.post(rounds_url(ward), data=round_form({a: ("bedroom", "sleeping")}))
    assert escalations() == []
