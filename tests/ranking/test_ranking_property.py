"""Properties of rank(): total, bounded, monotone in evidence, permutation-invariant, caps only on single-source stories."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from ranking_factory import NOW

from ai_content_agents.models import ProductRef, Signals, SourceEvidence, TrendItem
from ai_content_agents.ranking import RankConfig, cluster_keys, item_ids, noisy_or, rank, rank_with_stats

WORDS = ["portable", "blender", "mini", "usb", "led", "face", "mask", "replacement", "blades", "🔥", "#viral", "6-Pack"]
SOURCES = ["tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop"]
IDS = ["asin:B0AAAAAAA1", "asin:B0AAAAAAA2", "tiktok_product:1234567", "tiktok_video:9"]
LINKS = ["https://www.amazon.com/dp/B0AAAAAAA1", "https://shop.tiktok.com/view/product/1234567", "https://linktr.ee/x"]


@st.composite
def items(draw: st.DrawFn) -> TrendItem:
    source = draw(st.sampled_from(SOURCES))
    signals = Signals(
        metric="x",
        value=draw(st.floats(0, 1e9)),
        baseline=draw(st.none() | st.floats(0, 1e6)),
        s=draw(st.floats(-1e6, 1e6)),
        q=draw(st.floats(0, 0.999)),
        velocity=draw(st.none() | st.floats(-1e3, 1e3)),
        eligible=draw(st.booleans()),
        flags=draw(st.lists(st.sampled_from(["too_recent", "thin", "breakout", "estimate"]), max_size=2)),
    )
    return TrendItem(
        source=source,
        source_id=draw(st.text("abc123", min_size=1, max_size=3)),
        title=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=5))),
        url="https://example.com/i",
        category=draw(st.none() | st.sampled_from(["Kitchen & Dining", "Beauty", "Home Supplies", "weird"])),
        brand=draw(st.none() | st.sampled_from(["Lumi", "GlowCo"])),
        price=draw(st.none() | st.decimals(0, 500, places=2, allow_nan=False)),
        currency=draw(st.none() | st.sampled_from(["USD", "EUR"])),
        canonical_ids=draw(st.lists(st.sampled_from(IDS), max_size=2)),
        links=draw(st.lists(st.sampled_from(LINKS), max_size=2)),
        published_at=draw(st.none() | st.just(NOW - timedelta(hours=draw(st.floats(-10, 2000))))),
        observed_at=NOW,
        signals=draw(st.none() | st.just(signals)),
    )


def _same_as_validated(model: BaseModel) -> None:
    """Every field of `model` (and of the models it holds) equals, and has the type of, what validating its
    dump gives."""
    again = type(model).model_validate(model.model_dump())
    for name in type(model).model_fields:
        mine, valid = getattr(model, name), getattr(again, name)
        assert type(mine) is type(valid) and mine == valid, (type(model).__name__, name, mine, valid)
        for m in mine if isinstance(mine, list) else ():
            if isinstance(m, (SourceEvidence, ProductRef)):
                _same_as_validated(m)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items(), max_size=40), st.integers(1, 8), st.booleans())
def test_rank_total_and_bounded(batch: list[TrendItem], top_n: int, feature_first: bool) -> None:
    config = RankConfig(top_n=top_n)
    res = rank_with_stats(batch, config, NOW)
    if feature_first and res.trends:
        featured = {k: (NOW - timedelta(days=1), res.trends[0].score, "i1") for k in cluster_keys(res.trends[0])}
        res = rank_with_stats(batch, config, NOW, featured=featured)
    trends = res.trends
    assert [t.rank for t in trends] == list(range(1, len(trends) + 1))
    for t in trends:
        _same_as_validated(t)  # ranking builds Trends without validating: each must be what validation gives
        assert 0.0 <= t.score < 1.0
        assert all(0.0 <= e.p <= 1.0 and 0.0 < e.decay <= 1.0 for e in t.evidence)
        assert t.score >= max((e.weight * e.q * e.decay for e in t.evidence), default=0.0) - 1e-12
    scored_keys = {i.key for i in batch if i.signals is not None}
    placed = [i.key for t in trends for i in t.items]
    assert sorted(placed) == sorted(scored_keys)  # every scored item in exactly one story
    assert len({t.cluster_id for t in trends}) == len(trends)
    top = trends[: res.top_count]
    assert res.top_count <= top_n
    assert not any({"capped", "ineligible", "off_topic"} & set(t.flags) for t in top)
    cap = config.per_source_cap
    single = [t.evidence[[e.counted for e in t.evidence].index(True)].source for t in top if t.independent_sources == 1
              and any(e.counted for e in t.evidence) and len({e.source for e in t.evidence if e.counted}) == 1]
    assert all(single.count(s) <= cap for s in set(single))  # corroborated stories are never charged


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SOURCES), st.floats(0, 0.999)), max_size=8), st.sampled_from(SOURCES),
       st.floats(0, 0.999))
def test_noisy_or_is_monotone_and_order_free(factors: list[tuple[str, float]], extra: str, f: float) -> None:
    """Adding one more source's evidence, or raising one, never lowers S; the order never matters."""
    base: dict[str, float] = {}
    for src, v in factors:
        base[src] = max(base.get(src, 0.0), v)
    s0 = noisy_or(base)
    more = dict(base)
    more[extra] = max(more.get(extra, 0.0), f)
    assert noisy_or(more) >= s0 - 1e-12
    shuffled = list(base.items())
    random.Random(len(shuffled)).shuffle(shuffled)
    assert noisy_or(dict(shuffled)) == s0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items(), min_size=1, max_size=25), st.sampled_from(SOURCES), st.floats(0, 0.999), st.floats(0, 500))
def test_more_evidence_for_a_story_never_lowers_it(batch: list[TrendItem], source: str, q: float, age: float) -> None:
    """Monotone at the rank level (§4): an item that joins a story by its product id, whatever its source,
    strength or age, never lowers that story's score."""
    batch = list({i.key: i for i in batch if i.signals is not None}.values())  # one observation per key

    def asins(i: TrendItem) -> set[str]:
        return {c for c in item_ids(i) if c.startswith("asin:")}

    target = next((i for i in batch if len(asins(i)) == 1), None)
    if target is None:
        return
    (asin,) = asins(target)
    extra = TrendItem(
        source=source, source_id="extra-item", title="zzextra yyextra", url="https://example.com/extra",
        canonical_ids=[asin], published_at=NOW - timedelta(hours=age), observed_at=NOW,
        signals=Signals(metric="x", value=1.0, s=0.0, q=q),
    )
    before = next(t.score for t in rank(batch, RankConfig(), NOW) if any(i.key == target.key for i in t.items))
    after = next(t.score for t in rank([*batch, extra], RankConfig(), NOW) if any(i.key == extra.key for i in t.items))
    assert after >= before - 1e-12


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items(), max_size=30), st.randoms())
def test_permutation_invariant(batch: list[TrendItem], rnd: random.Random) -> None:
    shuffled = list(batch)
    rnd.shuffle(shuffled)
    a = [t.model_dump() for t in rank(batch, RankConfig(), NOW)]
    b = [t.model_dump() for t in rank(shuffled, RankConfig(), NOW)]
    assert a == b


def test_decimal_price_zero_and_missing_dates_are_fine() -> None:
    it = TrendItem(
        source="amazon",
        source_id="z",
        title="Zero Price Thing",
        url="https://www.amazon.com/dp/B0ZERO0001",
        price=Decimal("0"),
        observed_at=NOW - timedelta(hours=84),
        signals=Signals(metric="x", value=1, s=1.0, q=0.5),
    )
    config = RankConfig()
    (t,) = rank([it], config, NOW)
    # no publish time: aged from the capture of the list it was seen on, with the one half-life
    assert t.evidence[0].age_h == 84 and t.score == 0.25
