"""The give-dose POST runs a fixed number of SQL statements, so its cost cannot silently grow."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, select

from clinic import prepared
from clinic.extensions import db
from clinic.models import PrnDose
from tests.prn_helpers import give, make_order
from tests.test_prn_web import give_form, give_url, text_of

#: The SQLAlchemy statements of one allowed give-dose POST: the login session and the admission with
#: its unit. The save message is worded by the page the redirect lands on (clinic.saved).
EXPECTED = 2
#: Statements on the driver's cursor (clinic.prepared), which engine events do not see: the order
#: with its discontinuation and the doses that count (one statement), the dose's INSERT (returning
#: the stored row, so its content hash needs no read-back), the audit chain's tail and the audit
#: INSERT; on PostgreSQL also the admission's row lock, sent with the order's read in one round trip.
EXPECTED_PREPARED = {"sqlite": 4, "postgresql": 5}


def statements_of(request, monkeypatch) -> tuple[list[str], list[str]]:
    seen: list[str] = []
    prepared_seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        seen.append(statement)

    execute, execute_all = prepared._execute, prepared._execute_all

    def counted(connection, sql, params, **kwargs):
        prepared_seen.append(sql)
        return execute(connection, sql, params, **kwargs)

    def counted_all(connection, statements):
        if connection.dialect.name == "postgresql" and len(statements) > 1:
            # Pipelined, in one round trip, not through _execute.
            prepared_seen.extend(sql for sql, _ in statements)
        return execute_all(connection, statements)

    monkeypatch.setattr(prepared, "_execute", counted)
    monkeypatch.setattr(prepared, "_execute_all", counted_all)
    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        monkeypatch.undo()
    assert response.status_code == 302, response.get_data(as_text=True)
    return seen, prepared_seen


def test_giving_a_dose_runs_a_fixed_number_of_statements(client, auth, make_admission, make_user,
                                                         monkeypatch):
    admission = make_admission()
    order = make_order(admission, make_user("physician"), max_amount_24h=Decimal("4"),
                       min_interval_minutes=60)
    nurse = auth.login_as("nurse")
    give(admission, nurse, order, minutes_ago=180)
    url, data = give_url(admission, order), give_form(admission)
    db.session.expire_all()
    response = None

    def post():
        nonlocal response
        response = client.post(url, data=data)
        return response

    seen, prepared_seen = statements_of(post, monkeypatch)
    assert len(db.session.scalars(select(PrnDose)).all()) == 2
    assert len(seen) == EXPECTED, "\n---\n".join(seen)
    assert len(prepared_seen) == EXPECTED_PREPARED[db.engine.dialect.name], "\n---\n".join(prepared_seen)
    # Nothing was flashed, so the session cookie is not signed and sent again.
    assert "Set-Cookie" not in response.headers
    assert "PRN dose saved for " in text_of(client.get(response.headers["Location"]))
