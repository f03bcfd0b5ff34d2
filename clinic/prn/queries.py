"""PRN reads for the chart, board, due list, trends and handover, as plain rows.

These signatures are shared with other features: extend the rows, do not change them. Every time
is UTC and aware. A dose "counts" toward its order's limits when it was given (not refused or
held) and not entered in error; doses given under an order this one superseded count too when the
drug and route are the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import aliased

from clinic.db import in_list, plain_rows
from clinic.entries import current_filter
from clinic.extensions import db
from clinic.models import Assessment, EntryRetraction, PrnDiscontinuation, PrnDose, PrnEffect, PrnOrder, User
from clinic.models.prn import GIVEN
from clinic.scoring import prn

#: How far back doses are read to work out the next eligible time (a week covers any interval).
LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class DoseRow:
    """One charted dose (given, refused or held), with its first effect reassessment."""

    id: int
    admission_id: int
    order_id: int
    drug: str
    dose: Decimal | None
    dose_unit: str
    route: str
    given_at: datetime
    outcome: str
    is_override: bool
    is_breach: bool
    entered_in_error: bool
    reason: str
    given_by: str
    effect: str | None
    effect_at: datetime | None
    override_rule: str | None = None
    override_reason: str | None = None
    breach_rule: str | None = None
    breach_reason: str | None = None
    effect_due_at: datetime | None = None
    side_effects: tuple[str, ...] = ()
    is_late: bool = False
    recorded_at: datetime | None = None
    drug_class: str = prn.OTHER
    effect_id: int | None = None
    #: The scale the dose's order treats, if any (COWS: a dose brings its reassessment forward).
    treats_scale: str | None = None

    @property
    def counts(self) -> bool:
        """Return whether the dose counts toward limits: given and not entered in error."""
        return self.outcome == GIVEN and not self.entered_in_error


@dataclass(frozen=True)
class OrderRow:
    """An active order with where it stands at one instant."""

    id: int
    admission_id: int
    drug: str
    drug_class: str
    dose: Decimal
    dose_unit: str
    route: str
    indication: str
    treats_scale: str | None
    min_interval_minutes: int
    max_doses_24h: int | None
    max_amount_24h: Decimal | None
    score_threshold: int | None
    hold_parameters: dict
    reassess_after_minutes: int
    starts_at: datetime
    stops_at: datetime | None
    prescribed_by: str
    prescribed_at: datetime
    supersedes_id: int | None
    allergy_acknowledged: bool
    #: When a full dose is next allowed by the interval and 24-hour limits; None if never.
    next_eligible_at: datetime | None
    doses_24h: int
    amount_24h: Decimal
    last_dose_at: datetime | None
    last_dose_amount: Decimal | None
    last_effect: str | None
    last_effect_at: datetime | None
    #: The latest result of the scale the order treats, behind its threshold.
    latest_score: int | None = None
    latest_score_at: datetime | None = None

    def limits(self) -> prn.Order:
        return to_limits(self)


def to_limits(order) -> prn.Order:
    """Return the pure-rule view of an order row or model (its effective stop time included)."""
    return prn.Order(
        dose=order.dose, min_interval=timedelta(minutes=order.min_interval_minutes),
        max_doses_24h=order.max_doses_24h, max_amount_24h=order.max_amount_24h,
        starts_at=order.starts_at, stops_at=order.stops_at,
    )


def _retracted():
    return exists().where(EntryRetraction.entry_kind == PrnDose.kind, EntryRetraction.entry_id == PrnDose.id)


def effect_retracted(effect=PrnEffect):
    """The condition "this effect reassessment was marked entered in error"."""
    return exists().where(EntryRetraction.entry_kind == PrnEffect.kind, EntryRetraction.entry_id == effect.id)


# The statements below are built once: building them cost more than running them for a ward's
# few dozen doses (the handover and the board read them on every view).
_FIRST_EFFECTS = (
    select(PrnEffect.dose_id, PrnEffect.effect, PrnEffect.assessed_at, PrnEffect.side_effects, PrnEffect.id)
    .where(in_list(PrnEffect.dose_id, "dose_ids"), ~effect_retracted())
    .order_by(PrnEffect.assessed_at, PrnEffect.id)
)


def _first_effects(dose_ids: Sequence[int]) -> dict[int, tuple]:
    """Return dose id -> (effect, assessed_at, side effects, effect id) of its earliest effect
    reassessment not entered in error."""
    if not dose_ids:
        return {}
    first: dict[int, tuple] = {}
    for row in db.session.execute(_FIRST_EFFECTS, {"dose_ids": list(dose_ids)}):
        first.setdefault(row.dose_id, (row.effect, row.assessed_at, tuple(row.side_effects or ()), row.id))
    return first


_EARLIER = aliased(PrnEffect)
_FIRST_EFFECT_ID = (
    select(_EARLIER.id).where(_EARLIER.dose_id == PrnDose.id, ~effect_retracted(_EARLIER))
    .order_by(_EARLIER.assessed_at, _EARLIER.id).limit(1).correlate(PrnDose).scalar_subquery()
)


def _doses(*where):
    """Return the statement reading doses with their earliest effect not entered in error."""
    return (
        select(PrnDose.id, PrnDose.admission_id, PrnDose.order_id, PrnOrder.drug, PrnOrder.drug_class,
               PrnOrder.treats_scale, PrnDose.dose, PrnOrder.dose_unit, PrnDose.route, PrnDose.observed_at,
               PrnDose.outcome, PrnDose.override_rule, PrnDose.override_reason, PrnDose.breach_rule,
               PrnDose.breach_reason, PrnDose.reason, User.display_name, PrnDose.effect_due_at,
               PrnDose.is_late, PrnDose.recorded_at, _retracted().label("retracted"), PrnEffect.effect,
               PrnEffect.assessed_at.label("effect_at"), PrnEffect.side_effects,
               PrnEffect.id.label("effect_id"))
        .join(PrnOrder, PrnOrder.id == PrnDose.order_id)
        .join(User, User.id == PrnDose.recorded_by_id)
        .outerjoin(PrnEffect, (PrnEffect.dose_id == PrnDose.id) & (PrnEffect.id == _FIRST_EFFECT_ID))
        .where(*where)
        .order_by(PrnDose.observed_at, PrnDose.id)
    )


_DOSES = _doses(in_list(PrnDose.admission_id, "ids"), PrnDose.observed_at >= bindparam("start"),
                PrnDose.observed_at <= bindparam("end"))
# Only the open doses themselves: one left open since day 1 must not read the whole stay.
_ANY_EFFECT = aliased(PrnEffect)
_OPEN_DOSES = _doses(in_list(PrnDose.admission_id, "ids"), PrnDose.outcome == GIVEN,
                     PrnDose.effect_due_at.is_not(None), ~_retracted(),
                     ~exists().where(_ANY_EFFECT.dose_id == PrnDose.id, ~effect_retracted(_ANY_EFFECT)))


def _dose_rows(statement, params: dict) -> list[DoseRow]:
    return [
        DoseRow(
            id=row.id, admission_id=row.admission_id, order_id=row.order_id, drug=row.drug,
            dose=row.dose, dose_unit=row.dose_unit, route=row.route, given_at=row.observed_at,
            outcome=row.outcome, is_override=row.override_rule is not None,
            is_breach=row.breach_rule is not None, entered_in_error=bool(row.retracted),
            reason=row.reason, given_by=row.display_name, effect=row.effect, effect_at=row.effect_at,
            override_rule=row.override_rule, override_reason=row.override_reason,
            breach_rule=row.breach_rule, breach_reason=row.breach_reason,
            effect_due_at=row.effect_due_at, side_effects=tuple(row.side_effects or ()), is_late=row.is_late,
            recorded_at=row.recorded_at, drug_class=row.drug_class, effect_id=row.effect_id,
            treats_scale=row.treats_scale,
        )
        for row in plain_rows(db.session.execute(statement, params))
    ]


def doses_for(admission_ids: Iterable[int], start: datetime, end: datetime) -> list[DoseRow]:
    """Return every dose charted for the admissions with a time given in [start, end], oldest first."""
    ids = list(admission_ids)
    if not ids:
        return []
    return _dose_rows(_DOSES, {"ids": ids, "start": start, "end": end})


def _same_medicine(a, b) -> bool:
    return a.drug.strip().lower() == b.drug.strip().lower() and a.route == b.route


def chain_ids(orders_by_id: dict[int, object], order) -> list[int]:
    """Return the order's id and those of the orders it supersedes for the same drug and route."""
    ids = [order.id]
    current = order
    while current.supersedes_id is not None and current.supersedes_id in orders_by_id:
        previous = orders_by_id[current.supersedes_id]
        if not _same_medicine(previous, order):
            break
        ids.append(previous.id)
        current = previous
    return ids


def counted_doses(order_ids: Sequence[int], since: datetime | None = None) -> list[tuple[datetime, Decimal]]:
    """Return (time given, amount) of the doses that count under these orders, from `since`."""
    query = select(PrnDose.observed_at, PrnDose.dose).where(
        PrnDose.order_id.in_(list(order_ids)), PrnDose.outcome == GIVEN, ~_retracted(),
    )
    if since is not None:
        query = query.where(PrnDose.observed_at > since)
    return [(row.observed_at, row.dose) for row in db.session.execute(query)]


def order_stop(order, discontinued_at: datetime | None) -> datetime | None:
    """Return when an order stops: its stop time or its discontinuation, whichever is first."""
    stops = [t for t in (order.stops_at, discontinued_at) if t is not None]
    return min(stops) if stops else None


_LATEST_SCORES = (
    select(Assessment.admission_id, Assessment.scale, Assessment.total, Assessment.observed_at)
    .where(in_list(Assessment.admission_id, "ids"), in_list(Assessment.scale, "scales"),
           Assessment.total.is_not(None), Assessment.observed_at <= bindparam("at"),
           Assessment.observed_at > bindparam("since"), current_filter(Assessment))
    .order_by(Assessment.observed_at, Assessment.id)
)


def _latest_scores(admission_ids: Sequence[int], scales: set[str],
                   at: datetime) -> dict[tuple[int, str], tuple]:
    if not scales:
        return {}
    latest: dict[tuple[int, str], tuple] = {}
    params = {"ids": list(admission_ids), "scales": sorted(scales), "at": at, "since": at - LOOKBACK}
    for row in db.session.execute(_LATEST_SCORES, params):
        latest[(row.admission_id, row.scale)] = (row.total, row.observed_at)
    return latest


# Plain rows, not PrnOrder objects: chain_ids and order_stop read the same attributes.
_ORDERS = (
    select(PrnOrder.id, PrnOrder.admission_id, PrnOrder.drug, PrnOrder.drug_class, PrnOrder.dose,
           PrnOrder.dose_unit, PrnOrder.route, PrnOrder.indication, PrnOrder.treats_scale,
           PrnOrder.min_interval_minutes, PrnOrder.max_doses_24h, PrnOrder.max_amount_24h,
           PrnOrder.score_threshold, PrnOrder.hold_parameters, PrnOrder.reassess_after_minutes,
           PrnOrder.starts_at, PrnOrder.stops_at, PrnOrder.prescribed_at, PrnOrder.supersedes_id,
           PrnOrder.allergy_acknowledged, PrnDiscontinuation.discontinued_at, User.display_name)
    .join(User, User.id == PrnOrder.prescribed_by_id)
    .outerjoin(PrnDiscontinuation, PrnDiscontinuation.order_id == PrnOrder.id)
    .where(in_list(PrnOrder.admission_id, "ids"))
)
_COUNTED_DOSES = (
    select(PrnDose.id, PrnDose.order_id, PrnDose.observed_at, PrnDose.dose)
    .where(in_list(PrnDose.order_id, "order_ids"), PrnDose.outcome == GIVEN, ~_retracted(),
           PrnDose.observed_at > bindparam("since"), PrnDose.observed_at <= bindparam("at"))
    .order_by(PrnDose.observed_at, PrnDose.id)
)


def active_orders(admission_ids: Iterable[int], at: datetime) -> list[OrderRow]:
    """Return the orders not stopped or discontinued at `at`, with their standing then, by drug."""
    ids = list(admission_ids)
    if not ids:
        return []
    every = plain_rows(db.session.execute(_ORDERS, {"ids": ids}))
    by_id = {order.id: order for order in every}
    active = []
    for order in every:
        stop = order_stop(order, order.discontinued_at)
        if order.prescribed_at <= at and (stop is None or stop > at):
            active.append((order, stop))
    if not active:
        return []
    chains = {order.id: chain_ids(by_id, order) for order, _ in active}
    wanted = sorted({i for chain in chains.values() for i in chain})
    by_order = defaultdict(list)
    params = {"order_ids": wanted, "since": at - LOOKBACK, "at": at}
    for dose in plain_rows(db.session.execute(_COUNTED_DOSES, params)):
        by_order[dose.order_id].append(dose)
    last_ids = []
    for order, _ in active:
        doses = [d for i in chains[order.id] for d in by_order[i]]
        if doses:
            last_ids.append(max(doses, key=lambda d: (d.observed_at, d.id)).id)
    effects = _first_effects(last_ids)
    scores = _latest_scores(ids, {o.treats_scale for o, _ in active if o.treats_scale}, at)
    result = []
    for order, stop in active:
        doses = sorted((d for i in chains[order.id] for d in by_order[i]),
                       key=lambda d: (d.observed_at, d.id))
        given = [(d.observed_at, d.dose) for d in doses]
        limits = prn.Order(dose=order.dose, min_interval=timedelta(minutes=order.min_interval_minutes),
                           max_doses_24h=order.max_doses_24h, max_amount_24h=order.max_amount_24h,
                           starts_at=order.starts_at, stops_at=stop)
        decision = prn.check(limits, given, max(at, order.starts_at), order.dose)
        count, amount = prn.counted_in_24h(given, at)
        last = doses[-1] if doses else None
        effect, effect_at, *_ = effects.get(last.id, (None, None)) if last else (None, None)
        score, score_at = scores.get((order.admission_id, order.treats_scale), (None, None))
        result.append(OrderRow(
            id=order.id, admission_id=order.admission_id, drug=order.drug, drug_class=order.drug_class,
            dose=order.dose, dose_unit=order.dose_unit, route=order.route, indication=order.indication,
            treats_scale=order.treats_scale, min_interval_minutes=order.min_interval_minutes,
            max_doses_24h=order.max_doses_24h, max_amount_24h=order.max_amount_24h,
            score_threshold=order.score_threshold, hold_parameters=dict(order.hold_parameters or {}),
            reassess_after_minutes=order.reassess_after_minutes, starts_at=order.starts_at, stops_at=stop,
            prescribed_by=order.display_name, prescribed_at=order.prescribed_at,
            supersedes_id=order.supersedes_id, allergy_acknowledged=order.allergy_acknowledged,
            next_eligible_at=decision.next_eligible_at, doses_24h=count, amount_24h=amount,
            last_dose_at=last.observed_at if last else None, last_dose_amount=last.dose if last else None,
            last_effect=effect, last_effect_at=effect_at, latest_score=score, latest_score_at=score_at,
        ))
    result.sort(key=lambda r: (r.admission_id, r.drug.lower(), r.id))
    return result


def open_follow_ups(admission_ids: Iterable[int]) -> list[DoseRow]:
    """Return the given doses whose effect is not yet reassessed, oldest due first."""
    ids = list(admission_ids)
    if not ids:
        return []
    return sorted(_dose_rows(_OPEN_DOSES, {"ids": ids}), key=lambda d: (d.effect_due_at, d.id))


def open_follow_ups_among(doses: Iterable[DoseRow]) -> list[DoseRow]:
    """Return `open_follow_ups` among doses already read (doses_for), oldest due first."""
    return sorted((d for d in doses if d.counts and d.effect_due_at is not None and d.effect is None),
                  key=lambda d: (d.effect_due_at, d.id))


def treated_times_among(doses: Iterable[DoseRow], since: datetime) -> dict[tuple[int, str], list[datetime]]:
    """Return `treated_dose_times` among doses already read (doses_for) that were given after `since`."""
    result: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for dose in doses:
        if dose.counts and dose.treats_scale is not None and dose.given_at > since:
            result[(dose.admission_id, dose.treats_scale)].append(dose.given_at)
    return dict(result)


def treated_dose_times(admission_ids: Iterable[int],
                       since: datetime) -> dict[tuple[int, str], list[datetime]]:
    """Return the times of counted doses after `since`, by admission and the scale their order treats."""
    ids = list(admission_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(PrnDose.admission_id, PrnOrder.treats_scale, PrnDose.observed_at)
        .join(PrnOrder, PrnOrder.id == PrnDose.order_id)
        .where(PrnDose.admission_id.in_(ids), PrnOrder.treats_scale.is_not(None), PrnDose.outcome == GIVEN,
               PrnDose.observed_at > since, ~_retracted())
    ).all()
    result: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for row in rows:
        result[(row.admission_id, row.treats_scale)].append(row.observed_at)
    return dict(result)


def risky_combination(admission_id: int, at: datetime) -> bool:
    """Return whether a benzodiazepine and an opioid order are both active for the admission."""
    return prn.risky_combination(order.drug_class for order in active_orders([admission_id], at))



def effects_of(dose_id: int) -> list[tuple[PrnEffect, EntryRetraction | None]]:
    """Return every effect reassessment of a dose, oldest first, each with its entered-in-error mark."""
    return [tuple(row) for row in db.session.execute(
        select(PrnEffect, EntryRetraction)
        .outerjoin(EntryRetraction, (EntryRetraction.entry_kind == PrnEffect.kind)
                   & (EntryRetraction.entry_id == PrnEffect.id))
        .where(PrnEffect.dose_id == dose_id).order_by(PrnEffect.assessed_at, PrnEffect.id)
    ).all()]
