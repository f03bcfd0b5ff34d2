"""The audit report: administrators see who did what and when; clinical content is for auditors."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from clinic.db import utc_now
from clinic.extensions import db
from clinic.notes.services import record_note
from clinic.vitals.services import check_values, record_vitals

NOTE_TEXT = "Tearful, says cravings are worst at night"
CORRECTION_REASON = "Copied from the wrong chart"
ALLERGY = "Penicillin (anaphylaxis)"


@pytest.fixture
def charted(make_admission, make_user):
    """An admission with a charted vitals set and a corrected note."""
    admission = make_admission(mrn="AR-1", allergies=ALLERGY, date_of_birth=date(1987, 3, 14))
    nurse = make_user("nurse", username="nina.nurse")
    observed = utc_now() - timedelta(minutes=5)
    record_vitals(
        by=nurse, admission=admission, observed_at=observed,
        checked=check_values({"heart_rate": "117", "respiratory_rate": "19"}, confirmed=False),
        on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A",
        confirmed=False, idempotency_key=uuid.uuid4().hex,
    )
    note = record_note(by=nurse, admission=admission, observed_at=observed, text="Settled",
                       idempotency_key=uuid.uuid4().hex)
    record_note(by=nurse, admission=admission, observed_at=observed, text=NOTE_TEXT,
                idempotency_key=uuid.uuid4().hex, supersedes=note,
                correction_reason=CORRECTION_REASON)
    db.session.commit()
    return admission


CLINICAL_TEXT = [NOTE_TEXT, CORRECTION_REASON, ALLERGY, "heart rate: 117", "1987-03-14",
                 "14 Mar 1987", "Settled"]


def _report(client, query: str) -> str:
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_administrator_sees_who_did_what_and_when_but_no_clinical_content(client, auth, charted):
    auth.login_as("admin")
    page = _report(client, "mrn=AR-1")
    for text in CLINICAL_TEXT:
        assert text not in page, text
    # Who, what, to what and when are all still there.
    assert "nina.nurse" in page and "AR-1" in page
    assert "vitals #" in page and "note #" in page and f"admission #{charted.id}" in page
    assert ">create<" in page and ">correct<" in page
    assert page.count("Clinical detail: auditors only") >= 4
    assert "The clinical detail of entries is shown to auditors only." in page


def test_administrator_still_reads_the_detail_of_account_changes(client, auth, make_user):
    admin = auth.login_as("admin")
    client.post("/admin/users/new", data={
        "username": "new.nurse", "display_name": "Nina Newcomer", "role": "nurse",
        "password": "lantern-orchard-velvet", "confirm": "lantern-orchard-velvet"})
    page = _report(client, f"user={admin.username}&action=create")
    assert "username: new.nurse" in page and "role: nurse" in page
    assert "Clinical detail: auditors only" not in page


def test_auditor_sees_the_clinical_content(client, auth, charted):
    auth.login_as("auditor")
    page = _report(client, "mrn=AR-1")
    assert "heart rate: 117" in page
    assert f"text: Settled → {NOTE_TEXT}" in page
    assert f"reason: {CORRECTION_REASON}" in page
    assert ALLERGY in page
    assert "Clinical detail: auditors only" not in page
    assert "shown to auditors only" not in page
