"""Small, pure helpers every source parser and scorer shares.

Scraped JSON is messy: counts arrive as ints, floats, "1.2K" or None; prices as numbers, objects or
localized strings; dates in three formats. Each helper here turns one of those into a clean value or
None, and never raises, so parsers can stay `.get()`-and-go.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from statistics import median as _median

from ..models import Signals

SHRINK_K = 5.0  # pseudo-count for shrinking thin baselines toward 1 / the next level (trends_scoring §1.1)
NEXT_K = 1.0  # pseudo-count of the next level when a thin baseline is shrunk toward it (log space; see surprise)
THIN_N = 5  # a baseline of fewer comparable items is thin: shrunk toward the next level, flagged "thin"
NOTEWORTHY = 1.5  # default noteworthiness floor on the shrunk multiplier (§2): below it an item is no evidence
DOUBLING_TAU = 1.0  # default doubling scale: q = 0.5 at 2× the floor, 0.75 at 4×, ~0.93 at 20× (floor 1.5)

_SUFFIX = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_CURRENCY_SYMBOLS: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "£": "GBP",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "R$": "BRL",
    "kr": "SEK",
    "zł": "PLN",
}
_ISO = re.compile(r"\b([A-Z]{3})\b")
_TWITTER_FMT = "%a %b %d %H:%M:%S %z %Y"


def median(values: Iterable[float | int | None]) -> float | None:
    """The median of the finite values, or None when there are none."""
    clean = [float(v) for v in values if v is not None and isinstance(v, int | float) and math.isfinite(v)]
    return float(_median(clean)) if clean else None


def median_excluding(values: Sequence[float], index: int) -> tuple[float | None, int]:
    """Median of all values but the one at `index` (an item never sets its own baseline), and how many were used."""
    others = [v for i, v in enumerate(values) if i != index]
    return median(others), len(others)


def shrink(m: float, n: float, k: float = SHRINK_K) -> float:
    """Pull a multiplier toward 1 when its baseline is thin: (n·m + k) / (n + k)."""
    return (n * m + k) / (n + k)


def strength(m_s: float | None, floor: float = NOTEWORTHY, tau: float = DOUBLING_TAU) -> float:
    """Evidence strength q in [0, 1) from a shrunk multiplier (trends_scoring §2): 0 at or below `floor`,
    then 1 − 2^(−log2(m_s / floor) / tau), so a 20× spike is stronger than a 2× one whatever the run."""
    if m_s is None or not math.isfinite(m_s) or m_s <= floor or floor <= 0 or tau <= 0:
        return 0.0
    q = 1.0 - 2.0 ** (-math.log2(m_s / floor) / tau)
    return min(q, 0.999)


def boost(q: float, weight: float) -> float:
    """Raise a strength by a weight ≥ 1 without leaving [0, 1) or lifting a zero: 1 − (1 − q)^weight."""
    if q <= 0.0 or weight <= 0:
        return 0.0
    return min(1.0 - (1.0 - q) ** weight, 0.999)


def log2_safe(x: float) -> float:
    """log2 for a positive float; 0 for anything that is not (no infinities reach ranking)."""
    return math.log2(x) if x > 0 and math.isfinite(x) else 0.0


def to_int(value: object) -> int | None:
    """A count from int / float / "1,234" / "1.2K" / "3M" / "412300"; None when it is not a count."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() else None
    if not isinstance(value, str):
        return None
    s = value.strip().replace(",", "").replace("_", "").replace(" ", "").lower()
    if not s:
        return None
    mult = 1
    if s[-1] in _SUFFIX:
        mult = _SUFFIX[s[-1]]
        s = s[:-1]
    try:
        number = float(s)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(round(number * mult))


def to_float(value: object) -> float | None:
    """A finite float from a number or numeric string; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _currency_code(symbol_or_code: object) -> str | None:
    if not isinstance(symbol_or_code, str):
        return None
    s = symbol_or_code.strip()
    if not s:
        return None
    if s.upper() in _CURRENCY_SYMBOLS.values() or (len(s) == 3 and s.isalpha() and s.isupper()):
        return s.upper()
    return _CURRENCY_SYMBOLS.get(s)


def _parse_amount(text: str) -> Decimal | None:
    """'1.234,56' → 1234.56, '1,234.56' → 1234.56, '9,99' → 9.99, '1,234' → 1234."""
    digits = re.sub(r"[^\d.,]", "", text)
    if not digits or not any(c.isdigit() for c in digits):
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    decimal_sep = ""
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    else:
        sep = "." if last_dot >= 0 else "," if last_comma >= 0 else ""
        # one separator with 1, 2 (or 4+) digits after it is decimal; "1,234" / "1.234.567" group thousands
        if sep and digits.count(sep) == 1 and len(digits) - digits.rfind(sep) - 1 != 3:
            decimal_sep = sep
    for g in ".,":
        if g != decimal_sep:
            digits = digits.replace(g, "")
    digits = digits.replace(",", ".")
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def to_decimal_price(value: object, currency_hint: object = None) -> tuple[Decimal | None, str | None]:
    """(amount, ISO currency) from 18.99 / {"value": 18.99, "currency": "$"} / "£9.99" / "1.234,56 €"."""
    currency = _currency_code(currency_hint)
    if value is None or isinstance(value, bool):
        return None, currency
    if isinstance(value, dict):
        amount, inner = to_decimal_price(value.get("value", value.get("amount")), value.get("currency"))
        return amount, inner or currency
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            return None, currency
        return Decimal(str(value)), currency
    if not isinstance(value, str):
        return None, currency
    text = value.strip()
    found: str | None = None
    iso = _ISO.search(text)
    if iso and _currency_code(iso.group(1)):
        found = iso.group(1)
    else:
        for symbol in sorted(_CURRENCY_SYMBOLS, key=len, reverse=True):
            if symbol in text:
                found = _CURRENCY_SYMBOLS[symbol]
                break
    # a range like "$12.99 - $19.99": take the low end
    first = re.split(r"\s[-–]\s", text)[0]
    return _parse_amount(first), found or currency


def parse_percent(value: object, decimal_comma: bool = False) -> float | None:
    """A Movers & Shakers gain: "1,234%" / "+1,234%" / "1.234%" (.de) → 1234.0; "previously unranked" → None.

    The page shows no sign (direction is an arrow icon), so a missing value is None, never 0.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text or "unranked" in text or not any(c.isdigit() for c in text):
        return None
    negative = text.startswith("-") or text.startswith("−")
    number = text.split("%")[0]
    number = re.sub(r"[^\d.,]", "", number)
    if decimal_comma:
        number = number.replace(".", "").replace(",", ".")
    else:
        # thousands separators: "," always; "." when it groups 3 digits ("1.234" on .de)
        number = number.replace(",", "")
        if re.fullmatch(r"\d{1,3}(\.\d{3})+", number):
            number = number.replace(".", "")
    try:
        f = float(number)
    except ValueError:
        return None
    return -f if negative else f


_PREVIOUSLY = re.compile(r"(?i)rank[^\d]*([\d.,]+)\s*\(\s*previously\s+([\d.,]+|unranked)")


def parse_sales_movement(text: object) -> tuple[int | None, int | None]:
    """'Sales rank: 52 (previously 1,840)' → (52, 1840); 'previously unranked' → (52, None)."""
    if not isinstance(text, str):
        return None, None
    match = _PREVIOUSLY.search(text)
    if not match:
        return None, None
    now = to_int(re.sub(r"[.,]", "", match.group(1)))
    prev_raw = match.group(2)
    prev = None if "unranked" in prev_raw.lower() else to_int(re.sub(r"[.,]", "", prev_raw))
    return now, prev


def parse_twitter_date(value: object) -> datetime | None:
    """Twitter's classic 'Wed Jan 07 09:15:00 +0000 2026' (falls back to ISO-8601)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), _TWITTER_FMT).astimezone(UTC)
    except ValueError:
        return parse_iso(value)


def parse_iso(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string ('...Z' accepted); None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_epoch(value: object) -> datetime | None:
    """Unix seconds (int, float or numeric string; milliseconds tolerated) → aware UTC."""
    f = to_float(value)
    if f is None or f <= 0:
        return None
    if f > 1e12:  # milliseconds
        f /= 1000.0
    try:
        return datetime.fromtimestamp(int(f), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def aware(dt: datetime | None) -> datetime:
    """The given time as aware UTC, or now when it is missing (observed_at defaults to the parse time)."""
    if dt is None:
        return datetime.now(UTC)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def age_hours(published: datetime | None, observed: datetime) -> float | None:
    if published is None:
        return None
    return max(0.0, (observed - published).total_seconds() / 3600.0)


def clean_title(text: object, limit: int = 140) -> str:
    """The first non-empty line, whitespace collapsed, hashtags and trailing links trimmed, cut at `limit`."""
    if not isinstance(text, str):
        return ""
    for line in text.splitlines():
        line = re.sub(r"https?://\S+", "", line)
        line = re.sub(r"(?:\s#\w+)+\s*$", "", " " + line).strip()
        line = re.sub(r"\s+", " ", line).strip()
        if line and not re.fullmatch(r"(#\w+\s*)+", line):
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def relative(value: float, others: Sequence[float], k: float = SHRINK_K) -> tuple[float | None, int, float | None, float]:
    """(baseline B, n, raw multiplier m, shrunk m_s) for `value` against the median of `others`.

    With no usable baseline (no others, or a median of 0) m is None and m_s is 1: no evidence either way.
    """
    baseline = median(others)
    n = len(others)
    if baseline is None or baseline <= 0:
        return baseline, n, None, 1.0
    m = value / baseline
    return baseline, n, m, shrink(m, n, k)


# --- baselines that exclude the item, in O(n log n) ------------------------------------------------


def loo_medians(values: Sequence[float]) -> list[float | None]:
    """For each i, the median of all values but values[i] ("leave one out"), from one sorted copy.

    O(n log n) for the sort, then O(1) per item: removing the item at sorted rank p shifts every rank ≥ p
    down by one, so the remainder's rank j is sorted[j] for j < p and sorted[j + 1] otherwise. Ties are
    harmless: any copy of an equal value leaves the same multiset behind.
    """
    n = len(values)
    if n <= 1:
        return [None] * n
    order = sorted(range(n), key=lambda i: values[i])
    ordered = [float(values[i]) for i in order]
    rank = [0] * n
    for r, i in enumerate(order):
        rank[i] = r
    rest = n - 1

    def at(j: int, p: int) -> float:
        return ordered[j] if j < p else ordered[j + 1]

    out: list[float | None] = []
    for i in range(n):
        p = rank[i]
        if rest % 2:
            out.append(at(rest // 2, p))
        else:
            out.append((at(rest // 2 - 1, p) + at(rest // 2, p)) / 2.0)
    return out


def loo_medians_by(keys: Sequence[Hashable | None], values: Sequence[float | None]) -> list[tuple[float | None, int]]:
    """(median of the OTHER values with the same key, how many) for every position; a None key or value
    takes part in no group (and gets (None, 0)). One sort per group: O(n log n) overall."""
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, (key, value) in enumerate(zip(keys, values, strict=True)):
        if key is not None and value is not None and math.isfinite(value):
            groups[key].append(i)
    out: list[tuple[float | None, int]] = [(None, 0)] * len(values)
    for idx in groups.values():
        medians = loo_medians([float(values[i]) for i in idx])  # type: ignore[arg-type]
        for i, med in zip(idx, medians, strict=True):
            out[i] = (med, len(idx) - 1)
    return out


# --- hierarchical baselines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One candidate baseline for an item: `name` is what Signals.baseline_level records
    (author | group | run | prior | history | page), `n` the number of comparable items behind it."""

    name: str
    baseline: float | None
    n: int
    kind: str = ""

    @property
    def usable(self) -> bool:
        return self.baseline is not None and math.isfinite(self.baseline) and self.baseline > 0 and self.n > 0


@dataclass(frozen=True)
class Surprise:
    """The item against the most specific usable level: raw m = x / B there, and m_s after shrinkage."""

    level: str = "none"
    kind: str = "none: no comparable items"
    baseline: float | None = None
    n: int = 0
    m: float | None = None
    m_s: float | None = None

    @property
    def thin(self) -> bool:
        return self.n < THIN_N

    def signals(
        self,
        metric: str,
        value: float,
        *,
        floor: float,
        eligible: bool,
        flags: list[str],
        components: dict[str, float],
        velocity: float | None = None,
    ) -> Signals:
        """The item's `Signals` from this surprise: s = log2(m_s) for ties within the source, q = strength(m_s)
        above `floor` when the item is eligible (0 otherwise)."""
        return Signals(
            metric=metric,
            value=value,
            baseline=self.baseline,
            baseline_kind=self.kind,
            n_baseline=self.n,
            m=self.m,
            m_s=self.m_s,
            s=log2_safe(self.m_s) if self.m_s is not None else 0.0,
            q=strength(self.m_s, floor) if eligible else 0.0,
            baseline_level=self.level,
            velocity=velocity,
            eligible=eligible,
            flags=flags,
            components=components,
        )


def surprise(
    x: float, levels: Sequence[Level], *, k: float = SHRINK_K, k_next: float = NEXT_K, thin_n: int = THIN_N
) -> Surprise:
    """Score `x` against the most specific usable level, shrinking a thin one toward the next level (§1.1).

    Levels run from most specific (author / channel) to least (run, population prior). Going up from the
    least specific usable level:
    - a level with n ≥ thin_n, or the last one, is shrunk toward 1: m_s = (n·m + k) / (n + k) (§1.1, k = 5);
    - a thin level (n < thin_n) is shrunk toward the level below it, in log space, with pseudo-count
      k_next: log m_s = (n·log m + k_next·log m_s_next) / (n + k_next). The next level counts as one more
      comparable item (k_next = 1): one earlier video of a creator is weighed against her audience, not
      against "average". Why log space and k_next = 1 rather than the linear form with k = 5: the next level
      is a cross-author estimate (followers × a run-wide rate) that is off by 10× and more for small accounts
      (engagement grows sublinearly with followers); measured on the bundled sample, the linear k = 5 form
      gave an X post at 0.54× its author's four other posts q = 0.53, this form gives it 0.
    With no usable level the result has m = m_s = None (level "none"): no evidence, never "m = 1".
    """
    usable = [lv for lv in levels if lv.usable]
    if not usable or not math.isfinite(x) or x < 0:
        return Surprise()
    m_s: float | None = None
    for lv in reversed(usable):
        m = x / lv.baseline  # type: ignore[operator]
        if m_s is None or lv.n >= thin_n:
            m_s = shrink(m, lv.n, k)
        elif m <= 0 or m_s <= 0:
            m_s = 0.0
        else:
            m_s = math.exp((lv.n * math.log(m) + k_next * math.log(m_s)) / (lv.n + k_next))
    top = usable[0]
    return Surprise(top.name, top.kind, top.baseline, top.n, x / top.baseline, m_s)  # type: ignore[operator]


def http_url(value: object) -> str | None:
    """`value` when it is an http(s) URL with a host, else None (thumbnails: never data:, file: or junk)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not re.match(r"(?i)^https?://[^\s/?#]+[^\s]*$", text) or any(c in text for c in "<>\"'"):
        return None
    return text
