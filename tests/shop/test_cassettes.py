"""Recorded HTTP (vcrpy via pytest-recording) of the client's calls, with every secret filtered.

Recorded once against the loopback fake (`pytest tests/shop/test_cassettes.py --record-mode=once`
after deleting tests/shop/cassettes/); the suite replays them with --record-mode=none. Requests are
matched on method + path + the query minus the per-attempt `timestamp`/`sign`, so a replay does not
depend on the clock or the fake's port.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import CANARY_SECRET, FAST_RETRY, limiter, shop_settings
from fake_server import FakeShop, TokenInfo
from pydantic import SecretStr

from ai_content_agents.integrations.tiktok_shop.auth import TokenSet, TokenStore
from ai_content_agents.integrations.tiktok_shop.client import TikTokShopClient

CASSETTES = Path(__file__).parent / "cassettes"
RECORDED_AT = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
CANARY_ACCESS = "CANARY-access-token-77e1"
CANARY_REFRESH = "CANARY-refresh-token-0b9c"
from conftest import VOLATILE  # noqa: E402  (shared with the matcher registered in conftest)


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if body:
        try:
            doc = json.loads(body)
        except ValueError:
            return response
        data = doc.get("data") if isinstance(doc, dict) else None
        if isinstance(data, dict):
            for key in ("access_token", "refresh_token"):
                if key in data:
                    data[key] = "REDACTED"
            response["body"]["string"] = json.dumps(doc).encode()
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": ["x-tts-access-token", "authorization"],
        "filter_query_parameters": sorted(VOLATILE - {"timestamp"}),
        "before_record_response": _scrub_response,
        "match_on": ["method", "path", "stable_query"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


def _client(fake: FakeShop, tmp_path: Path, *, access_expired: bool = False) -> TikTokShopClient:
    s = shop_settings(fake, tmp_path / "data")
    far = RECORDED_AT + timedelta(days=300)
    TokenStore.in_data_dir(s.data_dir).save(TokenSet(
        access_token=SecretStr(CANARY_ACCESS), access_expires_at=far,
        refresh_token=SecretStr(CANARY_REFRESH), refresh_expires_at=far,
    ))
    fake.access_tokens[CANARY_ACCESS] = TokenInfo("all", 0 if access_expired else int(far.timestamp()))
    fake.refresh_tokens[CANARY_REFRESH] = int(far.timestamp())
    client = TikTokShopClient.from_settings(s, retry=FAST_RETRY, limiter=limiter())
    # Replayed tokens carry the absolute expiries of the recording day: judge them by that day's clock,
    # or the cassettes would start asking for refreshes once that date has passed.
    client.tokens._now = lambda: RECORDED_AT
    return client


@pytest.mark.vcr
def test_recorded_product_and_order_reads(fake: FakeShop, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    c = _client(fake, tmp_path)
    assert c.authorized_shops()[0].name == "Glow Goods"
    products = list(c.search_products(page_size=100, max_results=200))
    assert len(products) == 200 and products[0].skus[0].price.sale_price is not None
    assert c.get_product(products[0].id).main_images
    assert len(c.get_orders(["5760000000000000000", "5760000000000000001"], max_workers=1)) == 2
    if request.config.getoption("--record-mode") == "none":
        assert fake.records == []  # everything came from the cassette


@pytest.mark.vcr
def test_recorded_refresh_on_expired_token(fake: FakeShop, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    c = _client(fake, tmp_path, access_expired=True)
    assert c.authorized_shops()
    assert c.tokens.refresh_count == 1
    if request.config.getoption("--record-mode") == "none":
        assert fake.records == []


def test_cassettes_exist_and_hold_no_secret() -> None:
    files = sorted(CASSETTES.rglob("*.yaml"))
    assert len(files) >= 2
    text = "\n".join(f.read_text() for f in files)
    assert "/api/v2/token/refresh" in text and "/product/202309/products/search" in text
    for canary in (CANARY_SECRET, CANARY_ACCESS, CANARY_REFRESH, "ACC_", "REF_"):
        assert canary not in text
    assert "sign=" not in text and "app_secret=" not in text
