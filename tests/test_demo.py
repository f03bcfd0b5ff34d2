"""Demo mode seeds a ward once and keeps what is there on the next start."""

from sqlalchemy import func, select

from clinic import create_app
from clinic.db import utc_now
from clinic.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, prepare
from clinic.extensions import db
from clinic.models import Admission, Bed, Patient, User
from config import DemoConfig


def test_prepare_twice_on_an_empty_database_keeps_data(tmp_path):
    config = type("Demo", (DemoConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SECRET_KEY": "s", "AUDIT_HMAC_KEY": "k", "ARGON2_MEMORY_COST": 1024, "ARGON2_TIME_COST": 1,
    })
    app = create_app(config)
    assert prepare(app) is True
    with app.app_context():
        patient_ids = db.session.scalars(select(Patient.id).order_by(Patient.id)).all()
    assert prepare(app) is False
    with app.app_context():
        assert db.session.scalars(select(Patient.id).order_by(Patient.id)).all() == patient_ids
        assert db.session.scalar(select(func.count()).select_from(Bed)) == 12
        current = db.session.scalars(select(Admission).where(Admission.status == "admitted")).all()
        assert len(current) == 8
        assert {s.substance for a in current for s in a.substances} >= {"ketamine", "alcohol", "opioids"}
        # Patients at different points of their detox, from day 1 to past day 7.
        days = {a.detox_day(utc_now()) for a in current}
        assert min(days) == 1 and max(days) >= 8 and len(days) >= 5
        usernames = set(db.session.scalars(select(User.username)))
        assert {u for u, _, _ in DEMO_ACCOUNTS} <= usernames
        db.engine.dispose()

    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/login", data={"username": "demo.charge", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    board = client.get("/board", follow_redirects=True).get_data(as_text=True)
    assert "Detox Ward" in board and board.count("MRN D1000") == 8
    # The demo's history follows the live rules: rounds on time, the record's hashes intact.
    assert "missed this shift" not in board
    unit_id = board.split("/units/")[1].split("/")[0]
    assert "PRN effect" in client.get(f"/units/{unit_id}/due").get_data(as_text=True)
    with app.app_context():
        verified = app.test_cli_runner().invoke(args=["verify-audit"])
        db.engine.dispose()
    assert verified.exit_code == 0, verified.output


def test_seed_demo_command_twice(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "Demo data created." in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already present" in second.output
