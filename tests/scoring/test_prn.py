"""PRN limit rules: every rule at its boundary, worked examples, and properties."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import prn

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
ONE = Decimal("1")


def order(**changes):
    fields = dict(dose=ONE, min_interval=4 * H, max_doses_24h=4, max_amount_24h=None,
                  starts_at=T0, stops_at=None)
    fields.update(changes)
    return prn.Order(**fields)


def doses(*hours, amount=ONE):
    return [(T0 + timedelta(hours=h), amount) for h in hours]


@pytest.mark.parametrize(
    "changes, given_hours, at_hours, amount, rule, next_hours",
    [
        # Start and stop.
        ({}, (), 0, ONE, None, 0),
        ({}, (), -0.5, ONE, "not_started", 0),
        ({"stops_at": T0 + 10 * H}, (), 9.99, ONE, None, 9.99),
        ({"stops_at": T0 + 10 * H}, (), 10, ONE, "stopped", None),
        ({"stops_at": T0 + 10 * H}, (8,), 9, ONE, "too_soon", None),
        # Dose.
        ({}, (), 1, Decimal("1.0"), None, 1),
        ({}, (), 1, Decimal("1.01"), "over_dose", None),
        # Minimum interval: exactly apart is allowed, on either side.
        ({}, (0,), 4, ONE, None, 4),
        ({}, (0,), 3.99, ONE, "too_soon", 4),
        ({}, (8,), 4, ONE, None, 4),
        ({}, (8,), 4.5, ONE, "too_soon", 12),
        ({}, (0,), 0, ONE, "too_soon", 4),
        # A back-dated dose must fit between the doses around it.
        ({}, (0, 8), 4, ONE, None, 4),
        ({}, (0, 7), 4, ONE, "too_soon", 11),
        # Count: the window is (t - 24 h, t]; a dose exactly 24 h earlier no longer counts.
        ({}, (0, 4, 8, 12), 16, ONE, "max_doses_24h", 24),
        ({}, (0, 4, 8, 12), 24, ONE, None, 24),
        ({"max_doses_24h": 1}, (10,), 33.99, ONE, "max_doses_24h", 34),
        # A back-dated dose that would overfill a window ending at a later dose.
        ({"max_doses_24h": 2}, (4, 8), 0, ONE, "max_doses_24h", 28),
        # Amount.
        ({"max_doses_24h": None, "max_amount_24h": Decimal("2.5"), "dose": Decimal("2")},
         (0,), 4, Decimal("1"), None, 4),
        ({"max_doses_24h": None, "max_amount_24h": Decimal("2.5"), "dose": Decimal("2")},
         (0,), 4, Decimal("2"), "max_amount_24h", 24),
        ({"max_doses_24h": None, "max_amount_24h": Decimal("1.5"), "dose": Decimal("2")},
         (), 0, Decimal("2.5"), "over_dose", None),
        ({"max_doses_24h": None, "max_amount_24h": Decimal("1.5"), "dose": Decimal("2")},
         (), 0, Decimal("1.6"), "max_amount_24h", None),
        # Both limits: the count is reported first.
        ({"max_doses_24h": 2, "max_amount_24h": Decimal("2")}, (0, 4), 8, ONE, "max_doses_24h", 24),
    ],
)
def test_rules_at_their_boundaries(changes, given_hours, at_hours, amount, rule, next_hours):
    decision = prn.check(order(**changes), doses(*given_hours), T0 + timedelta(hours=at_hours), amount)
    assert decision.rule == rule
    assert decision.allowed is (rule is None)
    expected = None if next_hours is None else T0 + timedelta(hours=next_hours)
    assert decision.next_eligible_at == expected


def test_rule_order_reports_the_first_broken():
    stopped = order(stops_at=T0 + H)
    assert prn.check(stopped, doses(1), T0 + 2 * H, Decimal("5")).rule == "stopped"
    assert prn.check(order(), doses(0), T0 + H, Decimal("5")).rule == "over_dose"


@pytest.mark.parametrize(
    "changes, at, amount",
    [
        ({}, datetime(2026, 3, 10, 8), ONE),
        ({"starts_at": datetime(2026, 3, 10, 8)}, T0, ONE),
        ({"stops_at": datetime(2026, 3, 11)}, T0, ONE),
        ({}, T0, Decimal("0")),
        ({}, T0, Decimal("-1")),
        ({"dose": Decimal("0")}, T0, ONE),
        ({"dose": Decimal("-1")}, T0, ONE),
        ({"min_interval": timedelta(0)}, T0, ONE),
        ({"min_interval": -H}, T0, ONE),
        ({"max_doses_24h": 0}, T0, ONE),
        ({"max_amount_24h": Decimal("0")}, T0, ONE),
    ],
)
def test_bad_input_raises(changes, at, amount):
    with pytest.raises(ValueError):
        prn.check(order(**changes), [], at, amount)


def test_naive_given_time_raises():
    with pytest.raises(ValueError):
        prn.check(order(), [(datetime(2026, 3, 10, 9), ONE)], T0 + 5 * H, ONE)


def test_counted_in_24h_is_half_open():
    given = doses(0, 4, 23.5)
    assert prn.counted_in_24h(given, T0 + 24 * H) == (2, Decimal("2"))
    assert prn.counted_in_24h(given, T0 + 23 * H) == (2, Decimal("2"))


@pytest.mark.parametrize(
    "threshold, score, rule",
    [(None, None, None), (10, None, "no_score"), (10, 9, "below_threshold"), (10, 10, None), (0, 0, None)],
)
def test_threshold(threshold, score, rule):
    assert prn.threshold_rule(threshold, score) == rule


def test_threshold_refuses_bad_values():
    with pytest.raises(ValueError):
        prn.threshold_rule(-1, 3)


@pytest.mark.parametrize(
    "hold, vitals, expected",
    [
        ({}, None, (None, [])),
        ({"systolic_bp": 90}, {"systolic_bp": 90}, (None, [])),
        ({"systolic_bp": 90}, {"systolic_bp": 89}, ("hold", ["systolic_bp"])),
        ({"systolic_bp": 90, "heart_rate": 60}, {"systolic_bp": 120, "heart_rate": 59},
         ("hold", ["heart_rate"])),
        ({"systolic_bp": 90}, None, ("hold_unchecked", ["systolic_bp"])),
        ({"systolic_bp": 90, "heart_rate": 60}, {"systolic_bp": 120, "heart_rate": None},
         ("hold_unchecked", ["heart_rate"])),
        # A parameter met outranks one that cannot be checked.
        ({"systolic_bp": 90, "heart_rate": 60}, {"systolic_bp": 80}, ("hold", ["systolic_bp"])),
    ],
)
def test_hold(hold, vitals, expected):
    assert prn.hold_rule(hold, vitals) == expected


AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "minutes_old, vitals, expected",
    [
        (60, {"systolic_bp": 120}, (None, [])),
        (61, {"systolic_bp": 120}, ("hold_unchecked", ["systolic_bp"])),
        # Old vital signs that meet a parameter still hold the dose back: the worst thing known.
        (600, {"systolic_bp": 85}, ("hold", ["systolic_bp"])),
    ],
)
def test_old_vital_signs_cannot_clear_a_hold(minutes_old, vitals, expected):
    measured = AT - timedelta(minutes=minutes_old)
    assert prn.hold_rule({"systolic_bp": 90}, vitals, measured_at=measured, at=AT) == expected


@given(st.integers(0, 24 * 60), st.integers(40, 200), st.integers(60, 120))
def test_a_hold_is_only_cleared_by_fresh_values_above_it(minutes_old, value, limit):
    rule, _ = prn.hold_rule({"systolic_bp": limit}, {"systolic_bp": value},
                            measured_at=AT - timedelta(minutes=minutes_old), at=AT)
    assert (rule is None) == (value >= limit and minutes_old <= 60)


def test_hold_refuses_unknown_parameters():
    with pytest.raises(ValueError):
        prn.hold_rule({"temperature": 35}, {})
    assert prn.describe_hold({"systolic_bp": 90, "heart_rate": 60}) == (
        "hold if systolic blood pressure < 90 or heart rate < 60")


orders = st.builds(
    prn.Order,
    dose=st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2")]),
    min_interval=st.integers(1, 8 * 60).map(lambda m: timedelta(minutes=m)),
    max_doses_24h=st.one_of(st.none(), st.integers(1, 6)),
    max_amount_24h=st.one_of(st.none(), st.sampled_from([Decimal("1"), Decimal("2.5"), Decimal("4")])),
    starts_at=st.just(T0),
    stops_at=st.one_of(st.none(), st.integers(1, 72 * 60).map(lambda m: T0 + timedelta(minutes=m))),
)
amounts = st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2")])
attempts = st.lists(
    st.tuples(st.integers(-60, 72 * 60), st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2")])),
    max_size=25,
)


def _within_limits(o, given):
    times = sorted(when for when, _ in given)
    for earlier, later in zip(times, times[1:], strict=False):
        assert later - earlier >= o.min_interval
    for end, _ in given:
        inside = [q for when, q in given if end - prn.DAY < when <= end]
        assert o.max_doses_24h is None or len(inside) <= o.max_doses_24h
        assert o.max_amount_24h is None or sum(inside, Decimal(0)) <= o.max_amount_24h
    for when, quantity in given:
        assert when >= o.starts_at and (o.stops_at is None or when < o.stops_at)
        assert quantity <= o.dose


@settings(max_examples=300, deadline=None)
@given(orders, attempts)
def test_accepted_doses_never_break_the_order(o, tries):
    """Whatever order doses are tried in, including back-dated ones, the accepted set obeys the order."""
    accepted = []
    for minutes, amount in tries:
        at = T0 + timedelta(minutes=minutes)
        decision = prn.check(o, accepted, at, amount)
        if decision.allowed:
            accepted.append((at, amount))
    _within_limits(o, accepted)


@settings(max_examples=300, deadline=None)
@given(orders, attempts, st.integers(-60, 96 * 60), amounts)
def test_next_eligible_is_itself_accepted_and_earliest(o, tries, minutes, amount):
    accepted = []
    for m, a in tries:
        if prn.check(o, accepted, T0 + timedelta(minutes=m), a).allowed:
            accepted.append((T0 + timedelta(minutes=m), a))
    at = T0 + timedelta(minutes=minutes)
    decision = prn.check(o, accepted, at, amount)
    if decision.allowed:
        assert decision.next_eligible_at == at
    nxt = decision.next_eligible_at
    if nxt is not None:
        assert nxt >= at
        assert prn.check(o, accepted, nxt, amount).allowed
        # Nothing a minute earlier (and not before `at`) would have been accepted.
        earlier = nxt - timedelta(minutes=1)
        if earlier >= at:
            assert not prn.check(o, accepted, earlier, amount).allowed
    elif not decision.allowed:
        # "Never": stopped by then, or the amount can never fit.
        assert (o.stops_at is not None) or amount > o.dose or (
            o.max_amount_24h is not None and amount > o.max_amount_24h)


@pytest.mark.parametrize(
    "drug, kind",
    [("Lorazepam", "benzodiazepine"), ("diazepam (Valium)", "benzodiazepine"), ("Oxycodone", "opioid"),
     ("Methadone liquid", "opioid"), ("Paracetamol", "other"), ("Clonidine", "other")],
)
def test_drug_class(drug, kind):
    assert prn.drug_class(drug) == kind


@pytest.mark.parametrize(
    "drug, allergies, matches",
    [
        ("Ibuprofen", "No known drug allergies", []),
        ("Ibuprofen", "ibuprofen (rash)", ["ibuprofen"]),
        ("IBUPROFEN", "Penicillin; Ibuprofen - angioedema", ["ibuprofen"]),
        ("Lorazepam", "benzodiazepines: paradoxical agitation", ["benzodiazepine"]),
        ("Diazepam", "lorazepam", ["benzodiazepine"]),
        ("Paracetamol", "penicillin", []),
    ],
)
def test_allergy_matches(drug, allergies, matches):
    assert prn.allergy_matches(drug, allergies) == matches


def test_risky_combination():
    assert prn.risky_combination(["benzodiazepine", "other", "opioid"])
    assert not prn.risky_combination(["benzodiazepine", "benzodiazepine", "other"])
