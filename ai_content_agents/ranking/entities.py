"""Which items are the same product, and which products are the same story (trends_scoring §3).

Products, strictest first:
1. Canonical ids (ASINs, TikTok Shop product ids, from the item or a link in its text). A mention that
   links several different products (a roundup) joins none of them by link.
2. Brands decide identity. The run's brand vocabulary is learned from listing titles (Amazon and TikTok
   Shop titles lead with the brand: a first word that never appears later in another listing title and
   does not lead most of them). A caption, post or video title that names exactly one brand as a whole
   word *and* a word of that brand's listing type ("LED mask", "blender") joins that listing.
3. Guarded fuzzy titles last, only within one brand (or when neither side names one), never across two
   ASINs or two shop products, never across a category, a price band or two different head nouns.

Stories: listings whose product-type phrases share two words ("LED Face Mask" / "LED Face Mask - Red
Light…") form one topic; mentions that did not join a product join the topic whose type words they use
(two of them, or the topic's own head noun when no other topic has it). Topics are anchored to listings,
so generic words and platform names never become one. Everything is near-linear: blocking on rare
tokens for titles, token and token-pair indexes for brands and topics.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations

from rapidfuzz import fuzz, process

from ..models import TrendItem
from .text import (
    ACCESSORY_NOUNS,
    NON_TYPE_TOKENS,
    category_buckets,
    display_word,
    head_token,
    item_ids,
    normalise_brand,
    plural,
    stem,
    title_tokens,
    topic_tokens,
    type_phrase,
)

LISTING_ID_PREFIXES = ("asin:", "tiktok_product:")
_PRODUCT_ID_KINDS = LISTING_ID_PREFIXES


def is_listing(item: TrendItem) -> bool:
    """A product page (an Amazon row, a TikTok Shop product), not a post or video about one."""
    return item.source in ("amazon", "tiktok_shop") and bool(item.canonical_ids) and (
        item.canonical_ids[0].startswith(LISTING_ID_PREFIXES)
    )


@dataclass(frozen=True, slots=True)
class MatchConfig:
    fuzzy_threshold: float = 88.0
    price_band: float = 0.5
    min_shared_tokens: int = 2
    block_cap: int = 100


# --------------------------------------------------------------------------------------
# Brands
# --------------------------------------------------------------------------------------


MIN_LISTINGS_FOR_BRANDS = 10  # with fewer listings, "never appears later" says nothing: use brand fields only


def learn_brands(its: Sequence[TrendItem]) -> frozenset[str]:
    """Brand words of this run: the first title word of listings that never appears later in any
    listing title and leads at most a fifth of them ("LumaGlow" yes; "Portable", "Example" no).
    Learned only from runs with enough listings for "never later" to mean something."""
    first: Counter[str] = Counter()
    later: set[str] = set()
    n = 0
    for it in its:
        if not is_listing(it):
            continue
        toks = title_tokens(it.title)
        if not toks:
            continue
        n += 1
        first[toks[0]] += 1
        later.update(toks[1:])
    if n < MIN_LISTINGS_FOR_BRANDS:
        return frozenset()
    limit = max(3, n // 5)
    return frozenset(
        t
        for t, c in first.items()
        if c <= limit and t not in later and len(t) >= 3 and not t.isdigit() and t not in NON_TYPE_TOKENS
    )


def item_brands(item: TrendItem, vocab: frozenset[str]) -> frozenset[str]:
    """Brands an item is about: a listing's own brand (its field, else its leading brand word); for a
    mention, the brand field plus every brand word its title names."""
    toks = title_tokens(item.title)
    own = normalise_brand(item.brand)
    if is_listing(item):
        if own:
            return frozenset((own,))
        return frozenset((toks[0],)) if toks and toks[0] in vocab else frozenset()
    named = {t for t in toks if t in vocab}
    if own:
        named.add(own)
    return frozenset(named)


def listing_brand(item: TrendItem, vocab: frozenset[str]) -> str | None:
    """The brand word to drop from a listing title when reading its product type."""
    toks = title_tokens(item.title)
    return toks[0] if toks and toks[0] in vocab else None


# --------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Meta:
    """What a product root knows, so chains of pairwise merges can't join two brands, two ASINs, two
    categories or prices outside the band."""

    brands: set[str] = field(default_factory=set)
    product_ids: dict[str, str] = field(default_factory=dict)  # kind ("asin:") → the id
    buckets: set[str] = field(default_factory=set)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)


def _price_ok(a: dict[str, tuple[float, float]], b: dict[str, tuple[float, float]], band: float) -> bool:
    for ca, (lo_a, hi_a) in a.items():
        for cb, (lo_b, hi_b) in b.items():
            if ca != cb and ca != "?" and cb != "?":
                continue  # different known currencies are not comparable
            if max(hi_a, hi_b) > min(lo_a, lo_b) * (1 + band) + 1e-9:
                return False
    return True


def _ids_ok(a: _Meta, b: _Meta) -> bool:
    return all(b.product_ids.get(kind, pid) == pid for kind, pid in a.product_ids.items())


def _compatible(a: _Meta, b: _Meta, band: float, *, same_brand: bool) -> bool:
    if same_brand and a.brands != b.brands and not (a.brands & b.brands):
        return False  # fuzzy titles only within one brand, or when neither side names one
    if not same_brand and a.brands and b.brands and a.brands.isdisjoint(b.brands):
        return False
    if not _ids_ok(a, b):
        return False
    if a.buckets and b.buckets and a.buckets.isdisjoint(b.buckets):
        return False
    return _price_ok(a.prices, b.prices, band)


def _merge_meta(into: _Meta, other: _Meta) -> None:
    into.brands |= other.brands
    into.buckets |= other.buckets
    for kind, pid in other.product_ids.items():
        into.product_ids.setdefault(kind, pid)
    for cur, (lo, hi) in other.prices.items():
        lo0, hi0 = into.prices.get(cur, (lo, hi))
        into.prices[cur] = (min(lo, lo0), max(hi, hi0))


def product_ids(ids: set[str]) -> dict[str, str]:
    """kind → id for the product ids in `ids`, or {} when it names two of a kind (a roundup)."""
    out: dict[str, str] = {}
    for i in ids:
        for kind in _PRODUCT_ID_KINDS:
            if i.startswith(kind):
                if out.setdefault(kind, i) != i:
                    return {}
    return out


class _UnionFind:
    """Union-find whose roots carry a `_Meta`; the smaller index stays root (deterministic)."""

    __slots__ = ("parent", "meta")

    def __init__(self, metas: list[_Meta]) -> None:
        self.parent = list(range(len(metas)))
        self.meta = metas

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
            ra, rb = rb, ra
        self.parent[rb] = ra
        _merge_meta(self.meta[ra], self.meta[rb])
        return ra


@dataclass(slots=True)
class Products:
    """Product clusters as positions into the key-sorted items, with what topics need to know."""

    groups: list[list[int]]  # each ascending; groups ordered by their smallest position
    ids: list[set[str]]  # canonical ids of each group's items
    brands: list[frozenset[str]]  # per item position
    vocab: frozenset[str]


def _item_ids(its: Sequence[TrendItem]) -> list[set[str]]:
    """Each item's ids; a mention linking two different products of a kind keeps neither link."""
    out: list[set[str]] = []
    for it in its:
        ids = item_ids(it)
        if not is_listing(it) and ids and not product_ids(ids) and any(i.startswith(_PRODUCT_ID_KINDS) for i in ids):
            ids = {i for i in ids if not i.startswith(_PRODUCT_ID_KINDS)}
        out.append(ids)
    return out


def _meta(it: TrendItem, brands: frozenset[str], ids: set[str]) -> _Meta:
    meta = _Meta(brands=set(brands), product_ids=product_ids(ids), buckets=set(category_buckets(it.category)))
    if it.price is not None:
        price = float(it.price)
        if price > 0 and math.isfinite(price):
            meta.prices[(it.currency or "?").upper()] = (price, price)
    return meta


def resolve_products(its: list[TrendItem], config: MatchConfig) -> Products:
    """Group items (key-sorted, unique keys) into products: ids, then brand mentions, then fuzzy titles."""
    vocab = learn_brands(its)
    brands = [item_brands(it, vocab) for it in its]
    ids_of = _item_ids(its)
    uf = _UnionFind([_meta(it, brands[i], ids_of[i]) for i, it in enumerate(its)])

    # 1) canonical ids: an ASIN is an ASIN, whatever the titles say (but never two ASINs in one product)
    first_with: dict[str, int] = {}
    for i, ids in enumerate(ids_of):
        for cid in sorted(ids):
            j = first_with.setdefault(cid, i)
            if j != i and _ids_ok(uf.meta[uf.find(j)], uf.meta[uf.find(i)]):
                uf.union(j, i)

    # 2) a mention naming one brand and a word of that brand's listing type joins that listing
    heads: set[str] = set()
    by_brand: dict[str, list[tuple[int, frozenset[str]]]] = defaultdict(list)
    for i, it in enumerate(its):
        if is_listing(it) and brands[i]:
            brand = listing_brand(it, vocab)
            types = topic_tokens(" ".join(type_phrase(it.title, brand)))
            for b in brands[i]:
                by_brand[b].append((i, types))
            head = head_token(it.title, brand)
            if head:
                heads.add(head)
    if by_brand:
        for i, it in enumerate(its):
            if is_listing(it) or len(brands[i]) != 1:
                continue
            cands = by_brand.get(next(iter(brands[i])))
            if not cands:
                continue
            words = topic_tokens(it.title)
            scored = sorted(((len(words & types), uf.find(j)) for j, types in cands), reverse=True)
            best, root = scored[0]
            if best == 0 or any(s == best and r != root for s, r in scored[1:]):
                continue  # names no type word of the brand's listings, or two of its products equally
            ri = uf.find(i)
            if ri != root and _compatible(uf.meta[root], uf.meta[ri], config.price_band, same_brand=False):
                uf.union(root, ri)

    # 3) guarded fuzzy titles, blocked by rare tokens, within one brand
    _fuzzy(its, uf, config, frozenset(heads))

    groups: dict[int, list[int]] = {}
    gids: dict[int, set[str]] = {}
    for i in range(len(its)):
        root = uf.find(i)
        groups.setdefault(root, []).append(i)
        gids.setdefault(root, set()).update(ids_of[i])
    roots = sorted(groups)
    return Products([groups[r] for r in roots], [gids[r] for r in roots], brands, vocab)


def _fuzzy(its: list[TrendItem], uf: _UnionFind, config: MatchConfig, heads: frozenset[str]) -> None:
    """Title merges: token_set_ratio ≥ threshold among candidates blocked on each title's rarest tokens.

    Blocking, in C set operations, two ways: containment (titles holding our two rarest tokens; skipped
    when even our rarest token is common, so a generic title is not matched against hundreds), and one
    word different either way (titles whose own 3 rarest tokens share a pair with ours). Only later
    items are taken from the second, so each pair is scored once."""
    need = config.min_shared_tokens
    toks = [title_tokens(it.title) for it in its]
    norms = [" ".join(t) for t in toks]
    df = Counter(chain.from_iterable(ts for ts in toks if len(ts) >= need))
    shared = sorted((t for t, c in df.items() if c > 1), key=lambda t: (df[t], t))
    tid = {t: k for k, t in enumerate(shared)}
    df_of = [df[t] for t in shared]
    postings: list[set[int]] = [set() for _ in shared]
    rare3: list[tuple[int, ...]] = []
    pair_first: dict[tuple[int, int], int] = {}
    pair_index: dict[tuple[int, int], list[int]] = {}
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
    window = max(1, cap // 5)
    band = config.price_band
    for i in range(len(its)):
        rare = rare3[i]
        if len(rare) < 2:
            continue
        found = postings[rare[0]] & postings[rare[1]] if df_of[rare[0]] <= cap else set()
        for a_, b_ in ((0, 1), (0, 2), (1, 2)):
            if b_ < len(rare):
                bucket = pair_index.get((rare[a_], rare[b_]))
                if bucket is not None:
                    start = bisect_right(bucket, i)
                    found.update(bucket[start : start + window])
        found.discard(i)
        if not found:
            continue
        cands = list(found) if len(found) <= cap else sorted(found)[:cap]
        hits = process.extract(
            norms[i], [norms[j] for j in cands], scorer=fuzz.token_set_ratio, processor=None,
            score_cutoff=config.fuzzy_threshold, limit=None,
        )
        if not hits:
            continue
        si = frozenset(toks[i])
        for j in sorted(cands[h[2]] for h in hits):
            sj = frozenset(toks[j])
            if len(si & sj) < need or (si ^ sj) & ACCESSORY_NOUNS:
                continue  # too little in common, or one is an accessory/part of the other
            if heads and _different_types(its[i].title, its[j].title, heads):
                continue  # "CloudStep slippers" vs "CloudStep insoles": same brand, different products
            ri, rj = uf.find(i), uf.find(j)
            if ri != rj and _compatible(uf.meta[ri], uf.meta[rj], band, same_brand=True):
                uf.union(ri, rj)


def _different_types(a: str, b: str, heads: frozenset[str]) -> bool:
    ta, tb = topic_tokens(a), topic_tokens(b)
    return bool((ta - tb) & heads) and bool((tb - ta) & heads)


# --------------------------------------------------------------------------------------
# Topics (stories)
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Topic:
    name: str
    products: list[int]  # product group indices (listings first, then mentions that joined)


def _generic_limit(n_listings: int) -> int:
    return max(3, n_listings // 20)


def group_topics(its: list[TrendItem], products: Products, strength: Sequence[float]) -> list[Topic | None]:
    """A topic per product group (None: the group stands alone). `strength` ranks listings within a group
    (the strongest listing names its product type)."""
    n_groups = len(products.groups)
    lead: list[int | None] = []
    for members in products.groups:
        listings = [i for i in members if is_listing(its[i])]
        lead.append(max(listings, key=lambda i: (strength[i], -i)) if listings else None)
    types: dict[int, frozenset[str]] = {}
    heads: dict[int, str] = {}
    vocab: dict[int, frozenset[str]] = {}
    df: Counter[str] = Counter()
    for g, i in enumerate(lead):
        if i is None:
            continue
        brand = listing_brand(its[i], products.vocab)
        types[g] = topic_tokens(" ".join(type_phrase(its[i].title, brand)))
        vocab[g] = topic_tokens(its[i].title) - ({brand} if brand else set())
        df.update(types[g])
        head = head_token(its[i].title, brand)
        if head:
            heads[g] = head
    limit = _generic_limit(len(types))
    generic = {t for t, c in df.items() if c > limit}

    # listings whose type phrases share two specific words are one topic
    parent = list(range(n_groups))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    first_with_pair: dict[tuple[str, str], int] = {}
    for g in sorted(types):
        for pair in combinations(sorted(types[g] - generic), 2):
            h = first_with_pair.setdefault(pair, g)
            if h != g:
                ra, rb = find(h), find(g)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    topic_of: dict[int, int] = {g: find(g) for g in types}
    t_words: dict[int, set[str]] = defaultdict(set)
    v_words: dict[int, set[str]] = defaultdict(set)
    t_heads: dict[int, set[str]] = defaultdict(set)
    for g, t in topic_of.items():
        t_words[t] |= types[g] - generic
        v_words[t] |= vocab[g] - generic
        if g in heads and heads[g] not in generic:
            t_heads[t].add(heads[g])
    head_owners = Counter(h for hs in t_heads.values() for h in hs)
    index: dict[str, list[int]] = defaultdict(list)
    for t in sorted(t_words):
        for w in t_words[t]:
            index[w].append(t)

    # mentions that did not join a product join the topic whose type words they use
    members: dict[int, list[int]] = defaultdict(list)
    for g in range(n_groups):
        if g in topic_of:
            members[topic_of[g]].append(g)
            continue
        words = frozenset(chain.from_iterable(topic_tokens(its[i].title) for i in products.groups[g]))
        cands = {t for w in words for t in index.get(w, ())}
        best: tuple[int, int, int] | None = None
        for t in cands:
            in_type, in_vocab = len(words & t_words[t]), len(words & v_words[t])
            unique_head = any(head_owners[h] == 1 for h in words & t_heads[t])
            if in_type >= 2 or (in_type >= 1 and in_vocab >= 2) or unique_head:
                key = (in_type, in_vocab, -t)
                if best is None or key > best:
                    best = key
        if best is not None:
            members[-best[2]].append(g)
    out: list[Topic | None] = [None] * n_groups
    for t, gs in members.items():
        topic = Topic(name=_topic_name(its, products, gs, lead, t_words[t]), products=sorted(gs, key=lambda g: g != t))
        for g in gs:
            out[g] = topic
    return out


def _topic_name(
    its: list[TrendItem], products: Products, groups: list[int], lead: list[int | None], words: set[str]
) -> str:
    """The product type as readers say it: the longest 2–3-word run of a listing's type phrase that
    several items of the story use (at least 2, and 30% as many as use its most used word), else the
    strongest listing's whole type phrase (a run half as common as that word beats a longer rarer one); its last word in the form the items use most ("curler" over
    "curling"), plural. "LED face masks", "heatless curlers", "magnetic phone grips"."""
    titles = [topic_tokens(its[i].title) for g in groups for i in products.groups[g]]
    phrases = [
        tuple(type_phrase(its[i].title, listing_brand(its[i], products.vocab))) for g in groups if (i := lead[g]) is not None
    ]
    runs: dict[tuple[str, ...], int] = {}
    for phrase in phrases:
        for n in range(1, min(3, len(phrase)) + 1):
            for k in range(len(phrase) - n + 1):
                run = phrase[k : k + n]
                stems = set(chain.from_iterable(topic_tokens(w) for w in run))
                if stems and stems <= words:
                    runs[run] = sum(1 for t in titles if stems <= t)
    top = max(runs.values(), default=0)
    multi = [r for r in runs if len(r) > 1 and runs[r] >= max(2, 0.3 * top)]
    best = max(multi, key=lambda r: (runs[r] >= top / 2, len(r), runs[r], r)) if multi else next((p for p in phrases if p), ())
    if not best:
        return ""
    while len(best) > 1 and best[-1].isupper() and len(best[-1]) <= 4:
        best = best[:-1]  # "Mineral Sunscreen SPF" → "mineral sunscreens"
    last_stems = topic_tokens(best[-1])
    forms: Counter[str] = Counter()
    for g in groups:
        for i in products.groups[g]:
            for w in its[i].title.replace("-", " ").split():
                word = "".join(c for c in w if c.isalnum())
                folded = title_tokens(word)
                if folded and frozenset((stem(folded[0]),)) == last_stems and not word.casefold().endswith("ing"):
                    forms[folded[0]] += 1
    last = max(forms, key=lambda f: (forms[f], -len(f), f)) if forms else display_word(best[-1])
    return " ".join([*(display_word(w) for w in best[:-1]), plural(last)])
