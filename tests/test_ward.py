"""The ward's rough edges (issue 12): what the pages say, read as a user reads them."""

from __future__ import annotations

import re
from html import unescape

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
