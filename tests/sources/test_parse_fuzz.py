"""Hypothesis feeds random JSON to every parse: nothing may raise, and the output is always typed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_content_agents.models import Parsed, TrendItem
from ai_content_agents.sources import amazon, reddit, tiktok, x, youtube

MODULES = (tiktok, amazon, x, reddit, youtube)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
json_values = st.recursive(
    scalars, lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=20,
)
REAL_KEYS = [
    "id", "text", "createTime", "createTimeISO", "playCount", "diggCount", "hashtags", "authorMeta", "webVideoUrl", "input",
    "searchQuery", "hasTikTokShopProduct", "isAd", "connectedTo", "authorMeta.name",
    "name", "asin", "url", "position", "price", "currency", "categoryUrl", "items", "percentageChange", "salesMovement",
    "type", "likeCount", "retweetCount", "viewCount", "createdAt", "author", "entities", "isRetweet",
    "kind", "data", "children", "title", "score", "created_utc", "permalink", "subreddit", "hide_score", "dataType",
    "snippet", "statistics", "contentDetails", "_channel_recent", "_channel", "duration", "viewCount", "publishedAt",
]
realish = st.dictionaries(st.sampled_from(REAL_KEYS), json_values, max_size=10)
rows = st.lists(st.one_of(realish, json_values), max_size=6)


def _check(result: Any) -> None:
    assert isinstance(result, Parsed)
    assert all(isinstance(item, TrendItem) for item in result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_parse_never_raises_on_random_json(raw: list) -> None:
    for module in MODULES:
        result = module.parse(raw)
        _check(result)
        module.score(list(result), {})


@settings(max_examples=60, deadline=None)
@given(st.lists(realish, max_size=4), st.lists(realish, max_size=4))
def test_parse_never_raises_on_nested_envelopes(children: list, items: list) -> None:
    listing = [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": c} for c in children]}}]
    legacy = [{"categoryUrl": "https://www.amazon.com/gp/bestsellers/x/", "items": {str(i): it for i, it in enumerate(items)}}]
    _check(reddit.parse(listing))
    _check(amazon.parse(legacy))


def test_parse_accepts_non_list_input() -> None:
    for module in MODULES:
        assert list(module.parse(None)) == [] and list(module.parse({"a": 1})) == []  # type: ignore[arg-type]
