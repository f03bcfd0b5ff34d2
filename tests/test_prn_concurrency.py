"""Nurses giving the same PRN order at the same moment: exactly one dose is charted.

Real threads, each with its own connection, on whichever database the suite runs against
(SQLite by default, PostgreSQL with CLINIC_TEST_DATABASE_URL).
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, PrnDose, User
from clinic.prn import services
from clinic.timefmt import local_time
from tests.prn_helpers import make_order

NURSES = 4


def _race(app, admission_id: int, order_id: int, nurse_ids: list[int], given_at) -> list:
    """Let every nurse give the order at once; return each one's saved dose or refusal."""
    barrier = threading.Barrier(len(nurse_ids))
    results: list = [None] * len(nurse_ids)

    def attempt(slot: int, nurse_id: int):
        with app.app_context():
            try:
                nurse = db.session.get(User, nurse_id)
                admission = db.session.get(Admission, admission_id)
                _ = admission.unit.zone, admission.patient.allergies
                db.session.rollback()  # start the race with no transaction open
                barrier.wait(timeout=30)
                dose = services.give_dose(
                    by=nurse, admission=admission, order_id=order_id, given_at=given_at, outcome="given",
                    dose=Decimal("1"), route="oral", reason="CIWA-Ar 14", idempotency_key=uuid.uuid4().hex,
                )
                db.session.commit()
                results[slot] = ("given", dose.id)
            except services.DoseRefused as refusal:
                db.session.rollback()
                results[slot] = ("refused", str(refusal))
            except Exception as error:  # reported in the results, as a thread's exception would be lost
                db.session.rollback()
                results[slot] = ("error", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(slot, nurse_id))
               for slot, nurse_id in enumerate(nurse_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_exactly_one_of_several_nurses_at_once_gives_the_dose(app, make_admission, make_user):
    admission = make_admission()
    order = make_order(admission, make_user("physician"))
    nurses = [make_user("nurse", display_name=f"Nurse {n}") for n in range(NURSES)]
    names = {n.id: n.display_name for n in nurses}
    given_at = utc_now() - timedelta(seconds=30)
    ids = (admission.id, order.id, [n.id for n in nurses])
    db.session.commit()

    first = _race(app, *ids, given_at)
    assert sorted(kind for kind, _ in first) == ["given"] + ["refused"] * (NURSES - 1), first
    # Once given, a second rush at the same moment is refused to everyone.
    again = _race(app, *ids, given_at)
    assert [kind for kind, _ in again] == ["refused"] * NURSES, again

    db.session.expire_all()
    [dose] = db.session.scalars(select(PrnDose)).all()
    said = f"at {local_time(dose.observed_at, admission.unit.zone)} by {names[dose.recorded_by_id]}"
    for kind, message in first + again:
        if kind == "refused":
            # The refusal names the rule, and the first dose's time and giver.
            assert "too soon after another dose" in message and said in message, message
