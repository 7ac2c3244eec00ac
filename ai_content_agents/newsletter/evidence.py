"""The compact, citable view of a ranked trend.

One payload serves three readers: the template writer, the model (as a tool result) and the
fact-check. Every number in it is a `Figure` with the field it came from, its source, its window and
the exact way copy should write it, so that copy can only say what the data says.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from ..models import GatherReport, SourceName, SourceReport, Trend, TrendItem
from ..sources import meta
from . import figures as fmt
from . import story

FigureKind = Literal["count", "percent", "money", "multiplier", "rank", "number"]



def source_label(source: str) -> str:
    """How copy names a source (its `META.label`): "Amazon", "your TikTok Shop"."""
    return meta(source).label


# metric names whose kind is not a plain count
_MONEY = ("gmv", "price", "revenue", "sales_amount")
_PERCENT = ("percent", "pct", "gain", "rate", "ratio_pct", "engagement")
_RANK = ("position", "rank")
_NUMBER = ("stars", "rating", "hours", "age_h", "duration")
# metrics that are a share of one (TikTok Shop's click_through_rate 0.068, Reddit's upvote_ratio 0.95): their
# figure is the percent they are (6.8%, 95%), so copy says "6.8%" and the fact-check grounds it
_SHARE = ("click_through_rate", "upvote_ratio")


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
    key: str = ""  # the item's key, "tiktok:7438…"
    item_title: str
    listing: bool = False  # the title is a product listing's name (numbers in it are part of the name)
    baseline_label: str = ""  # what its multiple is measured against, as copy says it: "the creator's median"
    creator_relative: bool = False
    thumbnail: str | None = None
    url: str
    author: str | None = None
    group: str | None = None
    category: str | None = None
    metric: str = ""  # the metric the source scored this item on
    published: str | None = None  # "Nov 18"
    observed: str  # "Nov 20"
    window: str = ""
    window_end: str | None = None  # "Nov 19": the last day (included) of a window that names one; else it ends when read
    percentile: float  # within-source, this run
    strength: float = 0.0  # evidence strength q of this source's best item
    counted: bool = False  # this source's evidence counts towards the story's score
    # when the item is not the story's named product: another product's name (about_product) or the story's type
    about: str = ""
    about_product: bool = False
    n_source: int
    flags: list[str] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)


class Claim(BaseModel):
    """A number someone else wrote (a caption, post title or tweet): quoted and attributed, never our figure."""

    source: SourceName
    source_label: str
    key: str
    who: str  # "a seller on r/TikTokShop", "@handle on X"
    quote: str  # verbatim from the text
    url: str


class TrendPayload(BaseModel):
    cluster_id: str
    rank: int
    title: str
    name: str | None = None  # the product as a short name ("LumaGlow LED Face Mask"); None when nothing anchors one
    ref: str = ""  # how later sentences refer to it ("LumaGlow")
    topic: str | None = None  # the product type ("LED face masks")
    title_listing: bool = False  # `title` is a listing's name
    products: list[str] = Field(default_factory=list)  # product names (listing titles) in the story
    lead: str = ""  # the lead item's key
    corroborated: bool = False
    video: str = ""  # key of the creator video running far ahead of its norm (Creator watch)
    threads: list[str] = Field(default_factory=list)  # keys of threads worth quoting (What sellers are saying)
    claims: list[Claim] = Field(default_factory=list)
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

    def facts(self, key: str) -> SourceFacts | None:
        return next((ev for ev in self.evidence if ev.key == key), None)


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


def _day(value: date | None) -> str | None:
    return value.strftime("%b %-d") if value else None


_WINDOW_END = re.compile(r"\bto (\d{4}-\d{2}-\d{2})$")


def window_end(window: str) -> str | None:
    """The last day a window names, which it includes: "7 d to 2026-11-19" (TikTok Shop's 7 days of next-day
    analytics, Nov 13-19, read on Nov 20) → "Nov 19". None for a window that ends when it was read."""
    m = _WINDOW_END.search(window)
    try:
        return _day(date.fromisoformat(m.group(1))) if m else None
    except ValueError:
        return None


def item_figures(item: TrendItem) -> list[Figure]:
    """Every number of one item, as copy may cite it."""
    out: list[Figure] = []
    for name, value in sorted(item.metrics.items()):
        if value is None:
            continue
        kind = _kind(name)
        number = float(value)
        if name in _SHARE:
            kind, number = "percent", round(number * 100, 9)
        out.append(
            Figure(
                field=f"{item.source}.metrics.{name}",
                label=name.replace("_", " "),
                value=number,
                display=_display(kind, number, item.currency),
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
        ratio = plain_ratio(item)
        if ratio is not None:  # what "20.0× the creator's median" says: the value over the median, as cited
            out.append(
                Figure(
                    field=f"{item.source}.signals.ratio",
                    label=f"{sig.metric} / {baseline_label}",
                    value=round(ratio, 6),
                    display=fmt.multiplier(ratio),
                    kind="multiplier",
                    source=item.source,
                    window=item.window,
                )
            )
        elif sig.m_s is not None and item.source == "amazon":  # a rank ratio, shrunk: not a value over a baseline
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


def plain_ratio(item: TrendItem) -> float | None:
    """The item's value over its baseline (1.8M plays / a 90,000 median = 20.0), as a reader can check it from the
    cited figures; not the multiple shrunk toward 1 that ranking uses (m_s). None for Amazon, whose multiple is a
    rank ratio, and without a positive baseline."""
    sig = item.signals
    if sig is None or item.source == "amazon" or not sig.baseline or sig.baseline <= 0:
        return None
    return sig.value / sig.baseline


# what a baseline is, as copy says it after the plain ratio ("20.0× the creator's median"): first match wins
_BASELINE_WORDS = (
    ("per follower", "the usual engagement per follower"),
    ("per subscriber", "the pace its subreddit's size predicts"),
    ("author's other posts", "the creator's median engagement"),
    ("not creator-relative", "the channel's median"),
    ("channel median", "the channel's median"),
    ("creator", "the creator's median"),
    ("author", "the creator's median"),
    ("hashtag", "the hashtag's median"),
    ("upvotes/hour", "the subreddit's median pace"),  # upvotes per hour
    ("subreddit", "the subreddit's median"),
    ("trailing", "its own earlier pace"),
    ("shop videos", "the median of the shop's other videos"),
    ("stored snapshots", "its own earlier rank moves"),
    ("list page", "the list's typical gain"),
)


def baseline_label(item: TrendItem) -> str:
    """The item's baseline as copy names it ("the creator's median"); "" when it has none."""
    sig = item.signals
    if sig is None:
        return ""
    kind = sig.baseline_kind.lower()
    label = next((label for words, label in _BASELINE_WORDS if words in kind), "")
    if not label and sig.baseline_level == "author":
        return "the creator's median" if item.source != "youtube" else "the channel's median"
    return label or ("its usual level" if kind else "")


def source_facts(trend: Trend, item: TrendItem, ev_source: str | None = None) -> SourceFacts:
    ev = next((e for e in trend.evidence if e.source == (ev_source or item.source)), None)
    about, about_product = story.about(trend, item)
    return SourceFacts(
        source=item.source,
        source_label=source_label(item.source),
        key=item.key,
        item_title=item.title,
        listing=story.is_listing(item),
        baseline_label=baseline_label(item),
        creator_relative=story.creator_relative(item),
        thumbnail=item.thumbnail,
        url=item.url,
        author=item.author,
        group=item.group,
        category=item.category,
        metric=item.signals.metric if item.signals else "",
        published=_day(item.published_at),
        observed=_day(item.observed_at) or "",
        window=item.window,
        window_end=window_end(item.window),
        percentile=round(ev.p, 3) if ev else 0.0,
        strength=round(ev.q, 3) if ev else 0.0,
        counted=ev.counted if ev else False,
        about=about,
        about_product=about_product,
        n_source=ev.n_source if ev else 0,
        flags=sorted(set(item.signals.flags if item.signals else []) | ({"thin"} if ev and ev.thin else set())),
        figures=item_figures(item),
    )


def claims(trend: Trend, limit: int = 3) -> list[Claim]:
    """Numbers in the story's scraped text, as quotable claims: threads first, then videos; one per item."""
    order = {"thread": 0, "video": 1}
    items = sorted((it for it in trend.items if story.is_free_text(it)),
                   key=lambda it: (order.get(meta(it.source).kind, 2), -story.multiple(it), it.key))
    out: list[Claim] = []
    for it in items:
        quote = next((q for q in (story.claim_in(it.title), story.claim_in(it.text)) if q), None)
        if quote:
            out.append(Claim(source=it.source, source_label=source_label(it.source), key=it.key,
                             who=story.speaker(it), quote=quote, url=it.url))
        if len(out) >= limit:
            break
    return out


def trend_payload(trend: Trend) -> TrendPayload:
    by_key = {it.key: it for it in trend.items}
    evidence: list[SourceFacts] = []
    for ev in trend.evidence:
        item = by_key.get(ev.best_key) or next(it for it in trend.items if it.source == ev.source)
        evidence.append(source_facts(trend, item, ev.source))
    listed = {e.key for e in evidence}
    video = story.creator_video(trend)
    threads = story.threads(trend)
    for extra in [*([video] if video else []), *threads[:2]]:  # the featured video and threads are always cited
        if extra.key not in listed:
            evidence.append(source_facts(trend, extra))
            listed.add(extra.key)
    # the lead product's price first: a story may hold several products, each with its own price
    lead_keys = set(next((p.item_keys for p in trend.products if trend.lead_key in p.item_keys), ()))
    priced = next(
        (it for it in sorted(trend.items, key=lambda i: i.key not in lead_keys) if it.price is not None and story.is_listing(it)),
        None,
    ) or next((it for it in trend.items if it.price is not None), None)
    lead = story.lead_item(trend)
    display = story.name(trend)
    listed = {it.key for it in trend.items if story.is_listing(it)}
    listing_names = [p.title for p in trend.products if p.listing or listed.intersection(p.item_keys)] + [
        it.title for it in trend.items if it.key in listed
    ]
    return TrendPayload(
        cluster_id=trend.cluster_id,
        rank=trend.rank,
        title=trend.title,
        name=display,
        ref=story.reference(display, trend.topic),
        topic=trend.topic,
        title_listing=trend.title in listing_names,
        products=list(dict.fromkeys(listing_names)),
        lead=lead.key if lead else "",
        corroborated=story.corroborated(trend),
        video=video.key if video else "",
        threads=[t.key for t in threads],
        claims=claims(trend),
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
