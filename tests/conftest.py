"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL when asked), and factories.

Set CLINIC_TEST_DATABASE_URL to run the suite against PostgreSQL. Each run migrates a schema of
its own in that database (so two runs at once do not collide), empties every table after each
test, and drops the schema at the end, so the suite can be rerun on the same database.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import date, timedelta
from itertools import count

import pytest
from flask import g, request_started
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from clinic import MIGRATIONS_DIR, create_app
from clinic.db import utc_now
from clinic.extensions import db
from config import TestConfig, normalise_database_url

PG_URL = os.environ.get("CLINIC_TEST_DATABASE_URL")
PG_SCHEMA = f"pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
PASSWORD = "correct-horse-battery"


def _config(uri: str, **overrides):
    attrs = {"SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False}
    if uri.startswith("postgresql"):
        attrs["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": f"-csearch_path={PG_SCHEMA}"},
        }
    attrs.update(overrides)
    return type("PerTestConfig", (TestConfig,), attrs)


def _run_sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate a database once per run: a SQLite file to copy, or a PostgreSQL schema."""
    if PG_URL:
        url = normalise_database_url(PG_URL)
        _run_sql(url, f"CREATE SCHEMA {PG_SCHEMA}")
        try:
            app = create_app(_config(url))
            with app.app_context():
                upgrade(directory=MIGRATIONS_DIR)
                db.engine.dispose()
            yield url
        finally:
            _run_sql(url, f"DROP SCHEMA {PG_SCHEMA} CASCADE")
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app(_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        db.engine.dispose()
    yield path


@pytest.fixture
def config_overrides():
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_template, tmp_path, config_overrides):
    if PG_URL:
        uri = database_template
    else:
        path = tmp_path / "clinic.sqlite3"
        shutil.copy(database_template, path)
        uri = f"sqlite:///{path}"
    app = create_app(_config(uri, **config_overrides))

    def fresh_g(sender, **extra):
        # Test-client requests reuse the app context pushed below, and with it `g`; production
        # gives each request its own, so Flask-Login's cached user must not leak between clients.
        vars(g._get_current_object()).clear()

    request_started.connect(fresh_g, app)
    with app.app_context():
        yield app
        db.session.remove()
        if PG_URL:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                # TRUNCATE does not fire the append-only row triggers, so cleanup can empty them.
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_serial = count(1)


@pytest.fixture
def make_user(app):
    from clinic.auth.passwords import hash_password
    from clinic.models import User

    hashed = hash_password(PASSWORD)

    def make(role: str = "nurse", username: str | None = None, active: bool = True, **kw):
        username = username or f"{role.replace('_', '.')}{next(_serial)}"
        user = User(username=username, display_name=kw.pop("display_name", username.title()),
                    role=role, password_hash=hashed, active=active, **kw)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_unit(app):
    from clinic.models import Bed, Unit

    def make(name: str | None = None, beds: int = 6, timezone: str = "Europe/London",
             shift_pattern: str = "Day 07:00, Night 19:00"):
        unit = Unit(name=name or f"Unit {next(_serial)}", timezone=timezone,
                    shift_pattern=shift_pattern)
        db.session.add(unit)
        for n in range(1, beds + 1):
            db.session.add(Bed(unit=unit, label=str(n), sort_key=n))
        db.session.commit()
        return unit

    return make


@pytest.fixture
def make_admission(app, make_unit, make_user):
    from clinic.admissions import services

    def make(unit=None, bed=None, mrn: str | None = None, by=None, hours_ago: float = 10,
             substances=(("ketamine", 20),), protocols=("ketamine",), patient=None, **identity):
        unit = unit or make_unit()
        by = by or make_user("charge_nurse")
        bed = bed or services.free_beds(unit)[0]
        admitted_at = utc_now() - timedelta(hours=hours_ago)
        admission = services.admit(
            by=by, unit=unit, bed=bed, admitted_at=admitted_at,
            substances=[
                services.SubstanceEntry(s, admitted_at - timedelta(hours=h), i == 0)
                for i, (s, h) in enumerate(substances)
            ],
            protocols=list(protocols), allergies=identity.pop("allergies", "No known drug allergies"),
            patient=patient,
            new_patient=None if patient is not None else services.NewPatient(
                mrn=mrn or f"T{next(_serial):06d}",
                family_name=identity.get("family_name", "Testperson"),
                given_name=identity.get("given_name", "Sam"),
                date_of_birth=identity.get("date_of_birth", date(1990, 5, 17)),
                sex=identity.get("sex", "female"),
            ),
        )
        db.session.commit()
        return admission

    return make


class AuthActions:
    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user
        self.user = None

    def login(self, username: str, password: str = PASSWORD, follow=False):
        return self._client.post("/login", data={"username": username, "password": password},
                                 follow_redirects=follow)

    def login_as(self, role: str, **kw):
        self.user = self._make_user(role, **kw)
        response = self.login(self.user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.user

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user)


@pytest.fixture
def audit_events(app):
    """Return the audit events written so far, optionally only those of one action."""
    from sqlalchemy import select

    from clinic.models import AuditEvent

    def events(action: str | None = None):
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return db.session.scalars(query).all()

    return events


def redirect_path(response) -> str:
    """Return where a redirect goes, without what a save adds: the `#saved=…` fragment for
    drafts.js and the `saved=` query naming the entry for the confirmation (clinic.saved)."""
    location = response.headers["Location"].split("#", 1)[0]
    return re.sub(r"[?&]saved=[a-z]+-\d+$", "", location)
