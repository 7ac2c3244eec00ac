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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..models import Signals, TrendItem
from .text import category_buckets, clean_title, item_ids, normalise_title, product_url_rank

@dataclass(frozen=True, slots=True)
class Weights:
    weights: Mapping[str, float]
    default_weight: float
    half_life_h: float
    thin_n: int
    # sources that tell one story with another (a TikTok video and the shop product it sells, §3.5): source → group
    same_story: Mapping[str, str] = field(default_factory=dict)


Part = tuple[float, float, float, float]  # an item's `strength`: (w·q·d, weight, age in hours, decay)
_NO_P = (0.0, 0)


@dataclass(frozen=True, slots=True)
class Run:
    """What story building reads of each item, by its position in the run's key-sorted items."""

    items: Sequence[TrendItem]
    keys: Sequence[str]
    pct: Sequence[tuple[float, int] | None]  # within-source percentile and n (None: not scored)
    parts: Sequence[Part]
    listing: Sequence[bool]
    w: Weights

    def p(self, i: int) -> tuple[float, int]:
        return self.pct[i] or _NO_P


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def age_h(item: TrendItem, now: datetime) -> float:
    """Hours from the end of the item's observation window: its post time, else its capture time."""
    end = item.published_at or item.observed_at
    return max(0.0, (now - aware(end)).total_seconds() / 3600.0)


def strength(item: TrendItem, w: Weights, now: datetime) -> Part:
    """(w·q·d, weight, age in hours, decay) of one item."""
    sig = item.signals
    weight = w.weights.get(item.source, w.default_weight)
    age = age_h(item, now)
    decay = 2.0 ** (-age / w.half_life_h)
    q = sig.q if sig is not None and sig.eligible else 0.0
    return weight * q * decay, weight, age, decay


def cluster_id_for(items: Sequence[TrendItem], ids: set[str] | None = None) -> str:
    """Stable across runs: the smallest "asin:" id, else the smallest canonical id, else a hash of the
    smallest normalised title (with brand and category bucket, so guarded-apart twins differ)."""
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
        (normalise_title(it.title), it.brand or "", ",".join(sorted(category_buckets(it.category)))) for it in items
    )
    return "title:" + hashlib.sha1("|".join(basis).encode()).hexdigest()[:16]


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
    urls = rank_of.keys()
    ordered = sorted(urls, key=lambda u: (rank_of[u], u))
    if lead is not None and lead.url in urls:
        ordered.remove(lead.url)
        ordered.insert(0, lead.url)
    return ordered


def product_title(run: Run, members: Sequence[int]) -> str:
    """A product's name: its strongest listing's title (Amazon before TikTok Shop on ties), else its
    strongest item's cleaned title."""
    if len(members) == 1:
        best = run.items[members[0]]
    else:
        its, parts, keys = run.items, run.parts, run.keys
        listings = [i for i in members if run.listing[i]]
        best = its[max(listings or members, key=lambda i: (parts[i][0], its[i].source == "amazon", keys[i]))]
    return clean_title(best.title) or best.title


def noisy_or(factors: Mapping[str, float], same_story: Mapping[str, str] | None = None) -> float:
    """1 − Π(1 − f) over independence groups (each group's strongest factor)."""
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
    run: Run, positions: Sequence[int], product_groups: Sequence[Sequence[int]], product_ids: Sequence[set[str]],
    topic: str | None,
) -> dict[str, Any]:
    """The fields of one `Trend` (plus "strongest" for the caps) as plain data, validated once when the
    Trend is built. `positions`: the story's items (ascending); `product_groups`: each product's items;
    `product_ids`: each product's canonical ids."""
    if len(positions) == 1:
        return single_item_story(run, positions[0], product_ids[0], topic)
    its, keys, parts, w = run.items, run.keys, run.parts, run.w
    by_source: dict[str, list[int]] = {}
    for i in positions:
        by_source.setdefault(its[i].source, []).append(i)

    evidence: list[dict[str, Any]] = []
    factors: dict[str, float] = {}
    best_of: list[tuple[dict[str, Any], int]] = []
    for source in sorted(by_source) if len(by_source) > 1 else by_source:
        group = by_source[source]
        b = group[0] if len(group) == 1 else max(group, key=lambda i: (parts[i][0], run.p(i)[0], keys[i]))
        sig = its[b].signals
        if sig is None:
            continue
        f, weight, age, decay = parts[b]
        p, n_source = run.p(b)
        ev = {
            "source": source, "item_keys": [keys[i] for i in group], "best_key": keys[b], "metric": sig.metric,
            "value": sig.value, "baseline": sig.baseline, "baseline_level": sig.baseline_level,
            "n_baseline": sig.n_baseline, "m": sig.m, "m_s": sig.m_s, "q": sig.q if sig.eligible else 0.0,
            "s": sig.s, "p": p, "n_source": n_source, "weight": weight, "age_h": age,
            "half_life_h": w.half_life_h, "decay": decay, "thin": n_source < w.thin_n, "counted": f > 0.0,
        }
        evidence.append(ev)
        best_of.append((ev, b))
        if f > 0.0:
            factors[source] = f
    score = noisy_or(factors, w.same_story)
    groups = {w.same_story.get(s, s) for s in factors}
    counted = [(ev, b) for ev, b in best_of if ev["counted"]]
    if counted:
        lead_ev, lead_at = max(counted, key=lambda eb: (factors[eb[0]["source"]], eb[0]["p"], eb[0]["source"]))
    else:
        lead_ev, lead_at = None, max(positions, key=lambda i: (run.p(i)[0], keys[i]))
    lead = its[lead_at]

    products: list[dict[str, Any]] = []
    lead_product: tuple[Sequence[int], dict[str, Any]] | None = None
    for members, pids in zip(product_groups, product_ids, strict=True):
        best_by_source: dict[str, float] = {}
        for i in members:
            src = its[i].source
            best_by_source[src] = max(best_by_source.get(src, 0.0), parts[i][0])
        ref = {
            "product_id": cluster_id_for([its[i] for i in members], pids),
            "title": product_title(run, members),
            "brand": next((its[i].brand for i in members if its[i].brand and run.listing[i]), None),
            "listing": any(run.listing[i] for i in members),
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
    best_sigs = [(ev, sig) for ev, b in best_of if (sig := its[b].signals) is not None]
    if any("estimate" in sig.flags for ev, sig in best_sigs if ev["counted"]):
        flags.append("estimate")
    if not counted:
        flags.append("ineligible")
    label, reason = label_of(best_sigs, lead_ev, w.half_life_h)
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
        "evidence": evidence,
        "products": products,
        "lead_key": keys[lead_at],
        "independent_sources": len(groups),
        "score": score,
        "label": label,
        "label_reason": reason,
        "flags": flags,
        "strongest": lead_ev["source"] if len(groups) == 1 and lead_ev is not None else "",
    }


def single_item_story(run: Run, i: int, ids: set[str], topic: str | None) -> dict[str, Any]:
    """`story_fields` for a story of one item (most of them at scale), without the general bookkeeping."""
    it = run.items[i]
    k = run.keys[i]
    sig = it.signals
    assert sig is not None  # rank only passes scored items
    w = run.w
    f, weight, age, decay = run.parts[i]
    p, n_source = run.p(i)
    counted = f > 0.0
    ev = {
        "source": it.source, "item_keys": [k], "best_key": k, "metric": sig.metric, "value": sig.value,
        "baseline": sig.baseline, "baseline_level": sig.baseline_level, "n_baseline": sig.n_baseline,
        "m": sig.m, "m_s": sig.m_s, "q": sig.q if sig.eligible else 0.0, "s": sig.s, "p": p,
        "n_source": n_source, "weight": weight, "age_h": age, "half_life_h": w.half_life_h, "decay": decay,
        "thin": n_source < w.thin_n, "counted": counted,
    }
    cid = cluster_id_for((it,), ids)
    title = clean_title(it.title) or it.title
    score = 1.0 - (1.0 - min(f, 0.999999)) if counted else 0.0  # noisy_or of one factor, the same float
    flags = ["single_source"]
    if "too_recent" in sig.flags:
        flags.append("too_recent")
    if counted and ev["thin"]:
        flags.append("thin")
    if counted and "estimate" in sig.flags:
        flags.append("estimate")
    if not counted:
        flags.append("ineligible")
    label, reason = label_of(((ev, sig),), ev if counted else None, w.half_life_h)
    listing = run.listing[i]
    return {
        "cluster_id": cid, "rank": 0, "title": title, "topic": topic,
        "canonical_urls": canonical_urls((it,), it) if it.links else [it.url] if it.url else [],
        "category": it.category, "items": [it],
        "evidence": [ev],
        "products": [{"product_id": cid, "title": title, "brand": it.brand if listing else None, "listing": listing,
                      "item_keys": [k], "sources": [it.source], "score": score}],
        "lead_key": k, "independent_sources": 1 if counted else 0, "score": score, "label": label,
        "label_reason": reason, "flags": flags, "strongest": it.source if counted else "",
    }


def label_of(
    best: Sequence[tuple[Mapping[str, Any], Signals]], lead: Mapping[str, Any] | None, half_life_h: float
) -> tuple[str, str]:
    """breakout: counted evidence flagged "breakout" (new, no baseline, clears the volume floor);
    climbing: counted evidence with rising velocity that is not too fresh to judge; peaked: the lead
    evidence is older than two half-lives; else steady. The reason names the source and why."""
    counted = [(ev["source"], sig) for ev, sig in best if ev["counted"]]
    for source, sig in counted:
        if "breakout" in sig.flags:
            return "breakout", f"{source}: new, with no earlier baseline, and above the volume floor"
    for source, sig in counted:
        if sig.velocity is not None and sig.velocity > 0 and "too_recent" not in sig.flags:
            return "climbing", f"{source}: {sig.metric} rising against its earlier level"
    if lead is not None and lead["age_h"] > 2 * half_life_h:
        return "peaked", f"{lead['source']}: the strongest signal is {lead['age_h'] / 24:.0f} days old"
    if not counted:
        return "steady", "no source shows it above its own norm"
    return "steady", "above its norm, with no rising velocity recorded"
