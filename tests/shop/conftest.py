"""Fixtures for the TikTok Shop tests: a running fake, settings pointing at it, and a fast client."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_server import FakeShop  # noqa: E402

from ai_content_agents.config import Settings  # noqa: E402
from ai_content_agents.integrations.tiktok_shop.client import RetryPolicy, TikTokShopClient  # noqa: E402
from ai_content_agents.integrations.tiktok_shop.ratelimit import GroupLimit, RateLimiter  # noqa: E402

CANARY_SECRET = "CANARY-app-secret-5f3a9e"


def shop_settings(fake: FakeShop, data_dir: Path, **over: Any) -> Settings:
    kw: dict[str, Any] = {
        "data_dir": data_dir,
        "out_dir": data_dir.parent / "out",
        "tiktok_shop_app_key": fake.app_key,
        "tiktok_shop_app_secret": fake.app_secret,
        "tiktok_shop_service_id": "svc-123",
        "tiktok_shop_region": "US",
        "tiktok_shop_api_base": fake.url,
        "tiktok_shop_auth_base": fake.url,
        "tiktok_shop_refresh_margin_s": 0,
        "tiktok_shop_rate": 1000.0,
        "tiktok_shop_burst": 100,
        "tiktok_shop_analytics_rate": 1000.0,
        "tiktok_shop_analytics_burst": 100,
        "http_timeout_s": 5.0,
    }
    kw.update(over)
    return Settings(_env_file=None, **kw)


FAST_RETRY = RetryPolicy(max_retries=3, max_time_s=10.0, base_s=0.001, cap_s=0.01, jitter_s=0.001)


def authorize(settings: Settings) -> None:
    client = TikTokShopClient.from_settings(settings, require_token=False)
    client.tokens.save(client.tokens.auth.exchange_code("good-code"))
    client.close()


def make_client(
    settings: Settings, *, retry: RetryPolicy = FAST_RETRY, limiter: RateLimiter | None = None
) -> TikTokShopClient:
    return TikTokShopClient.from_settings(settings, retry=retry, limiter=limiter)


def limiter(rate: float = 1000.0, burst: int = 100) -> RateLimiter:
    return RateLimiter({"default": GroupLimit(rate, burst), "analytics": GroupLimit(rate, burst),
                        "write": GroupLimit(rate, burst)})


@pytest.fixture
def fake() -> Iterator[FakeShop]:
    with FakeShop(app_secret=CANARY_SECRET, n_products=250, n_orders=120) as f:
        yield f


@pytest.fixture
def shop_cfg(fake: FakeShop, tmp_path: Path) -> Settings:
    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    return s


@pytest.fixture
def client(shop_cfg: Settings) -> Iterator[TikTokShopClient]:
    c = make_client(shop_cfg)
    yield c
    c.close()
