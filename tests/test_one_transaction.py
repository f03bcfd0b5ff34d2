"""A save is one transaction: nothing read after the commit opens a second one.

On SQLite every transaction begins IMMEDIATE, so a second one (the patient a save message names,
loaded lazily after the commit) took the write lock a second time per save.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from clinic.extensions import db
from tests.prn_helpers import give, make_order
from tests.test_prn_web import local


def transactions_of(client, url: str, data: dict) -> int:
    begun = []

    def on_begin(_conn):
        begun.append(1)

    db.session.expire_all()
    event.listen(db.engine, "begin", on_begin)
    try:
        response = client.post(url, data=data)
    finally:
        event.remove(db.engine, "begin", on_begin)
    assert response.status_code == 302, response.get_data(as_text=True)
    return len(begun)


@pytest.fixture
def admission(make_admission):
    return make_admission(substances=(("alcohol", 20),), protocols=("vitals", "ciwa_ar"), hours_ago=2)


def test_thiamine_save_is_one_transaction(client, auth, admission):
    auth.login_as("nurse")
    assert transactions_of(client, f"/admissions/{admission.id}/thiamine", {"given": "yes"}) == 1


def test_prn_effect_save_is_one_transaction(client, auth, admission, make_user):
    order = make_order(admission, make_user("physician"))
    nurse = auth.login_as("nurse")
    dose = give(admission, nurse, order, minutes_ago=90)
    data = {"idempotency_key": uuid.uuid4().hex, "assessed_at": local(admission), "effect": "better",
            "assessment_id": "0"}
    assert transactions_of(client, f"/admissions/{admission.id}/prn/doses/{dose.id}/effect", data) == 1
