"""The unit board: every open bed, the detox timeline of each patient, one audit event per view."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from clinic.admissions import services
from clinic.db import utc_now
from clinic.escalations import services as escalation_services
from clinic.extensions import db
from clinic.models import Unit, User
from clinic.vitals import services as vitals_services

# --- helpers -------------------------------------------------------------------------------------

class _BoardTable(HTMLParser):
    """Read the board's body rows as {bed label: text of the rest of the row}."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, str] = {}
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._row[0]] = " | ".join(self._row[1:])
            self._row = None
        elif tag == "tbody":
            self._in_body = False


def board_rows(response) -> dict[str, str]:
    parser = _BoardTable()
    parser.feed(response.get_data(as_text=True))
    return parser.rows


def is_empty(row: str) -> bool:
    return row.startswith("Empty") and "MRN" not in row


def board_views(audit_events) -> list:
    return [e for e in audit_events("view") if e.object_type == "unit_board"]


# --- what the board shows ------------------------------------------------------------------------

def test_board_lists_every_open_bed_with_its_patient(client, auth, make_unit, make_admission):
    unit = make_unit(beds=5)
    beds = {b.label: b for b in unit.beds}
    beds["5"].active = False
    db.session.commit()
    make_admission(unit=unit, bed=beds["1"], mrn="BRD-001", family_name="Fairweather",
                   given_name="Tomasz", hours_ago=30, substances=(("ketamine", 20),))
    make_admission(unit=unit, bed=beds["3"], mrn="BRD-003", family_name="Abara",
                   given_name="Chidi", hours_ago=2, substances=(("alcohol", 6), ("ketamine", 30)))
    auth.login_as("nurse")

    response = client.get(f"/units/{unit.id}/board")

    assert response.status_code == 200
    rows = board_rows(response)
    assert list(rows) == ["1", "2", "3", "4"]
    first = rows["1"]
    assert "FAIRWEATHER, Tomasz" in first
    assert "MRN BRD-001" in first
    assert re.search(r"\bDay 2\b", first)
    assert re.search(r"\b50 h since last use", first)
    third = rows["3"]
    assert "ABARA, Chidi" in third and "MRN BRD-003" in third
    assert re.search(r"\bDay 1\b", third)
    # Hours since the most recent use of any substance: alcohol, 6 h before admission.
    assert re.search(r"\b8 h since last use", third)
    assert is_empty(rows["2"])
    assert is_empty(rows["4"])


def test_board_shows_unknown_last_use_as_unknown(client, auth, make_unit, make_user):
    unit = make_unit(beds=2)
    nurse = make_user("charge_nurse")
    admitted_at = utc_now().replace(microsecond=0)
    services.admit(
        by=nurse, unit=unit, bed=unit.beds[0], admitted_at=admitted_at,
        substances=[services.SubstanceEntry("ketamine", None, True)], protocols=["ketamine"],
        allergies="No known drug allergies",
        new_patient=services.NewPatient(mrn="UNK-1", family_name="Vance", given_name="Ria",
                                        date_of_birth=admitted_at.date().replace(year=1990),
                                        sex="female"),
    )
    db.session.commit()
    auth.login_as("nurse")

    rows = board_rows(client.get(f"/units/{unit.id}/board"))

    assert "last use unknown" in rows["1"]
    assert re.search(r"\bDay 1\b", rows["1"])


def test_board_shows_only_current_patients_of_its_unit(client, auth, make_unit, make_admission,
                                                       make_user):
    unit = make_unit(beds=3)
    other_unit = make_unit(beds=3)
    make_admission(unit=other_unit, family_name="Elsewhere")
    gone = make_admission(unit=unit, family_name="Departed")
    services.discharge(by=make_user("charge_nurse"), admission=gone, discharged_at=utc_now(),
                       disposition="home", note=None)
    db.session.commit()
    auth.login_as("nurse")

    response = client.get(f"/units/{unit.id}/board")

    html = response.get_data(as_text=True)
    assert "ELSEWHERE" not in html
    assert "DEPARTED" not in html
    assert all(is_empty(row) for row in board_rows(response).values())


def test_patient_in_a_bed_closed_since_still_appears(client, auth, make_unit, make_admission):
    unit = make_unit(beds=3)
    admission = make_admission(unit=unit, family_name="Stillhere")
    admission.bed.active = False
    db.session.commit()
    auth.login_as("nurse")

    rows = board_rows(client.get(f"/units/{unit.id}/board"))

    assert "STILLHERE, Sam" in rows["1"]
    assert list(rows) == ["2", "3", "1"]


def test_board_links_each_patient_to_the_chart(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("nurse")

    html = client.get(f"/units/{admission.unit_id}/board").get_data(as_text=True)

    assert f'href="/admissions/{admission.id}"' in html
    assert f"/admissions/{admission.id}/transfer" not in html


def test_charge_nurse_sees_bed_actions(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")

    html = client.get(f"/units/{admission.unit_id}/board").get_data(as_text=True)

    assert f"/admissions/{admission.id}/transfer" in html
    assert f"/admissions/{admission.id}/discharge" in html
    assert f"/admit?unit={admission.unit_id}" in html


def test_board_entry_remembers_the_unit(client, auth, make_unit):
    make_unit(name="A ward")
    second = make_unit(name="B ward")
    auth.login_as("nurse")

    chosen = client.get("/board", query_string={"unit": second.id})
    again = client.get("/board")

    assert chosen.location == f"/units/{second.id}/board"
    assert again.location == f"/units/{second.id}/board"


def test_board_of_a_missing_unit_is_404(client, auth, make_unit):
    make_unit()
    auth.login_as("nurse")

    assert client.get("/units/9999/board").status_code == 404


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_non_clinical_roles_cannot_see_the_board(client, auth, make_admission, audit_events,
                                                 role):
    admission = make_admission(family_name="Hidden")
    auth.login_as(role)

    response = client.get(f"/units/{admission.unit_id}/board")

    assert response.status_code == 403
    assert "HIDDEN" not in response.get_data(as_text=True)
    assert board_views(audit_events) == []


# --- audit ---------------------------------------------------------------------------------------

def test_a_board_view_writes_one_audit_event_listing_the_patients(client, auth, make_unit,
                                                                  make_admission, audit_events):
    unit = make_unit(beds=4)
    shown = [make_admission(unit=unit) for _ in range(3)]
    make_admission(unit=make_unit())
    viewer = auth.login_as("physician")

    client.get(f"/units/{unit.id}/board")

    views = board_views(audit_events)
    assert len(views) == 1
    view = views[0]
    assert view.user_id == viewer.id
    assert view.object_id == str(unit.id)
    assert view.patient_id is None
    assert sorted(json.loads(view.detail)["patients"]) == sorted(a.patient_id for a in shown)
    # Nothing else about patients is audited for a board view.
    assert [e for e in audit_events("view") if e.patient_id is not None] == []

    client.get(f"/units/{unit.id}/board")
    assert len(board_views(audit_events)) == 2


# --- query count ---------------------------------------------------------------------------------

def count_board_queries(client, unit_id: int) -> int:
    # A fresh session, as a real request has: nothing answered from the test's identity map.
    db.session.remove()
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(f"/units/{unit_id}/board")
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements)


NORMAL_VITALS = {"respiratory_rate": "16", "spo2": "97", "systolic_bp": "125",
                 "diastolic_bp": "80", "heart_rate": "75", "temperature": "37.0"}


def admit_with_history(make_admission, unit_id: int, by_id: int) -> None:
    """Admit a patient with two charted vitals sets and an open escalation."""
    unit, by = db.session.get(Unit, unit_id), db.session.get(User, by_id)
    admission = make_admission(unit=unit, by=by, substances=(("ketamine", 20), ("alcohol", 30)))
    for hours_ago in (3, 1):
        vitals_services.record_vitals(
            by=by, admission=admission, observed_at=utc_now() - timedelta(hours=hours_ago),
            checked=vitals_services.check_values(NORMAL_VITALS, confirmed=False),
            on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A",
            confirmed=False, idempotency_key=uuid.uuid4().hex,
        )
    escalation_services.raise_by_hand(by=by, admission=admission, level="urgent",
                                      reason="Agitated, asking to leave",
                                      idempotency_key=uuid.uuid4().hex)
    db.session.commit()


def test_board_query_count_does_not_grow_with_patients(client, auth, make_unit, make_admission,
                                                       make_user):
    unit_id = make_unit(beds=8).id
    by_id = make_user("charge_nurse").id
    for _ in range(2):
        admit_with_history(make_admission, unit_id, by_id)
    auth.login_as("charge_nurse")
    client.get(f"/units/{unit_id}/board")

    with_two = count_board_queries(client, unit_id)
    for _ in range(4):
        admit_with_history(make_admission, unit_id, by_id)
    with_six = count_board_queries(client, unit_id)

    response = client.get(f"/units/{unit_id}/board")
    occupied = [row for row in board_rows(response).values() if not is_empty(row)]
    # The board really showed the scores and escalations whose queries were counted.
    assert len(occupied) == 6
    assert all("Agitated" in row for row in occupied)
    latest_vitals_links = re.findall(r'href="/admissions/\d+/vitals/\d+"', response.get_data(as_text=True))
    assert len(latest_vitals_links) == 6
    assert with_six == with_two
