"""Percentiles, normalisation, link ids and clustering guards."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from ranking_factory import NOW, item

from ai_content_agents.ranking import (
    RankConfig,
    canonical_urls,
    category_buckets,
    cluster,
    cluster_id_for,
    link_ids,
    normalise_title,
    percentiles,
    rank,
    rank_with_stats,
)


def test_percentiles_ties_averaged_and_n_stored() -> None:
    items = [item("reddit", "a", 1.0), item("reddit", "b", 2.0), item("reddit", "c", 2.0), item("reddit", "d", 3.0)]
    pct = percentiles(items)
    assert [pct[i.key] for i in items] == [(0.125, 4), (0.5, 4), (0.5, 4), (0.875, 4)]


def test_percentiles_are_within_source_only() -> None:
    # Amazon's raw s are 100× TikTok's; each source's top item still gets the same percentile.
    amazon = [item("amazon", f"a{k}", 100.0 * k) for k in range(1, 6)]
    tiktok = [item("tiktok", f"t{k}", 0.01 * k) for k in range(1, 11)]
    pct = percentiles(amazon + tiktok)
    assert pct[amazon[-1].key] == (0.9, 5)
    assert pct[tiktok[-1].key] == (0.95, 10)
    assert pct[tiktok[0].key] == (0.05, 10)


def test_percentiles_skip_unscored() -> None:
    a = item("x", "a", 1.0)
    b = item("x", "b", float("nan"))
    c = item("x", "c", 2.0).model_copy(update={"signals": None})
    assert set(percentiles([a, b, c])) == {a.key}


def test_percentiles_count_a_repeated_key_once_at_its_latest_observation() -> None:
    old = item("x", "a", 10.0, sid="dup")
    new = old.model_copy(update={"observed_at": old.observed_at + timedelta(hours=1), "signals": item(s=1.0).signals})
    other = item("x", "b", 5.0)
    pct = percentiles([new, old, other])  # input order does not decide: the later observation does
    assert pct == {new.key: (0.25, 2), other.key: (0.75, 2)}


def test_normalise_title_strips_filler_units_emoji_hashtags() -> None:
    noisy = "🔥 TikTok made me buy it! 2026 NEW Portable Blender, 6-Pack, 380 ml #viral #amazonfinds"
    assert normalise_title(noisy) == "portable blender"
    assert normalise_title("Portable Blender, 6 Blades, 380ml") == "portable blender"
    assert normalise_title("Portable Blender Replacement Blades") == "portable blender replacement blade"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.amazon.com/dp/B0BLEND001", ("asin:B0BLEND001",)),
        ("https://www.amazon.co.uk/gp/product/b0blend001?ref=x", ("asin:B0BLEND001",)),
        ("https://www.amazon.de/Some-Name/dp/B0BLEND001/ref=zg_bs", ("asin:B0BLEND001",)),
        ("https://www.amazon.com/gp/aw/d/B0BLEND001", ("asin:B0BLEND001",)),
        ("https://www.amazon.com/s?asin=B0BLEND001", ("asin:B0BLEND001",)),
        ("https://shop.tiktok.com/view/product/1729384756123456789?region=US", ("tiktok_product:1729384756123456789",)),
        ("https://www.tiktok.com/view/product/1729384756123456789", ("tiktok_product:1729384756123456789",)),
        ("https://www.tiktok.com/@someone/video/7345678901234567890", ()),
        ("https://linktr.ee/someone", ()),
        ("https://notamazon.example/dp/B0BLEND001", ()),
        ("not a url", ()),
    ],
)
def test_link_ids(url: str, expected: tuple[str, ...]) -> None:
    assert link_ids(url) == expected


def test_category_buckets_bridge_vocabularies() -> None:
    assert category_buckets("Amazon Best Sellers: Best Kitchen & Dining") == category_buckets("Home Supplies")
    assert category_buckets("Beauty & Personal Care") == frozenset({"beauty"})
    assert category_buckets("Something Odd") == frozenset()
    assert category_buckets(None) == frozenset()


# --- clustering ------------------------------------------------------------------------


def _together(items, a, b) -> bool:  # type: ignore[no-untyped-def]
    for c in cluster(items, RankConfig()):
        keys = {i.key for i in c}
        if a.key in keys:
            return b.key in keys
    raise AssertionError("item not clustered")


def test_asin_link_joins_cluster() -> None:
    tt = item("tiktok", "mini portable blender usb rechargeable", links=["https://www.amazon.com/dp/B0BLEND001"])
    az = item("amazon", "Portable Blender, 6 Blades, 380 ml", canonical_ids=["asin:B0BLEND001"], price="24.99")
    assert _together([tt, az], tt, az)
    assert cluster_id_for([tt, az]) == "asin:B0BLEND001"


def test_an_asin_still_joins_its_product_after_a_roundup_took_another_asin() -> None:
    # the roundup names A1 and A2 (so claims neither) and joins A2's listing by that id; the first item
    # holding A1 is then in A2's product, and later A1 items must still meet each other
    roundup = item("amazon", "", sid="a1", canonical_ids=["asin:B0AAAAAAA2"], links=["https://www.amazon.com/dp/B0AAAAAAA1"])
    other = item("amazon", "", sid="a2", canonical_ids=["asin:B0AAAAAAA2"])
    first = item("amazon", "cordless kettle", sid="a3", canonical_ids=["asin:B0AAAAAAA1"])
    later = item("tiktok", "something else entirely", sid="t9", canonical_ids=["asin:B0AAAAAAA1"])
    items = [roundup, other, first, later]
    assert _together(items, first, later)
    assert _together(items, roundup, other) and not _together(items, first, other)


def test_title_and_price_band_merge_without_link() -> None:
    tt = item("tiktok", "mini portable blender usb rechargeable 🔥 #tiktokmademebuyit", price="29.99")
    az = item(
        "amazon",
        "Portable Blender, 6 Blades, 380 ml",
        canonical_ids=["asin:B0BLEND001"],
        price="24.99",
        category="Amazon Best Sellers: Best Kitchen & Dining",
    )
    assert _together([tt, az], tt, az)


@pytest.mark.parametrize(
    ("tiktok_kwargs", "why"),
    [
        ({"price": "89.99"}, "price outside the ±50% band"),
        ({"category": "Beauty & Personal Care"}, "different known category"),
        ({"brand": "Ninja"}, "different known brand"),
    ],
)
def test_guards_block_title_merge(tiktok_kwargs: dict, why: str) -> None:
    tt = item("tiktok", "mini portable blender usb rechargeable", **tiktok_kwargs)
    az = item(
        "amazon",
        "Portable Blender, 6 Blades, 380 ml",
        canonical_ids=["asin:B0BLEND001"],
        price="24.99",
        category="Kitchen & Dining",
        brand="BlendJet",
    )
    assert not _together([tt, az], tt, az), why


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Portable Blender", "Portable Blender Replacement Blades"),
        ("LED Face Mask", "LED Face Mask Replacement Strap"),
        ("Portable Blender USB", "Portable Blender USB Charger Cable"),
    ],
)
def test_accessory_titles_do_not_merge(a: str, b: str) -> None:
    x = item("amazon", a, canonical_ids=["asin:B000000001"], price="30")
    y = item("tiktok", b, price="30")
    assert not _together([x, y], x, y)


def test_different_brands_do_not_merge_but_same_brand_does() -> None:
    a = item("amazon", "LED Face Mask", brand="Lumi", canonical_ids=["asin:B0MASK0001"])
    b = item("tiktok", "LED Face Mask", brand="GlowCo")
    c = item("youtube", "Lumi LED face mask red light", brand="LUMI official")
    items = [a, b, c]
    assert not _together(items, a, b)
    assert _together(items, a, c)
    trends = rank(items, RankConfig(), NOW)
    assert len({t.cluster_id for t in trends}) == len(trends)  # title twins get distinct ids


def test_brand_guard_holds_across_a_chain() -> None:
    # b (no brand) matches both a and c, but a and c are different brands: the chain must not join them.
    a = item("amazon", "LED Face Mask Pro", brand="Lumi")
    b = item("tiktok", "LED Face Mask Pro")
    c = item("youtube", "LED Face Mask Pro", brand="GlowCo")
    clusters = cluster([a, b, c], RankConfig())
    for cl in clusters:
        brands = {i.brand for i in cl if i.brand}
        assert len(brands) <= 1


def test_cluster_id_is_stable_across_runs() -> None:
    tt = item("tiktok", "Sunset Lamp Projector", sid="v1")
    yt = item("youtube", "sunset lamp projector 🔥 #viral", sid="y1")
    first = cluster_id_for([tt, yt])
    assert first.startswith("title:")
    # a later run: other items around, another order → same id
    other = item("reddit", "cat water fountain")
    tt2 = item("tiktok", "Sunset Lamp Projector", sid="v1", s=3.0)
    trends = rank([other, yt, tt2], RankConfig(), NOW)
    assert first in {t.cluster_id for t in trends}
    # canonical ids win over title hashes, and "asin:" wins over other ids
    assert cluster_id_for([item("tiktok", "x y", canonical_ids=["tiktok_video:9", "asin:B0ZZZZZZZZ"])]) == (
        "asin:B0ZZZZZZZZ"
    )
    assert cluster_id_for([item("tiktok", "x y", canonical_ids=["tiktok_video:9", "tiktok_video:10"])]) == (
        "tiktok_video:10"
    )


def test_canonical_urls_products_first_no_random_links() -> None:
    tt = item(
        "tiktok",
        "blender",
        url="https://www.tiktok.com/@a/video/1",
        links=["https://linktr.ee/a", "https://www.amazon.com/dp/B0BLEND001"],
    )
    az = item("amazon", "Portable Blender", url="https://www.amazon.com/dp/B0BLEND001")
    urls = canonical_urls([tt, az])
    assert urls == ["https://www.amazon.com/dp/B0BLEND001", "https://www.tiktok.com/@a/video/1"]


def test_bad_input_is_counted_not_raised() -> None:
    good = item("x", "fine post", 1.0, sid="p1")
    dup_old = item("x", "fine post", 0.5, sid="p1").model_copy(update={"observed_at": NOW.replace(hour=1)})
    no_sig = item("x", "no signals").model_copy(update={"signals": None})
    nan = item("x", "nan post", float("nan"))
    inf = item("x", "inf post", math.inf)
    res = rank_with_stats([good, dup_old, no_sig, nan, inf], RankConfig(), NOW)
    assert res.skipped == {"no_signals": 1, "non_finite_s": 2, "duplicate_key": 1}
    assert len(res.trends) == 1
    assert res.trends[0].evidence[0].s == 1.0  # the latest observation of the duplicated key won


def test_crowded_identical_titles_still_merge_through_blocking() -> None:
    # 300 copies of one generic title: every token is "common" (df > block_cap), so only the
    # crowded-pair window links them — the chain must still make one cluster.
    sources = ["tiktok", "youtube", "x", "reddit"]
    copies = [item(sources[k % 4], "Portable Blender 🔥 #viral", float(k % 13)) for k in range(300)]
    other = [item("reddit", f"unrelated{k} thing{k}", 1.0) for k in range(50)]
    clusters = cluster(copies + other, RankConfig())
    sizes = sorted((len(c) for c in clusters), reverse=True)
    assert sizes[0] == 300 and len(clusters) == 51
