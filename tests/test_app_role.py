"""PostgreSQL: the app's own role reads and appends, and cannot erase or rewrite the record."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from clinic import content_hash, create_app
from clinic.db import utc_now
from clinic.db_roles import APP_UPDATES
from clinic.extensions import db
from clinic.models import Admission, AuditEvent, LoginThrottle, User, UserSession, VitalSigns
from tests.charting import chart_vitals
from tests.conftest import PASSWORD, PG_URL, AuthActions, _config

pytestmark = pytest.mark.skipif(not PG_URL, reason="roles are PostgreSQL's")

PROTECTED = ("audit_event", *content_hash.HASHED_TABLES)


@pytest.fixture
def app_role(app, database_template, runner):
    """A login role granted by grant-app-role; dropped with its grants afterwards."""
    role = f"clinic_app_{uuid.uuid4().hex[:8]}"
    db.session.execute(text(f"CREATE ROLE {role} LOGIN"))
    db.session.commit()
    try:
        result = runner.invoke(args=["grant-app-role", role])
        assert result.exit_code == 0, result.output
        yield role, make_url(database_template).set(username=role).render_as_string(False)
    finally:
        db.session.rollback()
        db.session.execute(text(f"DROP OWNED BY {role}"))
        db.session.execute(text(f"DROP ROLE {role}"))
        db.session.commit()


def _refused(url: str, statement: str) -> str:
    """Run `statement` as the role and return the database's refusal."""
    engine = create_engine(url, connect_args={"options": _config(url).SQLALCHEMY_ENGINE_OPTIONS[
        "connect_args"]["options"]})
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as refused:
            connection.execute(text(statement))
        return str(refused.value.orig)
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", PROTECTED)
def test_app_role_cannot_erase_rewrite_or_unprotect(app_role, make_admission, table):
    _role, url = app_role
    statements = [
        f"TRUNCATE {table}",
        f"DELETE FROM {table}",
        f"UPDATE {table} SET id = id",
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        f"ALTER TABLE {table} ADD COLUMN x integer",
        f"DROP TRIGGER {table}_append_only ON {table}",
        f"DROP TABLE {table}",
    ]
    for statement in statements:
        message = _refused(url, statement)
        assert "permission denied" in message or "must be owner" in message, (statement, message)


def test_app_role_changes_only_the_columns_it_needs(app_role):
    _role, url = app_role
    assert "permission denied" in _refused(url, "UPDATE patient SET date_of_birth = date_of_birth")
    assert "permission denied" in _refused(url, "UPDATE admission SET patient_id = patient_id")
    assert "permission denied" in _refused(url, "DELETE FROM user_session")
    assert "permission denied" in _refused(url, "UPDATE user_account SET username = username")
    assert set(APP_UPDATES) <= set(db.metadata.tables)


def test_grant_refuses_the_owner_and_unknown_roles(runner):
    owner = db.session.scalar(text("SELECT current_user"))
    result = runner.invoke(args=["grant-app-role", owner])
    assert result.exit_code != 0
    assert "superuser" in result.output or "owns" in result.output
    result = runner.invoke(args=["grant-app-role", "no_such_role_x"])
    assert result.exit_code != 0 and "there is no role" in result.output


@pytest.fixture
def role_app(app_role, config_overrides):
    """The app configured with the role's URL, as production runs it."""
    _role, url = app_role
    role_app = create_app(_config(url, **config_overrides))
    yield role_app
    with role_app.app_context():
        db.engine.dispose()


def test_the_app_works_as_that_role(app, role_app, make_admission, make_user):
    admission = make_admission()
    nurse = make_user("nurse", username="role.nurse")
    make_user("admin", username="role.admin")
    charge = make_user("charge_nurse", username="role.charge")
    admission_id, nurse_id = admission.id, nurse.id
    db.session.commit()

    with role_app.app_context():
        client = role_app.test_client()
        auth = AuthActions(client, None)
        # A failed login writes the throttle; a good one clears it (the one DELETE the app does).
        assert "not recognised" in auth.login("role.nurse", "not-the-password").get_data(as_text=True)
        assert db.session.get(LoginThrottle, "role.nurse").failed_count == 1
        assert auth.login("role.nurse", PASSWORD).status_code == 302
        assert db.session.get(LoginThrottle, "role.nurse") is None

        charted = chart_vitals(client, db.session.get(Admission, admission_id), heart_rate="104")
        assert charted.heart_rate == 104 and charted.recorded_by_id == nurse_id
        page = client.get(f"/admissions/{admission_id}").get_data(as_text=True)
        assert "104" in page
        assert client.post("/logout").status_code == 302
        ended = db.session.scalars(select(UserSession).where(UserSession.user_id == nurse_id)).one()
        assert ended.ended_reason == "logout"

        admin_client = role_app.test_client()
        assert AuthActions(admin_client, None).login("role.admin").status_code == 302
        response = admin_client.post("/admin/users/new", data={
            "username": "made.by.role", "display_name": "Made As Role", "role": "nurse",
            "password": "lantern-orchard-velvet", "confirm": "lantern-orchard-velvet"})
        assert response.status_code == 302, response.get_data(as_text=True)
        made = db.session.scalar(select(User).where(User.username == "made.by.role"))
        assert admin_client.post(f"/admin/users/{made.id}/deactivate").status_code == 302
        db.session.expire_all()
        assert db.session.get(User, made.id).active is False

        from clinic.admissions import services as admissions
        from clinic.rounds import services as rounds

        current = db.session.get(Admission, admission_id)
        by = db.session.get(User, charge.id)
        rounds.change_observation_level(by=by, admission=current, level="intermittent_15",
                                        reason="Unsettled")
        admissions.discharge(by=by, admission=current, discharged_at=utc_now() - timedelta(minutes=1),
                             disposition="home", note=None)
        db.session.commit()
        assert db.session.get(Admission, admission_id).status == "discharged"

        # Reading the whole trail needs only SELECT.
        result = role_app.test_cli_runner().invoke(args=["verify-audit"])
        assert result.exit_code == 0, result.output
        events = db.session.scalar(select(func.count()).select_from(AuditEvent))
        vitals = db.session.scalar(select(func.count()).select_from(VitalSigns))
    assert events > 10 and vitals == 1
