"""The shop as a trend source: parse never raises, scoring against the product's own level, fetch via the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_content_agents.models import Observation
from ai_content_agents.sources import load
from ai_content_agents.sources import tiktok_shop as src

SAMPLE = json.loads(resources.files("ai_content_agents").joinpath("data/sample/tiktok_shop.json").read_text())
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def test_registry_loads_the_module() -> None:
    assert load("tiktok_shop") is src and src.NAME == "tiktok_shop"


def test_sample_parses_fully_with_canonical_ids_and_overlap_products() -> None:
    items = src.parse(SAMPLE, NOW)
    assert items.skipped_total == 0 and len(items) == len(SAMPLE)
    titles = " | ".join(i.title.lower() for i in items)
    for needle in ("blender", "led face mask", "magnetic phone grip"):
        assert needle in titles
    p = next(i for i in items if i.source_id.startswith("product:"))
    assert p.canonical_ids == [f"tiktok_product:{p.source_id.split(':')[1]}"]
    assert p.is_commerce and p.window == "7 d to 2026-11-20" and p.metrics["gmv"] == 12318.80
    v = next(i for i in items if i.source_id.startswith("video:"))
    assert v.canonical_ids[0].startswith("tiktok_video:") and v.canonical_ids[1].startswith("tiktok_product:")
    assert "views" in v.metrics


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {"kind": st.sampled_from(["product", "video", "x"]), "id": json_values, "name": json_values,
     "units_sold": json_values, "views": json_values, "gmv": json_values, "prior": json_values,
     "products": json_values, "window_start": json_values, "window_end": json_values},
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values | shaped, max_size=6))
def test_parse_never_raises_on_random_json(raw) -> None:  # type: ignore[no-untyped-def]
    out = src.parse(raw, NOW)
    assert len(out) + out.skipped_total == len(raw)
    src.score(list(out), {})


def test_parse_skips_and_counts_bad_items() -> None:
    out = src.parse([{"kind": "product", "id": "12", "units_sold": 3}, {"kind": "video"}, "x", SAMPLE[0]], NOW)
    assert len(out) == 1 and out.skipped == {"missing product name": 1, "missing id": 1, "not a dict": 1}


def test_score_uses_stored_history_first_then_the_prior_window() -> None:
    items = src.parse(SAMPLE, NOW)
    blender = next(i for i in items if "Blender" in i.title)
    hist = {blender.source_id: [
        Observation(run_id=f"r{k}", source="tiktok_shop", source_id=blender.source_id,
                    metrics={"units_per_day": 20.0}, observed_at=NOW - timedelta(days=7 * k)) for k in range(1, 6)]}
    scored = {i.source_id: i for i in src.score(list(items), hist)}
    s = scored[blender.source_id].signals
    assert s.baseline == 20.0 and s.n_baseline == 5 and "stored" in s.baseline_kind
    assert s.m == pytest.approx((412 / 7 + 0.5) / (20 + 0.5)) and s.s > 0  # 58.9 units/day vs 20 (+ pseudo-count)
    mask = next(i for i in scored.values() if "LED Face Mask" in i.title).signals
    assert "trailing 21 d" in mask.baseline_kind and mask.baseline == 120 / 21
    serum = next(i for i in scored.values() if "Serum" in i.title).signals
    assert serum.s < 0  # selling slower than its own trailing level
    assert serum.q == 0.0 and s.q > 0.0
    # no trailing level of its own: the population prior (the other products' trailing levels), never "average"
    # of this run's sales (the old test expected the median of this run's units/day)
    lids = next(i for i in scored.values() if "Lids" in i.title).signals
    assert lids.baseline_level == "prior" and "population prior" in lids.baseline_kind and "breakout" in lids.flags
    assert lids.baseline == pytest.approx((120 / 21 + 210 / 21) / 2)  # median of the 6 other products' prior levels


def test_thin_stored_history_shrinks_toward_the_prior_window() -> None:
    items = src.parse(SAMPLE, NOW)
    blender = next(i for i in items if "Blender" in i.title)
    hist = {blender.source_id: [
        Observation(run_id=f"r{k}", source="tiktok_shop", source_id=blender.source_id,
                    metrics={"units_per_day": 30.0}, observed_at=NOW - timedelta(days=7 * k)) for k in (1, 2)]}
    s = next(i for i in src.score(list(items), hist) if i.source_id == blender.source_id).signals
    x = 412 / 7 + 0.5
    own, window = x / 30.5, x / (10 + 0.5)
    window_s = (21 * window + 5) / 26  # the 21-day prior window is not thin: shrunk toward 1
    assert s.baseline_level == "history" and s.n_baseline == 2 and "thin" in s.flags
    assert s.m == pytest.approx(own) and s.m_s == pytest.approx((own**2 * window_s) ** (1 / 3))
    assert s.q == pytest.approx(1 - 1.5 / s.m_s)


def test_not_configured_reasons(settings) -> None:  # type: ignore[no-untyped-def]
    assert "TIKTOK_SHOP_APP_KEY" in (src.not_configured(settings) or "")
    s2 = settings.model_copy(update={"tiktok_shop_app_key": "k", "tiktok_shop_app_secret": __import__("pydantic").SecretStr("s")})
    assert "auth-url" in (src.not_configured(s2) or "")


def test_fetch_against_the_fake(fake, shop_cfg, store) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.integrations.tiktok_shop.sync import sync_products

    fake.analytics_lag_days = 3  # the latest data is three days old: two more than next-day
    fake.product_perf = [{"id": "1729000000000000001", "gmv": {"amount": "120.50", "currency": "USD"},
                          "orders": 10, "units_sold": 12, "click_through_rate": "0.031"},
                         {"id": "1729000000000000002", "gmv": {"amount": "80.00", "currency": "USD"},
                          "orders": 7, "units_sold": 8}]
    fake.video_perf = [{"id": "7441122334455667001", "title": "blender demo", "username": "glow", "views": 50000,
                        "gmv": {"amount": "40.00", "currency": "USD"}, "units_sold": 4,
                        "products": [{"id": "1729000000000000001", "name": "Product 1"}]}]
    assert src.not_configured(shop_cfg) is None
    from conftest import make_client

    sync_products(make_client(shop_cfg), store)  # names come from the synced catalogue
    details_before = fake.count("/product/202309/products/1")
    result = src.fetch(shop_cfg, store)
    assert fake.count("/product/202309/products/1") == details_before
    kinds = [r["kind"] for r in result.raw_items]
    assert kinds == ["product", "product", "video"]
    first = result.raw_items[0]
    assert first["name"] == "Product 1" and first["gmv"]["amount"] == "120.50"
    assert first["window_end"] == fake.latest_available_date  # shifted to the latest available day
    assert first["window_start"] == (fake.today - timedelta(days=3 + 6)).isoformat()  # 7 days ending there
    assert "moved back 2 days" in result.note and "America/Los_Angeles" in result.note
    analytics = [r for r in fake.api_records() if r.path.startswith("/analytics/")]
    assert fake.count("/analytics/202405/shop/performance") == 1  # latest_available_date asked once
    windows = {(r.query["start_date_ge"], r.query["end_date_lt"]) for r in analytics if "shop_products" in r.path}
    assert windows == {(first["window_start"], (fake.today - timedelta(days=2)).isoformat()),  # the window
                       ((fake.today - timedelta(days=30)).isoformat(), first["window_start"])}  # its prior 21 days
    assert fake.violations == []
    items = src.parse(result.raw_items, NOW)
    assert items.skipped_total == 0 and len(items) == 3


def test_click_through_rate_is_a_share_of_one_whether_given_as_a_fraction_or_a_percent() -> None:
    """The analytics API's sample rows give the rate as a fraction ("0.068"); other TikTok Shop payloads write it as
    a percent ("9.96%"). Both, and a bare number above 1, are stored as the fraction they mean."""
    rows = [{**SAMPLE[0], "id": str(i), "click_through_rate": v} for i, v in enumerate(("0.068", "6.8%", 6.8, 0.068))]
    items = src.parse(rows, NOW)
    assert [round(i.metrics["click_through_rate"], 6) for i in items] == [0.068] * 4
    assert "click_through_rate" not in src.parse([{**SAMPLE[0], "click_through_rate": "n/a"}], NOW)[0].metrics
