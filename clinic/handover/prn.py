"""PRN doses for the handover, read through the PRN feature's shared queries (clinic.prn.queries).

Per admission: the shift's doses (given, refused, held, overrides, breaches, with their effect),
each active order's next eligible time and 24-hour use, and the doses whose effect is overdue
and not recorded, which are gaps.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from clinic.handover.lines import Line
from clinic.models.prn import EFFECTS, GIVEN, OUTCOMES, PrnDose, PrnEffect
from clinic.prn import queries
from clinic.scoring.prn import RULE_NAMES

#: How far before the shift a dose with no effect recorded is still reported as a gap.
EFFECT_LOOKBACK = timedelta(hours=24)

#: Whether the PRN feature is part of this build; the handover says so when it is not.
AVAILABLE = True


def _amount(value) -> str:
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _clock(at: datetime | None, zone) -> str:
    return at.astimezone(zone).strftime("%H:%M") if at is not None else "—"


def _dose_line(dose: queries.DoseRow, zone, as_of: datetime):
    amount = f" {_amount(dose.dose)} {dose.dose_unit}" if dose.dose is not None else ""
    what = f"{dose.drug}{amount} {dose.route}"
    if dose.outcome != GIVEN:
        text = f"{what} — {OUTCOMES.get(dose.outcome, dose.outcome)}: {dose.reason} ({dose.given_by})"
        return Line(dose.given_at, text + (" — entered in error" if dose.entered_in_error else ""), True)
    parts = [f"{what} given by {dose.given_by} for {dose.reason}"]
    if dose.is_override:
        parts.append(f"OVERRIDE of {RULE_NAMES.get(dose.override_rule, dose.override_rule)}: "
                     f"{dose.override_reason or 'no reason recorded'}")
    if dose.is_breach:
        parts.append(f"BREACH of {RULE_NAMES.get(dose.breach_rule, dose.breach_rule)}: "
                     f"{dose.breach_reason or 'no reason recorded'}")
    if dose.effect is not None:
        effect = f"effect {EFFECTS.get(dose.effect, dose.effect).lower()} at {_clock(dose.effect_at, zone)}"
        if dose.side_effects:
            effect += f" (side effects: {', '.join(dose.side_effects)})"
        parts.append(effect)
    elif dose.effect_due_at is not None and dose.effect_due_at <= as_of:
        parts.append(f"EFFECT NOT RECORDED (due {_clock(dose.effect_due_at, zone)})")
    elif dose.effect_due_at is not None:
        parts.append(f"effect due {_clock(dose.effect_due_at, zone)}")
    if dose.is_late:
        parts.append("late entry")
    text = "; ".join(parts)
    if dose.entered_in_error:
        return Line(dose.given_at, f"{text} — entered in error, not counted", False)
    alert = dose.is_override or dose.is_breach or (dose.effect is None and dose.effect_due_at is not None
                                                   and dose.effect_due_at <= as_of)
    return Line(dose.given_at, text, alert)


def _order_line(order: queries.OrderRow, zone, as_of: datetime):
    what = f"{order.drug} {_amount(order.dose)} {order.dose_unit} {order.route}"
    if order.next_eligible_at is None:
        when = "not eligible again under this order"
    elif order.next_eligible_at <= as_of:
        when = "eligible now"
    else:
        when = f"next eligible {_clock(order.next_eligible_at, zone)}"
    use = f"{order.doses_24h}" + (f"/{order.max_doses_24h}" if order.max_doses_24h else "") + " doses in 24 h"
    if order.max_amount_24h is not None:
        use += f", {_amount(order.amount_24h)}/{_amount(order.max_amount_24h)} {order.dose_unit}"
    last = ""
    if order.last_dose_at is not None:
        effect = (EFFECTS.get(order.last_effect, order.last_effect) if order.last_effect else "not recorded")
        effect = effect.lower()
        last = f"; last {_clock(order.last_dose_at, zone)} (effect {effect})"
    return Line(order.next_eligible_at if order.next_eligible_at and order.next_eligible_at > as_of else None,
                f"{what}: {when}; {use}{last}", order.next_eligible_at is None)


def doses(admission_ids: list[int], *, start: datetime, end: datetime) -> list[queries.DoseRow]:
    """Return the doses the handover reads: given this shift, or in the EFFECT_LOOKBACK before it.

    One read, bounded in time so it costs the same whatever the history, serves the dose lines,
    the effect gaps and the due rules (clinic.monitoring.services.due_for's `prn_doses`).
    """
    return queries.doses_for(admission_ids, start - EFFECT_LOOKBACK, end) if admission_ids else []


def for_handover(admission_ids: list[int], doses: list[queries.DoseRow], *, start: datetime, end: datetime,
                 zone=None) -> dict[int, tuple[list, list, list]]:
    """Return per admission: the shift's dose lines, next-eligible lines and effect gaps.

    An effect is a gap once its reassessment time has passed with nothing recorded, for the
    `doses` read: "Effect of 02:10 Lorazepam not recorded (due 03:10)".
    """
    if not admission_ids:
        return {}
    result: dict[int, tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for dose in doses:
        lines, _, gaps = result[dose.admission_id]
        if dose.given_at >= start:
            lines.append(_dose_line(dose, zone, end))
        if (dose.counts and dose.effect is None and dose.effect_due_at is not None
                and dose.effect_due_at <= end):
            gaps.append(Line(dose.effect_due_at, f"Effect of {_clock(dose.given_at, zone)} {dose.drug} not "
                                                 f"recorded (due {_clock(dose.effect_due_at, zone)})", True))
    for order in queries.active_orders(admission_ids, end):
        result[order.admission_id][1].append(_order_line(order, zone, end))
    return dict(result)


#: What counts as charted after signing, for the "changed since signing" notice.
CHANGE_SOURCES = ((PrnDose.recorded_at, PrnDose.admission_id),
                  (PrnEffect.recorded_at, PrnEffect.admission_id))
