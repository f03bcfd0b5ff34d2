"""Shared set-up for the PRN tests: orders and doses written through the services."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from clinic.db import utc_now
from clinic.extensions import db
from clinic.prn import services


def order_input(**changes) -> services.OrderInput:
    fields = dict(
        drug="Lorazepam", dose=Decimal("1"), dose_unit="mg", route="oral",
        indication="Alcohol withdrawal", treats_scale=None, min_interval_minutes=240,
        max_doses_24h=4, max_amount_24h=None, score_threshold=None, hold_parameters={},
        reassess_after_minutes=60, starts_at=utc_now() - timedelta(hours=8), stops_at=None,
    )
    fields.update(changes)
    return services.OrderInput(**fields)


def make_order(admission, physician, *, commit=True, supersedes=None, reason=None, ack=False, **changes):
    order = services.create_order(
        by=physician, admission=admission, data=order_input(**changes), idempotency_key=uuid.uuid4().hex,
        allergy_acknowledged=ack, supersedes=supersedes, reason=reason,
    )
    if commit:
        db.session.commit()
    return order


def give(admission, nurse, order, *, minutes_ago: float = 0, at: datetime | None = None, dose="1",
         outcome="given", commit=True, **kw):
    record = services.give_dose(
        by=nurse, admission=admission, order_id=order.id,
        given_at=at or utc_now() - timedelta(minutes=minutes_ago), outcome=outcome,
        dose=None if dose is None else Decimal(dose), route=kw.pop("route", order.route),
        reason=kw.pop("reason", "Tremor and sweating"), idempotency_key=uuid.uuid4().hex, **kw,
    )
    if commit:
        db.session.commit()
    return record
