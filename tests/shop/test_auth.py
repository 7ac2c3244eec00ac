"""OAuth: consent URL, code exchange, absolute expiries, token file safety, refresh (proactive, single-flight)."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import authorize, make_client, shop_settings
from fake_server import FakeShop

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.auth import TokenSet, TokenStore, authorization_url
from ai_content_agents.integrations.tiktok_shop.client import TikTokShopClient


def test_authorization_url_hosts_and_state() -> None:
    us = urlsplit(authorization_url("svc1", "US", "st8"))
    row = urlsplit(authorization_url("svc1", "ROW"))
    assert us.netloc == "services.us.tiktokshop.com" and row.netloc == "services.tiktokshop.com"
    assert parse_qs(us.query) == {"service_id": ["svc1"], "state": ["st8"]}
    with pytest.raises(E.ConfigError):
        authorization_url("svc1", "EU")


def test_expire_in_values_are_absolute_timestamps() -> None:
    ts = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    t = TokenSet.from_response({"access_token": "a", "access_token_expire_in": ts, "refresh_token": "r",
                                "refresh_token_expire_in": ts + 86400})
    assert t.access_expires_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert t.refresh_expires_at == datetime(2026, 12, 2, tzinfo=UTC)


def test_exchange_stores_tokens_0600_atomically(fake: FakeShop, tmp_path: Path) -> None:
    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    path = tmp_path / "data" / "tiktok_shop_tokens.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tokens-")]  # no temp file left
    tokens = TokenStore(path).load()
    assert tokens is not None and tokens.access_token.get_secret_value() in fake.access_tokens
    assert fake.token_calls == ["get"]
    # the secret is not in the repr of the token set
    assert tokens.access_token.get_secret_value() not in repr(tokens)


def test_auth_code_is_single_use(fake: FakeShop, tmp_path: Path) -> None:
    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    with pytest.raises(E.InvalidAuthCode):
        authorize(s)


def test_from_settings_errors_name_what_is_missing(tmp_path: Path) -> None:
    from ai_content_agents.config import Settings

    with pytest.raises(E.ShopNotConfigured) as exc:
        TikTokShopClient.from_settings(Settings(_env_file=None, data_dir=tmp_path))
    assert "TIKTOK_SHOP_APP_KEY" in str(exc.value) and "TIKTOK_SHOP_APP_SECRET" in str(exc.value)
    s = Settings(_env_file=None, data_dir=tmp_path, tiktok_shop_app_key="k", tiktok_shop_app_secret="s",
                 tiktok_shop_service_id="svc9", tiktok_shop_region="US")
    with pytest.raises(E.ShopNotAuthorized) as exc2:
        TikTokShopClient.from_settings(s)
    assert "services.us.tiktokshop.com/open/authorize?service_id=svc9" in str(exc2.value)


def test_refresh_rotates_and_persists_the_new_refresh_token(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    old = c.tokens.tokens()
    new = c.tokens.refresh()
    assert new.refresh_token.get_secret_value() != old.refresh_token.get_secret_value()
    on_disk = c.tokens.store.load()
    assert on_disk is not None and on_disk.refresh_token.get_secret_value() == new.refresh_token.get_secret_value()
    assert old.refresh_token.get_secret_value() not in fake.refresh_tokens  # rotated: old one is dead


def test_proactive_refresh_inside_the_margin(fake: FakeShop, tmp_path: Path) -> None:
    fake.access_ttl_s = 3600  # the token expires in an hour...
    s = shop_settings(fake, tmp_path / "data", tiktok_shop_refresh_margin_s=7200)  # ...inside the 2 h margin
    authorize(s)
    c = make_client(s)
    c.authorized_shops()
    assert fake.token_calls == ["get", "refresh"]
    assert fake.count("/authorization/", 200) == 1 and fake.count("/authorization/", 401) == 0


def test_refresh_on_105002_once_single_flight_under_8_threads(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    c.authorized_shops()
    fake.expire_access_tokens()
    barrier = threading.Barrier(8)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            r: object = c.authorized_shops()
        except Exception as exc:  # noqa: BLE001
            r = exc
        with lock:
            results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, list) and r for r in results), results
    assert fake.token_calls.count("refresh") == 1
    assert c.tokens.refresh_count == 1


def test_refresh_on_105002_with_http_200(fake: FakeShop, tmp_path: Path) -> None:
    fake.expired_token_http_status = 200  # body code, not HTTP status, is what counts
    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    c = make_client(s)
    fake.expire_access_tokens()
    assert c.authorized_shops()
    assert fake.token_calls.count("refresh") == 1


def test_second_process_sees_the_refreshed_token_and_does_not_refresh(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    a, b = make_client(shop_cfg), make_client(shop_cfg)
    a.authorized_shops()
    b.authorized_shops()
    fake.expire_access_tokens()
    a.authorized_shops()  # refreshes and writes the file
    b.authorized_shops()  # gets 105002 with its stale token, finds a newer one on disk under the lock
    assert fake.token_calls.count("refresh") == 1


def test_expired_refresh_token_raises_reauthorize_with_url(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    with pytest.raises(E.ReauthorizeRequired) as exc:
        c.authorized_shops()
    assert exc.value.code == 36004001
    assert "services.us.tiktokshop.com/open/authorize" in str(exc.value)


def test_locally_expired_refresh_token_does_not_call_the_server(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    t = c.tokens.tokens()
    past = datetime.fromtimestamp(fake.now(), UTC) - timedelta(days=1)  # a day ago by the server's clock
    c.tokens.save(t.model_copy(update={"refresh_expires_at": past, "access_expires_at": past}))
    with pytest.raises(E.ReauthorizeRequired):
        c.authorized_shops()
    assert fake.token_calls == ["get"]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def _assert_no_secret_anywhere(exc: BaseException, *secrets: str) -> None:
    import traceback

    assert exc.__cause__ is None and exc.__context__ is None, "the original error must not ride along"
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc) + repr(vars(exc))
    for s in secrets:
        assert s not in text


def test_token_endpoint_5xx_does_not_claim_an_automatic_retry(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    fake.inject("/api/v2/token/refresh", 502, kind="html", times=5)
    with pytest.raises(E.ServerError) as exc:
        c.tokens.refresh()
    assert fake.count("/api/v2/token/refresh") == 1  # AuthClient did not retry...
    text = str(exc.value)
    assert "retried automatically for reads" not in text  # ...so it must not say it did
    assert "not retried automatically" in text and "shop refresh" in text
    _assert_no_secret_anywhere(exc.value, fake.app_secret)


def test_token_endpoint_internal_error_code_is_honest_too(fake: FakeShop, tmp_path: Path) -> None:
    s = shop_settings(fake, tmp_path / "data")
    fake.inject("/api/v2/token/get", 200, code=36009003, message="internal error", times=1)
    client = TikTokShopClient.from_settings(s, require_token=False)
    with pytest.raises(E.ServerError) as exc:
        client.tokens.auth.exchange_code("good-code")
    assert "not retried automatically" in str(exc.value) and "36009003" in str(exc.value)


@pytest.mark.parametrize("failure", ["refused", "timeout"])
def test_failed_token_request_chains_no_exception_holding_the_secret(fake: FakeShop, tmp_path: Path, failure: str) -> None:
    import socket

    if failure == "refused":
        with socket.socket() as sock:  # a loopback port with nobody listening
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        s = shop_settings(fake, tmp_path / "data", tiktok_shop_auth_base=f"http://127.0.0.1:{port}")
    else:
        s = shop_settings(fake, tmp_path / "data", http_timeout_s=0.2)
        fake.inject("/api/v2/token/get", 200, code=36009003, delay=1.0, times=1)  # answers after the client gave up
    client = TikTokShopClient.from_settings(s, require_token=False)
    code = "good" + "-code"  # built here so the traceback's source lines do not spell it
    with pytest.raises(E.TransportError) as exc:
        client.tokens.auth.exchange_code(code)
    assert len(_chain(exc.value)) == 1
    _assert_no_secret_anywhere(exc.value, fake.app_secret, "app_secret=", code)
    assert "retried automatically for reads" not in str(exc.value)
    if failure == "refused":  # NetworkUnreachable: its action is about the network, never about a retry
        assert isinstance(exc.value, E.NetworkUnreachable) and not exc.value.sent
    else:
        assert "not retried automatically" in str(exc.value) and exc.value.sent
