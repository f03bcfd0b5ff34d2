"""Write PRN orders, doses and effect reassessments under the order's limits (REFERENCE §7).

Giving a dose reads the doses that count and decides under a lock on the admission row, so two
nurses giving the same order at once cannot both succeed: PostgreSQL takes the row with SELECT …
FOR UPDATE; SQLite transactions here begin IMMEDIATE (clinic.db), which already serialises writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, select

from clinic import audit, entries
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations.services import raise_automatic
from clinic.extensions import db
from clinic.models import (
    Admission,
    Assessment,
    EntryRetraction,
    PrnDiscontinuation,
    PrnDose,
    PrnEffect,
    PrnOrder,
    User,
    VitalSigns,
)
from clinic.models.prn import EFFECTS, GIVEN, OUTCOMES, SIDE_EFFECTS
from clinic.prn import queries
from clinic.scoring import prn
from clinic.timefmt import local_time

#: A dose charted this long after its time given was already given: a broken limit is then a
#: breach to record and escalate, not a refusal.
BACKDATED = timedelta(minutes=10)
#: Rules a unit may allow a nurse to override with a reason; the order's own bounds are not.
OVERRIDABLE = (prn.TOO_SOON, prn.MAX_DOSES, prn.MAX_AMOUNT, prn.BELOW_THRESHOLD, prn.NO_SCORE,
               prn.HOLD, prn.HOLD_UNCHECKED)
ROUTES = ("oral", "sublingual", "buccal", "intramuscular", "intravenous", "subcutaneous", "rectal",
          "topical", "inhaled")
UNITS = ("mg", "mcg", "g", "mL", "tablet", "capsule", "puff", "drop", "patch")
TREATED_SCALES = {"ciwa_ar": "CIWA-Ar", "cows": "COWS", "ciwa_b": "CIWA-B"}
#: Effect reassessment by route when the unit's due rules name no time for it.
DEFAULT_REASSESS_MINUTES = 60


@dataclass(frozen=True)
class OrderInput:
    drug: str
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


class DoseRefused(ChartingError):
    """A dose the order does not allow, with the rule broken and when a dose becomes possible."""

    def __init__(self, message: str, rule: str, next_eligible_at: datetime | None, field: str | None = None,
                 overridable: bool = False):
        super().__init__(message, field)
        self.rule = rule
        self.next_eligible_at = next_eligible_at
        self.overridable = overridable


def risky_now(admission: Admission, at: datetime) -> bool:
    """Return whether a benzodiazepine and an opioid order are both active for the admission."""
    return queries.risky_combination(admission.id, at)


def discontinued_at(order: PrnOrder) -> datetime | None:
    return db.session.scalar(select(PrnDiscontinuation.discontinued_at)
                             .where(PrnDiscontinuation.order_id == order.id))


def is_active(order: PrnOrder, at: datetime) -> bool:
    stop = queries.order_stop(order, discontinued_at(order))
    return stop is None or stop > at


def _check_order_input(data: OrderInput) -> None:
    if not data.drug.strip():
        raise ChartingError("Name the drug.", "drug")
    if data.route not in ROUTES:
        raise ChartingError("Choose a route.", "route")
    if data.dose_unit not in UNITS:
        raise ChartingError("Choose a unit.", "dose_unit")
    if data.dose is None or data.dose <= 0:
        raise ChartingError("The dose must be more than 0.", "dose")
    if not data.indication.strip():
        raise ChartingError("Give the indication.", "indication")
    if data.min_interval_minutes is None or data.min_interval_minutes < 1:
        raise ChartingError("The minimum interval must be at least 1 minute.", "min_interval_minutes")
    if data.max_doses_24h is None and data.max_amount_24h is None:
        raise ChartingError("Give a maximum number of doses or a maximum amount per 24 hours.",
                            "max_doses_24h")
    if data.max_doses_24h is not None and data.max_doses_24h < 1:
        raise ChartingError("The maximum number of doses must be at least 1.", "max_doses_24h")
    if data.max_amount_24h is not None and data.max_amount_24h < data.dose:
        raise ChartingError("The maximum amount in 24 hours cannot be less than one dose.", "max_amount_24h")
    if data.score_threshold is not None and data.treats_scale is None:
        raise ChartingError("A score threshold needs the scale the order treats.", "treats_scale")
    if data.treats_scale is not None and data.treats_scale not in TREATED_SCALES:
        raise ChartingError("Choose a scale.", "treats_scale")
    if data.stops_at is not None and data.stops_at <= data.starts_at:
        raise ChartingError("The stop must be after the start.", "stops_at")
    if data.reassess_after_minutes is None or data.reassess_after_minutes < 1:
        raise ChartingError("The effect reassessment must be at least 1 minute after a dose.",
                            "reassess_after_minutes")


def create_order(*, by: User, admission: Admission, data: OrderInput, idempotency_key: str,
                 allergy_acknowledged: bool = False, allergy_note: str | None = None,
                 supersedes: PrnOrder | None = None, reason: str | None = None) -> PrnOrder:
    """Write an order (or a change that supersedes one), checking the allergies first."""
    already = db.session.scalar(select(PrnOrder).where(PrnOrder.idempotency_key == idempotency_key))
    if already is not None:
        return already
    entries.check_can_chart(admission)
    _check_order_input(data)
    matches = prn.allergy_matches(data.drug, admission.patient.allergies or "")
    if matches and not allergy_acknowledged:
        raise ChartingError(
            f"The patient's allergies name {', '.join(matches)}: “{admission.patient.allergies}”. "
            "Tick the acknowledgement to order it anyway.", "allergy_acknowledged")
    if supersedes is not None:
        if supersedes.admission_id != admission.id:
            raise ChartingError("That order belongs to another admission.")
        # Held until commit, so a dose given on the old order at this moment is decided before or after.
        lock_order(supersedes.id)
        if not is_active(supersedes, utc_now()):
            raise ChartingError("That order has already stopped; write a new order instead.")
        if not (reason or "").strip():
            raise ChartingError("Give the reason for the change.", "reason")
    order = PrnOrder(
        admission_id=admission.id, drug=data.drug.strip(), drug_class=prn.drug_class(data.drug),
        dose=data.dose, dose_unit=data.dose_unit, route=data.route, indication=data.indication.strip(),
        treats_scale=data.treats_scale, min_interval_minutes=data.min_interval_minutes,
        max_doses_24h=data.max_doses_24h, max_amount_24h=data.max_amount_24h,
        score_threshold=data.score_threshold, hold_parameters=dict(data.hold_parameters),
        reassess_after_minutes=data.reassess_after_minutes, starts_at=data.starts_at, stops_at=data.stops_at,
        prescribed_by_id=by.id, prescribed_at=utc_now(),
        supersedes_id=supersedes.id if supersedes else None,
        allergy_acknowledged=bool(matches) and allergy_acknowledged,
        allergy_note=(allergy_note or "").strip() or None if matches else None,
        idempotency_key=idempotency_key,
    )
    db.session.add(order)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="prn_order", object_id=order.id, patient_id=admission.patient_id,
        clinical_at=order.starts_at,
        detail={"after": _order_snapshot(order), "allergy_matches": matches,
                "supersedes": supersedes.id if supersedes else None},
        content_of=order,
    )
    if supersedes is not None:
        # The reason fits the column whole: the form allows 200 characters, the prefix takes the rest.
        _discontinue(by=by, order=supersedes, reason=f"Changed by order #{order.id}: {reason.strip()}"[:200],
                     at=order.prescribed_at)
    return order


def _order_snapshot(order: PrnOrder) -> dict:
    return {
        "drug": order.drug, "dose": str(order.dose), "dose_unit": order.dose_unit, "route": order.route,
        "indication": order.indication, "treats_scale": order.treats_scale,
        "min_interval_minutes": order.min_interval_minutes, "max_doses_24h": order.max_doses_24h,
        "max_amount_24h": None if order.max_amount_24h is None else str(order.max_amount_24h),
        "score_threshold": order.score_threshold, "hold_parameters": order.hold_parameters,
        "reassess_after_minutes": order.reassess_after_minutes,
        "starts_at": order.starts_at.isoformat(),
        "stops_at": order.stops_at.isoformat() if order.stops_at else None,
        "allergy_acknowledged": order.allergy_acknowledged,
    }


def discontinue(*, by: User, order: PrnOrder, reason: str) -> PrnDiscontinuation:
    """End an order now, with the reason; it stays on the chart."""
    if not (reason or "").strip():
        raise ChartingError("Give the reason for discontinuing.", "reason")
    lock_order(order.id)
    if not is_active(order, utc_now()):
        raise ChartingError("This order has already stopped.")
    return _discontinue(by=by, order=order, reason=reason.strip(), at=utc_now())


def _discontinue(*, by: User, order: PrnOrder, reason: str, at: datetime) -> PrnDiscontinuation:
    # Times given are charted to the minute: a dose charted in the minute of the discontinuation
    # must not slip in before it.
    at = at.replace(second=0, microsecond=0)
    row = PrnDiscontinuation(order_id=order.id, discontinued_at=at, discontinued_by_id=by.id, reason=reason)
    db.session.add(row)
    db.session.flush()
    audit.record("discontinue", user=by, object_type="prn_order", object_id=order.id,
                 patient_id=order.admission.patient_id, clinical_at=at, detail={"reason": reason},
                 content_of=row)
    return row


def lock_order(order_id: int) -> tuple[PrnOrder | None, datetime | None]:
    """Return the order and its discontinuation, with its admission's row locked (PostgreSQL).

    The lock is on the admission, not the order: the app's database role may not lock rows of the
    append-only order table (FOR UPDATE needs UPDATE rights, clinic.db_roles), and one lock per
    patient also serialises a change of order against a dose given under the order it replaces.
    """
    order, stopped_at, _ = _lock_and_read(order_id, None)
    return order, stopped_at


def _lock_and_read(order_id: int, doses_since: datetime | None
                   ) -> tuple[PrnOrder | None, datetime | None, list[tuple[datetime, Decimal]]]:
    """Lock the order's admission, then return the order, its discontinuation and its counted doses.

    Doses are read only with `doses_since`, and only the order's own (not those of orders it
    replaced). The reads come after the lock, in a statement of their own, so they see whatever
    the lock's previous holder committed.
    """
    # One round trip finds and locks the admission; order rows are never updated, so the join is safe.
    admission_id = db.session.scalar(
        select(Admission.id).join(PrnOrder, PrnOrder.admission_id == Admission.id)
        .where(PrnOrder.id == order_id).with_for_update(of=Admission)
    )
    if admission_id is None:
        return None, None, []
    query = (select(PrnOrder, PrnDiscontinuation.discontinued_at)
             .outerjoin(PrnDiscontinuation, PrnDiscontinuation.order_id == PrnOrder.id)
             .where(PrnOrder.id == order_id)
             .execution_options(populate_existing=True))
    if doses_since is None:
        row = db.session.execute(query).first()
        return (None, None, []) if row is None else (row[0], row[1], [])
    rows = db.session.execute(
        query.add_columns(PrnDose.observed_at, PrnDose.dose)
        .outerjoin(PrnDose, and_(PrnDose.order_id == PrnOrder.id, PrnDose.outcome == GIVEN,
                                 PrnDose.observed_at > doses_since, ~queries._retracted()))
    ).all()
    if not rows:
        return None, None, []
    given = [(row[2], row[3]) for row in rows if row[2] is not None]
    return rows[0][0], rows[0][1], given


def _chain(order: PrnOrder) -> list[int]:
    """Return the ids of the order and of the orders it replaced for the same drug and route."""
    if order.supersedes_id is None:
        return [order.id]
    orders = db.session.scalars(select(PrnOrder).where(PrnOrder.admission_id == order.admission_id)).all()
    return queries.chain_ids({o.id: o for o in orders}, order)


def _latest_score(admission: Admission, scale: str, at: datetime) -> Assessment | None:
    return db.session.scalar(
        select(Assessment).where(
            Assessment.admission_id == admission.id, Assessment.scale == scale,
            Assessment.total.is_not(None), Assessment.observed_at <= at,
            entries.current_filter(Assessment),
        ).order_by(Assessment.observed_at.desc(), Assessment.id.desc()).limit(1)
    )


def _latest_vitals(admission: Admission, at: datetime) -> VitalSigns | None:
    return db.session.scalar(
        select(VitalSigns).where(
            VitalSigns.admission_id == admission.id, VitalSigns.observed_at <= at,
            entries.current_filter(VitalSigns),
        ).order_by(VitalSigns.observed_at.desc(), VitalSigns.id.desc()).limit(1)
    )


def _last_counted(order_ids: Sequence[int], before: datetime) -> tuple[datetime, str] | None:
    row = db.session.execute(
        select(PrnDose.observed_at, User.display_name).join(User, User.id == PrnDose.recorded_by_id)
        .where(PrnDose.order_id.in_(list(order_ids)), PrnDose.outcome == GIVEN,
               ~queries._retracted(), PrnDose.observed_at <= before)
        .order_by(PrnDose.observed_at.desc(), PrnDose.id.desc()).limit(1)
    ).first()
    return None if row is None else (row.observed_at, row.display_name)


def refusal_message(rule: str, *, order: PrnOrder, next_eligible_at: datetime | None, zone,
                    last: tuple[datetime, str] | None = None, detail: str = "") -> str:
    """Say which rule a dose breaks and when a dose becomes possible, in the unit's time."""
    words = prn.RULE_LABELS[rule]
    if rule == prn.TOO_SOON and last is not None:
        words += (f": {order.drug} was last given at {local_time(last[0], zone)} by {last[1]}"
                  f"; doses at least {order.min_interval_minutes} min apart")
    elif rule == prn.MAX_DOSES:
        words += f" (at most {order.max_doses_24h} in 24 h)"
    elif rule == prn.MAX_AMOUNT:
        words += f" (at most {_amount(order.max_amount_24h)} {order.dose_unit} in 24 h)"
    elif rule == prn.OVER_DOSE:
        words += f" ({_amount(order.dose)} {order.dose_unit})"
    if detail:
        words += f": {detail}"
    if rule in (prn.BELOW_THRESHOLD, prn.NO_SCORE, prn.HOLD, prn.HOLD_UNCHECKED):
        when = "when the condition no longer applies (rescore or recheck the vital signs)"
    elif next_eligible_at is None:
        when = "no dose is possible under this order"
    else:
        when = f"a dose is possible from {local_time(next_eligible_at, zone)}"
    return f"Not given: {words}. {when[0].upper()}{when[1:]}."


def _amount(value: Decimal | None) -> str:
    """Return an amount without trailing zeros: 1.000 -> "1", 0.500 -> "0.5"."""
    return "" if value is None else format(value.normalize(), "f")


def give_dose(*, by: User, admission: Admission, order_id: int, given_at: datetime, outcome: str,
              dose: Decimal | None, route: str, reason: str, idempotency_key: str,
              prompting_assessment_id: int | None = None, override_reason: str | None = None,
              breach_reason: str | None = None) -> PrnDose:
    """Chart a dose given, refused or held, deciding under the admission row lock.

    A form submitted twice is caught by the unique idempotency key at INSERT (IntegrityError), or,
    when the first submission's dose now makes this one too soon, before the refusal.
    """
    since = given_at - queries.LOOKBACK if outcome == GIVEN and given_at is not None else None
    order, stopped_at, own_doses = _lock_and_read(order_id, since)
    if order is None or order.admission_id != admission.id:
        raise ChartingError("That order is not on this patient's chart.")
    entries.check_can_chart(admission)
    entries.check_clinical_time(given_at, admission, field="given_at")
    if outcome not in OUTCOMES:
        raise ChartingError("Choose given, refused or held.", "outcome")
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError("Say why it was given, refused or held." if outcome == GIVEN else
                            "Give the reason it was refused or held.", "reason")
    prompting = None
    if prompting_assessment_id is not None:
        prompting = db.session.get(Assessment, prompting_assessment_id)
        if prompting is None or prompting.admission_id != admission.id:
            raise ChartingError("That assessment is not on this patient's chart.", "prompting_assessment_id")
    override_rule = breach_rule = None
    if outcome == GIVEN:
        if dose is None or dose <= 0:
            raise ChartingError("Enter the dose given, more than 0.", "dose")
        if route != order.route:
            raise ChartingError(f"This order is for the {order.route} route; a different route needs its "
                                "own order.", "route")
        rule, next_at, detail = _decide(order, stopped_at, own_doses, admission, given_at, dose,
                                        prompting)
        if rule is not None:
            already = entries.existing_by_key(PrnDose, idempotency_key)
            if already is not None:
                return already
            zone = admission.unit.zone
            last = _last_counted(_chain(order), utc_now()) if rule == prn.TOO_SOON else None
            message = refusal_message(rule, order=order, next_eligible_at=next_at, zone=zone, last=last,
                                      detail=detail)
            backdated = utc_now() - given_at >= BACKDATED
            if backdated:
                if not (breach_reason or "").strip():
                    raise DoseRefused(
                        message + " If it was already given, record it with the reason: it is flagged as a "
                        "limit breach and escalated.", rule, next_at, "breach_reason")
                breach_rule = rule
            elif override_reason is not None and override_reason.strip():
                if not admission.unit.prn_override_allowed or rule not in OVERRIDABLE:
                    raise DoseRefused(message + " This unit does not allow overriding this rule.",
                                      rule, next_at)
                override_rule = rule
            else:
                overridable = admission.unit.prn_override_allowed and rule in OVERRIDABLE
                raise DoseRefused(message, rule, next_at, None, overridable)
    else:
        dose = dose if dose is not None and dose > 0 else None
    record = PrnDose(
        observed_at=given_at, order_id=order.id, dose=dose, route=route if outcome == GIVEN else order.route,
        outcome=outcome, reason=reason, prompting_assessment_id=prompting.id if prompting else None,
        override_rule=override_rule, override_reason=override_reason.strip() if override_rule else None,
        breach_rule=breach_rule, breach_reason=breach_reason.strip() if breach_rule else None,
        effect_due_at=(given_at + timedelta(minutes=order.reassess_after_minutes)
                       if outcome == GIVEN else None),
    )
    entries.stamp(record, by=by, admission=admission, idempotency_key=idempotency_key, supersedes=None,
                  reason=None)
    entries.insert(record)
    # The caller reads the drug and unit from it; the order is already loaded and locked.
    record.order = order
    audit.record(
        "create", user=by, object_type=PrnDose.kind, object_id=record.id, patient_id=admission.patient_id,
        clinical_at=given_at,
        detail={"order": order.id, "drug": order.drug, "outcome": outcome,
                "dose": None if dose is None else str(dose), "unit": order.dose_unit, "route": record.route,
                "reason": reason, "override": override_rule, "override_reason": record.override_reason,
                "breach": breach_rule, "breach_reason": record.breach_reason},
        content_of=record,
    )
    if breach_rule is not None:
        raise_automatic(
            by=by, admission=admission, rule=f"prn_breach:{record.id}", level="urgent",
            reason=(f"PRN limit breach: {order.drug} {_amount(dose)} {order.dose_unit} given at "
                    f"{local_time(given_at, admission.unit.zone)} — {prn.RULE_LABELS[breach_rule]}. "
                    f"Reason: {record.breach_reason}"),
            source_kind=PrnDose.kind, source_id=record.id,
        )
    return record


def _decide(order: PrnOrder, stopped_at: datetime | None, own_doses: list[tuple[datetime, Decimal]],
            admission: Admission, given_at: datetime, dose: Decimal,
            prompting: Assessment | None) -> tuple[str | None, datetime | None, str]:
    """Return the first rule the dose breaks (limits, then threshold, then hold), when next possible."""
    stop = queries.order_stop(order, stopped_at)
    limits = prn.Order(dose=order.dose, min_interval=order.min_interval, max_doses_24h=order.max_doses_24h,
                       max_amount_24h=order.max_amount_24h, starts_at=order.starts_at, stops_at=stop)
    # Doses under the orders this one replaced count too; the order's own came with the lock read.
    given = own_doses if order.supersedes_id is None else queries.counted_doses(
        _chain(order), since=given_at - queries.LOOKBACK)
    decision = prn.check(limits, given, given_at, dose)
    if not decision.allowed:
        return decision.rule, decision.next_eligible_at, ""
    if order.score_threshold is not None:
        scored = prompting if prompting is not None and prompting.scale == order.treats_scale else (
            _latest_score(admission, order.treats_scale, given_at))
        score = scored.total if scored is not None else None
        rule = prn.threshold_rule(order.score_threshold, score)
        if rule is not None:
            label = TREATED_SCALES.get(order.treats_scale, order.treats_scale)
            detail = (f"give when {label} ≥ {order.score_threshold}; latest {score}" if score is not None
                      else f"give when {label} ≥ {order.score_threshold}; no {label} score charted")
            return rule, None, detail
    if order.hold_parameters:
        vitals = _latest_vitals(admission, given_at)
        values = None if vitals is None else {name: getattr(vitals, name) for name in prn.HOLD_PARAMETERS}
        measured = dict(measured_at=vitals.observed_at, at=given_at) if vitals is not None else {}
        rule, names = prn.hold_rule(order.hold_parameters, values, **measured)
        if rule is not None:
            shown = ", ".join(f"{prn.HOLD_PARAMETERS[n]} {values.get(n) if values else '—'}" for n in names)
            when = "" if vitals is None else f" at {local_time(vitals.observed_at, admission.unit.zone)}"
            return rule, None, f"{prn.describe_hold(order.hold_parameters)}; latest {shown}{when}"
    return None, given_at, ""


def record_effect(*, by: User, dose: PrnDose, assessed_at: datetime, effect: str, side_effects: list[str],
                  note: str | None, idempotency_key: str, assessment_id: int | None = None) -> PrnEffect:
    """Record the effect reassessment of a dose; the first completes its follow-up."""
    already = db.session.scalar(select(PrnEffect).where(PrnEffect.idempotency_key == idempotency_key))
    if already is not None:
        return already
    admission = dose.admission
    entries.check_clinical_time(assessed_at, admission, field="assessed_at")
    if dose.outcome != GIVEN:
        raise ChartingError("Only a dose that was given has an effect to reassess.")
    if assessed_at < dose.observed_at:
        raise ChartingError("The reassessment cannot be before the dose was given.", "assessed_at")
    if effect not in EFFECTS:
        raise ChartingError("Choose the effect.", "effect")
    unknown = [s for s in side_effects if s not in SIDE_EFFECTS]
    if unknown:
        raise ChartingError("Choose side effects from the list.", "side_effects")
    if assessment_id is not None:
        assessment = db.session.get(Assessment, assessment_id)
        if assessment is None or assessment.admission_id != admission.id:
            raise ChartingError("That assessment is not on this patient's chart.", "assessment_id")
    row = PrnEffect(dose_id=dose.id, admission_id=admission.id, assessed_at=assessed_at, recorded_by_id=by.id,
                    recorded_at=utc_now(), effect=effect, side_effects=list(side_effects),
                    note=(note or "").strip() or None, assessment_id=assessment_id,
                    idempotency_key=idempotency_key)
    db.session.add(row)
    db.session.flush()
    audit.record("create", user=by, object_type="prn_effect", object_id=row.id,
                 patient_id=admission.patient_id, clinical_at=assessed_at,
                 detail={"dose": dose.id, "effect": effect, "side_effects": list(side_effects),
                         "note": row.note, "assessment": assessment_id},
                 content_of=row)
    return row


def effect_minutes(route: str, definition) -> int:
    """Return the default effect-reassessment delay for a route under the unit's due rules."""
    return definition.prn_effect_minutes.get(route, DEFAULT_REASSESS_MINUTES)



def set_override_allowed(*, by: User, unit, allowed: bool) -> bool:
    """Allow or forbid PRN overrides on a unit; return whether anything changed."""
    if unit.prn_override_allowed == allowed:
        return False
    before = unit.prn_override_allowed
    unit.prn_override_allowed = allowed
    db.session.flush()
    audit.record("update", user=by, object_type="unit", object_id=unit.id,
                 detail=audit.changes({"prn_override_allowed": before}, {"prn_override_allowed": allowed}))
    return True


def retract_effect(*, by: User, effect: PrnEffect, reason: str) -> EntryRetraction:
    """Mark an effect reassessment entered in error: it stays readable, struck through, and no
    longer completes the dose's follow-up, which is due again (or overdue) until re-recorded."""
    if effect.recorded_by_id != by.id and not by.has_role(*entries.AMEND_ANY_ROLES):
        raise ChartingError("Only the person who recorded this effect, or a charge nurse, may mark it "
                            "entered in error.")
    entries.lock_for_amending(effect)
    done = db.session.scalar(select(EntryRetraction).where(EntryRetraction.entry_kind == effect.kind,
                                                           EntryRetraction.entry_id == effect.id))
    if done is not None:
        zone = effect.dose.admission.unit.zone
        raise ChartingError("This effect was already marked entered in error by "
                            f"{done.retracted_by.display_name} at {local_time(done.retracted_at, zone)}.")
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError("Give the reason this effect was entered in error.", "reason")
    retraction = EntryRetraction(entry_kind=effect.kind, entry_id=effect.id, admission_id=effect.admission_id,
                                 reason=reason, retracted_by=by)
    db.session.add(retraction)
    db.session.flush()
    audit.record("retract", user=by, object_type=effect.kind, object_id=effect.id,
                 patient_id=effect.dose.admission.patient_id, clinical_at=effect.assessed_at,
                 detail={"dose": effect.dose_id, "reason": reason}, content_of=retraction)
    return retraction
