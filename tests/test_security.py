"""CSRF (kept on here), security headers, cookies, secrets in production, outages, names in URLs."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import config
from clinic import create_app
from clinic.extensions import db
from clinic.models import Admission, AuditEvent, Patient, UserSession
from clinic.routing import local_now
from tests.conftest import PASSWORD

TIME_FORMAT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def config_overrides():
    # Security tests keep CSRF on (STYLE.md, habit 9).
    return {"WTF_CSRF_ENABLED": True}


# --- helpers -------------------------------------------------------------------------------------

def page_text(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(response) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_text(response))
    assert found, "the page carries a CSRF token"
    return found.group(1)


def log_in(client, user) -> None:
    token = csrf_token(client.get("/login"))
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, page_text(response)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def admit_form(unit, bed, *, family_name="Okonkwo-Reyes", mrn="SEC-001") -> dict:
    admitted = local_now(unit) - timedelta(hours=1)
    return {
        "mrn": mrn,
        "identity-family_name": family_name,
        "identity-given_name": "Ada",
        "identity-date_of_birth": "1991-02-03",
        "identity-sex": "female",
        "allergies": "No known drug allergies",
        "bed": str(bed.id),
        "admitted_at": admitted.strftime(TIME_FORMAT),
        "attending_physician": "0",
        "substances-ketamine-used": "y",
        "substances-ketamine-last_use": (admitted - timedelta(hours=20)).strftime(TIME_FORMAT),
        "primary_substance": "ketamine",
        "protocols": ["ketamine"],
    }


class _Links(HTMLParser):
    """Collect every URL a page links to, loads or submits to."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "data-url") and value:
                self.urls.append(value)


def urls_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


# --- CSRF ----------------------------------------------------------------------------------------

def test_login_without_a_token_is_refused(client, make_user, audit_events):
    user = make_user("nurse")

    response = client.post("/login", data={"username": user.username, "password": PASSWORD})

    assert response.status_code == 400
    assert "Nothing was saved" in page_text(response)
    assert count(UserSession) == 0
    assert audit_events("login") == []


def test_login_with_the_token_from_the_page_works(client, make_user):
    user = make_user("nurse")

    log_in(client, user)

    assert count(UserSession) == 1


def test_logout_without_a_token_is_refused(client, make_user, make_unit):
    unit = make_unit()
    user = make_user("nurse")
    log_in(client, user)

    response = client.post("/logout")

    assert response.status_code == 400
    session_row = db.session.scalar(select(UserSession))
    assert session_row.ended_at is None
    assert client.get(f"/units/{unit.id}/board").status_code == 200


def test_logout_with_the_token_from_the_page_works(client, make_user, make_unit, audit_events):
    unit = make_unit()
    user = make_user("nurse")
    log_in(client, user)
    page = client.get(f"/units/{unit.id}/board")

    response = client.post("/logout", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    assert response.location == "/login"
    db.session.expire_all()
    assert db.session.scalar(select(UserSession)).ended_at is not None
    assert len(audit_events("logout")) == 1


def test_admit_without_a_token_is_refused(client, make_user, make_unit):
    unit = make_unit()
    log_in(client, make_user("charge_nurse"))

    response = client.post(f"/admit?unit={unit.id}", data=admit_form(unit, unit.beds[0]))

    assert response.status_code == 400
    assert "Nothing was saved" in page_text(response)
    assert count(Patient) == 0
    assert count(Admission) == 0


def test_admit_with_the_token_from_the_page_works(client, make_user, make_unit):
    unit = make_unit()
    log_in(client, make_user("charge_nurse"))
    page = client.get(f"/admit?unit={unit.id}")

    response = client.post(
        f"/admit?unit={unit.id}",
        data={**admit_form(unit, unit.beds[0]), "csrf_token": csrf_token(page)},
    )

    assert response.status_code == 302, page_text(response)
    assert count(Admission) == 1


def test_a_token_from_before_login_is_refused_after_it(client, make_user, make_unit):
    unit = make_unit()
    login_page = client.get("/login")
    log_in(client, make_user("charge_nurse"))

    response = client.post(
        f"/admit?unit={unit.id}",
        data={**admit_form(unit, unit.beds[0]), "csrf_token": csrf_token(login_page)},
    )

    assert response.status_code == 400
    assert count(Admission) == 0


def test_csrf_token_lives_as_long_as_the_session(client, make_user, make_unit, monkeypatch):
    assert config.Config.WTF_CSRF_TIME_LIMIT is None
    assert config.ProductionConfig.WTF_CSRF_TIME_LIMIT is None
    unit = make_unit()
    log_in(client, make_user("charge_nurse"))
    token = csrf_token(client.get(f"/admit?unit={unit.id}"))
    # The form was left open on a tablet for two hours: move the signer's clock on.
    later = int(time.time()) + int(timedelta(hours=2).total_seconds())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    response = client.post(
        f"/admit?unit={unit.id}", data={**admit_form(unit, unit.beds[0]), "csrf_token": token}
    )

    assert response.status_code == 302, page_text(response)
    assert count(Admission) == 1


def test_https_form_with_a_same_origin_referrer_is_accepted(client, make_user):
    # Flask-WTF checks the referrer on HTTPS; Referrer-Policy: same-origin keeps it sent.
    user = make_user("nurse")
    page = client.get("/login", base_url="https://localhost")
    data = {"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page)}

    without_referrer = client.post("/login", data=data, base_url="https://localhost")
    with_referrer = client.post(
        "/login", data=data, base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )

    assert without_referrer.status_code == 400
    assert with_referrer.status_code == 302


# --- headers and cookies -------------------------------------------------------------------------

def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response) -> None:
    directives = csp_directives(response)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, "a script source is set"
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert directives.get("frame-ancestors") == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_login_page_sends_the_security_headers(client):
    response = client.get("/login")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]


def test_patient_pages_send_the_security_headers(client, make_user, make_admission):
    admission = make_admission()
    log_in(client, make_user("nurse"))

    for path in (f"/units/{admission.unit_id}/board", f"/admissions/{admission.id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"], path


def test_error_pages_send_the_security_headers(client, make_user):
    log_in(client, make_user("nurse"))

    response = client.get("/admissions/999999")

    assert response.status_code == 404
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]


def test_pages_hold_no_inline_script(client, make_user, make_admission):
    # The policy blocks inline script, so any left in a page would silently not run.
    admission = make_admission()
    log_in(client, make_user("charge_nurse"))

    for path in ("/login", f"/units/{admission.unit_id}/board", f"/admissions/{admission.id}",
                 f"/admit?unit={admission.unit_id}", f"/admissions/{admission.id}/discharge"):
        html = page_text(client.get(path))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path


def test_session_cookie_is_httponly_and_samesite_lax(app, client, make_user):
    user = make_user("nurse")
    token = csrf_token(client.get("/login"))

    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )

    name = app.config["SESSION_COOKIE_NAME"]
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers
    attributes = [a.strip().lower() for a in headers[-1].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


# --- secrets in production -----------------------------------------------------------------------

@pytest.fixture
def production(monkeypatch, tmp_path):
    """Point the production config at a throwaway SQLite file, with both secrets set."""
    monkeypatch.setattr(
        config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    )
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "s" * 48)
    monkeypatch.setattr(config.ProductionConfig, "AUDIT_HMAC_KEY", "a" * 48)
    return config.ProductionConfig


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUDIT_HMAC_KEY"])
@pytest.mark.parametrize("empty", [None, ""])
def test_production_refuses_to_start_without_a_secret(production, monkeypatch, missing, empty):
    monkeypatch.setattr(production, missing, empty)

    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_production_starts_with_both_secrets(production):
    app = create_app("production")

    assert app.config["SECRET_KEY"] == "s" * 48
    assert app.config["AUDIT_HMAC_KEY"] == "a" * 48
    assert app.config["WTF_CSRF_ENABLED"] is not False
    assert not app.testing
    with app.app_context():
        db.engine.dispose()


# --- database outage -----------------------------------------------------------------------------

def database_down(*_args, **_kwargs):
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_database_outage_on_save_answers_503_not_saved(client, make_user, make_unit, monkeypatch):
    unit = make_unit()
    log_in(client, make_user("charge_nurse"))
    token = csrf_token(client.get(f"/admit?unit={unit.id}"))
    monkeypatch.setattr("clinic.admissions.services.admit", database_down)

    response = client.post(
        f"/admit?unit={unit.id}", data={**admit_form(unit, unit.beds[0]), "csrf_token": token}
    )

    assert response.status_code == 503
    assert "NOT saved" in page_text(response)
    assert "server closed the connection" not in page_text(response)
    assert count(Patient) == 0


def test_database_outage_on_a_page_answers_503(client, make_user, make_unit, monkeypatch):
    unit = make_unit()
    log_in(client, make_user("nurse"))
    monkeypatch.setattr("clinic.board.routes.board_rows", database_down)

    response = client.get(f"/units/{unit.id}/board")

    assert response.status_code == 503
    assert "NOT saved" in page_text(response)


def test_database_outage_answers_json_to_json_clients(client, make_user, make_unit, monkeypatch):
    unit = make_unit()
    log_in(client, make_user("nurse"))
    monkeypatch.setattr("clinic.board.routes.board_rows", database_down)

    response = client.get(f"/units/{unit.id}/board", headers={"Accept": "application/json"})

    assert response.status_code == 503
    assert "NOT saved" in response.get_json()["message"]


# --- patient names stay out of URLs --------------------------------------------------------------

def test_patient_names_never_appear_in_links(client, make_user, make_admission):
    admission = make_admission(family_name="Quixwellby", given_name="Zephyrine")
    discharged = make_admission(unit=admission.unit, family_name="Marrowfax", given_name="Ode")
    log_in(client, make_user("charge_nurse"))
    token = csrf_token(client.get(f"/admissions/{discharged.id}/discharge"))
    client.post(f"/admissions/{discharged.id}/discharge", data={
        "discharged_at": local_now(discharged.unit).strftime(TIME_FORMAT),
        "disposition": "home", "csrf_token": token, "confirm": "yes",
    })

    pages = [f"/units/{admission.unit_id}/board", f"/admissions/{admission.id}",
             f"/admissions/{discharged.id}", f"/admissions/{admission.id}?view=stay"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = page_text(response)
        urls = urls_in(html)
        assert urls, path
        for url in urls:
            for name in ("quixwellby", "zephyrine", "marrowfax"):
                assert name not in url.lower(), (path, url)
    assert "Quixwellby".upper() in page_text(client.get(f"/units/{admission.unit_id}/board"))


def test_audit_events_carry_no_password(client, make_user):
    user = make_user("nurse")
    token = csrf_token(client.get("/login"))
    client.post("/login", data={"username": user.username, "password": "wrong-but-secret-9",
                                "csrf_token": token})
    log_in(client, user)

    details = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert "wrong-but-secret-9" not in details
    assert PASSWORD not in details
