"""Fair cross-source ranking: percentiles → clusters → fused score → caps (reference trends_scoring.md §2–§6).

Pure functions, no I/O. Raw `s` is only ever compared within one source (§6): each source's
items become within-run percentiles, products seen by several sources are merged into one
cluster, and the fused score averages the present sources (renormalised) plus a capped
corroboration bonus. Every component stays on the resulting `Trend` so copy can cite it.

Speed (100k items in about 4–5 s on 2 cores): clustering is blocked on rare title tokens (no
all-pairs), scoring runs in rapidfuzz's C code, fusion works on plain data, and each `Trend` is
validated exactly once, after ordering. Deterministic: items are processed in key order, so shuffled input
gives identical output.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import re
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field, field_validator
from rapidfuzz import fuzz, process

from .models import Signals, SourceEvidence, Trend, TrendItem

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
    # Age of an item with no publish time: the midpoint of its measurement window (Amazon's lists
    # cover the last 24 h, shop analytics the last 7 days). Without it such items never decay and
    # crowd out sources whose items carry a timestamp.
    undated_age_h: dict[str, float] = Field(default_factory=lambda: {"amazon": 12.0, "tiktok_shop": 84.0})
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
    # Blocking (keeps clustering near-linear): at most this many fuzzy candidates per item; a title
    # whose rarest shared token is in more titles than this is "generic" and is not matched against
    # every longer title containing it; crowded token pairs are followed block_cap // 5 items deep.
    block_cap: int = Field(100, ge=5)
    featured_growth: float = Field(0.10, ge=0)  # a featured trend is not demoted if S grew by more than this
    breakout_baseline: float = Field(1e-6, ge=0)  # a baseline at or below this is "zero": label breakout
    # A source whose best item is below its own median (p < this) is not evidence of a trend: it stays
    # listed as provenance but is left out of the fused mean and the bonus, so a weak mention can never
    # lower a product's score (unless no source reaches it, then all count).
    min_evidence_p: float = Field(0.5, ge=0, le=1)

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

    Items without signals or with a non-finite `s` are not part of any population; a key seen twice
    counts once, at its latest observation (as in `rank`).
    """
    keys, its = _sorted_unique(items)
    return {k: pn for k, pn in zip(keys, _percentiles_at(its)) if pn is not None}


def _first(row: tuple[float, int]) -> float:
    return row[0]


def _percentiles_at(its: Sequence[TrendItem]) -> list[tuple[float, int] | None]:
    """`percentiles` by position in `its` (None: not scored); equal `s` keep their order in `its`."""
    by_source: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for i, it in enumerate(its):
        sig = it.signals
        if sig is None or not math.isfinite(sig.s):
            continue
        by_source[it.source].append((sig.s, i))
    out: list[tuple[float, int] | None] = [None] * len(its)
    for rows in by_source.values():
        rows.sort(key=_first)  # by s only; stable, so equal s keep their input order
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
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")  # _TOKEN on lower-case ASCII text, several times faster
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


# one pass: hashtags/mentions, then filler phrases, then specs (alternation order matters: "2026 new")
_STRIP = re.compile(f"{_HASHTAG.pattern}|{_FILLER_PHRASES.pattern}|{_SPEC.pattern}")
_DROP = _STOP | _FILLER_TOKENS


@lru_cache(maxsize=1 << 18)
def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised, de-duplicated tokens of a title, in first-seen order: case, emoji, punctuation,
    hashtags, pack sizes/units and marketing filler removed (§3.2)."""
    seen: dict[str, None] = {}
    text = _STRIP.sub(" ", unicodedata.normalize("NFKC", title).casefold())
    for raw in (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text):
        if len(raw) < 2 or raw in _DROP or raw.isdigit():
            continue
        if len(raw) > 3 and raw[-1] == "s" and not raw.endswith(("ss", "us", "is")):
            raw = raw[:-1]  # light plural folding: "blades"/"blade", "masks"/"mask"
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
    "electronics": frozenset(
        "electronics electronic computer computers phone phones gadgets tech audio camera".split()
    ),
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


@lru_cache(maxsize=1 << 18)
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
    if not item.links:
        return set(item.canonical_ids).difference(("",))
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


def _sorted_unique(
    items: Iterable[TrendItem], skipped: Counter[str] | None = None
) -> tuple[list[str], list[TrendItem]]:
    """(keys, items) in key order, one item per key: the latest observation wins, and each other
    one is counted in `skipped["duplicate_key"]`. Key order makes every later step independent of
    input order."""
    by_key: dict[str, TrendItem] = {}
    for it in items:
        k = it.key
        cur = by_key.get(k)
        if cur is not None and skipped is not None:
            skipped["duplicate_key"] += 1
        if cur is None or it.observed_at > cur.observed_at:
            by_key[k] = it
    keys = sorted(by_key)
    return keys, [by_key[k] for k in keys]


def _scored(items: Iterable[TrendItem], skipped: Counter[str]) -> Iterable[TrendItem]:
    """The items ranking can place; the others are counted in `skipped` by reason."""
    for it in items:
        sig = it.signals
        if sig is None:
            skipped["no_signals"] += 1
        elif not math.isfinite(sig.s):
            skipped["non_finite_s"] += 1
        else:
            yield it


def cluster(items: Sequence[TrendItem], config: RankConfig | None = None) -> list[list[TrendItem]]:
    """Group items that are the same product: shared canonical ids (own or from links) first, then
    guarded fuzzy titles. Output order is deterministic (clusters by smallest item key, items by key)."""
    _, its = _sorted_unique(items)
    return [[its[i] for i in members] for members, _ in _cluster_sorted(its, config or RankConfig())]


def _cluster_sorted(its: list[TrendItem], config: RankConfig) -> list[tuple[list[int], set[str]]]:
    """`cluster` on items already in key order with unique keys, as positions in `its` (ascending);
    each cluster comes with the union of its items' canonical ids (so fusion need not derive them again)."""
    n = len(its)
    uf = _UnionFind(its)

    # 1) canonical ids: unconditional (an ASIN is an ASIN, whatever the titles say)
    first_with: dict[str, int] = {}
    ids_of = [item_ids(it) for it in its]
    for i, ids in enumerate(ids_of):
        for cid in ids:
            j = first_with.setdefault(cid, i)
            if j != i:
                uf.union(j, i)

    # 2) guarded fuzzy titles, blocked by rare tokens
    need = config.min_shared_tokens
    toks = [title_tokens(it.title) for it in its]
    norms = [" ".join(t) for t in toks]
    df = Counter(chain.from_iterable(ts for ts in toks if len(ts) >= need))
    # Only tokens seen at least twice can be shared; they get ids by rarity (df, then text), so a
    # title's rarest tokens are its smallest ids and postings are a list indexed by id.
    shared = sorted((t for t, c in df.items() if c > 1), key=lambda t: (df[t], t))
    tid = {t: k for k, t in enumerate(shared)}
    df_of = [df[t] for t in shared]
    postings: list[set[int]] = [set() for _ in shared]
    rare3: list[tuple[int, ...]] = []
    pair_first: dict[tuple[int, int], int] = {}
    pair_index: dict[tuple[int, int], list[int]] = {}  # pairs held by 2+ titles
    for i, ti in enumerate(toks):
        if len(ti) < need:
            rare3.append(())
            continue
        tok_ids = sorted([k for t in ti if (k := tid.get(t)) is not None])
        for k in tok_ids:
            postings[k].add(i)
        r = tuple(tok_ids[:3])
        rare3.append(r)
        for a_, b_ in ((0, 1), (0, 2), (1, 2)):
            if b_ < len(r):
                pair = (r[a_], r[b_])
                first = pair_first.setdefault(pair, i)
                if first != i:
                    bucket = pair_index.get(pair)
                    if bucket is None:
                        pair_index[pair] = [first, i]
                    else:
                        bucket.append(i)
    cap = config.block_cap
    generic_df = cap  # a rarest token more common than this makes a generic title
    window = max(1, cap // 5)  # how far into a crowded pair bucket to look
    threshold = config.fuzzy_threshold
    band = config.price_band

    extract = process.extract
    scorer = fuzz.token_set_ratio
    for i in range(n):
        rare = rare3[i]
        if len(rare) < 2:
            continue
        # Blocking, in C set operations, two ways:
        # - containment: titles holding our two rarest tokens (a longer title that contains this
        #   one always qualifies). Skipped when even our rarest token is common: a generic title
        #   ("portable blender") is contained in hundreds of others, and merging it with all of them
        #   is the "broad topic wins on volume" failure (§3.5) — and the costly part at scale;
        # - one word different either way: titles whose own 3 rarest tokens share a pair with ours
        #   (adding one word to a title pushes at most one token out of its 3 rarest). That relation
        #   is symmetric, so only later items are taken from it: each pair is scored once.
        found = postings[rare[0]] & postings[rare[1]] if df_of[rare[0]] <= generic_df else set()
        for a_, b_ in ((0, 1), (0, 2), (1, 2)):
            if b_ < len(rare):
                bucket = pair_index.get((rare[a_], rare[b_]))
                if bucket is not None:
                    start = bisect_right(bucket, i)
                    found.update(bucket[start : start + window])  # a crowded pair: the next few items only
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
        si = frozenset(toks[i])
        for j in sorted(cands[h[2]] for h in hits):
            sj = frozenset(toks[j])
            if len(si & sj) < need or (si ^ sj) & ACCESSORY_NOUNS:
                continue  # too little in common, or one is an accessory/part of the other
            ri, rj = uf.find(i), uf.find(j)
            if ri != rj and _compatible(uf.get_meta(ri), uf.get_meta(rj), band):
                uf.union(ri, rj)

    groups: dict[int, tuple[list[int], set[str]]] = {}
    for i in range(n):
        root = uf.find(i)
        g = groups.get(root)
        if g is None:
            groups[root] = ([i], ids_of[i])
        else:
            g[0].append(i)
            g[1].update(ids_of[i])
    return [groups[root] for root in sorted(groups)]


# --------------------------------------------------------------------------------------
# Fusion (§4)
# --------------------------------------------------------------------------------------


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _age_h(item: TrendItem, now: datetime, undated_age_h: Mapping[str, float]) -> float:
    if item.published_at is None:
        since_observed = max(0.0, (now - _aware(item.observed_at)).total_seconds() / 3600.0)
        return since_observed + undated_age_h.get(item.source, 0.0)
    return max(0.0, (now - _aware(item.published_at)).total_seconds() / 3600.0)


def cluster_id_for(items: Sequence[TrendItem], ids: set[str] | None = None) -> str:
    """Stable across runs: the smallest "asin:" id, else the smallest canonical id, else a hash of the
    smallest normalised title (with brand and category bucket, so guarded-apart twins differ).
    `ids`: the items' canonical ids when the caller already has them."""
    if ids is None:
        ids = set()
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
    if title.isascii() and "#" not in title and "@" not in title:
        return " ".join(title.split())
    t = _EMOJI.sub(" ", _HASHTAG.sub(" ", unicodedata.normalize("NFKC", title)))
    return " ".join(t.split())


def representative_title(items: Sequence[TrendItem]) -> str:
    """Prefer a product name (Amazon, then TikTok Shop), else the shortest clean title."""
    if len(items) == 1:
        return _clean_title(items[0].title) or items[0].title
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
    if len(items) == 1 and not items[0].links:
        return [items[0].url] if items[0].url else []
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
    its = sorted(cluster_items, key=_item_key)
    keys = [it.key for it in its]
    pct_at = [pct.get(k) for k in keys]
    return Trend(**_fuse_fields(its, keys, pct_at, range(len(its)), config, _aware(now)))


def _fuse_fields(
    its: Sequence[TrendItem],
    keys: Sequence[str],
    pct_at: Sequence[tuple[float, int] | None],
    members: Iterable[int],
    config: RankConfig,
    now: datetime,
    ids: set[str] | None = None,
) -> dict[str, Any]:
    """`fuse` as plain data, for the cluster `members` (ascending positions in `its`, which is in key
    order; `keys` and `pct_at` are by the same positions). rank builds each Trend once, after ordering.
    Key "strongest" is the source whose evidence has the largest w·p·d — the one a per-source cap
    charges; not a Trend field."""
    items_sorted: list[TrendItem] = []
    by_source: dict[str, list[int]] = {}
    amazon_category = any_category = None
    for i in members:
        it = its[i]
        items_sorted.append(it)
        by_source.setdefault(it.source, []).append(i)
        if it.category:
            any_category = any_category or it.category
            if it.source == "amazon" and amazon_category is None:
                amazon_category = it.category

    # plain loops, not comprehensions: this runs once per cluster, 100k times at scale
    # per source: (source, its item keys, best item, its key, its signals, p, n_source)
    best_of: list[tuple[str, list[str], TrendItem, str, Signals, float, int]] = []
    eligible_any = False
    for source in sorted(by_source) if len(by_source) > 1 else by_source:
        positions = by_source[source]
        best = -1
        best_rank = (False, -1.0)
        best_sig: Signals | None = None
        best_pn = (0.0, 0)
        for i in positions:
            pn = pct_at[i]
            sig = its[i].signals
            if pn is None or sig is None:
                continue
            eligible_any = eligible_any or sig.eligible
            rank_it = (sig.eligible, pn[0])  # highest p among eligible, else highest p
            if best_sig is None or rank_it > best_rank:
                best, best_rank, best_sig, best_pn = i, rank_it, sig, pn
        if best_sig is not None:
            best_of.append((source, [keys[i] for i in positions], its[best], keys[best], best_sig, *best_pn))

    # A source below the evidence floor is provenance only, unless no source reaches it.
    use_floor = any(p >= config.min_evidence_p for *_, p, _n in best_of)
    evidence: list[SourceEvidence] = []
    best_sigs: list[Signals] = []
    groups: set[str] = set()
    strongest: int | None = None
    top_strength = -1.0
    num = den = 0.0
    any_thin = False
    for source, item_keys, best_item, best_key, sig, p, n_source in best_of:
        thin = n_source < config.thin_n
        any_thin = any_thin or thin
        w = config.weights.get(source, config.default_weight) * (config.thin_weight if thin else 1.0)
        h = config.half_life_h.get(source, config.default_half_life_h)
        age = _age_h(best_item, now, config.undated_age_h)
        d = 2.0 ** (-age / h)
        counted = not use_floor or p >= config.min_evidence_p
        if counted:
            num += w * p * d
            den += w
            groups.add(_INDEPENDENCE_GROUP.get(source, source))
            if w * p * d > top_strength:  # sources are visited in name order: ties go to the first
                strongest, top_strength = len(evidence), w * p * d
        evidence.append(
            SourceEvidence(
                source=source,
                item_keys=item_keys,
                best_key=best_key,
                s=sig.s,
                p=p,
                n_source=n_source,
                weight=w,
                age_h=age,
                half_life_h=h,
                decay=d,
                thin=thin,
                counted=counted,
            )
        )
        best_sigs.append(sig)
    weighted_mean = num / den if den > 0 else 0.0
    independent = len(groups)
    bonus = min(config.beta * max(independent - 1, 0), config.beta_max)

    flags: list[str] = []
    if independent <= 1:
        flags.append("single_source")
    too_recent = estimate = False
    for sig in best_sigs:
        too_recent = too_recent or "too_recent" in sig.flags
        estimate = estimate or "estimate" in sig.flags
    if too_recent:
        flags.append("too_recent")
    if any_thin:
        flags.append("thin")
    if estimate:
        flags.append("estimate")
    if not eligible_any:
        flags.append("ineligible")

    return {
        "cluster_id": cluster_id_for(items_sorted, ids),
        "rank": 0,
        "title": representative_title(items_sorted),
        "canonical_urls": canonical_urls(items_sorted),
        "category": amazon_category or any_category,
        "items": items_sorted,
        "evidence": evidence,
        "independent_sources": independent,
        "weighted_mean": weighted_mean,
        "bonus": bonus,
        "score": weighted_mean + bonus,
        "label": _label(evidence, best_sigs, strongest, config),
        "flags": flags,
        "strongest": evidence[strongest].source if strongest is not None else "",
    }


def _item_key(it: TrendItem) -> str:
    return it.key


def _label(evidence: list[SourceEvidence], sigs: list[Signals], strongest: int | None, config: RankConfig) -> str:
    """breakout: a best item flagged "breakout" or with a ~zero baseline; climbing: a best item with
    velocity > 0 that is not too recent; peaked: the strongest evidence is older than 2 half-lives;
    else steady."""
    climbing = False
    for s in sigs:
        if "breakout" in s.flags or (s.baseline is not None and s.baseline <= config.breakout_baseline):
            return "breakout"
        if s.velocity is not None and s.velocity > 0 and "too_recent" not in s.flags:
            climbing = True
    if climbing:
        return "climbing"
    if strongest is not None and evidence[strongest].age_h > 2 * evidence[strongest].half_life_h:
        return "peaked"
    return "steady"


# --------------------------------------------------------------------------------------
# Ranking with caps and featured demotion (§5)
# --------------------------------------------------------------------------------------


def cluster_keys(trend: Trend) -> list[str]:
    """Keys to remember what was featured: the cluster id, every canonical id (own or from links), and
    the item key of items with no canonical id. Stable across runs for the same product."""
    return _cluster_keys(trend.cluster_id, trend.items)


def _cluster_keys(cluster_id: str, items: Iterable[TrendItem]) -> list[str]:
    keys: set[str] = set()
    for it in items:
        ids = item_ids(it)
        keys |= ids if ids else {it.key}
    keys.discard(cluster_id)
    return [cluster_id, *sorted(keys)]


def rank_with_stats(
    items: Iterable[TrendItem],
    config: RankConfig | None = None,
    now: datetime | None = None,
    featured: Mapping[str, tuple[datetime, float, str]] | None = None,
) -> RankResult:
    """`rank`, plus counts of the items left out (no signals, non-finite `s`, duplicate key)."""
    # Ranking allocates ~10 objects per item and keeps most of them until the Trends are built, which
    # makes the cyclic GC rescan the whole heap again and again (superlinear at 100k items). Nothing here
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
    keys, unique = _sorted_unique(_scored(items, skipped), skipped)

    pct_at = _percentiles_at(unique)
    parts = [
        _fuse_fields(unique, keys, pct_at, members, config, now, ids)
        for members, ids in _cluster_sorted(unique, config)
    ]
    _dedupe_cluster_ids(parts)

    featured = featured or {}
    demoted: set[int] = set()
    for idx, f in enumerate(parts if featured else ()):
        hits = [featured[k] for k in _cluster_keys(f["cluster_id"], f["items"]) if k in featured]
        if not hits:
            continue
        f["flags"].append("featured_before")
        then = max(h[1] for h in hits)
        if f["score"] > then * (1 + config.featured_growth):
            f["flags"].append("featured_grew")
        else:
            demoted.add(idx)

    order = sorted(
        range(len(parts)),
        key=lambda i: (i in demoted, -parts[i]["score"], -parts[i]["independent_sources"], parts[i]["cluster_id"]),
    )
    cap = config.per_source_cap
    per_source: Counter[str] = Counter()
    top: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for i in order:
        f = parts[i]
        if len(top) < config.top_n and "ineligible" not in f["flags"]:
            src = f["strongest"]
            if per_source[src] < cap:
                per_source[src] += 1
                top.append(f)
                continue
            f["flags"].append("capped")  # kept out of the top N only by its strongest source's cap
        rest.append(f)
    top_count = len(top)
    pending = top + rest
    pending.reverse()
    del parts, top, rest  # each cluster's plain data is freed once its Trend exists, so Trends reuse that memory
    ranked: list[Trend] = []
    while pending:
        f = pending.pop()
        del f["strongest"]
        f["rank"] = len(ranked) + 1
        ranked.append(Trend(**f))
    if skipped:
        log.info("ranking skipped %s", dict(skipped))
    return RankResult(trends=ranked, top_count=top_count, skipped=dict(skipped))


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


def _dedupe_cluster_ids(parts: list[dict[str, Any]]) -> None:
    """Title-hash ids can collide for clusters kept apart by guards; suffix the later ones (~2, ~3…)."""
    counts: Counter[str] = Counter()
    for f in parts:  # clusters arrive ordered by smallest item key: deterministic suffixes
        cid = f["cluster_id"]
        counts[cid] += 1
        if counts[cid] > 1:
            f["cluster_id"] = f"{cid}~{counts[cid]}"
