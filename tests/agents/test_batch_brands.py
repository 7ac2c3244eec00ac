"""Many brands through the Message Batches API, against a loopback fake of the batch endpoints.

One gather per distinct source configuration; one batch for every section of every brand; the batch id stored
before polling, so an interrupted run resumes without a second create; every entry status reported per brand and
the failed ones retried as ordinary calls; each result fact-checked before its issue is written; no batches →
concurrent ordinary calls under the limit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anthropic
import pytest

from ai_content_agents import batch_jobs, pipeline
from ai_content_agents.agents.api import RetryPolicy
from ai_content_agents.agents.batches import Poller
from ai_content_agents.agents.brands import BrandJob, BrandsRun, Gathered
from ai_content_agents.agents.usage import DEFAULT_PRICES, CallUsage
from ai_content_agents.config import Settings
from ai_content_agents.models import GatherReport, Newsletter
from ai_content_agents.store import Store

from .fake_batches import FakeBatchServer, offline_reply
from .fakes import TEST_KEY

_SAMPLE: dict[str, GatherReport] = {}


def sample_report(settings: Settings) -> GatherReport:
    """The bundled sample gathered for these sources (cached: the data is the same every time)."""
    key = ",".join(settings.enabled_sources())
    if key not in _SAMPLE:
        _SAMPLE[key] = pipeline.gather(settings, None, mode="sample")
    return _SAMPLE[key]


class Harness:
    """A BrandsRun with a fake clock and sleep, a gather that counts, and a publish that keeps the issues."""

    def __init__(self, settings: Settings, store: Store, server: FakeBatchServer, *, max_wait_s: float = 3600) -> None:
        self.settings, self.store, self.server = settings, store, server
        self.gathers: list[str] = []
        self.published: dict[str, Newsletter] = {}
        self.sleeps: list[float] = []
        self.t = 0.0
        self.max_wait_s = max_wait_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def gather(self, s: Settings) -> Gathered:
        self.gathers.append(",".join(s.enabled_sources()))
        report = sample_report(s)
        return Gathered(report=report, ranked_at=report.started_at, replay=True)

    def publish(self, name: str, nl: Newsletter) -> str:
        self.published[name] = nl
        return f"out/{name}/issue"

    def run(self, jobs: list[BrandJob], *, batch: bool = True, retry_failed: bool = False,
            sleep: Any = None) -> Any:
        client = anthropic.Anthropic(api_key=TEST_KEY, base_url=self.server.url, max_retries=0)
        self.brands = BrandsRun(
            self.settings, self.store, client, self.gather, self.publish, batch=batch, retry_failed=retry_failed,
            poller=Poller(10.0, 300.0, self.max_wait_s, clock=lambda: self.t, sleep=sleep or self.sleep),
            retry=RetryPolicy(max_retries=0, sleep=self.sleep),
        )
        return self.brands.run(jobs)


def brand(settings: Settings, name: str, **update: Any) -> BrandJob:
    return BrandJob(name=name, settings=settings.model_copy(update={"newsletter_name": name.title(), **update}))


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return settings.model_copy(update={"anthropic_api_key": None})


@pytest.fixture
def jobs(settings: Settings) -> list[BrandJob]:
    # skincare and kitchen search the same sources (one gather); shop searches fewer (a second gather)
    return [
        brand(settings, "skincare", niche_terms=["serum", "skincare"]),
        brand(settings, "kitchen", niche_terms=["kitchen", "blender"], source_weights={"reddit": 0.5}),
        brand(settings, "shop", enable_x=False, enable_reddit=False, enable_youtube=False),
    ]


def test_one_gather_per_source_configuration_one_batch_every_issue_fact_checked(settings, store, jobs) -> None:
    with FakeBatchServer(polls_to_end=3) as server:
        h = Harness(settings, store, server)
        outcome = h.run(jobs)
    assert len(h.gathers) == 2 and outcome.gathers == 2  # skincare + kitchen share theirs
    assert server.creates == 1 and not server.calls  # every section in one batch, no ordinary call
    ids = [r["custom_id"] for r in server.requests]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", c) for c in ids)
    assert {r["params"]["model"] for r in server.requests} == {settings.writer_model}
    assert {p.name for p in outcome.profiles} == {"skincare", "kitchen", "shop"}
    assert all(p.folder and p.written_now and not p.failed for p in outcome.profiles)
    assert set(h.published) == {"skincare", "kitchen", "shop"}
    for nl in h.published.values():
        assert nl.factcheck and all(c.passed for c in nl.factcheck) and sum(len(c.figures) for c in nl.factcheck)
        assert not nl.withheld and nl.sample
    assert h.published["kitchen"].masthead.name == "Kitchen"
    # backoff between polls: 10 s, then doubling, injected (no real sleep)
    assert h.sleeps == [10.0, 20.0]
    # the stored job is closed: the same command afterwards starts a new job
    assert [r["state"] for r in store.query("SELECT state FROM batch_jobs")] == ["done"]


def test_batch_usage_is_priced_at_half_of_ordinary_calls(settings, store, jobs) -> None:
    with FakeBatchServer(polls_to_end=1) as server:
        h = Harness(settings, store, server)
        h.run(jobs[:1])
    calls = h.brands.usage.calls
    assert calls and all(c.batch for c in calls)
    price = DEFAULT_PRICES["claude-sonnet"]
    full = sum(price.cost(CallUsage(**c.model_dump(exclude={"cost_usd", "batch"}))) for c in calls)
    assert h.brands.usage.cost_usd == pytest.approx(full * 0.5)
    rows = store.query("SELECT COUNT(*) AS n, SUM(cost_usd) AS cost FROM usage")
    assert rows[0]["n"] == len(calls) and rows[0]["cost"] == pytest.approx(full * 0.5)


def test_every_entry_status_is_reported_per_profile_and_failed_ones_retried_as_ordinary_calls(settings, store, jobs) -> None:
    def outcome(custom_id: str) -> str:
        if "skincare-top_trend" in custom_id:
            return "errored"
        if "skincare-creator_watch" in custom_id:
            return "expired"
        if "kitchen-amazon_movers" in custom_id:
            return "canceled"
        return "succeeded"

    with FakeBatchServer(polls_to_end=1, outcome=outcome, error_message=f"busy (key {TEST_KEY})") as server:
        h = Harness(settings, store, server)
        first = h.run(jobs)
        by_name = {p.name: p for p in first.profiles}
        assert by_name["skincare"].counts == {"errored": 1, "expired": 1, "succeeded": 2}
        assert by_name["kitchen"].counts.get("canceled") == 1
        assert by_name["skincare"].folder is None and by_name["kitchen"].folder is None  # held back, not half-written
        assert by_name["shop"].folder and set(h.published) == {"shop"}
        problems = " | ".join(by_name["skincare"].problems)
        assert "top_trend: errored — overloaded_error: busy" in problems and "creator_watch: expired" in problems
        assert TEST_KEY not in problems  # the server echoed the key; it never reaches the report
        assert by_name["kitchen"].problems == ["amazon_movers: canceled — the batch was canceled"]
        assert not server.calls

        again = h.run(jobs)  # without --retry-failed: nothing is sent, nothing is paid
        assert server.creates == 1 and not server.calls and {p.name for p in again.profiles if p.folder} == {"shop"}

        retried = h.run(jobs, retry_failed=True)
    assert server.creates == 1 and len(server.calls) == 3  # exactly the three failed entries, as ordinary calls
    assert all(p.folder for p in retried.profiles)
    assert {p.name for p in retried.profiles if p.written_now} == {"skincare", "kitchen"}  # shop not written twice
    entries = batch_jobs.entries(store, retried.job_id)
    assert {e.via for e in entries if e.status == "succeeded"} == {"batch", "call"}
    assert len(h.gathers) == 2  # the resumed runs gathered nothing


def test_interrupted_run_resumes_the_stored_batch_without_a_second_create(settings, store, jobs) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    with FakeBatchServer(polls_to_end=6) as server:
        h = Harness(settings, store, server)
        with pytest.raises(KeyboardInterrupt):
            h.run(jobs, sleep=interrupted)  # Ctrl-C while waiting for the batch
        assert server.creates == 1 and not h.published
        stored = store.query("SELECT batch_id FROM batch_jobs")
        assert [r["batch_id"] for r in stored] == ["msgbatch_0001"]

        h2 = Harness(settings, store, server, max_wait_s=15)  # a short wait: the batch is still running
        waiting = h2.run(jobs)
        assert waiting.resumed and waiting.waiting and not h2.published and server.creates == 1

        h3 = Harness(settings, store, server)
        done = h3.run(jobs)
    assert done.resumed and not done.waiting and server.creates == 1 and server.result_reads == 1
    assert set(h3.published) == {"skincare", "kitchen", "shop"}
    assert not h2.gathers and not h3.gathers  # a resumed job reuses its stored runs
    assert len(h3.brands.usage.calls) == len(server.requests)  # each result counted once


def test_a_changed_profile_is_a_new_job(settings, store, jobs) -> None:
    with FakeBatchServer(polls_to_end=99) as server:
        Harness(settings, store, server, max_wait_s=5).run(jobs)
        changed = [*jobs[:2], brand(settings, "shop", enable_x=False)]
        Harness(settings, store, server, max_wait_s=5).run(changed)
    assert server.creates == 2


def test_the_fact_check_gates_each_batch_result(settings, store, jobs) -> None:
    """A batch reply with an invented figure is revised with an ordinary call before the issue is written."""

    def invent(custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        reply = offline_reply(params)
        if "top_trend" in custom_id:
            draft = json.loads(reply["content"][0]["text"])
            draft["items"][0]["why_it_matters"] += " It has 9,876,543 fans."
            reply["content"][0]["text"] = json.dumps(draft)
        return reply

    with FakeBatchServer(polls_to_end=1, batch_responder=invent) as server:
        h = Harness(settings, store, server)
        h.run(jobs[:1])
    assert len(server.calls) == 1 and "9,876,543" in json.dumps(server.calls[0]["messages"])  # the revision
    nl = h.published["skincare"]
    assert "9,876,543" not in nl.model_dump_json() and all(c.passed for c in nl.factcheck)
    assert next(c for c in nl.factcheck if c.section == "top_trend").attempts == 2


def test_without_batches_the_sections_go_as_concurrent_calls_under_the_limit(settings, store, jobs) -> None:
    flat = settings.model_copy(update={"supports_batches": False, "batch_concurrency": 2})
    jobs = [j.model_copy(update={"settings": j.settings.model_copy(update={"supports_batches": False})}) for j in jobs]
    with FakeBatchServer(call_delay_s=0.05) as server:
        h = Harness(flat, store, server)
        outcome = h.run(jobs)
    assert outcome.mode == "calls" and server.creates == 0 and outcome.batch is None
    assert len(server.calls) == sum(sum(p.counts.values()) for p in outcome.profiles) > 4
    assert server.max_in_flight == 2  # concurrent, and never past the limit
    assert all(p.folder for p in outcome.profiles)
    assert not any(c.batch for c in h.brands.usage.calls)


def test_poller_backs_off_to_its_ceiling_and_stops_at_its_budget() -> None:
    t = [0.0]

    def clock() -> float:
        return t[0]

    waits = []
    for w in Poller(10, 60, 200, clock=clock, sleep=lambda s: None).waits():
        waits.append(w)
        t[0] += w
    assert waits == [10, 20, 40, 60, 60, 10]


def test_profiles_on_the_command_line(tmp_path: Path, monkeypatch) -> None:
    """The CLI end to end with the fake: one line for a missing profile; issues per profile; resume exit codes."""
    from typer.testing import CliRunner

    from ai_content_agents.cli import app

    data = tmp_path / "data"
    (data / "profiles").mkdir(parents=True)
    (data / "profiles" / "skincare.toml").write_text('[newsletter]\nname = "Skin Brief"\n[niche]\nkeywords = ["serum"]\n')
    (data / "profiles" / "kitchen.toml").write_text('[newsletter]\nname = "Kitchen Brief"\n')
    monkeypatch.setenv("AICA_DATA_DIR", str(data))
    monkeypatch.setenv("AICA_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    monkeypatch.setenv("AICA_ANTHROPIC_MAX_RETRIES", "0")
    runner = CliRunner()
    with FakeBatchServer(polls_to_end=3) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        bad = runner.invoke(app, ["newsletter", "--profiles", "skincare,nope", "--batch", "--sample"])
        assert bad.exit_code == 2 and "no profile named 'nope'" in bad.output and "Traceback" not in bad.output
        assert server.creates == 0
        monkeypatch.setenv("AICA_BATCH_MAX_WAIT_S", "0.001")  # the first run stops before the batch ends
        first = runner.invoke(app, ["newsletter", "--profiles", "skincare,kitchen", "--batch", "--sample"])
        assert first.exit_code == 4, first.output
        assert "still running" in first.output
        monkeypatch.setenv("AICA_BATCH_MAX_WAIT_S", "3600")
        monkeypatch.setenv("AICA_BATCH_POLL_INITIAL_S", "0.01")
        second = runner.invoke(app, ["newsletter", "--profiles", "skincare,kitchen", "--batch", "--sample"])
    assert second.exit_code == 0, second.output
    assert server.creates == 1 and "Resumed" in second.output
    for name, title in (("skincare", "Skin Brief"), ("kitchen", "Kitchen Brief")):
        md = (tmp_path / "out" / name / "latest" / "newsletter.md").read_text()
        assert title in md and "SAMPLE DATA" in md
    assert TEST_KEY not in first.output + second.output


def test_a_server_without_batch_endpoints_is_one_line_then_the_fallback_resumes_the_same_job(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from ai_content_agents.cli import app

    data = tmp_path / "data"
    (data / "profiles").mkdir(parents=True)
    (data / "profiles" / "skincare.toml").write_text('[newsletter]\nname = "Skin Brief"\n')
    for name, value in (("AICA_DATA_DIR", str(data)), ("AICA_OUT_DIR", str(tmp_path / "out")),
                        ("ANTHROPIC_API_KEY", TEST_KEY), ("AICA_ANTHROPIC_MAX_RETRIES", "0")):
        monkeypatch.setenv(name, value)
    not_found = (404, {"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}})
    runner = CliRunner()
    with FakeBatchServer(create_error=not_found) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        first = runner.invoke(app, ["newsletter", "--profiles", "skincare", "--batch", "--sample"])
        assert first.exit_code == 2 and "HTTP 404" in first.output and "AICA_SUPPORTS_BATCHES" in first.output
        assert "Traceback" not in first.output and TEST_KEY not in first.output and not server.calls
        monkeypatch.setenv("AICA_SUPPORTS_BATCHES", "false")
        second = runner.invoke(app, ["newsletter", "--profiles", "skincare", "--batch", "--sample"])
    assert second.exit_code == 0, second.output
    assert "Resumed" in second.output and "ordinary calls" in second.output  # the stored job, not a new gather
    assert server.creates == 1 and len(server.calls) >= 4
    assert (tmp_path / "out" / "skincare" / "latest" / "newsletter.md").is_file()


def test_a_live_ranking_keeps_the_featured_history_it_saw_so_it_ranks_the_same_when_resumed(settings, store) -> None:
    from datetime import timedelta

    from ai_content_agents.agents.brands import ranked, ranking_for

    job = brand(settings, "skincare")
    report = sample_report(settings).model_copy(update={"sample": False, "snapshot": None})
    live = Gathered(report=report, ranked_at=report.started_at, replay=False)
    top = ranked(job, report, ranking_for(job, live, store)).trends[0]
    store.mark_featured("issue-1", [(top.cluster_id, top.score * 2)], report.started_at - timedelta(days=1))
    how = ranking_for(job, live, store)
    assert top.cluster_id in how.featured  # captured when the job starts...
    first = ranked(job, report, how)
    assert first.trends[0].cluster_id != top.cluster_id  # ...and it demotes the story featured yesterday
    store.mark_featured("issue-2", [(first.trends[0].cluster_id, 99.0)], report.started_at)  # later history
    again = ranked(job, report, batch_jobs.Ranking.model_validate_json(how.model_dump_json()))
    assert [t.cluster_id for t in again.trends] == [t.cluster_id for t in first.trends]
    assert not ranking_for(job, live.model_copy(update={"replay": True}), store).featured  # replays: no history
