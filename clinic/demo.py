"""Demo mode: a detox ward with patients to click through, on SQLite in the instance folder."""

from __future__ import annotations

import os
from datetime import date, timedelta

from sqlalchemy import select

from clinic import audit
from clinic.db import utc_now
from clinic.demo_history import chart_history, prn_orders
from clinic.extensions import db
from clinic.models import Bed, Unit, User

DEMO_PASSWORD = "detox-demo-ward"
DEMO_UNIT = "Detox Ward"
DEMO_ACCOUNTS = (
    ("demo.nurse", "Nina Okafor (demo nurse)", "nurse"),
    ("demo.charge", "Charles Mensah (demo charge nurse)", "charge_nurse"),
    ("demo.physician", "Dr Priya Raman (demo physician)", "physician"),
    ("demo.admin", "Alex Byrne (demo administrator)", "admin"),
    ("demo.auditor", "Audrey Lam (demo auditor)", "auditor"),
)

# (MRN, family, given, born, sex, allergies, bed, hours since admission,
#  [(substance, hours before admission of last use)], protocols)
DEMO_PATIENTS = (
    ("D100001", "Chan", "Wing", date(1996, 4, 12), "male", "No known drug allergies", "1", 5,
     [("ketamine", 10)], ["ketamine"]),
    ("D100002", "Walker", "Jade", date(1991, 9, 3), "female", "Penicillin (rash)", "2", 20,
     [("ketamine", 8), ("alcohol", 14)], ["ketamine", "ciwa_ar"]),
    ("D100003", "Novak", "Tomas", date(1988, 1, 22), "male", "No known drug allergies", "3", 30,
     [("ketamine", 16), ("opioids", 12)], ["ketamine", "cows"]),
    ("D100004", "Ahmed", "Sara", date(2000, 6, 30), "female", "Latex", "5", 52,
     [("ketamine", 6)], ["ketamine"]),
    ("D100005", "O'Brien", "Liam", date(1979, 11, 8), "male", "No known drug allergies", "6", 75,
     [("alcohol", 9), ("ketamine", 30)], ["ciwa_ar", "ketamine"]),
    ("D100006", "Kowalski", "Marta", date(1993, 2, 17), "female", "Codeine (vomiting)", "8", 110,
     [("ketamine", 12), ("benzodiazepines", 20)], ["ketamine", "ciwa_b"]),
    ("D100007", "Mensah", "Kofi", date(1985, 7, 1), "male", "No known drug allergies", "9", 150,
     [("ketamine", 20)], ["ketamine"]),
    ("D100008", "Reyes", "Ana", date(1998, 12, 24), "female", "Sulfonamides", "11", 220,
     [("ketamine", 5), ("alcohol", 5)], ["ketamine", "ciwa_ar"]),
)


def seed() -> bool:
    """Create the demo accounts, unit and admissions once; return whether anything was created."""
    from clinic.admissions import services
    from clinic.auth.passwords import hash_password

    if db.session.scalar(select(Unit).where(Unit.name == DEMO_UNIT)) is not None:
        return False
    users = {}
    for username, display_name, role in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=display_name, role=role,
                        password_hash=hash_password(DEMO_PASSWORD))
            db.session.add(user)
            db.session.flush()
            audit.record("create", object_type="user", object_id=user.id, username="(demo seed)",
                         detail={"username": username, "role": role})
        users[role] = user

    unit = Unit(name=DEMO_UNIT, timezone="Europe/London", shift_pattern="Day 07:00, Night 19:00")
    db.session.add(unit)
    for number in range(1, 13):
        db.session.add(Bed(unit=unit, label=str(number), sort_key=number))
    db.session.flush()
    audit.record("create", object_type="unit", object_id=unit.id, username="(demo seed)",
                 detail={"name": unit.name, "beds": 12})

    now = utc_now().replace(second=0, microsecond=0)
    beds = {bed.label: bed for bed in unit.beds}
    admissions = []
    for mrn, family, given, born, sex, allergies, bed, hours_in, used, protocols in DEMO_PATIENTS:
        admitted_at = now - timedelta(hours=hours_in)
        admissions.append(services.admit(
            by=users["charge_nurse"],
            unit=unit,
            bed=beds[bed],
            admitted_at=admitted_at,
            substances=[
                services.SubstanceEntry(
                    substance=substance,
                    last_use_at=admitted_at - timedelta(hours=before),
                    is_primary=index == 0,
                )
                for index, (substance, before) in enumerate(used)
            ],
            protocols=protocols,
            allergies=allergies,
            new_patient=services.NewPatient(
                mrn=mrn, family_name=family, given_name=given, date_of_birth=born, sex=sex
            ),
            attending=users["physician"],
        ))
    chart_history(admissions, users["nurse"], users["physician"])
    prn_orders(admissions, users["physician"], users["nurse"])
    db.session.commit()
    return True


def prepare(app) -> bool:
    """Bring the app's database to the newest schema and seed it; keep data already there."""
    from flask_migrate import upgrade

    from clinic import MIGRATIONS_DIR

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        return seed()


def main() -> None:
    """Migrate the instance database, seed the demo ward and serve it on 127.0.0.1."""
    from clinic import create_app

    app = create_app("demo")
    created = prepare(app)
    port = int(os.environ.get("PORT", "5000"))
    print()
    print("Detox record demo", "(new demo ward created)" if created else "(existing data kept)")
    print(f"  database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    print(f"  open:     http://127.0.0.1:{port}")
    print(f"  accounts (password {DEMO_PASSWORD}): " + ", ".join(u for u, _, _ in DEMO_ACCOUNTS))
    print()
    app.run(host="127.0.0.1", port=port, debug=False, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
