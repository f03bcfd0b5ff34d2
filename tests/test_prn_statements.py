"""The give-dose POST runs a fixed number of SQL statements, so its cost cannot silently grow."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, select

from clinic.extensions import db
from clinic.models import PrnDose
from tests.prn_helpers import give, make_order
from tests.test_prn_web import give_form, give_url

#: The SQLAlchemy statements of one allowed give-dose POST: the login session, the admission with its
#: unit and the patient the save message names, the admission lock (found through the order), the
#: order with its discontinuation and the doses that count (one statement), and the content-hash
#: read-back for the audit event. The dose and audit INSERTs are prepared statements on the raw
#: connection (clinic.prepared), which engine events do not see.
EXPECTED = 5


def statements_of(request) -> list[str]:
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 302, response.get_data(as_text=True)
    return seen


def test_giving_a_dose_runs_a_fixed_number_of_statements(client, auth, make_admission, make_user):
    admission = make_admission()
    order = make_order(admission, make_user("physician"), max_amount_24h=Decimal("4"),
                       min_interval_minutes=60)
    nurse = auth.login_as("nurse")
    give(admission, nurse, order, minutes_ago=180)
    url, data = give_url(admission, order), give_form(admission)
    db.session.expire_all()
    seen = statements_of(lambda: client.post(url, data=data))
    assert len(db.session.scalars(select(PrnDose)).all()) == 2
    assert len(seen) == EXPECTED, "\n---\n".join(seen)
