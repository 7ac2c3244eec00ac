"""Text and link normalisation for matching items across sources (trends_scoring §3): title tokens,
brands, categories, canonical ids from links, and the product-type phrase of a listing title.

Pure and cached: the same titles recur across runs and sources.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import chain
from typing import Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from ..models import TrendItem

_T = TypeVar("_T")

_HASHTAG = re.compile(r"[#@][^\s#@]+")
_FILLER_PHRASES = re.compile(
    r"\b(?:tik\s*tok\s+made\s+me\s+buy\s+it|amazon\s+(?:finds?|must\s*haves?)|must\s*haves?|"
    r"(?:20\d\d\s+)?(?:new|newest|latest|upgraded)(?:\s+20\d\d)?|best\s*sellers?|free\s+shipping|"
    r"as\s+seen\s+on\s+tik\s*tok|going\s+viral|limited\s+time)\b"
)
_UNITS = (
    r"pack|packs|pk|pcs|pc|pieces?|count|ct|ml|millilit(?:er|re)s?|l|lit(?:er|re)s?|oz|fl\s*oz|g|grams?|kg|lbs?|"
    r"in|inch|inches|cm|mm|ft|qt|w|watts?|mah|v|volts?|blades?|speeds?|colou?rs?|modes?|layers?|sets?|units?|"
    r"sheets?|capsules?|tablets?|servings?|mg|mcg|iu|billion(?:\s+cfus?)?|cfus?|x"
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
    "protector sleeve pouch nozzle attachment accessory spare liner".split()
)


# one pass: hashtags/mentions, then filler phrases, then specs (alternation order matters: "2026 new")
_STRIP = re.compile(f"{_HASHTAG.pattern}|{_FILLER_PHRASES.pattern}|{_SPEC.pattern}")
_STRIP_ANY_CASE = re.compile(_STRIP.pattern, re.IGNORECASE)  # on text that keeps its spelling
_DROP = _STOP | _FILLER_TOKENS
# Could _STRIP match here? Most titles need no stripping, and _STRIP's alternation is the slow part: only
# a hashtag or mention, a digit that starts a word (a spec, "2026 new"), or a word that starts a filler
# phrase makes it worth running.
_WORD_DIGIT = re.compile(r"[0-9](?<![^\W_][0-9])")
# the first word of every _FILLER_PHRASES alternative, as _TOKEN cuts it
_STRIP_LEADS = frozenset(
    "tik tiktok amazon must musthave musthaves new newest latest upgraded best bestseller bestsellers free "
    "seen going limited".split()
)


def _may_strip(text: str, words: Iterable[str]) -> bool:
    """`words`: the (lower-case) text's words as _TOKEN cuts them."""
    return "#" in text or "@" in text or not _STRIP_LEADS.isdisjoint(words) or _WORD_DIGIT.search(text) is not None


def _plain(text: str) -> bool:
    """ASCII letters, digits and spaces only (most titles): the words are the split, no regex needed."""
    return text.isascii() and text.replace(" ", "").isalnum()


class _Memo(dict[str, _T], Generic[_T]):
    """`fn`'s result per argument, computed on first use. Looking one up is a single C call
    (`memo.__getitem__`, which `map` can drive), several times cheaper than `lru_cache` for the millions
    of words and titles a big run sees. Bounded: full at `limit`, it starts over."""

    __slots__ = ("fn", "limit")

    def __init__(self, fn: Callable[[str], _T], limit: int = 1 << 18) -> None:
        super().__init__()
        self.fn = fn
        self.limit = limit

    def __missing__(self, key: str) -> _T:
        if len(self) >= self.limit:
            self.clear()
        out = self[key] = self.fn(key)
        return out


def _fold_token(raw: str) -> str:
    """A raw title word as a token: "" for short, stop, filler and number words; light plural folding
    ("blades"/"blade", "masks"/"mask")."""
    if len(raw) < 2 or raw in _DROP or raw.isdigit():
        return ""
    if len(raw) > 3 and raw[-1] == "s" and raw[-2] not in "sui":
        return raw[:-1]
    return raw


_TOKENS = _Memo(_fold_token)  # "" drops the word


def tokenise_title(title: str) -> tuple[str, ...]:
    """Normalised, de-duplicated tokens of a title, in first-seen order: case, emoji, punctuation,
    hashtags, pack sizes/units and marketing filler removed (§3.2). Not memoised: for a run's own titles,
    each read once (a memo of 100k titles seen once is only a big dict); `title_tokens` for the rest."""
    ascii_ = title.isascii()  # NFKC leaves ASCII as it is, and casefold is lower() there
    text = title.lower() if ascii_ else unicodedata.normalize("NFKC", title).casefold()
    find = (_ASCII_TOKEN if ascii_ or text.isascii() else _TOKEN).findall
    raws = text.split() if _plain(text) else find(text)
    if _may_strip(text, raws):
        raws = find(_STRIP.sub(" ", text))
    out = dict.fromkeys(map(_TOKENS.__getitem__, raws))
    out.pop("", None)
    return tuple(out)


_TITLE_TOKENS = _Memo(tokenise_title, 1 << 19)
title_tokens = _TITLE_TOKENS.__getitem__  # `tokenise_title`, memoised


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
_AMAZON_DP = re.compile(r"https://www\.amazon\.[a-z]{2,3}(?:\.[a-z]{2})?/dp/([A-Za-z0-9]{10})/?")
_TT_PRODUCT = re.compile(r"/(?:view/product|product|pdp(?:/[^/]+)?)/(\d{6,})(?:[/?]|$)")


def link_ids(url: str) -> tuple[str, ...]:
    """Canonical ids a link resolves to: an Amazon /dp/<ASIN> → "asin:<ASIN>", a TikTok Shop product
    page → "tiktok_product:<id>". Other links give nothing (they never join clusters)."""
    low = url.lower()
    if "amazon" in low or ("tiktok" in low and ("product/" in url or "/pdp" in url)):
        return _SHOP_LINK_IDS[url]
    return ()  # most links (posts, videos, link-in-bio pages): said without a cache entry


def _shop_link_ids(url: str) -> tuple[str, ...]:
    """`link_ids` of a link that names Amazon, or TikTok and a product path."""
    m = _AMAZON_DP.fullmatch(url)
    if m:  # the canonical product link (every Amazon row has one): no need to split it
        return (f"asin:{m.group(1).upper()}",)
    low = url.lower()
    if "amazon" in low and "/dp/" not in low and "/gp/" not in low and "/product/" not in low and "asin=" not in url:
        return ()  # a cheap test before urlsplit: no product path and no asin= query, no ASIN
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


_SHOP_LINK_IDS = _Memo(_shop_link_ids)


def item_ids(item: TrendItem) -> set[str]:
    """The item's own canonical ids plus those derived from its outbound links."""
    if not item.links:
        ids = set(item.canonical_ids)
        ids.discard("")
        return ids
    ids = {c for c in item.canonical_ids if c}
    for link in item.links:
        ids.update(link_ids(link))
    return ids


def product_url_rank(url: str) -> int:
    """0 for Amazon product pages, 1 for TikTok Shop product pages, 2 otherwise (sort key)."""
    ids = link_ids(url)
    if not ids:
        return 2
    return 0 if ids[0].startswith("asin:") else 1



_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3]+")


def clean_title(title: str) -> str:
    """The title as a reader should see it: no hashtags, no emoji, single spaces."""
    if title.isascii() and "#" not in title and "@" not in title:
        return " ".join(title.split())
    t = _EMOJI.sub(" ", _HASHTAG.sub(" ", unicodedata.normalize("NFKC", title)))
    return " ".join(t.split())




# --- product types (topics) -------------------------------------------------------------

# Words that never name a product type: pack words, audiences, colours, platform and shopping words.
NON_TYPE_TOKENS = frozenset(
    "set kit pack pair piece bundle combo adult kid women men woman man girl boy unisex black white pink red "
    "blue green grey gray beige brown purple gold silver rose matte shop store find haul review video product "
    "item deal sale price order restock link bio code thing stuff everything anything week today compatible "
    "youtube reddit instagram facebook twitter example under over size".split()
)
_TYPE_SPLIT = re.compile(r",|\s[-–—|]\s|\(|\[|\bwith\b|\bfor\b|\bincludes?\b|\bby\b", re.I)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # a word, hyphenated parts kept together ("Leak-Proof")
_HEAD_SPLIT = re.compile(r"\s(?:and|&|\+)\s", re.I)
_SUFFIXES = ("ings", "ing", "ers", "er")


def _stem(token: str) -> str:
    word = token[:-1] if token.endswith(("xe", "che", "she", "sse", "zze")) else token  # "boxe" → "box"
    return next((word[: -len(x)] for x in _SUFFIXES if word.endswith(x) and len(word) - len(x) >= 4), word)


_STEMS = _Memo(_stem)  # this runs for every token of every title
# A light stemmer for topic matching only: "curling", "curlers", "curls" → "curl"; short words stay.
stem = _STEMS.__getitem__  # `_stem`, memoised


_TOPIC_STEMS = _Memo(lambda token: "" if token in NON_TYPE_TOKENS else _STEMS[token])


def topic_stems(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Of a title's tokens, the stems that can name a product type (no pack, audience, colour or platform
    words). A stem may repeat ("curler curling"): callers compare them as a set. A tuple, not a set: a run
    holds one per title, and a set of seven words takes seven times the memory."""
    return tuple(filter(None, map(_TOPIC_STEMS.__getitem__, tokens)))


def _topic_tokens(title: str) -> tuple[str, ...]:
    """`topic_stems` of a title."""
    return topic_stems(title_tokens(title))


_TOPIC_TOKENS = _Memo(_topic_tokens, 1 << 19)
topic_tokens = _TOPIC_TOKENS.__getitem__  # `_topic_tokens`, memoised


_FEATURE_MARKS = frozenset(("no", "under", "over"))  # "… Harness No Pull", "… Treadmill Under Desk"
# the second word of a two-word brand ("Example Labs", "Knead & Co"), never the start of a product type
_BRAND_TAILS = frozenset("labs co inc llc ltd company brands naturals".split())


def type_phrase(title: str, brand: str | None = None) -> tuple[str, ...]:
    """The words of a listing title that say what the product is, in order: the text before the first
    comma, dash, bracket, "with" or "for", and before "and"/"&" (so "Magnetic Phone Grip and Stand" →
    "Magnetic Phone Grip") or a "no", "under" or "over" after the type ("Dog Harness No Pull", "Walking Pad
    Under Desk"), without the brand, specs and filler. Original spelling, for naming topics."""
    if brand and "&" in title:
        first, _, rest = title.partition(" ")
        if "&" in first and title_tokens(first)[:1] == (brand,):  # "Luxe&Lark Diaper Caddy": all of the brand goes
            title = rest
    low = title.casefold()
    head = title
    if (  # _TYPE_SPLIT's clues, unrolled: most titles at scale have none, and skip the patterns
        "," in low or "(" in low or "[" in low or " by" in low or "with" in low or "for" in low or "includ" in low
        or " - " in low or " – " in low or " — " in low or " | " in low
    ):
        head = _TYPE_SPLIT.split(title, maxsplit=1)[0]
    if " and " in low or "&" in low or "+" in low:
        first = _HEAD_SPLIT.split(head, maxsplit=1)[0]
        if len(first.split()) > 1:  # "Knead & Co Bread Basket", "Salt & Pepper Grinder": one word is no type
            head = first
    if not head.isascii():
        head = unicodedata.normalize("NFKC", head)
    if "ight" in low or "oise" in low:  # "Blue Light", "White Noise": a colour that names a kind of light or noise
        head = _COLOUR_TERM.sub(r"\1-\2", head)
    low_head = head.casefold()
    plain = _plain(head)
    if _may_strip(low_head, low_head.split() if plain else _TOKEN.findall(low_head)):
        head = _STRIP_ANY_CASE.sub(" ", head)  # listings shout in title case: "2026 New", "Best Seller", "380 ML"
    words = head.split() if plain else _WORD.findall(head)
    looked_up = zip(words, map(_PHRASE_WORDS.__getitem__, words), strict=True)
    if " no " in low or " under " in low or " over " in low or low.startswith(("no ", "under ", "over ")):
        # "Dog Harness No Pull", "Walking Pad Treadmill Under Desk": after the type, a feature follows
        marked = [w for w, (folded, stems) in looked_up if (stems or folded in _FEATURE_MARKS) and folded != brand]
        cut = next((k for k, w in enumerate(marked) if k and w.casefold() in _FEATURE_MARKS), None)
        phrase = [w for w in marked[:cut] if w.casefold() not in _FEATURE_MARKS]  # "Under Desk Treadmill" keeps its type
    else:
        phrase = [w for w, (folded, stems) in looked_up if stems and folded != brand]
    if len(phrase) > 1 and phrase[0].casefold() in _BRAND_TAILS:  # "(Example) Labs Niacinamide Serum"
        del phrase[0]
    if len(phrase) > 2 and not _FEATURE_STARTS.isdisjoint(low_head.split()):
        # "Massage Gun Deep Tissue", "Work Gloves Heavy Duty": a feature follows the type
        cut = next((k for k in range(2, len(phrase)) if phrase[k].casefold() in _FEATURE_STARTS), len(phrase))
        del phrase[cut:]
    while len(phrase) > 1 and phrase[-1].casefold() in _MATERIALS:  # "Garlic Press Rocker Stainless Steel"
        del phrase[-1]
    if len(phrase) > 2 and phrase.count(phrase[-1]) > 1 and (said := phrase.index(phrase[-1])) > 0:
        del phrase[said + 1 :]  # "Snuffle Mat Interactive Feeding Mat": the type ends where its noun is first said
    return tuple(phrase)


_COLOUR_TERM = re.compile(r"\b(blue|red|infrared|white|pink|brown)\s+(light|noise)\b", re.IGNORECASE)
# words that start a feature after a type's noun ("Deep Tissue", "Extra Large", "Heavy Duty", "Super Absorbent")
_FEATURE_STARTS = frozenset("deep extra heavy super".split())
# what a product is made of, said after its noun, is a feature, never its type
_MATERIALS = frozenset(
    "stainless steel silicone bamboo wooden plastic aluminum aluminium ceramic acrylic nylon metal".split()
)


def _phrase_word(word: str) -> tuple[str, tuple[str, ...]]:
    """A word of a type phrase: folded without hyphens (to compare with a brand), and the stems of its
    parts that can name a type. Words recur across titles far more than titles do: memoised per word."""
    parts = [p for p in word.casefold().split("-") if p]
    return "".join(parts), tuple(_word_stem(p) for p in parts if _keep(p))


_PHRASE_WORDS = _Memo(_phrase_word, 1 << 16)


def type_tokens(phrase: tuple[str, ...]) -> frozenset[str]:
    """A `type_phrase` as stemmed tokens (what topic matching compares): the same folding as `title_tokens`
    on words that are already clean, so no second pass of the title patterns."""
    return frozenset(chain.from_iterable(_PHRASE_WORDS[w][1] for w in phrase))


def _keep(word: str) -> bool:
    return len(word) > 1 and not word.isdigit() and word not in _DROP and word not in NON_TYPE_TOKENS


def _word_stem(word: str) -> str:
    if len(word) > 3 and word[-1] == "s" and not word.endswith(("ss", "us", "is")):
        word = word[:-1]  # title_tokens' plural folding
    return stem(word)


def head_token(phrase: tuple[str, ...]) -> str | None:
    """The head noun of a listing's `type_phrase` (its last word): "blender", "mask", "grip", "box"."""
    return single_stem(phrase[-1]) if phrase else None


def single_stem(word: str) -> str | None:
    """A word's one topic stem ("Curlers" → "curl"); None when it has none or several ("Leak-Proof")."""
    stems = set(topic_tokens(word))
    return stems.pop() if len(stems) == 1 else None


def plural(word: str) -> str:
    low = word.casefold()
    if low.endswith(("s", "x", "sh", "ch", "z")):
        return word if low.endswith("s") and not low.endswith("ss") else word + "es"
    if low.endswith("y") and len(low) > 2 and low[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def display_word(word: str) -> str:
    """Acronyms keep their case ("LED", "USB"); other words are lower case."""
    return word if len(word) > 1 and word.isupper() else word.casefold()


def clear_caches() -> None:
    """Forget every memoised title and link (benchmarks start each timed call cold)."""
    for fn in (category_buckets, normalise_brand):
        fn.cache_clear()
    for memo in (_TOKENS, _STEMS, _TOPIC_STEMS, _TITLE_TOKENS, _TOPIC_TOKENS, _PHRASE_WORDS, _SHOP_LINK_IDS):
        memo.clear()
