"""Shared item definitions, validation and banding for the withdrawal scales."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: A band is (lowest total, highest total, name), both ends inclusive.
Band = tuple[int, int, str]


class ItemError(ValueError):
    """An item value was missing, unknown or not allowed; ``key`` names the item."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Item:
    """One scored item: its key, label, highest value and anchor texts."""

    key: str
    label: str
    max_value: int
    # Anchors are display text, so they take no part in equality or hashing.
    anchors: Mapping[int, str] = field(default_factory=dict, compare=False, hash=False)
    #: Allowed values when the item skips some (COWS); None means every value 0..max_value.
    allowed: tuple[int, ...] | None = None

    @property
    def allowed_values(self) -> tuple[int, ...]:
        """Return the values this item may take, lowest first."""
        if self.allowed is not None:
            return self.allowed
        return tuple(range(self.max_value + 1))

    def meaning(self, value: int | None) -> str:
        """Return what a value means: its anchor, or the anchors either side of it."""
        if value is None:
            return ""
        if value in self.anchors:
            return self.anchors[value]
        below = max((v for v in self.anchors if v < value), default=None)
        above = min((v for v in self.anchors if v > value), default=None)
        if below is None or above is None:
            return ""
        return (f"between {below} ({self.anchors[below]}) and {above} ({self.anchors[above]})")

    def describe_allowed(self) -> str:
        """Return the allowed values as text for an error message."""
        if self.allowed is None:
            return f"0–{self.max_value}"
        return ", ".join(str(v) for v in self.allowed)


@dataclass(frozen=True)
class ScaleResult:
    """The total, its band and the validated item values of one assessment."""

    total: int
    band: str
    items: dict[str, int] = field(hash=False)


def validate_items(definition: Sequence[Item], values: Mapping[str, object]) -> dict[str, int]:
    """Return the item values in definition order, or raise ItemError naming the bad item."""
    known = {item.key for item in definition}
    for key in values:
        if key not in known:
            raise ItemError(str(key), f"{key} is not an item of this scale")
    checked: dict[str, int] = {}
    for item in definition:
        if item.key not in values or values[item.key] is None:
            raise ItemError(item.key, f"{item.key} is missing")
        value = values[item.key]
        # bool is an int subclass, and a stray True must not score 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ItemError(item.key, f"{item.key}: {value!r} is not a whole number")
        if value not in item.allowed_values:
            raise ItemError(
                item.key, f"{item.key}: {value} is not allowed ({item.describe_allowed()})"
            )
        checked[item.key] = value
    return checked


def max_total(definition: Sequence[Item]) -> int:
    """Return the highest possible total of a scale."""
    return sum(max(item.allowed_values) for item in definition)


def band_for(total: int, bands: Sequence[Band]) -> str:
    """Return the name of the band that contains total."""
    for low, high, name in bands:
        if low <= total <= high:
            return name
    raise ValueError(f"total {total} is not covered by any band")


def band_label(total: int, band: str, bands: Sequence[Band]) -> str:
    """Return the band with its range ("mild (0–7)"), or the name alone if it does not hold total."""
    for low, high, name in bands:
        if name == band and low <= total <= high:
            return f"{name} ({low}–{high})" if low != high else f"{name} ({low})"
    return band


def check_bands(bands: Sequence[Band], highest: int) -> None:
    """Raise ValueError unless bands cover 0..highest in order without gaps or overlaps."""
    if not bands:
        raise ValueError("at least one band is needed")
    expected_low = 0
    for low, high, name in bands:
        if not name.strip():
            raise ValueError("every band needs a name")
        if low != expected_low:
            raise ValueError(f"band {name!r} should start at {expected_low}, not {low}")
        if high < low:
            raise ValueError(f"band {name!r} ends ({high}) before it starts ({low})")
        expected_low = high + 1
    if expected_low - 1 != highest:
        raise ValueError(f"the bands should end at {highest}, not {expected_low - 1}")


def score_items(
    definition: Sequence[Item], values: Mapping[str, object], bands: Sequence[Band]
) -> ScaleResult:
    """Validate the item values, then total and band them."""
    # Bands are a unit setting; a bad one must fail loudly, not pick the first overlap.
    check_bands(bands, max_total(definition))
    checked = validate_items(definition, values)
    total = sum(checked.values())
    return ScaleResult(total=total, band=band_for(total, bands), items=checked)
