"""Administration: accounts, roles, sessions, units and beds (administrators only)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.admin import services
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Bed, LoginThrottle, Unit, User, UserSession
from tests.conftest import PASSWORD, AuthActions

NEW_PASSWORD = "a-brand-new-secret"


@pytest.fixture
def admin(auth):
    return auth.login_as("admin", display_name="Ada Admin")


@pytest.fixture
def other_client(app, make_user):
    """A second browser, for the user whose account or session an administrator changes."""
    client = app.test_client()
    return client, AuthActions(client, make_user)


def _detail(event) -> dict:
    return json.loads(event.detail)


def _logged_in(client) -> bool:
    """Return whether a client's next request is served rather than sent to the login page."""
    response = client.get("/board")
    assert response.status_code == 302
    return not response.headers["Location"].startswith("/login")


def _user_form(**overrides) -> dict:
    data = {
        "username": "  New.Nurse ",
        "display_name": "Nina Newcomer",
        "role": "nurse",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def _unit_form(**overrides) -> dict:
    data = {
        "name": "Ward 7",
        "timezone": "Europe/London",
        "shift_pattern": "Night 19:00,Day 07:00",
        "late_entry_minutes": "60",
    }
    data.update(overrides)
    return data


# --- Users -------------------------------------------------------------------------------


def test_create_user_who_can_then_log_in(app, client, admin, other_client, audit_events):
    response = client.post("/admin/users/new", data=_user_form())
    user = db.session.scalar(select(User).where(User.username == "new.nurse"))
    assert user is not None and user.role == "nurse" and user.active
    assert user.display_name == "Nina Newcomer"
    assert user.password_hash != NEW_PASSWORD
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{user.id}")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Created nurse account “new.nurse”." in page
    created = audit_events("create")[-1]
    assert (created.object_type, created.object_id) == ("user", str(user.id))
    assert created.user_id == admin.id
    assert _detail(created)["after"]["role"] == "nurse"
    assert NEW_PASSWORD not in created.detail

    _, new_auth = other_client
    assert new_auth.login("NEW.NURSE", NEW_PASSWORD).status_code == 302


def test_duplicate_username_refused_keeping_the_form(client, admin, make_user):
    make_user("nurse", username="sam.taken")
    response = client.post("/admin/users/new", data=_user_form(username="Sam.Taken"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The user name “sam.taken” is already taken." in page
    assert 'value="Nina Newcomer"' in page
    assert db.session.scalar(select(User).where(User.display_name == "Nina Newcomer")) is None


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "Use 12 to 256 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords are not the same."),
    ],
)
def test_bad_initial_password_refused_keeping_other_values(client, admin, password, confirm,
                                                           message):
    response = client.post(
        "/admin/users/new", data=_user_form(password=password, confirm=confirm, role="physician")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="  New.Nurse "' in page or 'value="New.Nurse"' in page
    assert 'value="Nina Newcomer"' in page
    assert '<option selected value="physician">' in page
    assert password not in page.split("<main", 1)[1].replace(message, "")
    assert db.session.scalar(select(User).where(User.username == "new.nurse")) is None


def test_user_list_shows_roles_status_and_live_sessions(client, admin, make_user, other_client):
    make_user("auditor", username="gone.auditor", active=False)
    nurse = make_user("nurse", username="busy.nurse")
    other_client[1].login(nurse.username)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "gone.auditor" in page and "Deactivated" in page
    row = page.split("busy.nurse", 1)[1].split("</tr>", 1)[0]
    assert "Nurse" in row and "Active" in row and '<td class="num">1</td>' in row


def test_role_change_is_a_privilege_change_with_before_and_after(client, admin, make_user,
                                                                 audit_events):
    nurse = make_user("nurse", display_name="Pat Nurse")
    response = client.post(
        f"/admin/users/{nurse.id}/edit", data={"display_name": "Pat Charge", "role": "charge_nurse"}
    )
    assert response.status_code == 302
    db.session.refresh(nurse)
    assert (nurse.role, nurse.display_name) == ("charge_nurse", "Pat Charge")
    change = audit_events("privilege_change")[-1]
    assert (change.object_type, change.object_id) == ("user", str(nurse.id))
    assert change.user_id == admin.id
    assert _detail(change) == {"before": {"role": "nurse"}, "after": {"role": "charge_nurse"}}
    rename = audit_events("update")[-1]
    assert _detail(rename) == {"before": {"display_name": "Pat Nurse"},
                               "after": {"display_name": "Pat Charge"}}


def test_deactivate_ends_sessions_and_blocks_login(client, admin, make_user, make_unit,
                                                   other_client, audit_events):
    make_unit()
    nurse_client, nurse_auth = other_client
    nurse = make_user("nurse")
    assert nurse_auth.login(nurse.username).status_code == 302
    assert _logged_in(nurse_client)

    response = client.post(f"/admin/users/{nurse.id}/deactivate")
    assert response.status_code == 302
    assert "1 session was ended" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(nurse)
    assert not nurse.active
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == nurse.id)).all()
    assert [s.ended_reason for s in sessions] == ["account deactivated"]
    assert _detail(audit_events("privilege_change")[-1])["after"] == {"active": False}

    assert not _logged_in(nurse_client)
    assert nurse_auth.login(nurse.username).status_code == 200

    assert client.post(f"/admin/users/{nurse.id}/reactivate").status_code == 302
    db.session.refresh(nurse)
    assert nurse.active
    assert nurse_auth.login(nurse.username).status_code == 302


def test_reset_password_ends_sessions_and_unlocks_a_locked_name(client, admin, make_user,
                                                               make_unit, other_client,
                                                               audit_events):
    make_unit()
    nurse_client, nurse_auth = other_client
    nurse = make_user("nurse")
    nurse_auth.login(nurse.username)
    assert _logged_in(nurse_client)
    db.session.add(LoginThrottle(username=nurse.username, failed_count=0,
                                 locked_until=utc_now() + timedelta(minutes=15)))
    db.session.commit()

    mismatch = client.post(f"/admin/users/{nurse.id}/password",
                           data={"password": NEW_PASSWORD, "confirm": "something-else"})
    assert mismatch.status_code == 422
    assert db.session.get(LoginThrottle, nurse.username) is not None

    response = client.post(f"/admin/users/{nurse.id}/password",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginThrottle, nurse.username) is None
    assert not _logged_in(nurse_client)
    assert _detail(audit_events("update")[-1]) == {
        "change": "password reset", "sessions_ended": 1, "unlocked": True,
    }
    assert nurse_auth.login(nurse.username, PASSWORD).status_code == 200
    assert nurse_auth.login(nurse.username, NEW_PASSWORD).status_code == 302


def test_resetting_your_own_password_keeps_this_session(client, admin, other_client):
    _, own_other_auth = other_client
    own_other_auth.login(admin.username)  # the same administrator on another workstation
    response = client.post(f"/admin/users/{admin.id}/password",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert "1 session was ended" in client.get(response.headers["Location"]).get_data(as_text=True)
    live = db.session.scalars(
        select(UserSession).where(UserSession.user_id == admin.id, UserSession.ended_at.is_(None))
    ).all()
    assert len(live) == 1


def test_end_session_button_ends_only_that_session(client, admin, make_user, make_unit,
                                                   other_client, audit_events):
    make_unit()
    nurse_client, nurse_auth = other_client
    nurse = make_user("nurse")
    nurse_auth.login(nurse.username)
    assert _logged_in(nurse_client)
    page = client.get(f"/admin/users/{nurse.id}").get_data(as_text=True)
    session_row = db.session.scalar(select(UserSession).where(UserSession.user_id == nurse.id))
    assert f"/admin/users/{nurse.id}/sessions/{session_row.id}/end" in page
    assert "End session" in page

    response = client.post(f"/admin/users/{nurse.id}/sessions/{session_row.id}/end")
    assert response.status_code == 302
    db.session.refresh(session_row)
    assert session_row.ended_reason == "ended by administrator"
    ended = audit_events("session_ended")[-1]
    assert (ended.user_id, ended.object_id) == (admin.id, str(session_row.id))
    assert not _logged_in(nurse_client)
    assert client.get("/admin/users").status_code == 200  # the administrator's own session lives
    assert client.post(f"/admin/users/{admin.id}/sessions/{session_row.id}/end").status_code == 404


def test_administrator_cannot_deactivate_or_demote_themselves(client, admin, make_user):
    make_user("admin")  # another administrator exists, so only the self rule applies
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{admin.id}/edit",
                           data={"display_name": "Ada Admin", "role": "auditor"})
    assert response.status_code == 422
    assert "You cannot remove your own administrator role." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active and admin.role == "admin"


def test_last_active_administrator_cannot_be_demoted_or_deactivated(app, make_user):
    # Reachable when the acting administrator was deactivated a moment earlier by someone else.
    acting = make_user("admin", active=False)
    last = make_user("admin")
    with pytest.raises(services.AdminError, match="last active administrator"):
        services.change_role(by=acting, user=last, role="auditor")
    with pytest.raises(services.AdminError, match="last active administrator"):
        services.deactivate_user(by=acting, user=last)
    second = make_user("admin")
    assert services.change_role(by=acting, user=last, role="auditor")
    with pytest.raises(services.AdminError, match="last active administrator"):
        services.deactivate_user(by=acting, user=second)
    db.session.rollback()


def test_admin_pages_render_and_get_changes_nothing(client, admin, make_unit, make_admission,
                                                    audit_events):
    unit = make_unit()
    make_admission(unit=unit)
    before = len(audit_events())
    for url in ["/admin/users", "/admin/users/new", f"/admin/users/{admin.id}",
                f"/admin/users/{admin.id}/edit", f"/admin/users/{admin.id}/password",
                "/admin/units", "/admin/units/new", f"/admin/units/{unit.id}"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script>" not in response.get_data(as_text=True)
        assert " style=" not in response.get_data(as_text=True)
    assert len(audit_events()) == before


# --- Units and beds ----------------------------------------------------------------------


def test_create_unit_normalises_the_shift_pattern(client, admin, audit_events):
    response = client.post("/admin/units/new", data=_unit_form())
    unit = db.session.scalar(select(Unit).where(Unit.name == "Ward 7"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/units/{unit.id}")
    assert unit.shift_pattern == "Day 07:00, Night 19:00"
    assert (unit.timezone, unit.late_entry_minutes) == ("Europe/London", 60)
    assert _detail(audit_events("create")[-1])["after"]["name"] == "Ward 7"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "“Europe/Atlantis” is not a known time zone."),
        ({"timezone": "posixrules"}, "“posixrules” is not a known time zone."),
        ({"timezone": "localtime"}, "“localtime” is not a known time zone."),
        ({"shift_pattern": "Day 7am, Night 19:00"}, "Shift 1 (“Day 7am”) should be a name"),
        ({"shift_pattern": "Day 07:00, Late 07:00"}, "both start at 07:00"),
        ({"late_entry_minutes": "2"}, "Enter a number of minutes from 5 to 1440."),
    ],
)
def test_unit_with_bad_settings_refused_next_to_the_field(client, admin, overrides, message):
    response = client.post("/admin/units/new", data=_unit_form(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Ward 7"' in page
    assert db.session.scalar(select(Unit)) is None


def test_edit_unit_and_refuse_a_taken_name(client, admin, make_unit, audit_events):
    make_unit(name="North")
    unit = make_unit(name="South")
    response = client.post(f"/admin/units/{unit.id}", data=_unit_form(
        name="South", timezone="America/New_York", late_entry_minutes="30"))
    assert response.status_code == 302
    db.session.refresh(unit)
    assert (unit.timezone, unit.late_entry_minutes) == ("America/New_York", 30)
    assert _detail(audit_events("update")[-1]) == {
        "before": {"timezone": "Europe/London", "late_entry_minutes": 60},
        "after": {"timezone": "America/New_York", "late_entry_minutes": 30},
    }
    response = client.post(f"/admin/units/{unit.id}", data=_unit_form(name="north"))
    assert response.status_code == 422
    assert "There is already a unit called “north”." in response.get_data(as_text=True)


def test_add_beds_and_refuse_a_duplicate_label(client, admin, make_unit, audit_events):
    unit = make_unit(beds=2)
    assert client.post(f"/admin/units/{unit.id}/beds", data={"label": " 10 "}).status_code == 302
    assert client.post(f"/admin/units/{unit.id}/beds", data={"label": "Side A"}).status_code == 302
    beds = {b.label: b for b in db.session.scalars(select(Bed).where(Bed.unit_id == unit.id))}
    assert beds["10"].sort_key == 10 and beds["10"].active
    assert beds["Side A"].sort_key == 0
    assert _detail(audit_events("create")[-1])["after"] == {"unit": unit.name, "label": "Side A"}

    response = client.post(f"/admin/units/{unit.id}/beds", data={"label": "side a"})
    assert response.status_code == 422
    assert f"{unit.name} already has a bed labelled “Side A”." in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Bed).where(Bed.unit_id == unit.id)).all()) == 4


def test_close_occupied_bed_refused_naming_the_patient(client, admin, make_unit, make_admission):
    unit = make_unit(beds=2)
    occupied, free = unit.beds
    make_admission(unit=unit, bed=occupied, family_name="Occupant", given_name="Olive",
                   mrn="OCC-1")
    page = client.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    assert "OCCUPANT, Olive" in page

    response = client.post(f"/admin/units/{unit.id}/beds/{occupied.id}/close")
    assert response.status_code == 422
    assert "Bed 1 is occupied by OCCUPANT, Olive (MRN OCC-1)" in response.get_data(as_text=True)
    db.session.refresh(occupied)
    assert occupied.active

    assert client.post(f"/admin/units/{unit.id}/beds/{free.id}/close").status_code == 302
    db.session.refresh(free)
    assert not free.active
    assert client.post(f"/admin/units/{unit.id}/beds/{free.id}/reopen").status_code == 302
    db.session.refresh(free)
    assert free.active


# --- Access ------------------------------------------------------------------------------


def _admin_routes(app):
    """Yield (method, url) for every admin route, with ids filled in as 1."""
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin."):
                continue
            url = url_for(rule.endpoint, **{arg: 1 for arg in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "physician", "auditor"])
def test_other_roles_are_refused_every_admin_route(app, client, auth, role, make_unit):
    make_unit(beds=1)
    auth.login_as(role)
    routes = list(_admin_routes(app))
    assert len(routes) >= 15
    for method, url in routes:
        response = client.open(url, method=method, data=_user_form())
        assert response.status_code == 403, (method, url)
    assert db.session.scalar(select(User).where(User.username == "new.nurse")) is None


def test_anonymous_is_sent_to_login_from_every_admin_route(app, client):
    for method, url in _admin_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)
