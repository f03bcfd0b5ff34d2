"""Login with per-name lockout, revocable server-side sessions with idle and absolute limits, logout."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select

import config
from clinic.auth.passwords import hash_password
from clinic.auth.services import end_sessions_of
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import LoginThrottle, User, UserSession
from tests.conftest import PASSWORD

NOT_RECOGNISED = "User name or password not recognised."
LOCKED = "Too many failed attempts"


# --- helpers -------------------------------------------------------------------------------------

def page_text(response) -> str:
    return response.get_data(as_text=True)


def path_of(location: str) -> str:
    return urlsplit(location).path


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def sessions_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()


def only_session(user: User) -> UserSession:
    rows = sessions_of(user)
    assert len(rows) == 1
    return rows[0]


def throttle_of(name: str) -> LoginThrottle | None:
    db.session.expire_all()
    return db.session.get(LoginThrottle, name)


def fail_logins(auth, username: str, times: int) -> list:
    return [auth.login(username, "wrong-password-123") for _ in range(times)]


def url(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def is_logged_in(client) -> bool:
    """Return whether the client's cookie still opens a page (the start page)."""
    response = client.get("/")
    return not path_of(response.headers.get("Location", "")).startswith("/login")


def count_sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession))


# --- logging in ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "role, start_endpoint",
    [
        ("nurse", "board.index"),
        ("charge_nurse", "board.index"),
        ("physician", "board.index"),
        ("admin", "admin.users"),
        ("auditor", "audit_report.search"),
    ],
)
def test_login_goes_to_the_role_start_page(app, client, auth, make_user, make_unit, audit_events,
                                           role, start_endpoint):
    make_unit()
    user = make_user(role)

    response = auth.login(user.username)

    assert response.status_code == 302
    assert path_of(response.location) == "/"
    home = client.get("/")
    assert home.status_code == 302
    assert path_of(home.location) == url(app, start_endpoint)
    session_row = only_session(user)
    assert session_row.ended_at is None
    assert session_row.token
    logins = audit_events("login")
    assert len(logins) == 1
    assert logins[0].user_id == user.id
    assert logins[0].object_id == str(session_row.id)
    assert audit_events("login_failed") == []


def test_login_reaches_the_board(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("nurse")

    response = client.get("/", follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == f"/units/{unit.id}/board"


def test_user_name_is_not_case_sensitive(auth, make_user):
    user = make_user("nurse", username="jo.bloggs")

    response = auth.login("  Jo.Bloggs ")

    assert response.status_code == 302
    assert only_session(user).ended_at is None


def test_wrong_password_is_refused(client, auth, make_user, audit_events):
    user = make_user("nurse")

    response = auth.login(user.username, "not-the-password")

    assert response.status_code == 200
    assert NOT_RECOGNISED in page_text(response)
    assert sessions_of(user) == []
    assert not is_logged_in(client)
    failed = audit_events("login_failed")
    assert len(failed) == 1
    assert failed[0].username == user.username
    assert failed[0].user_id == user.id
    assert audit_events("login") == []


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(auth, make_user, audit_events):
    user = make_user("nurse", username="known.nurse")

    wrong_password = auth.login("known.nurse", "not-the-password")
    unknown_user = auth.login("ghost.nurse", "not-the-password")

    assert unknown_user.status_code == wrong_password.status_code == 200
    # The page repeats the typed name; apart from that the two answers must be identical.
    assert page_text(unknown_user).replace("ghost.nurse", "NAME") == page_text(
        wrong_password
    ).replace("known.nurse", "NAME")
    assert NOT_RECOGNISED in page_text(unknown_user)
    assert [e.username for e in audit_events("login_failed")] == ["known.nurse", "ghost.nurse"]
    assert sessions_of(user) == []


def test_deactivated_user_cannot_log_in(auth, make_user, audit_events):
    user = make_user("nurse", active=False)

    response = auth.login(user.username)

    assert response.status_code == 200
    assert NOT_RECOGNISED in page_text(response)
    assert sessions_of(user) == []
    assert len(audit_events("login_failed")) == 1


def test_deactivating_a_user_ends_their_session(client, auth, make_unit):
    make_unit()
    user = auth.login_as("nurse")
    user.active = False
    db.session.commit()

    response = client.get("/board")

    assert response.status_code == 302
    assert path_of(response.location) == "/login"
    assert "This account has been deactivated." in page_text(client.get(response.location))
    assert only_session(user).ended_reason == "account deactivated"


@pytest.mark.parametrize(
    "reason, message",
    [
        ("ended by administrator", "Your session was ended by an administrator."),
        ("account deactivated", "This account has been deactivated."),
    ],
)
def test_session_ended_by_an_administrator_says_why(client, auth, make_user, make_unit,
                                                    reason, message):
    unit = make_unit()
    user = auth.login_as("nurse")
    admin = make_user("admin")
    assert end_sessions_of(user, reason, by=admin) == 1
    db.session.commit()

    response = client.get(f"/units/{unit.id}/board")

    assert response.status_code == 302
    assert path_of(response.location) == "/login"
    assert query_of(response.location)["next"] == [f"/units/{unit.id}/board"]
    assert message in page_text(client.get(response.location))


# --- lockout -------------------------------------------------------------------------------------

def lock_message(response) -> str:
    """Return the lockout message with its time replaced, so two messages can be compared."""
    found = re.search(rf"{LOCKED}[^<]*", page_text(response))
    assert found, page_text(response)
    return re.sub(r"\d\d \w{3} \d{4} \d\d:\d\d \w+", "TIME", found.group(0))


def test_four_failures_do_not_lock(auth, make_user):
    user = make_user("nurse")
    responses = fail_logins(auth, user.username, 4)

    assert all(NOT_RECOGNISED in page_text(r) for r in responses)
    assert auth.login(user.username).status_code == 302
    # A success forgets the earlier failures.
    assert throttle_of(user.username) is None


@pytest.mark.parametrize("exists", [True, False], ids=["known user", "unknown user"])
def test_five_failures_lock_the_name_for_fifteen_minutes(auth, make_user, audit_events, exists):
    name = make_user("nurse").username if exists else "nobody.here"
    before = utc_now()

    responses = fail_logins(auth, name, 5)

    assert all(NOT_RECOGNISED in page_text(r) for r in responses[:4])
    assert LOCKED in page_text(responses[4])
    locked_until = throttle_of(name).locked_until
    assert before + timedelta(minutes=15) <= locked_until <= utc_now() + timedelta(minutes=15)
    failed = audit_events("login_failed")
    assert len(failed) == 5
    assert '"locked":true' in failed[-1].detail


def test_lock_message_does_not_reveal_whether_the_user_exists(auth, make_user):
    known = make_user("nurse").username

    known_answer = fail_logins(auth, known, 5)[-1]
    unknown_answer = fail_logins(auth, "nobody.here", 5)[-1]

    assert known_answer.status_code == unknown_answer.status_code == 200
    assert lock_message(known_answer) == lock_message(unknown_answer)


def test_right_password_is_refused_while_locked(client, auth, make_user, audit_events):
    user = make_user("nurse")
    fail_logins(auth, user.username, 5)

    response = auth.login(user.username)

    assert response.status_code == 200
    assert LOCKED in page_text(response)
    assert sessions_of(user) == []
    assert not is_logged_in(client)
    assert '"reason":"locked"' in audit_events("login_failed")[-1].detail


def test_lock_cannot_be_dodged_by_changing_case(auth, make_user):
    user = make_user("nurse", username="sam.lock")
    fail_logins(auth, "sam.lock", 5)

    response = auth.login("SAM.LOCK")

    assert LOCKED in page_text(response)
    assert sessions_of(user) == []


def test_login_works_again_once_the_lock_has_passed(auth, make_user):
    user = make_user("nurse")
    fail_logins(auth, user.username, 5)
    throttle = throttle_of(user.username)
    throttle.locked_until = utc_now() - timedelta(seconds=1)
    db.session.commit()

    response = auth.login(user.username)

    assert response.status_code == 302
    assert only_session(user).ended_at is None
    assert throttle_of(user.username) is None


def test_failures_after_a_lock_count_afresh(auth, make_user):
    user = make_user("nurse")
    fail_logins(auth, user.username, 5)
    throttle = throttle_of(user.username)
    throttle.locked_until = utc_now() - timedelta(seconds=1)
    db.session.commit()

    assert NOT_RECOGNISED in page_text(fail_logins(auth, user.username, 1)[0])
    assert auth.login(user.username).status_code == 302


@pytest.mark.parametrize("config_overrides", [{"LOGIN_MAX_FAILURES": 3}])
def test_failure_limit_comes_from_the_config(auth, make_user):
    locked = make_user("nurse")
    not_locked = make_user("nurse")

    responses = fail_logins(auth, locked.username, 3)
    fail_logins(auth, not_locked.username, 2)

    assert LOCKED in page_text(responses[-1])
    assert LOCKED in page_text(auth.login(locked.username))
    assert auth.login(not_locked.username).status_code == 302


@pytest.mark.parametrize("config_overrides", [{"LOGIN_LOCKOUT": timedelta(minutes=40)}])
def test_lock_length_comes_from_the_config(auth):
    before = utc_now()
    fail_logins(auth, "nobody.here", 5)

    locked_until = throttle_of("nobody.here").locked_until

    assert before + timedelta(minutes=40) <= locked_until <= utc_now() + timedelta(minutes=40)


# --- logging out ---------------------------------------------------------------------------------

def test_logout_ends_the_server_side_session(client, auth, audit_events):
    user = auth.login_as("nurse")

    response = auth.logout()

    assert response.status_code == 302
    assert path_of(response.location) == "/login"
    assert "You have logged out." in page_text(client.get(response.location))
    session_row = only_session(user)
    assert session_row.ended_at is not None
    assert session_row.ended_reason == "logout"
    logouts = audit_events("logout")
    assert len(logouts) == 1
    assert logouts[0].user_id == user.id
    assert logouts[0].object_id == str(session_row.id)
    assert not is_logged_in(client)


def test_a_replayed_cookie_does_not_work_after_logout(app, client, auth, make_unit):
    make_unit()
    auth.login_as("nurse")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    replay = app.test_client()
    replay.set_cookie(cookie.key, cookie.value)
    # The copy works while the session is alive, so the check below is not vacuous.
    assert is_logged_in(replay)

    auth.logout()

    response = replay.get("/board")
    assert response.status_code == 302
    assert path_of(response.location) == "/login"


def test_get_logout_is_not_allowed(client, auth):
    user = auth.login_as("nurse")

    response = client.get("/logout")

    assert response.status_code == 405
    assert only_session(user).ended_at is None
    assert is_logged_in(client)


# --- session limits ------------------------------------------------------------------------------

def test_idle_session_ends_and_login_returns_to_the_page(client, auth, make_unit, audit_events):
    unit = make_unit()
    user = auth.login_as("nurse")
    board = f"/units/{unit.id}/board"
    assert client.get(board).status_code == 200
    session_row = only_session(user)
    session_row.last_seen_at = utc_now() - timedelta(minutes=16)
    db.session.commit()

    response = client.get(board)

    assert response.status_code == 302
    assert path_of(response.location) == "/login"
    assert query_of(response.location)["next"] == [board]
    login_page = client.get(response.location)
    assert "Your session ended after a period without activity." in page_text(login_page)
    session_row = only_session(user)
    assert session_row.ended_at is not None
    assert session_row.ended_reason == "idle"
    assert '"reason":"idle"' in audit_events("session_ended")[-1].detail

    again = client.post(response.location, data={"username": user.username, "password": PASSWORD})
    assert again.status_code == 302
    assert again.location == board
    assert client.get(board).status_code == 200


def test_session_within_the_idle_limit_stays(client, auth, make_unit):
    unit = make_unit()
    user = auth.login_as("nurse")
    session_row = only_session(user)
    session_row.last_seen_at = utc_now() - timedelta(minutes=14)
    db.session.commit()

    assert client.get(f"/units/{unit.id}/board").status_code == 200
    assert only_session(user).ended_at is None


@pytest.mark.parametrize("config_overrides", [{"SESSION_IDLE_LIMIT": timedelta(minutes=5)}])
def test_idle_limit_comes_from_the_config(client, auth, make_unit):
    unit = make_unit()
    user = auth.login_as("nurse")
    session_row = only_session(user)
    session_row.last_seen_at = utc_now() - timedelta(minutes=6)
    db.session.commit()

    response = client.get(f"/units/{unit.id}/board")

    assert path_of(response.location) == "/login"
    assert only_session(user).ended_reason == "idle"


def test_session_ends_at_the_absolute_limit(client, auth, make_unit):
    unit = make_unit()
    user = auth.login_as("nurse")
    board = f"/units/{unit.id}/board"
    session_row = only_session(user)
    # Active a moment ago, but logged in 13 hours ago.
    session_row.created_at = utc_now() - timedelta(hours=13)
    db.session.commit()

    response = client.get(board)

    assert response.status_code == 302
    assert path_of(response.location) == "/login"
    assert query_of(response.location)["next"] == [board]
    assert "Your session reached its maximum length." in page_text(client.get(response.location))
    assert only_session(user).ended_reason == "expired"
    again = client.post(response.location, data={"username": user.username, "password": PASSWORD})
    assert again.location == board


def test_next_keeps_the_query_string(client, auth, make_unit):
    unit = make_unit()
    user = auth.login_as("nurse")
    session_row = only_session(user)
    session_row.last_seen_at = utc_now() - timedelta(minutes=16)
    db.session.commit()

    response = client.get(f"/board?unit={unit.id}")

    assert query_of(response.location)["next"] == [f"/board?unit={unit.id}"]


def test_last_seen_is_written_at_most_once_a_minute(client, auth, make_unit):
    unit = make_unit()
    user = auth.login_as("nurse")
    board = f"/units/{unit.id}/board"
    first_seen = only_session(user).last_seen_at

    client.get(board)
    client.get(board)

    assert only_session(user).last_seen_at == first_seen

    session_row = only_session(user)
    session_row.last_seen_at = utc_now() - timedelta(minutes=1, seconds=1)
    db.session.commit()
    before = utc_now()
    client.get(board)

    assert only_session(user).last_seen_at >= before


def test_no_remember_me_cookie_is_ever_set(app, client, make_user):
    user = make_user("nurse")

    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "remember": "y"}
    )

    set_cookies = response.headers.getlist("Set-Cookie")
    assert set_cookies, "login sets the session cookie"
    assert not any("remember" in header.lower() for header in set_cookies)
    assert client.get_cookie("remember_token") is None
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(0)


# --- where login leads ---------------------------------------------------------------------------

def host_a_browser_would_visit(location: str) -> str:
    """Resolve a Location header as a browser does: tabs and newlines dropped, "\\" read as "/"."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/login", cleaned)).netloc


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "http://evil.example/board",
        "https:evil.example",
        "/\\evil.example/x",
        "\\\\evil.example",
        "/\t/evil.example/x",
        "https://localhost@evil.example/",
        "javascript:alert(1)",
        "///evil.example/x",
    ],
)
def test_next_cannot_lead_off_site(client, make_user, target):
    user = make_user("nurse")

    response = client.post(
        "/login", query_string={"next": target},
        data={"username": user.username, "password": PASSWORD},
    )

    assert response.status_code == 302
    assert host_a_browser_would_visit(response.headers["Location"]) == "localhost"


def test_next_on_this_site_is_followed(client, make_user, make_unit):
    unit = make_unit()
    user = make_user("nurse")

    response = client.post(
        "/login", query_string={"next": f"/units/{unit.id}/board"},
        data={"username": user.username, "password": PASSWORD},
    )

    assert response.location == f"/units/{unit.id}/board"


# --- password hashing ----------------------------------------------------------------------------

def test_passwords_are_stored_as_argon2id(make_user):
    user = make_user("nurse")

    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def argon2_parameters(password_hash: str) -> dict[str, int]:
    found = re.match(r"\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$", password_hash)
    assert found, password_hash
    memory, time_cost, parallelism = map(int, found.groups())
    return {"m": memory, "t": time_cost, "p": parallelism}


def test_production_hashing_meets_the_owasp_minimum(app, monkeypatch):
    production = config.ProductionConfig
    assert production.ARGON2_MEMORY_COST >= 19456
    assert production.ARGON2_TIME_COST >= 2
    assert production.ARGON2_PARALLELISM >= 1
    for name in ("ARGON2_MEMORY_COST", "ARGON2_TIME_COST", "ARGON2_PARALLELISM"):
        monkeypatch.setitem(app.config, name, getattr(production, name))

    stored = argon2_parameters(hash_password(PASSWORD))

    assert stored["m"] >= 19456
    assert stored["t"] >= 2
    assert stored["p"] >= 1


def test_a_password_hashed_with_other_parameters_still_verifies(app, auth, make_user, monkeypatch):
    user = make_user("nurse")
    monkeypatch.setitem(app.config, "ARGON2_MEMORY_COST", 2048)
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    monkeypatch.setitem(app.config, "ARGON2_MEMORY_COST", 1024)

    assert auth.login(user.username).status_code == 302
    assert count_sessions() == 1


def test_a_background_board_refresh_does_not_keep_the_session_alive(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("nurse")
    session_row = db.session.scalars(select(UserSession)).one()
    stale = utc_now() - timedelta(minutes=10)
    session_row.last_seen_at = stale
    db.session.commit()

    refreshed = client.get(f"/units/{unit.id}/board", headers={"X-Requested-With": "fetch"})
    assert refreshed.status_code == 200
    db.session.refresh(session_row)
    assert session_row.last_seen_at == stale

    client.get(f"/units/{unit.id}/board")
    db.session.refresh(session_row)
    assert session_row.last_seen_at > stale
