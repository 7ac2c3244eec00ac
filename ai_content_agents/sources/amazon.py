"""Amazon Best Sellers / Movers & Shakers lists via the Apify actor junglee/amazon-bestsellers.

The actor gives list positions, not rank changes, so velocity comes from (a) a percent or
"previously N" the row happens to carry (field names unverified, read defensively) or (b) this
project's own stored snapshots of the same list. One sale can move a low-volume ASIN ~10× in rank,
so an item needs persistence (a page percent, or ≥ 2 snapshots without a lone huge jump) to be eligible.

Identity (documented choice): `source_id` is "<ASIN>@<list key>" (e.g. "B0EXAMPLE1@amazon.com/gp/
movers-and-shakers/beauty"), because the same ASIN on two lists has two positions and the store keeps
one observation per (source, source_id, time). Cross-source clustering uses canonical_ids "asin:<ASIN>".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..models import FetchResult, Observation, Parsed, Signals, TrendItem
from . import apify
from .base import SourceError
from .stats import aware, log2_safe, parse_percent, parse_sales_movement, to_decimal_price, to_float, to_int
from .urls import amazon_product_url, amazon_tld, extract_asin, valid_asin

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "amazon"
ACTOR_ID = "junglee/amazon-bestsellers"
POSITION_WEIGHT = 0.3
VELOCITY_WEIGHT = 0.7
LIST_DEPTH = 100  # Amazon lists show the top 100
HUGE_JUMP = 10.0  # a rank ratio this big from one step is what a single sale can do to a low-volume ASIN

# keys that may carry the page's percent gain or "Sales rank: 52 (previously 1,840)" (unverified)
PERCENT_KEYS = ("percentageChange", "percentChange", "percentage_change", "salesRankChange", "rankChange", "movement")
MOVEMENT_KEYS = ("salesMovement", "salesRankMovement", "movementText", "rankMovement", "movement", "salesRankChange")
_DECIMAL_COMMA_TLDS = {"de", "fr", "it", "es", "nl", "se", "pl", "com.br", "com.tr", "com.be"}


def not_configured(settings: Settings) -> str | None:
    if settings.apify_token is None:
        return "APIFY_TOKEN is not set"
    if not settings.amazon_category_urls:
        return "no Amazon category URLs configured"
    return None


def build_input(settings: Settings) -> dict[str, Any]:
    """Plain URL strings in `categoryUrls` (not `startUrls`), with the per-list item cap."""
    return {
        "categoryUrls": list(settings.amazon_category_urls),
        "maxItemsPerStartUrl": settings.amazon_max_items_per_url,
        "depthOfCrawl": 1,
    }


def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
    reason = not_configured(settings)
    if reason:
        raise SourceError(f"amazon: {reason}")
    run_input = build_input(settings)
    max_items = settings.amazon_max_items_per_url * len(settings.amazon_category_urls)
    result = apify.run_actor(settings, ACTOR_ID, run_input, max_items=max_items)
    if not any(isinstance(r, dict) and r.get("name") for r in result.raw_items):
        raise SourceError("amazon: the actor returned no product rows (dead category URLs or blocked pages?)")
    return result


# --- parse -----------------------------------------------------------------------------


def list_url(value: object) -> str | None:
    """The list a row belongs to, as https://<host>/<path>/ without ref or query."""
    if isinstance(value, dict):
        value = value.get("url")
    if not isinstance(value, str) or "amazon." not in value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    path = parts.path.split("/ref=")[0].rstrip("/")
    host = (parts.hostname or "").lower()
    return f"https://{host}{path}/" if host else None


def list_key(url: str) -> str:
    parts = urlsplit(url)
    return ((parts.hostname or "").removeprefix("www.") + parts.path.rstrip("/")) or url


def _rows(raw_items: object) -> list[tuple[object, dict]]:
    """Each product row with its parent (legacy rows nest products under `items: {"0": {...}}`)."""
    out: list[tuple[object, dict]] = []
    for row in raw_items if isinstance(raw_items, list) else []:
        nested = row.get("items") if isinstance(row, dict) else None
        if isinstance(nested, dict):
            nested = list(nested.values())
        if isinstance(nested, list) and not (isinstance(row, dict) and row.get("name")):
            parent = {k: v for k, v in row.items() if k != "items"}
            out.extend((child, parent) for child in nested)
        else:
            out.append((row, {}))
    return out


def _page_movement(row: dict, decimal_comma: bool) -> tuple[float | None, int | None, bool]:
    """(percent gain, previous rank, previously_unranked) from whatever movement field the row carries."""
    pct: float | None = None
    prev: int | None = None
    unranked = False
    for key in MOVEMENT_KEYS:
        value = row.get(key)
        if isinstance(value, str) and "previously" in value.lower():
            _, prev = parse_sales_movement(value)
            unranked = unranked or "unranked" in value.lower()
    for key in PERCENT_KEYS:
        value = row.get(key)
        if isinstance(value, str) and "previously" in value.lower():
            continue
        parsed = parse_percent(value, decimal_comma=decimal_comma)
        if parsed is not None:
            pct = parsed
            break
        if isinstance(value, str) and "unranked" in value.lower():
            unranked = True
    return pct, prev, unranked


def _category(row: dict, parent: dict) -> str | None:
    for key in ("categoryName", "category", "categoryFullName"):
        value = row.get(key) or parent.get(key)
        if isinstance(value, str) and value.strip():
            name = value.strip()
            for prefix in ("Amazon Best Sellers: Best ", "Best Sellers in ", "Movers & Shakers in "):
                name = name.removeprefix(prefix)
            return name
    return None


def _parse_row(row: dict, parent: dict, observed: datetime, seen: set[tuple[str, Any]]) -> TrendItem | str:
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        return "error row" if row.get("error") or row.get("errorDescription") else "no name"
    product_url = row.get("url") if isinstance(row.get("url"), str) else None
    asin = valid_asin(row.get("asin")) or extract_asin(product_url)
    if not asin:
        return "no asin"
    lst = (
        list_url(row.get("categoryUrl"))
        or list_url(row.get("input"))
        or list_url(parent.get("categoryUrl"))
        or list_url(parent.get("url"))
        or list_url(parent.get("input"))
    )
    group = lst or "unknown list"
    position = to_int(row.get("position") if row.get("position") is not None else row.get("rank"))
    if position is not None and position <= 0:
        position = None
    if position is not None and (group, position) in seen:
        return "duplicate position"
    if (group, asin) in seen:
        return "duplicate"
    seen.add((group, asin))
    if position is not None:
        seen.add((group, position))
    tld = amazon_tld(product_url or lst or "")
    price, currency = to_decimal_price(row.get("price"), row.get("currency"))
    if currency == "USD" and tld not in ("com", ""):
        currency = {"ca": "CAD", "com.au": "AUD", "com.mx": "MXN"}.get(tld, currency)
    pct, prev_rank, unranked = _page_movement(row, tld in _DECIMAL_COMMA_TLDS)
    metrics: dict[str, float] = {}
    if position is not None:
        metrics["position"] = float(position)
    if price is not None:
        metrics["price"] = float(price)
    for key, metric in (("stars", "stars"), ("reviewsCount", "reviews"), ("numberOfOffers", "offers")):
        value = to_float(row.get(key))
        if value is not None:
            metrics[metric] = value
    if pct is not None:
        metrics["percent_gain"] = pct
    if prev_rank is not None:
        metrics["previous_rank_page"] = float(prev_rank)
    if unranked:
        metrics["previously_unranked"] = 1.0
    movers = "movers-and-shakers" in group
    return TrendItem(
        source="amazon",
        source_id=f"{asin}@{list_key(group)}",
        title=" ".join(name.split()),
        url=amazon_product_url(asin, tld),
        text="",
        group=group,
        category=_category(row, parent),
        price=price,
        currency=currency,
        canonical_ids=[f"asin:{asin}"],
        links=[amazon_product_url(asin, tld)],
        metrics=metrics,
        window="24 h sales-rank change" if movers else "best sellers list snapshot",
        observed_at=observed,
        is_commerce=True,
        commerce_reasons=["amazon_listing"],
        raw=row,
    )


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    observed = aware(observed_at)
    out = Parsed()
    seen: set[tuple[str, Any]] = set()
    for row, parent in _rows(raw_items):
        if not isinstance(row, dict):
            out.skip("not a dict")
            continue
        try:
            result = _parse_row(row, parent, observed, seen)
        except (ValueError, TypeError, ArithmeticError):
            out.skip("invalid row")
            continue
        if isinstance(result, str):
            out.skip(result)
        else:
            out.append(result)
    return out


# --- score -----------------------------------------------------------------------------


def _earlier_positions(item: TrendItem, history: Mapping[str, list[Observation]]) -> list[float]:
    """Positions of this ASIN on the same list in earlier stored snapshots, oldest first."""
    rows = sorted(history.get(item.source_id, []), key=lambda o: o.observed_at)
    return [
        float(o.metrics["position"])
        for o in rows
        if o.observed_at < item.observed_at
        and (o.group is None or o.group == item.group)
        and isinstance(o.metrics.get("position"), int | float)
        and o.metrics["position"] > 0
    ]


def score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:
    """s = 0.3·log2(100/position) + 0.7·log2(velocity multiplier), velocity from the page or stored snapshots."""
    history = history or {}
    for item in items:
        position = item.metrics.get("position")
        if not position:
            item.signals = Signals(metric="rank_velocity", value=0.0, s=0.0, eligible=False, flags=["no_position"])
            continue
        position_part = log2_safe(max(LIST_DEPTH, position) / position)
        flags: list[str] = []
        components: dict[str, float] = {"position": position, "position_part": position_part}
        earlier = _earlier_positions(item, history)
        snapshots = len(earlier) + 1
        pct = item.metrics.get("percent_gain")
        page_prev = item.metrics.get("previous_rank_page")
        ratio: float | None = None
        baseline: float | None = None
        velocity: float | None = None
        kind = ""
        eligible = True
        if pct is not None:
            ratio = 1.0 + pct / 100.0
            velocity, kind = pct, "percent gain shown on the list page"
            components["percent_gain"] = pct
        elif page_prev:
            ratio = page_prev / position
            baseline, velocity, kind = page_prev, (ratio - 1.0) * 100.0, "previous rank shown on the list page"
        elif earlier:
            baseline = earlier[-1]
            ratio = baseline / position
            velocity, kind = (ratio - 1.0) * 100.0, "rank change vs our stored snapshots of the same list"
            if snapshots == 2 and ratio >= HUGE_JUMP:
                eligible = False
                flags.append("unconfirmed")
        else:
            eligible = False
            flags += ["unconfirmed", "no_velocity"]
            if item.metrics.get("previously_unranked"):
                flags.append("previously_unranked")
        velocity_part = log2_safe(ratio) if ratio and ratio > 0 else 0.0
        if ratio is not None:
            components["rank_ratio"] = ratio
        components["velocity_part"] = velocity_part
        components["snapshots"] = float(snapshots)
        s = POSITION_WEIGHT * position_part + VELOCITY_WEIGHT * velocity_part
        item.signals = Signals(
            metric="rank_velocity",
            value=velocity if velocity is not None else 0.0,
            baseline=baseline,
            baseline_kind=kind or "none: first sighting of this item on this list",
            n_baseline=len(earlier),
            m=ratio,
            m_s=ratio,
            s=s,
            velocity=velocity,
            eligible=eligible,
            flags=flags,
            components=components,
        )
    return items
