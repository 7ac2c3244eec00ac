"""How numbers are written in copy. The fact-check applies the same rules in reverse.

Rules (reference trends_scoring.md §9): values are rounded half-up to the shown precision; counts
keep at least 3 significant figures (312,400 → "312K"); percentages are whole (1 dp under 10);
multipliers 1 dp ("6.2×"); money 2 dp with its currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹"}


def _round(value: float | Decimal, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _trim(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def count(value: float) -> str:
    """12,345 / 312K / 1.23M / 4.56B: never fewer than 3 significant figures."""
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v < 100_000:
        return f"{sign}{int(_round(v, 0)):,}"
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= div:
            scaled = v / div
            places = 0 if scaled >= 100 else (1 if scaled >= 10 else 2)
            rounded = _round(scaled, places)
            if rounded >= 1000 and suffix != "B":  # 999.96K rounds to 1000K: move up a unit
                continue
            return f"{sign}{_trim(rounded)}{suffix}"
    return f"{sign}{int(_round(v, 0)):,}"  # unreachable for v >= 100k, kept for safety


def percent(value: float) -> str:
    """1,234% / 38% / 4.5%."""
    v = float(value)
    if abs(v) < 10:
        return f"{_trim(_round(v, 1))}%"
    return f"{int(_round(v, 0)):,}%"


def multiplier(value: float) -> str:
    """6.2×."""
    return f"{_round(value, 1)}×"


def money(amount: Decimal | float, currency: str | None) -> str:
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    text = f"{_round(amount, 2):,}"
    if symbol:
        return f"{symbol}{text}"
    return f"{text} {currency}".strip() if currency else text

