"""Gather every enabled source in parallel, isolate their failures, then rank.

Each source runs in its own daemon thread: a source that hangs past its timeout is abandoned (a
Python thread cannot be killed) and reported as failed, and the run goes on. Results are written
to the store as each source finishes, so a crash later in the run loses nothing already fetched.
When a source fails, its last good result is used if it is young enough, marked stale.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from . import ranking
from .config import Settings
from .models import FetchResult, GatherReport, Parsed, SourceReport, SourceStatus, TrendItem
from .redact import redact
from .sources import SOURCE_MODULES, enabled, load, metas
from .sources.base import SourceError
from .sources.base import Progress as Budget
from .sources.base import SourceModule, tracking
from .sources.clean import Limits, parse_source
from .sources.snapshot import Snapshot
from .store import Store, featured_since

log = logging.getLogger(__name__)

Mode = Literal["auto", "sample", "live"]
Progress = Callable[[SourceReport], None]
Running = Callable[[list[str]], None]  # the sources still running, each time that set changes


class NoLiveData(RuntimeError):
    """`--live` was asked for and no source produced data."""


@dataclass
class _Outcome:
    report: SourceReport
    items: list[TrendItem] = field(default_factory=list)


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def resolve_sources(settings: Settings, requested: Iterable[str] | None) -> list[str]:
    if not requested:
        on = enabled(settings)
        if not on:
            raise ValueError("every source is disabled (AICA_ENABLE_<SOURCE>=false); enable one or pick some with --sources")
        return on
    names = [n.strip().lower() for n in requested if n.strip()]
    unknown = [n for n in names if n not in SOURCE_MODULES]
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(unknown)}; choose from {', '.join(SOURCE_MODULES)}")
    return list(dict.fromkeys(names))


def _one_line(exc: BaseException) -> str:
    """A failure as one secret-free line (redacted before it is cut)."""
    text = redact(str(exc)).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _counts(*parts: dict[str, int] | Counter[str]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


def score_options(module: object, settings: Settings) -> dict[str, object]:
    """The settings a source's `score` declares it needs (`SCORE_SETTINGS`: keyword → Settings field)."""
    return {kw: getattr(settings, field) for kw, field in getattr(module, "SCORE_SETTINGS", {}).items()}


def _outcome(
    name: str,
    module: SourceModule,
    fetched: FetchResult,
    settings: Settings,
    store: Store | None,
    observed_at: datetime,
    started: float,
    *,
    partial_reason: str | None = None,
) -> _Outcome:
    """Parse (at the shared border), score and report what a fetch returned."""
    parsed = parse_source(module, fetched.raw_items, observed_at, Limits.from_settings(settings))
    skipped = _counts(fetched.skipped, parsed.skipped)
    cut = _counts(fetched.cut, parsed.cut)
    duration = round(time.monotonic() - started, 3)
    if not parsed and any(skipped.values()):
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items(), key=lambda kv: -kv[1]))
        why = f"{partial_reason}; " if partial_reason else ""
        return _Outcome(
            SourceReport(
                source=name, status="failed", reason=redact(f"{why}no usable rows: {sum(skipped.values())} skipped ({reasons})"),
                skipped_items=sum(skipped.values()), skipped_reasons=skipped, cut=cut, duration_s=duration,
                cost_usd=fetched.cost_usd,
            )
        )
    history = store.history(name, (it.source_id for it in parsed), before=observed_at) if store else {}
    items = module.score(list(parsed), history, **score_options(module, settings))
    status: SourceStatus = "partial" if fetched.partial or partial_reason else "ok"
    reason = fetched.note if not partial_reason else f"{partial_reason}; {fetched.note}".rstrip("; ")
    return _Outcome(
        SourceReport(
            source=name,
            status=status,
            reason=redact(reason),
            items=len(items),
            skipped_items=sum(skipped.values()),
            skipped_reasons=skipped,
            cut=cut,
            duration_s=duration,
            cost_usd=fetched.cost_usd,
        ),
        items,
    )


def run_source(
    name: str, settings: Settings, store: Store | None, observed_at: datetime, budget: Budget | None = None
) -> _Outcome:
    """Fetch, parse and score one source. Never raises: every failure becomes a report.

    `budget` is the source's `Progress`: its deadline bounds the fetch's HTTP calls, and the rows a fetch
    publishes there are what the pipeline keeps if the source runs out of time."""
    started = time.monotonic()
    try:
        with tracking(budget or Budget()):
            module = load(name)
            reason = module.not_configured(settings)
            if reason:
                return _Outcome(SourceReport(source=name, status="skipped", reason=redact(reason)))
            fetched = module.fetch(settings, store)
        return _outcome(name, module, fetched, settings, store, observed_at, started)
    except SourceError as exc:
        return _Outcome(
            SourceReport(
                source=name, status="failed", reason=_one_line(exc), duration_s=round(time.monotonic() - started, 3)
            )
        )
    except Exception as exc:  # a bug or garbage in one source must not stop the others
        log.error("source %s crashed: %s", name, _one_line(exc))
        return _Outcome(
            SourceReport(
                source=name,
                status="failed",
                reason=f"unexpected error: {type(exc).__name__}: {_one_line(exc)}",
                duration_s=round(time.monotonic() - started, 3),
            )
        )


def _timed_out(
    name: str, budget: Budget | None, why: str, settings: Settings, store: Store | None, now: datetime, started: float
) -> _Outcome:
    """A source that ran out of time: the rows it had already published are kept (partial), else it failed."""
    rows = budget.rows() if budget is not None else []
    if rows:
        try:
            module = load(name)
            fetched = FetchResult(raw_items=rows, note=budget.note if budget else "")
            return _outcome(name, module, fetched, settings, store, now, started,
                            partial_reason=f"{why}; kept the {len(rows)} row(s) fetched before it")
        except Exception as exc:  # noqa: BLE001 - scoring the partial rows failed: the source failed, as before
            log.error("source %s: partial rows unusable: %s", name, _one_line(exc))
    return _Outcome(
        SourceReport(source=name, status="failed", reason=why, duration_s=round(time.monotonic() - started, 3))
    )


def _stale_fallback(outcome: _Outcome, store: Store | None, settings: Settings, now: datetime) -> _Outcome:
    if store is None or outcome.report.status != "failed":
        return outcome
    try:
        cached = store.load_source_cache(outcome.report.source)
    except Exception as exc:  # noqa: BLE001 - an unreadable cache is no fallback, not a lost run
        outcome.report.reason += f" (its last good result could not be read: {_one_line(exc)})"
        return outcome
    if cached is None:
        return outcome
    fetched_at, items = cached
    age_h = (now - fetched_at).total_seconds() / 3600
    if age_h > settings.stale_max_age_h:
        outcome.report.reason += f" (last good result is {age_h:.0f} h old, older than {settings.stale_max_age_h:g} h)"
        return outcome
    report = outcome.report.model_copy(
        update={
            "status": "stale",
            "reason": f"{outcome.report.reason}; using the result from {age_h:.1f} h ago",
            "items": len(items),
            "stale_age_h": round(age_h, 2),
        }
    )
    return _Outcome(report, items)


def _collect(
    names: list[str],
    settings: Settings,
    store: Store | None,
    now: datetime,
    sequential: bool,
    on_result: Callable[[_Outcome], None],
    on_running: Running | None = None,
) -> None:
    """Run the sources on daemon threads with per-source timeouts and one overall deadline.

    `on_running` hears the names still running whenever that set changes (so a spinner can say what
    it waits for), on this thread, like `on_result`.
    """
    results: queue.Queue[tuple[str, _Outcome]] = queue.Queue()
    run_start = time.monotonic()
    overall_deadline = run_start + settings.run_deadline_s
    pending: dict[str, float] = {}  # name → its own deadline
    budgets: dict[str, Budget] = {}
    starts: dict[str, float] = {}

    def start(name: str) -> None:
        deadline = min(time.monotonic() + settings.source_timeout_s, overall_deadline)
        # the fetch stops a little before the pipeline would abandon it, so it can hand over what it has
        budget = budgets[name] = Budget(deadline - min(1.0, 0.05 * settings.source_timeout_s))
        thread = threading.Thread(
            target=lambda: results.put((name, run_source(name, settings, store, now, budget))),
            name=f"source-{name}",
            daemon=True,
        )
        pending[name] = deadline
        starts[name] = time.monotonic()
        thread.start()

    reported: list[str] | None = None

    def running_changed() -> None:
        nonlocal reported
        running = [n for n in names if n in pending]
        if on_running and running != reported:
            reported = running
            on_running(running)

    waiting = list(names)
    while waiting or pending:
        while waiting and (not sequential or not pending):
            start(waiting.pop(0))
        running_changed()
        wait_until = min(pending.values())
        try:
            name, outcome = results.get(timeout=max(0.0, wait_until - time.monotonic()))
        except queue.Empty:
            now_mono = time.monotonic()
            for name in [n for n, deadline in pending.items() if deadline <= now_mono]:
                del pending[name]
                limit = "run deadline" if now_mono >= overall_deadline else "source timeout"
                seconds = settings.run_deadline_s if limit == "run deadline" else settings.source_timeout_s
                why = f"timed out after {seconds:g} s ({limit})"
                on_result(_timed_out(name, budgets.get(name), why, settings, store, now, starts.get(name, run_start)))
            if now_mono >= overall_deadline:
                for name in waiting:
                    on_result(_Outcome(SourceReport(source=name, status="failed", reason="not started: run deadline")))
                waiting.clear()
            continue
        if name in pending:  # a late answer from an abandoned source is ignored
            del pending[name]
            on_result(outcome)
    running_changed()


def _snapshot_outcomes(
    snapshot: Snapshot, names: list[str], reasons: dict[str, SourceReport], settings: Settings, *, fallback: bool = False
) -> list[_Outcome]:
    """Parse and score a snapshot (the bundled sample or any directory) exactly as live data would be.

    History comes only from the snapshot's own `history` captures, never the store, so a replay depends
    on its directory and settings alone. Nothing is fetched, so no duration is reported.
    `fallback`: the snapshot stands in for live sources that produced nothing; each source then keeps its
    live status (failed, skipped...) and says it shows the snapshot's data instead.
    """
    outcomes: list[_Outcome] = []
    available = set(snapshot.names())
    tag = "sample data" if snapshot.bundled else f"snapshot {snapshot.label}"
    limits = Limits.from_settings(settings)
    for name in names:
        live = reasons.get(name)
        if name not in available:
            if fallback and live is not None:
                outcomes.append(_Outcome(live))
            else:
                outcomes.append(_Outcome(SourceReport(source=name, status="skipped", reason=f"no {tag}")))
            continue
        module = load(name)
        parsed = parse_source(module, snapshot.rows(name), snapshot.captured_at, limits)
        def reparse(rows: list[Any], when: datetime, module: SourceModule = module) -> Parsed:
            return parse_source(module, rows, when, limits)

        history = snapshot.history_observations(name, reparse)
        items = module.score(list(parsed), history, **score_options(module, settings))
        note = tag
        status: SourceStatus = "ok"
        if live is not None and fallback:
            status = live.status if live.status != "ok" else "skipped"  # "ok" here means it had no live items
            note = f"{live.reason or 'no live items'}; showing {tag} instead"
        elif live is not None:
            note += f" (live: {live.status}: {live.reason})"
        outcomes.append(
            _Outcome(
                SourceReport(
                    source=name,
                    status=status,
                    reason=redact(note),
                    items=len(items),
                    skipped_items=parsed.skipped_total,
                    skipped_reasons=dict(parsed.skipped),
                    cut=dict(parsed.cut),
                    duration_s=live.duration_s if live is not None and fallback else 0.0,
                ),
                items,
            )
        )
    return outcomes


def rank_config(settings: Settings) -> ranking.RankConfig:
    """Ranking's knobs from the settings, with each registered source's declared weight and independence."""
    declared = metas()
    return ranking.RankConfig(
        top_n=settings.top_n,
        weights={**{m.name: m.weight for m in declared}, **settings.source_weights},
        same_story={m.name: m.same_story_as for m in declared if m.same_story_as},
        half_life_h=settings.decay_half_life_h or settings.issue_cadence_days * 12.0,
        niche_terms=tuple(settings.niche_terms),
        exclude_off_topic=settings.exclude_off_topic,
        niche_only=settings.niche_only,
        exclude_terms=tuple(settings.exclude_terms),
    )


def gather(  # noqa: C901 - the run's one orchestration: live, replay and sample-fallback paths share their bookkeeping
    settings: Settings,
    store: Store | None,
    *,
    sources: Iterable[str] | None = None,
    mode: Mode = "auto",
    sequential: bool = False,
    on_progress: Progress | None = None,
    on_running: Running | None = None,
    now: datetime | None = None,
    snapshot: Snapshot | None = None,
    as_of: datetime | None = None,
) -> GatherReport:
    """Run the sources, fall back as configured, rank, and record the run.

    mode: "auto" uses live data and falls back to the bundled sample when no source produced any;
    "sample" forces the sample; "live" never falls back (raises `NoLiveData`).
    `on_progress` hears each source's report as it finishes; `on_running`, the sources still running.
    snapshot: replay this snapshot instead of fetching (mode is then ignored). A replay (this, or the
    sample) runs at `as_of` (default: the snapshot's captured_at), which is also the ranking clock;
    it neither reads nor writes the store's observations, source cache or featured history, and its
    run id derives from that clock and the data, so the same replay gives the same output.
    now: the wall time of a live run (default: the real clock).
    """
    names = resolve_sources(settings, sources)
    replay = snapshot or (Snapshot.sample() if mode == "sample" else None)
    if as_of is not None and replay is None:
        raise ValueError("as_of is the clock of a replay; pass a snapshot or mode='sample'")
    replayed = replay is not None  # asked for up front (not the fallback): the run happens on the replay clock
    if replay is not None:
        now = replay.clock(as_of)
        run_id = f"{now:%Y%m%dT%H%M%SZ}-replay-{replay.fingerprint(names)}"
        if settings.profile:  # the same replay ranked for another profile is another run
            run_id += "-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in settings.profile)[:40]
    else:
        now = now or datetime.now(UTC)
        run_id = new_run_id(now)
    report = GatherReport(run_id=run_id, started_at=now, profile=settings.profile)
    if store is not None:
        store.start_run(report.run_id, now, sample=replay is not None and replay.bundled)
    outcomes: list[_Outcome] = []

    def record(outcome: _Outcome) -> None:
        if mode != "sample":
            outcome = _stale_fallback(outcome, store, settings, now)
            if store is not None and outcome.report.status in ("ok", "partial") and outcome.items:
                try:
                    store.add_observations(report.run_id, outcome.items)
                    if outcome.report.status == "ok":
                        store.save_source_cache(outcome.report.source, report.run_id, now, outcome.items)
                except Exception as exc:  # noqa: BLE001 - a failing write costs this source, never the run
                    log.error("source %s: could not store its items: %s", outcome.report.source, _one_line(exc))
                    failed = outcome.report.model_copy(update={
                        "status": "failed", "items": 0,
                        "reason": f"its {len(outcome.items)} items could not be stored: {_one_line(exc)}",
                    })
                    outcome = _stale_fallback(_Outcome(failed), store, settings, now)
        outcomes.append(outcome)
        if on_progress:
            on_progress(outcome.report)

    rank_now = now
    if replay is None:
        _collect(names, settings, store, now, sequential, record, on_running)
    if replay is not None or not any(o.items for o in outcomes):
        if mode == "live" and replay is None:
            why = "; ".join(f"{o.report.source}: {o.report.status} ({o.report.reason})" for o in outcomes)
            raise NoLiveData(f"no source produced live data — {why or 'no sources selected'}")
        reasons = {o.report.source: o.report for o in outcomes}
        outcomes = []
        fallback = replay is None
        if replay is None:  # the fallback: the bundled sample, ranked at its own capture time
            replay = Snapshot.sample()
            rank_now = replay.captured_at
        for outcome in _snapshot_outcomes(replay, names, reasons, settings, fallback=fallback):
            outcomes.append(outcome)
            if on_progress:
                on_progress(outcome.report)
        report.sample = replay.bundled
        report.snapshot = replay.label

    order = {n: i for i, n in enumerate(names)}
    outcomes.sort(key=lambda o: order.get(o.report.source, 99))
    report.sources = [o.report for o in outcomes]
    report.items = [it for o in outcomes for it in o.items]
    featured = (
        store.recently_featured(featured_since(settings.featured_lookback_days, now))
        if store is not None and replay is None
        else {}
    )
    report.trends = ranking.rank(report.items, rank_config(settings), rank_now, featured=featured)
    report.finished_at = now if replayed else datetime.now(UTC)
    if store is not None:
        store.finish_run(report)
    return report
