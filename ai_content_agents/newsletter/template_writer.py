"""The deterministic writer: copy from jinja2 templates, no model. The offline model reuses `copy_for`."""

from __future__ import annotations

from ..evidence import Figure, SourceFacts, TrendPayload, trend_payload
from ..models import GatherReport, Section, Trend, TrendCopy
from ..prompts import environment
from .sections import SectionSpec

INTROS: dict[str, str] = {
    "top_trend": "The strongest signal across every source we track this week.",
    "quick_hits": "More products beating their own baselines.",
    "amazon_movers": "Climbing the Amazon lists right now.",
    "creator_watch": "Posts and videos running well ahead of their creator's or community's usual numbers.",
    "action_list": "What to do about it, in priority order.",
}
EMPTY: dict[str, str] = {
    "amazon_movers": "No Amazon list moved enough this week to feature.",
    "creator_watch": "No creator outlier cleared the bar this week.",
}


# what to lead with when the scored metric is a derived rate rather than a raw count
LEAD_METRIC: dict[str, tuple[str, ...]] = {
    "amazon": ("position",),
    "reddit": ("score", "comments"),
    "x": ("likes", "views", "reposts"),
    "tiktok": ("plays",),
    "youtube": ("views",),
    "tiktok_shop": ("units_sold", "gmv", "orders"),
}


def _primary(ev: SourceFacts) -> Figure | None:
    """The figure that states the signal: the source's headline count, else the scored metric."""
    by_field = {f.field: f for f in ev.figures}
    for metric in (*LEAD_METRIC.get(ev.source, ()), ev.metric):
        found = by_field.get(f"{ev.source}.metrics.{metric}")
        if found is not None:
            return found
    return None


def _multiple(ev: SourceFacts) -> Figure | None:
    if ev.source == "amazon":
        return next((f for f in ev.figures if f.kind == "percent"), None)
    return next((f for f in ev.figures if f.kind == "multiplier"), None)


def copy_for(payload: TrendPayload) -> TrendCopy:
    """The house structure (headline, signal, why, corroboration, caveat, action) for one trend."""
    macros = environment().get_template("copy_trend.j2").module
    ordered = sorted(payload.evidence, key=lambda e: -e.percentile)
    lead = ordered[0]
    commerce = any(s in payload.sources for s in ("amazon", "tiktok_shop")) or any(
        "commerce" in f for ev in payload.evidence for f in ev.flags
    )
    flags = set(payload.flags) | {f for ev in payload.evidence for f in ev.flags}
    others = [{"ev": ev, "primary": _primary(ev)} for ev in ordered[1:] if _primary(ev)]
    primary = _primary(lead)
    signal = (
        str(macros.signal(lead, primary, _multiple(lead))).strip()
        if primary
        else f"Ranked on {lead.source_label} ({lead.window or 'this run'}, seen {lead.observed})"
    )
    return TrendCopy(
        cluster_id=payload.cluster_id,
        headline=str(macros.headline(payload)).strip(),
        signal=signal,
        why_it_matters=str(macros.why(payload, commerce)).strip(),
        corroboration=str(macros.corroboration(others)).strip(),
        caveat=str(macros.caveat(payload, flags)).strip(),
        action=str(macros.action(payload, commerce)).strip(),
        links=payload.canonical_urls[:3],
    )


class TemplateWriter:
    """Writes every section from templates. Deterministic, free, and always grounded."""

    name = "templates"
    offline = True
    can_revise = False

    def write_section(self, spec: SectionSpec, trends: list[Trend], report: GatherReport) -> Section:
        copies = [copy_for(trend_payload(t)) for t in trends]
        if spec.max_items == 0:
            return Section(
                key=spec.key,
                title=spec.title,
                intro=INTROS.get(spec.key, ""),
                bullets=[f"{c.headline}: {c.action}" for c in copies],
            )
        intro = INTROS.get(spec.key, "") if copies else EMPTY.get(spec.key, "Nothing cleared the bar this week.")
        return Section(key=spec.key, title=spec.title, intro=intro, items=copies)

