"""Which items are the same product, and which products are the same story (trends_scoring §3).

Products, strictest first:
1. Canonical ids (ASINs, TikTok Shop product ids, from the item or a link in its text). A mention that
   links several different products (a roundup) joins none of them by link.
2. Brands decide identity. The run's brand vocabulary is learned from listing titles (Amazon and TikTok
   Shop titles lead with the brand: a first word that never appears later in another listing title, does
   not lead most of them and is no common descriptor ("Travel", "Ultra"); in a run of a few listings, only
   such words spelled as brands, "PuffPod"; or the maker after "by": "… Pads by PureFace") and one-word
   brand fields; a shop's name that starts with a brand ("StrideDesk Official") is that brand. A caption,
   post or video title that names exactly one brand as a whole word *and* at least half of that brand's
   listing type words, counting its head noun twice ("LED mask", "blender"; "lashes" says "eyelashes"
   here; a model spec both give, "65W", counts as one), joins that listing; for a brand with a few
   listings, its head noun or one rare word of it is enough ("ReboundMax gun"); for any brand, the two
   words that end its type or come before its head noun, said together, when no other product of the
   brand has them ("Aurelle chunky hoops"); a tie between two listings joins neither. Failing those, a
   model number said bare that one of the brand's products gives ("IronCore 52.5"), or, for a brand with
   one product here, the brand alone when the post names no other product's type ("the SharpRoll
   thing"). A brand's TikTok Shop product joins its Amazon listing the same way, before any mention.
3. Guarded fuzzy titles last, only within one brand (or when neither side names one), never across two
   ASINs or two shop products, a category or a price band. One title's words must hold the other's
   (titles that differ both ways name two things: "CloudStep slippers" / "CloudStep insoles") and, without
   prices on both sides, most of their words must be shared (Jaccard ≥ 0.6).

Stories: a listing whose product-type phrase shares two words with a stronger listing that anchors a
topic ("LED Face Mask" / "LED Face Mask - Red Light…"), one of them a head noun or what both do
("Heatless Curling …"), joins it; "memory foam" alone does not make a pillow and slippers one type, and
a word before the head noun that is another product of the run makes a type of its own ("Treadmill Mat");
two listings of one category whose head noun at most three listings have are one type by it alone
("Pet Fountain" / "Cat Water Fountain"). Links go to anchors only, so types that merely overlap pairwise (pillowcase → sleep mask → eye pads …)
never chain into one story. Mentions that did not join a product join the topic whose type words they
use (two of them; or the topic's own head noun when no other topic has it, or with the generic words of
the topic's type: "wireless charging stands" where "wireless" and "charging" are on many listings);
failing those, a post naming brands joins the topic its brands name, each by a telling word of its own
types or, counting half, by its name when it sells one type here ("Whiskr vs LitterLuxe"). Topics are anchored to listings, so generic words and platform names never become one. Everything is
near-linear: blocking on rare tokens for titles, token and token-pair indexes for brands and topics.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, combinations, compress, islice, pairwise
from operator import not_
from typing import NamedTuple

from ..models import TrendItem
from . import text
from .text import (
    ACCESSORY_NOUNS,
    NON_TYPE_TOKENS,
    category_buckets,
    display_word,
    head_token,
    item_ids,
    normalise_brand,
    plural,
    single_stem,
    stem,
    title_tokens,
    tokenise_title,
    topic_stems,
    topic_tokens,
    type_phrase,
    type_tokens,
)

LISTING_ID_PREFIXES = ("asin:", "tiktok_product:")
_PRODUCT_ID_KINDS = LISTING_ID_PREFIXES


MIN_JACCARD = 0.6  # share of words a fuzzy pair needs in common when no prices back the match


def is_listing(item: TrendItem) -> bool:
    """A product page (an Amazon row, a TikTok Shop product), not a post or video about one."""
    return item.source in ("amazon", "tiktok_shop") and bool(item.canonical_ids) and (
        item.canonical_ids[0].startswith(LISTING_ID_PREFIXES)
    )


@dataclass(frozen=True, slots=True)
class MatchConfig:
    price_band: float = 0.5
    min_shared_tokens: int = 2
    block_cap: int = 100


# --------------------------------------------------------------------------------------
# Brands
# --------------------------------------------------------------------------------------


RARE_TYPE_WORD = 3  # a type word in at most this many listings says which product it is
FEW_LISTINGS = 4  # a brand with at most this many listings: a mention naming it and one word of one is that one
MIN_LISTINGS_FOR_BRANDS = 10  # with fewer listings, "never appears later" says little: only CamelCase words count


def learn_brands(its: Sequence[TrendItem]) -> frozenset[str]:
    """Brand words of this run: one-word brand fields of any item, the maker a listing title names after
    "by", and the first title word of listings that never appears later in any listing title, leads at most
    a fifth of them and is no common descriptor ("LumaGlow" yes; "Portable", "Example", "Travel" no). With
    fewer than MIN_LISTINGS_FOR_BRANDS listings "never later" means little, so only such first words spelled
    as brands are ("PuffPod", not "Portable")."""
    return _learn_brands([it.brand for it in its], [title_tokens(it.title) for it in its], [is_listing(it) for it in its], its)


# Words unbranded listing titles lead with ("Travel Size Mini Hair Straightener", "Ultra-Soft … by PureFace"):
# on a short list they can look like brands (they lead one title and appear in no other)
_DESCRIPTORS = frozenset(
    "travel mini ultra super extra large small big professional portable electric wireless rechargeable "
    "automatic adjustable reusable waterproof heavy stainless upgraded universal magnetic organic natural "
    "handheld cordless foldable smart soft luxury deluxe classic".split()
)
# "… Makeup Remover Pads by PureFace, 16 Pack": a maker named after "by", where the type ends
_BY_BRAND = re.compile(r"\bby\s+([A-Z][\w'’]*[A-Za-z0-9])(?=\s*(?:$|[,(|\[]|\s[-–—]\s))")


def _by_brand(title: str) -> str | None:
    """The brand word a listing title names after "by" (its first word is then no brand)."""
    if " by " not in title:
        return None
    m = _BY_BRAND.search(title)
    toks = title_tokens(m.group(1)) if m else ()
    return toks[0] if len(toks) == 1 and len(toks[0]) >= 3 and toks[0] not in NON_TYPE_TOKENS else None


def _learn_brands(
    brand_fields: Sequence[str | None], tokens: Sequence[tuple[str, ...]], listing: Sequence[bool], its: Sequence[TrendItem]
) -> frozenset[str]:
    distinct = set(brand_fields)  # a few thousand brand fields at most: each read once
    fields = {b for brand in distinct if brand and " " not in brand.strip() and (b := normalise_brand(brand))}
    first: Counter[str] = Counter()
    later: set[str] = set()
    by: set[str] = set()
    n = 0
    for toks, is_list, it in zip(tokens, listing, its, strict=True):
        if not is_list or not toks:
            continue
        n += 1
        maker = _by_brand(it.title)
        if maker is None:
            first[toks[0]] += 1
        else:
            by.add(maker)
        later.update(toks[1:])
    limit = max(3, n // 5)
    learned = {
        t
        for t, c in first.items()
        if c <= limit and t not in later and len(t) >= 3 and not t.isdigit() and t not in NON_TYPE_TOKENS
        and t not in _DESCRIPTORS
    }
    if n < MIN_LISTINGS_FOR_BRANDS:  # too few listings for "never later" to say much: only words spelled as brands
        spelled = {
            tok
            for it, is_list in zip(its, listing, strict=True)
            if is_list
            for w in _CAMEL_CASE.findall(it.title)
            for tok in title_tokens(w)
        }
        learned &= spelled
    return frozenset(learned | fields | by)


# a word with a capital after a small letter ("LumaGlow", "BlendGo"): spelled as a brand, not a dictionary word
_CAMEL_CASE = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b")


_NO_BRANDS: frozenset[str] = frozenset()
_DIGIT = re.compile(r"\d").search


def _title_brand(title: str, toks: tuple[str, ...], vocab: frozenset[str]) -> str | None:
    """A listing title's brand word, when the run knows it as a brand: the maker after "by", else its first token."""
    maker = _by_brand(title)
    if maker is not None:
        return maker if maker in vocab else None
    return toks[0] if toks and toks[0] in vocab else None


def _field_brand(field: str, vocab: frozenset[str]) -> str | None:
    """A brand field as a brand: a shop's name that starts with a brand of the run ("StrideDesk Official",
    "Aurelle Jewelry", "Luxe&Lark Official") is that brand; any other field is itself."""
    if field.isalnum():  # one plain word (most brand fields): itself
        return normalise_brand(field)
    first = title_tokens(field.split(None, 1)[0]) if field.strip() else ()
    return first[0] if first and first[0] in vocab else normalise_brand(field)


def _item_brands(
    own: str | None, title: str, toks: tuple[str, ...], vocab: frozenset[str], listing: bool
) -> frozenset[str]:
    """Brands an item is about: a listing's own brand (`own`, from its brand field, else its title's brand
    word); for a mention, its own plus every brand word its title (`toks`) names."""
    if listing:
        lead = own or _title_brand(title, toks, vocab)
        return frozenset((lead,)) if lead else _NO_BRANDS
    named = _NO_BRANDS if vocab.isdisjoint(toks) else vocab.intersection(toks)  # most name none: one shared set
    return named | {own} if own else named


# a figure that tells one model of a brand from another: power, capacity, storage, refresh rate ("65W", "10000mAh")
_MODEL_SPEC = re.compile(r"\b(\d+(?:\.\d+)?)\s?(w|mah|gb|tb|hz)\b", re.IGNORECASE)


@lru_cache(maxsize=1 << 16)
def _model_specs(title: str) -> frozenset[tuple[str, str]]:
    return frozenset((n, unit.casefold()) for n, unit in _MODEL_SPEC.findall(title))


def _same_model(a: str, b: str) -> bool | None:
    """Do two titles give the same model spec (True), different figures of one unit (False: "100W" vs "65W"),
    or nothing to compare (None)?"""
    sa, sb = _model_specs(a), _model_specs(b)
    if not sa or not sb:
        return None
    if not sa.isdisjoint(sb):
        return True
    return False if {u for _, u in sa} & {u for _, u in sb} else None


# a number said bare, the way owners name a model ("IronCore 52.5", "Vitamix 5200"): with a decimal point or three
# digits or more, not a price, a percentage, a count of something or a figure with a unit
_BARE_NUMBER = re.compile(
    r"(?<![\w.,$€£#/+-])(\d+\.\d+|\d{3,})(?![\w%,]|\.\d|\s?(?:ml|oz|lbs?|g|kg|mg|w|mah|gb|tb|hz|in|inch|inches|ft|mm|cm|l|qt"
    r"|pack|pcs|pieces|hours?|hrs?|days?|weeks?|months?|years?|times|k|x|units|orders|sold|views|likes|followers|reviews"
    r"|stars|steps|calories|people)\b)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")  # no look-behind first: the scan skips to digits


@lru_cache(maxsize=1 << 14)
def _title_numbers(title: str) -> frozenset[str]:
    """The numbers a title gives, each of its own, not inside a word ("brand1085")."""
    return frozenset(
        m.group() for m in _NUMBER.finditer(title)
        if not (at := m.start()) or not (title[at - 1].isalnum() or title[at - 1] in "._")
    )


def _year(number: str) -> bool:
    return len(number) == 4 and number[:2] in ("19", "20")


def _numbered(title: str, cands: list[int], its: Sequence[TrendItem], uf: _UnionFind) -> int | None:
    """The one product of a brand (its root) whose listing titles give the model number a mention says bare."""
    numbers = {n for n in _BARE_NUMBER.findall(title) if not _year(n)}
    if not numbers:
        return None
    roots = {uf.find(j) for j in cands if not numbers.isdisjoint(_title_numbers(its[j].title))}
    return roots.pop() if len(roots) == 1 else None


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


def _brands_ok(a: _Meta, b: _Meta, *, same_brand: bool) -> bool:
    if a.brands and b.brands:
        return not a.brands.isdisjoint(b.brands)
    if not same_brand or not (a.brands or b.brands):
        return True
    # fuzzy titles only within one brand, or when neither side names one; a side that names none but
    # carries a product id (a linked ASIN) is anchored by that id and may take the other's brand
    unbranded = b if a.brands else a
    return bool(unbranded.product_ids)


def _compatible(a: _Meta, b: _Meta, band: float, *, same_brand: bool) -> bool:
    if not _brands_ok(a, b, same_brand=same_brand):
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


def product_ids(ids: Iterable[str]) -> dict[str, str]:
    """kind → id for the product ids in `ids`, or {} when it names two of a kind (a roundup)."""
    out: dict[str, str] = {}
    for i in ids:
        for kind in _PRODUCT_ID_KINDS:
            if i.startswith(kind) and out.setdefault(kind, i) != i:
                return {}
    return out


class _UnionFind:
    """Union-find whose roots carry a `_Meta`, built lazily (most items never take part in a merge);
    the smaller index stays root (deterministic)."""

    __slots__ = ("parent", "metas", "make")

    def __init__(self, n: int, make: Callable[[int], _Meta]) -> None:
        self.parent = list(range(n))
        self.metas: list[_Meta | None] = [None] * n
        self.make = make

    def meta(self, root: int) -> _Meta:
        m = self.metas[root]
        if m is None:
            m = self.metas[root] = self.make(root)
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
            ra, rb = rb, ra
        self.parent[rb] = ra
        _merge_meta(self.meta(ra), self.meta(rb))
        return ra


class ListingType(NamedTuple):
    """What a listing's title says it is."""

    brand: str | None  # the brand word the title leads with (left out of the rest)
    phrase: tuple[str, ...]  # `type_phrase`: "LED Face Mask"
    words: frozenset[str]  # `type_tokens`: {"led", "face", "mask"}
    head: str | None  # `head_token`: "mask"
    kind: str  # its category's buckets ("pets"), "" when unknown


def _says_head(listing: ListingType, words: Collection[str], heads: Collection[str | None]) -> bool:
    """Do a mention's words name a listing's head noun: the noun itself, or the last part of a compound
    ("phone" for "smartphone", "lashes" for "eyelashes"). Only ever weighed with the brand and another word.
    A part that heads a listing of its own in this run ("phone" beside "headphones") is that other product,
    unless a model code both name says which ("Nuvo X9 phone", "X9 Smartphone")."""
    head = listing.head
    if head is None:
        return False
    if head in words:
        return True
    part = next((w for w in words if len(w) >= 4 and len(head) >= len(w) + 3 and head.endswith(w)), None)
    if part is None:
        return False
    return part not in heads or any(map(_DIGIT, listing.words.intersection(words)))


@dataclass(slots=True)
class Products:
    """Product clusters as positions into the key-sorted items, with what topics need to know."""

    groups: list[list[int]]  # each ascending; groups ordered by their smallest position
    ids: list[Collection[str]]  # canonical ids of each group's items (distinct)
    listing: list[bool]  # per item position: is it a product listing
    brands: list[frozenset[str]]  # per item position
    vocab: frozenset[str]
    tokens: list[tuple[str, ...]]  # per item position: its title tokens
    types: dict[int, ListingType]  # per listing position
    topic_words: list[tuple[str, ...]]  # per item position: its title's `topic_stems`


_NO_IDS: frozenset[str] = frozenset()


def _item_ids(its: Sequence[TrendItem], listing: Sequence[bool]) -> list[Collection[str]]:
    """Each item's ids (distinct); a mention linking two different products of a kind keeps neither link."""
    out: list[Collection[str]] = []
    for it, is_list in zip(its, listing, strict=True):
        if not it.links:
            cids = it.canonical_ids
            if not cids:  # most mentions: one shared empty set
                out.append(_NO_IDS)
                continue
            if len(cids) == 1 and cids[0]:  # most items: their one id, without a set of it
                out.append((cids[0],))
                continue
        ids: Collection[str] = item_ids(it)
        if not is_list and len(ids) > 1 and not product_ids(ids) and any(i.startswith(_PRODUCT_ID_KINDS) for i in ids):
            ids = {i for i in ids if not i.startswith(_PRODUCT_ID_KINDS)}
        out.append(ids)
    return out


def _meta(it: TrendItem, brands: frozenset[str], ids: Collection[str]) -> _Meta:
    meta = _Meta(brands=set(brands), product_ids=product_ids(ids), buckets=set(category_buckets(it.category)))
    if it.price is not None:
        price = float(it.price)
        if price > 0 and math.isfinite(price):
            meta.prices[(it.currency or "?").upper()] = (price, price)
    return meta


_CAMEL_PLURAL = re.compile(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*s\b")  # "PawPals", "AirPods": a name, not a plural


def _keep_plural_names(its: Sequence[TrendItem], tokens: list[tuple[str, ...]], listing: Sequence[bool]) -> None:
    """Listing names spelled as brands that end in "s" keep it, in every title that says them, however cased:
    "PawPals" (and "the pawpals fountain") is not PawPal, whose posts it took. Titles are folded to "pawpal"."""
    names = {w.lower() for it, is_list in zip(its, listing, strict=True) if is_list and not it.title.islower()
             for w in _CAMEL_PLURAL.findall(it.title)}
    if not names:
        return
    for i, it in enumerate(its):
        low = it.title.casefold()
        said = [n for n in names if n in low and re.search(rf"\b{re.escape(n)}\b", low)]
        if said:
            singular = {n[:-1]: n for n in said if not re.search(rf"\b{re.escape(n[:-1])}\b", low)}
            extra = [n for n in said if n[:-1] not in singular]  # both spellings in one title: both tokens
            tokens[i] = tuple(dict.fromkeys([*(singular.get(t, t) for t in tokens[i]), *extra]))


def resolve_products(its: list[TrendItem], config: MatchConfig) -> Products:  # noqa: C901 - hot path (100k items): blocking, exact-id and price-band merges inlined for speed
    """Group items (key-sorted, unique keys) into products: ids, then brand mentions, then fuzzy titles."""
    tokens = [tokenise_title(it.title) for it in its]
    listing = [is_listing(it) for it in its]
    _keep_plural_names(its, tokens, listing)
    topic_words = list(map(topic_stems, tokens))
    brand_fields = [it.brand for it in its]
    vocab = _learn_brands(brand_fields, tokens, listing, its)
    own_of = {f: _field_brand(f, vocab) for f in set(brand_fields) if f}  # a few thousand fields at most
    brands = [
        _item_brands(own_of[it.brand] if it.brand else None, it.title, toks, vocab, is_list)
        for it, toks, is_list in zip(its, tokens, listing, strict=True)
    ]
    ids_of = _item_ids(its, listing)
    uf = _UnionFind(len(its), lambda i: _meta(its[i], brands[i], ids_of[i]))

    # 1) canonical ids: an ASIN is an ASIN, whatever the titles say (but never two ASINs in one product).
    # Each id keeps one item per product that holds it: when the first holder's product has since taken
    # another ASIN (a roundup naming two), a later item with the id still meets the others that hold it.
    held = Counter(chain.from_iterable(ids_of))
    common_ids = {cid for cid, n in held.items() if n > 1}  # an id no other item holds joins nothing
    holders: dict[str, list[int]] = {}
    for i, ids in enumerate(ids_of):
        if common_ids.isdisjoint(ids):
            continue
        for cid in sorted(ids) if len(ids) > 1 else ids:
            if cid not in common_ids:
                continue
            seen = holders.setdefault(cid, [])
            ri = uf.find(i)
            for j in seen:
                rj = uf.find(j)
                if rj == ri:
                    break
                if _ids_ok(uf.meta(rj), uf.meta(ri)):
                    ri = uf.union(rj, ri)
                    break
            else:
                seen.append(i)

    # 2) a mention naming one brand and a word of that brand's listing type joins that listing
    type_words: set[str] = set()
    by_brand: dict[str, list[int]] = defaultdict(list)  # brand → its listings' positions
    listing_types: dict[int, ListingType] = {}
    for i, it in enumerate(its):
        if not listing[i]:
            continue
        brand = next(iter(brands[i]), None)  # left out when reading its type
        phrase = type_phrase(it.title, brand)
        types = type_tokens(phrase)
        listing_types[i] = ListingType(brand, phrase, types, head_token(phrase), ",".join(sorted(category_buckets(it.category))))
        type_words |= types
        for b in brands[i]:
            by_brand[b].append(i)
    # a brand's listings by type word: a mention is only scored against listings it shares a word with;
    # and how many of them it must share with each (half its type words, rounded up)
    by_word: dict[str, tuple[dict[str, list[int]], list[int]]] = {}
    for b, cands in by_brand.items():
        words_of: dict[str, list[int]] = {}
        for c, j in enumerate(cands):
            for w in listing_types[j].words:
                words_of.setdefault(w, []).append(c)
        by_word[b] = words_of, [(len(listing_types[j].words) + 1) // 2 for j in cands]
    run_heads = {t.head for t in listing_types.values()}
    type_df = Counter(chain.from_iterable(t.words for t in listing_types.values()))
    rare_words: dict[int, frozenset[str]] = {}  # a listing → its type words in at most RARE_TYPE_WORD listings
    brand_numbers: dict[str, frozenset[str]] = {}  # a brand → the numbers its listings' titles give
    one_product: dict[str, int | None] = {}  # a brand of a few listings → a listing, when they are one product
    # a brand's TikTok Shop product joins, by its own type words, the brand's Amazon listing ("StrideDesk Official"
    # sells the StrideDesk walking pad); then a mention naming one brand joins the brand's product it names
    shop_listings = [i for i in compress(range(len(its)), listing) if its[i].source == "tiktok_shop"]
    for i in chain(shop_listings, compress(range(len(its)), map(not_, listing))):
        in_shop = listing[i]  # the shop's listings first, then every mention
        if len(brands[i]) != 1:
            continue
        (b,) = brands[i]
        if b not in by_word:
            continue
        words: Collection[str] = listing_types[i].words if in_shop else topic_words[i]
        shared: dict[int, int] = {}  # the brand's listings sharing type words with the mention → how many
        words_of, half = by_word[b]
        common = words_of.keys() & words
        for w in common:
            for c in words_of[w]:
                if not (in_shop and its[by_brand[b][c]].source == "tiktok_shop"):
                    shared[c] = shared.get(c, 0) + 1
        naming: set[str] | None = None
        scored: list[tuple[int, int, frozenset[str]]] = []
        cands = by_brand[b]
        # a brand with a few listings: one word of one of them is unambiguous enough ("ReboundMax gun")
        few = len(cands) <= FEW_LISTINGS
        need = 1 if few else 2
        for c, n_shared in shared.items():
            # half its type words (a one-word type counts its head noun twice), and fewer words naming
            # other listings' types. The head noun alone is not enough for a longer type: on the bench's
            # look-alike set, "brand + head noun" raised the share of items in mixed products from 0.0088 to 0.0119.
            # A model spec both titles give ("VoltNest 65W charger") counts as a type word.
            j = cands[c]
            if n_shared + 1 == half[c] and _same_model(its[i].title, its[j].title):
                n_shared += 1
            # or, said together, the two words that end its type or come before its head noun, when no other
            # product of the brand has them and the mention names none of the brand's other types ("Aurelle chunky
            # hoops"; both words of its Amazon listing and of its TikTok Shop listing, one product)
            if n_shared < (1 if few else half[c]) and not (
                2 <= n_shared == len(common)
                and _says_type_end(listing_types[j].phrase, topic_words[i])
                and all(uf.find(cands[k]) == uf.find(j) for w in common for k in words_of[w] if cands[k] != i)
            ):
                continue
            lt = listing_types[j]
            head_named: bool | None = lt.head in words or None  # None: not read yet (the compound check costs more)
            if n_shared < half[c] and not head_named:  # one word of a few listings' brand: a rare one, or the head
                rare = rare_words.get(j)
                if rare is None:
                    rare = rare_words[j] = frozenset(w for w in lt.words if type_df[w] <= RARE_TYPE_WORD)
                if rare.isdisjoint(words):
                    head_named = _says_head(lt, words, run_heads)
                    if not head_named:
                        continue  # a common word ("portable") says too little
            if head_named is None:
                head_named = _says_head(lt, words, run_heads)
            score = n_shared + head_named
            if score < need:
                continue
            if naming is None:
                naming = type_words.intersection(words)
            if score > len(naming.difference(topic_words[j])) and _same_model(its[i].title, its[j].title) is not False:
                scored.append((score, uf.find(j), listing_types[j].words))  # "VoltNest 100W" is not its 65W charger
        if not scored:  # a model number said bare, or a brand with one product here ("the SharpRoll thing")
            if in_shop:
                continue
            root = None
            if (numbers := brand_numbers.get(b)) is None:  # the model numbers the brand's listings give
                numbers = brand_numbers[b] = frozenset(
                    n for j in cands for n in _title_numbers(its[j].title) if "." in n or (len(n) >= 3 and not _year(n))
                )
            if numbers and any(n in its[i].title for n in numbers):
                root = _numbered(its[i].title, cands, its, uf)
            if root is None and few:
                if (single := one_product.get(b, -1)) == -1:  # its listings are one product (ids and shop joins
                    roots = {uf.find(j) for j in cands}  # came first; mentions never join two of its listings)
                    single = one_product[b] = roots.pop() if len(roots) == 1 else None
                if single is not None:
                    if naming is None:
                        naming = type_words.intersection(words)
                    if not naming.difference(*(topic_words[j] for j in cands)):
                        root = uf.find(single)  # it names no other product's type words
            # "VoltNest 100W" is still not its 65W charger
            if root is None or any(_same_model(its[i].title, its[j].title) is False for j in cands if uf.find(j) == root):
                continue
            scored.append((1, root, frozenset()))
        scored.sort(key=lambda x: (-x[0], x[1]))
        best, root, kind = scored[0]
        if any(s == best and r != root and w != kind for s, r, w in scored[1:]):
            continue  # a tie between two of the brand's listings of different types: neither

        ri = uf.find(i)
        if ri != root and _compatible(uf.meta(root), uf.meta(ri), config.price_band, same_brand=False):
            uf.union(root, ri)

    # 3) guarded fuzzy titles, blocked by rare tokens, within one brand
    _fuzzy(its, tokens, brands, uf, config)

    groups: dict[int, list[int]] = {}
    for i in range(len(its)):
        groups.setdefault(uf.find(i), []).append(i)
    members = [groups[r] for r in sorted(groups)]
    group_ids = [ids_of[m[0]] if len(m) == 1 else set().union(*map(ids_of.__getitem__, m)) for m in members]
    return Products(members, group_ids, listing, brands, vocab, tokens, listing_types, topic_words)


def _fuzzy(  # noqa: C901 - hot path: candidate blocking and the match tests inlined for speed
    its: list[TrendItem], toks: list[tuple[str, ...]], brands: list[frozenset[str]], uf: _UnionFind, config: MatchConfig
) -> None:
    """Title merges among candidates blocked on each title's rarest tokens: one title's words inside the
    other's (token_set_ratio = 100), most words shared unless prices back the match, within one brand.

    Blocking, in C set operations, two ways: containment (titles holding our two rarest tokens; skipped
    when even our rarest token is common, so a generic title is not matched against hundreds), and one
    word different either way (titles whose own 3 rarest tokens share a pair with ours). Only later
    items are taken from the second, so each pair is scored once."""
    need = config.min_shared_tokens
    sets: list[frozenset[str] | None] = [None] * len(toks)  # each title's words, built when first compared
    df = Counter(chain.from_iterable(ts for ts in toks if len(ts) >= need))
    # token ids in (frequency, token) order; ids below n_single are tokens of one title only
    order = sorted(df, key=lambda t: (df[t], t))
    tid = {t: k for k, t in enumerate(order)}
    df_of = [df[t] for t in order]
    n_single = bisect_right(df_of, 1)
    postings: list[set[int]] = [set() for _ in order]
    n_tok = len(order)
    # each title's two rarest shared tokens (its containment block); the titles holding each pair among
    # its 3 rarest, as ints (a·n_tok + b, a < b), in index order; and those pairs more than one title holds
    rarest: list[tuple[int, int] | None] = []
    first_holder: dict[int, int] = {}  # a pair → the one title holding it so far
    shared: dict[int, list[int]] = {}  # a pair more than one title holds → those titles
    get_id = tid.__getitem__
    for i, ti in enumerate(toks):
        if len(ti) < need:
            rarest.append(None)
            continue
        tok_ids = sorted(map(get_id, ti))
        if tok_ids[0] < n_single:
            tok_ids = tok_ids[bisect_right(tok_ids, n_single - 1) :]
        for k in tok_ids:
            postings[k].add(i)
        if len(tok_ids) >= 3:
            a, b, c = tok_ids[0], tok_ids[1], tok_ids[2]
            keys: tuple[int, ...] = (a * n_tok + b, a * n_tok + c, b * n_tok + c)
        elif len(tok_ids) == 2:
            a, b = tok_ids
            keys = (a * n_tok + b,)
        else:
            rarest.append(None)
            continue
        rarest.append((a, b))
        for key in keys:
            bucket = shared.get(key)
            if bucket is not None:
                bucket.append(i)
            elif (j := first_holder.setdefault(key, i)) != i:
                shared[key] = [j, i]
    cap = config.block_cap
    # one word different either way: a title meets the next `window` titles of each pair it shares
    window = max(1, cap // 5)
    later: dict[int, set[int]] = {}
    for bucket in shared.values():
        for p in range(len(bucket) - 1):
            ahead = bucket[p + 1 : p + 1 + window]
            met = later.get(bucket[p])
            if met is None:
                later[bucket[p]] = set(ahead)
            else:
                met.update(ahead)
    band = config.price_band
    priced = [it.price is not None for it in its]
    metas = uf.metas
    for i, pair in enumerate(rarest):
        if pair is None:
            continue
        r0, r1 = pair
        found = postings[r0] & postings[r1] if df_of[r0] <= cap else set()
        met = later.get(i)
        if met is not None:
            found |= met
        found.discard(i)
        if not found:
            continue
        si = sets[i]
        if si is None:
            si = sets[i] = frozenset(toks[i])
        for j in sorted(found)[:cap]:  # in index order; a dense block is cut deterministically
            sj = sets[j]
            if sj is None:
                sj = sets[j] = frozenset(toks[j])
            # one title's words inside the other's: token_set_ratio is 100 exactly then, so no scorer
            # is needed; titles that differ both ways name two things ("Hydro Flask …" / "Iron Flask …")
            if not (si <= sj or sj <= si):
                continue
            common = min(len(si), len(sj))
            if common < need or (si ^ sj) & ACCESSORY_NOUNS:
                continue  # too little in common, or one is an accessory/part of the other
            if common < MIN_JACCARD * max(len(si), len(sj)) and not (priced[i] and priced[j]):
                continue  # a short title inside a long one needs prices on both sides to back it
            ri, rj = uf.find(i), uf.find(j)
            if ri == rj:
                continue
            if metas[ri] is None and metas[rj] is None and brands[ri] and brands[rj] and brands[ri].isdisjoint(brands[rj]):
                continue  # two items on their own, of two brands: no need to build what they know
            if _compatible(uf.meta(ri), uf.meta(rj), band, same_brand=True):
                uf.union(ri, rj)


# --------------------------------------------------------------------------------------
# Topics (stories)
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Topic:
    name: str
    products: list[int]  # product group indices (listings first, then mentions that joined)


MAX_TOPICS_PER_WORD = 10  # a word in more topics than this does not propose candidates (it still counts)


def _generic_limit(n_listings: int) -> int:
    """More listings than this share a word: it names no product type ("set", "portable")."""
    return max(3, n_listings // 20)


def _lead_rank(lead: int | None, strength: Sequence[float]) -> float:
    """Sort key: a group led by a stronger item first; a group without a lead last."""
    return -strength[lead] if lead is not None else 1.0


def group_topics(products: Products, strength: Sequence[float]) -> list[Topic | None]:  # noqa: C901 - hot path: topic resolution over token indexes, inlined for speed (bench/ranking.py)
    """A topic per product group (None: the group stands alone). `strength` ranks listings within a group
    (the strongest listing names its product type)."""
    n_groups = len(products.groups)
    lead: list[int | None] = []
    is_list = products.listing
    for members in products.groups:
        if len(members) == 1:
            lead.append(members[0] if is_list[members[0]] else None)
            continue
        listings = [i for i in members if is_list[i]]
        lead.append(max(listings, key=lambda i: (strength[i], -i)) if listings else None)
    types: dict[int, frozenset[str]] = {}
    phrases: dict[int, tuple[str, ...]] = {}
    heads: dict[int, str] = {}
    kinds: dict[int, str] = {}
    vocab: dict[int, frozenset[str]] = {}
    brand_groups: dict[str, list[int]] = defaultdict(list)  # a brand → the groups its listings lead
    topic_words = products.topic_words
    for g, i in enumerate(lead):
        if i is None:
            continue
        brand, phrases[g], types[g], head, kinds[g] = products.types[i]
        vocab[g] = frozenset(topic_words[i]).difference((brand,))
        if head:
            heads[g] = head
        if brand:
            brand_groups[brand].append(g)
    df = Counter(chain.from_iterable(types.values()))
    limit = _generic_limit(len(types))
    head_df = Counter(heads.values())
    # a word in many listings' types is generic ("set", "portable"), unless it heads most of them: then it
    # is the type itself ("frother" on a kitchen list with four frothers)
    generic = {t for t, c in df.items() if c > limit and 2 * head_df[t] < c}
    nouns = head_df.keys() - generic  # words that head some listing's type: what a generic word can qualify
    rare = max(5, len(types) // 200)  # a linking pair needs one word this rare, so topics don't chain

    # listings whose type phrases share two type words with a stronger listing join its topic
    lone = {h for h, c in head_df.items() if c <= RARE_TYPE_WORD} - generic  # head nouns that alone say the type
    topic_of = _listing_topics(
        types, heads, phrases, nouns, generic, df, rare, sorted(types, key=lambda g: (_lead_rank(lead[g], strength), g)),
        {g: (f"#{kinds[g]}", vocab[g] - {h}) for g, h in heads.items() if h in lone and kinds[g]},
    )
    t_words: dict[int, set[str]] = defaultdict(set)
    v_words: dict[int, set[str]] = defaultdict(set)
    t_heads: dict[int, set[str]] = defaultdict(set)
    t_generic: dict[int, set[str]] = defaultdict(set)  # the generic words of its listings' types ("wireless")
    for g, t in topic_of.items():
        t_words[t] |= types[g] - generic
        t_generic[t] |= types[g] & generic
        v_words[t] |= vocab[g] - generic
        if g in heads and heads[g] not in generic:
            t_heads[t].add(heads[g])
    head_owners = Counter(h for hs in t_heads.values() for h in hs)
    index: dict[str, list[int]] = defaultdict(list)
    for t in sorted(t_words):
        for w in t_words[t]:
            index[w].append(t)
    vindex: dict[str, list[int]] = defaultdict(list)
    for t in sorted(v_words):
        for w in v_words[t]:
            vindex[w].append(t)
    # a word in more than MAX_TOPICS_PER_WORD topics proposes none (it still counts as a shared word)
    proposing = {w: ts for w, ts in index.items() if len(ts) <= MAX_TOPICS_PER_WORD}
    v_specific = {w: ts for w, ts in vindex.items() if len(ts) <= MAX_TOPICS_PER_WORD}  # word → topics

    # mentions that did not join a product join the topic whose type words they use
    unique_heads = {h: t for t, hs in t_heads.items() for h in hs if head_owners[h] == 1}
    # a head noun of several topics → those topics (of no more topics than a word that proposes them)
    shared_heads: dict[str, list[int]] = defaultdict(list)
    for t, hs in t_heads.items():
        for h in hs:
            if 1 < head_owners[h] <= MAX_TOPICS_PER_WORD:
                shared_heads[h].append(t)
    proposing_words = proposing.keys()
    # a brand → its listings' telling type words that only one of its topics has → that topic; and its only topic
    by_brand: dict[str, tuple[dict[str, int], int | None]] = {}

    def brand_words(b: str) -> tuple[dict[str, int], int | None]:
        out = by_brand.get(b)
        if out is None:
            of_word: dict[str, set[int]] = {}
            for g in brand_groups.get(b, ()):
                for w in types[g]:
                    if df[w] <= RARE_TYPE_WORD or w == heads.get(g):
                        of_word.setdefault(w, set()).add(topic_of[g])
            only = {topic_of[g] for g in brand_groups.get(b, ())}
            out = by_brand[b] = (
                {w: next(iter(ts)) for w, ts in of_word.items() if len(ts) == 1}, next(iter(only)) if len(only) == 1 else None
            )
        return out

    topic_members: dict[int, list[int]] = defaultdict(list)
    for g in range(n_groups):
        if g in topic_of:
            topic_members[topic_of[g]].append(g)
            continue
        group = products.groups[g]
        words: Collection[str] = (
            topic_words[group[0]] if len(group) == 1 else frozenset(chain.from_iterable(map(topic_words.__getitem__, group)))
        )
        found = proposing_words & words
        best: tuple[int, int, int, int] | None = None
        if found:
            hits: dict[int, int] = {}  # topic → how many of its type words the mention uses
            for w in found:
                for t in proposing[w]:
                    hits[t] = hits.get(t, 0) + 1
            top = max(hits.values())
            if top >= 2:  # two type words: the topic with the most (then the most vocabulary words) wins
                for t, in_type in hits.items():
                    if in_type == top:
                        key = (in_type, 0, len(v_words[t].intersection(words)), -t)
                        best = key if best is None or key > best else best
            else:  # one type word: the topic's own head noun, or a head noun with the topic's generic words
                # ("wireless charging stand" when "wireless" and "charging" are everywhere), or two specific words
                # of its vocabulary; type words before vocabulary
                own_head = {unique_heads[w] for w in unique_heads.keys() & words}
                qualified: dict[int, int] = {}  # topic → how many of its generic type words the mention uses
                if not generic.isdisjoint(words):
                    for t in chain(own_head, *map(shared_heads.__getitem__, shared_heads.keys() & words)):
                        if n := len(t_generic[t].intersection(words)):
                            qualified[t] = n
                in_vocab_of: dict[int, int] = {}  # topic → how many specific words of its vocabulary the mention uses
                for w in v_specific.keys() & words:
                    for t in v_specific[w]:
                        in_vocab_of[t] = in_vocab_of.get(t, 0) + 1
                for t in chain((t for t, n in in_vocab_of.items() if n >= 2), own_head, qualified):
                    if t in hits:
                        key = (1, qualified.get(t, 0), in_vocab_of.get(t, 0), -t)
                        best = key if best is None or key > best else best
        if best is not None:
            topic_members[-best[3]].append(g)
            continue
        # no type's words: a post naming brands joins the type their words name ("the Solenna huggies tarnished")
        brands = products.brands[group[0]] if len(group) == 1 else frozenset().union(*map(products.brands.__getitem__, group))
        if brands and (named := _named_by_brands(brands, words, brand_words)) is not None:
            topic_members[named].append(g)

    out: list[Topic | None] = [None] * n_groups
    for t, gs in topic_members.items():
        by_strength = sorted(gs, key=lambda g: (_lead_rank(lead[g], strength), g))
        words = t_words[t]
        listed = [types[g] for g in gs if g in types]
        if generic and len(listed) > 1:  # a generic word every listing's type has ("travel pillow") names it too
            words = words | generic.intersection(*listed)
        topic = Topic(name=_topic_name(products, by_strength, lead, words), products=sorted(gs, key=lambda g: g != t))
        for g in gs:
            out[g] = topic
    return out


def _named_by_brands(
    brands: Collection[str], words: Collection[str], words_of: Callable[[str], tuple[dict[str, int], int | None]]
) -> int | None:
    """The topic a post's brands name, each by a word of its own listings' types (their head noun or a word few
    listings use) that only one of its types has ("Solenna huggies"; not "Aurelle gold" when Aurelle sells gold
    hoops and a gold necklace), or, counting half, by its name alone when it sells one type here ("Whiskr vs
    LitterLuxe"): the topic most of them name, if one does. A post comparing brands is about none of their
    products, but about their type. `words_of`: a brand → (its telling words → their one topic, its only topic)."""
    votes: dict[int, int] = {}
    for b in brands:
        one, only = words_of(b)
        named: int | None = None
        for w in words:
            t = one.get(w)
            if t is not None and t != named:
                if named is not None:
                    named = -1  # two of its types: it names neither
                    break
                named = t
        weight = 2
        if named is None:
            named, weight = only, 1  # its name alone says less than its name and a word of its type
        if named is not None and named >= 0:
            if len(brands) == 1:
                return named
            votes[named] = votes.get(named, 0) + weight
    if not votes:
        return None
    top = max(votes.values())
    best = [t for t, n in votes.items() if n == top]
    return best[0] if len(best) == 1 else None


def _listing_topics(
    types: dict[int, frozenset[str]], heads: dict[int, str], phrases: dict[int, tuple[str, ...]], nouns: Collection[str],
    generic: set[str], df: Counter[str], rare: int, order: list[int], lone_kinds: dict[int, tuple[str, frozenset[str]]],
) -> dict[int, int]:
    """group → its topic (the smallest group of the topic), for groups led by a listing. In `order`
    (strongest listing first), a listing that shares a pair of type words (one of them rare) with a
    topic's anchor joins that anchor's topic (the one it shares most pairs with, then the stronger);
    otherwise it anchors a topic of its own. One word of the pair is the head noun of either listing or
    says what both do ("Heatless Curling …"): "memory foam" alone does not make a pillow and slippers one
    type. Both words are specific, or one is a generic word and the other a head noun ("travel pillow" in
    a travel list), or two listings of one head noun share one more word, however common ("phone case" on
    a list of cases); two listings of one head noun whose words before it differ, one of those a product of
    the run, are two types ("Treadmill Mat" / "Yoga Mat"). An accessory never joins the type it serves
    ("Air Fryer Liners" / "Air Fryer"). A head noun at most RARE_TYPE_WORD listings have links two of one
    category, with one more word of their titles ("Stainless Steel Pet Fountain" / "Cat Water Fountain … Pet
    Water Dispenser"; not "Ice Cream Machine" / "White Noise Machine": `lone_kinds`, group → its category's key
    and its title's other words). Links only to anchors, never through members: pairwise links chain ("a b" ~ "b c" ~ "c d" …) until
    unrelated types fill one story."""
    anchor_of: dict[tuple[str, str], int] = {}  # a pair → the anchor holding it (at most one)
    anchor_of_head: dict[tuple[str, str], int] = {}  # (head noun, another word) → the anchor of that head
    anchor: dict[int, int] = {}
    position = {g: k for k, g in enumerate(order)}
    for g in order:
        words = types[g]
        specific = words - generic
        pairs = list(combinations(sorted(specific), 2))
        if len(specific) < len(words):
            qualifiers = words & generic
            for noun in specific.intersection(nouns):
                pairs += [(w, noun) if w < noun else (noun, w) for w in qualifiers]
        pairs = [pair for pair in pairs if df[pair[0]] <= rare or df[pair[1]] <= rare]
        head = heads.get(g)
        # the head noun and one more word, however common, with an anchor of the same head noun: "Rugged Phone
        # Case" / "Slim Phone Case" on a list of twenty cases
        lone_kind, lone_words = lone_kinds.get(g, ("", frozenset()))
        same_head = _head_keys(head, words, generic, lone_kind)
        votes: dict[int, int] = {}
        for pair in pairs:
            a = anchor_of.get(pair)
            if a is None:
                continue
            a_head = heads.get(a)
            if a_head == head and _other_kind(phrases[g], phrases[a], nouns):
                continue
            # without either head noun, a pair says what both are made of ("memory foam": a pillow, slippers),
            # unless it says what both do ("heatless curling": a rod headband, a ribbon)
            if head not in pair and a_head not in pair and (_doing(phrases[g]) & _doing(phrases[a])).isdisjoint(pair):
                continue
            if not _serves(head, a_head, types[a]) and not _serves(a_head, head, words):
                votes[a] = votes.get(a, 0) + 1
        for key in same_head:  # (by the head noun alone, their titles share one more word)
            a = anchor_of_head.get(key)
            if a is not None and not _other_kind(phrases[g], phrases[a], nouns) and (
                key[1] != lone_kind or not lone_words.isdisjoint(lone_kinds[a][1])
            ):
                votes[a] = votes.get(a, 0) + 1
        if votes:
            anchor[g] = max(votes, key=lambda a: (votes[a], -position[a]))
            continue
        anchor[g] = g
        for pair in pairs:
            anchor_of[pair] = g
        for key in same_head:
            anchor_of_head[key] = g
    first: dict[int, int] = {}
    for g in sorted(anchor):
        first.setdefault(anchor[g], g)
    return {g: first[a] for g, a in anchor.items()}


def _head_keys(head: str | None, words: frozenset[str], generic: set[str], lone_kind: str | None) -> list[tuple[str, str]]:
    """(head noun, another word of the type) pairs, and (head noun, category key) when the head noun alone says the
    type (type words never start with "#")."""
    if head is None or head in generic:
        return []
    keys = [(head, w) for w in words if w != head]
    if lone_kind:
        keys.append((head, lone_kind))
    return keys


def _other_kind(a: tuple[str, ...], b: tuple[str, ...], nouns: Collection[str]) -> bool:
    """Two phrases of one head noun whose words before it differ, one of them a product of the run itself:
    "Treadmill Mat" is a mat for a treadmill, not a "Yoga Mat"."""
    pre_a, pre_b = _pre_head(a), _pre_head(b)
    return pre_a is not None and pre_b is not None and pre_a != pre_b and (pre_a in nouns or pre_b in nouns)


def _says_type_end(phrase: tuple[str, ...], words: Sequence[str]) -> bool:
    """A mention's words (in order) hold the two words that end a type phrase, or the two before its head noun,
    side by side: "chunky hoops" of "Gold Plated Chunky Hoop Earrings"."""
    ends = _type_ends(phrase)
    return bool(ends) and not ends.isdisjoint(pairwise(words))


@lru_cache(maxsize=1 << 14)
def _type_ends(phrase: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    stems = [single_stem(w) for w in phrase[-3:]]
    return frozenset((a, b) for a, b in pairwise(stems) if a is not None and b is not None)


@lru_cache(maxsize=1 << 14)
def _pre_head(phrase: tuple[str, ...]) -> str | None:
    """The stem of the word before a type phrase's head noun ("treadmill" in "Anti-Slip Treadmill Mat")."""
    return single_stem(phrase[-2]) if len(phrase) > 1 else None


@lru_cache(maxsize=1 << 14)
def _doing(phrase: tuple[str, ...]) -> frozenset[str]:
    """Stems of the words in a type phrase that say what the product does ("Curling", "Charging")."""
    return frozenset(filter(None, (single_stem(w) for w in phrase if len(w) > 5 and w.casefold().endswith("ing"))))


_ACCESSORY_HEADS = frozenset(filter(None, map(single_stem, ACCESSORY_NOUNS)))


def _serves(head: str | None, other_head: str | None, other_words: frozenset[str]) -> bool:
    """A type headed by an accessory noun that the other type does not name is an accessory of it."""
    return head is not None and head != other_head and head in _ACCESSORY_HEADS and head not in other_words


NAME_LISTINGS = 5  # the topic's first listings (strongest product first) propose its name
NAME_ITEMS = 60  # how many of its items vote on the form of its last word


def _topic_name(  # noqa: C901 - naming rules in the order an editor applies them, each one a guard
    products: Products, groups: list[int], lead: list[int | None], words: set[str]
) -> str:
    """The product type as readers say it: the longest 2–3-word run of a listing's type phrase that
    several items of the story use (at least 2, and 30% as many as use its most used word; a run half as
    common as that word beats a longer, rarer one), else the strongest listing's whole type phrase; its
    last word in the form the items use most ("curler" over "curling"), plural. "LED face masks",
    "heatless curlers", "magnetic phone grips". Its first NAME_ITEMS items vote (deterministic: key order)."""
    phrases = [products.types[i].phrase for g in groups[:NAME_LISTINGS] if (i := lead[g]) is not None]
    if len(groups) == 1:  # one product: its own type phrase
        phrase = _readable(phrases[0])
        return " ".join([*(display_word(w) for w in phrase[:-1]), plural(display_word(phrase[-1]))]) if phrase else ""
    stems_of: dict[tuple[str, ...], frozenset[str]] = {}  # runs of 1–3 phrase words whose stems are all topic words
    endings = {phrase[-k:] for phrase in phrases for k in (2, 3)}  # runs that end with their phrase's head noun
    for phrase in phrases:
        word_stems = [topic_tokens(w) for w in phrase]
        for k in range(len(phrase)):
            stems: frozenset[str] = frozenset()
            for end in range(k + 1, min(k + 3, len(phrase)) + 1):
                stems = stems.union(word_stems[end - 1])
                if stems:
                    if not stems <= words:
                        break  # a longer run holds these stems too
                    stems_of[phrase[k:end]] = stems
    voters = list(islice(chain.from_iterable(products.groups[g] for g in groups), NAME_ITEMS))
    topic_words = products.topic_words
    # runs are counted by their stems (phrases of several listings share them), over the distinct sets of
    # topic words the voters use (items of one product mostly use the same ones)
    in_words = frozenset(words).intersection
    used: dict[frozenset[str], int] = {}
    for i in voters:
        t = in_words(topic_words[i])
        used[t] = used.get(t, 0) + 1
    votes = dict.fromkeys(stems_of.values(), 0)
    for t, n in used.items():
        for stems in votes:
            if stems <= t:
                votes[stems] += n
    runs = {run: votes[stems] for run, stems in stems_of.items()}
    top = max(runs.values(), default=0)
    # a run ending in a participle ("Wide Mouth Insulated") describes the type, it does not name it
    multi = [r for r in runs if len(r) > 1 and runs[r] >= max(2, 0.3 * top) and not _participle(r[-1])]

    def use(word: str) -> int:  # how many voters use the word
        return votes.get(frozenset(topic_tokens(word)), 0)

    # the name ends with its most used word ("milk frother", not "milk frother handheld"), then the longest run
    best = _readable(
        max(multi, key=lambda r: (runs[r] >= top / 2, use(r[-1]) >= max(map(use, r)), len(r), r in endings, runs[r], r))
        if multi
        else next((p for p in phrases if p), ())
    )
    if not best:
        return ""
    lead_phrase = _readable(phrases[0]) if phrases else ()
    head = lead_phrase[-1] if lead_phrase else None
    if (
        head is not None and len(best) < MAX_NAME_WORDS and 2 * use(head) > len(voters)
        and single_stem(head) not in {single_stem(w) for w in best}
    ):
        best = (*best, head)  # most posts say its noun too: "clear fridge" + "bins", as they say it
    last_stem = single_stem(best[-1])
    forms: dict[str, int] = {}
    for i in voters:
        if last_stem not in topic_words[i]:
            continue  # no word of it is a form of the last word
        for word in products.tokens[i]:
            if stem(word) == last_stem and not word.endswith("ing"):  # how items spell it ("curlers", not "curling")
                forms[word] = forms.get(word, 0) + 1
    last = max(forms, key=lambda f: (forms[f], -len(f), f)) if forms else display_word(best[-1])
    return " ".join([*(display_word(w) for w in best[:-1]), plural(last)])


MAX_NAME_WORDS = 4  # "memory foam travel pillows"; not "ultra-soft reusable makeup remover pads"


def _readable(phrase: tuple[str, ...]) -> tuple[str, ...]:
    """A type phrase as a name: no model numbers ("X9"), no trailing code ("Mineral Sunscreen SPF"), its last
    MAX_NAME_WORDS words (what comes first is a brand the run could not learn, or a feature)."""
    words = phrase
    if phrase and not _DIGIT(phrase[-1]):  # a model before the noun; a code as the noun stays
        words = tuple(w for w in phrase if not _DIGIT(w))
    while len(words) > 1 and words[-1].isupper() and len(words[-1]) <= 4:
        words = words[:-1]
    return words[-MAX_NAME_WORDS:]


def _participle(word: str) -> bool:
    return len(word) > 4 and word.casefold().endswith("ed")


def clear_caches() -> None:
    """Forget every memoised title, link and word (benchmarks start each timed call cold)."""
    _doing.cache_clear()
    _pre_head.cache_clear()
    _type_ends.cache_clear()
    _model_specs.cache_clear()
    _title_numbers.cache_clear()
    text.clear_caches()
