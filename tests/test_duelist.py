"""The unit due list: what is overdue or due within the hour, in time order, each a link into its form.

The clock is fixed: the views read the time through ``utc_now`` in their own module, which the
``clock`` fixture replaces with NOW (a whole minute, just past), and every entry is charted at a
known time before NOW, so each due time and "overdue by" figure follows exactly from the rules.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from clinic import entries
from clinic.admissions import services as admission_services
from clinic.assessments import services as assessment_services
from clinic.db import utc_now
from clinic.escalations import services as escalation_services
from clinic.extensions import db
from clinic.models import Admission, Assignment, SafetyCheck, Unit, User, VitalSigns
from clinic.scoring import ciwa_ar, ketamine
from clinic.vitals import services as vitals_services
from tests.conftest import redirect_path
from tests.safety_helpers import settled

# --- a fixed clock and a ward charted against it -------------------------------------------------

#: Heart rate 95 scores 1 (NEWS2 1, low: every 4 h); 75 scores 0 (NEWS2 0: every 12 h).
VITALS = {"respiratory_rate": "16", "spo2": "97", "systolic_bp": "125", "diastolic_bp": "80",
          "heart_rate": "75", "temperature": "37.0"}


@pytest.fixture
def make_admission(make_admission):
    """Admissions with their admission prompts (suicide-risk screen, thiamine) done, so these
    tests see the protocols' and rounds' due items only."""
    return settled(make_admission)



@pytest.fixture(name="now")
def fixed_now():
    """Return NOW: the current minute, so charted times are in the past and minutes are exact."""
    return utc_now().replace(second=0, microsecond=0)


@pytest.fixture(name="clock")
def fixed_clock(monkeypatch, now):
    """Fix the time the due list and the board read."""
    monkeypatch.setattr("clinic.duelist.routes.utc_now", lambda: now)
    monkeypatch.setattr("clinic.board.routes.utc_now", lambda: now)
    return now


def utc_unit(make_unit, now: datetime, beds: int = 6) -> Unit:
    """Make a unit on UTC whose current shift began six hours before NOW (whatever the hour)."""
    start, other = now - timedelta(hours=6), now + timedelta(hours=6)
    return make_unit(beds=beds, timezone="UTC",
                     shift_pattern=f"Early {start:%H:%M}, Late {other:%H:%M}")


def chart_vitals(admission: Admission, by: User, at: datetime, heart_rate: int = 75) -> VitalSigns:
    vitals = vitals_services.record_vitals(
        by=by, admission=admission, observed_at=at,
        checked=vitals_services.check_values({**VITALS, "heart_rate": str(heart_rate)}, confirmed=False),
        on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A", confirmed=False,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()
    return vitals


def chart_ciwa_ar(admission: Admission, by: User, at: datetime, *values: int):
    assessment = assessment_services.record_assessment(
        by=by, admission=admission, scale="ciwa_ar", observed_at=at,
        items=dict(zip(ciwa_ar.KEYS, values, strict=True)), yes_no={}, heart_rate=None,
        self_harm_thoughts=None, suicide_answers=None, unable_reason=None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()
    return assessment


def chart_ketamine(admission: Admission, by: User, at: datetime, **items: int):
    assessment = assessment_services.record_assessment(
        by=by, admission=admission, scale="ketamine", observed_at=at,
        items={item.key: items.get(item.key, 0) for item in ketamine.DEFAULT_DEFINITION.items},
        yes_no={"blood_in_urine": False, "unable_to_pass_urine": False}, heart_rate=None,
        self_harm_thoughts=False, suicide_answers={"behaviour": False}, unable_reason=None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()
    return assessment


def chart_check(admission: Admission, by: User, at: datetime) -> SafetyCheck:
    check = SafetyCheck(observed_at=at, location="bedroom", activity="resting")
    entries.stamp(check, by=by, admission=admission, idempotency_key=uuid.uuid4().hex,
                  supersedes=None, reason=None)
    db.session.add(check)
    db.session.commit()
    return check


def assign(unit: Unit, bed_id: int, nurse: User, by: User, now: datetime) -> None:
    db.session.add(Assignment(unit_id=unit.id, shift_starts_at=unit.shift_for(now).starts_at,
                              bed_id=bed_id, nurse_id=nurse.id, assigned_by_id=by.id))
    db.session.commit()


@dataclass
class Ward:
    unit: Unit
    alcohol: Admission  # bed 1: vitals and CIWA-Ar
    ketamine: Admission  # bed 2: vitals and the ketamine checklist
    charge: User


@pytest.fixture(name="ward")
def seeded_ward(clock, make_unit, make_admission, make_user) -> Ward:
    """Two patients admitted ten hours ago, charted so that, at NOW:

    bed 2 safety check  overdue by 5 h 00 min (no check this shift, which began 6 h ago)
    bed 1 vitals        overdue by 1 h 00 min (NEWS2 1 five hours ago: every 4 h)
    bed 1 CIWA-Ar       overdue by 20 min     (12 eighty minutes ago: hourly)
    bed 1 safety check  due in 30 min         (checked 30 minutes ago: every 60 min)
    bed 2 ketamine      due in 45 min         (burden 0 3 h 15 min ago: every 4 h)
    bed 2 vitals        due in 2 h, not listed (NEWS2 0 ten hours ago: every 12 h)
    """
    now = clock
    unit = utc_unit(make_unit, now)
    charge = make_user("charge_nurse")
    beds = {b.label: b for b in unit.beds}
    alcohol = make_admission(unit=unit, bed=beds["1"], by=charge, family_name="Alder", given_name="Ann",
                             substances=(("alcohol", 8),), protocols=("vitals", "ciwa_ar"))
    ketamine_patient = make_admission(unit=unit, bed=beds["2"], by=charge, family_name="Birch",
                                      given_name="Ben", protocols=("vitals", "ketamine"))
    chart_vitals(alcohol, charge, now - timedelta(hours=5), heart_rate=95)
    chart_ciwa_ar(alcohol, charge, now - timedelta(minutes=80), 3, 3, 3, 3, 0, 0, 0, 0, 0, 0)
    chart_check(alcohol, charge, now - timedelta(minutes=30))
    chart_vitals(ketamine_patient, charge, now - timedelta(hours=10) + timedelta(minutes=1))
    chart_ketamine(ketamine_patient, charge, now - timedelta(hours=3, minutes=15))
    return Ward(unit, alcohol, ketamine_patient, charge)


# --- reading the page ----------------------------------------------------------------------------

@dataclass
class Row:
    id: str
    text: str
    href: str


class _DueRows(HTMLParser):
    """Read the due list's rows: row id, its text, and the link into the form."""

    def __init__(self):
        super().__init__()
        self.rows: list[Row] = []
        self._row: dict | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "due-row" in (attrs.get("class") or ""):
            self._row = {"id": attrs["id"], "text": [], "href": None}
        elif self._row is not None and tag == "a" and "due-link" in (attrs.get("class") or ""):
            self._row["href"] = attrs["href"]

    def handle_data(self, data):
        if self._row is not None:
            self._row["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(Row(self._row["id"], " ".join("".join(self._row["text"]).split()),
                                 self._row["href"]))
            self._row = None


def due_rows(response) -> list[Row]:
    assert response.status_code == 200, response.status_code
    parser = _DueRows()
    parser.feed(response.get_data(as_text=True))
    return parser.rows


def due_url(unit: Unit, **query) -> str:
    url = f"/units/{unit.id}/due"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def due_views(audit_events) -> list:
    return [e for e in audit_events("view") if e.object_type == "due_list"]


# --- what the list shows, and in what order --------------------------------------------------------

def test_overdue_first_most_overdue_at_top_then_due_soon_by_time(client, auth, ward, now):
    auth.login_as("nurse")

    rows = due_rows(client.get(due_url(ward.unit)))

    a, k = ward.alcohol.id, ward.ketamine.id
    assert [r.id for r in rows] == [
        f"due-safety_check-{k}", f"due-vitals-{a}", f"due-ciwa_ar-{a}",
        f"due-safety_check-{a}", f"due-ketamine-{k}",
    ]
    check_b, vitals_a, ciwa_a, check_a, ketamine_b = (r.text for r in rows)
    assert "overdue by 5 h 00 min" in check_b and "BIRCH, Ben" in check_b and "Bed 2" in check_b
    assert "Safety check — General (every 60 min)" in check_b
    assert "5 checks missed this shift" in check_b
    assert f"{now - timedelta(hours=5):%H:%M} UTC" in check_b

    assert "overdue by 1 h 00 min" in vitals_a and "ALDER, Ann" in vitals_a and "Bed 1" in vitals_a
    assert "Vital signs (NEWS2) — every 4 h (last NEWS2 1)" in vitals_a
    assert "NEWS2 1 (low): every 4 h" in vitals_a  # the rule's reason
    assert f"{now - timedelta(hours=1):%H:%M} UTC" in vitals_a

    assert "overdue by 20 min" in ciwa_a
    assert "CIWA-Ar — hourly while ≥8 (last 12)" in ciwa_a
    assert "CIWA-Ar 12 (8 or more): hourly" in ciwa_a

    assert "due in 30 min" in check_a and "Overdue" not in check_a
    assert f"Last check {now - timedelta(minutes=30):%H:%M} UTC" in check_a
    assert "due in 45 min" in ketamine_b
    assert "Ketamine checklist — every 4 h (last burden 0)" in ketamine_b


def test_nothing_due_later_than_an_hour_is_listed(client, auth, ward):
    auth.login_as("nurse")

    rows = due_rows(client.get(due_url(ward.unit)))

    # Bed 2's vitals fall due in two hours.
    assert f"due-vitals-{ward.ketamine.id}" not in [r.id for r in rows]


def test_the_words_carry_the_status_not_only_colour(client, auth, ward):
    auth.login_as("nurse")

    html = client.get(due_url(ward.unit)).get_data(as_text=True)

    assert "Overdue <span" in html and "(3)" in html
    assert "Due in the next hour <span" in html and "(2)" in html
    assert html.count("⚠ Overdue") == 3
    assert html.count(">Due soon<") == 2


def test_each_row_links_into_the_right_form_with_next_back_here(client, auth, ward):
    auth.login_as("nurse")
    here = due_url(ward.unit, mine=0)

    rows = {r.id: r.href for r in due_rows(client.get(here))}

    a, k = ward.alcohol.id, ward.ketamine.id
    expected = {
        f"due-vitals-{a}": (f"/admissions/{a}/vitals/new", {}, ""),
        f"due-ciwa_ar-{a}": (f"/admissions/{a}/assessments/new", {"scale": ["ciwa_ar"]}, ""),
        f"due-ketamine-{k}": (f"/admissions/{k}/assessments/new", {"scale": ["ketamine"]}, ""),
        f"due-safety_check-{a}": (f"/units/{ward.unit.id}/rounds", {}, f"admission-{a}"),
        f"due-safety_check-{k}": (f"/units/{ward.unit.id}/rounds", {}, f"admission-{k}"),
    }
    assert set(rows) == set(expected)
    for row_id, (path, query, anchor) in expected.items():
        link = urlsplit(rows[row_id])
        params = parse_qs(link.query)
        assert link.path == path, row_id
        assert params.pop("next") == [here], row_id
        assert params == query, row_id
        assert link.fragment == anchor, row_id


def test_saving_a_form_opened_from_the_list_returns_to_it(client, auth, ward, now):
    auth.login_as("nurse")
    here = due_url(ward.unit)
    [vitals_link] = [r.href for r in due_rows(client.get(here)) if r.id == f"due-vitals-{ward.alcohol.id}"]

    form = client.get(vitals_link).get_data(as_text=True)
    assert f'name="next" value="{here}"' in form
    response = client.post(vitals_link, data={
        **VITALS, "air_or_oxygen": "air", "consciousness": "A", "next": here,
        "observed_at": utc_now().strftime("%Y-%m-%dT%H:%M"), "idempotency_key": uuid.uuid4().hex,
    })

    assert response.status_code == 302
    assert redirect_path(response) == here
    # NEWS2 0 just now: next due in 12 hours, so off the list.
    assert f"due-vitals-{ward.alcohol.id}" not in [r.id for r in due_rows(client.get(here))]


def test_an_empty_list_says_so(client, auth, clock, make_unit, make_admission):
    unit = utc_unit(make_unit, clock)
    admission = make_admission(unit=unit, protocols=("vitals",))
    # Continuous observation has no scheduled checks, and its first hourly attestation is due at the
    # end of the hour (issue 11 item 10); NEWS2 0 charted now is due in 12 hours.
    admission.observation_level, admission.observation_level_since = "eyesight", clock
    db.session.commit()
    chart_vitals(admission, admission.admitted_by, clock)
    auth.login_as("nurse")

    response = client.get(due_url(unit))

    assert due_rows(response) == []
    assert "Nothing is overdue and nothing is due in the next hour." in response.get_data(as_text=True)


def test_a_discharged_patient_is_not_listed(client, auth, ward):
    admission_services.discharge(by=ward.charge, admission=ward.ketamine, discharged_at=utc_now(),
                                 disposition="home", note=None)
    db.session.commit()
    auth.login_as("nurse")

    rows = due_rows(client.get(due_url(ward.unit)))

    assert rows and all(r.id.endswith(f"-{ward.alcohol.id}") for r in rows)


# --- my patients ---------------------------------------------------------------------------------

def test_my_patients_lists_only_beds_assigned_to_me_this_shift(client, auth, ward, make_user, now):
    nurse = auth.login_as("nurse")
    assign(ward.unit, ward.alcohol.bed_id, nurse, ward.charge, now)
    assign(ward.unit, ward.ketamine.bed_id, make_user("nurse"), ward.charge, now)
    # An assignment for the previous shift does not count.
    db.session.add(Assignment(unit_id=ward.unit.id, bed_id=ward.ketamine.bed_id, nurse_id=nurse.id,
                              assigned_by_id=ward.charge.id,
                              shift_starts_at=ward.unit.shift_for(now).starts_at - timedelta(hours=12)))
    db.session.commit()

    mine = due_rows(client.get(due_url(ward.unit, mine=1)))
    everyone = due_rows(client.get(due_url(ward.unit)))

    assert [r.id for r in mine] == [f"due-vitals-{ward.alcohol.id}", f"due-ciwa_ar-{ward.alcohol.id}",
                                    f"due-safety_check-{ward.alcohol.id}"]
    assert len(everyone) == 5
    assert all(parse_qs(urlsplit(r.href).query)["next"] == [due_url(ward.unit, mine=1)] for r in mine)


def test_my_patients_with_no_assignment_says_so(client, auth, ward):
    auth.login_as("nurse")

    response = client.get(due_url(ward.unit, mine=1))

    assert due_rows(response) == []
    assert "No beds are assigned to you this early shift" in response.get_data(as_text=True)


# --- who may see it, and the audit trail ---------------------------------------------------------

@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "physician"])
def test_charting_roles_see_the_due_list(client, auth, ward, role):
    auth.login_as(role)

    assert len(due_rows(client.get(due_url(ward.unit)))) == 5


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_non_charting_roles_are_refused(client, auth, ward, audit_events, role):
    auth.login_as(role)

    response = client.get(due_url(ward.unit))

    assert response.status_code == 403
    assert "BIRCH" not in response.get_data(as_text=True)
    assert due_views(audit_events) == []


def test_a_missing_unit_is_404(client, auth, ward):
    auth.login_as("nurse")

    assert client.get("/units/9999/due").status_code == 404


def test_a_view_writes_one_audit_event_listing_the_patients_shown(client, auth, ward, audit_events):
    viewer = auth.login_as("nurse")

    client.get(due_url(ward.unit))

    [view] = due_views(audit_events)
    assert view.user_id == viewer.id
    assert view.object_id == str(ward.unit.id)
    assert view.patient_id is None
    # In list order: bed 2's overdue check is at the top.
    assert json.loads(view.detail)["patients"] == [ward.ketamine.patient_id, ward.alcohol.patient_id]
    assert [e for e in audit_events("view") if e.patient_id is not None] == []


# --- query count ---------------------------------------------------------------------------------

def count_queries(client, url: str) -> int:
    # A fresh session, as a real request has: nothing answered from the test's identity map.
    db.session.remove()
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements)


def admit_with_history(make_admission, unit_id: int, by_id: int, now: datetime) -> Admission:
    """Admit a patient with vitals, scale results, a safety check and an open escalation."""
    unit, by = db.session.get(Unit, unit_id), db.session.get(User, by_id)
    admission = make_admission(unit=unit, by=by, substances=(("ketamine", 20), ("alcohol", 30)),
                               protocols=("vitals", "ketamine", "ciwa_ar"))
    for hours_ago in (5, 3):
        chart_vitals(admission, by, now - timedelta(hours=hours_ago), heart_rate=95)
        chart_ketamine(admission, by, now - timedelta(hours=hours_ago), craving=2)
        chart_ciwa_ar(admission, by, now - timedelta(hours=hours_ago), 2, 2, 2, 2, 2, 0, 0, 0, 0, 0)
    chart_check(admission, by, now - timedelta(minutes=70))
    escalation_services.raise_by_hand(by=by, admission=admission, level="urgent",
                                      reason="Agitated, asking to leave",
                                      idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    return admission


def test_query_count_does_not_grow_with_patients(client, auth, clock, make_unit, make_admission,
                                                 make_user):
    unit = utc_unit(make_unit, clock, beds=8)
    unit_id, by_id = unit.id, make_user("charge_nurse").id
    for _ in range(2):
        admit_with_history(make_admission, unit_id, by_id, clock)
    nurse = auth.login_as("nurse")
    for bed in db.session.get(Unit, unit_id).beds:
        assign(db.session.get(Unit, unit_id), bed.id, nurse, db.session.get(User, by_id), clock)
    url, mine_url = f"/units/{unit_id}/due", f"/units/{unit_id}/due?mine=1"
    client.get(url)

    with_two = count_queries(client, url), count_queries(client, mine_url)
    for _ in range(4):
        admit_with_history(make_admission, unit_id, by_id, clock)
    with_six = count_queries(client, url), count_queries(client, mine_url)

    rows = due_rows(client.get(url))
    # Each patient's vitals (NEWS2 1 three hours ago: every 4 h, due in 60 min), ketamine and
    # CIWA-Ar (overdue) and safety check (checked 70 min ago: overdue) were really listed.
    assert len(rows) == 6 * 4
    assert with_six == with_two


def test_item_times_are_shown_on_the_unit_clock(client, auth, clock, make_unit, make_admission):
    unit = make_unit(timezone="America/New_York")
    admission = make_admission(unit=unit, protocols=("vitals",))
    chart_vitals(admission, admission.admitted_by, clock - timedelta(hours=5), heart_rate=95)
    auth.login_as("nurse")

    [vitals] = [r for r in due_rows(client.get(due_url(unit))) if r.id.startswith("due-vitals")]

    local = (clock - timedelta(hours=1)).astimezone(unit.zone)
    assert local.strftime("%H:%M %Z") in vitals.text


def test_a_check_inside_its_on_time_window_is_due_now_and_a_first_assessment_says_so(
        client, auth, clock, make_unit, make_admission):
    unit = utc_unit(make_unit, clock)
    admission = make_admission(unit=unit, protocols=("vitals", "ketamine"), family_name="Cole")
    chart_vitals(admission, admission.admitted_by, clock)
    # Checked 70 minutes ago at the hourly level: due 10 minutes ago, late only after 20 more.
    chart_check(admission, admission.admitted_by, clock - timedelta(minutes=70))
    auth.login_as("nurse")

    response = client.get(due_url(unit))

    rows = {r.id: r.text for r in due_rows(response)}
    assert list(rows) == [f"due-ketamine-{admission.id}", f"due-safety_check-{admission.id}"]
    first, check = rows.values()
    assert "Ketamine checklist — first assessment" in first and "overdue by" in first
    assert "Due now due now" in check and "Overdue" not in check
    assert f"late after {clock + timedelta(minutes=20):%H:%M} UTC" in check
    html = response.get_data(as_text=True)
    assert html.index("Due in the next hour") < html.index(f'id="due-safety_check-{admission.id}"')


@pytest.mark.parametrize("low_scores, reason", [
    (3, "CIWA-Ar 3 (below 8): every 4 h"),
    (4, "CIWA-Ar 3, four in a row below 8, not rising, every 4 h: every 8 h"),
])
def test_unit_that_steps_down_after_four_scores_is_read_that_deep(clock, make_unit, make_admission,
                                                                  make_user, low_scores, reason):
    """The due list and chart fetch as many CIWA-Ar results as the unit's step-down rule counts."""
    from dataclasses import replace

    from clinic.duelist.services import unit_due_list
    from clinic.models import DueDefinitionVersion
    from clinic.monitoring.services import monitoring_summary
    from clinic.scoring import due

    unit = utc_unit(make_unit, clock)
    charge = make_user("charge_nurse")
    definition = replace(due.DEFAULT_DEFINITION, ciwa_ar_settled_after=4)
    db.session.add(DueDefinitionVersion(unit_id=unit.id, version=1, definition=definition.to_dict(),
                                        created_by_id=charge.id))
    admission = make_admission(unit=unit, by=charge, substances=(("alcohol", 20),),
                               protocols=("ciwa_ar",), hours_ago=24)
    # The newest is 3 h 50 min old, so even the routine 4-hourly reassessment is due within the hour;
    # the scores are 4-hourly, as the step-down needs.
    for n in range(low_scores):
        chart_ciwa_ar(admission, charge, clock - timedelta(minutes=230 + 240 * n),
                      1, 1, 1, 0, 0, 0, 0, 0, 0, 0)

    [status] = [s for s in monitoring_summary(admission, clock).protocols if s.protocol == "ciwa_ar"]
    assert status.item.reason == reason
    listed = [e.reason for e in unit_due_list(unit, now=clock).entries if e.kind == "ciwa_ar"]
    assert listed == ([reason] if low_scores == 3 else [])


def test_check_made_just_before_the_shift_keeps_the_clock_running(clock, make_unit, make_admission,
                                                                   make_user):
    """A new shift does not reset the safety-check clock: the last check before it counts."""
    from clinic.duelist.services import SAFETY_CHECK, unit_due_list

    unit = utc_unit(make_unit, clock)  # the shift began six hours before NOW
    charge = make_user("charge_nurse")
    admission = make_admission(unit=unit, by=charge)
    chart_check(admission, charge, clock - timedelta(hours=6, minutes=10))

    [check] = [e for e in unit_due_list(unit, now=clock).entries if e.kind == SAFETY_CHECK]

    # Due an hour after that check, not an hour after the shift began (5 h 00 min).
    assert check.words == "overdue by 5 h 10 min"
    assert check.reason.startswith(f"Last check {(clock - timedelta(hours=6, minutes=10)):%H:%M}")
