"""The client against the fake: every request signed and shaped right, retries only where safe."""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import CANARY_SECRET, FAST_RETRY, authorize, limiter, make_client, shop_settings
from fake_server import FakeShop

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.client import RetryPolicy, TikTokShopClient
from ai_content_agents.integrations.tiktok_shop.ratelimit import GroupLimit, RateLimiter


def test_every_request_passes_the_fakes_independent_checks(fake: FakeShop, client: TikTokShopClient) -> None:
    shops = client.authorized_shops()
    products = list(client.search_products())
    client.get_products([p.id for p in products[:5]])
    client.search_inventory(product_ids=[products[0].id])
    list(client.search_orders())
    client.get_orders(list(fake.orders)[:60])
    client.shop_performance("2026-11-13", "2026-11-20", with_comparison=True)
    list(client.product_performance_list("2026-11-13", "2026-11-20"))
    client.product_performance(products[0].id, "2026-11-13", "2026-11-20")
    list(client.video_performance_list("2026-11-13", "2026-11-20"))
    client.video_performance("7441122334455667001", "2026-11-13", "2026-11-20")
    assert shops[0].cipher == "ROW_aBc+dEf/gHi=="
    assert {r.status for r in fake.api_records()} == {200}
    assert fake.violations == []
    auth = [r for r in fake.api_records() if r.path.startswith("/authorization/")]
    assert auth and all("shop_cipher" not in r.query for r in auth)
    scoped = [r for r in fake.api_records() if not r.path.startswith("/authorization/")]
    assert all(r.query["shop_cipher"] == "ROW_aBc+dEf/gHi==" for r in scoped)
    assert all(r.token and "access_token" not in r.query for r in fake.api_records())


def test_pagination_follows_tokens_with_plus_slash_equals(fake: FakeShop, client: TikTokShopClient) -> None:
    ids = [p.id for p in client.search_products(page_size=100)]
    assert len(ids) == 250 == len(set(ids))
    tokens = [r.query.get("page_token") for r in fake.api_records() if r.path.endswith("/products/search")]
    assert tokens[0] is None and all(t and "+" in t and "/" in t and t.endswith("=") for t in tokens[1:])


def test_repeated_page_token_stops_the_loop(fake: FakeShop, client: TikTokShopClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    original = fake._token_for
    monkeypatch.setattr(fake, "_token_for", lambda kind, offset: original(kind, 100))  # always "page 2"
    ids = [p.id for p in client.search_products(page_size=100)]
    assert len(ids) == 200  # page 1, page 2, then the repeated token is refused
    assert fake.count("/products/search") == 2


def test_search_stops_at_the_10000_cap(fake: FakeShop, client: TikTokShopClient) -> None:
    ids = list(client.search_products(page_size=100, max_results=200))
    assert len(ids) == 200 and fake.count("/products/search") == 2


def test_money_is_decimal_and_ids_are_strings(client: TikTokShopClient) -> None:
    p = next(iter(client.search_products()))
    assert isinstance(p.skus[0].price.sale_price, Decimal) and str(p.skus[0].price.sale_price) == "10.90"
    order = client.get_orders(["5760000000000000000"])[0]
    assert order.payment.total_amount == Decimal("25.80") and isinstance(order.id, str)


def test_order_detail_ids_are_batched_at_most_50_and_comma_joined(fake: FakeShop, client: TikTokShopClient) -> None:
    orders = client.get_orders(list(fake.orders))
    assert len(orders) == 120
    batches = [r.query["ids"].split(",") for r in fake.api_records() if r.path == "/order/202309/orders"]
    assert sorted(len(b) for b in batches) == [20, 50, 50]


def test_signature_error_is_not_retried(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    c._secret = "wrong-secret"
    with pytest.raises(E.SignatureError) as exc:
        c.authorized_shops()
    assert exc.value.code == 106001 and fake.count("/authorization/") == 1


def test_scope_error_is_not_retried(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    fake.inject("/analytics/", 200, code=105005, message="apply auth pkg for this api", times=5)
    with pytest.raises(E.ScopeError) as exc:
        client.shop_performance("2026-11-13", "2026-11-20")
    assert "Partner Center" in str(exc.value)
    assert fake.count("/analytics/") == 1


def test_5xx_and_html_pages_are_retried_then_succeed(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    fake.inject("/products/search", 502, kind="html", times=1)
    fake.inject("/products/search", 200, code=36009003, times=1)
    assert len(list(client.search_products())) == 250
    assert client.stats["retries"] == 2


def test_persistent_html_error_gives_a_clear_error(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    fake.inject("/products/search", 503, kind="html", times=100)
    with pytest.raises(E.ServerError) as exc:
        list(client.search_products())
    assert "non-JSON" in str(exc.value) and "HTTP 503" in str(exc.value)
    assert fake.count("/products/search") == FAST_RETRY.max_retries + 1


def test_retry_after_is_honoured(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    c = make_client(shop_cfg, retry=RetryPolicy(max_retries=2, base_s=0.001, cap_s=0.01, jitter_s=0.0,
                                                 sleep=slept.append), limiter=limiter())
    c.authorized_shops()
    fake.inject("/products/search", 429, code=36009002, times=1, retry_after="0.05")
    list(c.search_products(max_results=100))
    assert slept and slept[0] >= 0.05


def test_writes_send_the_documented_body(fake: FakeShop, client: TikTokShopClient) -> None:
    client.update_inventory("1729000000000000001", "1730000000000000001", 7, warehouse_id="7100000000000000001")
    client.update_price("1729000000000000001", "1730000000000000001", Decimal("12.90"), "USD")
    assert fake.writes == [
        ("inventory", {"skus": [{"id": "1730000000000000001",
                                 "inventory": [{"quantity": 7, "warehouse_id": "7100000000000000001"}]}]}),
        ("prices", {"skus": [{"id": "1730000000000000001", "price": {"amount": "12.90", "currency": "USD"}}]}),
    ]
    writes = [r for r in fake.api_records() if r.path.endswith("/update")]
    # key order as the official Node SDK serialises them (see test_known_answers.py)
    assert writes[0].body == (b'{"skus":[{"id":"1730000000000000001","inventory":[{"quantity":7,'
                              b'"warehouse_id":"7100000000000000001"}]}]}')
    sku = fake.products["1729000000000000001"]["skus"][0]
    assert sku["inventory"][0]["quantity"] == 7 and sku["price"]["sale_price"] == "12.90"
    with pytest.raises(E.RequestShapeError):
        client.update_price("1", "2", Decimal("-1"), "USD")
    with pytest.raises(E.RequestShapeError):
        client.update_inventory("1", "2", -5)


def test_content_type_is_sent_on_every_request_gets_included(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    client.get_product("1729000000000000001")
    client.get_orders(["5760000000000000000"])
    client.shop_performance("2026-11-13", "2026-11-20")
    list(client.search_products(max_results=100))
    records = fake.api_records()
    assert {r.method for r in records} == {"GET", "POST"}
    assert all(r.content_type == "application/json" for r in records), [(r.method, r.content_type) for r in records]
    assert {r.status for r in records} == {200} and fake.violations == []  # and every signature still verifies
    assert all(r.body == b"" for r in records if r.method == "GET")  # the header adds no body to sign


def test_inventory_search_batches_100_product_ids_and_600_sku_ids(fake: FakeShop, client: TikTokShopClient) -> None:
    pids = list(fake.products)  # 250
    items = client.search_inventory(product_ids=pids)
    assert len(items) == 250 and fake.violations == []
    sent = [json.loads(r.body) for r in fake.api_records() if r.path.endswith("/inventory/search")]
    assert sorted(len(b["product_ids"]) for b in sent) == [50, 100, 100]  # batches run concurrently
    assert sorted(i for b in sent for i in b["product_ids"]) == sorted(pids)  # each id exactly once
    assert [i.product_id for i in items] == pids  # results come back in the order asked
    skus = [s["id"] for p in fake.products.values() for s in p["skus"]] + [str(1740000000000000000 + i) for i in range(1050)]
    before = len(sent)
    items = client.search_inventory(sku_ids=skus, product_ids=pids)  # sku ids take precedence
    sent = [json.loads(r.body) for r in fake.api_records() if r.path.endswith("/inventory/search")][before:]
    assert sorted(len(b["sku_ids"]) for b in sent) == [100, 600, 600] and all("product_ids" not in b for b in sent)
    assert sum(len(i.skus) for i in items) == 250
    assert {r.status for r in fake.api_records()} == {200}


# --- a stock write is never blindly re-sent (it could undo a sale) ---------------------------
PID, SKU, WH = "1729000000000000001", "1730000000000000001", "7100000000000000001"


def _stock(fake: FakeShop) -> int:
    return int(fake.products[PID]["skus"][0]["inventory"][0]["quantity"])


def test_a_stock_write_that_landed_is_not_resent_when_a_sale_followed(fake: FakeShop, client: TikTokShopClient) -> None:
    assert _stock(fake) == 11
    fake.on_write = lambda kind, doc: fake.sell(PID, 2)  # an order takes 2 units right after our write lands
    fake.inject("/inventory/update", 502, kind="html", land=True)  # ...and our reply is lost
    with pytest.raises(E.WriteOutcomeUnknown) as exc:
        client.update_inventory(PID, SKU, 30, warehouse_id=WH)
    assert fake.count("/inventory/update") == 1  # a re-send would have put the 2 sold units back
    assert _stock(fake) == 28
    assert exc.value.read_value == 28 and "re-read shows 28" in str(exc.value) and "it was 11" in str(exc.value)
    assert "Seller Center" in str(exc.value)


def test_a_stock_write_that_did_not_land_is_resent_after_a_reread(fake: FakeShop, client: TikTokShopClient) -> None:
    fake.inject("/inventory/update", 500, code=36009003)  # rejected before it took effect
    result = client.update_inventory(PID, SKU, 30, warehouse_id=WH)
    assert result.ok and "re-send" in result.note
    assert fake.count("/inventory/update") == 2 and len(fake.writes) == 1 and _stock(fake) == 30
    reads = [r.path for r in fake.api_records() if r.path == f"/product/202309/products/{PID}"]
    assert len(reads) == 2  # the value before, and the re-read that showed the write had not landed


def test_a_stock_write_that_landed_is_confirmed_by_the_reread(fake: FakeShop, client: TikTokShopClient) -> None:
    fake.inject("/inventory/update", 503, kind="html", land=True)
    result = client.update_inventory(PID, SKU, 30, warehouse_id=WH)
    assert result.ok and "confirmed by re-reading" in result.note
    assert fake.count("/inventory/update") == 1 and _stock(fake) == 30


def test_a_stock_write_that_timed_out_after_landing_is_not_resent(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_client

    c = make_client(shop_cfg.model_copy(update={"http_timeout_s": 0.3}))
    fake.on_write = lambda kind, doc: fake.sell(PID, 1)
    fake.inject("/inventory/update", 200, code=0, land=True, delay=1.0)  # applied, but the reply comes too late
    with pytest.raises(E.WriteOutcomeUnknown) as exc:
        c.update_inventory(PID, SKU, 30, warehouse_id=WH)
    assert exc.value.read_value == 29 and fake.count("/inventory/update") == 1


def test_a_throttled_stock_write_is_resent(fake: FakeShop, client: TikTokShopClient) -> None:
    fake.inject("/inventory/update", 429, code=36009002, retry_after="0")  # the gateway refused it: never processed
    assert client.update_inventory(PID, SKU, 30, warehouse_id=WH).ok
    assert fake.count("/inventory/update") == 2 and _stock(fake) == 30


def test_price_updates_may_retry(fake: FakeShop, client: TikTokShopClient) -> None:
    fake.inject("/prices/update", 502, kind="html", land=True)  # even one that landed: setting it again is harmless
    assert client.update_price(PID, SKU, Decimal("13.50"), "USD").ok
    assert fake.count("/prices/update") == 2


def test_non_idempotent_endpoints_are_not_retried(fake: FakeShop, client: TikTokShopClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from ai_content_agents.integrations.tiktok_shop import endpoints

    ep = endpoints.ENDPOINTS["prices_update"]
    monkeypatch.setitem(endpoints.ENDPOINTS, "prices_update", dataclasses.replace(ep, idempotent=False))
    client.authorized_shops()
    fake.inject("/prices/update", 500, code=36009003, times=1)
    with pytest.raises(E.ServerError):
        client.update_price("1729000000000000001", "1730000000000000001", Decimal("12.90"), "USD")
    assert fake.count("/prices/update") == 1


def test_shop_selection_by_id_or_name(tmp_path: Path) -> None:
    shops = [
        {"id": "1", "name": "Alpha", "cipher": "C1", "region": "US"},
        {"id": "2", "name": "Beta Shop", "cipher": "C2", "region": "GB"},
    ]
    with FakeShop(shops=shops, n_products=3) as fake:
        s = shop_settings(fake, tmp_path / "data")
        authorize(s)
        c = make_client(s)
        with pytest.raises(E.ShopSelectionError) as exc:
            c.select_shop()
        assert "Alpha (1)" in str(exc.value)
        assert c.select_shop("beta shop").cipher == "C2"
        assert c.select_shop("1").name == "Alpha"
        list(c.search_products(shop="2"))
        assert fake.api_records()[-1].query["shop_cipher"] == "C2"
        with pytest.raises(E.ShopSelectionError):
            c.select_shop("Gamma")


def test_secrets_never_in_logs_or_exceptions(fake: FakeShop, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    c = make_client(s)
    messages: list[str] = []
    c.authorized_shops()
    fake.expire_access_tokens()
    fake.inject("/products/search", 502, kind="html", times=1)
    list(c.search_products())
    fake.inject("/analytics/", 200, code=105005, message="apply auth pkg", times=1)
    with pytest.raises(E.TikTokShopError) as e1:
        c.shop_performance("2026-11-01", "2026-11-08")
    messages.append(str(e1.value))
    token = c.tokens.tokens()
    canaries = [CANARY_SECRET, token.access_token.get_secret_value(), token.refresh_token.get_secret_value()]
    # a server message echoing the token back must be scrubbed too
    fake.inject("/products/search", 400, code=36009004, message=f"bad param near {canaries[1]}", times=1)
    with pytest.raises(E.TikTokShopError) as e2:
        list(c.search_products())
    messages.append(str(e2.value))
    fake.expire_refresh_tokens()
    fake.expire_access_tokens()
    with pytest.raises(E.ReauthorizeRequired) as e3:
        c.authorized_shops()
    messages.append(str(e3.value))
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "urllib3" in logged and "/api/v2/token/refresh" in logged  # we did capture the HTTP debug lines
    for canary in canaries:
        assert canary not in logged
        assert all(canary not in m for m in messages)
    assert "sign=" not in logged  # no signed URL either


class VirtualTime:
    """One clock for the fake's QPS window, the client's buckets and its retry waits: sleeping moves it
    forward instantly, so the storm below plays out the same way on any machine, however loaded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.lock = threading.Lock()

    def now(self) -> float:
        with self.lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.t += max(0.0, seconds)


def _storm(tmp_path: Path, *, cut_rate_on_429: bool, requests_: int = 240) -> tuple[int, int, list[Exception], float, float]:
    """Reads configured at 4x the fake's 20 QPS, on virtual time; returns (ok, throttled, errors, rate, ceiling)."""
    from datetime import UTC, datetime

    now = 1_796_000_000
    vt = VirtualTime()
    with FakeShop(qps=20, retry_after="1", n_products=3) as fake:
        fake.now = lambda: now
        fake.monotonic = vt.now
        s = shop_settings(fake, tmp_path / "data")
        authorize(s)
        lim = RateLimiter({"default": GroupLimit(80, 10)}, clock=vt.now, sleep=vt.sleep)
        c = make_client(s, retry=RetryPolicy(max_retries=8, max_time_s=30, base_s=0.05, cap_s=0.5, jitter_s=0.0,
                                               sleep=vt.sleep), limiter=lim)
        c._clock = lambda: float(now)
        c.tokens._now = lambda: datetime.fromtimestamp(now, UTC)
        shop = c.select_shop()
        bucket = lim.bucket(shop.id, "default")
        if not cut_rate_on_429:  # the naive client: honour Retry-After per request, learn nothing
            bucket.penalize = lambda retry_after=None: None  # type: ignore[method-assign]
        errors_: list[Exception] = []
        for _ in range(requests_):
            try:
                c.get_product("1729000000000000001", shop=shop)
            except Exception as exc:  # noqa: BLE001
                errors_.append(exc)
        ok = sum(1 for r in fake.api_records() if r.path.startswith("/product/") and r.status == 200)
        throttled = sum(1 for r in fake.api_records() if r.status == 429)
        return ok, throttled, errors_, bucket.rate, bucket.ceiling


def test_429_storm_backs_off_under_the_fakes_limit(tmp_path: Path) -> None:
    ok, throttled, errors_, rate, ceiling = _storm(tmp_path / "a", cut_rate_on_429=True)
    assert errors_ == [] and ok == 240
    naive_ok, naive_throttled, naive_errors, _, _ = _storm(tmp_path / "b", cut_rate_on_429=False)
    assert naive_errors == [] and naive_ok == 240
    # Same 240 requests on the same virtual clock: a client that only waits out each Retry-After and
    # then fires at its configured 80 rps again hits the wall every second (12 rejections); cutting
    # the rate on a 429 and remembering 75% of it as a ceiling settles at the quota after a few.
    assert 1 <= throttled <= 4, throttled
    assert naive_throttled >= 3 * throttled, (naive_throttled, throttled)
    assert rate <= 20 and ceiling <= 20  # it learned the server's quota, not the configured 80


def test_unexpected_shapes_are_clear_errors_not_tracebacks(fake: FakeShop, client: TikTokShopClient) -> None:
    pid = "1729000000000000004"
    fake.products[pid]["id"] = {"not": "an id"}
    with pytest.raises(E.UnexpectedResponse) as exc:
        client.get_product(pid)
    assert "ProductDetail" in str(exc.value)
    fake.products[pid]["id"] = pid
    fake.products["1729000000000000005"]["skus"] = "garbage"
    rows = client.search_products()
    assert len(list(rows)) == 249 and rows.skipped == 1  # a malformed row is skipped and counted


def test_each_attempt_is_restamped_and_resigned(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    import itertools

    ticks = itertools.count(int(fake.now()) - 60)  # the server's clock, one second per attempt
    client._clock = lambda: float(next(ticks))
    fake.inject("/products/search", 502, kind="html", times=1)
    list(client.search_products(max_results=100))
    tries = [r for r in fake.api_records() if r.path.endswith("/products/search")]
    assert [r.status for r in tries] == [502, 200]
    assert tries[0].query["timestamp"] != tries[1].query["timestamp"]
    assert tries[0].query["sign"] != tries[1].query["sign"]
    assert tries[0].body == tries[1].body == b"{}"  # the same serialised bytes, signed each time


def test_clock_skew_gives_a_timestamp_error_after_one_restamp(fake: FakeShop, client: TikTokShopClient) -> None:
    client.authorized_shops()
    client._clock = lambda: fake.now() - 600  # 10 minutes behind the server
    with pytest.raises(E.TimestampError) as exc:
        client.search_inventory(product_ids=["1729000000000000001"])
    assert "NTP" in str(exc.value)
    assert fake.count("/inventory/search") == 2


def test_a_message_that_only_mentions_timestamp_is_not_resent_as_a_clock_problem(fake: FakeShop,
                                                                                 client: TikTokShopClient) -> None:
    client.authorized_shops()
    fake.inject("/products/search", 400, code=36009004,
                message="invalid param: update_time_ge must be a unix timestamp", times=5)
    with pytest.raises(E.RequestShapeError) as exc:
        list(client.search_products(max_results=100))
    assert not isinstance(exc.value, E.TimestampError) and "NTP" not in str(exc.value)
    assert fake.count("/products/search") == 1  # no "re-stamp and re-send"
