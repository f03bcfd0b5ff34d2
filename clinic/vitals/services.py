"""Check, score and record a vital-signs set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from clinic import audit, entries
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.escalations import services as escalations
from clinic.extensions import db
from clinic.models import Admission, User, VitalSigns
from clinic.models.charting import to_tenths
from clinic.numbers import parse_decimal
from clinic.scoring import limits, news2

#: Form fields checked against the input limits, in form order, with the limits' parameter name.
MEASURED = {
    "heart_rate": "heart_rate",
    "systolic_bp": "systolic_bp",
    "diastolic_bp": "diastolic_bp",
    "respiratory_rate": "respiratory_rate",
    "temperature": "temperature",
    "spo2": "spo2",
    "pain": "pain",
    "glucose": "glucose",
}
OXYGEN_DEVICES = {
    "nasal_cannula": "Nasal cannula",
    "simple_mask": "Simple face mask",
    "venturi": "Venturi mask",
    "non_rebreather": "Non-rebreather mask",
    "humidified": "Humidified oxygen",
    "other": "Other",
}
CONSCIOUSNESS = {
    "A": "A — Alert",
    "C": "C — New confusion",
    "V": "V — Responds to voice",
    "P": "P — Responds to pain",
    "U": "U — Unresponsive",
}


@dataclass
class CheckedVitals:
    """Typed values parsed and checked against the input limits."""

    values: dict[str, object] = field(default_factory=dict)
    #: Field -> message for abnormal ("flag") and extreme ("confirm") values.
    flags: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Field -> message for refused values.
    errors: dict[str, str] = field(default_factory=dict)
    #: Field -> Celsius value offered for a temperature typed in °F.
    conversions: dict[str, Decimal] = field(default_factory=dict)

    @property
    def needs_confirmation(self) -> list[str]:
        return [k for k, f in self.flags.items() if f["tier"] == limits.CONFIRM]


def check_values(raw: dict[str, str | None], *, confirmed: bool,
                 glucose_unit: str = limits.MMOL_L) -> CheckedVitals:
    """Parse typed text, refusing the impossible and flagging the abnormal (REFERENCE §6).

    Glucose is checked in the unit's glucose unit, naming a likely mmol/L–mg/dL mix-up.
    """
    checked = CheckedVitals()
    systolic = None
    for name, parameter in MEASURED.items():
        text = (raw.get(name) or "").strip()
        if not text:
            continue
        if name == "glucose" and text.upper() in ("LO", "HI"):
            value: Decimal | str = text.upper()
        else:
            try:
                value = parse_decimal(text, **limits.TYPED_DIGITS)
            except ValueError:
                checked.errors[name] = f"{limits.LIMITS[parameter].label} must be a number"
                continue
        verdict = limits.check_glucose(value, glucose_unit) if name == "glucose" else limits.check(
            parameter, value, systolic=systolic if name == "diastolic_bp" else None
        )
        if verdict.tier == limits.REFUSE:
            checked.errors[name] = verdict.message
            if name == "temperature":
                offered = _fahrenheit_offer(value)
                if offered is not None:
                    checked.conversions[name] = offered
            continue
        checked.values[name] = verdict.value
        if name == "systolic_bp":
            systolic = verdict.value
        if verdict.tier in (limits.CONFIRM, limits.FLAG):
            checked.flags[name] = {"tier": verdict.tier, "message": verdict.message}
    if not confirmed:
        for name in checked.needs_confirmation:
            checked.errors[name] = (
                f"{checked.flags[name]['message']}. If the re-measured value is right, tick "
                "“Re-measured and confirmed” and save again."
            )
    return checked


def _fahrenheit_offer(value: Decimal) -> Decimal | None:
    limit = limits.LIMITS["temperature"]
    if limit.fahrenheit is not None and value in limit.fahrenheit:
        return limits.fahrenheit_to_celsius(value)
    return None


def news2_for(values: dict[str, object], *, on_oxygen: bool | None, consciousness: str | None,
              spo2_scale: int) -> news2.News2Result | None:
    """Return NEWS2 for a set, or None when a parameter is missing (an incomplete set)."""
    return news2.score_partial(
        respiratory_rate=values.get("respiratory_rate"),
        spo2=values.get("spo2"),
        spo2_scale=spo2_scale,
        on_oxygen=on_oxygen,
        systolic_bp=values.get("systolic_bp"),
        heart_rate=values.get("heart_rate"),
        consciousness=consciousness,
        temperature=values.get("temperature"),
    )


def record_vitals(
    *,
    by: User,
    admission: Admission,
    observed_at: datetime,
    checked: CheckedVitals,
    on_oxygen: bool | None,
    oxygen_device: str | None,
    oxygen_flow: Decimal | None,
    consciousness: str | None,
    confirmed: bool,
    idempotency_key: str,
    supersedes: VitalSigns | None = None,
    correction_reason: str | None = None,
) -> VitalSigns:
    """Save a set with its NEWS2, flags and late-entry mark; raise escalations it calls for."""
    if checked.errors:
        field_name, message = next(iter(checked.errors.items()))
        raise ChartingError(message, field_name)
    if supersedes is None:
        entries.check_can_chart(admission)
    entries.check_clinical_time(observed_at, admission)
    values = checked.values
    if not values and on_oxygen is None and consciousness is None:
        raise ChartingError("Enter at least one measurement.")
    if consciousness is not None and consciousness not in CONSCIOUSNESS:
        raise ChartingError("Choose A, C, V, P or U.", "consciousness")
    if on_oxygen and oxygen_device not in OXYGEN_DEVICES:
        raise ChartingError("Choose the oxygen device.", "oxygen_device")
    if on_oxygen and (oxygen_flow is None or not Decimal("0.1") <= oxygen_flow <= Decimal("60")):
        raise ChartingError("Enter the oxygen flow, 0.1–60 L/min.", "oxygen_flow")

    spo2_scale = admission.spo2_scale
    result = news2_for(values, on_oxygen=on_oxygen, consciousness=consciousness,
                       spo2_scale=spo2_scale)
    part = None if result is not None else news2.partial(
        respiratory_rate=values.get("respiratory_rate"), spo2=values.get("spo2"),
        spo2_scale=spo2_scale, on_oxygen=on_oxygen, systolic_bp=values.get("systolic_bp"),
        heart_rate=values.get("heart_rate"), consciousness=consciousness,
        temperature=values.get("temperature"))
    glucose = values.get("glucose")
    vitals = VitalSigns(
        observed_at=observed_at,
        heart_rate=values.get("heart_rate"),
        systolic_bp=values.get("systolic_bp"),
        diastolic_bp=values.get("diastolic_bp"),
        respiratory_rate=values.get("respiratory_rate"),
        temperature_tenths=to_tenths(values.get("temperature")),
        spo2=values.get("spo2"),
        spo2_scale=spo2_scale,
        on_oxygen=on_oxygen,
        oxygen_device=oxygen_device if on_oxygen else None,
        oxygen_flow_tenths=to_tenths(oxygen_flow) if on_oxygen else None,
        consciousness=consciousness,
        pain=values.get("pain"),
        glucose_tenths=None if isinstance(glucose, str) else to_tenths(glucose),
        glucose_reading=glucose if isinstance(glucose, str) else None,
        glucose_unit=admission.unit.glucose_unit if glucose is not None else None,
        confirmed_extreme=bool(confirmed and checked.needs_confirmation),
        news2_total=result.total if result else None,
        # A partial set keeps the points of what is there and the least band they imply.
        news2_band=result.band if result else part.band,
        news2_points=dict(result.points) if result else (dict(part.points) or None),
        flags=checked.flags,
    )
    entries.stamp(vitals, by=by, admission=admission, idempotency_key=idempotency_key,
                  supersedes=supersedes, reason=correction_reason)
    entries.insert(vitals)
    audit.record(
        "correct" if supersedes is not None else "create", user=by,
        object_type="vitals", object_id=vitals.id, patient_id=admission.patient_id,
        clinical_at=observed_at, detail=_audit_detail(vitals, supersedes), content_of=vitals,
    )
    if result is not None:
        _escalate(by, admission, vitals, result)
    else:
        _escalate_partial(by, admission, vitals, part)
    return vitals


def _snapshot(vitals: VitalSigns) -> dict:
    return {
        "observed_at": vitals.observed_at.isoformat(),
        "heart_rate": vitals.heart_rate, "systolic_bp": vitals.systolic_bp,
        "diastolic_bp": vitals.diastolic_bp, "respiratory_rate": vitals.respiratory_rate,
        "temperature": str(vitals.temperature) if vitals.temperature is not None else None,
        "spo2": vitals.spo2, "on_oxygen": vitals.on_oxygen, "consciousness": vitals.consciousness,
        "pain": vitals.pain, "glucose": str(vitals.glucose) if vitals.glucose is not None else None,
        "news2_total": vitals.news2_total, "news2_band": vitals.news2_band,
        "late": vitals.is_late, "confirmed_extreme": vitals.confirmed_extreme,
    }


def _audit_detail(vitals: VitalSigns, supersedes: VitalSigns | None) -> dict:
    if supersedes is None:
        return {"after": _snapshot(vitals)}
    return {"supersedes": supersedes.id, "reason": vitals.correction_reason,
            **audit.changes(_snapshot(supersedes), _snapshot(vitals))}


def _escalate(by: User, admission: Admission, vitals: VitalSigns, result: news2.News2Result,
              at: datetime | None = None) -> None:
    response = news2.escalation_for(result.band, any_red=result.any_red)
    if response is None:
        return
    level, rule = response
    escalations.raise_automatic(
        by=by, admission=admission, rule=rule, level=level,
        reason=f"NEWS2 {result.total} ({result.band}): {result.monitoring}.",
        source_kind=vitals.kind, source_id=vitals.id, raised_at=at,
    )


def _escalate_partial(by: User, admission: Admission, vitals: VitalSigns,
                      part: news2.PartialResult) -> None:
    band = part.band
    response = news2.escalation_for(band)
    if response is None:
        return
    level, rule = response
    red = ", ".join(news2.PARAMETER_LABELS[name] for name in part.red)
    missing = ", ".join(news2.PARAMETER_LABELS[name] for name in part.missing)
    scoring = f"; scoring 3: {red}" if red else ""
    escalations.raise_automatic(
        by=by, admission=admission, rule=rule, level=level,
        reason=(f"NEWS2 incomplete (missing: {missing}), {part.known_total} points from the "
                f"parameters present{scoring}: at least {band}, vitals due within the hour."),
        source_kind=vitals.kind, source_id=vitals.id,
    )


def set_spo2_scale(*, by: User, admission: Admission, scale: int, reason: str) -> None:
    """Record a physician's decision on the NEWS2 SpO2 scale for this admission."""
    if not by.has_role("physician"):
        raise ChartingError("Only a physician can change the SpO₂ scale.")
    if scale not in (1, 2):
        raise ChartingError("Choose scale 1 or scale 2.", "scale")
    reason = (reason or "").strip()
    if not reason:
        raise ChartingError(
            "Give the reason (scale 2 is only for confirmed hypercapnic respiratory failure).", "reason"
        )
    before = admission.spo2_scale
    admission.spo2_scale = scale
    admission.spo2_scale_set_by = by
    admission.spo2_scale_set_at = utc_now()
    db.session.flush()
    audit.record(
        "update", user=by, object_type="admission", object_id=admission.id,
        patient_id=admission.patient_id,
        detail={"change": "spo2 scale", "before": {"spo2_scale": before},
                "after": {"spo2_scale": scale}, "reason": reason},
    )
