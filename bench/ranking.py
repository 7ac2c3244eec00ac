"""Benchmark for ranking.rank(): 100k and 200k synthetic scored items across 5 sources.

About 20% of items are a product already seen in another source, with a varied title (filler,
hashtags, pack sizes, dropped/reordered words) and sometimes an Amazon link, so clustering does
real work. Only rank() is timed; generating items is not. Peak memory is tracemalloc's peak of
Python allocations during a separate, traced rank() call on the 100k set (tracing slows it, so
it is not part of the timing).
"""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ai_content_agents.models import Signals, TrendItem
from ai_content_agents.ranking import RankConfig, rank

SOURCES = ("tiktok", "amazon", "reddit", "youtube", "x")
NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)
DUP_RATE = 0.2

_SYL = "ka lo mi ne ru sa ti vo ze ba de fi gu ho ji ke la mo nu pi qua re si to vu wa xe yo zu".split()


def _words(rng: random.Random, k: int, syllables: int) -> list[str]:
    out: set[str] = set()
    while len(out) < k:
        out.add("".join(rng.choice(_SYL) for _ in range(syllables)))
    return sorted(out)


def _zipf_cum(k: int) -> list[float]:
    acc, out = 0.0, []
    for r in range(1, k + 1):
        acc += 1 / r
        out.append(acc)
    return out


_VOCAB_RNG = random.Random(1)
_ADJ = _words(_VOCAB_RNG, 600, 2)  # descriptors: a Zipfian few are very common ("portable", "mini")
_NOUN = _words(_VOCAB_RNG, 400, 3)  # product nouns
_FEAT = _words(_VOCAB_RNG, 3000, 4)  # model names, materials, features: mostly rare
_ADJ_CUM, _NOUN_CUM, _FEAT_CUM = _zipf_cum(len(_ADJ)), _zipf_cum(len(_NOUN)), _zipf_cum(len(_FEAT))
_BRANDS = [f"brand{i}" for i in range(2000)]
_CATS = ("Home & Kitchen", "Beauty", "Electronics", "Sports & Outdoors", "Pet Supplies", "Toys & Games")
_FILLER = ("viral", "#tiktokmademebuyit", "2026 new", "🔥", "must have", "6-Pack", "380 ml", "#amazonfinds")


def _product(rng: random.Random, i: int) -> tuple[str, str, str, float, str]:
    """A product title of 5–8 tokens: descriptors, a noun, and model/feature words."""
    words = [
        *rng.choices(_ADJ, cum_weights=_ADJ_CUM, k=rng.randint(2, 3)),
        rng.choices(_NOUN, cum_weights=_NOUN_CUM)[0],
        *rng.choices(_FEAT, cum_weights=_FEAT_CUM, k=rng.randint(2, 3)),
    ]
    title = " ".join(dict.fromkeys(words))
    asin = f"B{i:09d}"
    return title, rng.choice(_BRANDS), rng.choice(_CATS), round(rng.uniform(8, 120), 2), asin


def _vary(rng: random.Random, title: str) -> str:
    words = title.split()
    if len(words) > 3 and rng.random() < 0.4:
        words.pop(rng.randrange(len(words)))
    if rng.random() < 0.3:
        rng.shuffle(words)
    return " ".join([*words, *rng.sample(_FILLER, rng.randint(0, 2))])


def make_items(n: int, seed: int = 7) -> list[TrendItem]:
    """n items spread over 5 sources; ~DUP_RATE of them repeat a product from another source."""
    rng = random.Random(seed)
    products: list[tuple[tuple[str, str, str, float, str], str]] = []  # (product, first source)
    items: list[TrendItem] = []
    for k in range(n):
        source = SOURCES[k % len(SOURCES)]
        reuse = products and rng.random() < DUP_RATE
        if reuse:
            prod, first = products[rng.randrange(len(products))]
            if first == source:
                reuse = False
        if not reuse:
            prod = _product(rng, k)
            products.append((prod, source))
        title, brand, cat, price, asin = prod
        is_amazon = source == "amazon"
        links = [f"https://www.amazon.com/dp/{asin}"] if reuse and rng.random() < 0.3 else []
        s = rng.gauss(0, 1.2)
        items.append(
            TrendItem.model_construct(
                source=source,
                source_id=f"{source}-{k}",
                title=_vary(rng, title) if reuse else title,
                url=f"https://www.amazon.com/dp/{asin}" if is_amazon else f"https://example.com/{source}/{k}",
                category=cat if (is_amazon or rng.random() < 0.3) else None,
                brand=brand if (is_amazon or rng.random() < 0.2) else None,
                price=Decimal(str(price)) if (is_amazon or rng.random() < 0.3) else None,
                currency="USD",
                canonical_ids=[f"asin:{asin}"] if is_amazon else [f"{source}:{k}"],
                links=links,
                metrics={},
                text="",
                author=None,
                author_followers=None,
                group=None,
                window="",
                is_commerce=False,
                commerce_reasons=[],
                raw=None,
                published_at=NOW - timedelta(hours=rng.uniform(0, 200)),
                observed_at=NOW,
                signals=Signals(
                    metric="x",
                    value=1.0,
                    s=s,
                    velocity=rng.uniform(-1, 1),
                    eligible=rng.random() > 0.05,
                ),
            )
        )
    return items


def _time_rank(items: list[TrendItem], config: RankConfig) -> tuple[float, int]:
    t0 = time.perf_counter()
    trends = rank(items, config, NOW)
    return time.perf_counter() - t0, len(trends)


def run() -> dict[str, float]:
    config = RankConfig()
    items_100k = make_items(100_000)
    t100, clusters_100k = _time_rank(items_100k, config)

    tracemalloc.start()
    rank(items_100k, config, NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del items_100k

    items_200k = make_items(200_000, seed=8)
    t200, _ = _time_rank(items_200k, config)
    return {
        "ranking_100k_s": round(t100, 3),
        "ranking_100k_items_per_s": round(100_000 / t100, 1),
        "ranking_100k_clusters": float(clusters_100k),
        "ranking_200k_s": round(t200, 3),
        "ranking_200k_over_100k": round(t200 / t100, 3),
        "ranking_100k_peak_mb": round(peak / 2**20, 1),  # tracemalloc peak during rank()
    }


if __name__ == "__main__":
    print(run())
