"""The pipeline isolates sources: one failing, hanging or returning garbage never stops the others."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from ai_content_agents import pipeline
from ai_content_agents.models import (
    FetchResult,
    Observation,
    Parsed,
    Signals,
    TrendItem,
)
from ai_content_agents.sources.base import SourceError

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def fake_source(
    name: str,
    *,
    fetch: Callable[[], FetchResult] | None = None,
    n: int = 6,
    configured: str | None = None,
    on_fetch: Callable[[], None] | None = None,
) -> SimpleNamespace:
    def _fetch(settings, store=None):  # type: ignore[no-untyped-def]
        if on_fetch:
            on_fetch()
        if fetch:
            return fetch()
        return FetchResult(raw_items=[{"id": f"{name}{i}", "v": 10 * (i + 1)} for i in range(n)])

    def parse(raw: list, observed_at: datetime | None = None) -> Parsed:
        out = Parsed()
        for r in raw:
            if not isinstance(r, dict) or "id" not in r:
                out.skip("not an item")
                continue
            out.append(
                TrendItem(
                    source=name,
                    source_id=str(r["id"]),
                    title=f"{name} thing {r['id']}",
                    url=f"https://example.com/{name}/{r['id']}",
                    metrics={"v": float(r["v"])},
                    observed_at=observed_at or NOW,
                )
            )
        return out

    def score(items: list[TrendItem], history: Mapping[str, list[Observation]]) -> list[TrendItem]:
        for it in items:
            it.signals = Signals(metric="v", value=it.metrics["v"], s=it.metrics["v"] / 10, n_baseline=len(items))
        return items

    return SimpleNamespace(NAME=name, not_configured=lambda s: configured, fetch=_fetch, parse=parse, score=score)


@pytest.fixture
def use_sources(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(*mods: SimpleNamespace) -> list[str]:
        table = {m.NAME: m for m in mods}
        monkeypatch.setattr(pipeline, "load", lambda name: table[name])
        return list(table)

    return install


def _by_source(report) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {s.source: s for s in report.sources}


def test_all_sources_ok_are_ranked_and_stored(settings, store, use_sources) -> None:
    names = use_sources(fake_source("tiktok"), fake_source("reddit"))
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    assert {s.status for s in report.sources} == {"ok"}
    assert len(report.items) == 12
    assert report.trends and report.trends[0].rank == 1
    assert len(store.history("tiktok", [f"tiktok{i}" for i in range(6)])) == 6
    assert store.last_runs(1)[0].run_id == report.run_id


def test_raising_source_is_reported_and_others_complete(settings, store, use_sources) -> None:
    def boom() -> FetchResult:
        raise SourceError("apify run FAILED: actor crashed")

    def bug() -> FetchResult:
        raise KeyError("oops")

    names = use_sources(fake_source("tiktok", fetch=boom), fake_source("x", fetch=bug), fake_source("reddit"))
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    by = _by_source(report)
    assert by["tiktok"].status == "failed" and "FAILED" in by["tiktok"].reason
    assert by["x"].status == "failed" and "KeyError" in by["x"].reason
    assert by["reddit"].status == "ok" and by["reddit"].items == 6
    assert not report.sample


def test_hanging_source_times_out_without_blocking_the_run(settings, store, use_sources) -> None:
    settings.source_timeout_s = 0.5
    release = threading.Event()
    names = use_sources(fake_source("youtube", on_fetch=lambda: release.wait(30)), fake_source("amazon"))
    started = time.monotonic()
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    elapsed = time.monotonic() - started
    release.set()
    by = _by_source(report)
    assert by["youtube"].status == "failed" and "timed out" in by["youtube"].reason
    assert by["amazon"].status == "ok"
    assert elapsed < 10  # generous: the point is that it did not wait 30 s


def test_overall_deadline_stops_sequential_runs(settings, store, use_sources) -> None:
    settings.source_timeout_s = 5
    settings.run_deadline_s = 0.5
    release = threading.Event()
    names = use_sources(
        fake_source("reddit"), fake_source("tiktok", on_fetch=lambda: release.wait(30)), fake_source("x")
    )
    report = pipeline.gather(settings, store, sources=names, mode="live", sequential=True, now=NOW)
    release.set()
    by = _by_source(report)
    assert by["reddit"].status == "ok"
    assert by["tiktok"].status == "failed" and "run deadline" in by["tiktok"].reason
    assert by["x"].status == "failed" and "not started" in by["x"].reason


def test_garbage_items_are_counted_not_fatal(settings, store, use_sources) -> None:
    html = FetchResult(raw_items=["<html><body>502 Bad Gateway</body></html>", {"id": "a", "v": 5}, 42])
    names = use_sources(fake_source("reddit", fetch=lambda: html))
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    rep = report.sources[0]
    assert rep.status == "ok" and rep.items == 1 and rep.skipped_items == 2
    assert rep.skipped_reasons == {"not an item": 2}


def test_unconfigured_source_is_skipped(settings, store, use_sources) -> None:
    names = use_sources(fake_source("youtube", configured="no YOUTUBE_API_KEY"), fake_source("x"))
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    by = _by_source(report)
    assert by["youtube"].status == "skipped" and by["youtube"].reason == "no YOUTUBE_API_KEY"


def test_sequential_runs_one_source_at_a_time(settings, store, use_sources) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def track() -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1

    mods = [fake_source(n, on_fetch=track) for n in ("tiktok", "x", "reddit")]
    pipeline.gather(settings, store, sources=use_sources(*mods), mode="live", sequential=True, now=NOW)
    assert peak == 1
    peak = 0
    pipeline.gather(settings, store, sources=[m.NAME for m in mods], mode="live", now=NOW)
    assert peak > 1


def test_failed_source_falls_back_to_its_last_good_result_marked_stale(settings, store, use_sources) -> None:
    use_sources(fake_source("amazon"))
    pipeline.gather(settings, store, sources=["amazon"], mode="live", now=NOW)

    def down() -> FetchResult:
        raise SourceError("HTTP 503 from Apify")

    use_sources(fake_source("amazon", fetch=down))
    later = NOW + timedelta(hours=5)
    report = pipeline.gather(settings, store, sources=["amazon"], mode="live", now=later)
    rep = report.sources[0]
    assert rep.status == "stale" and rep.stale_age_h == pytest.approx(5.0)
    assert "503" in rep.reason and rep.items == 6
    assert len(report.items) == 6 and not report.sample

    settings.stale_max_age_h = 2
    with pytest.raises(pipeline.NoLiveData, match="older than 2 h"):
        pipeline.gather(settings, store, sources=["amazon"], mode="live", now=later)


def test_live_mode_refuses_to_fall_back(settings, store, use_sources) -> None:
    names = use_sources(fake_source("x", configured="no APIFY_TOKEN"))
    with pytest.raises(pipeline.NoLiveData, match="no APIFY_TOKEN"):
        pipeline.gather(settings, store, sources=names, mode="live", now=NOW)


def test_a_crash_after_a_source_finished_loses_nothing_it_wrote(settings, store, use_sources, monkeypatch) -> None:
    names = use_sources(fake_source("reddit"), fake_source("x"))

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("power cut during ranking")

    monkeypatch.setattr(pipeline.ranking, "rank", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    assert len(store.history("reddit", [f"reddit{i}" for i in range(6)])) == 6
    assert store.load_source_cache("x") is not None


def test_unknown_source_name_is_a_clear_error(settings) -> None:
    with pytest.raises(ValueError, match="unknown source.*tiktokk"):
        pipeline.resolve_sources(settings, ["tiktokk"])


def test_source_score_settings_reach_the_source(settings) -> None:
    settings.tiktok_commerce_weight = 3.0
    report = pipeline.gather(settings, None, sources=["tiktok"], mode="sample", now=NOW)
    weights = {it.signals.weight for it in report.items if it.is_commerce}
    assert weights == {3.0}


def test_sample_mode_runs_every_bundled_source_and_is_labelled(settings, store) -> None:
    report = pipeline.gather(settings, store, mode="sample")
    assert report.sample
    ok = {s.source for s in report.sources if s.status == "ok"}
    assert {"tiktok", "amazon", "x", "reddit", "youtube"} <= ok
    assert all("sample data" in s.reason for s in report.sources if s.status == "ok")
    assert store.history("tiktok", [it.source_id for it in report.items if it.source == "tiktok"]) == {}  # not mixed into live history


def test_ranking_knobs_come_from_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.config import Settings

    monkeypatch.setenv("AICA_SOURCE_WEIGHTS", '{"reddit": 0.25}')
    monkeypatch.setenv("AICA_TOP_N", "12")
    monkeypatch.setenv("AICA_NICHE_TERMS", "skincare, serum")
    config = pipeline.rank_config(Settings(_env_file=None))
    assert config.top_n == 12 and config.weights["reddit"] == 0.25 and config.weights["amazon"] == 1.0
    assert config.niche_terms == ("skincare", "serum") and config.exclude_off_topic
    # one decay for every source: half the issue cadence, or the explicit override
    assert config.half_life_h == 84.0
    monkeypatch.setenv("AICA_ISSUE_CADENCE_DAYS", "1")
    assert pipeline.rank_config(Settings(_env_file=None)).half_life_h == 12.0
    monkeypatch.setenv("AICA_DECAY_HALF_LIFE_H", "30")
    assert pipeline.rank_config(Settings(_env_file=None)).half_life_h == 30.0


def test_the_sources_still_running_are_named_as_they_finish(settings, store, use_sources) -> None:
    heard: list[list[str]] = []
    release = threading.Event()

    def running(names: list[str]) -> None:
        heard.append(names)
        if names == ["youtube"]:
            release.set()  # youtube answers only once the others are done, so the order is fixed

    names = use_sources(fake_source("reddit"), fake_source("youtube", on_fetch=lambda: release.wait(30)),
                        fake_source("x"))
    pipeline.gather(settings, store, sources=names, mode="live", now=NOW, on_running=running)
    assert heard[0] == ["reddit", "youtube", "x"] and heard[-2:] == [["youtube"], []]
    assert all(set(later) < set(earlier) for earlier, later in itertools.pairwise(heard))


def test_sequential_runs_name_one_source_at_a_time(settings, store, use_sources) -> None:
    heard: list[list[str]] = []
    names = use_sources(fake_source("reddit"), fake_source("x"))
    pipeline.gather(settings, store, sources=names, mode="live", sequential=True, now=NOW, on_running=heard.append)
    assert heard == [["reddit"], ["x"], []]
