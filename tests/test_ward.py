"""The ward's rough edges (issue 12): what the pages say, read as a user reads them."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Bed


def text_of(html: str) -> str:
    """Return the text a reader sees: tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def table_rows(html: str) -> list[str]:
    """Return the text of each body row of the page's tables."""
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S)
    return [text_of(row) for body in bodies for row in re.findall(r"<tr\b.*?</tr>", body, flags=re.S)]


# -- 1. assignments: open beds are not "closed" -------------------------------------------------

def test_assignment_sheet_calls_only_closed_beds_closed(client, auth, make_unit, make_admission):
    unit = make_unit(beds=3)
    beds = {b.label: b for b in unit.beds}
    make_admission(unit=unit, bed=beds["1"], family_name="Walker", given_name="Jade")
    left = make_admission(unit=unit, bed=beds["3"], family_name="Stone", given_name="Ash")
    db.session.get(Bed, left.bed_id).active = False  # closed with a patient still in it
    db.session.commit()
    auth.login_as("charge_nurse")

    rows = table_rows(client.get(f"/units/{unit.id}/assignments").get_data(as_text=True))

    assert len(rows) == 3
    assert rows[0].startswith("1 WALKER, Jade") and "closed" not in rows[0]
    assert rows[1].startswith("2 Empty") and "closed" not in rows[1]
    assert rows[2].startswith("3 closed STONE, Ash")


# -- 3. admit: nothing clinical pre-selected ----------------------------------------------------

def test_admit_form_preselects_no_primary_substance(client, auth, make_unit):
    from tests.test_admissions import shown_inputs
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = client.get("/admit", query_string={"unit": unit.id})

    assert shown_inputs(response)["primary_substance"] == []


def test_the_only_substance_ticked_is_the_primary(client, auth, make_unit):
    from clinic.models import AdmissionSubstance
    from tests.test_admissions import ALCOHOL_ONLY, admit_form, bed_labelled, post_admit
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(unit, bed_labelled(unit, "1"), **ALCOHOL_ONLY,
                                                   primary_substance=None))

    assert response.status_code == 302
    [row] = db.session.scalars(select(AdmissionSubstance)).all()
    assert (row.substance, row.is_primary) == ("alcohol", True)


def test_two_substances_and_no_primary_asks_which(client, auth, make_unit):
    from clinic.models import Admission
    from tests.test_admissions import ALCOHOL_ONLY, admit_form, bed_labelled, count, post_admit
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(
        unit, bed_labelled(unit, "1"), primary_substance=None,
        **{k: v for k, v in ALCOHOL_ONLY.items() if "ketamine" not in k}))

    assert response.status_code == 422
    assert "Primary substance: you ticked Ketamine and Alcohol; choose which is the primary one." \
        in text_of(response.get_data(as_text=True))
    assert count(Admission) == 0


# -- 4. find by MRN: a patient on the ward is named with their bed at once ----------------------

def test_find_by_mrn_of_a_patient_on_the_ward_names_their_bed(client, auth, make_unit,
                                                             make_admission, audit_events):
    unit = make_unit(name="Larch Ward", beds=3)
    beds = {b.label: b for b in unit.beds}
    here = make_admission(unit=unit, bed=beds["3"], mrn="ON-1", family_name="Walker",
                          given_name="Jade")
    auth.login_as("charge_nurse")

    response = client.get("/admit", query_string={"unit": unit.id, "mrn": "on-1"})

    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "WALKER, Jade (MRN ON-1) is on Larch Ward now, in bed 3. Open their chart" in text
    assert f'href="/admissions/{here.id}"' in html
    assert "Previous admissions" not in text  # no offer to re-admit


# -- 5. a new admission is due within the grace period, not overdue at once ---------------------

def test_a_patient_admitted_a_minute_ago_is_due_not_overdue(client, auth, make_unit, make_admission):
    unit = make_unit(beds=2)
    make_admission(unit=unit, hours_ago=1 / 60, family_name="Walker", given_name="Jade",
                   protocols=("vitals", "ketamine"))
    auth.login_as("nurse")

    board = text_of(client.get(f"/units/{unit.id}/board").get_data(as_text=True))
    due = text_of(client.get(f"/units/{unit.id}/due").get_data(as_text=True))

    for page in (board, due):
        assert "WALKER, Jade" in page
        assert re.search(r"(?i)overdue (by|\d)|⚠ Overdue", page) is None, page
        assert "Due soon" in page


# -- 2. discharge and transfer name the patient before saving; a discharge can be reversed ------

def _discharge_data(admission, **changes):
    from tests.test_admissions import local
    data = {"discharged_at": local(admission.unit), "disposition": "home", "note": "Went home"}
    data.update(changes)
    return data


def test_discharge_asks_to_confirm_naming_patient_mrn_and_bed(client, auth, make_admission):
    from clinic.models import Admission
    admission = make_admission(mrn="WJ-77", family_name="Walker", given_name="Jade")
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/discharge", data=_discharge_data(admission))

    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Discharge WALKER, Jade?" in text
    assert "Patient WALKER, Jade MRN WJ-77" in text and "Bed 1 ·" in text
    assert "Yes, discharge WALKER, Jade" in text
    assert db.session.get(Admission, admission.id).status == "admitted"

    confirmed = client.post(f"/admissions/{admission.id}/discharge",
                            data=_discharge_data(admission, confirm="yes"))
    assert confirmed.status_code == 302
    assert db.session.get(Admission, admission.id).status == "discharged"


def test_change_on_the_confirmation_returns_to_the_form_with_what_was_typed(client, auth,
                                                                           make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=_discharge_data(admission, confirm="change", note="Kept note"))

    text = text_of(response.get_data(as_text=True))
    assert "Discharge note" in text and "Kept note" in text
    assert "Yes, discharge" not in text


def test_transfer_confirms_then_returns_to_the_chart(client, auth, make_unit, make_admission):
    unit = make_unit(beds=3)
    admission = make_admission(unit=unit, mrn="MV-1", family_name="Walker", given_name="Jade")
    to_bed = [b for b in unit.beds if b.label == "3"][0]
    auth.login_as("charge_nurse")

    first = client.post(f"/admissions/{admission.id}/transfer", data={"bed": str(to_bed.id)})
    text = text_of(first.get_data(as_text=True))
    assert "Move WALKER, Jade to bed 3?" in text and "MRN MV-1" in text and "From bed 1" in text
    assert db.session.get(Bed, admission.bed_id).label == "1"

    done = client.post(f"/admissions/{admission.id}/transfer",
                       data={"bed": str(to_bed.id), "confirm": "yes"})
    assert done.status_code == 302 and done.location == f"/admissions/{admission.id}"


def _discharged(client, admission):
    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=_discharge_data(admission, confirm="yes"))
    assert response.status_code == 302


def test_charge_nurse_reverses_a_discharge_entered_in_error(client, auth, make_admission,
                                                           audit_events):
    from clinic.models import Admission, DischargeReversal
    admission = make_admission(family_name="Walker", given_name="Jade")
    charge = auth.login_as("charge_nurse", display_name="Cara Charge")
    _discharged(client, admission)
    discharged_at = db.session.get(Admission, admission.id).discharged_at

    chart = text_of(client.get(f"/admissions/{admission.id}").get_data(as_text=True))
    assert "Reverse discharge (entered in error)" in chart
    form = client.get(f"/admissions/{admission.id}/reverse-discharge").get_data(as_text=True)
    assert re.search(rf'<option selected value="{admission.bed_id}">Bed 1</option>', form)

    response = client.post(f"/admissions/{admission.id}/reverse-discharge",
                           data={"bed": str(admission.bed_id), "reason": "Wrong patient chosen"})

    assert response.status_code == 302 and response.location == f"/admissions/{admission.id}"
    reopened = db.session.get(Admission, admission.id)
    assert (reopened.status, reopened.discharged_at, reopened.bed_id) == ("admitted", None,
                                                                         admission.bed_id)
    [row] = db.session.scalars(select(DischargeReversal)).all()
    assert (row.reason, row.reversed_by_id, row.discharged_at, row.disposition) == (
        "Wrong patient chosen", charge.id, discharged_at, "home")
    event = [e for e in audit_events("update") if "discharge reversed" in e.detail][0]
    assert event.patient_id == admission.patient_id
    chart = text_of(client.get(f"/admissions/{admission.id}").get_data(as_text=True))
    assert "Discharge reversed" in chart and "Wrong patient chosen" in chart
    assert "was entered in error" in chart


def test_reversing_needs_a_reason_and_a_free_bed(client, auth, make_unit, make_admission):
    from clinic.models import Admission
    unit = make_unit(beds=2)
    admission = make_admission(unit=unit)
    auth.login_as("charge_nurse")
    _discharged(client, admission)
    make_admission(unit=unit, bed=db.session.get(Bed, admission.bed_id), family_name="Other")

    form = client.get(f"/admissions/{admission.id}/reverse-discharge").get_data(as_text=True)
    assert "<option selected" not in form  # its bed was taken: nothing chosen for the nurse
    no_reason = client.post(f"/admissions/{admission.id}/reverse-discharge",
                            data={"bed": str(admission.bed_id), "reason": " "})
    text = text_of(no_reason.get_data(as_text=True))
    assert no_reason.status_code == 422
    assert "Reason: say why the discharge was entered in error." in text
    taken = client.post(f"/admissions/{admission.id}/reverse-discharge",
                        data={"bed": str(admission.bed_id), "reason": "Wrong patient"})
    assert taken.status_code == 422
    assert "Bed 1 is occupied by OTHER, Sam" in text_of(taken.get_data(as_text=True))
    assert db.session.get(Admission, admission.id).status == "discharged"


def test_a_discharge_from_an_earlier_shift_cannot_be_reversed(client, auth, make_admission):
    from datetime import timedelta

    from clinic.admissions import services
    from clinic.db import utc_now
    from clinic.models import Admission
    admission = make_admission(hours_ago=40)
    charge = auth.login_as("charge_nurse")
    services.discharge(by=charge, admission=admission, discharged_at=utc_now() - timedelta(hours=13),
                       disposition="home", note=None)
    db.session.commit()

    chart = text_of(client.get(f"/admissions/{admission.id}").get_data(as_text=True))
    response = client.post(f"/admissions/{admission.id}/reverse-discharge",
                           data={"bed": str(admission.bed_id), "reason": "Wrong patient"})

    assert "Reverse discharge" not in chart
    assert response.status_code == 302
    assert db.session.get(Admission, admission.id).status == "discharged"


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_only_a_charge_nurse_reverses_a_discharge(client, auth, make_admission, make_user, role):
    from clinic.admissions import services
    from clinic.db import utc_now
    admission = make_admission()
    services.discharge(by=make_user("charge_nurse"), admission=admission, discharged_at=utc_now(),
                       disposition="home", note=None)
    db.session.commit()
    auth.login_as(role)

    response = client.post(f"/admissions/{admission.id}/reverse-discharge",
                           data={"bed": str(admission.bed_id), "reason": "Wrong patient"})

    assert response.status_code == 403


def test_discharge_reversals_cannot_be_changed(make_admission, make_user):
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError

    from clinic.admissions import services
    from clinic.db import utc_now
    from clinic.models import DischargeReversal
    charge = make_user("charge_nurse")
    admission = make_admission()
    services.discharge(by=charge, admission=admission, discharged_at=utc_now(), disposition="home",
                       note=None)
    services.reverse_discharge(by=charge, admission=admission, bed=admission.bed, reason="Error",
                               now=utc_now())
    db.session.commit()

    with pytest.raises(DatabaseError):
        db.session.execute(update(DischargeReversal).values(reason="Changed"))
        db.session.flush()
    db.session.rollback()


# -- 14. history: newest first throughout, shift headings kept ----------------------------------

def test_whole_stay_history_is_newest_first_within_each_shift(client, auth, make_admission):
    from datetime import timedelta

    from clinic.db import utc_now
    from clinic.notes.services import record_note
    admission = make_admission(hours_ago=30)
    nurse = auth.login_as("nurse")
    now = utc_now()
    for n, hours in enumerate((26, 25, 2, 1, 0.5)):
        record_note(by=nurse, admission=admission, observed_at=now - timedelta(hours=hours),
                    text=f"Note number {n}", idempotency_key=f"k{n}")
    db.session.commit()

    for view in ("stay", "shift"):
        text = text_of(client.get(f"/admissions/{admission.id}?view={view}").get_data(as_text=True))
        shown = [int(n) for n in re.findall(r"Note number (\d)", text)]
        assert shown == sorted(shown, reverse=True), (view, shown)
    stay = text_of(client.get(f"/admissions/{admission.id}?view=stay").get_data(as_text=True))
    assert stay.count(" shift, ") >= 2  # the shift headings stay


# -- 10. every save says what was saved and for whom ---------------------------------------------

def _follow(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return text_of(client.get(response.headers["Location"].split("#")[0]).get_data(as_text=True))


def test_vitals_save_names_patient_and_news2(client, auth, make_admission):
    from tests.test_vitals import NORMAL, vitals_form
    admission = make_admission(family_name="Walker", given_name="Jade")
    auth.login_as("nurse")

    response = client.post(f"/admissions/{admission.id}/vitals/new", data=vitals_form(admission))

    assert "Set-Cookie" not in response.headers  # the session is not re-signed for the message
    assert "?saved=vitals-" in response.headers["Location"]
    assert "WALKER" not in response.headers["Location"]
    text = _follow(client, response)
    assert "Vitals saved for WALKER, Jade, NEWS2 0 low." in text
    assert NORMAL  # the normal set scores 0


def test_note_and_correction_saves_say_so(client, auth, make_admission):
    from tests.test_notes import note_form
    admission = make_admission(family_name="Walker", given_name="Jade")
    auth.login_as("nurse")

    first = client.post(f"/admissions/{admission.id}/notes/new", data=note_form(admission))
    assert "Note saved for WALKER, Jade." in _follow(client, first)
    note_path = first.headers["Location"].split("?")[0]
    corrected = client.post(f"{note_path}/correct", data=note_form(
        admission, text="Settled after supper.", correction_reason="Typo"))
    assert ("Correction of note saved for WALKER, Jade, the original stays readable in the history."
            in _follow(client, corrected))


def test_a_saved_link_says_nothing_to_someone_else(client, auth, make_admission):
    from tests.test_vitals import vitals_form
    admission = make_admission(family_name="Walker", given_name="Jade")
    auth.login_as("nurse")
    location = client.post(f"/admissions/{admission.id}/vitals/new",
                           data=vitals_form(admission)).headers["Location"].split("#")[0]
    auth.logout()
    auth.login_as("nurse")

    assert "saved for" not in text_of(client.get(location).get_data(as_text=True))


def test_admission_actions_use_the_same_wording(client, auth, make_unit, make_admission):
    from tests.test_admissions import flashed
    unit = make_unit(beds=3)
    admission = make_admission(unit=unit, family_name="Walker", given_name="Jade")
    auth.login_as("charge_nurse")

    client.post(f"/admissions/{admission.id}/transfer",
                data={"bed": str(unit.beds[2].id), "confirm": "yes"})

    assert "Transfer saved for WALKER, Jade, now in bed 3." in flashed(client)


# -- 13. wording and consistency ---------------------------------------------------------------

def test_an_empty_admit_form_names_each_missing_field(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = client.post("/admit", query_string={"unit": unit.id}, data={"admitted_at": ""})

    text = text_of(response.get_data(as_text=True))
    assert "This field is required" not in text
    for message in ("Enter the MRN.", "Enter the family name.", "Enter the given name.",
                    "Enter the date of birth", "Choose the sex.", "Enter the admission time."):
        assert message in text


def test_due_rules_page_cites_no_internal_documents(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("admin")

    text = text_of(client.get(f"/admin/units/{unit.id}/due-rules").get_data(as_text=True))

    assert "Grace period after admission" in text
    assert "REFERENCE" not in text and "§" not in text


@pytest.mark.parametrize(("key", "value", "meaning"), [
    ("tremor", 0, "no tremor"),
    ("tremor", 2, "between 1 (not visible, can be felt fingertip to fingertip) and 4 (moderate, "
                  "with arms extended)"),
    ("tremor", 4, "moderate, with arms extended"),
    ("tremor", 6, "between 4 (moderate, with arms extended) and 7 (severe, even with arms not "
                  "extended)"),
])
def test_every_ciwa_ar_score_has_a_meaning(key, value, meaning):
    from clinic.scoring import ciwa_ar
    item = next(i for i in ciwa_ar.ITEMS if i.key == key)
    assert item.meaning(value) == meaning


def test_every_value_of_every_scale_item_means_something():
    from clinic.scoring import ciwa_ar, ciwa_b, cows
    for scale in (ciwa_ar, cows, ciwa_b):
        for item in scale.ITEMS:
            for value in item.allowed_values:
                assert item.meaning(value), (scale.__name__, item.key, value)


def test_urgent_is_amber_and_emergency_red_on_board_and_list(client, auth, make_admission):
    from clinic.escalations.services import raise_by_hand
    admission = make_admission()
    nurse = auth.login_as("nurse")
    raise_by_hand(by=nurse, admission=admission, level="urgent", reason="Pulse 130",
                  idempotency_key="u1")
    db.session.commit()

    board = client.get(f"/units/{admission.unit_id}/board").get_data(as_text=True)
    listing = client.get(f"/units/{admission.unit_id}/escalations").get_data(as_text=True)

    assert re.search(r'class="badge badge-warn">⚠ Urgent', board)
    assert re.search(r'class="badge badge-warn">Urgent', listing)


# -- 8. the error summary names and links each field; an empty vitals set marks what to fill ----

def test_empty_vitals_form_marks_each_news2_parameter(client, auth, make_admission):
    from clinic.models import VitalSigns
    from tests.test_vitals import vitals_form
    admission = make_admission()
    auth.login_as("nurse")
    data = {k: v for k, v in vitals_form(admission).items()
            if k in ("observed_at", "idempotency_key")}

    response = client.post(f"/admissions/{admission.id}/vitals/new", data=data)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = text_of(re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0))
    assert "Check these 7 fields" in summary
    for link, text in (("#respiratory_rate", "Respiratory rate: Enter the respiratory rate."),
                       ("#air_or_oxygen-0", "Air or oxygen: Choose air or oxygen."),
                       ("#consciousness-0", "Consciousness (ACVPU): Choose A, C, V, P or U.")):
        assert f'href="{link}"' in html and text in summary
    assert db.session.scalar(select(VitalSigns.id)) is None


def test_unanswered_scale_item_is_named_and_linked_in_the_summary(client, auth, make_admission):
    admission = make_admission(protocols=("ciwa_ar",), substances=(("alcohol", 10),))
    auth.login_as("nurse")
    from tests.test_admissions import local
    data = {"observed_at": local(admission.unit), "idempotency_key": "k-ciwa-1"}
    data.update({f: "0" for f in ("nausea_vomiting", "tremor", "paroxysmal_sweats", "anxiety",
                                  "agitation", "tactile_disturbances", "auditory_disturbances",
                                  "visual_disturbances", "headache")})

    response = client.post(f"/admissions/{admission.id}/assessments/new?scale=ciwa_ar", data=data)

    html = response.get_data(as_text=True)
    summary = text_of(re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0))
    assert "Check this field" in summary and "Orientation" in summary
    assert 'href="#orientation-0"' in html and 'id="orientation-0"' in html


# -- 15. finding patients ----------------------------------------------------------------------

@pytest.mark.parametrize("query", ["walker", "Jade Walker", "WALKER, Jade", "ws-12", "1990-05-17",
                                   "17 May 1990", "17/05/1990"])
def test_search_finds_by_name_mrn_or_date_of_birth(client, auth, make_admission, audit_events,
                                                   query):
    from datetime import date
    here = make_admission(mrn="WS-12", family_name="Walker", given_name="Jade",
                          date_of_birth=date(1990, 5, 17))
    make_admission(unit=here.unit, mrn="OT-1", family_name="Other", given_name="Ann",
                   date_of_birth=date(1980, 1, 1))
    auth.login_as("nurse")

    html = client.get("/patients", query_string={"q": query}).get_data(as_text=True)

    rows = table_rows(html)
    assert len(rows) == 1 and rows[0].startswith("WALKER, Jade WS-12 17 May 1990")
    assert f"bed {here.bed.label}" in rows[0] and f'href="/admissions/{here.id}"' in html
    [event] = [e for e in audit_events("view") if e.object_type == "patient_search"]
    import json
    assert json.loads(event.detail) == {"patients": [here.patient_id], "query": query}


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_search_and_discharged_list_are_for_clinical_staff(client, auth, make_unit, role):
    unit = make_unit()
    auth.login_as(role)
    assert client.get("/patients", query_string={"q": "x"}).status_code == 403
    assert client.get(f"/units/{unit.id}/discharged").status_code == 403


def test_discharged_list_shows_each_discharge_with_dates(client, auth, make_unit, make_admission,
                                                         make_user, audit_events):
    from datetime import timedelta

    from clinic.admissions import services
    from clinic.db import utc_now
    unit = make_unit(name="Larch Ward")
    charge = make_user("charge_nurse")
    gone = make_admission(unit=unit, family_name="Walker", given_name="Jade", hours_ago=50)
    services.discharge(by=charge, admission=gone, discharged_at=utc_now() - timedelta(hours=2),
                       disposition="home", note=None)
    make_admission(unit=unit, family_name="Still", given_name="Here")
    db.session.commit()
    auth.login_as("nurse")

    html = client.get(f"/units/{unit.id}/discharged").get_data(as_text=True)

    rows = table_rows(html)
    assert len(rows) == 1
    assert rows[0].startswith("WALKER, Jade")
    assert "Home" in rows[0] and rows[0].count(" 20") >= 2  # admitted and discharged dates
    assert any(e.object_type == "discharged_list" for e in audit_events("view"))


# -- 6. the demo's history follows the live rules ------------------------------------------------

def test_demo_history_escalates_when_its_entries_were_recorded(runner):
    from clinic.models import Assessment, Escalation, NursingNote, VitalSigns

    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    automatic = db.session.scalars(select(Escalation).where(Escalation.automatic.is_(True))).all()
    assert automatic, "the demo's struggling patients raise escalations"
    for escalation in automatic:
        model = {"vitals": VitalSigns, "assessment": Assessment}[escalation.source_kind]
        source = db.session.get(model, escalation.source_id)
        # Raised when the set or score that called for it was recorded, as live charting does.
        assert escalation.raised_at == source.recorded_at, escalation.reason
    for note in db.session.scalars(select(NursingNote)):
        if "observation" in note.text:
            assert note.admission.observation_level != "general", note.text


def test_the_saved_marker_replaces_an_earlier_one():
    from clinic.models import VitalSigns
    from clinic.saved import mark
    entry = VitalSigns()
    entry.id = 7
    assert mark("/units/1/due?saved=assessment-3&mine=1", entry) == "/units/1/due?mine=1&saved=vitals-7"
