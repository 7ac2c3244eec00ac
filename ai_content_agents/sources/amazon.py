"""Amazon Best Sellers / Movers & Shakers lists via the Apify actor junglee/amazon-bestsellers.

The actor gives list positions, not rank changes, so the multiplier m (a rank ratio, previous / now)
comes from, in order (recorded as Signals.baseline_level):

- **page**: a Movers & Shakers percent ("2,340%" → m = 24.4) or "Sales rank: 61 (previously 1,489)";
- **history**: this project's stored snapshots of the same list (previous position / position now);
- **prior**: a Movers & Shakers row with no movement of its own ("previously unranked", or a list that
  shows no percents) gets the population prior of its list: the median page ratio of the list's other
  rows (else of every M&S row in this run). Being on M&S is itself evidence of movement. A breakout
  (previously unranked, now at sales rank ≤ 1,000) takes at least 5,000 / its rank: it had no rank at
  all, so it came from past the volume floor;
- **none**: a Best Sellers row seen for the first time: no evidence of movement, q = 0.

**Volume** tempers the gain (trends_scoring §1.1, "Amazon volume"): a percent says how far an item moved,
not how much it sells. m is shrunk toward 1 with a volume pseudo-count instead of a baseline size,
m_s = (n_v·m + 5)/(n_v + 5), with n_v = min(50, 10 · 100 / current sales rank) × a review factor
(min(1, max(0.25, (reviews + 1)/100))). The current sales rank is the page's "Sales rank: N" (kept as
metrics["sales_rank"]), or the list position on a Best Sellers list; on an M&S list without a sales rank
the volume is unknown (n_v = 3). q = strength(m_s, floor=2.0): M&S gains are routinely hundreds of %.
Worked examples: +2,340% at sales rank 61 (2,811 reviews): n_v = 16.4, m_s = (16.4·24.4 + 5)/21.4 = 18.9,
q = 0.89. +3,000% from 93,000 to 3,000 with 40 reviews: n_v = 0.33·0.41 = 0.14, m_s = 1.8, q = 0.
+300% from 180 to 45 (12,000 reviews): n_v = 22, m_s = 3.4, q = 0.42.

Floors: a row whose current sales rank is worse than 5,000 is not eligible (q = 0); "previously unranked"
is a `breakout` at a sales rank of 1,000 or better and `unconfirmed` (q = 0) worse than that. One sale can
move a low-volume ASIN ~10× in rank, so on a Best Sellers list a ≥ 10× step seen in stored snapshots only
counts once it persists (the step before it also improved); an M&S row needs no such check.

Identity (documented choice): `source_id` is "<ASIN>@<list key>" (e.g. "B0EXAMPLE1@amazon.com/gp/
movers-and-shakers/beauty"), because the same ASIN on two lists has two positions and the store keeps
one observation per (source, source_id, time). Cross-source clustering uses canonical_ids "asin:<ASIN>".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..models import ChartSpec, FetchResult, Observation, Parsed, Signals, SourceMeta, TrendItem
from .base import SourceError, as_str
from .stats import (
    SHRINK_K,
    THIN_N,
    aware,
    http_url,
    log2_safe,
    loo_medians_by,
    median,
    parse_percent,
    parse_sales_movement,
    shrink,
    strength,
    to_decimal_price,
    to_float,
    to_int,
)
from .urls import amazon_product_url, amazon_tld, extract_asin, valid_asin

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "amazon"
META = SourceMeta(
    name=NAME, label="Amazon", tag="AMZ", kind="listing", lead_metrics=("percent_gain", "position"),
    chart=ChartSpec(metric="position", label="Amazon rank", lower_is_better=True),
)
ACTOR_ID = "junglee/amazon-bestsellers"
LIST_DEPTH = 100  # Amazon lists show the top 100
HUGE_JUMP = 10.0  # a rank ratio this big from one step is what a single sale can do to a low-volume ASIN
PERSIST_STEP = 1.5  # the step before a huge jump must have improved the rank at least this much
FLOOR = 2.0  # noteworthiness floor on m_s: a doubling of sales rank
VOLUME_RANK = 100.0  # a product at this sales rank counts as VOLUME_N comparable observations
VOLUME_N = 10.0
VOLUME_N_MAX = 50.0
UNKNOWN_VOLUME_N = 3.0  # M&S row without a sales rank: volume unknown, thin
REVIEWS_FULL = 100.0  # fewer reviews scale the volume pseudo-count down (to at most a quarter)
MAX_SALES_RANK = 5_000  # volume floor: a worse current sales rank is one or two sales a day
BREAKOUT_RANK = 1_000  # "previously unranked" at this sales rank or better is a breakout
# "previously unranked" had no sales rank at all: at least as far back as the volume floor, so a new entry
# moved at least UNRANKED_RANK / its rank (the list's median mover can understate that a lot)
UNRANKED_RANK = MAX_SALES_RANK

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
    from . import apify  # apify-client is heavy: loaded when a run needs it

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


def _page_movement(row: dict, decimal_comma: bool) -> tuple[float | None, int | None, int | None, bool]:
    """(percent gain, current sales rank, previous rank, previously_unranked) from whatever movement field the row carries."""
    pct: float | None = None
    now: int | None = None
    prev: int | None = None
    unranked = False
    for key in MOVEMENT_KEYS:
        value = row.get(key)
        if isinstance(value, str) and "previously" in value.lower():
            now, prev = parse_sales_movement(value)
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
    return pct, now, prev, unranked


def _category(row: dict, parent: dict) -> str | None:
    for key in ("categoryName", "category", "categoryFullName"):
        value = row.get(key) or parent.get(key)
        if isinstance(value, str) and value.strip():
            name = value.strip()
            for prefix in ("Amazon Best Sellers: Best ", "Best Sellers in ", "Movers & Shakers in "):
                name = name.removeprefix(prefix)
            return name
    return None


def _parse_row(row: dict, parent: dict, observed: datetime, seen: set[tuple[str, Any]]) -> TrendItem | str:  # noqa: C901 - raw actor rows: one guard per field variant the actor has shipped
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        return "error row" if row.get("error") or row.get("errorDescription") else "no name"
    product_url = as_str(row.get("url"))
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
    pct, sales_rank, prev_rank, unranked = _page_movement(row, tld in _DECIMAL_COMMA_TLDS)
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
    if sales_rank is not None and sales_rank > 0:
        metrics["sales_rank"] = float(sales_rank)
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
        thumbnail=http_url(row.get("thumbnailUrl")) or http_url(row.get("thumbnail")),
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


def is_movers(item: TrendItem) -> bool:
    return "movers-and-shakers" in (item.group or "")


def page_ratio(item: TrendItem) -> float | None:
    """previous / current rank as the list page shows it: 1 + percent/100, else "previously N" / sales rank."""
    pct = item.metrics.get("percent_gain")
    if pct is not None:
        return 1.0 + pct / 100.0 if pct > -100.0 else None
    prev, now = item.metrics.get("previous_rank_page"), item.metrics.get("sales_rank")
    return prev / now if prev and now else None


def volume_n(item: TrendItem) -> tuple[float, float | None]:
    """(pseudo-count n_v, the current sales rank it came from): how much sales volume backs a rank gain."""
    rank = item.metrics.get("sales_rank")
    if rank is None and not is_movers(item):
        rank = item.metrics.get("position")  # a Best Sellers position is the category sales rank
    if not rank or rank <= 0:
        return UNKNOWN_VOLUME_N, None
    n_v = min(VOLUME_N_MAX, VOLUME_N * VOLUME_RANK / rank)
    reviews = item.metrics.get("reviews")
    if reviews is not None and reviews >= 0:
        n_v *= min(1.0, max(0.25, (reviews + 1.0) / REVIEWS_FULL))
    return n_v, rank


def lone_jump(earlier: list[float], position: float) -> bool:
    """The latest step is a ≥ 10× jump that nothing before it confirms (one sale can do that)."""
    if earlier[-1] / position < HUGE_JUMP:
        return False
    return len(earlier) < 2 or earlier[-2] / earlier[-1] < PERSIST_STEP


def score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:  # noqa: C901 - the documented baseline ladder (module docstring), step by step
    """Rank ratio (page, stored snapshots, or the list's prior) shrunk toward 1 by sales volume; q from the floor."""
    history = history or {}
    ratios = [page_ratio(it) if is_movers(it) else None for it in items]
    list_prior = loo_medians_by([it.group for it in items], ratios)
    run_prior = median(ratios)
    n_run = sum(r is not None for r in ratios)
    for i, item in enumerate(items):
        position = item.metrics.get("position")
        if not position:
            item.signals = Signals(metric="rank_velocity", value=0.0, s=0.0, eligible=False, baseline_level="none", flags=["no_position"])
            continue
        flags: list[str] = []
        components: dict[str, float] = {"position": position, "floor": FLOOR}
        earlier = _earlier_positions(item, history)
        n_v, rank = volume_n(item)
        components["volume_n"] = n_v
        if rank is not None:
            components["sales_rank"] = rank
        movers = is_movers(item)
        unranked = bool(item.metrics.get("previously_unranked"))
        ratio = page_ratio(item)
        baseline: float | None = None
        velocity: float | None = None
        n_base = 0
        eligible = True
        if ratio is not None:
            level, kind = "page", "rank change shown on the list page"
            baseline, n_base = item.metrics.get("previous_rank_page"), 1
            velocity = (ratio - 1.0) * 100.0
            if "percent_gain" in item.metrics:
                components["percent_gain"] = item.metrics["percent_gain"]
        elif earlier and not unranked:
            level, kind = "history", "rank change vs our stored snapshots of the same list"
            baseline, n_base = earlier[-1], len(earlier)
            ratio = baseline / position
            velocity = (ratio - 1.0) * 100.0
            if not movers and lone_jump(earlier, position):
                eligible = False
                flags.append("unconfirmed")
        elif movers or unranked:
            prior, n_prior = list_prior[i] if list_prior[i][1] else (run_prior, n_run)
            level, kind = "prior", "population prior: median page rank change of the other M&S rows on this list"
            if not list_prior[i][1]:
                kind = "population prior: median page rank change of the M&S rows this run"
            ratio, n_base = prior, n_prior
            if unranked:
                flags.append("previously_unranked")
                if rank is not None and rank <= BREAKOUT_RANK:
                    flags.append("breakout")
                    bound = UNRANKED_RANK / rank
                    if ratio is None or bound > ratio:  # the list's movers may have moved less than it did
                        ratio, n_base = bound, 0
                        level, kind = "prior", f"lower bound: unranked before, i.e. past sales rank {UNRANKED_RANK:,}"
                else:
                    eligible = False
                    flags.append("unconfirmed")
            if ratio is None:
                level = "none"
                flags.append("no_velocity")
        else:
            level, kind = "none", "none: first sighting of this item on this Best Sellers list"
            eligible = False
            flags += ["unconfirmed", "no_velocity"]
        if rank is not None and item.metrics.get("sales_rank") is not None and rank > MAX_SALES_RANK:
            eligible = False
            flags.append("below_floor")
        if rank is None or n_v < THIN_N:
            flags.append("thin")  # little or unknown volume behind the movement
        m_s = shrink(ratio, n_v, SHRINK_K) if ratio is not None and ratio > 0 else None
        if ratio is not None:
            components["rank_ratio"] = ratio
        components["log2_m_s"] = log2_safe(m_s or 0.0)
        components["snapshots"] = float(len(earlier) + 1)
        item.signals = Signals(
            metric="rank_velocity",
            value=velocity if velocity is not None else 0.0,
            baseline=baseline,
            baseline_kind=kind,
            n_baseline=n_base,
            m=ratio,
            m_s=m_s,
            s=log2_safe(m_s) if m_s is not None else 0.0,
            q=strength(m_s, FLOOR) if eligible else 0.0,
            baseline_level=level,
            velocity=velocity,
            eligible=eligible,
            flags=flags,
            components=components,
        )
    return items
