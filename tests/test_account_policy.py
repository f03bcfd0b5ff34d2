"""NIST SP 800-63B passwords, plain user names, HSTS, long secrets, refused requests audited."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

import config
from clinic import create_app
from clinic.auth.policy import common_passwords, password_problem, username_problem
from clinic.demo import DEMO_PASSWORD
from clinic.extensions import db
from clinic.models import User

GOOD_PASSWORD = "lantern-orchard-velvet"

REFUSED_PASSWORDS = [
    "aaaaaaaaaa",            # short
    "password12",            # short, and common
    " " * 10,                # short
    "aaaaaaaaaaaa",          # one character repeated
    " " * 12,                # one character repeated
    "abcabcabcabc",          # a short unit repeated
    "123456789012",          # a sequence
    "qwerty123456",          # on the breached list
    "QWERTY123456",          # on the list, whatever the case
    "1qaz2wsx3edc",          # on the list
]


@pytest.mark.parametrize("password", REFUSED_PASSWORDS)
def test_weak_passwords_are_refused(password):
    assert password_problem(password) is not None


@pytest.mark.parametrize("password", [
    GOOD_PASSWORD,
    "correct horse battery staple",
    "tout-va-très-bien-ici",
    "zzzzzzzzzzz1",          # no composition rules: odd-looking but not a listed pattern
])
def test_long_uncommon_passwords_are_accepted_without_composition_rules(password):
    assert password_problem(password) is None


def test_passwords_over_256_characters_are_refused():
    assert "at most 256" in password_problem("ab1-" * 65)


def test_password_holding_the_user_name_is_refused():
    assert "user name" in password_problem("nina.okafor-2026!", username="nina.okafor")


def test_blocklist_is_large_and_shipped_with_the_package():
    listed = common_passwords()
    assert len(listed) >= 10_000
    assert {"123456", "password", "qwerty123456"} <= listed


def test_demo_password_passes_the_policy():
    assert password_problem(DEMO_PASSWORD) is None


@pytest.mark.parametrize("name", ["", "a", "a b", "<script>", "ni\u00f1a", "x" * 65, "nina\x00"])
def test_user_names_outside_the_plain_set_are_refused(name):
    assert username_problem(name) is not None


@pytest.mark.parametrize("name", ["nina.okafor", "dr_raman-2", "ab"])
def test_plain_user_names_are_accepted(name):
    assert username_problem(name) is None


# --- the admin form and create-user ------------------------------------------------------------


@pytest.fixture
def admin(auth):
    return auth.login_as("admin", display_name="Ada Admin")


def _new_user(**overrides) -> dict:
    data = {"username": "new.nurse", "display_name": "Nina Newcomer", "role": "nurse",
            "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    return data | overrides


def _user_named(name: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == name))


@pytest.mark.parametrize(("password", "message"), [
    ("aaaaaaaaaa", "Use 12 to 256 characters."),
    ("password12", "Use 12 to 256 characters."),
    (" " * 10, "Enter a password."),
    ("qwerty123456", "too easy to guess"),
    ("aaaaaaaaaaaa", "too easy to guess"),
    ("new.nurse-on-ward", "must not contain the user name"),
])
def test_admin_form_refuses_weak_passwords_next_to_the_field(client, admin, password, message):
    response = client.post("/admin/users/new", data=_new_user(password=password, confirm=password))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Nina Newcomer"' in page
    assert _user_named("new.nurse") is None


@pytest.mark.parametrize("name", ["", "a b", "<script>", "a"])
def test_admin_form_refuses_user_names_outside_the_plain_set(client, admin, name):
    response = client.post("/admin/users/new", data=_new_user(username=name))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>" not in page.split("<main", 1)[1].replace("&lt;script&gt;", "")
    assert db.session.scalar(select(User).where(User.display_name == "Nina Newcomer")) is None


def test_admin_form_accepts_a_long_uncommon_password(client, admin):
    response = client.post("/admin/users/new", data=_new_user())
    assert response.status_code == 302
    assert _user_named("new.nurse") is not None


def test_service_refuses_an_odd_user_name_even_past_the_form(app, admin):
    from clinic.admin import services

    with pytest.raises(services.AdminError, match="lower-case letters"):
        services.create_user(by=admin, username="nina\u00e9", display_name="N", role="nurse",
                             password=GOOD_PASSWORD)


def test_password_reset_refuses_a_common_password(client, admin, make_user):
    nurse = make_user("nurse")
    before = nurse.password_hash
    response = client.post(f"/admin/users/{nurse.id}/password",
                           data={"password": "qwerty123456", "confirm": "qwerty123456"})
    assert response.status_code == 422
    assert "too easy to guess" in response.get_data(as_text=True)
    db.session.refresh(nurse)
    assert nurse.password_hash == before


def _create_user(runner, username: str, password: str):
    return runner.invoke(args=["create-user", "--username", username, "--display-name", "Ada",
                               "--role", "admin", "--password", password])


@pytest.mark.parametrize(("username", "password", "message"), [
    ("ada.admin", "aaaaaaaaaa", "at least 12"),
    ("ada.admin", "password12", "at least 12"),
    ("ada.admin", " " * 10, "at least 12"),
    ("ada.admin", "qwerty123456", "too easy to guess"),
    ("", GOOD_PASSWORD, "lower-case letters"),
    ("a b", GOOD_PASSWORD, "lower-case letters"),
    ("<script>", GOOD_PASSWORD, "lower-case letters"),
])
def test_create_user_command_refuses(runner, username, password, message):
    result = _create_user(runner, username, password)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(User)) is None


def test_create_user_command_creates_with_a_good_password(runner):
    result = _create_user(runner, "Ada.Admin", GOOD_PASSWORD)
    assert result.exit_code == 0, result.output
    assert _user_named("ada.admin").role == "admin"


# --- HSTS, secrets, refused requests -----------------------------------------------------------


class TestOverHttps:
    @pytest.fixture
    def config_overrides(self):
        return {"HTTPS": True}

    def test_https_sends_hsts(self, client):
        response = client.get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_clinic_https_sets_the_https_flag():
    # A fresh interpreter: the configuration classes read the environment once, at import.
    probe = "import config; print(config.Config.HTTPS, config.Config.SESSION_COOKIE_SECURE)"
    env = {**os.environ, "CLINIC_HTTPS": "1"}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                            text=True, check=True, cwd=os.path.dirname(config.__file__))
    assert result.stdout.split() == ["True", "True"]


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setattr(
        config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    )
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "s" * 32)
    monkeypatch.setattr(config.ProductionConfig, "AUDIT_HMAC_KEY", "a" * 32)
    return config.ProductionConfig


@pytest.mark.parametrize("name", ["SECRET_KEY", "AUDIT_HMAC_KEY"])
def test_production_refuses_a_secret_shorter_than_32_characters(production, monkeypatch, name):
    monkeypatch.setattr(production, name, "k" * 31)
    with pytest.raises(RuntimeError, match=f"{name} is shorter than 32"):
        create_app("production")


def test_production_starts_with_32_character_secrets(production):
    app = create_app("production")
    assert len(app.config["SECRET_KEY"]) == 32
    with app.app_context():
        db.engine.dispose()


def test_refused_request_is_recorded_in_the_audit_trail(client, auth, audit_events):
    nurse = auth.login_as("nurse", username="nosy.nurse")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    [event] = audit_events("refused")
    assert event.user_id == nurse.id and event.username == "nosy.nurse"
    assert json.loads(event.detail) == {"method": "GET", "path": "/admin/users",
                                        "endpoint": "admin.users"}


def test_refused_post_keeps_nothing_it_started(client, auth, audit_events):
    auth.login_as("auditor")
    response = client.post("/admin/users/new", data=_new_user())
    assert response.status_code == 403
    assert _user_named("new.nurse") is None
    assert [e.detail for e in audit_events("refused")] == [
        json.dumps({"endpoint": "admin.new_user", "method": "POST", "path": "/admin/users/new"},
                   separators=(",", ":"))
    ]
