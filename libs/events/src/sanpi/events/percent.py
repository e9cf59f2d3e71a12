"""Percentages as officials print them: one decimal, rounded half up (四舍五入), never half to even.

Python's round() rounds half to even (round(31.25, 1) == 31.2) and works on the binary float,
where 45.25 may be stored a hair below itself; a bulletin prints 5/16 as 31.3 % and 181/400 as
45.3 %. Every percentage sanpi shows goes through here, computed from exact values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Exact = int | Fraction | Decimal | float


def _decimal(value: Exact) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        # The shortest repr is the number that was meant (0.3125, not its binary neighbour).
        return Decimal(repr(value))
    return Decimal(value)


def half_up(value: Exact, places: int = 1) -> float:
    """`value` rounded to `places` decimals, halves away from zero: 31.25 → 31.3, −0.05 → −0.1."""
    return float(_decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def pct(ratio: Exact | None, places: int = 1) -> float | None:
    """A 0–1 ratio as a percentage rounded half up (None stays None): Fraction(5, 16) → 31.3."""
    return None if ratio is None else half_up(_decimal(ratio) * 100, places)


def pct_of(numerator: int, denominator: int, places: int = 1) -> float | None:
    """numerator / denominator in percent, half up; None when the denominator is 0."""
    return None if denominator == 0 else pct(Fraction(numerator, denominator), places)
