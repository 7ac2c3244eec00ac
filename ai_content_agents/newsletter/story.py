"""What a story is made of, read off a ranked `Trend`: its name, its lead item, its creator videos, its threads,
its Amazon move, its third-party claims. Pure functions over the models, shared by the section selection, the
citable payload (`evidence.trend_payload`) and the fact-check, so all three agree on what a story says.

Works with both shapes of `Trend`: the story shape (topic, products, lead_key, evidence with q/counted) and the
older grouping whose evidence components are empty (then the items' own `Signals` are read instead).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import ProductRef, SourceEvidence, SourceKind, Trend, TrendItem
from ..sources import meta, names


def sources_of_kind(kind: SourceKind) -> tuple[str, ...]:
    """The registered sources of one kind (each source declares its kind in its `META`)."""
    return tuple(n for n in names() if meta(n).kind == kind)


# a creator video is "far ahead of its creator's norm" at this shrunk multiple (or better)
CREATOR_MIN_MULTIPLE = 3.0
# a thread is worth quoting when it beats its community's usual engagement by this much
THREAD_MIN_MULTIPLE = 2.0
NAME_MAX_WORDS = 6
SELLER_SUBREDDITS = frozenset(
    s.lower()
    for s in (
        "TikTokShop", "shopify", "ecommerce", "dropship", "FulfillmentByAmazon", "smallbusiness",
        "EntrepreneurRideAlong", "AmazonSeller", "Etsy", "sweatystartup",
    )
)  # fmt: skip
_CREATOR_BASELINES = ("author", "creator", "channel")


def is_listing(item: TrendItem) -> bool:
    """A marketplace listing (its title is a product name), not a post whose title is free text: an item of a
    listing source (its `META.kind`), except the videos a shop source reports alongside its products ("video:<id>")."""
    return meta(item.source).kind == "listing" and not item.source_id.startswith("video:")


def is_free_text(item: TrendItem) -> bool:
    """Captions, post titles and tweets: third-party text. Numbers in it are claims, never measurements."""
    return not is_listing(item)


def item_by_key(trend: Trend) -> dict[str, TrendItem]:
    return {it.key: it for it in trend.items}


def multiple(item: TrendItem) -> float:
    sig = item.signals
    if sig is None:
        return 0.0
    return float(sig.m_s if sig.m_s is not None else (sig.m or 0.0))


def _strength(ev: SourceEvidence) -> float:
    return ev.q if ev.q > 0 else ev.p


def counted(trend: Trend) -> list[SourceEvidence]:
    """The evidence that counts towards the score, strongest first."""
    return sorted((e for e in trend.evidence if e.counted), key=lambda e: (-_strength(e), e.source))


def best_item(trend: Trend, ev: SourceEvidence) -> TrendItem | None:
    by_key = item_by_key(trend)
    return by_key.get(ev.best_key) or next((it for it in trend.items if it.source == ev.source), None)


def lead_item(trend: Trend) -> TrendItem | None:
    """The story's lead: `lead_key` when ranking set it, else the best item of its strongest counted source."""
    by_key = item_by_key(trend)
    if trend.lead_key and trend.lead_key in by_key:
        return by_key[trend.lead_key]
    for ev in counted(trend) or sorted(trend.evidence, key=lambda e: -_strength(e)):
        found = best_item(trend, ev)
        if found is not None:
            return found
    return trend.items[0] if trend.items else None


def corroborated(trend: Trend) -> bool:
    """Two or more independent sources count towards it."""
    return "single_source" not in trend.flags and len({e.source for e in trend.evidence if e.counted}) >= 2


_PACK = re.compile(r"\s+\d+\s*-?\s*(?:pack|pk|count|ct|pcs|pieces|pairs?|sets?)\s*$", re.I)  # "… 2 Pack"
_SIZE = re.compile(r"\d+(?:[.,]\d+)?-?(?:ml|l|oz|g|kg|mg|lbs?|pcs|pk|ct|mah|w|in|ft|qt|cm|mm)", re.I)  # "30ml", "40oz"


def short_name(title: str) -> str:
    """A listing title as a name people say: "SnapGrip Magnetic Phone Grip and Stand, MagSafe…" → "SnapGrip Magnetic
    Phone Grip". Cut at the first comma, dash, bar, bracket or colon, then before "and/with/for/under/no/compatible", at most
    NAME_MAX_WORDS words: the brand and the words that end on the product's noun ("Aurelle Gold Plated Chunky Hoop
    Earrings", not "Aurelle 14K Gold Plated Chunky")."""
    text = re.split(r",|\s[-–—|]\s|\s\(|:\s", title, maxsplit=1)[0].strip()
    text = re.split(r"\s+(?:and|with|for|&|under|over|no|compatible)\s+", text, maxsplit=1, flags=re.I)[0].strip()
    words = _PACK.sub("", text).split() or text.split()  # "… Screen Protector 2 Pack" ends at "Protector"
    while len(words) > 1 and (not any(c.isalpha() for c in words[-1]) or _SIZE.fullmatch(words[-1])):
        words.pop()  # "… Screen Protector 2", "… Serum 30ml" end at the word before
    if len(words) > NAME_MAX_WORDS:  # a grade or size ("14K") goes first, then the words after the brand
        words = [w for w in words if not _DIGIT.search(w)] or words
        if len(words) > NAME_MAX_WORDS:  # the brand and the words that end on the noun
            words = [words[0], *words[1 - NAME_MAX_WORDS :]]
    return " ".join(words) or title.strip()


def named_product(trend: Trend) -> ProductRef | None:
    """The product a story's copy names: its strongest product with a listing."""
    listed = {it.key for it in trend.items if is_listing(it)}
    return next((p for p in trend.products if p.listing or listed.intersection(p.item_keys)), None)


def about(trend: Trend, item: TrendItem) -> tuple[str, bool]:
    """What an item of the story is about when it is not the named product: (another product's short name, True),
    or (the story's product type, False) for a mention that only shares the type; ("", False) for the named
    product's own items. Copy says it, so one product's figures are never read as another's."""
    named = named_product(trend)
    if named is None or item.key in named.item_keys:
        return "", False
    own = next((p for p in trend.products if item.key in p.item_keys), None)
    if own is not None and own.listing:
        return short_name(own.title), True
    return trend.topic or "", False


def name(trend: Trend) -> str | None:
    """The product the story is about, as a short name, or None when no listing or topic anchors it."""
    named = named_product(trend)
    if named is not None:
        return short_name(named.title)
    lead = lead_item(trend)
    if lead is not None and is_listing(lead):
        return short_name(lead.title)
    listing = next((it for it in trend.items if it.source == "amazon"), None) or next(
        (it for it in trend.items if is_listing(it)), None
    )
    if listing is not None:
        return short_name(listing.title)
    return trend.topic


def reference(display: str | None, topic: str | None = None) -> str:
    """How later sentences refer to the product: its brand when the name starts with one ("LumaGlow"), else the name."""
    if not display:
        return topic or "it"
    words = display.split()
    if len(words) > 2 and re.search(r"[a-z][A-Z]", words[0]):
        return words[0]
    return display  # two words of it ("Magnetic Clear") name nothing


def product_anchor(trend: Trend) -> bool:
    """The story stands on a product: a product type, a listing, or an item that links to one (every story has
    products, a thread alone is one too: that is not enough)."""
    if trend.topic or any(p.listing for p in trend.products):
        return True
    return any(is_listing(it) or any(c.startswith(("asin:", "tiktok_product:")) for c in it.canonical_ids)
               for it in trend.items)


def creator_relative(item: TrendItem) -> bool:
    """The item's multiple is measured against its own creator's or channel's norm."""
    sig = item.signals
    if sig is None:
        return False
    if sig.baseline_level:
        return sig.baseline_level == "author"
    kind = sig.baseline_kind.lower()
    return any(k in kind for k in _CREATOR_BASELINES) and "not creator-relative" not in kind


def creator_video(trend: Trend) -> TrendItem | None:
    """The story's creator video running far ahead of its norm: a TikTok or YouTube item (the best of its source) at
    `CREATOR_MIN_MULTIPLE` or more, creator-relative baselines first."""
    found: list[TrendItem] = []
    for ev in trend.evidence:
        if meta(ev.source).kind != "video" or not ev.counted:
            continue
        item = best_item(trend, ev)
        if item is not None and item.signals is not None and multiple(item) >= CREATOR_MIN_MULTIPLE:
            found.append(item)
    found.sort(key=lambda it: (not creator_relative(it), -multiple(it), it.key))
    return found[0] if found else None


def threads(trend: Trend) -> list[TrendItem]:
    """Reddit posts and X threads of the story that beat their community's norm, strongest first."""
    out = [
        it for it in trend.items
        if meta(it.source).kind == "thread" and it.signals is not None
        and (it.signals.q > 0 or multiple(it) >= THREAD_MIN_MULTIPLE)
    ]  # fmt: skip
    return sorted(out, key=lambda it: (-(it.signals.q if it.signals else 0.0), -multiple(it), it.key))


def amazon_item(trend: Trend) -> TrendItem | None:
    """The story's Amazon listing when Amazon's evidence counts and the listing moved (a gain or a rank)."""
    for ev in trend.evidence:
        if ev.source != "amazon" or not ev.counted:
            continue
        item = best_item(trend, ev)
        if item is not None and (item.metrics.get("percent_gain") or item.metrics.get("position")
                                 or (item.signals and item.signals.velocity)):
            return item
    return None


def thumbnail_item(trend: Trend) -> TrendItem | None:
    """The item whose picture shows the product best: the named product's listing first, then any listing, then
    the lead, then any item with one."""
    pictured = [it for it in trend.items if it.thumbnail]
    if not pictured:
        return None
    named = named_product(trend)
    own = set(named.item_keys) if named is not None else set()
    lead = lead_item(trend)
    return (
        next((it for it in pictured if is_listing(it) and it.key in own), None)
        or next((it for it in pictured if is_listing(it)), None)
        or (lead if lead in pictured else pictured[0])
    )


# --- third-party claims -------------------------------------------------------------------------------
_CLAUSE = re.compile(r"(?:[^.!?…\n;]|(?<=\d)\.(?=\d))+")  # a decimal point ("$9.99") does not end a clause
_DIGIT = re.compile(r"\d")
_CLAIM_WORDS = re.compile(
    r"\b(?:sold|sells|selling|sales|units?|orders?|revenue|profit|made|mo|month|day|days|hours?|restock|"
    r"roas|margin|conversion|views|followers)\b|[$£€%]",
    re.I,
)
_INSTRUCTION = re.compile(r"\b(?:ignore|instructions?|system|prompt|api key|reveal|set (?:all|every))\b", re.I)
_QUOTE_MAX_WORDS = 12


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def claim_in(text: str) -> str | None:
    """The first clause of `text` that reports a number (sales, units, orders, money, percentages), verbatim and
    short enough to quote; None when there is none. Clauses that read like instructions are never quoted."""
    for m in _CLAUSE.finditer(_tidy(text)):
        clause = m.group().strip(" ,-–—:\"'“”")
        if not _DIGIT.search(clause) or not _CLAIM_WORDS.search(clause) or _INSTRUCTION.search(clause):
            continue
        words = clause.split()
        if len(words) > _QUOTE_MAX_WORDS:
            at = next(i for i, w in enumerate(words) if _DIGIT.search(w))
            start = max(0, min(at - 4, len(words) - _QUOTE_MAX_WORDS))
            clause = " ".join(words[start : start + _QUOTE_MAX_WORDS])
        return clause
    return None


def speaker(item: TrendItem) -> str:
    """Who said it, as copy attributes it: "a seller on r/TikTokShop", "@handle on X", "TikTok creator @handle"."""
    if item.source == "reddit":
        sub = (item.group or "").removeprefix("r/")
        who = "a seller" if sub.lower() in SELLER_SUBREDDITS else "a poster"
        return f"{who} on r/{sub}" if sub else "a Reddit poster"
    if item.source == "x":
        return f"@{item.author} on X" if item.author else "a post on X"
    if item.source == "tiktok":
        return f"TikTok creator @{item.author}" if item.author else "a TikTok creator"
    if item.source == "youtube":
        return f"YouTube channel {item.author}" if item.author else "a YouTube channel"
    return "the shop listing"


def free_texts(items: Iterable[TrendItem]) -> list[str]:
    """Every piece of scraped free text of these items (titles of posts, captions, bodies)."""
    out: list[str] = []
    for it in items:
        if is_free_text(it):
            out += [t for t in (it.title, it.text) if t]
    return out
