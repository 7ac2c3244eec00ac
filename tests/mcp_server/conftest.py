"""A served catalogue over the bundled sample and the loopback fake TikTok Shop (tests/shop/fake_server.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shop"))
from fake_server import FakeShop

from ai_content_agents.config import Settings

from .exercise import SKU

CANARY_SECRET = "CANARY-mcp-secret-7d21b4"


@pytest.fixture
def fake_shop() -> Iterator[FakeShop]:
    with FakeShop(app_secret=CANARY_SECRET, n_products=5, n_orders=3) as fake:
        yield fake


def real_clock(fake: FakeShop, shift_days: float) -> None:
    """A subprocess sees the real wall clock (conftest's shift stays in this process): so must the fake."""
    fake.now = lambda: time.time() - shift_days * 86_400


def shop_env(fake: FakeShop, data_dir: Path, out_dir: Path) -> dict[str, str]:
    """The environment `ai-content-agents` reads: the fake shop, the data dir, the proposal limits."""
    return {
        "AICA_DATA_DIR": str(data_dir),
        "AICA_OUT_DIR": str(out_dir),
        "TIKTOK_SHOP_APP_KEY": fake.app_key,
        "TIKTOK_SHOP_APP_SECRET": fake.app_secret,
        "TIKTOK_SHOP_SERVICE_ID": "svc-123",
        "AICA_TIKTOK_SHOP_REGION": "US",
        "AICA_TIKTOK_SHOP_API_BASE": fake.url,
        "AICA_TIKTOK_SHOP_AUTH_BASE": fake.url,
        "AICA_TIKTOK_SHOP_RATE": "500",
        "AICA_TIKTOK_SHOP_BURST": "50",
        "AICA_TIKTOK_SHOP_ANALYTICS_RATE": "500",
        "AICA_TIKTOK_SHOP_ANALYTICS_BURST": "50",
        "AICA_SHOP_SKU_ALLOWLIST": SKU,
        "AICA_SHOP_MAX_PRICE_CHANGE_PCT": "10",
        "AICA_SHOP_MAX_STOCK_DELTA": "100",
    }


def authorize(settings: Settings) -> None:
    """The seller's consent, as `shop exchange` records it: a token pair in the data dir."""
    from ai_content_agents.integrations.tiktok_shop.client import TikTokShopClient

    client = TikTokShopClient.from_settings(settings, require_token=False)
    client.tokens.save(client.tokens.auth.exchange_code("good-code"))
    client.close()


@pytest.fixture
def shop_settings(fake_shop: FakeShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in shop_env(fake_shop, tmp_path / "data", tmp_path / "out").items():
        monkeypatch.setenv(k, v)
    s = Settings(_env_file=None)
    authorize(s)
    return s


def text_of(result: Any) -> str:
    return "".join(c.text for c in result.content if c.type == "text")
