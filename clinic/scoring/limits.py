"""Input limits for vital signs: refuse the impossible, confirm the extreme, flag the abnormal.

The defaults are REFERENCE §6; a unit may pass its own ``limits`` mapping to ``check``. Only what
cannot be a measurement of a live patient is refused: an overdose really gives SpO2 49, a
respiratory rate of 0, a pulse of 19 or a temperature of 29.9, and those are charted with the
confirmation (and escalated through NEWS2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType

from clinic.numbers import parse_decimal

REFUSE = "refuse"
CONFIRM = "confirm"
FLAG = "flag"
OK = "ok"
TIERS: tuple[str, ...] = (REFUSE, CONFIRM, FLAG, OK)

_TENTH = Decimal("0.1")
#: Digits a typed vital may have: room for every possible value, a °F temperature and a stray
#: extra decimal (each refused with its own message), and no more, so nothing huge is converted.
TYPED_DIGITS = {"int_digits": 4, "frac_digits": 3, "signed": True}


@dataclass(frozen=True)
class Range:
    """An inclusive range; None leaves that end open."""

    low: Decimal | None = None
    high: Decimal | None = None

    def __contains__(self, value: Decimal) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is None:
            return f"≤{self.high}"
        if self.high is None:
            return f"≥{self.low}"
        return f"{self.low}–{self.high}"


@dataclass(frozen=True)
class Limit:
    """The ranges for one parameter: possible (else refuse), plausible (else confirm), normal."""

    label: str
    unit: str
    #: 0 for whole numbers, 1 for tenths.
    decimals: int
    possible: Range
    plausible: Range | None = None
    normal: Range | None = None
    #: Values that look like °F, for which the Celsius conversion is offered instead.
    fahrenheit: Range | None = None
    #: Meter readings stored as words (glucose "LO"/"HI") and what each means.
    meter_readings: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Verdict:
    """The tier of one entered value, why, and the value as it should be stored."""

    tier: str
    message: str
    value: int | Decimal | str | None = None

    @property
    def saveable(self) -> bool:
        """Return whether the value may be saved (perhaps only with a confirmation)."""
        return self.tier != REFUSE

    @property
    def needs_confirmation(self) -> bool:
        """Return whether saving needs the "re-measured and confirmed" tick."""
        return self.tier == CONFIRM


def _range(low: str | None, high: str | None) -> Range:
    return Range(None if low is None else Decimal(low), None if high is None else Decimal(high))


LIMITS: Mapping[str, Limit] = MappingProxyType({
    "respiratory_rate": Limit(
        "Respiratory rate", "/min", 0, _range("0", "80"), _range("9", "29"), _range("12", "20")
    ),
    "heart_rate": Limit(
        "Heart rate", "/min", 0, _range("0", "300"), _range("40", "150"), _range("51", "90")
    ),
    "systolic_bp": Limit(
        "Systolic BP", "mmHg", 0, _range("20", "300"), _range("80", "200"), _range("111", "219")
    ),
    "diastolic_bp": Limit(
        "Diastolic BP", "mmHg", 0, _range("5", "200"), _range("40", "120"), _range("60", "90")
    ),
    "temperature": Limit(
        "Temperature",
        "°C",
        1,
        _range("25.0", "45.0"),
        _range("35.0", "39.4"),
        _range("36.1", "38.0"),
        fahrenheit=_range("86", "113"),
    ),
    "spo2": Limit("SpO2", "%", 0, _range("0", "100"), _range("85", None), _range("96", None)),
    "glucose": Limit(
        "Capillary glucose",
        "mmol/L",
        1,
        _range("0.5", "50.0"),
        _range("4.0", "20.0"),
        _range("4.0", "7.8"),
        meter_readings={"LO": "below the meter's range", "HI": "above the meter's range"},
    ),
    "pain": Limit("Pain score", "", 0, _range("0", "10")),
})

PARAMETERS: tuple[str, ...] = tuple(LIMITS)


def fahrenheit_to_celsius(value: Decimal | int | float | str) -> Decimal:
    """Return a Fahrenheit temperature in °C, rounded half-up to 0.1."""
    fahrenheit = Decimal(str(value))
    return ((fahrenheit - 32) * 5 / 9).quantize(_TENTH, rounding=ROUND_HALF_UP)


def check(
    parameter: str,
    value: object,
    *,
    systolic: int | Decimal | None = None,
    limits: Mapping[str, Limit] = LIMITS,
) -> Verdict:
    """Return the tier and message for one entered value of a parameter."""
    if parameter not in limits:
        raise ValueError(f"{parameter!r} is not a parameter with input limits")
    limit = limits[parameter]

    if isinstance(value, str) and value.strip().upper() in limit.meter_readings:
        word = value.strip().upper()
        meaning = limit.meter_readings[word]
        return Verdict(
            CONFIRM, f"{limit.label} meter reading {word} ({meaning}): re-measure and confirm", word
        )

    number = _number(value)
    if number is None:
        return Verdict(REFUSE, f"{limit.label} must be a number")
    if limit.decimals == 0:
        if number != number.to_integral_value():
            return Verdict(REFUSE, f"{limit.label} must be a whole number")
        stored: int | Decimal = int(number)
    else:
        step = Decimal(1).scaleb(-limit.decimals)
        try:
            stored = number.quantize(step)
        except InvalidOperation:
            stored = number
        if stored != number:
            return Verdict(REFUSE, f"{limit.label} is recorded to {step} {limit.unit}".rstrip())
    shown = f"{limit.label} {stored}"

    if limit.fahrenheit is not None and stored in limit.fahrenheit and stored not in limit.possible:
        celsius = fahrenheit_to_celsius(stored)
        return Verdict(REFUSE, f"{shown} looks like °F (= {celsius} °C); enter °C")
    if stored not in limit.possible:
        return Verdict(
            REFUSE, f"{shown} is outside the possible range {_with_unit(limit.possible, limit)}"
        )
    if parameter == "diastolic_bp" and systolic is not None:
        systolic_number = _number(systolic)
        if systolic_number is not None and stored >= systolic_number:
            return Verdict(REFUSE, f"{shown} must be below the systolic ({systolic})")
    if limit.plausible is not None and stored not in limit.plausible:
        if limit.plausible.low is not None and stored < limit.plausible.low:
            extreme = f"very low (below {_with_unit(limit.plausible.low, limit)})"
        else:
            extreme = f"very high (above {_with_unit(limit.plausible.high, limit)})"
        return Verdict(CONFIRM, f"{shown} is {extreme}: re-measure and confirm", stored)
    if limit.normal is not None and stored not in limit.normal:
        side = "below" if limit.normal.low is not None and stored < limit.normal.low else "above"
        return Verdict(
            FLAG, f"{shown} is {side} the normal range {_with_unit(limit.normal, limit)}", stored
        )
    return Verdict(OK, "", stored)


def _number(value: object) -> Decimal | None:
    # bool is an int subclass; a ticked box is not a measurement.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    if isinstance(value, str):
        try:
            return parse_decimal(value, **TYPED_DIGITS)
        except ValueError:
            return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


def _with_unit(value: object, limit: Limit) -> str:
    return f"{value} {limit.unit}".rstrip()


# --- Capillary glucose in the unit's own unit (REFERENCE §6) ------------------------------------

MMOL_L = "mmol/L"
MG_DL = "mg/dL"
GLUCOSE_UNITS: tuple[str, ...] = (MMOL_L, MG_DL)
#: mg/dL per mmol/L of glucose (molar mass 180.16 g/mol).
MG_DL_PER_MMOL_L = Decimal("18.016")

GLUCOSE_MG_DL = Limit(
    "Capillary glucose",
    MG_DL,
    0,
    _range("10", "900"),
    _range("72", "360"),
    _range("72", "140"),
    meter_readings={"LO": "below the meter's range", "HI": "above the meter's range"},
)


def limits_for(glucose_unit: str) -> Mapping[str, Limit]:
    """Return the input limits with glucose in the unit's unit (mmol/L or mg/dL)."""
    if glucose_unit == MMOL_L:
        return LIMITS
    if glucose_unit == MG_DL:
        return MappingProxyType({**LIMITS, "glucose": GLUCOSE_MG_DL})
    raise ValueError(f"{glucose_unit!r} is not a glucose unit ({', '.join(GLUCOSE_UNITS)})")


def glucose_mixup(value: object, glucose_unit: str) -> str | None:
    """Return a warning when a typed glucose is more plausible in the other unit, else None.

    In mmol/L anything above the confirm limit (20.0) could be mg/dL (40 mg/dL is 2.2 mmol/L,
    hypoglycaemia); in mg/dL anything up to 50 could be mmol/L (5.5 mmol/L is 99 mg/dL).
    """
    number = _number(value)
    if number is None:
        return None
    if glucose_unit == MMOL_L:
        high = LIMITS["glucose"].plausible.high
        if number > high and number in GLUCOSE_MG_DL.possible:
            other = (number / MG_DL_PER_MMOL_L).quantize(_TENTH, rounding=ROUND_HALF_UP)
            return (f"{number} is very high in mmol/L but looks like mg/dL: {number} mg/dL is "
                    f"{other} mmol/L. Check the meter's unit; this unit charts mmol/L")
        return None
    if glucose_unit == MG_DL:
        if number in LIMITS["glucose"].possible:
            other = (number * MG_DL_PER_MMOL_L).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            return (f"{number} is very low in mg/dL but looks like mmol/L: {number} mmol/L is "
                    f"{other} mg/dL. Check the meter's unit; this unit charts mg/dL")
        return None
    raise ValueError(f"{glucose_unit!r} is not a glucose unit ({', '.join(GLUCOSE_UNITS)})")


def check_glucose(value: object, glucose_unit: str) -> Verdict:
    """Return the verdict for a typed glucose in the unit's unit, naming a likely mix-up."""
    verdict = check("glucose", value, limits=limits_for(glucose_unit))
    if isinstance(verdict.value, str):
        return verdict
    mixup = glucose_mixup(value, glucose_unit)
    if mixup is None or verdict.tier in (OK, FLAG):
        return verdict
    return Verdict(verdict.tier, f"{verdict.message}. {mixup}", verdict.value)
