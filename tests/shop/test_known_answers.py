"""Known answers: what the client sends, and how it reads what TikTok sends, checked against vectors
taken from the official docs and SDKs, never against our own formula or our own fake.

Sources (every vector below names one):

[SIGN-DOC]  TikTok Shop Partner docs, "Sign your API request"
            (https://partner.tiktokshop.com/docv2/page/sign-your-api-request), as quoted in
            shared/reference/tiktok_shop_api.md §2.3: app_key 29a39d, app_secret e59af819cc, timestamp
            1623812664, GET /authorization/202309/shops -> sign b596b73e...582dc8.
[NODE-SDK]  The official TikTok Shop Node.js SDK (openapi-generator 7.15.0; `TikTokShopNodeApiClient`,
            User-Agent sdk_node/1.0.0) as vendored in github.com/yangyiqian0312/super-succotash at commit
            ce365d3e8d883a20d2a290a81d1a0c6855840109: api/productV202309Api.ts, api/orderV202309Api.ts,
            api/authorizationV202309Api.ts, client/create-trans-request-options.ts, utils/generate-sign.ts,
            model/product/V202309/*RequestBody*.ts. Each request vector is what THAT code produced for the
            call named in it: its methods were run once under Node 20 with Date.now pinned to
            1623812664000, app key/secret from [SIGN-DOC], and its `request` transport replaced by a stub
            that only captured the options (method, uri, qs with the SDK-computed sign, headers, body).
            The values were copied here. Its GET /authorization/202309/shops sign equals [SIGN-DOC]'s,
            which checks that harness.
[DOC-4]     Partner docs, "(4) Package update" (https://partner.tiktokshop.com/docv2/page/4-package-update),
            "Event example", verbatim (as mirrored with that source line in the public code index).
[ECOMPHP]   EcomPHP/tiktokshop-php: tests/WebhookTest.php (sample type-1 body, fake_app_key /
            fake_app_secret) and src/Webhook.php::verify (hash_hmac('sha256', app_key . raw, app_secret)).
[PYPKG]     tiktok-shop-api 0.1.0 on PyPI: generated/models/upcoming_authorization_expiration_webhook_data.py
            (`expiration_time: str`), package_update_webhook_data_package_list.py, webhooks.py.
[T7-SHAPE]  phamkhanhminhman97/shopee-tiktok-lazada-api, src/module/tiktokshops/dto/response/webhook.response.ts:
            type 7 data {message: "Authorization of shop_id {xxx} is expirating in {x} days. Please direct
            the merchant to re-authorize.", expiration_time: "1627587506"}, a transcription of the docs' sample.
[LIVE-106001] A real reply of the live gateway to a mis-signed GET /authorization/202309/shops, published
            at https://tiktok-api.gemyno-lab.fr/scripts/get_shops.php (HTTP 401).

No official webhook-signature vector exists: the docs and every SDK give the algorithm only, and
EcomPHP's own test computes its expected value with that formula. The two hex values below were
therefore computed once, outside this project, by Node's crypto.createHmac following [ECOMPHP]'s
verify(), and cross-checked with [PYPKG]'s Webhooks.verify (two implementations that are not ours).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from pydantic import SecretStr
from requests.adapters import BaseAdapter

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.auth import (
    AuthClient,
    TokenManager,
    TokenSet,
    TokenStore,
)
from ai_content_agents.integrations.tiktok_shop.client import TikTokShopClient
from ai_content_agents.integrations.tiktok_shop.models import Shop
from ai_content_agents.integrations.tiktok_shop.webhooks import (
    AuthorizationEvent,
    OrderStatusChange,
    PackageUpdate,
    handle,
    parse_event,
    verify,
)

# [SIGN-DOC]
APP_KEY, APP_SECRET, TIMESTAMP = "29a39d", "e59af819cc", 1623812664
# [NODE-SDK] call arguments (ids are arbitrary examples; the cipher is the one TikTok's guide uses)
CIPHER = "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
TOKEN = "TTP_token"
PRODUCT, SKU, SKU2, WAREHOUSE = "1729592969712207008", "1729592969712207012", "1729592969712207013", "7068517275539719942"
ORDERS = ["576461413038785752", "576461413038785753"]
PAGE_TOKEN = "b2Zmc2V0OjEwMA+/=="


class Capture(BaseAdapter):
    """A transport that records every prepared request and answers from a table; nothing leaves the process."""

    def __init__(self, replies: dict[tuple[str, str], dict[str, Any]]) -> None:
        super().__init__()
        self.replies = replies
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        path = urlsplit(request.url or "").path
        resp = requests.Response()
        resp.status_code = 200
        resp.headers["content-type"] = "application/json"
        data = self.replies.get((request.method or "", path), {})
        resp._content = json.dumps({"code": 0, "message": "Success", "request_id": "kat", "data": data}).encode()
        resp.url = request.url or ""
        resp.request = request
        return resp

    def close(self) -> None:
        return None


@pytest.fixture
def capture(tmp_path: Path) -> tuple[TikTokShopClient, Capture]:
    pinned = datetime.fromtimestamp(TIMESTAMP, UTC)
    store = TokenStore(tmp_path / "tokens.json")
    store.save(TokenSet(access_token=SecretStr(TOKEN), access_expires_at=pinned + timedelta(days=7),
                        refresh_token=SecretStr("TTP_refresh"), refresh_expires_at=pinned + timedelta(days=365),
                        shops=[Shop(id="7494049642642441621", name="Shop", cipher=CIPHER)]))
    tokens = TokenManager(AuthClient(APP_KEY, APP_SECRET, "https://auth.tiktok-shops.com"), store,
                          refresh_margin_s=0, now=lambda: pinned)
    client = TikTokShopClient(app_key=APP_KEY, app_secret=APP_SECRET, tokens=tokens, clock=lambda: float(TIMESTAMP))
    product = {"id": PRODUCT, "title": "x", "skus": [
        {"id": SKU, "inventory": [{"warehouse_id": WAREHOUSE, "quantity": 3}], "price": {"currency": "USD"}}]}
    adapter = Capture({("GET", f"/product/202309/products/{PRODUCT}"): product})
    client.session.mount("https://", adapter)
    client.select_shop()
    return client, adapter


def _request(adapter: Capture, method: str, path: str) -> tuple[dict[str, str], bytes, requests.PreparedRequest]:
    (req,) = [r for r in adapter.sent if r.method == method and urlsplit(r.url or "").path == path]
    query = dict(parse_qsl(urlsplit(req.url or "").query, keep_blank_values=True))
    body = req.body if isinstance(req.body, bytes) else (req.body or "").encode()
    return query, body, req


def _assert_same_as_sdk(adapter: Capture, method: str, path: str, qs: dict[str, str], body: str | None) -> None:
    query, sent_body, req = _request(adapter, method, path)
    assert query == qs  # every parameter, and the sign the SDK computed for them
    assert sent_body == (body.encode() if body is not None else b"")
    assert req.headers["content-type"] == "application/json"  # the SDK sends it on GETs too
    assert req.headers["x-tts-access-token"] == TOKEN and "access_token" not in query


def _qs(sign: str, **extra: str) -> dict[str, str]:
    return {"app_key": APP_KEY, "timestamp": str(TIMESTAMP), **extra, "sign": sign}


def test_get_authorized_shops_matches_the_signing_doc_and_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    client.authorized_shops()
    # [SIGN-DOC] expected sign; [NODE-SDK] AuthorizationV202309Api.ShopsGet produced the same request
    _assert_same_as_sdk(adapter, "GET", "/authorization/202309/shops",
                        _qs("b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"), None)


def test_get_product_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    client.get_product(PRODUCT)
    # [NODE-SDK] ProductV202309Api.ProductsProductIdGet(PRODUCT, TOKEN, "application/json", ..., CIPHER)
    _assert_same_as_sdk(adapter, "GET", f"/product/202309/products/{PRODUCT}",
                        _qs("e1c61017b554882dc4051c3497fa3c0945bc536890af1de9c9acd3276dfbc614", shop_cipher=CIPHER),
                        None)


def test_product_search_page_with_a_plus_slash_equals_token_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    next(iter(client.iter_pages("products_search", "products", body={"update_time_ge": 1700000000,
                                                                      "update_time_le": 1700086399},
                                start_token=PAGE_TOKEN, page_size=100, max_results=None)))
    # [NODE-SDK] ProductV202309Api.ProductsSearchPost(100, TOKEN, "application/json", PAGE_TOKEN, undefined, CIPHER,
    #            {updateTimeGe: 1700000000, updateTimeLe: 1700086399}) -- the window sync_products asks for
    _assert_same_as_sdk(adapter, "POST", "/product/202309/products/search",
                        _qs("c94101b22e7f1edd278a23b5504b31c01f679d477795195f6fe21d1f84c50083",
                            page_size="100", page_token=PAGE_TOKEN, shop_cipher=CIPHER),
                        '{"update_time_ge":1700000000,"update_time_le":1700086399}')


def test_order_search_window_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    next(iter(client.iter_pages("orders_search", "orders", query={"sort_field": "update_time", "sort_order": "ASC"},
                                body={"update_time_ge": 1700000000, "update_time_lt": 1700086400}, page_size=100,
                                max_results=None)))
    # [NODE-SDK] OrderV202309Api.OrdersSearchPost(100, TOKEN, "application/json", "ASC", undefined, "update_time",
    #            CIPHER, {updateTimeGe: 1700000000, updateTimeLt: 1700086400}) -- the window sync_orders asks for
    _assert_same_as_sdk(adapter, "POST", "/order/202309/orders/search",
                        _qs("8802d907589ebde1e40002c4453fbca7accbe6d44ceb8ea2ecf9d7e445bd4ea4", page_size="100",
                            sort_order="ASC", sort_field="update_time", shop_cipher=CIPHER),
                        '{"update_time_ge":1700000000,"update_time_lt":1700086400}')


def test_order_detail_ids_are_one_comma_joined_value_like_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    client.get_orders(ORDERS)
    # [NODE-SDK] OrderV202309Api.OrdersGet(ORDERS, TOKEN, "application/json", CIPHER)
    _assert_same_as_sdk(adapter, "GET", "/order/202309/orders",
                        _qs("c7c2a0bb5bdaf2fe848b6af7d97b29f01de464ee19e87d81f65a92c371ca35b6",
                            ids=",".join(ORDERS), shop_cipher=CIPHER), None)


def test_inventory_search_by_products_and_by_skus_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    client.search_inventory(product_ids=[PRODUCT])
    # [NODE-SDK] ProductV202309Api.InventorySearchPost(TOKEN, "application/json", CIPHER, {productIds: [PRODUCT]})
    _assert_same_as_sdk(adapter, "POST", "/product/202309/inventory/search",
                        _qs("2c7765f95d6486150083fc84c695626fd0475ed0832e6eab36d5cdc641d4c098", shop_cipher=CIPHER),
                        '{"product_ids":["1729592969712207008"]}')
    adapter.sent.clear()
    client.search_inventory(sku_ids=[SKU, SKU2])
    # [NODE-SDK] ... InventorySearchPost(TOKEN, "application/json", CIPHER, {skuIds: [SKU, SKU2]})
    _assert_same_as_sdk(adapter, "POST", "/product/202309/inventory/search",
                        _qs("c9352303cf8b0ab9280922259cfcf49ef80ff25ce4ecb30e68144f4aa5a7bde4", shop_cipher=CIPHER),
                        '{"sku_ids":["1729592969712207012","1729592969712207013"]}')


def test_inventory_update_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    assert client.update_inventory(PRODUCT, SKU, 7, warehouse_id=WAREHOUSE).ok
    # [NODE-SDK] ProductV202309Api.ProductsProductIdInventoryUpdatePost(PRODUCT, TOKEN, "application/json", CIPHER,
    #            {skus: [{id: SKU, inventory: [{warehouseId: WAREHOUSE, quantity: 7}]}]})
    _assert_same_as_sdk(adapter, "POST", f"/product/202309/products/{PRODUCT}/inventory/update",
                        _qs("3775fcd127f4ba386a378af0154b3eccca635b605390f3913a9189e066018086", shop_cipher=CIPHER),
                        '{"skus":[{"id":"1729592969712207012","inventory":[{"quantity":7,'
                        '"warehouse_id":"7068517275539719942"}]}]}')


def test_price_update_matches_the_sdk(capture) -> None:  # type: ignore[no-untyped-def]
    client, adapter = capture
    assert client.update_price(PRODUCT, SKU, Decimal("12.90"), "USD").ok
    # [NODE-SDK] ProductV202309Api.ProductsProductIdPricesUpdatePost(PRODUCT, TOKEN, "application/json", CIPHER,
    #            {skus: [{id: SKU, price: {amount: "12.90", currency: "USD"}}]})
    _assert_same_as_sdk(adapter, "POST", f"/product/202309/products/{PRODUCT}/prices/update",
                        _qs("9fef485662dc651dcf5867d1d13af0fc135280a29a78f7cdb4d3d3fbbfc1eb20", shop_cipher=CIPHER),
                        '{"skus":[{"id":"1729592969712207012","price":{"amount":"12.90","currency":"USD"}}]}')


def test_the_write_endpoints_are_marked_verified() -> None:
    from ai_content_agents.integrations.tiktok_shop.endpoints import ENDPOINTS

    assert ENDPOINTS["inventory_update"].verified and ENDPOINTS["prices_update"].verified
    assert not ENDPOINTS["inventory_update"].idempotent  # an order can move stock between two sends


# --- webhooks -------------------------------------------------------------------------------------
ECOMPHP_BODY = (b'{"type":1,"shop_id":"7494726673780148744","timestamp":1664095733,"data":{"order_id":'
                b'"576684019603311365","order_status":"AWAITING_SHIPMENT","update_time":1664095610}}')  # [ECOMPHP]
ECOMPHP_SIGNATURE = "21109834de72ec53c9959716d8514ae388ce1f123e5ffdcafc46713fcdf62b27"  # see the module docstring

DOC_4_BODY = b"""{
  "type": 4,
  "tts_notification_id": "7327112393057371910",
  "shop_id": "7494049642642441621",
  "timestamp": 1644412885,
  "data": {
    "sc_type": "COMBINE",
    "role_type": "ROLE_USER",
    "package_list": [
      {
        "package_id": "123456",
        "order_id_list": [
          "152523",
          "532123"
        ]
      }
    ],
    "update_time": 1644412885
  }
}"""  # [DOC-4], byte for byte (2-space indent, no trailing newline)
DOC_4_SIGNATURE = "07a34f58ec586b58694c871607647d8e4dbee2c77ea466fe2ad4252aa0f7fb6a"  # fake_app_key/_secret, as above


def test_webhook_signature_known_answers() -> None:
    assert verify("fake_app_key", "fake_app_secret", ECOMPHP_BODY, ECOMPHP_SIGNATURE)
    assert verify("fake_app_key", "fake_app_secret", DOC_4_BODY, DOC_4_SIGNATURE)
    # the raw bytes are what is signed: the same JSON re-serialised compactly no longer verifies
    assert not verify("fake_app_key", "fake_app_secret", json.dumps(json.loads(DOC_4_BODY)).encode(), DOC_4_SIGNATURE)
    assert not verify("fake_app_key", "fake_app_secret", ECOMPHP_BODY, DOC_4_SIGNATURE)


def test_order_status_webhook_from_ecomphp_sample() -> None:
    ev = handle("fake_app_key", "fake_app_secret", ECOMPHP_BODY, ECOMPHP_SIGNATURE)
    assert isinstance(ev, OrderStatusChange)
    assert (ev.shop_id, ev.order_id, ev.order_status, ev.update_time) == (
        "7494726673780148744", "576684019603311365", "AWAITING_SHIPMENT", 1664095610)
    assert ev.timestamp == datetime.fromtimestamp(1664095733, UTC)


def test_package_update_webhook_from_the_docs_example() -> None:
    ev = handle("fake_app_key", "fake_app_secret", DOC_4_BODY, DOC_4_SIGNATURE)
    assert isinstance(ev, PackageUpdate) and ev.name == "PACKAGE_UPDATE"
    assert [(p.package_id, p.order_ids) for p in ev.packages] == [("123456", ["152523", "532123"])]
    assert ev.order_ids == ["152523", "532123"]
    assert (ev.sc_type, ev.role_type, ev.update_time) == ("COMBINE", "ROLE_USER", 1644412885)
    assert ev.dedupe_key == "7327112393057371910"


def test_upcoming_authorization_expiration_with_a_string_expiration_time() -> None:
    # data shape per [PYPKG] (expiration_time: str) and [T7-SHAPE] (sample values)
    body = json.dumps({"type": 7, "shop_id": "7494049642642441621", "timestamp": 1627500000, "data": {
        "message": "Authorization of shop_id 7494049642642441621 is expirating in 1 days. Please direct the merchant"
                   " to re-authorize.", "expiration_time": "1627587506"}}).encode()
    ev = parse_event(body)
    assert isinstance(ev, AuthorizationEvent) and ev.needs_reauthorization
    assert ev.expires_at == datetime.fromtimestamp(1627587506, UTC)
    assert ev.message and "re-authorize" in ev.message
    as_int = parse_event(body.replace(b'"1627587506"', b"1627587506"))
    assert isinstance(as_int, AuthorizationEvent) and as_int.expires_at == ev.expires_at  # lenient both ways


# --- error bodies ---------------------------------------------------------------------------------
LIVE_106001 = {"code": 106001, "data": None,
               "message": "Invalid credentials. The 'sign' query parameter is invalid. For more details: "
                          "https://m.tiktok.shop/s/AIu6dbFhs2XW",
               "request_id": "202606190151522272D4695E9B9043B79E"}  # [LIVE-106001], HTTP 401


def test_live_signature_error_body_is_classified_and_not_retried(capture) -> None:  # type: ignore[no-untyped-def]
    client, _ = capture

    class Reject(Capture):
        def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
            resp = super().send(request, **kw)
            resp.status_code = 401
            resp._content = json.dumps(LIVE_106001).encode()
            return resp

    reject = Reject({})
    client.session.mount("https://", reject)
    with pytest.raises(E.SignatureError) as exc:
        client.authorized_shops()
    assert len(reject.sent) == 1  # a canonicalisation bug: never retried
    text = str(exc.value)
    assert "code 106001" in text and "HTTP 401" in text and "request_id 202606190151522272D4695E9B9043B79E" in text
    assert exc.value.code == 106001 and not exc.value.retryable
