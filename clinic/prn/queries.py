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

from sqlalchemy import exists, select

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


def effect_retracted():
    """The condition "this effect reassessment was marked entered in error"."""
    return exists().where(EntryRetraction.entry_kind == PrnEffect.kind,
                          EntryRetraction.entry_id == PrnEffect.id)


def _first_effects(dose_ids: Sequence[int]) -> dict[int, tuple]:
    """Return dose id -> (effect, assessed_at, side effects, effect id) of its earliest effect
    reassessment not entered in error."""
    if not dose_ids:
        return {}
    rows = db.session.execute(
        select(PrnEffect.dose_id, PrnEffect.effect, PrnEffect.assessed_at, PrnEffect.side_effects,
               PrnEffect.id)
        .where(PrnEffect.dose_id.in_(dose_ids), ~effect_retracted())
        .order_by(PrnEffect.assessed_at, PrnEffect.id)
    ).all()
    first: dict[int, tuple] = {}
    for dose_id, effect, assessed_at, side_effects, effect_id in rows:
        if dose_id not in first:
            first[dose_id] = (effect, assessed_at, tuple(side_effects or ()), effect_id)
    return first


def doses_for(admission_ids: Iterable[int], start: datetime, end: datetime) -> list[DoseRow]:
    """Return every dose charted for the admissions with a time given in [start, end], oldest first."""
    ids = list(admission_ids)
    if not ids:
        return []
    return _dose_rows(PrnDose.admission_id.in_(ids), PrnDose.observed_at >= start, PrnDose.observed_at <= end)


def _dose_rows(*where) -> list[DoseRow]:
    rows = db.session.execute(
        select(PrnDose.id, PrnDose.admission_id, PrnDose.order_id, PrnOrder.drug, PrnOrder.drug_class,
               PrnDose.dose, PrnOrder.dose_unit, PrnDose.route, PrnDose.observed_at, PrnDose.outcome,
               PrnDose.override_rule, PrnDose.override_reason, PrnDose.breach_rule, PrnDose.breach_reason,
               PrnDose.reason, User.display_name, PrnDose.effect_due_at, PrnDose.is_late,
               PrnDose.recorded_at, _retracted().label("retracted"))
        .join(PrnOrder, PrnOrder.id == PrnDose.order_id)
        .join(User, User.id == PrnDose.recorded_by_id)
        .where(*where)
        .order_by(PrnDose.observed_at, PrnDose.id)
    ).all()
    effects = _first_effects([row[0] for row in rows])
    result = []
    # Unpacked by position: a whole stay's doses pass here (the trends), and a Row's lookup by
    # name cost more than building the DoseRow.
    for (dose_id, admission_id, order_id, drug, drug_class, dose, dose_unit, route, observed_at, outcome,
         override_rule, override_reason, breach_rule, breach_reason, reason, given_by, effect_due_at,
         is_late, recorded_at, retracted) in rows:
        effect, effect_at, side, effect_id = effects.get(dose_id, (None, None, (), None))
        result.append(DoseRow(
            id=dose_id, admission_id=admission_id, order_id=order_id, drug=drug,
            dose=dose, dose_unit=dose_unit, route=route, given_at=observed_at,
            outcome=outcome, is_override=override_rule is not None,
            is_breach=breach_rule is not None, entered_in_error=bool(retracted),
            reason=reason, given_by=given_by, effect=effect, effect_at=effect_at,
            override_rule=override_rule, override_reason=override_reason,
            breach_rule=breach_rule, breach_reason=breach_reason,
            effect_due_at=effect_due_at, side_effects=side, is_late=is_late,
            recorded_at=recorded_at, drug_class=drug_class, effect_id=effect_id,
        ))
    return result


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


def _latest_scores(admission_ids: Sequence[int], scales: set[str],
                   at: datetime) -> dict[tuple[int, str], tuple]:
    if not scales:
        return {}
    rows = db.session.execute(
        select(Assessment.admission_id, Assessment.scale, Assessment.total, Assessment.observed_at)
        .where(Assessment.admission_id.in_(admission_ids), Assessment.scale.in_(scales),
               Assessment.total.is_not(None), Assessment.observed_at <= at,
               Assessment.observed_at > at - LOOKBACK)
        .where(current_filter(Assessment))
        .order_by(Assessment.observed_at, Assessment.id)
    ).all()
    latest: dict[tuple[int, str], tuple] = {}
    for row in rows:
        latest[(row.admission_id, row.scale)] = (row.total, row.observed_at)
    return latest


def active_orders(admission_ids: Iterable[int], at: datetime) -> list[OrderRow]:
    """Return the orders not stopped or discontinued at `at`, with their standing then, by drug."""
    ids = list(admission_ids)
    if not ids:
        return []
    every = db.session.execute(
        select(PrnOrder, PrnDiscontinuation.discontinued_at, User.display_name)
        .join(User, User.id == PrnOrder.prescribed_by_id)
        .outerjoin(PrnDiscontinuation, PrnDiscontinuation.order_id == PrnOrder.id)
        .where(PrnOrder.admission_id.in_(ids))
    ).all()
    by_id = {row.PrnOrder.id: row.PrnOrder for row in every}
    active = []
    for row in every:
        stop = order_stop(row.PrnOrder, row.discontinued_at)
        if row.PrnOrder.prescribed_at <= at and (stop is None or stop > at):
            active.append((row.PrnOrder, stop, row.display_name))
    if not active:
        return []
    chains = {order.id: chain_ids(by_id, order) for order, _, _ in active}
    wanted = sorted({i for chain in chains.values() for i in chain})
    dose_rows = db.session.execute(
        select(PrnDose.id, PrnDose.order_id, PrnDose.observed_at, PrnDose.dose)
        .where(PrnDose.order_id.in_(wanted), PrnDose.outcome == GIVEN, ~_retracted(),
               PrnDose.observed_at > at - LOOKBACK, PrnDose.observed_at <= at)
        .order_by(PrnDose.observed_at, PrnDose.id)
    ).all()
    by_order = defaultdict(list)
    for dose in dose_rows:
        by_order[dose.order_id].append(dose)
    last_ids = []
    for order, _, _ in active:
        doses = [d for i in chains[order.id] for d in by_order[i]]
        if doses:
            last_ids.append(max(doses, key=lambda d: (d.observed_at, d.id)).id)
    effects = _first_effects(last_ids)
    scores = _latest_scores(ids, {o.treats_scale for o, _, _ in active if o.treats_scale}, at)
    result = []
    for order, stop, prescriber in active:
        doses = sorted((d for i in chains[order.id] for d in by_order[i]),
                       key=lambda d: (d.observed_at, d.id))
        given = [(d.observed_at, d.dose) for d in doses]
        limits = prn.Order(dose=order.dose, min_interval=order.min_interval,
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
            prescribed_by=prescriber, prescribed_at=order.prescribed_at, supersedes_id=order.supersedes_id,
            allergy_acknowledged=order.allergy_acknowledged, next_eligible_at=decision.next_eligible_at,
            doses_24h=count, amount_24h=amount, last_dose_at=last.observed_at if last else None,
            last_dose_amount=last.dose if last else None, last_effect=effect, last_effect_at=effect_at,
            latest_score=score, latest_score_at=score_at,
        ))
    result.sort(key=lambda r: (r.admission_id, r.drug.lower(), r.id))
    return result


def open_follow_ups(admission_ids: Iterable[int]) -> list[DoseRow]:
    """Return the given doses whose effect is not yet reassessed, oldest due first."""
    ids = list(admission_ids)
    if not ids:
        return []
    # Only the open doses themselves: one left open since day 1 must not read the whole stay.
    doses = _dose_rows(PrnDose.admission_id.in_(ids), PrnDose.outcome == GIVEN,
                       PrnDose.effect_due_at.is_not(None), ~_retracted(),
                       ~exists().where(PrnEffect.dose_id == PrnDose.id, ~effect_retracted()))
    return sorted(doses, key=lambda d: (d.effect_due_at, d.id))


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
