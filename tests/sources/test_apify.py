"""sources/apify.py against a loopback fake of the Apify API (the HTTP calls apify-client 3.x makes)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ai_content_agents.sources.apify import run_actor
from ai_content_agents.sources.base import SourceError

from .conftest import TOKEN
from .fakes import FakeServer, Response, apify_handler

ITEMS = [{"id": str(7400000000000000000 + i), "text": f"video {i}"} for i in range(3)]


def _settings(mk, url: str, **kw):  # type: ignore[no-untyped-def]
    return mk(apify_token=TOKEN, apify_api_url=url, **kw)


def test_succeeded_run_returns_items_and_sends_limits(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler("SUCCEEDED", ITEMS)) as fake:
        settings = _settings(mk, fake.url, apify_run_timeout_s=120, apify_memory_mb=512, apify_max_charge_usd=Decimal("0.25"))
        result = run_actor(settings, "clockworks/tiktok-scraper", {"hashtags": ["x"], "resultsPerPage": 7}, max_items=7)
    assert result.raw_items == ITEMS
    assert result.partial is False
    assert result.cost_usd == pytest.approx(0.0123)
    start = fake.requests[0]
    assert start.method == "POST" and start.path == "/v2/actors/clockworks~tiktok-scraper/runs"
    assert start.json() == {"hashtags": ["x"], "resultsPerPage": 7}
    assert start.query["timeout"] == "120" and start.query["memory"] == "512"
    assert start.query["maxItems"] == "7" and start.query["maxTotalChargeUsd"] == "0.25"
    assert start.headers["authorization"] == f"Bearer {TOKEN}"
    items_req = [r for r in fake.requests if r.path.endswith("/items")][0]
    assert "view" not in items_req.query and "flatten" not in items_req.query


def test_failed_run_is_a_source_error_with_status(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler("FAILED", ITEMS, message="Actor crashed: no such hashtag")) as fake, pytest.raises(SourceError) as err:
        run_actor(_settings(mk, fake.url), "clockworks/tiktok-scraper", {})
    assert "FAILED" in str(err.value) and "no such hashtag" in str(err.value)
    assert not any(r.path.endswith("/items") for r in fake.requests)


@pytest.mark.parametrize("status", ["TIMED-OUT", "ABORTED"])
def test_timed_out_or_aborted_run_returns_pushed_items_as_partial(mk, status: str) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler(status, ITEMS)) as fake:
        result = run_actor(_settings(mk, fake.url), "clockworks/tiktok-scraper", {})
    assert result.partial is True
    assert result.raw_items == ITEMS
    assert status in result.note and "3 items" in result.note


def test_timed_out_run_without_items_is_an_error(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler("TIMED-OUT", [])) as fake, pytest.raises(SourceError, match="TIMED-OUT with no items"):
        run_actor(_settings(mk, fake.url), "clockworks/tiktok-scraper", {})


def test_dataset_is_paged_through(mk) -> None:  # type: ignore[no-untyped-def]
    many = [{"id": str(i)} for i in range(2500)]
    with FakeServer(apify_handler("SUCCEEDED", many)) as fake:
        result = run_actor(_settings(mk, fake.url), "clockworks/tiktok-scraper", {})
    assert len(result.raw_items) == 2500
    assert sum(1 for r in fake.requests if r.path.endswith("/items")) >= 3


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (Response(401, {"error": {"type": "token-not-valid", "message": "Authentication token is not valid."}}), "unauthorized (401)"),
        (Response(404, {"error": {"type": "actor-not-found", "message": "Actor was not found"}}), "actor not found (404)"),
        (Response(429, {"error": {"type": "rate-limit-exceeded", "message": "Too many requests"}}), "rate limited (429)"),
        (Response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), "server error (502)"),
        (Response(403, "<!DOCTYPE html><html><body>Blocked</body></html>"), "forbidden (403)"),
    ],
)
def test_api_errors_are_one_line_source_errors_without_token(mk, response: Response, expected: str) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler(fail_with=response)) as fake, pytest.raises(SourceError) as err:
        run_actor(_settings(mk, fake.url, apify_max_retries=0), "clockworks/tiktok-scraper", {})
    message = str(err.value)
    assert expected in message
    assert "\n" not in message and TOKEN not in message and "<html" not in message.lower()


def test_429_storm_is_retried_then_fails(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler(fail_with=Response(429, {"error": {"type": "rate-limit-exceeded", "message": "slow down"}}))) as fake, pytest.raises(SourceError, match="429"):
        run_actor(_settings(mk, fake.url, apify_max_retries=1), "clockworks/tiktok-scraper", {})
    assert len(fake.requests) == 2  # the first try plus one retry


def test_start_request_timeout_is_a_clean_error(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler(fail_with=Response(201, {"data": {}}, delay_s=1.5))) as fake, pytest.raises(SourceError, match="timed out") as err:
        run_actor(_settings(mk, fake.url, http_timeout_s=0.3), "clockworks/tiktok-scraper", {})
    assert TOKEN not in str(err.value)


def test_missing_token_is_an_error_before_any_request(mk) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SourceError, match="APIFY_TOKEN"):
        run_actor(mk(), "clockworks/tiktok-scraper", {})


def test_run_missing_after_start_is_a_clear_error(mk) -> None:  # type: ignore[no-untyped-def]
    """call() returns None when the run 404s right after start (replica lag past the client's grace window)."""
    from .fakes import apify_run

    def handle(req):  # type: ignore[no-untyped-def]
        if req.method == "POST":
            return Response(201, {"data": apify_run("RUNNING")})
        return Response(404, {"error": {"type": "record-not-found", "message": "Run was not found"}})

    with FakeServer(handle) as fake, pytest.raises(SourceError, match="returned None"):
        run_actor(_settings(mk, fake.url), "clockworks/tiktok-scraper", {})
