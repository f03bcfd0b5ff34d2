"""Assignment sheet: charge nurses give beds a nurse per shift; others may only look."""

from __future__ import annotations

import json
from datetime import timedelta
from html import escape

import pytest
from sqlalchemy import func, select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Assignment
from clinic.monitoring.services import assignments_for


@pytest.fixture
def unit(make_unit):
    return make_unit(beds=4)


@pytest.fixture
def nurses(make_user):
    return (make_user("nurse", display_name="Nora Nightingale"),
            make_user("nurse", display_name="Ned Barton"))


@pytest.fixture
def charge(auth):
    return auth.login_as("charge_nurse", display_name="Cara Charge")


def url(unit, shift=None) -> str:
    return f"/units/{unit.id}/assignments" + (f"?shift={shift}" if shift else "")


def bed(unit, label: str):
    return next(b for b in unit.beds if b.label == label)


def row_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Assignment))


def test_charge_nurse_assigns_two_beds(client, unit, nurses, charge, make_admission, audit_events):
    admission = make_admission(unit=unit, bed=bed(unit, "1"), given_name="Robin")
    nora, ned = nurses
    response = client.post(url(unit), data={
        f"bed_{bed(unit, '1').id}": str(nora.id),
        f"bed_{bed(unit, '2').id}": str(ned.id),
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(unit, "current"))

    shift = unit.shift_for(utc_now())
    rows = db.session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(r.bed.label, r.nurse_id) for r in rows] == [("1", nora.id), ("2", ned.id)]
    assert all(r.shift_starts_at == shift.starts_at and r.assigned_by_id == charge.id for r in rows)
    in_force = assignments_for(unit, shift)
    assert {b: a.nurse_id for b, a in in_force.items()} == {bed(unit, "1").id: nora.id,
                                                            bed(unit, "2").id: ned.id}

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"Assignments for the {shift.name} shift saved for "
            f"{escape(admission.patient.display_name)}, 2 beds changed.") in page
    assert admission.patient.display_name in page
    assert "Cara Charge" in page  # who assigned
    assert "Nora Nightingale</strong>: 1 bed (1)" in page

    [event] = [e for e in audit_events("update") if e.object_type == "assignment"]
    detail = json.loads(event.detail)
    assert detail["before"] == {"bed 1": None, "bed 2": None}
    assert detail["after"] == {"bed 1": "Nora Nightingale", "bed 2": "Ned Barton"}
    assert detail["shift_starts_at"] == shift.starts_at.isoformat()
    assert event.user_id == charge.id


def test_changing_one_bed_writes_one_row(client, unit, nurses, charge, audit_events):
    nora, ned = nurses
    b1, b2 = bed(unit, "1").id, bed(unit, "2").id
    client.post(url(unit), data={f"bed_{b1}": str(nora.id), f"bed_{b2}": str(ned.id)})
    assert row_count() == 2
    # The whole sheet comes back as the browser sends it, with only bed 2 changed.
    page = client.get(url(unit)).get_data(as_text=True)
    assert f'name="seen_{b1}" type="hidden" value="{nora.id}"' in page
    data = {f"bed_{b.id}": "" for b in unit.beds} | {f"seen_{b.id}": "" for b in unit.beds}
    data |= {f"bed_{b1}": str(nora.id), f"seen_{b1}": str(nora.id),
             f"bed_{b2}": "", f"seen_{b2}": str(ned.id)}
    response = client.post(url(unit), data=data, follow_redirects=True)
    assert ", 1 bed changed." in response.get_data(as_text=True)
    assert row_count() == 3
    newest = db.session.scalars(select(Assignment).order_by(Assignment.id.desc())).first()
    assert newest.bed_id == b2 and newest.nurse_id is None
    assert b2 not in assignments_for(unit, unit.shift_for(utc_now()))
    detail = json.loads(audit_events("update")[-1].detail)
    assert detail["before"] == {"bed 2": "Ned Barton"} and detail["after"] == {"bed 2": None}

    again = client.post(url(unit), data=data, follow_redirects=True)
    assert "Nothing changed." in again.get_data(as_text=True)
    assert row_count() == 3


def test_next_shift_is_assigned_separately(client, unit, nurses, charge):
    nora, _ = nurses
    now = utc_now()
    current = unit.shift_for(now)
    following = unit.shift_for(current.ends_at)
    page = client.get(url(unit, "next")).get_data(as_text=True)
    assert following.starts_at.isoformat() in page  # the sheet remembers which shift it is for
    response = client.post(url(unit, "next"), data={f"bed_{bed(unit, '3').id}": str(nora.id)})
    assert response.headers["Location"].endswith(url(unit, "next"))
    row = db.session.scalars(select(Assignment)).one()
    assert row.shift_starts_at == following.starts_at == current.ends_at
    assert assignments_for(unit, current) == {}
    assert assignments_for(unit, following)[bed(unit, "3").id].nurse_id == nora.id


def test_sheet_saves_to_the_shift_it_was_opened_for(client, unit, nurses, charge):
    nora, _ = nurses
    current = unit.shift_for(utc_now())
    following = unit.shift_for(current.ends_at)
    # Opened as "next"; if the shift changes before saving it is still that shift that is saved.
    client.post(url(unit, "current"), data={"shift_start": following.starts_at.isoformat(),
                                            f"bed_{bed(unit, '1').id}": str(nora.id)})
    assert db.session.scalars(select(Assignment)).one().shift_starts_at == following.starts_at

    ended = unit.shift_for(current.starts_at - timedelta(minutes=1))
    response = client.post(url(unit), data={"shift_start": ended.starts_at.isoformat(),
                                            f"bed_{bed(unit, '2').id}": str(nora.id)},
                           follow_redirects=True)
    assert "already ended; nothing was saved" in response.get_data(as_text=True)
    assert row_count() == 1


def test_nurse_may_view_but_not_assign(client, auth, unit, nurses, make_user):
    nora, _ = nurses
    auth.login_as("nurse")
    page = client.get(url(unit))
    assert page.status_code == 200
    assert "<select" not in page.get_data(as_text=True)
    assert "Save assignments" not in page.get_data(as_text=True)
    response = client.post(url(unit), data={f"bed_{bed(unit, '1').id}": str(nora.id)})
    assert response.status_code == 403
    assert row_count() == 0


@pytest.mark.parametrize("role, status", [("physician", 200), ("admin", 403), ("auditor", 403)])
def test_who_may_see_the_sheet(client, auth, unit, role, status):
    auth.login_as(role)
    assert client.get(url(unit)).status_code == status


def test_only_active_nurses_can_be_assigned(client, unit, charge, make_user):
    physician = make_user("physician")
    gone = make_user("nurse", active=False)
    for candidate in (physician, gone):
        response = client.post(url(unit), data={f"bed_{bed(unit, '1').id}": str(candidate.id)})
        assert response.status_code == 422
        assert "Choose a nurse from the list" in response.get_data(as_text=True)
    assert row_count() == 0


def test_a_bed_changed_meanwhile_by_someone_else_is_not_overwritten(client, unit, nurses, charge):
    nora, ned = nurses
    b1 = bed(unit, "1").id
    # Another charge nurse gave bed 1 to Ned after this sheet was opened showing it unassigned.
    client.post(url(unit), data={f"bed_{b1}": str(ned.id)})
    response = client.post(url(unit), data={f"bed_{b1}": str(nora.id), f"seen_{b1}": ""},
                           follow_redirects=True)
    assert "Bed 1 was changed by someone else" in response.get_data(as_text=True)
    assert assignments_for(unit, unit.shift_for(utc_now()))[b1].nurse_id == ned.id
    # Left as shown, the other nurse's change stands and nothing is written.
    client.post(url(unit), data={f"bed_{b1}": "", f"seen_{b1}": ""})
    assert row_count() == 1


def test_viewing_the_sheet_is_audited(client, unit, charge, make_admission, audit_events):
    admission = make_admission(unit=unit)
    client.get(url(unit))
    event = [e for e in audit_events("view") if e.object_type == "assignments"][-1]
    assert json.loads(event.detail)["patients"] == [admission.patient_id]


def test_unknown_unit_is_404(client, charge):
    assert client.get("/units/9999/assignments").status_code == 404


def test_assigning_only_empty_beds_says_which_beds_were_saved(client, unit, nurses, charge):
    nora, ned = nurses
    response = client.post(url(unit), data={f"bed_{bed(unit, '2').id}": str(nora.id),
                                            f"bed_{bed(unit, '3').id}": str(ned.id)},
                           follow_redirects=True)
    shift = unit.shift_for(utc_now())
    assert (f"Assignments for the {shift.name} shift saved for empty beds 2, 3, 2 beds changed."
            in response.get_data(as_text=True))
