"""The compact, citable view of a ranked trend.

One payload serves three readers: the template writer, the model (as a tool result) and the
fact-check. Every number in it is a `Figure` with the field it came from, its source, its window and
the exact way copy should write it, so that copy can only say what the data says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from .models import GatherReport, SourceName, SourceReport, Trend, TrendItem
from .newsletter import figures as fmt

FigureKind = Literal["count", "percent", "money", "multiplier", "rank", "number"]

SOURCE_LABELS: dict[str, str] = {
    "tiktok": "TikTok",
    "amazon": "Amazon",
    "x": "X",
    "reddit": "Reddit",
    "youtube": "YouTube",
    "tiktok_shop": "your TikTok Shop",
}

# metric names whose kind is not a plain count
_MONEY = ("gmv", "price", "revenue", "sales_amount")
_PERCENT = ("percent", "pct", "gain", "rate", "ratio_pct", "engagement")
_RANK = ("position", "rank")
_NUMBER = ("stars", "rating", "hours", "age_h", "duration")


class Figure(BaseModel):
    field: str  # where it lives, e.g. "tiktok.metrics.plays"
    label: str  # human name, e.g. "plays"
    value: float
    display: str  # how copy writes it, e.g. "412K"
    kind: FigureKind
    source: SourceName
    window: str = ""
    estimate: bool = False


class SourceFacts(BaseModel):
    source: SourceName
    source_label: str
    item_title: str
    url: str
    author: str | None = None
    group: str | None = None
    category: str | None = None
    metric: str = ""  # the metric the source scored this item on
    published: str | None = None  # "Nov 18"
    observed: str  # "Nov 20"
    window: str = ""
    percentile: float  # within-source, this run
    strength: float = 0.0  # evidence strength q of this source's best item
    n_source: int
    flags: list[str] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)


class TrendPayload(BaseModel):
    cluster_id: str
    rank: int
    title: str
    topic: str | None = None  # the product type the story is about
    products: list[str] = Field(default_factory=list)  # the story's products, strongest first
    category: str | None = None
    label: str
    label_reason: str = ""
    score: float
    independent_sources: int
    sources: list[str]
    flags: list[str] = Field(default_factory=list)
    canonical_urls: list[str]
    price: str | None = None
    evidence: list[SourceFacts]

    def figures(self) -> list[Figure]:
        return [f for ev in self.evidence for f in ev.figures]


def _kind(metric: str) -> FigureKind:
    name = metric.lower()
    if any(k in name for k in _MONEY):
        return "money"
    if any(k in name for k in _PERCENT):
        return "percent"
    if any(k in name for k in _RANK):
        return "rank"
    if any(k in name for k in _NUMBER):
        return "number"
    return "count"


def _display(kind: FigureKind, value: float, currency: str | None) -> str:
    if kind == "money":
        return fmt.money(value, currency)
    if kind == "percent":
        return fmt.percent(value)
    if kind == "multiplier":
        return fmt.multiplier(value)
    if kind == "rank":
        return f"#{int(value):,}"
    if kind == "number":
        return f"{value:g}"
    return fmt.count(value)


def _day(value: datetime | None) -> str | None:
    return value.strftime("%b %-d") if value else None


def item_figures(item: TrendItem) -> list[Figure]:
    """Every number of one item, as copy may cite it."""
    out: list[Figure] = []
    for name, value in sorted(item.metrics.items()):
        if value is None:
            continue
        kind = _kind(name)
        out.append(
            Figure(
                field=f"{item.source}.metrics.{name}",
                label=name.replace("_", " "),
                value=float(value),
                display=_display(kind, float(value), item.currency),
                kind=kind,
                source=item.source,
                window=item.window,
                estimate="estimate" in (item.signals.flags if item.signals else []),
            )
        )
    if item.price is not None:
        out.append(
            Figure(
                field=f"{item.source}.price",
                label="price",
                value=float(item.price),
                display=fmt.money(item.price, item.currency),
                kind="money",
                source=item.source,
            )
        )
    if item.author_followers is not None:
        out.append(
            Figure(
                field=f"{item.source}.author_followers",
                label="author followers",
                value=float(item.author_followers),
                display=fmt.count(item.author_followers),
                kind="count",
                source=item.source,
            )
        )
    sig = item.signals
    if sig is not None:
        baseline_label = sig.baseline_kind or "baseline"
        if sig.m_s is not None:
            out.append(
                Figure(
                    field=f"{item.source}.signals.m_s",
                    label=f"{sig.metric} vs {baseline_label}",
                    value=sig.m_s,
                    display=fmt.multiplier(sig.m_s),
                    kind="multiplier",
                    source=item.source,
                    window=item.window,
                )
            )
        if sig.baseline is not None:
            kind = _kind(sig.metric)
            out.append(
                Figure(
                    field=f"{item.source}.signals.baseline",
                    label=f"{baseline_label} {sig.metric}",
                    value=sig.baseline,
                    display=_display(kind, sig.baseline, item.currency),
                    kind=kind,
                    source=item.source,
                    window=item.window,
                )
            )
        if sig.velocity is not None:
            out.append(
                Figure(
                    field=f"{item.source}.signals.velocity",
                    label=f"{sig.metric} velocity",
                    value=sig.velocity,
                    display=fmt.percent(sig.velocity) if item.source == "amazon" else f"{sig.velocity:.1f}",
                    kind="percent" if item.source == "amazon" else "number",
                    source=item.source,
                    window=item.window,
                )
            )
    return out


def trend_payload(trend: Trend) -> TrendPayload:
    by_key = {it.key: it for it in trend.items}
    evidence: list[SourceFacts] = []
    for ev in trend.evidence:
        item = by_key.get(ev.best_key) or next(it for it in trend.items if it.source == ev.source)
        evidence.append(
            SourceFacts(
                source=ev.source,
                source_label=SOURCE_LABELS.get(ev.source, ev.source),
                item_title=item.title,
                url=item.url,
                author=item.author,
                group=item.group,
                category=item.category,
                metric=item.signals.metric if item.signals else "",
                published=_day(item.published_at),
                observed=_day(item.observed_at) or "",
                window=item.window,
                percentile=round(ev.p, 3),
                strength=round(ev.q, 3),
                n_source=ev.n_source,
                flags=sorted(set(item.signals.flags if item.signals else []) | ({"thin"} if ev.thin else set())),
                figures=item_figures(item),
            )
        )
    # the lead product's price: a story may hold several products, each with its own price
    lead_keys = next((p.item_keys for p in trend.products if trend.lead_key in p.item_keys), None)
    lead_keys = lead_keys or (trend.products[0].item_keys if trend.products else [it.key for it in trend.items])
    priced = next((it for it in trend.items if it.key in lead_keys and it.price is not None), None)
    return TrendPayload(
        cluster_id=trend.cluster_id,
        rank=trend.rank,
        title=trend.title,
        topic=trend.topic,
        products=[p.title for p in trend.products],
        category=trend.category,
        label=trend.label,
        label_reason=trend.label_reason,
        score=round(trend.score, 4),
        independent_sources=trend.independent_sources,
        sources=trend.sources,
        flags=trend.flags,
        canonical_urls=trend.canonical_urls,
        price=fmt.money(priced.price, priced.currency) if priced and priced.price is not None else None,
        evidence=evidence,
    )


class MemberItem(TrendItem):
    """One member item of a trend as `trends --json` lists it: the `TrendItem` (its own metrics and
    signals, q / m / m_s / baseline_level included) plus every figure copy may cite from it."""

    figures: list[Figure] = Field(default_factory=list)

    @classmethod
    def of(cls, item: TrendItem) -> MemberItem:
        return cls(**{name: getattr(item, name) for name in TrendItem.model_fields}, figures=item_figures(item))


class TrendExport(Trend):
    """A ranked trend as `trends --json` prints it: the `Trend` model (story, products, per-source
    evidence) with its source names and every member item with its figures."""

    items: list[MemberItem]  # type: ignore[assignment]  # every member item, each with its figures

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sources(self) -> list[str]:
        return [e.source for e in self.evidence]

    @classmethod
    def of(cls, trend: Trend) -> TrendExport:
        fields = {name: getattr(trend, name) for name in Trend.model_fields if name != "items"}
        return cls(**fields, items=[MemberItem.of(it) for it in trend.items])


class TrendsExport(BaseModel):
    """What `trends --json` prints: the run, how each source did, and the top trends."""

    run_id: str
    started_at: datetime  # the run's time: for a replay, the --as-of clock (default: the snapshot's captured_at)
    sample: bool  # the bundled sample: SAMPLE DATA
    snapshot: str | None = None  # a replay: the snapshot directory (or "bundled sample")
    sources: list[SourceReport]
    trends: list[TrendExport]

    @classmethod
    def of(cls, report: GatherReport, limit: int) -> TrendsExport:
        return cls(
            run_id=report.run_id,
            started_at=report.started_at,
            sample=report.sample,
            snapshot=report.snapshot,
            sources=report.sources,
            trends=[TrendExport.of(t) for t in report.trends[:limit]],
        )
