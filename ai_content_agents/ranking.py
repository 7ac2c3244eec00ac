"""Fair cross-source ranking: percentiles → clusters → fused score → caps (reference trends_scoring.md §2–§6).

Pure functions, no I/O. Raw `s` is only ever compared within one source (§6): each source's
items become within-run percentiles, products seen by several sources are merged into one
cluster, and the fused score averages the present sources (renormalised) plus a capped
corroboration bonus. Every component stays on the resulting `Trend` so copy can cite it.

Hot paths work on plain tuples/lists; pydantic objects are built once per cluster at the end
with `model_construct` (the inputs are already-validated models), which keeps 100k items fast.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
import hashlib
import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field, field_validator
from rapidfuzz import fuzz, process

from .models import SourceEvidence, Trend, TrendItem

log = logging.getLogger(__name__)

# Sources that tell one story: a TikTok video and the TikTok Shop product it sells (§4).
_INDEPENDENCE_GROUP: dict[str, str] = {"tiktok_shop": "tiktok"}


class RankConfig(BaseModel):
    """Ranking knobs. Defaults are the reference's "suggested" values; the pipeline fills it from Settings."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {s: 1.0 for s in ("tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop")}
    )
    half_life_h: dict[str, float] = Field(
        default_factory=lambda: {
            "x": 24.0,
            "tiktok": 36.0,
            "reddit": 36.0,
            "youtube": 120.0,
            "amazon": 120.0,
            "tiktok_shop": 72.0,
        }
    )
    default_weight: float = Field(1.0, ge=0)  # for a source missing from `weights`
    default_half_life_h: float = Field(48.0, gt=0)  # for a source missing from `half_life_h`
    beta: float = Field(0.05, ge=0)
    beta_max: float = Field(0.15, ge=0)
    top_n: int = Field(20, ge=1)
    cap_fraction: float = Field(1 / 3, gt=0, le=1)  # ≤ ceil(top_n × cap_fraction) of the top N per source
    fuzzy_threshold: float = Field(88.0, ge=0, le=100)
    price_band: float = Field(0.5, ge=0)  # max price ≤ min price × (1 + band) to count as the same product
    thin_n: int = Field(5, ge=1)  # a source with fewer items this run is "thin"
    thin_weight: float = Field(0.5, ge=0)  # weight multiplier for a thin source
    min_shared_tokens: int = Field(2, ge=2)  # fuzzy merges need at least this many shared title tokens
    block_cap: int = Field(100, ge=1)  # max fuzzy candidates per item (keeps clustering near-linear)
    featured_growth: float = Field(0.10, ge=0)  # a featured trend is not demoted if S grew by more than this
    breakout_baseline: float = Field(1e-6, ge=0)  # a baseline at or below this is "zero": label breakout

    @field_validator("weights")
    @classmethod
    def _weights_non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, w in v.items() if not (w >= 0 and math.isfinite(w)))
        if bad:
            raise ValueError(f"source weights must be finite and >= 0 (bad: {', '.join(bad)})")
        return v

    @field_validator("half_life_h")
    @classmethod
    def _half_lives_positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, h in v.items() if not (h > 0 and math.isfinite(h)))
        if bad:
            raise ValueError(f"half-lives must be finite and > 0 hours (bad: {', '.join(bad)})")
        return v

    def weight(self, source: str) -> float:
        return self.weights.get(source, self.default_weight)

    def half_life(self, source: str) -> float:
        return self.half_life_h.get(source, self.default_half_life_h)

    @property
    def per_source_cap(self) -> int:
        return max(1, math.ceil(self.top_n * self.cap_fraction - 1e-9))


class RankResult(BaseModel):
    """`rank`'s output plus what was left out and why (for the run report)."""

    trends: list[Trend]
    top_count: int = 0  # trends[:top_count] are the capped top N (fewer than N when caps or eligibility bind)
    skipped: dict[str, int] = Field(default_factory=dict)  # reason → count


# --------------------------------------------------------------------------------------
# Percentiles (§2)
# --------------------------------------------------------------------------------------


def percentiles(items: Iterable[TrendItem]) -> dict[str, tuple[float, int]]:
    """item.key → (p, n_source): p = (rank_from_bottom − 0.5) / n on `s`, within each source, ties averaged.

    Items without signals or with a non-finite `s` are not part of any population.
    """
    by_source: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for it in items:
        sig = it.signals
        if sig is None or not math.isfinite(sig.s):
            continue
        by_source[it.source].append((sig.s, it.key))
    out: dict[str, tuple[float, int]] = {}
    for rows in by_source.values():
        rows.sort()
        n = len(rows)
        i = 0
        while i < n:
            j = i
            while j + 1 < n and rows[j + 1][0] == rows[i][0]:
                j += 1
            avg_rank = (i + 1 + j + 1) / 2  # 1-based ranks i+1..j+1 share their mean
            p = (avg_rank - 0.5) / n
            for k in range(i, j + 1):
                out[rows[k][1]] = (p, n)
            i = j + 1
    return out


# --------------------------------------------------------------------------------------
# Title / link normalisation (§3)
# --------------------------------------------------------------------------------------

_HASHTAG = re.compile(r"[#@][^\s#@]+")
_FILLER_PHRASES = re.compile(
    r"\b(?:tik\s*tok\s+made\s+me\s+buy\s+it|amazon\s+(?:finds?|must\s*haves?)|must\s*haves?|"
    r"(?:20\d\d\s+)?(?:new|newest|latest|upgraded)(?:\s+20\d\d)?|best\s*sellers?|free\s+shipping|"
    r"as\s+seen\s+on\s+tik\s*tok|going\s+viral|limited\s+time)\b"
)
_UNITS = (
    r"pack|packs|pk|pcs|pc|pieces?|count|ct|ml|millilit(?:er|re)s?|l|lit(?:er|re)s?|oz|fl\s*oz|g|grams?|kg|lbs?|"
    r"in|inch|inches|cm|mm|ft|qt|w|watts?|mah|v|volts?|blades?|speeds?|colou?rs?|modes?|layers?|sets?|units?|"
    r"sheets?|capsules?|tablets?|servings?|x"
)
_SPEC = re.compile(rf"\b\d+(?:[.,]\d+)?\s*-?\s*(?:{_UNITS})\b")
_TOKEN = re.compile(r"[^\W_]+")
_FILLER_TOKENS = frozenset(
    "viral trending trend tiktok tiktokshop amazon hot sale deal deals official original authentic genuine "
    "premium edition version gift gifts idea ideas".split()
)
_STOP = frozenset(
    "a an the and or for with without of to in on at by from my your our this that it its is are be "
    "you me we i so very just".split()
)
# Head nouns that make a title an accessory of another product ("blender" vs "blender replacement blades").
ACCESSORY_NOUNS = frozenset(
    "blade replacement case cover refill charger cable strap stand part holder mount lid filter adapter "
    "protector sleeve pouch nozzle attachment accessory spare".split()
)


def _stem(tok: str) -> str:
    """Very light plural folding so "blades"/"blade" and "masks"/"mask" compare equal."""
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        return tok[:-1]
    return tok


# one pass: hashtags/mentions, then filler phrases, then specs (alternation order matters: "2026 new")
_STRIP = re.compile(f"{_HASHTAG.pattern}|{_FILLER_PHRASES.pattern}|{_SPEC.pattern}")
_DROP = _STOP | _FILLER_TOKENS


@lru_cache(maxsize=1 << 18)
def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised, de-duplicated tokens of a title, in first-seen order: case, emoji, punctuation,
    hashtags, pack sizes/units and marketing filler removed (§3.2)."""
    seen: dict[str, None] = {}
    for raw in _TOKEN.findall(_STRIP.sub(" ", unicodedata.normalize("NFKC", title).casefold())):
        if len(raw) < 2 or raw in _DROP or raw.isdigit():
            continue
        if len(raw) > 3 and raw[-1] == "s" and not raw.endswith(("ss", "us", "is")):
            raw = raw[:-1]  # light plural folding, as _stem
        seen[raw] = None
    return tuple(seen)


def normalise_title(title: str) -> str:
    return " ".join(title_tokens(title))


_CATEGORY_BUCKETS: dict[str, frozenset[str]] = {
    # Amazon's own top level is "Home & Kitchen", and shops file kitchen gadgets under "Home Supplies":
    # home and kitchen are one bucket.
    "home_kitchen": frozenset(
        "home kitchen kitchenware dining cookware appliance appliances cooking bakeware household garden "
        "furniture decor bedding bath lighting storage supplies".split()
    ),
    "beauty": frozenset("beauty skincare makeup cosmetics cosmetic hair fragrance nail nails".split()),
    "health": frozenset("health wellness supplement supplements vitamin vitamins household".split()),
    "fashion": frozenset("fashion clothing apparel shoes jewelry jewellery womenswear menswear".split()),
    "electronics": frozenset("electronics electronic computer computers phone phones gadgets tech audio camera".split()),
    "sports": frozenset("sports sport outdoors outdoor fitness exercise".split()),
    "toys": frozenset("toys toy games baby kids".split()),
    "pets": frozenset("pet pets dog dogs cat cats".split()),
    "food": frozenset("food grocery groceries snacks beverages drinks gourmet".split()),
}
_CATEGORY_NOISE = re.compile(r"amazon|best\s+sellers?|movers?\s*(?:&|and)\s*shakers?|\bbest\b|:")


@lru_cache(maxsize=4096)
def category_buckets(category: str | None) -> frozenset[str]:
    """The coarse buckets a category's words fall in (empty = unknown). Sources name categories
    differently ("Amazon Best Sellers: Best Kitchen & Dining" vs "Home Supplies"), so a fuzzy merge is
    only blocked when both categories are recognised and share no bucket."""
    if not category:
        return frozenset()
    found: set[str] = set()
    for w in _TOKEN.findall(_CATEGORY_NOISE.sub(" ", category.casefold())):
        for bucket, vocab in _CATEGORY_BUCKETS.items():
            if w in vocab or any(w.startswith(v) for v in vocab if len(v) >= 5):
                found.add(bucket)
    return frozenset(found)


_BRAND_NOISE = frozenset("official store shop inc llc ltd co company brand the".split())


@lru_cache(maxsize=1 << 16)
def normalise_brand(brand: str | None) -> str | None:
    if not brand:
        return None
    toks = [t for t in _TOKEN.findall(unicodedata.normalize("NFKC", brand).casefold()) if t not in _BRAND_NOISE]
    return "".join(toks) or None


_ASIN_PATH = re.compile(r"/(?:dp|gp/product|gp/aw/d|product)/([A-Z0-9]{10})(?:[/?]|$)", re.I)
_TT_PRODUCT = re.compile(r"/(?:view/product|product|pdp(?:/[^/]+)?)/(\d{6,})(?:[/?]|$)")


@lru_cache(maxsize=1 << 16)
def link_ids(url: str) -> tuple[str, ...]:
    """Canonical ids a link resolves to: an Amazon /dp/<ASIN> → "asin:<ASIN>", a TikTok Shop product
    page → "tiktok_product:<id>". Other links give nothing (they never join clusters)."""
    if "amazon" not in url and "tiktok" not in url:
        return ()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ()
    host = (parts.hostname or "").lower()
    if host.startswith("amazon.") or ".amazon." in host:
        m = _ASIN_PATH.search(parts.path)
        if m:
            return (f"asin:{m.group(1).upper()}",)
        asin = parse_qs(parts.query).get("asin")
        if asin and re.fullmatch(r"[A-Za-z0-9]{10}", asin[0]):
            return (f"asin:{asin[0].upper()}",)
        return ()
    if host.endswith("tiktok.com") or host.endswith("tiktokshop.com"):
        m = _TT_PRODUCT.search(parts.path)
        if m:
            return (f"tiktok_product:{m.group(1)}",)
    return ()


def item_ids(item: TrendItem) -> set[str]:
    """The item's own canonical ids plus those derived from its outbound links."""
    ids = {c for c in item.canonical_ids if c}
    for link in item.links:
        ids.update(link_ids(link))
    return ids


def _is_product_url(url: str) -> int:
    """0 for Amazon product pages, 1 for TikTok Shop product pages, 2 otherwise (sort key)."""
    ids = link_ids(url)
    if not ids:
        return 2
    return 0 if ids[0].startswith("asin:") else 1


# --------------------------------------------------------------------------------------
# Clustering (§3)
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Meta:
    """What a cluster root knows for cluster-level guards, so chains of pairwise merges can't
    join two known brands, two different categories, or prices outside the band."""

    brands: set[str] = field(default_factory=set)
    buckets: set[str] = field(default_factory=set)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)  # currency ("?" unknown) → (min, max)


def _price_ok(a: dict[str, tuple[float, float]], b: dict[str, tuple[float, float]], band: float) -> bool:
    for ca, (lo_a, hi_a) in a.items():
        for cb, (lo_b, hi_b) in b.items():
            if ca != cb and ca != "?" and cb != "?":
                continue  # different known currencies are not comparable
            lo, hi = min(lo_a, lo_b), max(hi_a, hi_b)
            if hi > lo * (1 + band) + 1e-9:
                return False
    return True


def _compatible(a: _Meta, b: _Meta, band: float) -> bool:
    if a.brands and b.brands and a.brands.isdisjoint(b.brands):
        return False
    if a.buckets and b.buckets and a.buckets.isdisjoint(b.buckets):
        return False
    return _price_ok(a.prices, b.prices, band)


def _merge_meta(into: _Meta, other: _Meta) -> None:
    into.brands |= other.brands
    into.buckets |= other.buckets
    for cur, (lo, hi) in other.prices.items():
        if cur in into.prices:
            lo0, hi0 = into.prices[cur]
            into.prices[cur] = (min(lo, lo0), max(hi, hi0))
        else:
            into.prices[cur] = (lo, hi)


def _item_meta(item: TrendItem) -> _Meta:
    meta = _Meta()
    brand = normalise_brand(item.brand)
    if brand:
        meta.brands.add(brand)
    meta.buckets |= category_buckets(item.category)
    if item.price is not None:
        price = float(item.price)
        if price > 0 and math.isfinite(price):
            meta.prices[(item.currency or "?").upper()] = (price, price)
    return meta


class _UnionFind:
    """Union-find whose roots carry a `_Meta`, built lazily (most items never take part in a fuzzy merge)."""

    __slots__ = ("parent", "meta", "items")

    def __init__(self, items: list[TrendItem]) -> None:
        self.parent = list(range(len(items)))
        self.meta: list[_Meta | None] = [None] * len(items)
        self.items = items

    def get_meta(self, root: int) -> _Meta:
        m = self.meta[root]
        if m is None:
            m = self.meta[root] = _item_meta(self.items[root])
        return m

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if rb < ra:
            ra, rb = rb, ra  # the smaller index stays root: deterministic
        self.parent[rb] = ra
        _merge_meta(self.get_meta(ra), self.get_meta(rb))
        return ra


def _sorted_unique(items: Iterable[TrendItem]) -> list[TrendItem]:
    """Items in key order, one per key (the latest observation wins). Sorting makes every later
    step independent of input order."""
    by_key: dict[str, TrendItem] = {}
    for it in items:
        cur = by_key.get(it.key)
        if cur is None or it.observed_at > cur.observed_at:
            by_key[it.key] = it
    return [by_key[k] for k in sorted(by_key)]


def cluster(items: Sequence[TrendItem], config: RankConfig | None = None) -> list[list[TrendItem]]:
    """Group items that are the same product: shared canonical ids (own or from links) first, then
    guarded fuzzy titles. Output order is deterministic (clusters by smallest item key, items by key)."""
    config = config or RankConfig()
    its = _sorted_unique(items)
    n = len(its)
    uf = _UnionFind(its)

    # 1) canonical ids: unconditional (an ASIN is an ASIN, whatever the titles say)
    first_with: dict[str, int] = {}
    for i, it in enumerate(its):
        for cid in item_ids(it):
            j = first_with.setdefault(cid, i)
            if j != i:
                uf.union(j, i)

    # 2) guarded fuzzy titles, blocked by rare tokens
    toks = [title_tokens(it.title) for it in its]
    norms = [" ".join(t) for t in toks]
    tsets = [frozenset(t) for t in toks]
    postings: dict[str, set[int]] = defaultdict(set)
    for i, ts in enumerate(toks):
        if len(ts) >= config.min_shared_tokens:
            for t in ts:
                postings[t].add(i)
    df = {t: len(p) for t, p in postings.items()}
    # global rarity order; tokens seen once can never be shared, so they sort last and are dropped
    order = {t: (k if df[t] > 1 else n + k) for k, t in enumerate(sorted(df, key=lambda t: (df[t], t)))}
    rare3: list[tuple[str, ...]] = []
    pair_index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, ti in enumerate(toks):
        r = tuple(t for t in sorted(ti, key=order.__getitem__)[:3] if df.get(t, 0) > 1) if len(ti) >= 2 else ()
        rare3.append(r)
        for a_, b_ in ((0, 1), (0, 2), (1, 2)):
            if b_ < len(r):
                pair_index[(r[a_], r[b_])].append(i)
    dense_cache: dict[tuple[str, ...], set[int]] = {}
    cap = config.block_cap
    dense_df = 20 * cap  # a token this common says little on its own
    threshold = config.fuzzy_threshold
    need = config.min_shared_tokens
    band = config.price_band

    extract = process.extract
    scorer = fuzz.token_set_ratio
    for i in range(n):
        rare = rare3[i]
        if len(rare) < 2:
            continue
        # Blocking, all in C set operations:
        # - containment: candidates holding this title's two rarest tokens (a longer title that
        #   contains this one always qualifies);
        # - one word different either way: titles whose own 3 rarest tokens share a pair with ours
        #   (adding one word to a title pushes at most one token out of its 3 rarest). That relation
        #   is symmetric, so only later items are taken from it: each pair is scored once.
        # When even the rarest token is very common, require all three rarest instead.
        if df[rare[0]] > dense_df:
            found = dense_cache.get(rare)
            if found is None:
                found = dense_cache[rare] = postings[rare[0]].intersection(*(postings[t] for t in rare[1:]))
            found = set(found)
        else:
            found = postings[rare[0]] & postings[rare[1]]
        for a_, b_ in ((0, 1), (0, 2), (1, 2)):
            if b_ < len(rare):
                bucket = pair_index[(rare[a_], rare[b_])]
                if len(bucket) <= dense_df:
                    found.update(bucket[bisect_right(bucket, i) :])
        found.discard(i)
        if not found:
            continue
        # hits are applied in index order below, so only truncation needs a sorted list
        cands = list(found) if len(found) <= cap else sorted(found)[:cap]  # dense block: deterministic cut
        hits = extract(
            norms[i], [norms[j] for j in cands], scorer=scorer, processor=None, score_cutoff=threshold, limit=None
        )
        if not hits:
            continue
        si = tsets[i]
        for j in sorted(cands[h[2]] for h in hits):
            sj = tsets[j]
            if len(si & sj) < need or (si ^ sj) & ACCESSORY_NOUNS:
                continue  # too little in common, or one is an accessory/part of the other
            ri, rj = uf.find(i), uf.find(j)
            if ri != rj and _compatible(uf.get_meta(ri), uf.get_meta(rj), band):
                uf.union(ri, rj)

    groups: dict[int, list[TrendItem]] = defaultdict(list)
    for i, it in enumerate(its):
        groups[uf.find(i)].append(it)
    return [groups[r] for r in sorted(groups)]


# --------------------------------------------------------------------------------------
# Fusion (§4)
# --------------------------------------------------------------------------------------


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _age_h(item: TrendItem, now: datetime) -> float:
    when = item.published_at or item.observed_at
    return max(0.0, (now - _aware(when)).total_seconds() / 3600.0)


def cluster_id_for(items: Sequence[TrendItem]) -> str:
    """Stable across runs: the smallest "asin:" id, else the smallest canonical id, else a hash of the
    smallest normalised title (with brand and category bucket, so guarded-apart twins differ)."""
    ids: set[str] = set()
    for it in items:
        ids |= item_ids(it)
    asins = [i for i in ids if i.startswith("asin:")]
    if asins:
        return min(asins)
    if ids:
        return min(ids)
    basis = min(
        (normalise_title(it.title), normalise_brand(it.brand) or "", ",".join(sorted(category_buckets(it.category))))
        for it in items
    )
    digest = hashlib.sha1("|".join(basis).encode()).hexdigest()[:16]
    return f"title:{digest}"


_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3]+")


def _clean_title(title: str) -> str:
    """The title as a reader should see it: no hashtags, no emoji, single spaces."""
    t = _EMOJI.sub(" ", _HASHTAG.sub(" ", unicodedata.normalize("NFKC", title)))
    return " ".join(t.split())


def representative_title(items: Sequence[TrendItem]) -> str:
    """Prefer a product name (Amazon, then TikTok Shop), else the shortest clean title."""
    for pref in ("amazon", "tiktok_shop"):
        names = [c for it in items if it.source == pref and (c := _clean_title(it.title))]
        if names:
            return min(names, key=lambda c: (len(c), c))
    names = [c for it in items if (c := _clean_title(it.title))]
    if names:
        return min(names, key=lambda c: (len(c), c))
    return items[0].title if items else ""


def canonical_urls(items: Sequence[TrendItem]) -> list[str]:
    """Every item's canonical URL plus outbound links that resolve to a product; product pages first.
    Other outbound links (link-in-bio pages and the like) are left out: copy may only cite these."""
    urls = {it.url for it in items if it.url}
    for it in items:
        urls.update(link for link in it.links if link_ids(link))
    return sorted(urls, key=lambda u: (_is_product_url(u), u))


def fuse(
    cluster_items: Sequence[TrendItem],
    pct: Mapping[str, tuple[float, int]],
    config: RankConfig,
    now: datetime,
) -> Trend:
    """One `Trend` for a cluster: best item per source, decay, renormalised weighted mean, capped
    bonus over independent sources, label and flags. Items missing from `pct` are carried but not scored."""
    now = _aware(now)
    by_source: dict[str, list[TrendItem]] = defaultdict(list)
    for it in cluster_items:
        by_source[it.source].append(it)

    evidence: list[SourceEvidence] = []
    best_items: list[TrendItem] = []
    strength: list[float] = []
    num = den = 0.0
    for source in sorted(by_source):
        members = by_source[source]
        scored = [it for it in members if it.signals is not None and it.key in pct]
        if not scored:
            continue
        best = max(scored, key=lambda it: (it.signals.eligible, pct[it.key][0], it.key))  # type: ignore[union-attr]
        p, n_source = pct[best.key]
        thin = n_source < config.thin_n
        w = config.weight(source) * (config.thin_weight if thin else 1.0)
        h = config.half_life(source)
        age = _age_h(best, now)
        d = 2.0 ** (-age / h)
        num += w * p * d
        den += w
        evidence.append(
            SourceEvidence(
                source=source,
                item_keys=sorted(it.key for it in members),
                best_key=best.key,
                s=best.signals.s,  # type: ignore[union-attr]
                p=p,
                n_source=n_source,
                weight=w,
                age_h=age,
                half_life_h=h,
                decay=d,
                thin=thin,
            )
        )
        best_items.append(best)
        strength.append(w * p * d)

    weighted_mean = num / den if den > 0 else 0.0
    independent = len({_INDEPENDENCE_GROUP.get(e.source, e.source) for e in evidence})
    bonus = min(config.beta * max(independent - 1, 0), config.beta_max)
    score = weighted_mean + bonus

    label = _label(evidence, best_items, strength, config)
    flags: list[str] = []
    if independent <= 1:
        flags.append("single_source")
    best_flags = {f for it in best_items for f in it.signals.flags}  # type: ignore[union-attr]
    if "too_recent" in best_flags:
        flags.append("too_recent")
    if any(e.thin for e in evidence):
        flags.append("thin")
    if "estimate" in best_flags:
        flags.append("estimate")
    if not any(it.signals is not None and it.signals.eligible for it in cluster_items):
        flags.append("ineligible")

    items_sorted = sorted(cluster_items, key=lambda it: it.key)
    category = next((it.category for it in items_sorted if it.source == "amazon" and it.category), None) or next(
        (it.category for it in items_sorted if it.category), None
    )
    return Trend(
        cluster_id=cluster_id_for(items_sorted),
        rank=0,
        title=representative_title(items_sorted),
        canonical_urls=canonical_urls(items_sorted),
        category=category,
        items=items_sorted,
        evidence=evidence,
        independent_sources=independent,
        weighted_mean=weighted_mean,
        bonus=bonus,
        score=score,
        label=label,
        flags=flags,
    )


def _label(
    evidence: list[SourceEvidence], best_items: list[TrendItem], strength: list[float], config: RankConfig
) -> str:
    """breakout: a best item flagged "breakout" or with a ~zero baseline; climbing: a best item with
    velocity > 0 that is not too recent; peaked: the strongest evidence is older than 2 half-lives;
    else steady."""
    sigs = [it.signals for it in best_items if it.signals is not None]
    if any(
        "breakout" in s.flags or (s.baseline is not None and s.baseline <= config.breakout_baseline) for s in sigs
    ):
        return "breakout"
    if any(s.velocity is not None and s.velocity > 0 and "too_recent" not in s.flags for s in sigs):
        return "climbing"
    if evidence:
        k = max(range(len(evidence)), key=lambda i: (strength[i], evidence[i].source))
        if evidence[k].age_h > 2 * evidence[k].half_life_h:
            return "peaked"
    return "steady"


# --------------------------------------------------------------------------------------
# Ranking with caps and featured demotion (§5)
# --------------------------------------------------------------------------------------


def cluster_keys(trend: Trend) -> list[str]:
    """Keys to remember what was featured: the cluster id, every canonical id (own or from links), and
    the item key of items with no canonical id. Stable across runs for the same product."""
    keys: set[str] = set()
    for it in trend.items:
        ids = item_ids(it)
        keys |= ids if ids else {it.key}
    keys.discard(trend.cluster_id)
    return [trend.cluster_id, *sorted(keys)]


def _strongest_source(trend: Trend) -> str:
    if not trend.evidence:
        return ""
    best = max(trend.evidence, key=lambda e: (e.weight * e.p * e.decay, e.source))
    return best.source


def rank_with_stats(
    items: Iterable[TrendItem],
    config: RankConfig | None = None,
    now: datetime | None = None,
    featured: Mapping[str, tuple[datetime, float, str]] | None = None,
) -> RankResult:
    """`rank`, plus counts of the items left out (no signals, non-finite `s`, duplicate key)."""
    # Ranking allocates ~10 objects per item and frees none of them until the end, which makes the
    # cyclic GC rescan the whole heap again and again (superlinear at 100k items). Nothing here
    # builds reference cycles, so pause it for the duration.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _rank(items, config, now, featured)
    finally:
        if was_enabled:
            gc.enable()


def _rank(
    items: Iterable[TrendItem],
    config: RankConfig | None,
    now: datetime | None,
    featured: Mapping[str, tuple[datetime, float, str]] | None,
) -> RankResult:
    config = config or RankConfig()
    now = _aware(now or datetime.now(UTC))
    skipped: Counter[str] = Counter()
    valid: list[TrendItem] = []
    seen_keys: dict[str, int] = {}
    for it in items:
        sig = it.signals
        if sig is None:
            skipped["no_signals"] += 1
            continue
        if not math.isfinite(sig.s):
            skipped["non_finite_s"] += 1
            continue
        valid.append(it)
        seen_keys[it.key] = seen_keys.get(it.key, 0) + 1
    dupes = sum(c - 1 for c in seen_keys.values())
    if dupes:
        skipped["duplicate_key"] += dupes  # the latest observation of a key is kept
    unique = _sorted_unique(valid)

    pct = percentiles(unique)
    trends = [fuse(c, pct, config, now) for c in cluster(unique, config)]
    _dedupe_cluster_ids(trends)

    featured = featured or {}
    demoted: set[int] = set()
    for idx, t in enumerate(trends):
        hits = [featured[k] for k in cluster_keys(t) if k in featured]
        if not hits:
            continue
        t.flags.append("featured_before")
        then = max(h[1] for h in hits)
        if t.score > then * (1 + config.featured_growth):
            t.flags.append("featured_grew")
        else:
            demoted.add(idx)

    order = sorted(
        range(len(trends)),
        key=lambda i: (i in demoted, -trends[i].score, -trends[i].independent_sources, trends[i].cluster_id),
    )
    cap = config.per_source_cap
    per_source: Counter[str] = Counter()
    top: list[Trend] = []
    rest: list[Trend] = []
    for i in order:
        t = trends[i]
        if len(top) < config.top_n and "ineligible" not in t.flags:
            src = _strongest_source(t)
            if per_source[src] < cap:
                per_source[src] += 1
                top.append(t)
                continue
            t.flags.append("capped")  # kept out of the top N only by its strongest source's cap
        rest.append(t)
    ranked = top + rest
    for r, t in enumerate(ranked, start=1):
        t.rank = r
    if skipped:
        log.info("ranking skipped %s", dict(skipped))
    return RankResult(trends=ranked, top_count=len(top), skipped=dict(skipped))


def rank(
    items: Iterable[TrendItem],
    config: RankConfig | None = None,
    now: datetime | None = None,
    featured: Mapping[str, tuple[datetime, float, str]] | None = None,
) -> list[Trend]:
    """All trends, ranked: the capped top N first (ranks 1..N), then the rest in score order.

    Caps are strict: when too few sources are present to fill N slots, the top holds fewer than N
    and the trends kept out by a cap carry the flag "capped" (`rank_with_stats().top_count` says
    how many made the top).

    `featured` maps cluster keys (see `cluster_keys`) to (featured_at, score then, issue id) for the
    caller's look-back window; those trends sink below unfeatured ones unless their score grew.
    """
    return rank_with_stats(items, config, now, featured).trends


def _dedupe_cluster_ids(trends: list[Trend]) -> None:
    """Title-hash ids can collide for clusters kept apart by guards; suffix the later ones (~2, ~3…)."""
    counts: Counter[str] = Counter()
    for t in trends:  # clusters arrive ordered by smallest item key: deterministic suffixes
        counts[t.cluster_id] += 1
        if counts[t.cluster_id] > 1:
            t.cluster_id = f"{t.cluster_id}~{counts[t.cluster_id]}"
