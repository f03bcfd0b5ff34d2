"""An effect reassessment charted by mistake is marked entered in error: it stays on record, struck
through, and the dose's follow-up is due again until an effect is recorded."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import EntryRetraction, PrnEffect
from clinic.prn.services import record_effect
from tests.prn_helpers import give, make_order
from tests.test_prn_web import text_of


@pytest.fixture
def admission(make_admission):
    return make_admission()


def effect_url(admission, effect) -> str:
    return f"/admissions/{admission.id}/prn/effects/{effect.id}/retract"


@pytest.fixture
def charted(admission, make_user):
    """A dose given 90 minutes ago (its reassessment was due 30 minutes ago) with its effect."""
    nurse = make_user("nurse")
    dose = give(admission, nurse, make_order(admission, make_user("physician")), minutes_ago=90)
    effect = record_effect(by=nurse, dose=dose, assessed_at=utc_now(), effect="better", side_effects=[],
                           note=None, idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    return nurse, dose, effect


def due_list(client, admission) -> str:
    return text_of(client.get(f"/units/{admission.unit_id}/due"))


def test_the_author_marks_it_and_the_follow_up_is_overdue_again(client, auth, admission, charted,
                                                                 audit_events):
    nurse, dose, effect = charted
    auth.login(nurse.username)
    assert "PRN effect — Lorazepam" not in due_list(client, admission)
    panel = client.get(f"/admissions/{admission.id}/prn").get_data(as_text=True)
    assert f'href="{effect_url(admission, effect)}"' in panel

    response = client.post(effect_url(admission, effect), data={"reason": "Charted for the wrong patient"})
    assert response.status_code == 302
    landing = text_of(client.get(response.headers["Location"]))
    assert (f"Entered-in-error mark saved for {admission.patient.display_name}, the effect of Lorazepam "
            "stays on record, struck through.") in landing
    due = due_list(client, admission)
    assert re.search(r"overdue by (30|31) min TESTPERSON, Sam Bed 1 PRN effect — Lorazepam 1 mg", due), due
    [retraction] = db.session.scalars(select(EntryRetraction)).all()
    assert (retraction.entry_kind, retraction.entry_id, retraction.reason) == (
        "prn_effect", effect.id, "Charted for the wrong patient")
    [event] = [e for e in audit_events("retract") if e.object_type == "prn_effect"]
    assert event.object_id == str(effect.id)
    # Still on record, struck through, on the dose's effect page.
    page = client.get(f"/admissions/{admission.id}/prn/doses/{dose.id}/effect").get_data(as_text=True)
    assert '<li class="struck">' in page and "Entered in error</span> “Charted for the wrong patient”" in page


def test_a_reason_is_needed_and_nothing_is_saved_without_it(client, auth, admission, charted):
    nurse, _dose, effect = charted
    auth.login(nurse.username)
    response = client.post(effect_url(admission, effect), data={"reason": "  "})
    assert response.status_code == 422
    assert "Give the reason" in response.get_data(as_text=True)
    assert db.session.scalars(select(EntryRetraction)).all() == []
    assert "PRN effect — Lorazepam" not in due_list(client, admission)


def test_only_the_author_or_a_charge_nurse(client, auth, admission, charted, make_user):
    _nurse, _dose, effect = charted
    auth.login(make_user("nurse").username)
    response = client.post(effect_url(admission, effect), data={"reason": "Wrong patient"})
    assert "Only the person who recorded this effect, or a charge nurse" in text_of(
        client.get(response.headers["Location"]))
    assert db.session.scalars(select(EntryRetraction)).all() == []
    auth.logout()
    auth.login(make_user("charge_nurse").username)
    assert client.post(effect_url(admission, effect), data={"reason": "Wrong patient"}).status_code == 302
    assert len(db.session.scalars(select(EntryRetraction)).all()) == 1


def test_marked_once(client, auth, admission, charted):
    nurse, _dose, effect = charted
    auth.login(nurse.username)
    client.post(effect_url(admission, effect), data={"reason": "Wrong patient"})
    again = client.post(effect_url(admission, effect), data={"reason": "Again"})
    landing = text_of(client.get(again.headers["Location"]))
    assert "This effect was already marked entered in error by" in landing
    assert len(db.session.scalars(select(EntryRetraction)).all()) == 1


def test_another_admission_s_effect_is_not_found(client, auth, charted, make_admission):
    nurse, _dose, effect = charted
    other = make_admission()
    auth.login(nurse.username)
    assert client.post(effect_url(other, effect), data={"reason": "x"}).status_code == 404
    assert db.session.scalars(select(PrnEffect)).all() == [effect]
