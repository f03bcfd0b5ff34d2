"""One strict parser for every number a user types.

Python's ``Decimal`` and ``int`` accept exponents, NaN, infinities, underscores and text of any
length, and ``int(Decimal("1e1200000"))`` runs for tens of seconds: one such field kept a worker
busy until gunicorn killed it. Every typed number is therefore matched against a plain, bounded
pattern before anything converts it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache


@lru_cache(maxsize=64)
def _pattern(int_digits: int, frac_digits: int, signed: bool) -> re.Pattern[str]:
    sign = "-?" if signed else ""
    fraction = rf"(?:\.\d{{0,{frac_digits}}})?" if frac_digits else ""
    return re.compile(rf"{sign}\d{{1,{int_digits}}}{fraction}", re.ASCII)


def parse_decimal(
    text: str | None, *, int_digits: int, frac_digits: int = 0, signed: bool = False
) -> Decimal | None:
    """Return the number typed in ``text``, None when blank, or raise ValueError.

    Accepted: an optional minus sign (when ``signed``), 1 to ``int_digits`` digits, and, when
    ``frac_digits`` is non-zero, a point followed by at most that many digits. Nothing else: no
    exponent, NaN, infinity, grouping, underscore or non-ASCII digit.
    """
    if int_digits < 1 or frac_digits < 0:
        raise ValueError("int_digits must be at least 1 and frac_digits at least 0")
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    # The length check comes first so that no regular expression ever walks a huge input.
    too_long = len(text) > int_digits + frac_digits + 2
    if too_long or not _pattern(int_digits, frac_digits, signed).fullmatch(text):
        raise ValueError(f"not a plain number: {text[:20]!r}")
    return Decimal(text)


def parse_int(text: str | None, *, digits: int, signed: bool = False) -> int | None:
    """Return the whole number typed in ``text``, None when blank, or raise ValueError."""
    value = parse_decimal(text, int_digits=digits, signed=signed)
    return None if value is None else int(value)
