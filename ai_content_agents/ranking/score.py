"""Accumulated evidence for one story (trends_scoring §4): noisy-OR over independent sources, one decay.

    S = 1 − Π_groups (1 − max_{s ∈ group} w_s · q_s · d_s)

`q` is the best item's evidence strength per source (set by the source's scorer; 0 at its norm), `w`
the source weight and `d = 2^(−age / h)` with age from the end of the item's observation window (its
post time, or the capture time of a list snapshot or analytics day) and one half-life `h` for every
source, tied to the issue cadence. A TikTok video and the TikTok Shop product it sells are one group.

Worked example (w = 1, d = 1): a portable blender with TikTok q = 0.80 and Amazon q = 0.70 scores
1 − 0.2·0.3 = 0.94; a lunch box seen only on Reddit at q = 0.90 scores 0.90; a weak X mention of the
blender (q = 0.10) raises it to 1 − 0.2·0.3·0.9 = 0.946. More evidence never lowers S; two strong
independent sources beat one; one extreme item (q ≈ 0.95) still beats two weak ones (1 − 0.7·0.7 = 0.51).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from ..models import ProductRef, Signals, SourceEvidence, Trend, TrendItem
from .entities import ListingType
from .text import category_buckets, clean_title, item_ids, normalise_title, product_url_rank, title_tokens

@dataclass(frozen=True, slots=True)
class Weights:
    weights: Mapping[str, float]
    default_weight: float
    half_life_h: float
    thin_n: int
    # sources that tell one story with another (a TikTok video and the shop product it sells, §3.5): source → group
    same_story: Mapping[str, str] = field(default_factory=dict)


_NO_P = (0.0, 0)


@dataclass(frozen=True, slots=True)
class Strengths:
    """Per item position (parallel lists: no tuple per item): w·q·d, age in hours, decay."""

    f: list[float]
    age: list[float]
    decay: list[float]


@dataclass(frozen=True, slots=True)
class Run:
    """What story building reads of each item, by its position in the run's key-sorted items."""

    items: Sequence[TrendItem]
    keys: Sequence[str]
    pct: Sequence[tuple[float, int] | None]  # within-source percentile and n (None: not scored)
    strength: Strengths
    listing: Sequence[bool]
    w: Weights
    types: Mapping[int, ListingType] = field(default_factory=dict)  # listing position → what its title says it is

    def brand(self, i: int) -> str | None:
        """A listing's brand, as it is spelled: its brand field, without a shop's suffix when the run knows the
        brand ("StrideDesk Official" → "StrideDesk"), else the brand word of its title ("Luxe&Lark")."""
        it = self.items[i]
        listing_type = self.types.get(i)
        word = listing_type.brand if listing_type is not None else None
        if it.brand:
            first = it.brand.split(None, 1)[0]
            return first if word and first != it.brand.strip() and title_tokens(first)[:1] == (word,) else it.brand
        if word is None:
            return None
        at = it.title.casefold().find(word)
        if at < 0:
            return word
        spelled = it.title[at:].split(None, 1)[0].rstrip(",;:.)")  # the whole word it is part of ("Luxe&Lark")
        return spelled if title_tokens(spelled)[:1] == (word,) else word


_FIELDS_SET = {model: set(model.model_fields) for model in (Trend, SourceEvidence, ProductRef)}
_M = TypeVar("_M", Trend, SourceEvidence, ProductRef)
_new = object.__new__
# BaseModel's slots, set through their descriptors (no lookup of the name on the model's type each time)
_set_dict = vars(BaseModel)["__dict__"].__set__
_set_fields_set = vars(BaseModel)["__pydantic_fields_set__"].__set__
_set_extra = vars(BaseModel)["__pydantic_extra__"].__set__
_set_private = vars(BaseModel)["__pydantic_private__"].__set__


def trusted(model: type[_M], fields: dict[str, Any]) -> _M:
    """`model.model_construct(**fields)` for fields ranking computed itself: every field given, each of its
    declared type (a property test compares every field of ranked Trends with what validation gives, type
    included). Validating 67k stories again took a tenth of a 100k run. Instances of a model share one
    fields set: every field is set, so setting one adds a name already there and the shared set never
    changes (its own copy was 3.7 KB a story)."""
    m = _new(model)
    _set_dict(m, fields)
    _set_fields_set(m, _FIELDS_SET[model])
    _set_extra(m, None)
    _set_private(m, None)
    return m


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def strengths(its: Sequence[TrendItem], w: Weights, now: datetime) -> Strengths:
    """w·q·d, age in hours and decay of each item. Age runs from the end of the item's observation
    window: its post time, else its capture time."""
    f: list[float] = []
    ages: list[float] = []
    decays: list[float] = []
    weights, default, half_life = w.weights, w.default_weight, w.half_life_h
    for item in its:
        end = item.published_at or item.observed_at
        age = max(0.0, (now - aware(end)).total_seconds() / 3600.0)
        decay = 2.0 ** (-age / half_life)
        sig = item.signals
        q = sig.q if sig is not None and sig.eligible else 0.0
        f.append(weights.get(item.source, default) * q * decay)
        ages.append(age)
        decays.append(decay)
    return Strengths(f, ages, decays)


def cluster_id_for(items: Sequence[TrendItem], ids: Collection[str] | None = None) -> str:
    """Stable across runs: the smallest "asin:" id, else the smallest canonical id, else a hash of the
    smallest normalised title (with brand and category bucket, so guarded-apart twins differ).
    `ids`: the items' distinct canonical ids, when the caller has them."""
    if ids is None:
        ids = set().union(*map(item_ids, items))
    if len(ids) == 1:  # most products
        (only,) = ids
        return only
    asins = [i for i in ids if i.startswith("asin:")]
    if asins:
        return min(asins)
    if ids:
        return min(ids)
    basis = min(map(_title_basis, items)) if len(items) > 1 else _title_basis(items[0])
    return "title:" + hashlib.sha1("|".join(basis).encode()).hexdigest()[:16]


def _title_basis(it: TrendItem) -> tuple[str, str, str]:
    return normalise_title(it.title), it.brand or "", ",".join(sorted(category_buckets(it.category)))


def canonical_urls(items: Sequence[TrendItem], lead: TrendItem | None = None) -> list[str]:
    """The lead item's URL first, then every item's URL and outbound links that resolve to a product,
    product pages first. Link-in-bio pages and the like are left out: copy may only cite these."""
    if len(items) == 1 and not items[0].links:  # most stories at scale: one item, no links
        url = items[0].url
        return [url] if url else []
    rank_of = {it.url: product_url_rank(it.url) for it in items if it.url}
    for it in items:
        for link in it.links:
            if link not in rank_of and (r := product_url_rank(link)) < 2:
                rank_of[link] = r
    ordered = sorted(sorted(rank_of), key=rank_of.__getitem__)  # by (rank, url): the second sort is stable
    if lead is not None and lead.url in rank_of:
        ordered.remove(lead.url)
        ordered.insert(0, lead.url)
    return ordered


def product_title(run: Run, members: Sequence[int]) -> str:
    """A product's name: its strongest listing's title (Amazon before TikTok Shop on ties), else its
    strongest item's cleaned title."""
    if len(members) == 1:
        best = run.items[members[0]]
    else:
        its, f, keys = run.items, run.strength.f, run.keys
        listings = [i for i in members if run.listing[i]]
        best = its[max(listings or members, key=lambda i: (f[i], its[i].source == "amazon", keys[i]))]
    return clean_title(best.title) or best.title


def noisy_or(factors: Mapping[str, float], same_story: Mapping[str, str] | None = None) -> float:
    """1 − Π(1 − f) over independence groups (each group's strongest factor)."""
    if len(factors) == 1:  # one source (most products): the same float as below
        (f,) = factors.values()
        return 1.0 - (1.0 - min(max(f, 0.0), 0.999999))
    best: dict[str, float] = {}
    groups = same_story or {}
    for source, f in factors.items():
        g = groups.get(source, source)
        best[g] = max(best.get(g, 0.0), f)
    miss = 1.0
    for g in sorted(best):  # a fixed order: the same inputs give the same float, whatever their order
        miss *= 1.0 - min(max(best[g], 0.0), 0.999999)
    return 1.0 - miss


def story_fields(  # noqa: C901 - one story's fields computed together so each item is read once
    run: Run, positions: Sequence[int], product_groups: Sequence[Sequence[int]], product_ids: Sequence[Collection[str]],
    topic: str | None,
) -> tuple[dict[str, Any], str]:
    """The fields of one `Trend` as plain data: every field, each of its declared type (the Trend is built
    from them without validating again); and the source a single-source story is charged to for the caps
    ("" for a corroborated one). `positions`: the story's items (ascending); `product_groups`: each
    product's items; `product_ids`: each product's canonical ids."""
    if len(positions) == 1:
        return single_item_story(run, positions[0], product_ids[0], topic)
    its, keys, f, pct, w = run.items, run.keys, run.strength.f, run.pct, run.w
    by_source: dict[str, list[int]] = {}
    for i in positions:
        by_source.setdefault(its[i].source, []).append(i)

    evidence: list[dict[str, Any]] = []
    factors: dict[str, float] = {}
    best_of: list[tuple[dict[str, Any], int]] = []
    for source in sorted(by_source) if len(by_source) > 1 else by_source:
        group = by_source[source]
        b = group[0] if len(group) == 1 else max(group, key=lambda i: (f[i], (pct[i] or _NO_P)[0], keys[i]))
        sig = its[b].signals
        if sig is None:
            continue
        ev = _evidence(run, b, sig, [keys[i] for i in group])
        evidence.append(ev)
        best_of.append((ev, b))
        if ev["counted"]:
            factors[source] = f[b]
    score = noisy_or(factors, w.same_story)
    groups = {w.same_story.get(s, s) for s in factors}
    counted = [(ev, b) for ev, b in best_of if ev["counted"]]
    if counted:
        lead_ev, lead_at = max(counted, key=lambda eb: (factors[eb[0]["source"]], eb[0]["p"], eb[0]["source"]))
    else:
        lead_ev, lead_at = None, max(positions, key=lambda i: ((pct[i] or _NO_P)[0], keys[i]))
    lead = its[lead_at]

    products: list[dict[str, Any]] = []
    lead_product: tuple[Sequence[int], dict[str, Any]] | None = None
    listing = run.listing
    for members, pids in zip(product_groups, product_ids, strict=True):
        best_by_source: dict[str, float] = {}
        brand: str | None = None  # of its first listing that names one
        listed = False
        for i in members:
            it = its[i]
            src = it.source
            best_by_source[src] = max(best_by_source.get(src, 0.0), f[i])
            if listing[i]:
                listed = True
                brand = brand or run.brand(i)
        ref = {
            "product_id": cluster_id_for([its[i] for i in members], pids),
            "title": product_title(run, members),
            "brand": brand,
            "listing": listed,
            "item_keys": [keys[i] for i in members],
            "sources": sorted(best_by_source),
            "score": score if len(product_groups) == 1 else noisy_or(best_by_source, w.same_story),
        }
        products.append(ref)
        if lead_at in members:
            lead_product = (members, ref)
    cluster_id = products[0]["product_id"]  # the story's first product (its topic's root group), before the sort
    if len(products) > 1:
        products.sort(key=lambda r: (-r["score"], r["product_id"]))
    if lead_product is not None and (len(products) == 1 or any(run.listing[i] for i in lead_product[0])):
        title = lead_product[1]["title"]
    else:
        title = clean_title(lead.title) or lead.title

    items = [its[i] for i in positions]
    flags: list[str] = []
    if len(groups) <= 1:
        flags.append("single_source")
    if lead.signals is not None and "too_recent" in lead.signals.flags:
        flags.append("too_recent")
    if any(ev["thin"] and ev["counted"] for ev in evidence):
        flags.append("thin")
    counted_sigs = [(ev["source"], sig) for ev, b in counted if (sig := its[b].signals) is not None]
    if any("estimate" in sig.flags for _, sig in counted_sigs):
        flags.append("estimate")
    if not counted:
        flags.append("ineligible")
    label, reason = label_of(counted_sigs, (lead_ev["source"], lead_ev["age_h"]) if lead_ev else None, w.half_life_h)
    category = next((it.category for it in (lead, *items) if it.category and it.source == "amazon"), None)
    category = category or next((it.category for it in (lead, *items) if it.category), None)
    return {
        "cluster_id": cluster_id,
        "rank": 0,
        "title": title,
        "topic": topic,
        "canonical_urls": canonical_urls(items, lead),
        "category": category,
        "items": items,
        "evidence": [trusted(SourceEvidence, ev) for ev in evidence],
        "products": [trusted(ProductRef, ref) for ref in products],
        "lead_key": keys[lead_at],
        "independent_sources": len(groups),
        "score": score,
        "label": label,
        "label_reason": reason,
        "flags": flags,
    }, lead_ev["source"] if len(groups) == 1 and lead_ev is not None else ""


def single_item_story(run: Run, i: int, ids: Collection[str], topic: str | None) -> tuple[dict[str, Any], str]:
    """`story_fields` for a story of one item (most of them at scale), without the general bookkeeping."""
    it = run.items[i]
    k = run.keys[i]
    sig = it.signals
    assert sig is not None  # rank only passes scored items
    w = run.w
    f = run.strength.f[i]
    counted = f > 0.0
    ev = _evidence(run, i, sig, [k])
    cid = cluster_id_for((it,), ids)
    title = clean_title(it.title) or it.title
    score = noisy_or({it.source: f}) if counted else 0.0
    flags = ["single_source"]
    if "too_recent" in sig.flags:
        flags.append("too_recent")
    if counted and ev["thin"]:
        flags.append("thin")
    if counted and "estimate" in sig.flags:
        flags.append("estimate")
    if not counted:
        flags.append("ineligible")
    label, reason = label_of(((it.source, sig),), (it.source, run.strength.age[i]), w.half_life_h) if counted else _NOT_COUNTED
    listing = run.listing[i]
    return {
        "cluster_id": cid, "rank": 0, "title": title, "topic": topic,
        "canonical_urls": canonical_urls((it,), it),
        "category": it.category, "items": [it],
        "evidence": [trusted(SourceEvidence, ev)],
        "products": [trusted(ProductRef, {"product_id": cid, "title": title, "brand": run.brand(i) if listing else None,
                                          "listing": listing, "item_keys": [k], "sources": [it.source], "score": score})],
        "lead_key": k, "independent_sources": 1 if counted else 0, "score": score, "label": label,
        "label_reason": reason, "flags": flags,
    }, it.source if counted else ""


def _evidence(run: Run, b: int, sig: Signals, item_keys: list[str]) -> dict[str, Any]:
    """A `SourceEvidence`'s fields: one source's items (`item_keys`) and its best item `b` (whose `sig`)."""
    st = run.strength
    p, n_source = run.pct[b] or _NO_P
    w = run.w
    source = run.items[b].source
    return {
        "source": source, "item_keys": item_keys, "best_key": run.keys[b], "metric": sig.metric,
        "value": sig.value, "baseline": sig.baseline, "baseline_level": sig.baseline_level,
        "n_baseline": sig.n_baseline, "m": sig.m, "m_s": sig.m_s, "q": sig.q if sig.eligible else 0.0, "s": sig.s,
        "p": p, "n_source": n_source, "weight": w.weights.get(source, w.default_weight), "age_h": st.age[b],
        "half_life_h": w.half_life_h, "decay": st.decay[b], "thin": n_source < w.thin_n, "counted": st.f[b] > 0.0,
    }


def label_of(
    counted: Sequence[tuple[str, Signals]], lead: tuple[str, float] | None, half_life_h: float
) -> tuple[str, str]:
    """peaked: the lead evidence is older than two half-lives (whatever it showed then, it is old news);
    breakout: counted evidence flagged "breakout" (new, no baseline, clears the volume floor); climbing:
    counted evidence with rising velocity that is not too fresh to judge; else steady. The reason names the
    source and why. `counted`: (source, signals) of each counted evidence; `lead`: the lead evidence's
    (source, age in hours)."""
    if lead is not None and lead[1] > 2 * half_life_h:
        return "peaked", f"{lead[0]}: the strongest signal is {lead[1] / 24:.0f} days old"
    for source, sig in counted:
        if "breakout" in sig.flags:
            return "breakout", f"{source}: new, with no earlier baseline, and above the volume floor"
    for source, sig in counted:
        if sig.velocity is not None and sig.velocity > 0 and "too_recent" not in sig.flags:
            if sig.metric.endswith("_per_hour"):  # a rate since posting (Reddit), not a change on a stored capture
                return "climbing", f"{source}: still gaining {sig.metric.removesuffix('_per_hour')} by the hour"
            return "climbing", f"{source}: {sig.metric} rising against its earlier level"
    if not counted:
        return _NOT_COUNTED
    return "steady", "above its norm, with no rising velocity recorded"


_NOT_COUNTED = ("steady", "no source shows it above its own norm")
