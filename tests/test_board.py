"""The unit board: every open bed, the detox timeline of each patient, one audit event per view."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from clinic.admissions import services
from clinic.db import utc_now
from clinic.escalations import services as escalation_services
from clinic.extensions import db
from clinic.models import Unit, User
from tests.safety_helpers import settled
from tests.test_duelist import (  # noqa: F401 (the clock, now and ward fixtures)
    assign,
    chart_check,
    chart_ciwa_ar,
    chart_ketamine,
    chart_vitals,
    fixed_clock,
    fixed_now,
    seeded_ward,
    utc_unit,
)

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


@pytest.fixture
def make_admission(make_admission):
    """Admissions with their admission prompts (suicide-risk screen, thiamine) done, so these
    tests see the protocols' and rounds' due items only."""
    return settled(make_admission)



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

def count_board_queries(client, url: str, headers=None) -> int:
    # A fresh session, as a real request has: nothing answered from the test's identity map.
    db.session.remove()
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements)


def admit_with_history(make_admission, unit_id: int, by_id: int) -> None:
    """Admit a patient with vitals, scale results, safety checks and an open escalation."""
    unit, by = db.session.get(Unit, unit_id), db.session.get(User, by_id)
    start = utc_now()
    admission = make_admission(unit=unit, by=by, substances=(("ketamine", 20), ("alcohol", 30)),
                               protocols=("vitals", "ketamine", "ciwa_ar"))
    for hours_ago in (3, 1):
        chart_vitals(admission, by, start - timedelta(hours=hours_ago))
        chart_ketamine(admission, by, start - timedelta(hours=hours_ago), craving=3)
        chart_ciwa_ar(admission, by, start - timedelta(hours=hours_ago), 3, 3, 3, 0, 0, 0, 0, 0, 0, 0)
        chart_check(admission, by, start - timedelta(hours=hours_ago))
    escalation_services.raise_by_hand(by=by, admission=admission, level="urgent",
                                      reason="Agitated, asking to leave",
                                      idempotency_key=uuid.uuid4().hex)
    db.session.commit()


@pytest.mark.parametrize("query", ["", "?sort=overdue", "?sort=unwell&mine=1"])
def test_board_query_count_does_not_grow_with_patients(client, auth, make_unit, make_admission,
                                                       make_user, query):
    unit_id = make_unit(beds=8).id
    by_id = make_user("charge_nurse").id
    for _ in range(2):
        admit_with_history(make_admission, unit_id, by_id)
    charge = auth.login_as("charge_nurse")
    unit = db.session.get(Unit, unit_id)
    for bed in unit.beds:
        assign(unit, bed.id, charge, charge, utc_now())
    url = f"/units/{unit_id}/board{query}"
    client.get(url)

    with_two = count_board_queries(client, url)
    for _ in range(4):
        admit_with_history(make_admission, unit_id, by_id)
    with_six = count_board_queries(client, url)
    fragment = count_board_queries(client, url, headers={"X-Requested-With": "fetch"})

    response = client.get(url)
    occupied = [row for row in board_rows(response).values() if not is_empty(row)]
    # The board really showed the scores, escalations, due times and checks whose queries were counted.
    assert len(occupied) == 6
    assert all("Agitated" in row for row in occupied)
    assert all("Last check" in row and "CIWA-Ar" in row and "Burden" in row for row in occupied)
    html = response.get_data(as_text=True)
    assert len(re.findall(r'href="/admissions/\d+/vitals/\d+"', html)) == 6
    assert with_six == with_two
    # The full page finds its unit among the picker's list; the refresh reads just its unit.
    assert fragment == with_six


# --- what is due, observation, sort, my patients --------------------------------------------------

def board_table_rows(response) -> list[tuple[str, str]]:
    """Return (bed label, row text) in the order shown."""
    parser = _BoardTable()
    parser.feed(response.get_data(as_text=True))
    return list(parser.rows.items())


def test_each_bed_shows_what_is_next_due_and_its_observation(client, auth, ward, now):
    auth.login_as("nurse")

    rows = board_rows(client.get(f"/units/{ward.unit.id}/board"))

    # Bed 1: vitals overdue by an hour is the most overdue; CIWA-Ar (overdue) and the safety check
    # (due in 30 min) are also due within the hour.
    assert "⚠ Overdue Vitals for ALDER, Ann overdue by 1 h 00 min" in rows["1"]
    assert "+2 more due within the hour" in rows["1"]
    assert f"General (every 60 min) Last check {now - timedelta(minutes=30):%H:%M} UTC" in rows["1"]
    # Nobody checked in the shift's first five and a half hours: four windows were missed.
    assert "Check overdue" not in rows["1"] and "⚠ 4 missed this shift" in rows["1"]
    # Bed 2: no check since the shift began six hours ago.
    assert "⚠ Overdue Safety check for BIRCH, Ben overdue by 5 h 00 min" in rows["2"]
    assert "No check this shift ⚠ Check overdue overdue by 5 h 00 min" in rows["2"]
    assert "⚠ 5 missed this shift" in rows["2"]
    assert "+1 more due within the hour" in rows["2"]


def test_next_due_links_into_the_form_and_back_to_the_board(client, auth, ward):
    auth.login_as("nurse")
    board = f"/units/{ward.unit.id}/board?sort=overdue&mine=0"

    html = client.get(board).get_data(as_text=True)

    links = [urlsplit(unescape(h)) for h in re.findall(r'href="([^"]+)"', html)]
    vitals = [u for u in links if u.path == f"/admissions/{ward.alcohol.id}/vitals/new"]
    rounds = [u for u in links if u.path == f"/units/{ward.unit.id}/rounds" and "next=" in u.query]
    # Back to the board as it was sorted (an unknown filter value reads as "all patients").
    assert [parse_qs(u.query) for u in vitals] == [{"next": [f"/units/{ward.unit.id}/board?sort=overdue"]}]
    assert [u.fragment for u in rounds] == [f"admission-{ward.ketamine.id}"]
    assert f'href="/units/{ward.unit.id}/due"' in html


def test_continuous_observation_has_no_check_due(client, auth, clock, make_unit, make_admission):
    unit = utc_unit(make_unit, clock)
    admission = make_admission(unit=unit, protocols=("vitals",))
    admission.observation_level = "arms_length"
    admission.observation_level_since = clock - timedelta(minutes=30)
    db.session.commit()
    chart_vitals(admission, admission.admitted_by, clock)
    auth.login_as("nurse")

    row = board_rows(client.get(f"/units/{unit.id}/board"))["1"]

    assert "Within arm's length (one-to-one)" in row or "Within arm&#39;s length" in row
    assert "Check overdue" not in row and "Safety check" not in row
    # In place of checks, the observer attests each hour (issue 11 item 10): the first at its end.
    assert "Hourly attestation for TESTPERSON, Sam due in 45 min" in row
    assert "not attested" not in row


def test_sort_by_most_overdue(client, auth, ward):
    auth.login_as("nurse")

    by_bed = [bed for bed, _ in board_table_rows(client.get(f"/units/{ward.unit.id}/board"))]
    overdue = [bed for bed, _ in board_table_rows(client.get(f"/units/{ward.unit.id}/board?sort=overdue"))]

    assert by_bed == ["1", "2", "3", "4", "5", "6"]
    # Bed 2's check is 5 h overdue, bed 1's vitals 1 h; empty beds stay last, in bed order.
    assert overdue == ["2", "1", "3", "4", "5", "6"]


def test_sort_by_most_unwell(client, auth, clock, make_unit, make_admission, make_user):
    unit = utc_unit(make_unit, clock)
    by = make_user("charge_nurse")
    beds = {b.label: b for b in unit.beds}

    def patient(bed: str, heart_rate: int, *ciwa: int, escalate: bool = False):
        admission = make_admission(unit=unit, bed=beds[bed], by=by, protocols=("vitals", "ciwa_ar"))
        chart_vitals(admission, by, clock - timedelta(minutes=30), heart_rate=heart_rate)
        chart_ciwa_ar(admission, by, clock - timedelta(minutes=30), *ciwa)
        if escalate:
            escalation_services.raise_by_hand(by=by, admission=admission, level="urgent",
                                              reason="Wants to leave", idempotency_key=uuid.uuid4().hex)
            db.session.commit()

    mild = (1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
    patient("1", 75, *mild)                               # NEWS2 0, mild, no escalation
    patient("2", 75, *mild, escalate=True)                # NEWS2 0, mild, an escalation
    patient("3", 75, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0)        # NEWS2 0, CIWA-Ar 12: moderate
    patient("4", 115, *mild)                              # NEWS2 2 (heart rate 115)
    auth.login_as("physician")

    order = [bed for bed, _ in board_table_rows(client.get(f"/units/{unit.id}/board?sort=unwell"))]

    assert order == ["4", "3", "2", "1", "5", "6"]


def test_my_patients_shows_only_my_beds(client, auth, ward, make_user, now):
    nurse = auth.login_as("nurse")
    assign(ward.unit, ward.ketamine.bed_id, nurse, ward.charge, now)
    assign(ward.unit, ward.alcohol.bed_id, make_user("nurse"), ward.charge, now)

    response = client.get(f"/units/{ward.unit.id}/board?mine=1")

    assert [bed for bed, _ in board_table_rows(response)] == ["2"]
    html = response.get_data(as_text=True)
    assert "your patients: 1" in html
    assert f'href="/units/{ward.unit.id}/due?mine=1"' in html


def test_my_patients_without_an_assignment_says_so(client, auth, ward):
    auth.login_as("nurse")

    response = client.get(f"/units/{ward.unit.id}/board?mine=1")

    assert board_table_rows(response) == []
    assert "No beds are assigned to you this early shift" in response.get_data(as_text=True)


# --- refreshing itself ---------------------------------------------------------------------------

def test_the_board_page_loads_its_refresh_script(client, auth, ward):
    auth.login_as("nurse")

    html = client.get(f"/units/{ward.unit.id}/board").get_data(as_text=True)

    assert '<script src="/static/board.js"></script>' in html
    assert 'id="board-live"' in html and 'data-refresh-seconds="60"' in html


@pytest.mark.parametrize("ask", [{"headers": {"X-Requested-With": "fetch"}},
                                 {"query_string": {"sort": "overdue", "fragment": "1"}}])
def test_a_refresh_returns_only_the_board_and_is_audited_as_a_view(client, auth, ward, audit_events,
                                                                    now, ask):
    auth.login_as("nurse")
    url = f"/units/{ward.unit.id}/board" + ("?sort=overdue" if "headers" in ask else "")

    response = client.get(url, **ask)

    html = response.get_data(as_text=True)
    assert response.headers["X-Board-Fragment"] == "1"
    assert html.lstrip().startswith('<div id="board-live"')
    assert "<html" not in html and "board.js" not in html
    assert f"Updated <time datetime=\"{now.isoformat()}\">{now:%H:%M} UTC</time>" in html
    # Sorted as asked.
    assert [bed for bed, _ in board_table_rows(response)][:2] == ["2", "1"]
    [view] = board_views(audit_events)
    assert sorted(json.loads(view.detail)["patients"]) == sorted(
        [ward.alcohol.patient_id, ward.ketamine.patient_id])


def test_switching_units_keeps_the_sort_and_filter(client, auth, make_unit):
    make_unit(name="A ward")
    second = make_unit(name="B ward")
    auth.login_as("nurse")

    response = client.get("/board", query_string={"unit": second.id, "sort": "unwell", "mine": "1"})
    html = client.get(response.location).get_data(as_text=True)

    assert response.location == f"/units/{second.id}/board?sort=unwell&mine=1"
    assert '<input type="hidden" name="sort" value="unwell">' in html
    assert '<input type="hidden" name="mine" value="1">' in html


def test_board_escapes_what_staff_typed(client, auth, make_unit, make_admission, make_user):
    """The board's cells are built in Python (clinic/board/cells.py): typed text is still escaped."""
    unit = make_unit()
    by = make_user("charge_nurse")
    admission = make_admission(unit=unit, by=by, protocols=("vitals", "ketamine"),
                               family_name="<b>Bold</b>", given_name='"Quoted"',
                               allergies="<img src=x onerror=alert(1)>")
    escalation_services.raise_by_hand(by=by, admission=admission, level="urgent",
                                      reason="<script>alert('x')</script> shouting",
                                      idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    auth.login_as("charge_nurse")

    response = client.get(f"/units/{unit.id}/board")
    html = response.get_data(as_text=True)
    assert "<B>BOLD</B>" not in html and "&lt;B&gt;BOLD&lt;/B&gt;" in html
    assert "&#34;Quoted&#34;" in html
    assert "<img src=x" not in html and "⚠ Allergy: &lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; shouting" in html
    row = board_rows(response)[admission.bed.label]
    assert '<B>BOLD</B>, "Quoted"' in row and "shouting" in row
