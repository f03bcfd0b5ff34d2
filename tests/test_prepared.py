"""The prepared statements of the charting path store what the ORM would, on both databases."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, PrnDose, PrnOrder, VitalSigns
from clinic.prepared import PreparedInsert, PreparedScalar, PreparedSelect, select_together
from tests.prn_helpers import make_order


def test_insert_converts_values_and_applies_column_defaults(make_admission, make_user):
    admission, nurse = make_admission(), make_user("nurse")
    observed = utc_now().replace(microsecond=0)
    key = uuid.uuid4().hex

    new_id = PreparedInsert(VitalSigns.__table__)({
        "admission_id": admission.id, "recorded_by_id": nurse.id, "observed_at": observed,
        "idempotency_key": key, "heart_rate": 88, "news2_points": {"heart_rate": 1},
    })
    db.session.commit()

    stored = db.session.get(VitalSigns, new_id)
    assert stored.observed_at == observed and stored.observed_at.tzinfo is not None
    assert (stored.heart_rate, stored.news2_points) == (88, {"heart_rate": 1})
    # Keys left out take the model's defaults, callable ones included.
    assert (stored.spo2_scale, stored.flags, stored.is_late, stored.confirmed_extreme) == (
        1, {}, False, False)
    assert abs((utc_now() - stored.recorded_at).total_seconds()) < 60
    assert stored.systolic_bp is None


def test_insert_refuses_naive_times_like_the_orm(make_admission, make_user):
    admission, nurse = make_admission(), make_user("nurse")

    with pytest.raises(ValueError, match="naive datetime"):
        PreparedInsert(VitalSigns.__table__)({
            "admission_id": admission.id, "recorded_by_id": nurse.id,
            "observed_at": utc_now().replace(tzinfo=None), "idempotency_key": uuid.uuid4().hex,
        })
    db.session.rollback()


def test_driver_errors_come_back_as_sqlalchemy_errors(make_admission, make_user):
    """A repeated idempotency key must raise the IntegrityError that saving catches."""
    admission, nurse = make_admission(), make_user("nurse")
    insert = PreparedInsert(VitalSigns.__table__)
    row = {"admission_id": admission.id, "recorded_by_id": nurse.id, "observed_at": utc_now(),
           "idempotency_key": "same-key"}
    insert(row)
    db.session.commit()

    with pytest.raises(IntegrityError):
        insert(row)
    db.session.rollback()
    assert db.session.scalars(select(VitalSigns.id)).all() == [db.session.scalar(
        select(VitalSigns.id).where(VitalSigns.idempotency_key == "same-key"))]


def test_scalar_reads_the_first_value_or_none(app):
    table = VitalSigns.__table__
    newest = PreparedScalar(select(table.c.id).order_by(table.c.id.desc()).limit(1))

    assert newest() is None
    db.session.rollback()


def test_a_table_with_a_server_default_is_refused():
    with pytest.raises(ValueError, match="server default"):
        PreparedInsert(Admission.__table__)


def test_stored_row_and_prepared_reads_match_a_core_select(make_admission, make_user):
    """The content hash is taken from `stored`, and the dose's limits from PreparedSelect rows."""
    admission, nurse = make_admission(), make_user("nurse")
    order = make_order(admission, make_user("physician"), max_amount_24h=Decimal("4.5"))
    table = PrnDose.__table__
    stored = PreparedInsert(table).stored({
        "admission_id": admission.id, "recorded_by_id": nurse.id, "observed_at": utc_now(),
        "idempotency_key": uuid.uuid4().hex, "order_id": order.id, "dose": Decimal("0.5"),
        "route": "oral", "outcome": "given", "reason": "Tremor", "effect_due_at": utc_now(),
    })
    read = dict(db.session.execute(select(table).where(table.c.id == stored["id"])).mappings().one())
    assert stored == read and stored["dose"] == Decimal("0.5") and stored["observed_at"].tzinfo

    orders = PrnOrder.__table__
    by_id = PreparedSelect(select(orders).where(orders.c.id == bindparam("id")))
    lock = PreparedSelect(select(Admission.id).where(Admission.id == bindparam("id")).with_for_update())
    locked, [row] = select_together((lock, {"id": admission.id}), (by_id, {"id": order.id}))
    assert locked == [(admission.id,)]
    assert tuple(row) == tuple(db.session.execute(select(orders).where(orders.c.id == order.id)).one())
    assert row.max_amount_24h == Decimal("4.5") and row.starts_at.tzinfo is not None
    db.session.rollback()
