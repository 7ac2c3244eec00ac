"""`watch` as cron runs it: new breakouts and big climbers against the stored history, a cooldown kept in the
store (an injected clock moves past it), a loopback Slack-compatible webhook receiver, and the exit codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from typer.testing import CliRunner

from ai_content_agents import runs
from ai_content_agents import watch as watcher
from ai_content_agents.cli import app
from ai_content_agents.config import Settings
from ai_content_agents.models import GatherReport, Signals, SourceEvidence, Trend, TrendItem
from ai_content_agents.store import Store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOOK_PATH = "/services/T000/B000/hook-CANARY-5e1d"
runner = CliRunner()


def trend(name: str, rank: int, score: float, label: str = "climbing", flags: list[str] | None = None) -> Trend:
    asin = "B0" + name.upper().replace(" ", "")[:8].ljust(8, "X")
    it = TrendItem(source="amazon", source_id=asin, title=name, url=f"https://www.amazon.com/dp/{asin}",
                   metrics={"rank": float(rank)}, window="24 h", observed_at=T0,
                   signals=Signals(metric="rank", value=float(rank), s=2.0))
    ev = SourceEvidence(source="amazon", item_keys=[it.key], best_key=it.key, s=2.0, p=0.9, n_source=30, weight=1.0,
                        age_h=1, half_life_h=84, decay=1.0)
    return Trend(cluster_id=f"asin:{asin}", rank=rank, title=name, topic=name,
                 canonical_urls=[it.url], items=[it], evidence=[ev], independent_sources=1, score=score,
                 label=label, label_reason="amazon: new" if label == "breakout" else "", flags=flags or [])  # type: ignore[arg-type]


def store_run(store: Store, run_id: str, at: datetime, trends: list[Trend], profile: str = "") -> None:
    runs.save(store, GatherReport(run_id=run_id, started_at=at, trends=trends, profile=profile), now=at)


YESTERDAY = [trend("ice roller", 1, 0.9), trend("lip oil", 2, 0.8), trend("led mask", 9, 0.3)]
TODAY = [
    trend("led mask", 1, 0.95),  # from #9 to #1: a big climber
    trend("ice roller", 2, 0.88),  # steady: no alert
    trend("mug warmer", 3, 0.7, label="breakout"),  # new: a breakout
    trend("lip oil", 4, 0.75),  # down: no alert
    trend("tiny thing", 5, 0.2, label="breakout"),  # below the breakout score threshold
    trend("walking pad", 6, 0.9, label="breakout", flags=["excluded"]),  # not featurable: never alerts
]


def test_compare_finds_the_new_breakout_and_the_big_climber_only() -> None:
    alerts = watcher.compare(TODAY, [YESTERDAY], watcher.Thresholds())
    assert [(a.kind, a.title) for a in alerts] == [("climber", "led mask"), ("breakout", "mug warmer")]
    climber = alerts[0]
    assert (climber.prev_rank, climber.rank) == (9, 1) and "up 8 place(s)" in climber.reason
    strict = watcher.compare(TODAY, [YESTERDAY], watcher.Thresholds(climb_min_ranks=9, climb_min_score_gain=0.9))
    assert [a.kind for a in strict] == ["breakout"]
    # a "breakout" already in an earlier run's top N is not new
    seen = watcher.compare(TODAY, [YESTERDAY, [trend("mug warmer", 4, 0.5)]], watcher.Thresholds())
    assert [a.title for a in seen] == ["led mask"]


class _Receiver(BaseHTTPRequestHandler):
    status = 200
    posts: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).posts.append({"path": self.path, "json": json.loads(body), "type": self.headers["Content-Type"]})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Receiver]]:
    """A loopback Slack-compatible incoming webhook; AICA_WATCH_WEBHOOK_URL points at it."""
    receiver = type("Receiver", (_Receiver,), {"posts": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AICA_WATCH_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}{HOOK_PATH}")
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _watch(at: datetime, *args: str) -> Any:
    with time_machine.travel(at, tick=False):
        return runner.invoke(app, ["watch", *args])


def test_cron_run_alerts_once_posts_to_the_webhook_and_cools_down(hook: type[_Receiver]) -> None:
    settings = Settings()
    store = Store(settings.db_path)
    try:
        store_run(store, "run-1", T0, YESTERDAY)
        store_run(store, "run-2", T0 + timedelta(days=1), TODAY)
    finally:
        store.close()
    first = _watch(T0 + timedelta(days=1, hours=1))
    assert first.exit_code == 10, first.output
    assert "led mask" in first.output and "mug warmer" in first.output and "Posted to the webhook" in first.output
    [post] = hook.posts
    assert post["path"] == HOOK_PATH and post["type"] == "application/json"
    text = post["json"]["text"]
    assert "2 new alert(s)" in text and "Breakout: *mug warmer*" in text and "Climber: *led mask*" in text
    # an hour later cron runs again on the same data: nothing new, nothing posted
    again = _watch(T0 + timedelta(days=1, hours=2), "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["alerts"] == [] and {a["title"] for a in data["held_back"]} == {"led mask", "mug warmer"}
    assert len(hook.posts) == 1
    # past the cooldown (72 h by default) the same stories may alert again
    later = _watch(T0 + timedelta(days=1, hours=74), "--json")
    assert later.exit_code == 10 and len(json.loads(later.stdout)["alerts"]) == 2 and len(hook.posts) == 2


def test_a_failing_webhook_is_one_line_without_the_url_and_retries_next_run(hook: type[_Receiver]) -> None:
    settings = Settings()
    store = Store(settings.db_path)
    try:
        store_run(store, "run-1", T0, YESTERDAY)
        store_run(store, "run-2", T0 + timedelta(days=1), TODAY)
    finally:
        store.close()
    hook.status = 500
    failed = _watch(T0 + timedelta(days=1, hours=1))
    assert failed.exit_code == 5
    assert "the webhook answered HTTP 500" in failed.output and "CANARY" not in failed.output
    assert "Traceback" not in failed.output
    hook.status = 200
    retried = _watch(T0 + timedelta(days=1, hours=2))  # nothing was recorded, so the alerts come again
    assert retried.exit_code == 10 and len(hook.posts) == 2


def test_exit_codes_with_no_run_and_with_nothing_new_and_profiles_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    none = _watch(T0)
    assert none.exit_code == 4 and "no stored run" in none.output
    settings = Settings()
    store = Store(settings.db_path)
    try:
        store_run(store, "run-1", T0, YESTERDAY)
        store_run(store, "run-k", T0 + timedelta(days=1), TODAY, profile="kitchen")
    finally:
        store.close()
    quiet = _watch(T0 + timedelta(hours=1))
    assert quiet.exit_code == 0 and "Nothing new" in quiet.output  # one run, no breakouts in it
    kitchen = _watch(T0 + timedelta(days=1, hours=1), "--profile", "kitchen", "--json")
    data = json.loads(kitchen.stdout)
    assert kitchen.exit_code == 10 and data["profile"] == "kitchen" and data["compared_with"] == []
    assert [a["title"] for a in data["alerts"]] == ["mug warmer"]  # no earlier kitchen run: breakouts only
