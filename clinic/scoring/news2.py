"""NEWS2 (Royal College of Physicians, 2017): parameter points, total, band and response.

NEWS2 is not validated for withdrawal; show it beside the withdrawal scores, labelled as such.

Whole-number parameters (respiratory rate, SpO2, systolic BP, heart rate) take an ``int``; a
float or ``Decimal`` is accepted only when integral (16.0), since a fractional rate is a data
error, and strings and ``bool`` are refused. Temperature is compared in exact tenths of a degree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PARAMETERS: tuple[str, ...] = (
    "respiratory_rate",
    "spo2",
    "on_oxygen",
    "systolic_bp",
    "heart_rate",
    "consciousness",
    "temperature",
)
CONSCIOUSNESS_LEVELS: tuple[str, ...] = ("A", "C", "V", "P", "U")
SPO2_SCALES: tuple[int, ...] = (1, 2)
MAX_TOTAL = 20

BAND_LOW = "low"
BAND_LOW_MEDIUM = "low-medium"
BAND_MEDIUM = "medium"
BAND_HIGH = "high"
BANDS: tuple[str, ...] = (BAND_LOW, BAND_LOW_MEDIUM, BAND_MEDIUM, BAND_HIGH)

_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class News2Result:
    """The points per parameter, the total and the clinical-response band."""

    total: int
    band: str
    points: dict[str, int] = field(hash=False)
    spo2_scale: int = 1

    @property
    def any_red(self) -> bool:
        """Return whether any single parameter scored 3."""
        return any(p == 3 for p in self.points.values())

    @property
    def monitoring(self) -> str:
        """Return the minimum monitoring frequency and response for this result."""
        if self.band == BAND_HIGH:
            return "continuous monitoring; emergency response"
        if self.band == BAND_MEDIUM:
            return "at least hourly; urgent review by a clinician"
        if self.band == BAND_LOW_MEDIUM:
            return "at least hourly; urgent ward review"
        if self.total == 0:
            return "at least every 12 h"
        return "at least every 4–6 h"

    @property
    def monitoring_interval_minutes(self) -> int:
        """Return the longest allowed time in minutes until the next observations."""
        if self.band == BAND_HIGH:
            return 15
        if self.band in (BAND_MEDIUM, BAND_LOW_MEDIUM):
            return 60
        return 720 if self.total == 0 else 240


def whole_number(name: str, value: object) -> int:
    """Return value as an int, or raise ValueError naming the parameter."""
    if value is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, (float, Decimal)):
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise ValueError(f"{name}: {value!r} is not a number")
        if value != int(value):
            raise ValueError(f"{name}: {value} must be a whole number")
        number = int(value)
    else:
        raise ValueError(f"{name}: {value!r} is not a whole number")
    if number < 0:
        raise ValueError(f"{name}: {number} cannot be negative")
    return number


def tenths(name: str, value: object) -> Decimal:
    """Return value as a Decimal rounded half-up to 0.1, or raise ValueError naming it."""
    if value is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(f"{name}: {value!r} is not a number")
    # str() first, so a float 35.1 becomes Decimal("35.1") and not 35.0999999…
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{name}: {value!r} is not a number")
    try:
        return number.quantize(_TENTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{name}: {value!r} is out of range") from None


def respiratory_rate_points(respiratory_rate: int) -> int:
    """Return the NEWS2 points for a respiratory rate per minute."""
    rate = whole_number("respiratory_rate", respiratory_rate)
    if rate <= 8:
        return 3
    if rate <= 11:
        return 1
    if rate <= 20:
        return 0
    if rate <= 24:
        return 2
    return 3


def spo2_points(spo2: int, *, spo2_scale: int = 1, on_oxygen: bool = False) -> int:
    """Return the NEWS2 points for an oxygen saturation on scale 1 or 2."""
    saturation = whole_number("spo2", spo2)
    if saturation > 100:
        raise ValueError(f"spo2: {saturation} is above 100 %")
    scale = _spo2_scale(spo2_scale)
    oxygen = _yes_no("on_oxygen", on_oxygen)
    if scale == 1:
        if saturation <= 91:
            return 3
        if saturation <= 93:
            return 2
        if saturation <= 95:
            return 1
        return 0
    if saturation <= 83:
        return 3
    if saturation <= 85:
        return 2
    if saturation <= 87:
        return 1
    # Scale 2 targets 88–92 %; above that only supplemental oxygen makes it a risk.
    if saturation <= 92 or not oxygen:
        return 0
    if saturation <= 94:
        return 1
    if saturation <= 96:
        return 2
    return 3


def on_oxygen_points(on_oxygen: bool) -> int:
    """Return the NEWS2 points for breathing air (0) or supplemental oxygen (2)."""
    return 2 if _yes_no("on_oxygen", on_oxygen) else 0


def systolic_bp_points(systolic_bp: int) -> int:
    """Return the NEWS2 points for a systolic blood pressure in mmHg."""
    pressure = whole_number("systolic_bp", systolic_bp)
    if pressure <= 90:
        return 3
    if pressure <= 100:
        return 2
    if pressure <= 110:
        return 1
    if pressure <= 219:
        return 0
    return 3


def heart_rate_points(heart_rate: int) -> int:
    """Return the NEWS2 points for a pulse rate per minute."""
    rate = whole_number("heart_rate", heart_rate)
    if rate <= 40:
        return 3
    if rate <= 50:
        return 1
    if rate <= 90:
        return 0
    if rate <= 110:
        return 1
    if rate <= 130:
        return 2
    return 3


def consciousness_points(consciousness: str) -> int:
    """Return the NEWS2 points for an ACVPU level (anything but alert scores 3)."""
    if consciousness not in CONSCIOUSNESS_LEVELS:
        raise ValueError(
            f"consciousness: {consciousness!r} is not one of {', '.join(CONSCIOUSNESS_LEVELS)}"
        )
    return 0 if consciousness == "A" else 3


def temperature_points(temperature: Decimal | int | float | str) -> int:
    """Return the NEWS2 points for a temperature in °C, compared in exact tenths."""
    degrees = tenths("temperature", temperature)
    if degrees <= Decimal("35.0"):
        return 3
    if degrees <= Decimal("36.0"):
        return 1
    if degrees <= Decimal("38.0"):
        return 0
    if degrees <= Decimal("39.0"):
        return 1
    return 2


def band_for(total: int, points: dict[str, int]) -> str:
    """Return the band for a total and its points; the first matching rule wins."""
    if total >= 7:
        return BAND_HIGH
    if total >= 5:
        return BAND_MEDIUM
    if any(p == 3 for p in points.values()):
        return BAND_LOW_MEDIUM
    return BAND_LOW


def score(
    *,
    respiratory_rate: int,
    spo2: int,
    spo2_scale: int = 1,
    on_oxygen: bool,
    systolic_bp: int,
    heart_rate: int,
    consciousness: str,
    temperature: Decimal | int | float | str,
) -> News2Result:
    """Score a complete set of observations, or raise ValueError naming the bad parameter."""
    for name, value in (
        ("respiratory_rate", respiratory_rate),
        ("spo2", spo2),
        ("spo2_scale", spo2_scale),
        ("on_oxygen", on_oxygen),
        ("systolic_bp", systolic_bp),
        ("heart_rate", heart_rate),
        ("consciousness", consciousness),
        ("temperature", temperature),
    ):
        if value is None:
            raise ValueError(f"{name} is missing")
    points = {
        "respiratory_rate": respiratory_rate_points(respiratory_rate),
        "spo2": spo2_points(spo2, spo2_scale=spo2_scale, on_oxygen=on_oxygen),
        "on_oxygen": on_oxygen_points(on_oxygen),
        "systolic_bp": systolic_bp_points(systolic_bp),
        "heart_rate": heart_rate_points(heart_rate),
        "consciousness": consciousness_points(consciousness),
        "temperature": temperature_points(temperature),
    }
    total = sum(points.values())
    return News2Result(
        total=total, band=band_for(total, points), points=points, spo2_scale=spo2_scale
    )


def missing(
    *,
    respiratory_rate: int | None = None,
    spo2: int | None = None,
    spo2_scale: int | None = 1,
    on_oxygen: bool | None = None,
    systolic_bp: int | None = None,
    heart_rate: int | None = None,
    consciousness: str | None = None,
    temperature: Decimal | int | float | str | None = None,
) -> list[str]:
    """Return the names of the observed parameters that are missing, in chart order."""
    given = {
        "respiratory_rate": respiratory_rate,
        "spo2": spo2,
        "on_oxygen": on_oxygen,
        "systolic_bp": systolic_bp,
        "heart_rate": heart_rate,
        "consciousness": consciousness,
        "temperature": temperature,
    }
    return [name for name in PARAMETERS if given[name] is None]


def score_partial(
    *,
    respiratory_rate: int | None = None,
    spo2: int | None = None,
    spo2_scale: int = 1,
    on_oxygen: bool | None = None,
    systolic_bp: int | None = None,
    heart_rate: int | None = None,
    consciousness: str | None = None,
    temperature: Decimal | int | float | str | None = None,
) -> News2Result | None:
    """Score the observations, or return None when the set is incomplete.

    Values that are present are still validated, so a bad entry is never hidden by a missing
    one. ``spo2_scale`` is a recorded clinical decision, not an observation: it must be 1 or 2.
    """
    _spo2_scale(spo2_scale)
    if respiratory_rate is not None:
        respiratory_rate_points(respiratory_rate)
    if on_oxygen is not None:
        _yes_no("on_oxygen", on_oxygen)
    if spo2 is not None:
        spo2_points(spo2, spo2_scale=spo2_scale, on_oxygen=bool(on_oxygen))
    if systolic_bp is not None:
        systolic_bp_points(systolic_bp)
    if heart_rate is not None:
        heart_rate_points(heart_rate)
    if consciousness is not None:
        consciousness_points(consciousness)
    if temperature is not None:
        temperature_points(temperature)
    if (
        respiratory_rate is None
        or spo2 is None
        or on_oxygen is None
        or systolic_bp is None
        or heart_rate is None
        or consciousness is None
        or temperature is None
    ):
        return None
    return score(
        respiratory_rate=respiratory_rate,
        spo2=spo2,
        spo2_scale=spo2_scale,
        on_oxygen=on_oxygen,
        systolic_bp=systolic_bp,
        heart_rate=heart_rate,
        consciousness=consciousness,
        temperature=temperature,
    )


def _spo2_scale(spo2_scale: object) -> int:
    if type(spo2_scale) is not int or spo2_scale not in SPO2_SCALES:
        raise ValueError(f"spo2_scale: {spo2_scale!r} must be 1 or 2")
    return spo2_scale


def _yes_no(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} must be True or False")
    return value


#: What the chart calls each NEWS2 parameter, for "missing" lists and escalation reasons.
PARAMETER_LABELS: dict[str, str] = {
    "respiratory_rate": "respiratory rate",
    "spo2": "SpO₂",
    "on_oxygen": "air or oxygen",
    "systolic_bp": "systolic BP",
    "heart_rate": "pulse",
    "consciousness": "consciousness",
    "temperature": "temperature",
}


@dataclass(frozen=True)
class PartialResult:
    """The points of the parameters present in an incomplete set, and what they already imply.

    ``band`` is the least band the complete set could have (the missing parameters can only add
    points): "high" from 7 points, "medium" from 5, "low-medium" with any single 3; otherwise
    None, since the total is unknown and must never be shown as "low".
    """

    points: dict[str, int] = field(hash=False)
    missing: tuple[str, ...]

    @property
    def known_total(self) -> int:
        """Return the sum of the points present (the least the complete total can be)."""
        return sum(self.points.values())

    @property
    def red(self) -> tuple[str, ...]:
        """Return the parameters scoring 3, in chart order."""
        return tuple(name for name in PARAMETERS if self.points.get(name) == 3)

    @property
    def band(self) -> str | None:
        """Return the least band the complete set can have, or None when it is still unknown."""
        total = self.known_total
        if total >= 5 or self.red:
            return band_for(total, self.points)
        return None


def partial(
    *,
    respiratory_rate: int | None = None,
    spo2: int | None = None,
    spo2_scale: int = 1,
    on_oxygen: bool | None = None,
    systolic_bp: int | None = None,
    heart_rate: int | None = None,
    consciousness: str | None = None,
    temperature: Decimal | int | float | str | None = None,
) -> PartialResult:
    """Score each parameter present; the single-parameter rule needs no complete set.

    SpO₂ on scale 2 depends on air or oxygen: with that unknown it is scored as on air, which
    gives the fewest points, so nothing is raised that the full set would not raise.
    """
    _spo2_scale(spo2_scale)
    points: dict[str, int] = {}
    if respiratory_rate is not None:
        points["respiratory_rate"] = respiratory_rate_points(respiratory_rate)
    if spo2 is not None:
        points["spo2"] = spo2_points(spo2, spo2_scale=spo2_scale, on_oxygen=bool(on_oxygen))
    if on_oxygen is not None:
        points["on_oxygen"] = on_oxygen_points(on_oxygen)
    if systolic_bp is not None:
        points["systolic_bp"] = systolic_bp_points(systolic_bp)
    if heart_rate is not None:
        points["heart_rate"] = heart_rate_points(heart_rate)
    if consciousness is not None:
        points["consciousness"] = consciousness_points(consciousness)
    if temperature is not None:
        points["temperature"] = temperature_points(temperature)
    return PartialResult(points, tuple(name for name in PARAMETERS if name not in points))


def escalation_for(band: str | None, *, any_red: bool = False) -> tuple[str, str] | None:
    """Return the automatic escalation (level, rule) a band calls for, or None.

    High is the emergency response; medium, and any single parameter scoring 3, the urgent one.
    """
    if band == BAND_HIGH:
        return "emergency", "news2:high"
    if band == BAND_MEDIUM:
        return "urgent", "news2:medium"
    if any_red or band == BAND_LOW_MEDIUM:
        return "urgent", "news2:red"
    return None


def missing_from_points(points: dict[str, int] | None) -> tuple[str, ...]:
    """Return the parameters a stored points table lacks, in chart order."""
    return tuple(name for name in PARAMETERS if name not in (points or {}))
