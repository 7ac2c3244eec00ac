"""A success reply (code 0) whose data is malformed is never "ok, 0 items": it is an error, or counted rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai_content_agents import pipeline
from ai_content_agents.integrations.tiktok_shop import errors
from ai_content_agents.sources import tiktok_shop as src

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
GOOD = {"id": "1729000000000000001", "gmv": {"amount": "120.50", "currency": "USD"}, "orders": 10, "units_sold": 12}


def _bad(i: int) -> dict:
    return {"id": {"not": "an id"}, "gmv": {"amount": str(10 + i), "currency": "USD"}, "orders": "many",
            "units_sold": ["x"]}


def test_malformed_rows_are_counted_and_all_malformed_is_a_failure(fake, shop_cfg, store) -> None:  # type: ignore[no-untyped-def]
    fake.product_perf = [_bad(i) for i in range(3)]
    heard = []
    pipeline.gather(shop_cfg, store, sources=["tiktok_shop"], mode="auto", now=NOW, on_progress=heard.append)
    live = heard[0]  # what the shop itself gave (the sample stands in afterwards)
    assert live.status == "failed" and live.items == 0 and live.skipped_reasons == {"malformed row": 3}, live
    assert live.reason == "no usable rows: 3 skipped (malformed row 3)"


def test_some_malformed_rows_are_skipped_and_reported(fake, shop_cfg, store) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.integrations.tiktok_shop.sync import sync_products

    from conftest import make_client

    sync_products(make_client(shop_cfg), store)
    fake.product_perf = [GOOD, _bad(1)]
    result = src.fetch(shop_cfg, store)
    assert [r["kind"] for r in result.raw_items] == ["product"] and result.skipped == {"malformed row": 1}


@pytest.mark.parametrize("data", ["garbage", ["a", "list"], 42])
def test_code_0_with_data_that_is_not_an_object_is_an_error(data, fake, shop_cfg, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_client

    client = make_client(shop_cfg)
    monkeypatch.setattr(type(client.session), "request", _replying({"code": 0, "message": "Success", "data": data}))
    with pytest.raises(errors.UnexpectedResponse, match="not an object"):
        client.authorized_shops()
    client.close()


def test_a_list_field_that_is_not_a_list_is_an_error(fake, shop_cfg, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_client

    client = make_client(shop_cfg)
    reply = {"code": 0, "message": "Success", "data": {"products": "lots", "latest_available_date": "2026-11-20"}}
    monkeypatch.setattr(type(client.session), "request", _replying(reply))
    with pytest.raises(errors.UnexpectedResponse, match="`products` that is not a list"):
        list(client.product_performance_list("2026-11-01", "2026-11-08", shop=_shop()))
    client.close()


def _shop():  # type: ignore[no-untyped-def]
    from ai_content_agents.integrations.tiktok_shop.models import Shop

    return Shop(id="7000000000000000001", name="Glow Goods", region="US", cipher="ROW_x", code="US1")


def _replying(body: dict):  # type: ignore[no-untyped-def]
    import json

    import requests

    def request(self, method, url, **kw):  # type: ignore[no-untyped-def]
        resp = requests.Response()
        resp.status_code = 200
        resp._content = json.dumps(body).encode()
        resp.headers["content-type"] = "application/json"
        resp.url = url
        return resp

    return request
