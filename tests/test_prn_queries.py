"""The PRN read module other features build on: doses_for and active_orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from clinic import entries
from clinic.db import utc_now
from clinic.extensions import db
from clinic.prn import queries, services
from tests.prn_helpers import give, make_order


@pytest.fixture
def ward(make_admission, make_user):
    return (make_admission(), make_user("physician", display_name="Dr Ada"),
            make_user("nurse", display_name="Nurse Bo"))


def test_doses_for_returns_plain_rows_with_flags_and_effect(ward):
    admission, physician, nurse = ward
    order = make_order(admission, physician)
    first = give(admission, nurse, order, minutes_ago=300)
    refused = give(admission, nurse, order, minutes_ago=200, outcome="refused", dose=None, reason="Declined")
    wrong = give(admission, nurse, order, minutes_ago=30)
    entries.retract(by=nurse, entry=wrong, reason="Charted on the wrong patient")
    services.record_effect(by=nurse, dose=first, assessed_at=first.observed_at + timedelta(minutes=50),
                           effect="better", side_effects=["sedation"], note=None, idempotency_key="e1")
    db.session.commit()

    rows = queries.doses_for([admission.id], utc_now() - timedelta(hours=6), utc_now())
    assert [(r.id, r.outcome, r.entered_in_error) for r in rows] == [
        (first.id, "given", False), (refused.id, "refused", False), (wrong.id, "given", True)]
    row = rows[0]
    assert (row.drug, row.dose, row.dose_unit, row.route, row.given_by) == (
        "Lorazepam", Decimal("1.000"), "mg", "oral", "Nurse Bo")
    assert (row.effect, row.side_effects) == ("better", ("sedation",))
    assert (row.is_override, row.is_breach) == (False, False)
    assert row.effect_at == first.observed_at + timedelta(minutes=50)
    assert rows[1].dose is None and not rows[1].counts and not rows[2].counts
    assert queries.doses_for([admission.id], utc_now() - timedelta(hours=1), utc_now())[0].id == wrong.id
    assert queries.doses_for([], utc_now() - timedelta(hours=6), utc_now()) == []


def test_active_orders_next_eligible_counts_and_last_effect(ward):
    admission, physician, nurse = ward
    order = make_order(admission, physician)
    other = make_order(admission, physician, drug="Paracetamol", dose=Decimal("1000"), max_doses_24h=None,
                       max_amount_24h=Decimal("4000"), min_interval_minutes=360)
    first = give(admission, nurse, order, minutes_ago=300)
    second = give(admission, nurse, order, minutes_ago=30)
    give(admission, nurse, order, minutes_ago=20, outcome="held", dose=None, reason="Asleep")
    services.record_effect(by=nurse, dose=second, assessed_at=utc_now() - timedelta(minutes=1),
                           effect="asleep", side_effects=[], note=None, idempotency_key="e2")
    db.session.commit()

    now = utc_now()
    rows = {r.id: r for r in queries.active_orders([admission.id], now)}
    row = rows[order.id]
    assert (row.doses_24h, row.amount_24h) == (2, Decimal("2.000"))
    assert row.next_eligible_at == second.observed_at + timedelta(minutes=240)
    assert (row.last_dose_at, row.last_effect, row.prescribed_by) == (second.observed_at, "asleep", "Dr Ada")
    assert rows[other.id].next_eligible_at == now and rows[other.id].doses_24h == 0
    assert first.id != second.id

    services.discontinue(by=physician, order=other, reason="No longer needed")
    db.session.commit()
    assert [r.id for r in queries.active_orders([admission.id], utc_now())] == [order.id]
    # Before the discontinuation it was active.
    assert other.id in {r.id for r in queries.active_orders([admission.id], now)}


def test_superseding_order_counts_doses_of_the_same_drug_and_route(ward):
    admission, physician, nurse = ward
    old = make_order(admission, physician, max_doses_24h=2)
    give(admission, nurse, old, minutes_ago=420)
    give(admission, nurse, old, minutes_ago=150)
    new = make_order(admission, physician, supersedes=old, reason="Lower interval", min_interval_minutes=120,
                     max_doses_24h=3)
    rows = queries.active_orders([admission.id], utc_now())
    assert [r.id for r in rows] == [new.id]
    assert rows[0].doses_24h == 2
    give(admission, nurse, new, minutes_ago=0)
    with pytest.raises(services.DoseRefused) as refused:
        give(admission, nurse, new)
    assert refused.value.rule in ("too_soon", "max_doses_24h")
    db.session.rollback()
    # A different route is a different medicine: its doses do not count.
    iv = make_order(admission, physician, supersedes=new, reason="NBM", route="intravenous")
    assert [r.doses_24h for r in queries.active_orders([admission.id], utc_now())] == [0]
    assert iv.supersedes_id == new.id
