"""TrendAgent: reads ranked trends, their evidence and history. Untrusted input, no secrets, no writes.

WHY this shape (Rule of Two, reference §11): this agent sees attacker-controlled scraped text, so it
holds no shop client, no credentials and no write tool. Scraped text reaches the model fenced and
truncated; tool results are compact views (`evidence.trend_payload`), never raw actor JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from .. import runs
from ..config import Settings
from ..newsletter.evidence import SourceFacts, TrendPayload, trend_payload
from ..models import GatherReport, SourceName, Trend
from ..sources import names as source_names
from ..prompts import render
from ..store import Store
from .api import RetryPolicy
from .base import AgentEvent, AgentResult, BaseAgent, Capabilities, ModelClient, PendingApproval, make_client
from .fence import DEFAULT_LIMIT as TEXT_LIMIT
from .fence import clean, fence
from .tools import Tool, ToolFailure, ToolRegistry
from .usage import RunUsage

if TYPE_CHECKING:
    from .offline import OfflinePlan

GatherFn = Callable[..., GatherReport]




def _list_registered_sources(schema: dict[str, Any]) -> None:
    schema["enum"] = list(source_names())  # read when a tool's schema is built: every registered source


# a source name as the model sees it: the registry's names, listed in the tool schema
KnownSource = Annotated[SourceName, Field(json_schema_extra=_list_registered_sources)]

class SourceLine(BaseModel):
    source: str
    status: str
    items: int
    reason: str = ""


class GatherSummary(BaseModel):
    run_id: str
    run: str  # the line that names the run in an answer: id, time, SAMPLE DATA when so
    stored: bool  # True: read back from the store, not gathered in this session
    sample: bool
    trends: int
    sources: list[SourceLine]
    note: str = ""


class TrendBrief(BaseModel):
    rank: int
    cluster_id: str
    title: str
    category: str | None = None
    label: str
    sources: list[str]
    flags: list[str] = Field(default_factory=list)
    lead: str | None = None  # the first figure of the best source, e.g. "412K plays (TikTok, since posting)"
    fits: list[str] = Field(default_factory=list)  # the sections it has content for (its home first)
    corroborated: bool = False  # two or more independent sources count
    has_thread: bool = False  # a Reddit/X thread about it stands out
    strength: dict[str, float] = Field(default_factory=dict)  # evidence strength q (0-1) per counted source


class TrendList(BaseModel):
    run_id: str
    run: str
    sample: bool
    total: int
    trends: list[TrendBrief]


class ItemText(BaseModel):
    source: str
    id: str
    text: str  # cleaned and truncated; the whole result reaches the model fenced (Tool.untrusted)


class TrendDetail(BaseModel):
    trend: TrendPayload
    texts: list[ItemText] = Field(default_factory=list)  # scraped text of the trend's best items


class HistoryPoint(BaseModel):
    observed: str
    run_id: str
    metrics: dict[str, float]


class ItemHistory(BaseModel):
    key: str
    points: list[HistoryPoint]


class FeaturedEntry(BaseModel):
    key: str
    featured: str
    issue_id: str


def _clean_facts(ev: SourceFacts) -> SourceFacts:
    return ev.model_copy(update={"item_title": clean(ev.item_title), "author": clean(ev.author, 60) or None,
                                 "group": clean(ev.group, 80) or None})


def safe_payload(trend: Trend) -> TrendPayload:
    """`trend_payload` with every scraped string cleaned (invisible Unicode stripped, escaped, truncated)."""
    p = trend_payload(trend)
    claims = [c.model_copy(update={"quote": clean(c.quote, 200), "who": clean(c.who, 80)}) for c in p.claims]
    return p.model_copy(update={
        "title": clean(p.title), "name": clean(p.name) or None, "ref": clean(p.ref, 60), "topic": clean(p.topic) or None,
        "products": [clean(t) for t in p.products], "claims": claims, "evidence": [_clean_facts(e) for e in p.evidence],
    })


def brief(trend: Trend) -> TrendBrief:
    from ..newsletter.sections import candidate
    from ..newsletter.template_writer import lead_metrics

    p = safe_payload(trend)
    lead = None
    ev = p.facts(p.lead) or (p.evidence[0] if p.evidence else None)
    if ev is not None and ev.figures:
        by_field = {x.field: x for x in ev.figures}
        f = next((by_field[k] for k in (f"{ev.source}.metrics.{m}" for m in (*lead_metrics(ev.source), ev.metric))
                  if k in by_field), None) or next((x for x in ev.figures if ".metrics." in x.field), ev.figures[0])
        lead = f"{f.display} {f.label} ({ev.source_label}{', ' + f.window if f.window else ''})"
    c = candidate(trend)
    return TrendBrief(
        rank=p.rank, cluster_id=p.cluster_id, title=p.name or p.title, category=p.category, label=p.label,
        sources=p.sources, flags=p.flags, lead=lead, fits=list(c.fits), corroborated=c.corroborated,
        has_thread=c.has_thread,
        strength={e.source: round(e.q, 2) for e in trend.evidence if e.counted},
    )


def _matches(trend: Trend, words: list[str]) -> bool:
    hay = " ".join([trend.title, trend.topic or "", trend.category or "", *(p.title for p in trend.products)]).lower()
    return any(w.lower().rstrip("s") in hay for w in words if w.strip())


def _momentum(trend: Trend, source: str | None) -> float:
    qs = [e.q for e in trend.evidence if e.counted and (source is None or e.source == source)]
    return max(qs, default=0.0)


def fit_detail(detail: TrendDetail, budget: int = 11_000) -> TrendDetail:
    """Trim a detail to fit one tool result whole (a result cut mid-JSON is useless to any model):
    fewer figures per source first, then fewer links; the lead figure of each source stays."""
    from .tools import serialise

    for figures, urls in ((8, 10), (4, 5), (2, 3), (1, 2)):
        if len(serialise(detail)) <= budget:
            break
        p = detail.trend
        evidence = [e.model_copy(update={"figures": e.figures[:figures]}) for e in p.evidence]
        detail = detail.model_copy(update={"trend": p.model_copy(update={
            "evidence": evidence, "canonical_urls": p.canonical_urls[:urls]})})
    return detail


def _reason(source: str, reason: str | None) -> str:
    """Why a source did not deliver. It can quote a third party (an Apify actor's status message), so it
    reaches the model fenced; `gather`'s own note (an instruction of ours) stays outside any fence."""
    return fence(reason, source=source, item_id="status", limit=120) if reason else ""


class TrendTools:
    """The tool functions, bound to one settings/store/report. Each returns a compact pydantic model."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        report: GatherReport | None = None,
        gather_fn: GatherFn | None = None,
        mode: Literal["auto", "sample", "live"] = "auto",
        now: datetime | None = None,
        refresh_allowed: bool = True,
        refresh: bool = False,
        allow_model_refresh: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.report = report
        self._gather_fn = gather_fn
        self.mode = mode
        self.now = now
        # False pins the session to `report` (the newsletter editor): `gather` then only summarises it,
        # so a model can never trigger a second, paid live fetch.
        self.refresh_allowed = refresh_allowed
        self.refresh = refresh  # the user asked for a fresh gather (`ask --refresh`): the first read gathers
        # live (not sample) re-gathering costs money: the model may ask for it only when the user allowed it
        self.allow_model_refresh = allow_model_refresh
        self.gathers = 0  # pipeline runs made for this question (a model-initiated refresh: at most one)
        self.stored_at: datetime | None = None  # set when the run was read back from the store
        self.gathered_at: datetime | None = None  # set when this session gathered the run

    def _clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def run_line(self) -> str:
        """Names the run an answer used (time, SAMPLE DATA when so); empty before any run was read."""
        if self.report is None:
            return ""
        return runs.describe(self.report, self.stored_at or self.gathered_at, self._clock())

    def _gather(self, sources: list[SourceName] | None = None) -> GatherReport:
        fn = self._gather_fn
        if fn is None:
            from ..pipeline import gather

            fn = gather
        report = fn(self.settings, self.store, sources=sources, mode=self.mode, now=self.now)
        self.gathers += 1
        self.report, self.stored_at = report, None
        self.gathered_at = self._clock()
        if not sources:  # a run over a subset of sources is not the run later questions should read
            runs.save(self.store, report, now=self._clock())
        return report

    def _need_report(self) -> GatherReport:
        """This session's run: the latest stored run younger than `run_max_age_h`, else a new gather."""
        if self.report is not None:
            return self.report
        if not self.refresh:
            wanted = True if self.mode == "sample" else (False if self.mode == "live" else None)
            stored = runs.latest(self.store, max_age_h=self.settings.run_max_age_h, now=self._clock(), sample=wanted,
                                 profile=self.settings.profile)
            if stored is not None:
                self.report, self.stored_at = stored.report, stored.stored_at
                return stored.report
        return self._gather()

    def _refusal(self) -> str:
        """Why a model-initiated refresh is not run now ("" when it may run)."""
        if self.gathers >= 1:
            return "this question already gathered a fresh run; refresh refused (at most one per question)"
        if self.mode != "sample" and not self.allow_model_refresh:
            return ("re-gathering live sources needs the user's say-so (ask --refresh or --allow-refresh); "
                    "answer from this run and name its time")
        return ""

    def gather(self, sources: list[KnownSource] | None = None, refresh: bool = False) -> GatherSummary:
        """Summarise the run questions are answered from: the latest stored run when it is fresh enough,
        else a new run of the trend pipeline (every enabled source, then ranking).

        Other trend tools read the same run, so calling this first is optional. `refresh` re-runs the
        pipeline at most once per question, and for live sources only when the user allowed it.

        Args:
            sources: with refresh, only these sources (default: all enabled).
            refresh: run the pipeline again instead of reading the stored run.
        """
        pinned = not self.refresh_allowed and self.report is not None
        refused = ""
        if refresh and pinned:
            refused = "this session's run is fixed; refresh is disabled"
        elif refresh and self.report is None and self.refresh:
            self._need_report()  # the user asked for a fresh run: this is it
        elif refresh:
            self._need_report()  # the stored run (or a first gather when there is none)
            refused = self._refusal()
            if not refused:
                self._gather(sources)
        r = self._need_report()
        return GatherSummary(
            run_id=r.run_id,
            run=self.run_line(),
            stored=self.stored_at is not None,
            sample=r.sample,
            trends=len(r.trends),
            sources=[SourceLine(source=s.source, status=s.status, items=s.items, reason=_reason(s.source, s.reason))
                     for s in r.sources],
            note="; ".join(
                n
                for n in (
                    "SAMPLE DATA: say so in the answer" if r.sample else "",
                    refused,
                )
                if n
            ),
        )

    def list_trends(
        self,
        source: KnownSource | None = None,
        category: str | None = None,
        limit: Annotated[int, Field(ge=1, le=20)] = 10,
        query: str | None = None,
        order: Literal["rank", "momentum"] = "rank",
    ) -> TrendList:
        """The ranked trends of the run, best first, as short briefs.

        Args:
            source: only trends with counted evidence from this source.
            category: only trends whose category contains this text (case-insensitive).
            limit: how many to return (1-20).
            query: only trends whose title, product type, category or product names contain one of these words.
            order: "rank" (overall rank) or "momentum" (strongest evidence first, of `source` when given).
        """
        r = self._need_report()
        picked = sorted(r.trends, key=lambda t: t.rank or 10**9)
        # a profile's exclusions (and, with niche_only, its niche) hold for answers as for issues
        hidden = {"excluded", "off_topic"} if self.settings.niche_only else {"excluded"}
        picked = [t for t in picked if hidden.isdisjoint(t.flags)]
        if source:
            picked = [t for t in picked if any(e.source == source and e.counted for e in t.evidence)]
        if category:
            picked = [t for t in picked if t.category and category.lower() in t.category.lower()]
        if query:
            picked = [t for t in picked if _matches(t, query.split())]
        if order == "momentum":
            picked.sort(key=lambda t: (-_momentum(t, source), t.rank or 10**9))
        return TrendList(run_id=r.run_id, run=self.run_line(), sample=r.sample, total=len(picked), trends=[brief(t) for t in picked[:limit]])

    def trend_detail(self, cluster_id: str) -> TrendDetail:
        """All evidence and numbers of one trend: every figure with its source, window and display string,
        plus the (untrusted) text of its best items.

        Args:
            cluster_id: the trend's cluster_id from list_trends.
        """
        r = self._need_report()
        trend = next((t for t in r.trends if t.cluster_id == cluster_id), None)
        if trend is None:
            raise ToolFailure(f"no trend with cluster_id {clean(cluster_id, 60)!r} in this run")
        texts = [ItemText(source=it.source, id=clean(it.source_id, 80), text=clean(it.text, TEXT_LIMIT))
                 for it in trend.items[:3] if it.text]
        return fit_detail(TrendDetail(trend=safe_payload(trend), texts=texts))

    def item_history(self, source: KnownSource, source_id: str, limit: Annotated[int, Field(ge=1, le=30)] = 10) -> ItemHistory:
        """Earlier stored observations of one item across runs (oldest first), to judge momentum.

        Args:
            source: the item's source.
            source_id: the item's id within that source (the part after "source:" in an item key).
            limit: at most this many most recent observations.
        """
        rows = self.store.history(source, [source_id]).get(source_id, [])[-limit:]
        return ItemHistory(
            key=f"{source}:{clean(source_id, 80)}",
            points=[HistoryPoint(observed=o.observed_at.strftime("%Y-%m-%d %H:%M"), run_id=o.run_id, metrics=o.metrics) for o in rows],
        )

    def recently_featured(self, days: Annotated[int, Field(ge=1, le=365)] = 28) -> list[FeaturedEntry]:
        """Trend keys already featured in a newsletter within the last `days` days (avoid repeating them).

        Args:
            days: how far back to look.
        """
        since = (self.now or datetime.now(UTC)) - timedelta(days=days)
        return [
            FeaturedEntry(key=key, featured=at.strftime("%Y-%m-%d"), issue_id=issue)
            for key, (at, _score, issue) in self.store.recently_featured(since).items()
        ]

    def registry(self) -> ToolRegistry:
        return ToolRegistry(
            [
                Tool.from_function(self.gather, parallel_safe=False),
                Tool.from_function(self.list_trends, untrusted=True),
                Tool.from_function(self.trend_detail, untrusted=True),
                Tool.from_function(self.item_history, untrusted=True),
                Tool.from_function(self.recently_featured, untrusted=True),
            ]
        )


class TrendAgent(BaseAgent):
    """Answers questions about trends. Holds no shop client, no secrets and no write tools."""

    name = "TrendAgent"

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        client: ModelClient | None = None,
        usage: RunUsage | None = None,
        report: GatherReport | None = None,
        gather_fn: GatherFn | None = None,
        mode: Literal["auto", "sample", "live"] = "auto",
        refresh_allowed: bool = True,
        model: str | None = None,
        on_event: Callable[[AgentEvent], None] | None = None,
        on_text: Callable[[str], None] | None = None,
        now: datetime | None = None,
        refresh: bool = False,
        allow_model_refresh: bool = False,
        max_iterations: int | None = None,
        offline_plan: OfflinePlan | None = None,
    ) -> None:
        # what the offline model does for this agent: answer questions (trend_plan) unless the caller
        # runs it for another job (the newsletter editor passes its own plan): a per-run dependency
        self._offline_plan = offline_plan
        self.trend_tools = TrendTools(
            settings, store, report=report, gather_fn=gather_fn, mode=mode, now=now, refresh_allowed=refresh_allowed,
            refresh=refresh, allow_model_refresh=allow_model_refresh,
        )
        client = client if client is not None else make_client(settings)
        run_id = usage.run_id if usage is not None else None
        super().__init__(
            client,
            model=model or settings.writer_model,
            system=render("system_trend.j2", sample=bool(report and report.sample)),
            tools=self.trend_tools.registry(),
            max_tokens=settings.max_tokens,
            max_iterations=max_iterations or settings.agent_max_iterations,
            capabilities=Capabilities.from_settings(settings),
            usage=usage if usage is not None else RunUsage.from_settings(settings, run_id or "ask", store),
            run_id=run_id,
            on_event=on_event,
            on_text=on_text,
            retry=RetryPolicy.from_settings(settings),
        )

    def offline_plan(self) -> OfflinePlan:
        if self._offline_plan is not None:
            return self._offline_plan
        from .trend_offline import trend_plan

        return trend_plan

    @property
    def report(self) -> GatherReport | None:
        return self.trend_tools.report

    def ask(self, question: str) -> AgentResult:
        """One question, one answer. TrendAgent has no approval-gated tools, so it never pauses."""
        out: Any = self.run(question)
        if isinstance(out, PendingApproval):  # pragma: no cover - impossible by construction
            raise RuntimeError("TrendAgent has no tools that need approval")
        return out
