"""The shared types. Every module border speaks these, never raw dicts.

Flow: sources emit `TrendItem`s (with `Signals` once scored) → the pipeline wraps them in a
`GatherReport` → ranking groups them into `Trend`s → the writer turns trends into `Section`s of a
`Newsletter`. Every number a reader sees must be a field somewhere in here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# A source's registry name (sources/__init__.py SOURCE_MODULES is the list of them): a lowercase slug, so that
# `AICA_ENABLE_<NAME>`, "<name>:<id>" item keys and "<name>.metrics.x" figure fields stay well formed.
SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
SourceKind = Literal["video", "thread", "listing", "other"]
SourceStatus = Literal["ok", "partial", "failed", "skipped", "stale"]
TrendLabel = Literal["breakout", "climbing", "peaked", "steady"]


class ChartSpec(BaseModel):
    """The metric a source's items are charted on in an issue, how the chart names it, and its direction."""

    model_config = ConfigDict(frozen=True)

    metric: str
    label: str  # "TikTok plays"
    lower_is_better: bool = False  # ranks


class SourceMeta(BaseModel):
    """What the rest of the package knows about a source, declared once in its module as `META`.

    Settings, ranking defaults, labels in copy, the offline writer, charts, the CLI and the offline model's
    reading of questions all derive from these (through `sources.meta` / `sources.metas`).
    """

    model_config = ConfigDict(frozen=True)

    name: SourceName
    label: str  # as copy names it: "Amazon", "your TikTok Shop"
    service: str = ""  # the service's own name, for questions and lists: "TikTok Shop" (default: label)
    tag: str = ""  # a short column tag for the terminal table: "AMZ" (default: the name, upper case)
    kind: SourceKind = "other"  # video → Creator watch, thread → What sellers are saying, listing → movers
    lead_metrics: tuple[str, ...] = ()  # the metric(s) copy leads with, first present wins
    chart: ChartSpec | None = None
    weight: float = Field(1.0, ge=0)  # ranking's default weight (AICA_SOURCE_WEIGHTS overrides)
    same_story_as: SourceName | None = None  # not independent evidence from that source (a shop and its videos)
    phrases: tuple[str, ...] = ()  # words in a question that name it, besides its service name ("twitter")

    @property
    def service_name(self) -> str:
        return self.service or self.label

    @property
    def short_tag(self) -> str:
        return self.tag or self.name.upper()[:4]


class Signals(BaseModel):
    """Source-level surprise for one item: how unusual it is against its own source's baseline.

    `s` is the only number ranking compares, and only within one source.
    """

    model_config = ConfigDict(frozen=True)

    metric: str  # which metric x the surprise is measured on ("plays", "score", "velocity", ...)
    value: float  # x
    baseline: float | None = None  # B: median of comparable items (None when no baseline)
    baseline_kind: str = ""  # e.g. "hashtag median in run", "channel median", "stored snapshots"
    n_baseline: int = 0
    m: float | None = None  # raw multiplier x / B
    m_s: float | None = None  # multiplier shrunk toward 1 for thin baselines
    weight: float = 1.0  # e.g. the commerce weight for TikTok
    s: float  # the surprise score (log2 scale, after weight), comparable within a source only
    # Evidence strength in [0, 1) that keeps the size of the surprise (trends_scoring §2): 0 below the
    # source's noteworthiness floor or a volume floor, ~0.5 at 2× the floor, ~0.9 at 20×. Ranking
    # accumulates it across sources; it is the only number ranking compares across sources.
    q: float = Field(0.0, ge=0.0, lt=1.0)
    baseline_level: str = ""  # author | group | run | prior | history | page | none: which baseline `m` used
    velocity: float | None = None  # per-hour growth or percent gain, when known
    eligible: bool = True  # False: below a volume floor or unconfirmed; never in the top N
    flags: list[str] = Field(default_factory=list)  # too_recent, thin, breakout, partial, estimate, ...
    components: dict[str, float] = Field(default_factory=dict)  # named parts of s, for citing


class TrendItem(BaseModel):
    """One item from one source, normalised. Raw JSON never leaves the source module except as `raw`."""

    source: SourceName
    source_id: str
    title: str
    url: str  # canonical URL of the item itself
    text: str = ""  # untrusted scraped text (caption, post body); fenced before it reaches a model
    author: str | None = None
    author_followers: int | None = None
    group: str | None = None  # the baseline group: hashtag/query, subreddit, channel, list URL, author
    category: str | None = None  # a product category (marketplace taxonomy); never a hashtag, flair or language
    brand: str | None = None
    price: Decimal | None = None
    currency: str | None = None  # ISO 4217 where known
    canonical_ids: list[str] = Field(default_factory=list)  # "asin:B0..", "tiktok_video:..", "tiktok_product:.."
    links: list[str] = Field(default_factory=list)  # outbound links found in the text/bio, canonicalised
    metrics: dict[str, float] = Field(default_factory=dict)  # raw counts as the source gave them
    window: str = ""  # what the metrics cover, e.g. "since posting", "24 h rank change"
    published_at: datetime | None = None
    observed_at: datetime
    is_commerce: bool = False
    commerce_reasons: list[str] = Field(default_factory=list)
    thumbnail: str | None = None  # an image URL the source gave (Amazon thumbnail, TikTok cover)
    signals: Signals | None = None
    raw: dict | None = Field(default=None, exclude=True, repr=False)  # the original item, kept for the store

    @property
    def key(self) -> str:
        return f"{self.source}:{self.source_id}"


class Parsed(list[TrendItem]):
    """What `parse` returns: the items, plus a count of what was skipped and why.

    A list subclass so callers can treat it as `list[TrendItem]`; `skipped` reaches the run report.
    """

    def __init__(self, items: list[TrendItem] | None = None, skipped: Counter[str] | None = None) -> None:
        super().__init__(items or [])
        self.skipped: Counter[str] = skipped if skipped is not None else Counter()
        self.cut: Counter[str] = Counter()  # what the parse border shortened or left out (see sources/clean.py)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class FetchResult(BaseModel):
    """Raw items from a source's service, and whether the run behind them finished."""

    raw_items: list[Any]  # whatever the service sent; `parse` skips and counts what is not an item
    partial: bool = False
    note: str = ""  # e.g. "apify run TIMED-OUT; 37 items pushed before the timeout"
    cost_usd: float | None = None
    skipped: dict[str, int] = Field(default_factory=dict)  # rows fetch dropped before parse, by reason
    cut: dict[str, int] = Field(default_factory=dict)  # what a size or count limit left unread, by what


class Observation(BaseModel):
    """A stored snapshot of one item's metrics, used for velocity and history across runs."""

    run_id: str
    source: SourceName
    source_id: str
    group: str | None = None
    title: str = ""
    metrics: dict[str, float]
    observed_at: datetime


class SourceReport(BaseModel):
    source: SourceName
    status: SourceStatus
    reason: str = ""  # one line, no secrets
    items: int = 0
    skipped_items: int = 0
    skipped_reasons: dict[str, int] = Field(default_factory=dict)
    cut: dict[str, int] = Field(default_factory=dict)  # what limits shortened or left out (AICA_MAX_*), by what
    duration_s: float = 0.0
    stale_age_h: float | None = None
    cost_usd: float | None = None


class SourceEvidence(BaseModel):
    """One source's contribution to a trend (its strongest item), with every component of its factor in S."""

    source: SourceName
    item_keys: list[str]  # all items of this source in the trend
    best_key: str  # the item whose strength counts
    metric: str = ""
    value: float = 0.0
    baseline: float | None = None
    baseline_level: str = ""
    n_baseline: int = 0
    m: float | None = None
    m_s: float | None = None
    q: float = 0.0  # evidence strength of the best item
    s: float
    p: float  # within-source percentile of the best item in this run (tie-break only)
    n_source: int  # how many items that source had in this run
    weight: float  # w_s
    age_h: float  # from the end of the best item's observation window
    half_life_h: float
    decay: float
    thin: bool = False  # the source had fewer than 5 items this run
    counted: bool = True  # False: q = 0 (at its norm or below a floor): provenance only, not in S


class ProductRef(BaseModel):
    """One product inside a story: its own identity, name, items and strength (a story may hold several)."""

    product_id: str  # canonical: "asin:…", "tiktok_product:…", else a stable hash
    title: str  # from its listing, else its strongest item
    listing: bool = False  # it has a product listing (Amazon, TikTok Shop): `title` is a product name
    brand: str | None = None
    item_keys: list[str]
    sources: list[str]
    score: float  # S of this product's own evidence


class Trend(BaseModel):
    """A story: one product type ("LED face masks") with its products and mentions across sources, or one
    product / item standing alone. The ranked unit; evidence accumulates over independent sources."""

    cluster_id: str
    rank: int = 0
    title: str  # the lead product's name (from its listing), else the strongest item's title
    topic: str | None = None  # the product type, e.g. "LED face masks" (None: no listing anchors a type)
    canonical_urls: list[str]
    category: str | None = None
    items: list[TrendItem]
    evidence: list[SourceEvidence]
    products: list[ProductRef] = Field(default_factory=list)  # strongest first
    lead_key: str = ""  # the strongest counted item: the title, lead figure and first link come from it
    independent_sources: int
    score: float  # S = 1 − Π(1 − w·q·d) over independent sources
    label: TrendLabel = "steady"
    label_reason: str = ""
    flags: list[str] = Field(default_factory=list)  # single_source, too_recent, thin, estimate, off_topic, ...

    @property
    def sources(self) -> list[str]:
        return [e.source for e in self.evidence]


class GatherReport(BaseModel):
    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    sample: bool = False  # True: the bundled sample snapshot was used; outputs must say SAMPLE DATA
    snapshot: str | None = None  # a replay: the snapshot directory (or "bundled sample") its data came from
    profile: str = ""  # the brand profile it was gathered and ranked for ("" for none)
    sources: list[SourceReport] = Field(default_factory=list)
    items: list[TrendItem] = Field(default_factory=list)
    trends: list[Trend] = Field(default_factory=list)

    def source(self, name: str) -> SourceReport | None:
        return next((s for s in self.sources if s.source == name), None)


class TrendCopy(BaseModel):
    """The house structure for one trend in a section."""

    cluster_id: str
    headline: str
    signal: str  # 1-2 numbers with source and window
    why_it_matters: str
    corroboration: str
    caveat: str
    action: str  # shown once, in the action list (never repeated under the story)
    links: list[str] = Field(default_factory=list)
    claim: str = ""  # a third-party number, quoted and attributed ("a seller on r/X reports “…”"); never our figure
    focus_key: str = ""  # the item this entry is about (the creator video, the thread), when not the story's lead
    see_also: str = ""  # a thread entry about a story written up in that section (not a second write-up)


class Section(BaseModel):
    key: str  # "top_trend", "creator_watch", "amazon_movers", "sellers", "action_list"
    title: str
    intro: str = ""
    items: list[TrendCopy] = Field(default_factory=list)
    bullets: list[str] = Field(default_factory=list)  # for list-shaped sections (the action list)
    bullet_ids: list[str] = Field(default_factory=list)  # the story (cluster id) of each bullet
    error: str | None = None  # set when the section was withheld; rendered as such, never as prose


class FactcheckFigure(BaseModel):
    text: str  # as written, e.g. "6.2×"
    value: float
    kind: Literal["count", "percent", "money", "multiplier", "number"]
    grounded: bool
    matched_field: str | None = None


class FactcheckClaim(BaseModel):
    """A number inside a quote of scraped text: someone else's claim, reported apart from our figures."""

    quote: str  # the quoted words as written in the copy
    numbers: list[str]  # the numbers inside it, as written
    source_text: bool  # the quote is verbatim in the story's scraped text
    attributed: bool  # the sentence names who said it (r/sub, @handle, the platform)
    in_action: bool = False  # a claim inside an action: never allowed

    @property
    def ok(self) -> bool:
        return self.source_text and self.attributed and not self.in_action


class FactcheckReport(BaseModel):
    section: str
    figures: list[FactcheckFigure] = Field(default_factory=list)  # our measurements: each must be grounded
    claims: list[FactcheckClaim] = Field(default_factory=list)  # third-party numbers, quoted and attributed
    bad_links: list[str] = Field(default_factory=list)
    attempts: int = 1

    @property
    def grounded(self) -> int:
        return sum(1 for f in self.figures if f.grounded)

    @property
    def bad_claims(self) -> list[FactcheckClaim]:
        return [c for c in self.claims if not c.ok]

    @property
    def passed(self) -> bool:
        return self.grounded == len(self.figures) and not self.bad_links and not self.bad_claims


class Masthead(BaseModel):
    """The newsletter's identity, from settings: shown in every output."""

    name: str = "DTC Trend Report"
    tagline: str = ""
    sender: str = ""  # "Name <address>" for the From: line of whoever sends it
    unsubscribe_url: str = ""  # an ESP merge tag or URL; a placeholder when empty
    postal_address: str = ""
    audience: str = ""  # who reads it (a profile's note for the writer)
    voice: str = ""  # how it should sound (a profile's note for the writer)


class Newsletter(BaseModel):
    title: str
    issue_date: datetime
    masthead: Masthead = Field(default_factory=Masthead)
    sample: bool
    writer: str  # "templates", "offline model", or the Claude model id
    offline: bool = True
    sections: list[Section]
    trends: list[Trend]
    report: GatherReport
    factcheck: list[FactcheckReport] = Field(default_factory=list)
    quality: dict[str, float] = Field(default_factory=dict)  # distinct-line share, max 5-word phrase repeats, ...

    @property
    def withheld(self) -> list[Section]:
        return [s for s in self.sections if s.error]
