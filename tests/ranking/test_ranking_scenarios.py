"""The reference's scenarios (trends_scoring.md §4.1, §5, §6, §7) end to end through rank()/fuse()."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from ranking_factory import NOW, fillers, item, population

from ai_content_agents.ranking import RankConfig, cluster_keys, fuse, percentiles, rank, rank_with_stats

CFG = RankConfig()


def _trend_of(trends, it):  # type: ignore[no-untyped-def]
    return next(t for t in trends if it.key in {i.key for i in t.items})


# --- §4.1 worked example ---------------------------------------------------------------


def _worked_example_items():  # type: ignore[no-untyped-def]
    """A: TikTok .97 + Amazon .90; B: Reddit .99; C: TikTok .80 + Amazon .70 + Reddit .75 (all n = 50, age 0)."""
    asin_a, asin_c = "B0BLENDER1", "B0MIRROR01"
    link = "https://www.amazon.com/dp/{}".format
    titles = {"A": "portable blender", "B": "bento lunch box", "C": "LED makeup mirror"}
    asin = {"A": asin_a, "C": asin_c}

    def make(source: str):  # type: ignore[no-untyped-def]
        def build(name: str, s: float):  # type: ignore[no-untyped-def]
            if source == "amazon":
                return item("amazon", titles[name], s, sid=f"{name}-az", canonical_ids=[f"asin:{asin[name]}"])
            links = [link(asin[name])] if name in asin else []
            return item(source, titles[name], s, sid=f"{name}-{source}", links=links)

        return build

    return (
        population("tiktok", {"A": 0.97, "C": 0.80}, 50, make("tiktok"))
        + population("amazon", {"A": 0.90, "C": 0.70}, 50, make("amazon"))
        + population("reddit", {"B": 0.99, "C": 0.75}, 50, make("reddit"))
    )


def test_worked_example_fuse_exact() -> None:
    items = {i.key: i for i in _worked_example_items()}
    pct = percentiles(items.values())
    assert pct["tiktok:A-tiktok"] == pytest.approx((0.97, 50))
    assert pct["amazon:A-az"] == pytest.approx((0.90, 50))
    assert pct["reddit:B-reddit"] == pytest.approx((0.99, 50))
    assert pct["tiktok:C-tiktok"] == pytest.approx((0.80, 50))
    assert pct["amazon:C-az"] == pytest.approx((0.70, 50))
    assert pct["reddit:C-reddit"] == pytest.approx((0.75, 50))

    a = fuse([items["tiktok:A-tiktok"], items["amazon:A-az"]], pct, CFG, NOW)
    b = fuse([items["reddit:B-reddit"]], pct, CFG, NOW)
    c = fuse([items["tiktok:C-tiktok"], items["amazon:C-az"], items["reddit:C-reddit"]], pct, CFG, NOW)
    assert (a.weighted_mean, a.bonus, a.score) == pytest.approx((0.935, 0.05, 0.985))
    assert (b.weighted_mean, b.bonus, b.score) == pytest.approx((0.99, 0.0, 0.99))
    assert (c.weighted_mean, c.bonus, c.score) == pytest.approx((0.75, 0.10, 0.85))
    assert (a.independent_sources, b.independent_sources, c.independent_sources) == (2, 1, 3)
    assert {e.source: e.p for e in a.evidence} == pytest.approx({"tiktok": 0.97, "amazon": 0.90})
    assert all(e.decay == 1.0 and e.weight == 1.0 and e.n_source == 50 for e in a.evidence + c.evidence)


def test_worked_example_rank_order_b_a_c() -> None:
    trends = rank(_worked_example_items(), RankConfig(top_n=200), NOW)
    by_id = {t.cluster_id: t for t in trends}
    a, c = by_id["asin:B0BLENDER1"], by_id["asin:B0MIRROR01"]
    b = next(t for t in trends if t.title == "bento lunch box")
    assert (a.score, b.score, c.score) == pytest.approx((0.985, 0.99, 0.85))
    assert b.rank < a.rank < c.rank
    assert sorted(a.sources) == ["amazon", "tiktok"] and sorted(c.sources) == ["amazon", "reddit", "tiktok"]


# --- §7 scenario fixtures ----------------------------------------------------------------


def test_sudden_spike_tops_its_source_and_the_ranking() -> None:
    creator_posts = fillers("tiktok", [0.1 * k - 0.5 for k in range(11)], age_h=36)  # s ≈ 0: normal posts
    spike = item("tiktok", "cloud slime kit", math.log2(28.5), metrics={"plays": 400_000}, age_h=36)
    others = fillers("youtube", [0.2 * k for k in range(10)], age_h=36)
    trends = rank([*creator_posts, spike, *others], CFG, NOW)
    t = _trend_of(trends, spike)
    assert t.rank <= CFG.top_n
    assert t.evidence[0].p == pytest.approx((12 - 0.5) / 12)
    assert t.rank == min(x.rank for x in trends if x.sources == ["tiktok"])
    assert t.score > max(x.score for x in trends if x is not t and x.sources == ["tiktok"])
    assert t.evidence[0].decay == pytest.approx(0.5)  # 36 h at TikTok's 36 h half-life


def test_slow_climb_beats_one_off_noise() -> None:
    climb = item("reddit", "mushroom coffee alternative", 1.5, velocity=0.15)  # +15%/day, no single jump
    noise = item("reddit", "random one snapshot spike", 6.0, eligible=False)  # below floor / unconfirmed
    trends = rank([climb, noise, *fillers("reddit", [0.0, 0.3, 0.6, 0.9, 1.2])], CFG, NOW)
    tc, tn = _trend_of(trends, climb), _trend_of(trends, noise)
    assert tc.label == "climbing"
    assert tc.rank == 1
    assert tn.rank == len(trends)  # never in the top N
    assert "ineligible" in tn.flags


def test_mega_account_average_post_does_not_outrank_genuine_outlier() -> None:
    mega = item("tiktok", "mega creator daily vlog", 0.05, metrics={"plays": 50_000_000})
    outlier = item("tiktok", "heatless curling ribbon", 4.0, metrics={"plays": 200_000})
    rest = fillers("tiktok", [-1.0, -0.5, 0.0, 0.5, 1.0])
    trends = rank([mega, outlier, *rest], CFG, NOW)
    assert mega.metrics["plays"] > 100 * outlier.metrics["plays"]  # the trap: raw size
    assert _trend_of(trends, outlier).rank < _trend_of(trends, mega).rank
    assert _trend_of(trends, outlier).rank == 1


def test_one_sale_movers_jump_never_in_top_n_but_counts_as_evidence() -> None:
    jump = item("amazon", "obscure phone grip", 9.0, eligible=False, canonical_ids=["asin:B0JUMP0001"])
    azs = fillers("amazon", [0.5 * k for k in range(10)])
    tts = fillers("tiktok", [0.5 * k for k in range(10)])
    config = RankConfig(top_n=50)  # room for every eligible trend
    trends = rank([jump, *azs, *tts], config, NOW)
    tj = _trend_of(trends, jump)
    eligible_count = sum(1 for t in trends if "ineligible" not in t.flags)
    assert tj.rank > eligible_count
    assert all("ineligible" not in t.flags for t in trends[:eligible_count])
    # the same ASIN linked from an eligible TikTok video: the ineligible item still corroborates
    video = item("tiktok", "this phone grip", 4.0, links=["https://www.amazon.com/dp/B0JUMP0001"])
    trends = rank([jump, video, *azs, *tts], config, NOW)
    tv = _trend_of(trends, video)
    assert tv is _trend_of(trends, jump)
    assert tv.independent_sources == 2 and tv.bonus == pytest.approx(0.05)
    assert tv.rank <= sum(1 for t in trends if "ineligible" not in t.flags)


@pytest.mark.parametrize("with_link", [True, False])
def test_same_product_different_titles_one_cluster_with_bonus(with_link: bool) -> None:
    links = ["https://www.amazon.com/dp/B0BLEND001"] if with_link else []
    tt = item("tiktok", "mini portable blender usb rechargeable", 3.0, links=links, price="27.99")
    az = item(
        "amazon",
        "Portable Blender, 6 Blades, 380 ml",
        2.0,
        canonical_ids=["asin:B0BLEND001"],
        price="24.99",
        category="Kitchen & Dining",
        url="https://www.amazon.com/dp/B0BLEND001",
    )
    blades = item("amazon", "Portable Blender Replacement Blades", 1.0, price="9.99", canonical_ids=["asin:B0BLADES01"])
    trends = rank([tt, az, blades, *fillers("tiktok", [0, 1, 2, 2.5]), *fillers("amazon", [0, 1, 1.5])], CFG, NOW)
    t = _trend_of(trends, tt)
    assert {i.key for i in t.items} == {tt.key, az.key}
    assert t.cluster_id == "asin:B0BLEND001"
    assert t.independent_sources == 2 and t.bonus == pytest.approx(0.05)
    assert t.score == pytest.approx(t.weighted_mean + 0.05)
    assert t.title == "Portable Blender, 6 Blades, 380 ml"  # Amazon's product name represents it
    assert t.canonical_urls[0] == "https://www.amazon.com/dp/B0BLEND001"
    assert "single_source" not in t.flags
    assert _trend_of(trends, blades) is not t


def test_zero_baseline_breakout_is_finite_and_labelled() -> None:
    alpha = 2.0  # pseudo-count
    b1 = item("x", "new snack brand mentions", math.log2((120 + alpha) / (0 + alpha)), baseline=0.0, flags=["breakout"])
    b2 = item("reddit", "another zero base item", 3.0, baseline=0.0)  # zero baseline without the flag
    trends = rank([b1, b2, *fillers("x", [0, 1, 2, 3, 4]), *fillers("reddit", [0, 1, 2, 3, 4])], CFG, NOW)
    for it in (b1, b2):
        t = _trend_of(trends, it)
        assert math.isfinite(t.score) and 0 <= t.score <= 1 + CFG.beta_max
        assert t.label == "breakout"
    assert all(t.label != "breakout" for t in trends if t.items[0].key not in {b1.key, b2.key})


def test_merge_flaw_regression_caps_and_forum_items() -> None:
    rng = random.Random(3)
    movers = []
    for k in range(100):
        gain = rng.uniform(1000, 5000)
        s = math.log2(1 + gain / 100)
        movers.append(item("amazon", f"mover gadget{k} thing{k}", s, metrics={"gain_pct": gain}))
    posts = [
        item("reddit", f"forum find{k} idea{k}", rng.uniform(0.5, 2.0), metrics={"score": 300 * (k + 1)})
        for k in range(20)
    ]
    everything = movers + posts
    # the flaw: one sort over ad-hoc raw scores floods the top with marketplace movers
    naive = sorted(everything, key=lambda i: i.metrics.get("gain_pct", 0) / 100 + i.metrics.get("score", 0) / 3000)
    assert all(i.source == "amazon" for i in naive[-20:])

    res = rank_with_stats(everything, CFG, NOW)
    trends = res.trends
    assert [t.rank for t in trends] == list(range(1, len(trends) + 1))
    # two sources, cap ceil(20/3) = 7 each: the top holds 14, never 20 movers
    assert res.top_count == 14
    top = trends[: res.top_count]
    counts = {src: sum(1 for t in top if t.sources == [src]) for src in ("amazon", "reddit")}
    assert counts == {"amazon": 7, "reddit": 7}
    # the 7 movers admitted are the 7 strongest; the ones pushed out follow in score order, flagged
    amazon_sorted = sorted((t for t in trends if t.sources == ["amazon"]), key=lambda t: -t.score)
    assert [t.cluster_id for t in top if t.sources == ["amazon"]] == [t.cluster_id for t in amazon_sorted[:7]]
    rest = trends[res.top_count :]
    assert [t.score for t in rest] == sorted((t.score for t in rest), reverse=True)
    assert all("capped" in t.flags for t in rest[:6])  # 6 slots were left: all went unfilled by a cap
    assert all("capped" not in t.flags for t in top)
    # with a third source present, its items take the freed slots
    videos = [item("youtube", f"video clip{k} take{k}", float(k)) for k in range(10)]
    res3 = rank_with_stats(everything + videos, CFG, NOW)
    top3 = res3.trends[: res3.top_count]
    assert res3.top_count == 20
    assert {src: sum(1 for t in top3 if t.sources == [src]) for src in ("amazon", "reddit", "youtube")} == {
        "amazon": 7,
        "reddit": 7,
        "youtube": 6,
    }


def test_cap_counts_against_strongest_source() -> None:
    # top_n = 3 → cap 1 per source. An Amazon single (p .95) takes Amazon's slot; the Amazon+YouTube
    # cluster (Amazon p .85 > YouTube p .833) counts against Amazon, so it stays out even though
    # YouTube still has room.
    single = item("amazon", "amazon single hit", 100.0)
    multi_az = item("amazon", "twin gadget", 99.0, canonical_ids=["asin:B0TWIN0001"])
    multi_yt = item("youtube", "twin gadget review", 50.0, links=["https://www.amazon.com/dp/B0TWIN0001"])
    items = [single, multi_az, multi_yt, *fillers("amazon", range(8)), *fillers("youtube", [0, 1])]
    res = rank_with_stats(items, RankConfig(top_n=3), NOW)
    multi = _trend_of(res.trends, multi_az)
    ev = {e.source: e.p for e in multi.evidence}
    assert ev == pytest.approx({"amazon": 0.85, "youtube": 5 / 6})
    assert multi.score > max(t.score for t in res.trends if t.sources == ["youtube"])
    assert _trend_of(res.trends, single).rank == 1
    assert multi.rank > res.top_count and "capped" in multi.flags
    assert [t.sources for t in res.trends[: res.top_count]] == [["amazon"], ["youtube"]]


def test_tiktok_and_its_shop_product_are_one_independent_source() -> None:
    pid = "1729000000000000001"
    video = item("tiktok", "cloud slides", 3.0, links=[f"https://shop.tiktok.com/view/product/{pid}"])
    shop = item("tiktok_shop", "Cloud Slides Unisex", 2.0, canonical_ids=[f"tiktok_product:{pid}"])
    base = [*fillers("tiktok", [0, 1, 2, 2.5]), *fillers("tiktok_shop", [0, 1, 1.5, 1.8])]
    t = _trend_of(rank([video, shop, *base], CFG, NOW), video)
    assert sorted(t.sources) == ["tiktok", "tiktok_shop"]
    assert t.independent_sources == 1 and t.bonus == 0.0 and "single_source" in t.flags
    assert t.title == "Cloud Slides Unisex"  # the shop's product name
    # a genuinely independent source does add the bonus
    yt = item("youtube", "x", 1.0, links=[f"https://www.tiktok.com/view/product/{pid}"])
    t2 = _trend_of(rank([video, shop, yt, *base, *fillers("youtube", [0, 0.5, 2, 3])], CFG, NOW), video)
    assert t2.independent_sources == 2 and t2.bonus == pytest.approx(0.05)


def test_featured_demotion_unless_score_grew() -> None:
    hit = item(
        "tiktok",
        "magnetic phone wallet",
        5.0,
        canonical_ids=["tiktok_video:111"],
        links=["https://www.amazon.com/dp/B0WALLET01"],
    )
    other = item("youtube", "sunrise alarm clock", 2.0)
    base = [*fillers("tiktok", [0, 1, 2, 3]), *fillers("youtube", [0, 1, 3, 4])]
    first = rank([hit, other, *base], CFG, NOW)
    t_hit = _trend_of(first, hit)
    assert t_hit.rank < _trend_of(first, other).rank
    assert cluster_keys(t_hit) == ["asin:B0WALLET01", "tiktok_video:111"]
    key = "tiktok_video:111"  # any remembered key matches, not just the cluster id

    featured = {key: (NOW - timedelta(days=7), t_hit.score, "issue-41")}
    again = rank([hit, other, *base], CFG, NOW, featured=featured)
    t_hit2, t_other2 = _trend_of(again, hit), _trend_of(again, other)
    assert "featured_before" in t_hit2.flags
    assert t_hit2.rank > t_other2.rank
    assert all("featured_before" not in t.flags for t in again if t is not t_hit2)
    assert t_hit2.rank == len(again)  # below every unfeatured trend

    grown = {key: (NOW - timedelta(days=7), t_hit.score / 1.5, "issue-41")}
    t_hit3 = _trend_of(rank([hit, other, *base], CFG, NOW, featured=grown), hit)
    assert t_hit3.rank == 1 and {"featured_before", "featured_grew"} <= set(t_hit3.flags)


def test_thin_source_flag_and_weight() -> None:
    thin = item("x", "air fryer liners", 2.0, links=["https://www.amazon.com/dp/B0LINER001"])
    az = item("amazon", "Air Fryer Liners", 2.0, canonical_ids=["asin:B0LINER001"])
    items = [thin, az, *fillers("x", [0, 1]), *fillers("amazon", [0, 1, 1.5, 1.7, 1.9])]
    t = _trend_of(rank(items, CFG, NOW), thin)
    ev = {e.source: e for e in t.evidence}
    assert ev["x"].thin and ev["x"].n_source == 3 and ev["x"].weight == 0.5
    assert not ev["amazon"].thin and ev["amazon"].weight == 1.0
    assert "thin" in t.flags
    expected = (0.5 * ev["x"].p + 1.0 * ev["amazon"].p) / 1.5
    assert t.weighted_mean == pytest.approx(expected)


def test_labels_peaked_and_too_recent() -> None:
    old = item("tiktok", "old viral dance lamp", 3.0, age_h=100)  # > 2 × 36 h
    fresh = item("tiktok", "brand new gadget thing", 2.0, velocity=5.0, flags=["too_recent"])
    steady = item("tiktok", "plain steady product", 1.0)
    trends = rank([old, fresh, steady, *fillers("tiktok", [0, 0.5])], CFG, NOW)
    assert _trend_of(trends, old).label == "peaked"
    tf = _trend_of(trends, fresh)
    assert tf.label == "steady" and "too_recent" in tf.flags
    assert _trend_of(trends, steady).label == "steady"
    assert _trend_of(trends, old).evidence[0].decay == pytest.approx(2 ** (-100 / 36))


def test_estimate_flag_propagates() -> None:
    est = item("tiktok_shop", "gmv estimate product", 2.0, flags=["estimate"])
    t = _trend_of(rank([est, *fillers("tiktok_shop", [0, 1, 3, 4])], CFG, NOW), est)
    assert "estimate" in t.flags


def test_top_n_first_then_rest_in_score_order() -> None:
    items = [*fillers("reddit", [float(k) for k in range(30)]), *fillers("youtube", [float(k) for k in range(30)])]
    items += fillers("x", [float(k) for k in range(30)])
    res = rank_with_stats(items, RankConfig(top_n=10), NOW)
    trends = res.trends
    assert res.top_count == 10
    assert [t.rank for t in trends] == list(range(1, 91))
    assert all(sum(1 for t in trends[:10] if t.sources == [s]) <= 4 for s in ("reddit", "youtube", "x"))
    scores = [t.score for t in trends[10:]]
    assert scores == sorted(scores, reverse=True)


SHOP_ID = "1729000000000000001"


def _mixed_items():  # type: ignore[no-untyped-def]
    return [
        item("tiktok", "mini portable blender usb rechargeable", 3.0, price="27.99", sid="t1"),
        item("amazon", "Portable Blender, 6 Blades, 380 ml", 2.0, canonical_ids=["asin:B0BLEND001"], sid="a1"),
        item("youtube", "portable blender review #viral", 1.0, sid="y1"),
        item("amazon", "Portable Blender Replacement Blades", 1.0, canonical_ids=["asin:B0BLADES01"], sid="a2"),
        item("x", "LED face mask", 2.0, brand="Lumi", sid="x1"),
        item("reddit", "LED face mask", 2.0, brand="GlowCo", sid="r1"),
        item("reddit", "LED face mask", 1.5, sid="r2"),
        item("tiktok", "cloud slides", 0.5, links=[f"https://shop.tiktok.com/view/product/{SHOP_ID}"], sid="t2"),
        item("tiktok_shop", "Cloud Slides", 2.0, canonical_ids=[f"tiktok_product:{SHOP_ID}"], sid="s1"),
        *[item(src, f"gizmo{k} widget{k}", k % 7, sid=f"f{src}{k}") for src in ("x", "reddit") for k in range(8)],
    ]


def test_determinism_shuffled_input_same_output() -> None:
    base = rank(_mixed_items(), RankConfig(top_n=5), NOW)
    dumped = [t.model_dump() for t in base]
    for seed in range(4):
        items = _mixed_items()
        random.Random(seed).shuffle(items)
        assert [t.model_dump() for t in rank(items, RankConfig(top_n=5), NOW)] == dumped


def test_a_below_median_mention_is_provenance_and_never_lowers_the_score() -> None:
    """A product strong on Amazon must not score lower because it also got a weak mention on X."""
    azs = fillers("amazon", [0.5 * k for k in range(10)])
    xs = fillers("x", [0.5 * k for k in range(10)])
    strong = item("amazon", "Portable Blender, 6 Blades, 380 ml", 9.0, canonical_ids=["asin:B0BLEND001"])
    alone = _trend_of(rank([strong, *azs, *xs], RankConfig(top_n=50), NOW), strong)
    weak = item("x", "meh blender post", -1.0, links=["https://www.amazon.com/dp/B0BLEND001"])
    trends = rank([strong, weak, *azs, *xs], RankConfig(top_n=50), NOW)
    both = _trend_of(trends, strong)
    assert both is _trend_of(trends, weak)  # still one cluster: the mention is kept as provenance
    x_ev = next(e for e in both.evidence if e.source == "x")
    assert x_ev.p < 0.5 and not x_ev.counted
    assert both.score == pytest.approx(alone.score) and both.independent_sources == 1
    strong_x = item("x", "this blender is everywhere", 9.0, links=["https://www.amazon.com/dp/B0BLEND001"])
    corroborated = _trend_of(rank([strong, strong_x, *azs, *xs], RankConfig(top_n=50), NOW), strong)
    assert corroborated.independent_sources == 2 and corroborated.score > alone.score
