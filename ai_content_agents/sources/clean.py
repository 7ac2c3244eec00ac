"""The parse border every source shares: what a source's `parse` sees, and what leaves it, is bounded and clean.

WHY here and not in each parser: scraped text arrives with half an emoji (a lone UTF-16 surrogate that a
JavaScript scraper left when it cut a string: SQLite and UTF-8 files refuse it), NULs, megabyte titles and
numbers beyond any float. One function, `parse_source`, runs every source's `parse` the same way:

- before parse: at most `items` rows are read; every string in a row loses surrogates and NULs and is cut
  at the longest text field's cap (so no parser regex ever sees a megabyte); integers beyond the float
  range become null (a field missing, not a row lost); nesting deeper than `MAX_DEPTH` is dropped;
- parse itself: a parser that raises on the whole list is run row by row, so a bad row costs that row;
- after parse: every text field of every item is capped (title, text, other fields: settings), lists are
  capped, non-finite metrics and absurd prices/followers are dropped, secrets a server echoed are masked,
  and the raw row is let go (only what ranking and copy use is kept, in memory and in the store).

Whatever was cut is counted in `Parsed.cut` and reaches the source's report.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..models import Parsed, TrendItem
from ..redact import scrub

if TYPE_CHECKING:
    from ..config import Settings
    from .base import SourceModule

MAX_DEPTH = 32
MAX_FOLLOWERS = 10**13  # more than every human; anything above is garbage
MAX_PRICE = Decimal(10) ** 9
_BAD_CHARS = re.compile("[\ud800-\udfff\x00]")
_FIELDS = ("author", "group", "category", "brand", "currency", "thumbnail", "window")
_LISTS = ("canonical_ids", "links", "commerce_reasons")


@dataclass(frozen=True)
class Limits:
    """How much of a scraped item is kept (AICA_MAX_* settings)."""

    title_chars: int = 300
    text_chars: int = 5000
    field_chars: int = 2048
    items: int = 5000
    list_len: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            title_chars=settings.max_title_chars,
            text_chars=settings.max_text_chars,
            field_chars=settings.max_field_chars,
            items=settings.max_items_per_source,
        )


def clean_text(value: str, limit: int | None = None) -> tuple[str, bool]:
    """(text without lone surrogates or NULs, cut at `limit` with an ellipsis; whether it was cut)."""
    if _BAD_CHARS.search(value):
        value = _BAD_CHARS.sub("", value)
    if limit is not None and len(value) > limit:
        return value[: max(0, limit - 1)].rstrip() + "…", True
    return value, False


def clean_raw(value: Any, limit: int, depth: int = 0) -> Any:
    """A raw JSON value with every string cleaned and cut at `limit`, huge integers nulled, deep nesting
    dropped. Containers are cleaned in place (only what changes is replaced) and returned."""
    if isinstance(value, str):
        return clean_text(value, limit)[0]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return None if abs(value) > 1e308 else value
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            new = clean_raw(item, limit, depth + 1)
            if isinstance(key, str) and _BAD_CHARS.search(key):
                del value[key]
                value[clean_text(key)[0]] = new
            elif new is not item:
                value[key] = new
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            new = clean_raw(item, limit, depth + 1)
            if new is not item:
                value[i] = new
        return value
    return value


def _short(value: str | None, limit: int, cut: Counter[str], what: str) -> str | None:
    if value is None:
        return None
    text, was_cut = clean_text(scrub(value), limit)
    if was_cut:
        cut[what] += 1
    return text


def clean_item(item: TrendItem, limits: Limits, cut: Counter[str]) -> TrendItem | str:
    """The item with every field within its limit (a copy), or why it cannot be kept."""
    source_id, url = clean_text(item.source_id)[0], clean_text(scrub(item.url))[0]
    if not source_id or len(source_id) > limits.field_chars or len(url) > limits.field_chars:
        return "id or url too long"
    update: dict[str, Any] = {
        "source_id": source_id,
        "url": url,
        "title": _short(item.title, limits.title_chars, cut, "titles shortened"),
        "text": _short(item.text, limits.text_chars, cut, "texts shortened"),
        "raw": None,
    }
    for name in _FIELDS:
        update[name] = _short(getattr(item, name), limits.field_chars, cut, "fields shortened")
    for name in _LISTS:
        values = [clean_text(scrub(v))[0] for v in getattr(item, name) if isinstance(v, str)]
        kept = [v for v in values if v and len(v) <= limits.field_chars][: limits.list_len]
        if len(kept) < len(values):
            cut[f"{name} dropped"] += len(values) - len(kept)
        update[name] = kept
    metrics = {clean_text(k)[0]: v for k, v in item.metrics.items() if isinstance(v, int | float) and math.isfinite(v)}
    if len(metrics) < len(item.metrics):
        cut["non-finite metrics dropped"] += len(item.metrics) - len(metrics)
    update["metrics"] = metrics
    if item.price is not None and (not item.price.is_finite() or abs(item.price) > MAX_PRICE):
        update["price"] = None
        cut["absurd prices dropped"] += 1
    if item.author_followers is not None and not 0 <= item.author_followers <= MAX_FOLLOWERS:
        update["author_followers"] = None
        cut["absurd follower counts dropped"] += 1
    return item.model_copy(update=update)


def _parse_each(module: SourceModule, rows: list[Any], observed_at: datetime | None) -> Parsed:
    """Row by row, for a parser that raised on the whole list: a row that raises is one counted skip."""
    out = Parsed()
    seen: set[str] = set()
    for row in rows:
        try:
            parsed = module.parse([row], observed_at)
        except Exception:  # noqa: BLE001 - the border never loses more than the bad row
            out.skip("invalid row")
            continue
        out.skipped.update(parsed.skipped)
        for item in parsed:
            if item.key in seen:
                out.skip("duplicate")
                continue
            seen.add(item.key)
            out.append(item)
    return out


def parse_source(
    module: SourceModule, raw_items: object, observed_at: datetime | None, limits: Limits | None = None
) -> Parsed:
    """`module.parse` at the shared border (see the module docstring). Never raises on content."""
    limits = limits or Limits()
    cut: Counter[str] = Counter()
    if not isinstance(raw_items, list):
        out = Parsed()
        out.skip("not a list")
        return out
    rows = raw_items
    if len(rows) > limits.items:
        cut["rows over the item cap"] += len(rows) - limits.items
        rows = rows[: limits.items]
    longest = max(limits.text_chars, limits.field_chars, limits.title_chars)
    rows = [clean_raw(row, longest) for row in rows]
    try:
        parsed = module.parse(rows, observed_at)
    except Exception:  # noqa: BLE001
        parsed = _parse_each(module, rows, observed_at)
    out = Parsed(skipped=Counter(parsed.skipped))
    for item in parsed:
        if len(out) >= limits.items:
            cut["items over the item cap"] += 1
            continue
        kept = clean_item(item, limits, cut)
        if isinstance(kept, str):
            out.skip(kept)
        else:
            out.append(kept)
    out.cut = cut + Counter(getattr(parsed, "cut", Counter()))
    return out
