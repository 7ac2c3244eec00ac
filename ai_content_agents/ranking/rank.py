"""Fair cross-source ranking (trends_scoring §0–§5): products → stories → accumulated score → caps.

Each source's scorer has already turned an item's surprise against its own baseline into an evidence
strength `q` (0 at its norm). Here items are resolved into products and stories (`entities`), each
story's evidence accumulates by noisy-OR over independent sources with one decay (`score`), and the
top N is filled in score order, where no source may place more than ⌈N/3⌉ *single-source* stories
(a corroborated story is never charged to a cap) and off-topic stories stay out.

Deterministic: items are processed in key order, so shuffled input gives identical output. Near-linear
(100k items in a few seconds): blocked fuzzy matching, token indexes, plain data until the end.
"""

from __future__ import annotations

import gc
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from pydantic import BaseModel, Field, field_validator

from ..models import Trend, TrendItem
from .entities import MatchConfig, Topic, group_topics, is_listing, resolve_products
from .score import Run, Weights, aware, single_item_story, story_fields, strengths, trusted
from .text import item_ids, title_tokens

log = logging.getLogger(__name__)

class RankConfig(BaseModel):
    """Ranking knobs. Defaults are the reference's suggested values; the pipeline fills it from Settings."""

    # per source; the pipeline fills both from each source's declared metadata (sources/__init__.py)
    weights: dict[str, float] = Field(default_factory=dict)
    default_weight: float = Field(1.0, ge=0)  # for a source missing from `weights`
    same_story: dict[str, str] = Field(default_factory=dict)  # source → the source it is not independent of
    # One decay for every source (§4): age from the end of the observation window, half-life tied to
    # the issue cadence (half of it: 84 h for a weekly issue).
    half_life_h: float = Field(84.0, gt=0)
    top_n: int = Field(20, ge=1)
    cap_fraction: float = Field(1 / 3, gt=0, le=1)  # ≤ ceil(top_n × cap_fraction) single-source stories per source
    price_band: float = Field(0.5, ge=0)  # max price ≤ min price × (1 + band) to count as the same product
    thin_n: int = Field(5, ge=1)  # a source with fewer items this run is "thin"
    min_shared_tokens: int = Field(2, ge=2)
    block_cap: int = Field(100, ge=5)  # fuzzy candidates per item (blocking keeps clustering near-linear)
    featured_growth: float = Field(0.10, ge=0)  # a featured story is not demoted if S grew by more than this
    niche_terms: tuple[str, ...] = ()  # words that make an item relevant without a product or commerce signal
    exclude_off_topic: bool = True  # keep off-topic stories out of the top N
    # a profile's niche: with niche_only, a story is on topic only when a niche term is in its titles (a product
    # or commerce signal alone is not enough); a story whose title or type has every word of an exclude term
    # is flagged "excluded" and kept out of the top N
    niche_only: bool = False
    exclude_terms: tuple[str, ...] = ()

    @field_validator("weights")
    @classmethod
    def _weights_non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, w in v.items() if not (w >= 0 and math.isfinite(w)))
        if bad:
            raise ValueError(f"source weights must be finite and >= 0 (bad: {', '.join(bad)})")
        return v

    def weight(self, source: str) -> float:
        return self.weights.get(source, self.default_weight)

    @property
    def per_source_cap(self) -> int:
        return max(1, math.ceil(self.top_n * self.cap_fraction - 1e-9))


class RankResult(BaseModel):
    """`rank`'s output plus what was left out and why (for the run report)."""

    trends: list[Trend]
    top_count: int = 0  # trends[:top_count] are the capped top N
    skipped: dict[str, int] = Field(default_factory=dict)  # reason → count


# --------------------------------------------------------------------------------------
# Within-source percentiles: a tie-break only (§2), never the strength
# --------------------------------------------------------------------------------------


def percentiles(items: Iterable[TrendItem]) -> dict[str, tuple[float, int]]:
    """item.key → (p, n_source): p = (rank_from_bottom − 0.5) / n on `s`, within each source, ties averaged.
    A key seen twice counts once, at its latest observation."""
    keys, its = _sorted_unique(_scored(items, Counter()))
    return {k: pn for k, pn in zip(keys, _percentiles_at(its), strict=True) if pn is not None}


def _percentiles_at(its: Sequence[TrendItem]) -> list[tuple[float, int] | None]:
    s_at: list[float] = []
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(its):
        sig = it.signals
        s = sig.s if sig is not None else math.nan
        s_at.append(s)
        if math.isfinite(s):
            by_source[it.source].append(i)
    out: list[tuple[float, int] | None] = [None] * len(its)
    s_of = s_at.__getitem__
    for at in by_source.values():
        n = len(at)
        rows = sorted(at, key=s_of)  # by s; ties keep position order, which the averaging below ignores
        if len(set(map(s_of, at))) == n:  # no ties (the usual case): rank k+1 of n
            for k, i in enumerate(rows):
                out[i] = ((k + 0.5) / n, n)
            continue
        k = 0
        while k < n:  # rows[k:j] tie on s: they share the mean of ranks k+1..j
            s_k = s_at[rows[k]]
            j = k + 1
            while j < n and s_at[rows[j]] == s_k:
                j += 1
            pn = ((k + j + 1) / 2 - 0.5) / n, n
            for m in range(k, j):
                out[rows[m]] = pn
            k = j
    return out


def _sorted_unique(items: Iterable[TrendItem], skipped: Counter[str] | None = None) -> tuple[list[str], list[TrendItem]]:
    """(keys, items) in key order, one item per key: the latest observation wins; others are counted."""
    its = list(items)
    by_key = {it.key: it for it in its}
    if len(by_key) == len(its):  # no key seen twice (the usual case)
        keys = sorted(by_key)
        return keys, [by_key[k] for k in keys]
    by_key = {}
    for it in its:
        k = it.key
        cur = by_key.get(k)
        if cur is not None and skipped is not None:
            skipped["duplicate_key"] += 1
        if cur is None or _newer(it, cur):
            by_key[k] = it
    keys = sorted(by_key)
    return keys, [by_key[k] for k in keys]


def _newer(a: TrendItem, b: TrendItem) -> bool:
    """The later observation; on a tie the stronger one, so input order never decides."""
    if a.observed_at != b.observed_at:
        return a.observed_at > b.observed_at
    sa, sb = a.signals, b.signals
    ka = (sa.q, sa.s) if sa else (-1.0, -math.inf)
    kb = (sb.q, sb.s) if sb else (-1.0, -math.inf)
    if ka != kb:
        return ka > kb
    return a.model_dump_json() > b.model_dump_json()  # identical but for details: any fixed rule will do


def _scored(items: Iterable[TrendItem], skipped: Counter[str]) -> Iterable[TrendItem]:
    for it in items:
        sig = it.signals
        if sig is None:
            skipped["no_signals"] += 1
        elif not (math.isfinite(sig.s) and math.isfinite(sig.q)):
            skipped["non_finite_s"] += 1
        else:
            yield it


def _match_config(config: RankConfig) -> MatchConfig:
    return MatchConfig(config.price_band, config.min_shared_tokens, config.block_cap)


def cluster(items: Sequence[TrendItem], config: RankConfig | None = None) -> list[list[TrendItem]]:
    """Products: items that are the same product (ids, brand mentions, guarded fuzzy titles), in key order."""
    _, its = _sorted_unique(items)
    products = resolve_products(its, _match_config(config or RankConfig()))
    return [[its[i] for i in members] for members in products.groups]


# --------------------------------------------------------------------------------------
# Relevance (§5)
# --------------------------------------------------------------------------------------


# what a commerce flag says of the account, not of the post: a seller's sourdough birthday sells nothing
_ACCOUNT_REASONS = frozenset({"tt_seller", "commerce_user", "shop_link_in_bio"})


def relevant(item: TrendItem, niche: frozenset[str], ids: Iterable[str] | None = None) -> bool:
    """A product or commerce signal, or a niche term: a listing, a product link, a commerce flag of the post
    itself (its account being a seller's is not one). `ids`: the item's canonical ids when the caller has them."""
    if is_listing(item) or (item.is_commerce and not _ACCOUNT_REASONS.issuperset(item.commerce_reasons or ("",))):
        return True
    for i in item_ids(item) if ids is None else ids:
        if i.startswith(("asin:", "tiktok_product:")):
            return True
    return bool(niche) and not niche.isdisjoint(title_tokens(item.title))


def _phrases(terms: Iterable[str]) -> list[frozenset[str]]:
    """Each term as the set of its title tokens ("ice roller" → {ice, roller}); empty terms dropped."""
    out = [frozenset(title_tokens(term)) for term in terms]
    return [p for p in out if p]


def on_niche(item: TrendItem, phrases: Sequence[frozenset[str]]) -> bool:
    """Every word of some niche term is in the item's title: the strict test of a profile (`niche_only`),
    so "ice roller" matches an ice roller and not a foam roller."""
    return _has_phrase(item.title, phrases)


def _has_phrase(text: str, phrases: Sequence[frozenset[str]]) -> bool:
    words = set(title_tokens(text))
    return any(p <= words for p in phrases)


def _flag_excluded(fields: dict[str, Any], excluded: list[frozenset[str]]) -> None:
    """Flag a story whose title or product type holds every word of an exclude term."""
    if _has_phrase(f"{fields.get('title') or ''} {fields.get('topic') or ''}", excluded):
        fields["flags"].append("excluded")


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
    """`rank`, plus counts of the items left out (no signals, non-finite scores, duplicate key)."""
    # Ranking allocates ~10 objects per item and keeps most until the Trends are built, which makes the
    # cyclic GC rescan the whole heap again and again. Nothing here builds reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _rank(items, config or RankConfig(), aware(now or datetime.now(UTC)), featured or {})
    finally:
        if was_enabled:
            gc.enable()


def _stories(
    its: list[TrendItem], keys: list[str], config: RankConfig, now: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every story's `Trend` fields (rank 0; its evidence and products already models), and the source each
    single-source story is charged to ("" for a corroborated one). Ranking reads and flags the fields; they
    become Trends once ranked."""
    w = Weights(config.weights, config.default_weight, config.half_life_h, config.thin_n, config.same_story)
    products = resolve_products(its, _match_config(config))
    strength = strengths(its, w, now)
    run = Run(its, keys, _percentiles_at(its), strength, products.listing, w, products.types)
    topics = group_topics(products, strength.f)
    niche = frozenset(t for term in config.niche_terms for t in title_tokens(term))
    phrases = _phrases(config.niche_terms) if config.niche_only else []
    strict = bool(phrases)
    excluded = _phrases(config.exclude_terms)
    done: set[int] = set()
    out: list[dict[str, Any]] = []
    strongest: list[str] = []

    def add(fields: dict[str, Any], src: str) -> None:
        if excluded:
            _flag_excluded(fields, excluded)
        out.append(fields)
        strongest.append(src)

    listing = products.listing
    names_brand = products.brands  # naming a brand this run sells is a product signal
    for g, members in enumerate(products.groups):
        topic: Topic | None = topics[g]
        if topic is None and len(members) == 1:  # most stories at scale: one item on its own
            i = members[0]
            ids = products.ids[g]
            fields, src = single_item_story(run, i, ids, None)
            it = its[i]
            if not (on_niche(it, phrases) if strict else listing[i] or names_brand[i] or relevant(it, niche, ids)):
                fields["flags"].append("off_topic")
            add(fields, src)
            continue
        if g in done:
            continue
        groups = topic.products if topic is not None else [g]
        done.update(groups)
        product_groups = [products.groups[h] for h in groups]
        positions = sorted(chain.from_iterable(product_groups)) if len(groups) > 1 else members
        fields, src = story_fields(run, positions, product_groups, [products.ids[h] for h in groups], (topic.name or None) if topic else None)
        if strict:
            story_items = fields["items"]
            if not (any(on_niche(it, phrases) for it in story_items) or (topic and _has_phrase(topic.name, phrases))):
                fields["flags"].append("off_topic")
        elif topic is None and not any(names_brand[i] or relevant(its[i], niche) for i in positions):
            fields["flags"].append("off_topic")
        add(fields, src)
    _dedupe_cluster_ids(out)
    return out, strongest


def _rank(
    items: Iterable[TrendItem],
    config: RankConfig,
    now: datetime,
    featured: Mapping[str, tuple[datetime, float, str]],
) -> RankResult:
    skipped: Counter[str] = Counter()
    keys, unique = _sorted_unique(_scored(items, skipped), skipped)
    stories, strongest = _stories(unique, keys, config, now)

    demoted: set[int] = set()
    for idx, t in enumerate(stories if featured else ()):
        hits = [featured[k] for k in _cluster_keys(t["cluster_id"], t["items"]) if k in featured]
        if not hits:
            continue
        t["flags"].append("featured_before")
        if t["score"] > max(h[1] for h in hits) * (1 + config.featured_growth):
            t["flags"].append("featured_grew")
        else:
            demoted.add(idx)

    # by score, then corroboration, then cluster id (unique): featured stories that did not grow sink
    sort_keys = [(-t["score"], -t["independent_sources"], t["cluster_id"]) for t in stories]
    order = sorted(range(len(stories)), key=sort_keys.__getitem__)
    if demoted:
        order = [i for i in order if i not in demoted] + [i for i in order if i in demoted]
    cap = config.per_source_cap
    top_n, exclude_off_topic = config.top_n, config.exclude_off_topic
    per_source: Counter[str] = Counter()
    top: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for i in order:
        t = stories[i]
        flags = t["flags"]
        if len(top) < top_n and not (
            "ineligible" in flags or "excluded" in flags or (exclude_off_topic and "off_topic" in flags)
        ):
            src = strongest[i]  # "" for a corroborated story: never charged to a cap
            if not src or per_source[src] < cap:
                if src:
                    per_source[src] += 1
                top.append(t)
                continue
            flags.append("capped")  # kept out of the top N only by its source's single-source cap
        rest.append(t)
    ranked: list[Trend] = []
    for n, t in enumerate(chain(top, rest), 1):
        t["rank"] = n
        ranked.append(trusted(Trend, t))
    if skipped:
        log.info("ranking skipped %s", dict(skipped))
    return RankResult(trends=ranked, top_count=len(top), skipped=dict(skipped))


def rank(
    items: Iterable[TrendItem],
    config: RankConfig | None = None,
    now: datetime | None = None,
    featured: Mapping[str, tuple[datetime, float, str]] | None = None,
) -> list[Trend]:
    """All stories, ranked: the capped top N first (ranks 1..N), then the rest in score order.

    `featured` maps cluster keys (see `cluster_keys`) to (featured_at, score then, issue id) for the
    caller's look-back window; those stories sink below unfeatured ones unless their score grew."""
    return rank_with_stats(items, config, now, featured).trends


def _dedupe_cluster_ids(stories: list[dict[str, Any]]) -> None:
    """Title-hash ids can collide for stories kept apart by guards; suffix the later ones (~2, ~3…)."""
    seen: set[str] = set()
    repeats: Counter[str] = Counter()
    for t in stories:
        cid = t["cluster_id"]
        if cid in seen:
            repeats[cid] += 1
            t["cluster_id"] = f"{cid}~{repeats[cid] + 1}"
        else:
            seen.add(cid)
