"""The shop client fails at once when TikTok Shop cannot be reached, and still retries timeouts and 5xx."""

from __future__ import annotations

import pytest
from conftest import CANARY_SECRET, make_client, shop_settings
from fake_server import FakeShop

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.client import TikTokShopClient


@pytest.mark.parametrize("kind", ["refused", "no_dns", "no_route"])
def test_unreachable_api_is_one_attempt(client: TikTokShopClient, kind: str, request: pytest.FixtureRequest) -> None:
    target = request.getfixturevalue(kind)
    client.api_base = target.url
    with pytest.raises(E.NetworkUnreachable) as exc:
        client.authorized_shops()
    assert target.attempts == 1 and client.stats["retries"] == 0
    assert "GET /authorization/202309/shops failed:" in str(exc.value) and "AICA_TIKTOK_SHOP_API_BASE" in str(exc.value)


def test_unreachable_auth_host_is_one_attempt_and_keeps_the_secret_out(refused, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeShop(app_secret=CANARY_SECRET) as fake:
        settings = shop_settings(fake, tmp_path / "data", tiktok_shop_auth_base=refused.url)
        client = TikTokShopClient.from_settings(settings, require_token=False)
        with pytest.raises(E.NetworkUnreachable, match="connection refused") as exc:
            client.tokens.auth.exchange_code("good-code")
        client.close()
    assert refused.attempts == 1 and CANARY_SECRET not in str(exc.value)


def test_timeouts_and_5xx_are_still_retried(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    client = make_client(shop_cfg.model_copy(update={"http_timeout_s": 0.1}))
    fake.inject("/authorization/202309/shops", 503, times=2)
    assert client.authorized_shops()[0].name == "Glow Goods"
    assert fake.count("/authorization/202309/shops") == 3 and client.stats["retries"] == 2
    fake.latency = 0.3  # every answer now arrives after the client's timeout
    with pytest.raises(E.TransportError, match="timed out") as exc:
        client.authorized_shops()
    assert not isinstance(exc.value, E.NetworkUnreachable)
    assert client.stats["retries"] == 2 + 3  # FAST_RETRY: three retries after the first try
    client.close()
