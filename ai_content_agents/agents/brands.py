"""Many brands in one run: gather once per distinct source configuration, write every brand's sections through one
Message Batch (or ordinary calls), fact-check each result, and publish each brand's issue.

WHY this shape: a brand job is only a name and its settings (a profile applied to the base settings), so this
module does not care where profiles come from. Brands that search the same sources share one gather and are then
ranked each with their own niche and weights. Every request, the batch id and every result are stored
(batch_jobs.py) before anything else happens, so running the same command again resumes: it polls the stored
batch instead of paying for a second one, and it never asks again for a result it already has. Failed entries
(errored, expired, canceled) are reported per brand and sent as ordinary calls with `retry_failed`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .. import batch_jobs, ranking
from ..batch_jobs import FAILED, Entry, EntryResult, Job, Reply
from ..config import Settings, secret
from ..models import FactcheckReport, GatherReport, Newsletter, Section, Trend
from ..newsletter.compose import compose, plan_sections
from ..newsletter.sections import SectionSpec
from ..pipeline import rank_config
from ..store import Store, featured_since
from .api import RetryPolicy
from .base import ModelClient, is_offline
from .batches import BatchState, Poller, call_each, results, submit, wait
from .claude_writer import AGENT, ClaudeWriter, section_client
from .editor import default_picks
from .usage import RunUsage

log = logging.getLogger(__name__)

# Settings fields that decide what gathering fetches (which sources, what they search, their limits)
SOURCE_PREFIXES = ("enable_", "tiktok_", "amazon_", "x_", "reddit_", "youtube_", "apify_")


class BrandJob(BaseModel):
    """One brand's issue: its name and its settings (the base settings with its profile applied)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    settings: Settings

    def sources_key(self) -> str:
        return _digest(source_config(self.settings))

    def fingerprint(self) -> dict[str, Any]:
        """Everything that shapes this brand's requests: sources, ranking, masthead, model and endpoint features."""
        s = self.settings
        return {"name": self.name, "sources": self.sources_key(), "rank": rank_config(s).model_dump(mode="json"),
                "masthead": s.masthead().model_dump(mode="json"), "model": s.writer_model, "max_tokens": s.max_tokens,
                "caps": [s.supports_cache_control, s.supports_structured_output], "top_n": s.top_n}


class Gathered(BaseModel):
    """A shared gather and the clock its items are ranked at (a replay's own clock, or the run's)."""

    report: GatherReport
    ranked_at: datetime
    replay: bool = False  # a replay or the sample: no featured history


class ProfileOutcome(BaseModel):
    name: str
    counts: dict[str, int] = {}  # entry status → how many
    problems: list[str] = []  # "section: status — why" for each failed entry
    folder: str | None = None  # the issue written (this run or an earlier one)
    written_now: bool = False
    withheld: list[str] = []  # sections withheld by the fact-check or the writer
    sample: bool = False

    @property
    def failed(self) -> int:
        return sum(self.counts.get(s, 0) for s in FAILED)


class JobOutcome(BaseModel):
    job_id: str
    resumed: bool
    mode: batch_jobs.Mode
    gathers: int = 0  # shared gathers run this time (0 when resumed)
    batch: BatchState | None = None
    waiting: bool = False  # the batch has not ended within the wait; run the same command again
    profiles: list[ProfileOutcome] = []


def source_config(settings: Settings) -> dict[str, Any]:
    fields = {f for f in Settings.model_fields if f.startswith(SOURCE_PREFIXES)}
    return settings.model_dump(mode="json", include=fields)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def job_key(jobs: list[BrandJob], gather_label: str) -> str:
    """The same profiles (as configured now) gathered the same way are the same job."""
    return _digest({"jobs": [j.fingerprint() for j in jobs], "gather": gather_label})


def custom_id(index: int, name: str, section: str) -> str:
    """Unique in the batch and within the API's ^[a-zA-Z0-9_-]{1,64}$."""
    return f"{index:02d}-{re.sub(r'[^A-Za-z0-9_-]', '-', name)[:30]}-{section[:24]}"


def ranking_for(job: BrandJob, gathered: Gathered, store: Store | None) -> batch_jobs.Ranking:
    """How this brand ranks the shared gather: its clock and (live runs only) the featured history it sees now."""
    featured: dict[str, tuple[datetime, float, str]] = {}
    if store is not None and not gathered.replay and not gathered.report.sample:
        featured = store.recently_featured(featured_since(job.settings.featured_lookback_days, gathered.ranked_at))
    return batch_jobs.Ranking(profile=job.name, gather_key=job.sources_key(), ranked_at=gathered.ranked_at,
                              featured=featured)


def ranked(job: BrandJob, report: GatherReport, how: batch_jobs.Ranking) -> GatherReport:
    """The shared gather ranked with this brand's niche, weights and caps (pure: the same every time)."""
    trends = ranking.rank(report.items, rank_config(job.settings), how.ranked_at, featured=how.featured)
    return report.model_copy(update={"trends": trends, "profile": job.settings.profile or job.name})


def pick_ids(picks: dict[str, list[Trend]]) -> dict[str, list[str]]:
    return {k: [t.cluster_id for t in v] for k, v in picks.items()}


class PrefetchedWriter:
    """The Claude writer with each section's first reply already in hand (from the batch): compose's fact-check
    and revisions run as usual; a revision or an unusable reply is an ordinary call."""

    def __init__(self, inner: ClaudeWriter, replies: dict[str, Reply]) -> None:
        self.inner, self.replies = inner, replies
        self.name, self.offline, self.can_revise = inner.name, inner.offline, inner.can_revise

    def write_section(self, spec: SectionSpec, trends: list[Trend], report: GatherReport) -> Section:
        reply = self.replies.get(spec.key)
        if reply is None or not trends:
            return self.inner.write_section(spec, trends, report)
        return self.inner.write_from_reply(spec, trends, report, reply)

    def revise_section(self, spec: SectionSpec, trends: list[Trend], report: GatherReport, draft: Section,
                       check: FactcheckReport) -> Section:
        return self.inner.revise_section(spec, trends, report, draft, check)


@dataclass
class BrandsRun:
    """One `newsletter --profiles ...` run, with its per-run dependencies passed in (clock, sleep via the poller,
    how to gather, where to publish)."""

    settings: Settings
    store: Store
    client: ModelClient
    gather: Callable[[Settings], Gathered]
    publish: Callable[[str, Newsletter], str]  # (profile, issue) → the folder written
    gather_label: str = "auto"
    batch: bool = True
    retry_failed: bool = False
    poller: Poller = field(default_factory=Poller)
    retry: RetryPolicy | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_line: Callable[[str], None] = field(default=lambda line: None)
    usage: RunUsage | None = None

    # --- the phases ---------------------------------------------------------------------------
    def run(self, jobs: list[BrandJob]) -> JobOutcome:
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"a profile is named twice: {', '.join(names)}")
        key = job_key(jobs, self.gather_label)
        job = batch_jobs.find_open(self.store, key, now=self.now(), max_age_h=self.settings.batch_resume_max_age_h)
        outcome = JobOutcome(job_id="", resumed=job is not None, mode="calls")
        if job is None:
            job, outcome.gathers = self._start(jobs, key)
        else:
            self.on_line(f"resuming job {job.job_id} (started {job.created_at:%Y-%m-%d %H:%M} UTC"
                         + (f", batch {job.batch_id}" if job.batch_id else "") + ")")
        outcome.job_id, outcome.mode = job.job_id, job.mode
        usage = self.usage or RunUsage.from_settings(self.settings, job.job_id, self.store)
        self.usage = usage
        retry = self.retry or RetryPolicy.from_settings(self.settings)
        if job.mode == "batch" and job.batch_id is None and not self._batches_allowed():
            job.mode = outcome.mode = "calls"  # nothing was sent yet (e.g. the server had no batch endpoint)
            batch_jobs.set_mode(self.store, job.job_id, "calls")
        if job.mode == "batch":
            outcome.batch = self._batch(job, retry)
            outcome.waiting = not outcome.batch.ended
        else:
            self._calls(job, retry, [e for e in batch_jobs.entries(self.store, job.job_id) if e.status == "pending"])
        if self.retry_failed and not outcome.waiting:
            failed = [e for e in batch_jobs.entries(self.store, job.job_id) if e.status in FAILED]
            if failed:
                self.on_line(f"retrying {len(failed)} failed entr{'y' if len(failed) == 1 else 'ies'} as ordinary calls")
                self._calls(job, retry, failed)
        outcome.profiles = self._write(job, {j.name: j for j in jobs}, usage)
        if all(p.folder for p in outcome.profiles):
            batch_jobs.close(self.store, job.job_id)
        return outcome

    def _start(self, jobs: list[BrandJob], key: str) -> tuple[Job, int]:
        """Gather once per source configuration, rank per brand, build every request; store it all at once."""
        shared: dict[str, Gathered] = {}
        for j in jobs:
            if j.sources_key() not in shared:
                sharing = [o.name for o in jobs if o.sources_key() == j.sources_key()]
                self.on_line(f"gathering for {', '.join(sharing)}")
                shared[j.sources_key()] = self.gather(j.settings)
        rankings: list[batch_jobs.Ranking] = []
        entries: list[Entry] = []
        for i, j in enumerate(jobs):
            how = ranking_for(j, shared[j.sources_key()], self.store)
            report = ranked(j, shared[j.sources_key()].report, how)
            writer = ClaudeWriter(self.client, j.settings)
            picks = default_picks(report, j.settings.top_n)
            rankings.append(how.model_copy(update={"picks": pick_ids(picks)}))
            for spec, trends in plan_sections(picks):
                if trends:
                    entries.append(Entry(custom_id=custom_id(i, j.name, spec.key), profile=j.name, section=spec.key,
                                         params=writer.first_request(spec, trends, report)))
        first = next(iter(shared.values()))
        created = self.now()
        issue_date = first.report.started_at if first.report.snapshot is not None else created  # a replay: its clock
        use_batch = self._batches_allowed()
        job = Job(job_id=f"{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}", job_key=key, created_at=created,
                  issue_date=issue_date, mode="batch" if use_batch else "calls",
                  profiles=[j.name for j in jobs])
        batch_jobs.create(self.store, job, {k: g.report for k, g in shared.items()}, rankings, entries)
        return job, len(shared)

    def _batches_allowed(self) -> bool:
        return self.batch and self.settings.supports_batches and not is_offline(self.client)

    def _record(self, job: Job, result: EntryResult, via: Literal["batch", "call"], params: dict[str, Any],
                *, only_pending: bool) -> None:
        if not batch_jobs.record(self.store, job.job_id, result, via, only_pending=only_pending):
            return
        if result.reply is not None and self.usage is not None:
            model = result.reply.model if is_offline(self.client) else str(params.get("model") or result.reply.model)
            self.usage.add(AGENT, model, result.reply.usage, served_by=result.reply.model, batch=via == "batch")

    def _batch(self, job: Job, retry: RetryPolicy) -> BatchState:
        entries = batch_jobs.entries(self.store, job.job_id)
        params = {e.custom_id: e.params for e in entries}
        if not entries:  # nothing to write about anywhere: no batch to pay for
            return BatchState(batch_id="", status="ended")
        if job.batch_id is None:
            state = submit(self.client, [(e.custom_id, e.params) for e in entries], retry)
            batch_jobs.set_batch(self.store, job.job_id, state.batch_id)  # paid from here: stored before anything else
            job.batch_id = state.batch_id
            self.on_line(f"created batch {state.batch_id} with {len(entries)} request(s)")
        if all(e.status != "pending" for e in entries):
            return BatchState(batch_id=job.batch_id, status="ended")
        state = wait(self.client, job.batch_id, self.poller, retry)
        if not state.ended:
            return state
        key = secret(self.settings.anthropic_api_key)
        seen: set[str] = set()
        for result in results(self.client, job.batch_id, retry, (key,) if key else ()):
            if result.custom_id in params:
                seen.add(result.custom_id)
                self._record(job, result, "batch", params[result.custom_id], only_pending=True)
        for e in entries:  # an ended batch that has no line for a request: that request failed
            if e.custom_id not in seen:
                lost = EntryResult(custom_id=e.custom_id, status="errored", error="missing from the batch's results")
                self._record(job, lost, "batch", e.params, only_pending=True)
        return state

    def _calls(self, job: Job, retry: RetryPolicy, todo: list[Entry]) -> None:
        params = {e.custom_id: e.params for e in todo}
        limit = 1 if is_offline(self.client) else self.settings.batch_concurrency
        call_each(section_client(self.client), list(params.items()), limit=limit, retry=retry,
                  on_result=lambda r: self._record(job, r, "call", params[r.custom_id], only_pending=False))

    def _write(self, job: Job, jobs: dict[str, BrandJob], usage: RunUsage) -> list[ProfileOutcome]:
        """Each brand whose every entry succeeded: compose (the fact-check gate) and publish, once per job."""
        gathers = batch_jobs.gathers(self.store, job.job_id)
        rankings = batch_jobs.rankings(self.store, job.job_id)
        entries = batch_jobs.entries(self.store, job.job_id)
        done = batch_jobs.written(self.store, job.job_id)
        out: list[ProfileOutcome] = []
        for name in job.profiles:
            mine = [e for e in entries if e.profile == name]
            counts: dict[str, int] = {}
            for e in mine:
                counts[e.status] = counts.get(e.status, 0) + 1
            how = rankings[name]
            p = ProfileOutcome(name=name, counts=counts, sample=gathers[how.gather_key].sample, folder=done.get(name),
                               problems=[f"{e.section}: {e.status} — {e.error}" for e in mine if e.status in FAILED])
            if p.folder is None and all(e.status == "succeeded" for e in mine) and name in jobs:
                brand = jobs[name]
                report = ranked(brand, gathers[how.gather_key], how)
                picks = default_picks(report, brand.settings.top_n)
                if pick_ids(picks) != how.picks:  # never expected (ranking is pure); say so rather than mismatch
                    p.problems.append("its ranking came out differently from when the requests were built; "
                                      "this issue is not written")
                    out.append(p)
                    continue
                writer = ClaudeWriter(self.client, brand.settings, usage=usage)
                replies = {e.section: e.reply for e in mine if e.reply is not None}
                nl = compose(report, PrefetchedWriter(writer, replies), now=job.issue_date, picks=picks,
                             masthead=brand.settings.masthead())
                p.folder = self.publish(name, nl)
                p.written_now = True
                p.withheld = [s.title for s in nl.withheld]
                batch_jobs.mark_written(self.store, job.job_id, name, p.folder)
            out.append(p)
        return out
