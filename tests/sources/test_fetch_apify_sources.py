"""fetch() of the Apify-backed sources: the actor input each one sends, and a recorded (vcrpy) TikTok fetch."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_content_agents.sources import amazon, tiktok, x
from ai_content_agents.sources.base import SourceError
from ai_content_agents.sources.sample import load_sample

from .conftest import TOKEN
from .fakes import FakeServer, apify_handler

CASSETTES = Path(__file__).parent / "cassettes"


@pytest.fixture(scope="module")
def vcr_config() -> dict:
    return {
        "filter_headers": ["authorization", "x-apify-token"],
        "filter_query_parameters": ["token", "key"],
        "match_on": ["method", "path"],  # the fake's port and the long-poll's waitForFinish differ per run
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


def test_tiktok_fetch_sends_results_per_page_and_parses(mk) -> None:  # type: ignore[no-untyped-def]
    raw, _ = load_sample("tiktok")
    with FakeServer(apify_handler("SUCCEEDED", raw[:6])) as fake:
        settings = mk(apify_token=TOKEN, apify_api_url=fake.url, tiktok_hashtags=["kitchengadgets"], tiktok_results_per_page=12)
        result = tiktok.fetch(settings)
    sent = fake.requests[0].json()
    assert sent["resultsPerPage"] == 12 and sent["hashtags"] == ["kitchengadgets"]
    assert fake.requests[0].query["maxItems"] == "12"
    assert len(tiktok.parse(result.raw_items)) == 6


def test_amazon_fetch_input_and_empty_lists_fail(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(apify_handler("SUCCEEDED", [{"error": "bestsellers_category_not_found"}])) as fake:
        settings = mk(apify_token=TOKEN, apify_api_url=fake.url, amazon_category_urls=["https://www.amazon.com/gp/bestsellers/kitchen/"])
        with pytest.raises(SourceError, match="no product rows"):
            amazon.fetch(settings)
    sent = fake.requests[0].json()
    assert sent["categoryUrls"] == ["https://www.amazon.com/gp/bestsellers/kitchen/"]
    assert sent["maxItemsPerStartUrl"] == settings.amazon_max_items_per_url and "startUrls" not in sent


def test_x_fetch_input(mk) -> None:  # type: ignore[no-untyped-def]
    raw, _ = load_sample("x")
    with FakeServer(apify_handler("SUCCEEDED", raw)) as fake:
        result = x.fetch(mk(apify_token=TOKEN, apify_api_url=fake.url, x_max_items=40, x_handles=["@example"]))
    sent = fake.requests[0].json()
    assert sent["sort"] == "Latest" and sent["maxItems"] == 40 and sent["twitterHandles"] == ["example"]
    assert len(result.raw_items) == len(raw)


def test_not_configured_without_token(mk) -> None:  # type: ignore[no-untyped-def]
    for module in (tiktok, amazon, x):
        assert module.not_configured(mk()) == "APIFY_TOKEN is not set"
        with pytest.raises(SourceError, match="APIFY_TOKEN"):
            module.fetch(mk())


@pytest.mark.vcr
def test_tiktok_fetch_recorded(mk) -> None:  # type: ignore[no-untyped-def]
    """Recorded once against the loopback fake (record_mode=once); the suite replays it with record_mode=none."""
    raw, _ = load_sample("tiktok")
    with FakeServer(apify_handler("SUCCEEDED", raw[:5])) as fake:
        settings = mk(apify_token=TOKEN, apify_api_url=fake.url, tiktok_hashtags=["tiktokmademebuyit"], tiktok_results_per_page=5)
        result = tiktok.fetch(settings)
    items = tiktok.parse(result.raw_items)
    assert [it.source_id for it in items] == [r["id"] for r in raw[:5]]


def test_cassette_has_no_token() -> None:
    cassette = CASSETTES / "test_tiktok_fetch_recorded.yaml"
    assert cassette.exists(), "record it: pytest tests/sources/test_fetch_apify_sources.py --record-mode=once"
    text = cassette.read_text()
    assert TOKEN not in text
    assert "Bearer" not in text
    assert "/v2/actors/clockworks~tiktok-scraper/runs" in text  # it is the real traffic, not an empty file
