"""The brand's own TikTok Shop as a trend source: top products and videos from shop analytics.

WHY: lets the newsletter say "and it's selling in your shop". The metric is units per day over the
last 7 days of available data (analytics are next-day: the window ends at `latest_available_date`),
compared with the product's own trailing daily level (trends_scoring §1.1; `stats.surprise`):

1. **history**: the median units/day of our stored snapshots of the product (n = how many); thin (< 5)
   is shrunk, in log space, toward level 2;
2. **history**: the `prior` block the fetch attaches, the 21 days before the window (n = 21 days);
3. **prior**: a product with neither (new, or below the prior window's top 200) gets the population prior,
   the median of the OTHER products' trailing levels (never "m = 1"), and a `breakout` flag when its units
   clear the floor.

A pseudo-count of 0.5 unit/day is added to x and the baseline (0 → 120 is finite, flagged breakout).
q = strength(m_s, floor=1.5): first-party sales are measured, so a 50% lift over the product's own 21 days
is already news; q = 0 below 3 units in the window. GMV/day vs its prior is kept as a component.
Worked example: 412 units in 7 d (58.9/day) vs 210 in the 21 d before (10/day): m = 59.4/10.5 = 5.65,
n = 21 → m_s = (21·5.65 + 5)/26 = 4.76 → q = 1 − 1.5/4.76 = 0.69.
Shop videos have no history of their own: views against the median of this run's other shop videos
(level "run", shrunk toward 1), q = strength(m_s, 1.5), 0 below 1,000 views.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..config import secret
from ..integrations.tiktok_shop import errors
from ..integrations.tiktok_shop.auth import TokenStore
from ..integrations.tiktok_shop.client import TikTokShopClient
from ..integrations.tiktok_shop.sync import product_titles
from ..models import ChartSpec, FetchResult, Observation, Parsed, Signals, SourceMeta, TrendItem
from .base import SourceError, as_dict, as_text, parse_rows
from .stats import THIN_N, Level, log2_safe, loo_medians, strength, surprise, to_float

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "tiktok_shop"
META = SourceMeta(
    name=NAME, label="your TikTok Shop", service="TikTok Shop", tag="SHOP", kind="listing",
    lead_metrics=("units_sold", "gmv", "orders"), chart=ChartSpec(metric="units_sold", label="units sold in your shop"),
    same_story_as="tiktok",  # a shop video is a TikTok video: one independent source with it
    phrases=("tik tok shop", "my shop"),
)
WINDOW_DAYS = 7
PRIOR_DAYS = 21
TOP_PRODUCTS = 30
TOP_VIDEOS = 20
PSEUDO = 0.5  # pseudo-count for a zero baseline ("breakout" rather than a division by zero)
MIN_UNITS = 3  # volume floor: fewer units in 7 days is noise, never a top-N trend
MIN_VIEWS = 1000
FLOOR = 1.5  # noteworthiness floor on m_s (the stats default): first-party sales, measured


def not_configured(settings: Settings) -> str | None:
    missing = [n for n, v in (("TIKTOK_SHOP_APP_KEY", settings.tiktok_shop_app_key),
                              ("TIKTOK_SHOP_APP_SECRET", secret(settings.tiktok_shop_app_secret))) if not v]
    if missing:
        return f"{' and '.join(missing)} not set"
    if TokenStore.in_data_dir(settings.data_dir).load() is None:
        return "shop not authorised yet: run `ai-content-agents shop auth-url`, then `shop exchange CODE`"
    return None


# --- fetch -------------------------------------------------------------------------------------
def _money(amount: Any) -> str | None:
    if amount is None:
        return None
    return format(amount, "f") if isinstance(amount, Decimal) else str(amount)


def fetch(settings: Settings, store: Store | None = None, client: TikTokShopClient | None = None) -> FetchResult:
    """Top products (by GMV) and videos over the 7 days ending at the latest available date."""
    reason = not_configured(settings)
    if reason and client is None:
        raise SourceError(reason)
    own = client is None
    try:
        client = client or TikTokShopClient.from_settings(settings, store)
        return _fetch(client, store)
    except errors.TikTokShopError as exc:
        raise SourceError(f"tiktok_shop: {exc}") from None
    finally:
        if own and client is not None:
            client.close()


def _fetch(client: TikTokShopClient, store: Store | None) -> FetchResult:
    shop = client.select_shop()
    window = client.analytics_window(WINDOW_DAYS, shop=shop)  # ends at the latest available date
    start, end, last_day = window.start, window.end, window.last_day
    paged = client.product_performance_list(start, end, sort_field="gmv", page_size=TOP_PRODUCTS, max_results=TOP_PRODUCTS)
    products = list(paged)
    prior_start = start - timedelta(days=PRIOR_DAYS)
    prior = {r.id: r for r in client.product_performance_list(prior_start, start, sort_field="gmv",
                                                              page_size=100, max_results=200)}
    names = _product_names(client, store, shop.id, [p.id for p in products])
    common = {"window_start": start.isoformat(), "window_end": last_day.isoformat(),
              "latest_available_date": (window.latest_available_date or last_day).isoformat(),
              "shop_id": shop.id, "shop_name": shop.name}
    raw: list[dict[str, Any]] = []
    for p in products:
        before = prior.get(p.id)
        raw.append({
            "kind": "product", "id": p.id, "name": names.get(p.id, ""),
            "gmv": {"amount": _money(p.gmv.amount if p.gmv else None), "currency": p.gmv.currency if p.gmv else None},
            "units_sold": p.units_sold, "orders": p.orders,
            "click_through_rate": _money(p.click_through_rate),
            "prior": None if before is None else {
                "days": PRIOR_DAYS, "units_sold": before.units_sold,
                "gmv": _money(before.gmv.amount if before.gmv else None)},
            **common,
        })
    videos = client.video_performance_list(start, end, sort_field="gmv", page_size=TOP_VIDEOS, max_results=TOP_VIDEOS)
    for v in videos:
        raw.append({
            "kind": "video", "id": v.id, "title": v.title or "", "username": v.username,
            "video_post_time": v.video_post_time, "views": v.views,
            "gmv": {"amount": _money(v.gmv.amount if v.gmv else None), "currency": v.gmv.currency if v.gmv else None},
            "units_sold": v.units_sold, "sku_orders": v.sku_orders,
            "products": [{"id": x.id, "name": x.name} for x in v.products],
            **common,
        })
    note = f"shop {shop.name}: {WINDOW_DAYS} d to {last_day.isoformat()} ({window.time_zone})"
    malformed = paged.skipped + videos.skipped  # rows the API sent that did not match their shape
    return FetchResult(raw_items=raw, note=note + (f"; {window.note}" if window.note else ""),
                       skipped={"malformed row": malformed} if malformed else {})


def _product_names(client: TikTokShopClient, store: Store | None, shop_id: str, ids: list[str]) -> dict[str, str]:
    """Names from the synced catalogue when present, else from Get Product (analytics rows carry none)."""
    names = product_titles(store, shop_id, ids) if store is not None and ids else {}
    missing = [i for i in ids if i not in names]
    if missing:
        for d in client.get_products(missing):
            names[d.id] = d.title
    return names


# --- parse -------------------------------------------------------------------------------------
def _dec(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return d if d.is_finite() else None


def _window_days(raw: Mapping[str, Any]) -> tuple[str, float]:
    end = raw.get("window_end") or raw.get("latest_available_date")
    try:
        start_d = date.fromisoformat(str(raw.get("window_start")))
        end_d = date.fromisoformat(str(end))
        days = float((end_d - start_d).days + 1)
    except (TypeError, ValueError):
        days = float(WINDOW_DAYS)
    return (str(end) if end else "latest"), max(days, 1.0)


def _id(v: Any) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, str)) and str(v).strip().isdigit():
        return str(v).strip()
    return None


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    """Raw fetch dicts → TrendItems. Never raises: a bad item is skipped and counted."""
    when = observed_at or datetime.now(UTC)
    return parse_rows(raw_items, lambda row: _parse_one(row, when))


def _share(value: object) -> float | None:
    """A rate (click-through) as the share of one it is: 0.068 for 6.8%. The analytics rows give a fraction
    ("0.068", as in the bundled sample and the recorded fixtures); other TikTok Shop payloads write a percent
    ("9.96%"), and a bare number above 1 can only be one. A percent under 1 written bare ("0.5" for 0.5%) cannot be
    told from a fraction and is read as the fraction the analytics rows use."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and text.endswith("%"):
        pct = to_float(text[:-1])
        return None if pct is None or pct < 0 else pct / 100
    v = to_float(value)
    if v is None or v < 0:
        return None
    return v / 100 if v > 1 else v


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


@dataclass(frozen=True)
class _Row:
    """What product and video rows share: the id, the GMV block, the window, the shop."""

    raw: dict[str, Any]
    ident: str
    when: datetime
    gmv: float | None
    gmv_amount: object
    currency: str | None
    days: float
    window: str
    shop_name: str | None


def _parse_one(raw: dict[str, Any], when: datetime) -> TrendItem | str:
    ident = _id(raw.get("id"))
    if ident is None:
        return "missing id"
    gmv_raw = as_dict(raw.get("gmv"))
    end, days = _window_days(raw)
    row = _Row(raw=raw, ident=ident, when=when, gmv=to_float(gmv_raw.get("amount")), gmv_amount=gmv_raw.get("amount"),
               currency=_str(gmv_raw.get("currency")), days=days, window=f"{int(days)} d to {end}",
               shop_name=_str(raw.get("shop_name")))
    kind = raw.get("kind")
    if kind == "product":
        return _product(row)
    if kind == "video":
        return _video(row)
    return "unknown kind"


def _product(row: _Row) -> TrendItem | str:
    raw, ident, days, gmv = row.raw, row.ident, row.days, row.gmv
    title = _str(raw.get("name"))
    if title is None:
        return "missing product name"
    units = to_float(raw.get("units_sold"))
    if units is None:
        return "missing units_sold"
    metrics: dict[str, float] = {"units_sold": units, "units_per_day": units / days}
    if (orders := to_float(raw.get("orders"))) is not None:
        metrics["orders"] = orders
    if gmv is not None:
        metrics["gmv"] = gmv
        metrics["gmv_per_day"] = gmv / days
    if (ctr := _share(raw.get("click_through_rate"))) is not None:
        metrics["click_through_rate"] = ctr
    if prior := as_dict(raw.get("prior")):
        pdays = to_float(prior.get("days")) or float(PRIOR_DAYS)
        if (pu := to_float(prior.get("units_sold"))) is not None and pdays > 0:
            metrics["prior_units_per_day"] = pu / pdays
            metrics["prior_days"] = pdays
        if (pg := to_float(prior.get("gmv"))) is not None and pdays > 0:
            metrics["prior_gmv_per_day"] = pg / pdays
    price = None
    if gmv is not None and units > 0:
        price = ((_dec(row.gmv_amount) or Decimal(0)) / Decimal(str(units))).quantize(Decimal("0.01"))
    return TrendItem(
        source="tiktok_shop", source_id=f"product:{ident}", title=title.strip()[:300],
        url=f"https://shop.tiktok.com/view/product/{ident}", group="shop products", brand=row.shop_name,
        price=price, currency=row.currency, canonical_ids=[f"tiktok_product:{ident}"], metrics=metrics,
        window=row.window, observed_at=row.when, is_commerce=True,
        commerce_reasons=["selling in your TikTok Shop"], raw=raw,
    )


def _video(row: _Row) -> TrendItem | str:
    raw, ident = row.raw, row.ident
    views = to_float(raw.get("views"))
    if views is None:
        return "missing views"
    title = as_text(raw.get("title"))
    user = _str(raw.get("username"))
    listed = raw.get("products")
    products = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
    pids = [pid for p in products if (pid := _id(p.get("id")))]
    canon = [f"tiktok_video:{ident}"]
    if len(pids) == 1:  # one linked product: the video is part of that product's story
        canon.append(f"tiktok_product:{pids[0]}")
    metrics = {"views": views}
    if row.gmv is not None:
        metrics["gmv"] = row.gmv
    for key in ("units_sold", "sku_orders"):
        if (v := to_float(raw.get(key))) is not None:
            metrics[key] = v
    name = next((p["name"] for p in products if isinstance(p.get("name"), str)), None)
    return TrendItem(
        source="tiktok_shop", source_id=f"video:{ident}",
        title=(str(title).strip() or name or f"Shop video {ident}")[:300],
        url=f"https://www.tiktok.com/@{user}/video/{ident}" if user else f"https://www.tiktok.com/video/{ident}",
        text=str(title)[:2000], author=user, group="shop videos", brand=row.shop_name, currency=row.currency,
        canonical_ids=canon, metrics=metrics, window=row.window, observed_at=row.when, is_commerce=True,
        commerce_reasons=["video selling in your TikTok Shop"], raw=raw,
    )


# --- score -------------------------------------------------------------------------------------
def _signals(it: TrendItem, x: float, levels: list[Level], *, metric: str, eligible: bool,
             flags: list[str], components: dict[str, float], velocity: float | None = None) -> Signals:
    sur = surprise(x + PSEUDO, levels)
    if sur.m_s is None:
        flags.append("no_baseline")
    elif sur.n < THIN_N:
        flags.append("thin")
    if sur.level == "prior" and eligible:
        flags.append("breakout")  # no trailing level of its own, and its volume clears the floor
    base = sur.baseline - PSEUDO if sur.baseline is not None else None
    return Signals(
        metric=metric, value=x, baseline=base, baseline_kind=sur.kind, n_baseline=sur.n, m=sur.m, m_s=sur.m_s,
        s=log2_safe(sur.m_s) if sur.m_s is not None else 0.0, q=strength(sur.m_s, FLOOR) if eligible else 0.0,
        baseline_level=sur.level, velocity=velocity, eligible=eligible, flags=flags,
        components={**components, "log2_m_s": log2_safe(sur.m_s or 0.0), "floor": FLOOR,
                    **({"baseline": base} if base is not None else {})},
    )


def score(items: list[TrendItem], history: Mapping[str, list[Observation]]) -> list[TrendItem]:
    """Units/day vs the product's own trailing level (snapshots → prior window → peers' prior); videos vs this run. Pure."""
    products = [i for i in items if i.source_id.startswith("product:")]
    videos = [i for i in items if i.source_id.startswith("video:")]
    out: list[TrendItem] = []
    own = [it.metrics.get("prior_units_per_day") for it in products]
    peers = [v for v in own if v is not None]
    loo = iter(loo_medians(peers))
    all_peers = statistics.median(peers) if peers else None  # once: per product it made scoring quadratic
    for it, trailing in zip(products, own, strict=True):
        x = it.metrics.get("units_per_day", 0.0)
        past = [o.metrics["units_per_day"] for o in history.get(it.source_id, [])
                if "units_per_day" in o.metrics and o.observed_at < it.observed_at]
        peer, n_peer = (next(loo), len(peers) - 1) if trailing is not None else (all_peers, len(peers))
        levels = [
            Level("history", statistics.median(past) + PSEUDO if past else None, len(past),
                  "stored snapshots (median units/day)"),
            Level("history", trailing + PSEUDO if trailing is not None else None, int(it.metrics.get("prior_days", PRIOR_DAYS)),
                  f"trailing {PRIOR_DAYS} d before the window (units/day)"),
            Level("prior", peer + PSEUDO if peer is not None else None, n_peer,
                  "population prior: median trailing units/day of the other products this run"),
        ]
        flags: list[str] = []
        base_own = statistics.median(past) if past else trailing
        if base_own == 0 and x > 0:
            flags.append("breakout")  # from a zero base: finite through the pseudo-count
        eligible = it.metrics.get("units_sold", 0.0) >= MIN_UNITS
        if not eligible:
            flags.append("below_floor")
        gmv_day, prior_gmv = it.metrics.get("gmv_per_day"), it.metrics.get("prior_gmv_per_day")
        velocity = (gmv_day / prior_gmv - 1.0) if gmv_day is not None and prior_gmv else None
        components = {"units_per_day": x}
        if gmv_day is not None and prior_gmv:
            components["gmv_ratio"] = gmv_day / prior_gmv
        out.append(it.model_copy(update={"signals": _signals(
            it, x, levels, metric="units_per_day", eligible=eligible, flags=flags, components=components,
            velocity=velocity)}))
    views = [v.metrics.get("views", 0.0) for v in videos]
    for it, run_median in zip(videos, loo_medians(views), strict=True):
        x = it.metrics.get("views", 0.0)
        levels = [Level("run", run_median + PSEUDO if run_median is not None else None, len(videos) - 1,
                        "median views of this run's other shop videos")]
        out.append(it.model_copy(update={"signals": _signals(
            it, x, levels, metric="views", eligible=x >= MIN_VIEWS, flags=[], components={"views": x})}))
    return out
