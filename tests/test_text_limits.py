"""Typed text: a length limit in every form and in the schema, and no control characters."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import NursingNote, Patient
from tests.test_admissions import admit_form
from tests.test_notes import new_url as note_url
from tests.test_notes import note_form

CONTROL = "Penicillin\x00 (rash)"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _admit(client, auth, make_unit, **changes):
    unit = make_unit()
    auth.login_as("charge_nurse")
    bed = unit.beds[0]
    return client.post(f"/admit?unit={unit.id}", data=admit_form(unit, bed, **changes))


def test_allergies_of_a_million_characters_are_refused_with_the_limit(client, auth, make_unit):
    response = _admit(client, auth, make_unit, allergies="A" * 1_000_000)
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    assert "at most 1000 characters" in page
    assert count(Patient) == 0


@pytest.mark.parametrize("field", ["allergies", "identity-family_name", "identity-given_name",
                                   "substances-ketamine-detail"])
def test_control_characters_in_admission_text_are_refused(client, auth, make_unit, field):
    response = _admit(client, auth, make_unit, **{field: CONTROL})
    page = response.get_data(as_text=True)
    assert "Remove the control characters" in page
    assert count(Patient) == 0


@pytest.mark.parametrize("text", ["Slept\x00 well", "Slept\x1b[31m well", "Slept\x7f"])
def test_control_characters_in_a_note_are_refused_keeping_the_rest(client, auth, make_admission,
                                                                   text):
    admission = make_admission()
    auth.login_as("nurse")
    response = client.post(note_url(admission), data=note_form(admission, text))
    assert response.status_code == 422
    assert "Remove the control characters" in response.get_data(as_text=True)
    assert count(NursingNote) == 0


def test_tabs_and_new_lines_are_fine(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("nurse")
    response = client.post(note_url(admission), data=note_form(admission, "Slept\r\n\twell"))
    assert response.status_code == 302
    assert count(NursingNote) == 1


def test_the_schema_refuses_a_note_longer_than_the_form_allows(app, make_admission, make_user):
    admission = make_admission()
    nurse = make_user("nurse")
    row = {"admission_id": admission.id, "recorded_by_id": nurse.id, "observed_at": utc_now(),
           "recorded_at": utc_now(), "is_late": False, "idempotency_key": "k" * 32}
    db.session.execute(insert(NursingNote).values(**row, text="x" * 10000))
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(insert(NursingNote).values(**{**row, "idempotency_key": "j" * 32},
                                                      text="x" * 10001))
        db.session.flush()
    db.session.rollback()
    assert count(NursingNote) == 1


def test_the_schema_refuses_long_allergies_on_update(app, make_admission):
    patient = make_admission().patient
    patient.allergies = "A" * 1001
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()


def test_the_schema_refuses_a_long_prn_dose_reason(app, make_admission, make_user):
    # Declared VARCHAR(200): PostgreSQL refused it; SQLite stored it until its length triggers.
    from tests.prn_helpers import give, make_order

    admission = make_admission()
    order = make_order(admission, make_user("physician"))
    nurse = make_user("nurse")
    with pytest.raises(DBAPIError):
        give(admission, nurse, order, minutes_ago=10, reason="r" * 201)
    db.session.rollback()
    assert give(admission, nurse, order, minutes_ago=10, reason="r" * 200).reason == "r" * 200
