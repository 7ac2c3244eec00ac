"""Services misbehaving over loopback: long Retry-After, hangs, oversized and garbage bodies, a model endpoint
that answers HTML. Each costs at most what it touched, says so in one line, and keeps what was fetched."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sources.fakes import FakeServer, Request, Response, apify_handler
from typer.testing import CliRunner

from ai_content_agents import pipeline
from ai_content_agents.cli import app
from ai_content_agents.sources import reddit, youtube
from ai_content_agents.sources.base import SourceError
from ai_content_agents.sources.sample import load_sample

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REDDIT_RAW, _ = load_sample("reddit")
LISTING = REDDIT_RAW[0]
YT_ROWS, _ = load_sample("youtube")
runner = CliRunner()


def _reddit(mk, url: str, **kw):  # type: ignore[no-untyped-def]
    return mk(reddit_auth_url=url + "/api/v1/access_token", reddit_api_url=url, reddit_public_url=url, **kw)


@pytest.fixture
def mk(tmp_path):  # type: ignore[no-untyped-def]
    from ai_content_agents.config import Settings

    def make(**kw):  # type: ignore[no-untyped-def]
        base = {"data_dir": tmp_path / "data", "out_dir": tmp_path / "out", "http_timeout_s": 5.0, "apify_max_retries": 0,
                "http_retries": 2, "http_retry_max_wait_s": 0.05, "_env_file": None}
        return Settings(**{**base, **kw})

    return make


# --- item 8: a Retry-After beyond the cap is "rate limited", at once ----------------------------------------
def test_a_retry_after_beyond_the_cap_is_rate_limited_not_waited_on(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(429, {"message": "slow down"}, {"Retry-After": "3600"})) as fake, pytest.raises(SourceError) as err:
        reddit.fetch(_reddit(mk, fake.url, reddit_subreddits=["shopify"], http_retry_max_wait_s=30))
    assert len(fake.requests) == 1
    assert "rate limited (429); the server asks to wait 3600 s, longer than AICA_HTTP_RETRY_MAX_WAIT_S=30" in str(err.value)


# --- item 8: a source that runs out of time keeps the pages it fetched -----------------------------------
def test_a_timed_out_reddit_source_keeps_the_subreddits_it_fetched(mk, store) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def handle(req: Request) -> Response:
        if "/r/hangs/" in req.path:
            release.wait(30)  # until the test ends: only the source deadline can end this request
            return Response(200, LISTING)
        return Response(200, LISTING)

    with FakeServer(handle) as fake:
        settings = _reddit(mk, fake.url, reddit_subreddits=["shopify", "hangs"], source_timeout_s=1.5, http_retries=0)
        try:
            report = pipeline.gather(settings, store, sources=["reddit"], mode="live", now=NOW)
        finally:
            release.set()
    rep = report.sources[0]
    assert rep.status == "partial" and rep.items > 0, rep
    assert not report.sample and len({it.group for it in report.items}) == 1  # the one subreddit that answered


def test_a_timed_out_youtube_source_keeps_the_videos_it_fetched(mk, store) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    videos = [{k: v for k, v in row.items() if not k.startswith("_")} for row in YT_ROWS]

    def handle(req: Request) -> Response:
        if req.path.endswith("/search"):
            return Response(200, {"items": [{"id": {"videoId": v["id"]}} for v in videos]})
        if req.path.endswith("/videos"):
            return Response(200, {"items": videos})
        release.wait(30)  # the channel baselines never come
        return Response(200, {"items": []})

    with FakeServer(handle) as fake:
        settings = mk(youtube_api_key="AIzaTESTkey0000000000", youtube_api_url=fake.url, youtube_queries=["q"],
                      source_timeout_s=1.5, http_retries=0)
        try:
            report = pipeline.gather(settings, store, sources=["youtube"], mode="live", now=NOW)
        finally:
            release.set()
    rep = report.sources[0]
    assert rep.status == "partial" and rep.items == len(videos), rep


# --- item 4: garbage YouTube bodies lose at most what they touched ---------------------------------------
GARBAGE = {
    "items is a list of lists": {"items": [[1, 2], ["x"]]},
    "items is a number": {"items": 7},
    "items is a string": {"items": "nope"},
    "channel id is unhashable": {"items": [{"id": ["UC", "x"], "contentDetails": [], "statistics": {}}]},
    "contentDetails is a list": {"items": [{"id": "UC1", "contentDetails": [1], "statistics": []}]},
    "relatedPlaylists is a string": {"items": [{"id": "UC1", "contentDetails": {"relatedPlaylists": "x"}}]},
    "body is a list": [{"items": []}],
}


@pytest.mark.parametrize("what", list(GARBAGE))
def test_garbage_youtube_baseline_bodies_keep_the_videos(what, mk) -> None:  # type: ignore[no-untyped-def]
    videos = [{k: v for k, v in row.items() if not k.startswith("_")} for row in YT_ROWS]
    videos[0] = {**videos[0], "snippet": {**videos[0]["snippet"], "channelId": ["not", "hashable"]}}
    videos[1] = {**videos[1], "snippet": ["a", "list"]}

    def handle(req: Request) -> Response:
        if req.path.endswith("/search"):
            return Response(200, {"items": [{"id": {"videoId": v["id"]}} for v in videos] + [[], {"id": 5}]})
        if req.path.endswith("/videos") and len(req.query["id"].split(",")) == len(videos):
            return Response(200, {"items": [*videos[:-2], "junk", 42]})  # two rows that are not objects
        return Response(200, GARBAGE[what])

    with FakeServer(handle) as fake:
        settings = mk(youtube_api_key="AIzaTESTkey0000000000", youtube_api_url=fake.url, youtube_queries=["q"])
        result = youtube.fetch(settings)
    assert len(result.raw_items) == len(videos) - 2 and result.skipped == {"not a dict": 2}
    parsed = youtube.parse(result.raw_items, NOW)
    assert len(parsed) >= len(videos) - 3  # the video whose snippet is a list has no title: that row only


# --- item 5: size limits --------------------------------------------------------------------------------
def test_a_body_over_the_size_cap_is_not_read_and_costs_that_call_only(mk) -> None:  # type: ignore[no-untyped-def]
    big = {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "x", "title": "y" * 300_000}}]}}

    def handle(req: Request) -> Response:
        return Response(200, big if "/r/huge/" in req.path else LISTING)

    with FakeServer(handle) as fake:
        result = reddit.fetch(_reddit(mk, fake.url, reddit_subreddits=["shopify", "huge"], max_response_mb=0.1))
    assert result.partial and len(result.raw_items) == 1
    assert "r/huge top (public) sent 0.3 MB, more than 0.1 MB (AICA_MAX_RESPONSE_MB); not read" in result.note


def test_an_apify_dataset_page_over_the_cap_stops_the_reading_and_keeps_earlier_pages(mk, store) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("tiktok")
    small = [dict(rows[i % len(rows)], id=str(7300000000000000000 + i)) for i in range(250)]
    huge = dict(rows[0], id="7399999999999999999", text="z" * 2_000_000)
    with FakeServer(apify_handler("SUCCEEDED", [*small, huge])) as fake:
        settings = mk(apify_token="apify_api_TESTtoken0000", apify_api_url=fake.url, max_response_mb=1.0)
        report = pipeline.gather(settings, store, sources=["tiktok"], mode="live", now=NOW)
    rep = report.sources[0]
    assert rep.status == "partial" and rep.items > 0 and rep.cut.get("dataset pages not read") == 1, rep
    assert "larger than 1 MB (AICA_MAX_RESPONSE_MB)" in rep.reason


def test_apify_rows_over_the_item_cap_are_not_read(mk, store) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("tiktok")
    many = [dict(rows[i % len(rows)], id=str(7300000000000000000 + i)) for i in range(40)]
    with FakeServer(apify_handler("SUCCEEDED", many)) as fake:
        settings = mk(apify_token="apify_api_TESTtoken0000", apify_api_url=fake.url, max_items_per_source=10)
        rep = pipeline.gather(settings, store, sources=["tiktok"], mode="live", now=NOW).sources[0]
    assert rep.items <= 10 and rep.cut == {"rows over the item cap": 1}  # one row past the cap was read, no more
    assert all(int(r.query.get("limit", "0")) <= 11 for r in fake.requests if r.path.endswith("/items"))


# --- item 8: after a full fallback to the sample, sources say what happened live --------------------------
def test_after_a_fallback_to_the_sample_no_source_says_ok(settings, store, offline) -> None:  # type: ignore[no-untyped-def]
    report = pipeline.gather(settings, store, mode="auto", now=NOW)
    assert report.sample
    assert not [s.source for s in report.sources if s.status == "ok"]
    assert all("showing sample data instead" in s.reason for s in report.sources if s.items)


# --- item 8: an Anthropic-compatible server that answers 200 with HTML -----------------------------------
@pytest.mark.parametrize("body", ["<!DOCTYPE html><html><body>Sign in to the proxy</body></html>", "just text"])
def test_a_model_reply_that_is_not_a_message_is_said_plainly(body, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The SDK hands back a 200 text body as a str: that is one clear line per failed step (the editor falls back
    to the default selection; each section the writer could not write is withheld and says why), no traceback."""
    with FakeServer(lambda r: Response(200, body)) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-TESTkeyForHtml000")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        result = runner.invoke(app, ["newsletter", "--sample"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "AttributeError" not in result.output
    what = "an HTML page" if body.startswith("<!") else "a str"
    withheld = [line for line in result.stderr.splitlines() if "Withheld" in line]
    assert result.exit_code == 3 and withheld, result.output
    assert f"answered with {what} instead of a message" in " ".join(result.stderr.split())


def test_the_writing_phase_has_its_own_deadline(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ai_content_agents.agents.editor as editor_module  # the command imports it when it runs

    release = threading.Event()

    def stuck(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(30)
        raise RuntimeError("released")

    monkeypatch.setattr(editor_module, "write_with_agents", stuck)
    monkeypatch.setenv("AICA_WRITE_DEADLINE_S", "0.5")
    try:
        result = runner.invoke(app, ["newsletter", "--sample"])
    finally:
        release.set()
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert result.exit_code == 2 and "did not finish within 0.5 s (AICA_WRITE_DEADLINE_S)" in last, result.output
    assert "nothing was written" in last and not Path("out").exists()


def test_a_server_that_sends_more_than_asked_is_cut_at_the_limit(mk) -> None:  # type: ignore[no-untyped-def]
    child = LISTING["data"]["children"][0]
    many = {"kind": "Listing", "data": {"children": [
        {**child, "data": {**child["data"], "id": f"p{i}"}} for i in range(300)]}}
    with FakeServer(lambda r: Response(200, many)) as fake:
        result = reddit.fetch(_reddit(mk, fake.url, reddit_subreddits=["shopify"], reddit_limit=50))
    assert len(result.raw_items[0]["data"]["children"]) == 50 and result.cut == {"posts over the requested limit": 250}


def test_an_apify_dataset_that_ignores_limit_is_read_only_to_the_cap(mk) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("tiktok")
    everything = [dict(rows[i % len(rows)], id=str(7300000000000000000 + i)) for i in range(3000)]
    plain = apify_handler("SUCCEEDED", everything)

    def handle(req: Request) -> Response:
        if req.path.endswith("/items"):  # every page holds the whole dataset, whatever limit/offset say
            return Response(200, everything, {"x-apify-pagination-total": "3000", "x-apify-pagination-offset": "0",
                                              "x-apify-pagination-count": "3000", "x-apify-pagination-limit": "3000",
                                              "x-apify-pagination-desc": "false"})
        return plain(req)

    from ai_content_agents.sources import tiktok

    with FakeServer(handle) as fake:
        result = tiktok.fetch(mk(apify_token="apify_api_TESTtoken0000", apify_api_url=fake.url, max_items_per_source=100))
    assert len(result.raw_items) == 100 and result.cut == {"rows over the item cap": 1}
    assert sum(1 for r in fake.requests if r.path.endswith("/items")) == 1
