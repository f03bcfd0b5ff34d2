"""PRN (as-needed) medication limits: when a dose may be given under its order (REFERENCE §7).

Pure rules, no Flask and no database. ``check`` decides whether one amount may be given at one
instant, given the doses that count (not refused, held or entered in error), and when it next
could be. Score thresholds and hold parameters are separate functions because they depend on the
latest charted results, not on the dose history.

The 24-hour window is rolling and half-open, (t − 24 h, t]; every window that would contain the new
dose must stay within the limits, so a back-dated dose has to fit between the doses around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

DAY = timedelta(hours=24)

NOT_STARTED = "not_started"
STOPPED = "stopped"
OVER_DOSE = "over_dose"
TOO_SOON = "too_soon"
MAX_DOSES = "max_doses_24h"
MAX_AMOUNT = "max_amount_24h"
#: The order rules in the order they are checked; the first broken one is reported.
RULES: tuple[str, ...] = (NOT_STARTED, STOPPED, OVER_DOSE, TOO_SOON, MAX_DOSES, MAX_AMOUNT)

BELOW_THRESHOLD = "below_threshold"
NO_SCORE = "no_score"
HOLD = "hold"
HOLD_UNCHECKED = "hold_unchecked"

#: Hold parameters: "hold if <vital> is below <value>", on the latest vital signs.
#: Vital signs older than this before a dose cannot clear its hold parameters (a default for the
#: clinical lead to confirm: REFERENCE §7 names hold parameters but not how recent the set must be).
HOLD_VITALS_MAX_AGE = timedelta(minutes=60)
HOLD_PARAMETERS: dict[str, str] = {
    "systolic_bp": "systolic blood pressure",
    "diastolic_bp": "diastolic blood pressure",
    "heart_rate": "heart rate",
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO2",
}

#: Rule -> plain words, used in refusal messages.
RULE_LABELS: dict[str, str] = {
    NOT_STARTED: "the order has not started yet",
    STOPPED: "the order has stopped",
    OVER_DOSE: "the amount is above the ordered dose",
    TOO_SOON: "too soon after another dose (minimum interval)",
    MAX_DOSES: "the maximum number of doses in 24 hours would be exceeded",
    MAX_AMOUNT: "the maximum amount in 24 hours would be exceeded",
    BELOW_THRESHOLD: "the latest score is below the order's threshold",
    NO_SCORE: "there is no score for the order's threshold",
    HOLD: "a hold parameter is met",
    HOLD_UNCHECKED: "a hold parameter cannot be checked: no vital signs in the last hour",
}


#: Rule -> the few words naming it where a dose is marked as an override or a breach of it.
RULE_NAMES: dict[str, str] = {
    NOT_STARTED: "order not started",
    STOPPED: "order stopped",
    OVER_DOSE: "above the ordered dose",
    TOO_SOON: "minimum interval",
    MAX_DOSES: "24 h dose count",
    MAX_AMOUNT: "24 h amount",
    BELOW_THRESHOLD: "score threshold",
    NO_SCORE: "no score for the threshold",
    HOLD: "hold parameter",
    HOLD_UNCHECKED: "hold parameter not checked",
}


@dataclass(frozen=True)
class Order:
    """The limits of one PRN order; every time is aware."""

    dose: Decimal
    min_interval: timedelta
    max_doses_24h: int | None
    max_amount_24h: Decimal | None
    starts_at: datetime
    stops_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """Whether a dose may be given, the first rule it breaks, and when it next could be."""

    allowed: bool
    rule: str | None
    next_eligible_at: datetime | None


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}")
    return value


def _positive(value: Decimal, name: str) -> Decimal:
    if not isinstance(value, Decimal | int) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive amount, not {value!r}")
    return Decimal(value)


def _validate(order: Order) -> None:
    _positive(order.dose, "dose")
    if not isinstance(order.min_interval, timedelta) or order.min_interval <= timedelta(0):
        raise ValueError(f"the minimum interval must be positive, not {order.min_interval!r}")
    if order.max_doses_24h is not None and (
        isinstance(order.max_doses_24h, bool) or not isinstance(order.max_doses_24h, int)
        or order.max_doses_24h < 1
    ):
        raise ValueError(f"the maximum doses in 24 h must be a whole number of at least 1, "
                         f"not {order.max_doses_24h!r}")
    if order.max_amount_24h is not None:
        _positive(order.max_amount_24h, "the maximum amount in 24 h")
    _aware(order.starts_at, "starts_at")
    if order.stops_at is not None:
        _aware(order.stops_at, "stops_at")


Doses = list[tuple[datetime, Decimal]]


def _window_rule(order: Order, doses: Doses, at: datetime, amount: Decimal) -> str | None:
    """Return the 24-hour rule that giving `amount` at `at` breaks, checking every window holding it."""
    if order.max_doses_24h is None and order.max_amount_24h is None:
        return None
    # The fullest window containing `at` ends at `at` or at a later dose less than 24 h after it.
    ends = [at] + [when for when, _ in doses if at < when < at + DAY]
    broken_amount = False
    for end in ends:
        inside = [quantity for when, quantity in doses if end - DAY < when <= end]
        if order.max_doses_24h is not None and len(inside) + 1 > order.max_doses_24h:
            return MAX_DOSES
        if order.max_amount_24h is not None and sum(inside, amount) > order.max_amount_24h:
            broken_amount = True
    return MAX_AMOUNT if broken_amount else None


def _rule_at(order: Order, doses: Doses, at: datetime, amount: Decimal) -> str | None:
    if at < order.starts_at:
        return NOT_STARTED
    if order.stops_at is not None and at >= order.stops_at:
        return STOPPED
    if amount > order.dose:
        return OVER_DOSE
    if any(abs(when - at) < order.min_interval for when, _ in doses):
        return TOO_SOON
    return _window_rule(order, doses, at, amount)


def check(order: Order, given: Iterable[tuple[datetime, Decimal]], at: datetime, amount: Decimal) -> Decision:
    """Decide whether `amount` may be given at `at` under `order`, given the doses that count."""
    _validate(order)
    _aware(at, "at")
    amount = _positive(amount, "amount")
    doses = [(_aware(when, "a given dose's time"), _positive(quantity, "a given dose's amount"))
             for when, quantity in given]
    rule = _rule_at(order, doses, at, amount)
    if rule is None:
        return Decision(True, None, at)
    return Decision(False, rule, _next_eligible(order, doses, at, amount))


def _next_eligible(order: Order, doses: list[tuple[datetime, Decimal]], at: datetime,
                   amount: Decimal) -> datetime | None:
    """Return the earliest instant from `at` at which `amount` would be allowed, or None if never."""
    if amount > order.dose or (order.max_amount_24h is not None and amount > order.max_amount_24h):
        return None
    start = max(at, order.starts_at)
    # Allowed stretches begin only at the start, where an interval runs out (a dose + the
    # minimum interval) or where a dose leaves the 24-hour window (a dose + 24 h).
    candidates = {start}
    for when, _ in doses:
        candidates.update(t for t in (when + order.min_interval, when + DAY) if t > start)
    for candidate in sorted(candidates):
        if order.stops_at is not None and candidate >= order.stops_at:
            return None
        if _rule_at(order, doses, candidate, amount) is None:
            return candidate
    return None  # pragma: no cover - past the last candidate nothing counts any more


def counted_in_24h(given: Iterable[tuple[datetime, Decimal]], at: datetime) -> tuple[int, Decimal]:
    """Return how many doses and how much were given in the 24 hours ending at `at`, (at − 24 h, at]."""
    _aware(at, "at")
    inside = [quantity for when, quantity in given if at - DAY < _aware(when, "a dose's time") <= at]
    return len(inside), sum(inside, Decimal(0))


def threshold_rule(threshold: int | None, score: int | None) -> str | None:
    """Return the rule a score threshold breaks ("give when score ≥ threshold"), or None."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise ValueError(f"a score threshold must be a whole number of at least 0, not {threshold!r}")
    if score is None:
        return NO_SCORE
    return None if score >= threshold else BELOW_THRESHOLD


def hold_rule(hold: Mapping[str, int], vitals: Mapping[str, int | None] | None, *,
              measured_at: datetime | None = None, at: datetime | None = None,
              max_age: timedelta = HOLD_VITALS_MAX_AGE) -> tuple[str | None, list[str]]:
    """Return the hold rule met ("hold if <vital> below <value>") and the parameters behind it.

    With no vital signs, or without a value a parameter needs, the dose cannot be checked and
    is held back: the rule is HOLD_UNCHECKED with the parameters that could not be checked. Vital
    signs measured (`measured_at`) more than `max_age` before the dose (`at`) still hold it back
    when they meet a parameter (the worst thing known), but cannot clear it: the rest are unchecked.
    """
    for name, value in hold.items():
        if name not in HOLD_PARAMETERS:
            raise ValueError(f"{name!r} is not a hold parameter ({', '.join(HOLD_PARAMETERS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"a hold value must be a whole number, not {value!r}")
    if (measured_at is None) != (at is None):
        raise ValueError("give both measured_at and at, or neither")
    if at is not None and (at.tzinfo is None or measured_at.tzinfo is None):
        raise ValueError("measured_at and at must be aware")
    if not hold:
        return None, []
    met = [name for name, value in hold.items()
           if vitals is not None and vitals.get(name) is not None and vitals[name] < value]
    if met:
        return HOLD, met
    stale = at is not None and at - measured_at > max_age
    unchecked = [name for name in hold if vitals is None or vitals.get(name) is None or stale]
    if unchecked:
        return HOLD_UNCHECKED, unchecked
    return None, []


def describe_hold(hold: Mapping[str, int]) -> str:
    """Return the hold parameters as words: "hold if systolic blood pressure < 90 or …"."""
    if not hold:
        return ""
    return "hold if " + " or ".join(f"{HOLD_PARAMETERS[name]} < {value}" for name, value in hold.items())


BENZODIAZEPINE = "benzodiazepine"
OPIOID = "opioid"
OTHER = "other"

#: Names (generic and common brand) by class, for the benzodiazepine + opioid warning.
DRUG_CLASSES: dict[str, tuple[str, ...]] = {
    BENZODIAZEPINE: (
        "alprazolam", "chlordiazepoxide", "clobazam", "clonazepam", "diazepam", "lorazepam",
        "midazolam", "oxazepam", "temazepam", "nitrazepam", "librium", "valium", "ativan", "xanax",
    ),
    OPIOID: (
        "buprenorphine", "codeine", "dihydrocodeine", "fentanyl", "hydrocodone", "hydromorphone",
        "methadone", "morphine", "oxycodone", "tramadol", "tapentadol", "pethidine", "subutex",
        "suboxone",
    ),
}


def _words(text: str) -> set[str]:
    return {word for word in "".join(c if c.isalnum() else " " for c in text.lower()).split() if word}


def drug_class(drug: str) -> str:
    """Return "benzodiazepine", "opioid" or "other" for a drug name as typed."""
    words = _words(drug)
    for name, members in DRUG_CLASSES.items():
        if words & set(members):
            return name
    return OTHER


def allergy_matches(drug: str, allergies: str) -> list[str]:
    """Return the words of the drug name (and its class) that the allergy text names."""
    listed = _words(allergies)
    matches = sorted(word for word in _words(drug) if len(word) > 2 and word in listed)
    kind = drug_class(drug)
    if kind != OTHER:
        # "Allergic to benzodiazepines" names no drug but covers them all.
        if any(word.startswith(kind[:7]) for word in listed) or listed & set(DRUG_CLASSES[kind]):
            matches.append(kind)
    return matches


def risky_combination(classes: Iterable[str]) -> bool:
    """Return whether a benzodiazepine and an opioid are both active."""
    present = set(classes)
    return BENZODIAZEPINE in present and OPIOID in present
