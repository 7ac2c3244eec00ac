"""stats.py and urls.py: the pure helpers every parser leans on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_content_agents.sources import stats, urls


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1234, 1234), ("1,234", 1234), ("1.2K", 1200), ("3M", 3_000_000), (412300.0, 412300), ("412300", 412300),
     (None, None), ("n/a", None), (True, None), ([], None), (float("nan"), None)],
)
def test_to_int(raw: object, expected: int | None) -> None:
    assert stats.to_int(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint", "expected"),
    [
        (18.99, "$", (Decimal("18.99"), "USD")),
        ({"value": 18.99, "currency": "$"}, None, (Decimal("18.99"), "USD")),
        ("£9.99", None, (Decimal("9.99"), "GBP")),
        ("1.234,56 €", None, (Decimal("1234.56"), "EUR")),
        ("$1,234.50", None, (Decimal("1234.50"), "USD")),
        ("9,99 €", None, (Decimal("9.99"), "EUR")),
        ("EUR 12.00", None, (Decimal("12.00"), "EUR")),
        ("$12.99 - $19.99", None, (Decimal("12.99"), "USD")),
        (None, "$", (None, "USD")),
        ("call for price", None, (None, None)),
    ],
)
def test_to_decimal_price(raw: object, hint: object, expected: tuple) -> None:
    assert stats.to_decimal_price(raw, hint) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,234%", 1234.0), ("+1,234%", 1234.0), ("1.234%", 1234.0), ("52%", 52.0), ("12.5%", 12.5),
     ("previously unranked", None), ("", None), (None, None)],
)
def test_parse_percent(raw: object, expected: float | None) -> None:
    assert stats.parse_percent(raw) == expected


def test_parse_percent_decimal_comma_and_movement_text() -> None:
    assert stats.parse_percent("1.234,5%", decimal_comma=True) == 1234.5
    assert stats.parse_sales_movement("Sales rank: 52 (previously 1,840)") == (52, 1840)
    assert stats.parse_sales_movement("Sales rank: 7 (previously unranked)") == (7, None)


def test_dates() -> None:
    assert stats.parse_twitter_date("Wed Jan 07 09:15:00 +0000 2026") == datetime(2026, 1, 7, 9, 15, tzinfo=UTC)
    assert stats.parse_twitter_date("2026-01-07T09:15:00Z") == datetime(2026, 1, 7, 9, 15, tzinfo=UTC)
    assert stats.parse_twitter_date("yesterday") is None
    assert stats.parse_epoch(1767312000.0) == stats.parse_epoch(1767312000) == stats.parse_epoch("1767312000")
    assert stats.parse_epoch(1767312000000) == stats.parse_epoch(1767312000)  # milliseconds
    assert stats.parse_epoch(None) is None and stats.parse_epoch(-5) is None


def test_median_relative_and_shrink() -> None:
    assert stats.median([3, 1, None, 2]) == 2.0 and stats.median([]) is None
    assert stats.median_excluding([10, 1, 2, 3], 0) == (2.0, 3)
    baseline, n, m, m_s = stats.relative(100.0, [10.0, 10.0, 10.0, 10.0, 10.0])
    assert (baseline, n, m) == (10.0, 5, 10.0)
    assert m_s == pytest.approx((5 * 10 + 5) / 10)
    assert stats.relative(5.0, []) == (None, 0, None, 1.0)


@pytest.mark.parametrize(
    ("url", "canonical", "ids"),
    [
        ("https://www.amazon.com/Example/dp/B0EXAMPLE1/ref=zg_bs_c_kitchen_7?psc=1", "https://www.amazon.com/dp/B0EXAMPLE1", ["asin:B0EXAMPLE1"]),
        ("https://amazon.co.uk/gp/product/B0EXAMPLE2?tag=x-21", "https://www.amazon.co.uk/dp/B0EXAMPLE2", ["asin:B0EXAMPLE2"]),
        ("https://www.amazon.de/gp/aw/d/B0EXAMPLE3", "https://www.amazon.de/dp/B0EXAMPLE3", ["asin:B0EXAMPLE3"]),
        ("https://www.amazon.com/product/B0EXAMPLE5", "https://www.amazon.com/dp/B0EXAMPLE5", ["asin:B0EXAMPLE5"]),
        ("https://www.amazon.com/s?asin=B0EXAMPLE4&ref=x", "https://www.amazon.com/dp/B0EXAMPLE4", ["asin:B0EXAMPLE4"]),
        ("https://youtu.be/AbCdEfGhIjK?si=xyz", "https://www.youtube.com/watch?v=AbCdEfGhIjK", ["youtube:AbCdEfGhIjK"]),
        ("https://www.youtube.com/shorts/AbCdEfGhIjK", "https://www.youtube.com/watch?v=AbCdEfGhIjK", ["youtube:AbCdEfGhIjK"]),
        ("https://m.youtube.com/watch?v=AbCdEfGhIjK&t=10", "https://www.youtube.com/watch?v=AbCdEfGhIjK", ["youtube:AbCdEfGhIjK"]),
        ("https://www.reddit.com/r/BuyItForLife/comments/abc123/finally/", "https://www.reddit.com/r/BuyItForLife/comments/abc123/finally", ["reddit:abc123"]),
        ("https://twitter.com/a/status/1900000000000000001?s=20", "https://x.com/i/status/1900000000000000001", ["x:1900000000000000001"]),
        ("https://www.tiktok.com/@a/video/7400000000000000001?is_from_webapp=1", "https://www.tiktok.com/@a/video/7400000000000000001", ["tiktok_video:7400000000000000001"]),
        ("https://Shop.Example.com/p/blender/?utm_source=tt&ref=bio&color=red#top", "https://shop.example.com/p/blender?color=red", []),
    ],
)
def test_canonicalize(url: str, canonical: str, ids: list[str]) -> None:
    assert urls.canonicalize(url) == canonical
    assert urls.canonical_ids_for(canonical) == ids


def test_links_in_text() -> None:
    links, ids = urls.links_and_ids("grab it https://www.amazon.com/dp/B0EXAMPLE1?tag=foo-20. also www.example-shop.com/deal!")
    assert links == ["https://www.amazon.com/dp/B0EXAMPLE1", "https://www.example-shop.com/deal"]
    assert ids == ["asin:B0EXAMPLE1"]
    assert urls.find_links("shop: example-shop.com/blender") == ["https://example-shop.com/blender"]
    assert urls.find_links("mailto:a@b.c", None, 42) == []
    assert urls.canonicalize("javascript:alert(1)") is None


# --- evidence strength and baselines (trends_scoring §1.1, §2) -------------------------------------

_multipliers = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)


@given(_multipliers, _multipliers, st.floats(min_value=1.01, max_value=5.0))
def test_strength_is_monotone_in_the_multiplier_and_zero_below_the_floor(a: float, b: float, floor: float) -> None:
    lo, hi = sorted((a, b))
    q_lo, q_hi = stats.strength(lo, floor), stats.strength(hi, floor)
    assert 0.0 <= q_lo <= q_hi < 1.0
    if lo <= floor:
        assert q_lo == 0.0
    if hi > floor * 1.001:
        assert q_hi > 0.0


def test_strength_keeps_magnitude() -> None:
    assert stats.strength(1.5) == 0.0 and stats.strength(3.0) == pytest.approx(0.5)
    assert stats.strength(30.0) > stats.strength(6.0) > stats.strength(2.0) > 0.0
    assert stats.strength(None) == 0.0 and stats.strength(float("nan")) == 0.0
    assert stats.boost(0.5, 1.5) > 0.5 and stats.boost(0.0, 3.0) == 0.0


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=12))
def test_loo_medians_equal_the_brute_force_median_of_the_others(values: list[int]) -> None:
    import statistics

    expected = [statistics.median(values[:i] + values[i + 1:]) if len(values) > 1 else None for i in range(len(values))]
    assert stats.loo_medians(values) == expected


def test_loo_medians_by_group_skip_missing_values() -> None:
    out = stats.loo_medians_by(["a", "a", "a", "b", None, "a"], [1.0, 2.0, 10.0, 3.0, 4.0, None])
    assert out == [(6.0, 2), (5.5, 2), (1.5, 2), (None, 0), (None, 0), (None, 0)]


def test_surprise_shrinks_a_thin_level_toward_the_next_not_toward_one() -> None:
    thick = stats.surprise(400_000, [stats.Level("author", 10_000, 12)])
    assert thick.m == 40 and thick.m_s == pytest.approx((12 * 40 + 5) / 17)  # §7: 40× → ≈ 28.5×
    # one earlier video at 100k, the audience level says 20k: log-space pull toward the audience (k_next = 1)
    thin = stats.surprise(400_000, [stats.Level("author", 100_000, 1), stats.Level("author", 20_000, 30)])
    below = (30 * 20 + 5) / 35
    assert thin.level == "author" and thin.n == 1 and thin.m == 4
    assert thin.m_s == pytest.approx((4 * below) ** 0.5) and thin.thin
    # the most specific usable level wins; unusable ones (no data, zero baseline) are skipped
    skip = stats.surprise(50.0, [stats.Level("author", None, 0), stats.Level("group", 0.0, 3), stats.Level("run", 10.0, 8)])
    assert skip.level == "run" and skip.m == 5.0
    assert stats.surprise(5.0, []).m_s is None and stats.surprise(5.0, []).level == "none"


def test_http_url_accepts_only_http_links() -> None:
    assert stats.http_url(" https://i.ytimg.com/vi/x/hq.jpg ") == "https://i.ytimg.com/vi/x/hq.jpg"
    for bad in ("self", "default", "data:image/png;base64,AAA", "javascript:alert(1)", "http://", None, 5, "//cdn/x.jpg"):
        assert stats.http_url(bad) is None
