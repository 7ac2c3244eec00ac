"""Incremental, resumable sync into SQLite: counts, no duplicates after a crash, PII stripped."""

from __future__ import annotations

import json

import pytest
from conftest import make_client
from fake_server import FakeShop

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.sync import sync_orders, sync_products, sync_state
from ai_content_agents.store import Store


class Crash(RuntimeError):
    pass


def _count(store: Store, table: str) -> tuple[int, int]:
    total = store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
    col = "product_id" if table == "shop_products" else "order_id"
    distinct = store.query(f"SELECT COUNT(DISTINCT {col}) AS n FROM {table}")[0]["n"]
    return total, distinct


def test_full_then_incremental_product_sync(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    r1 = sync_products(c, store)
    assert (r1.pages, r1.fetched, r1.inserted, r1.updated) == (3, 250, 250, 0)
    assert _count(store, "shop_products") == (250, 250)
    detail = json.loads(store.query("SELECT detail_json FROM shop_products LIMIT 1")[0]["detail_json"])
    assert detail["main_images"] and detail["description"]  # details were fetched, not just search rows
    # two products change; one is new
    top = max(p["update_time"] for p in fake.products.values())
    pid = "1729000000000000007"
    fake.products[pid]["update_time"] = top + 10
    fake.products[pid]["title"] = "Renamed"
    fake.add_product(999, update_time=top + 20)
    before = fake.count("/products/search")
    r2 = sync_products(c, store)
    assert fake.count("/products/search") - before == 1  # only the changed tail, one page
    assert r2.inserted == 1 and r2.updated == 1 and r2.fetched <= 3
    assert store.query("SELECT title FROM shop_products WHERE product_id = ?", (pid,))[0]["title"] == "Renamed"
    assert _count(store, "shop_products") == (251, 251)


def test_crash_mid_sync_resumes_from_the_saved_page_without_duplicates(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)

    def crash_after_two(pages_done: int) -> None:
        if pages_done == 2:
            raise Crash("power cut")

    with pytest.raises(Crash):
        sync_products(c, store, page_size=50, on_page_committed=crash_after_two)
    assert _count(store, "shop_products") == (100, 100)
    state = sync_state(store, c.select_shop().id, "products")
    assert state["page_token"] and state["pages_done"] == 2
    searches_before = fake.count("/products/search")
    details_before = fake.count("/product/202309/products/1")
    r = sync_products(c, store, page_size=50)
    assert r.resumed and r.pages == 3 and r.inserted == 150
    assert fake.count("/products/search") - searches_before == 3  # pages 3..5 only, first one by saved token
    assert fake.count("/product/202309/products/1") - details_before == 150
    assert _count(store, "shop_products") == (250, 250)
    assert sync_state(store, c.select_shop().id, "products")["page_token"] is None


def test_rejected_saved_token_restarts_the_run_without_duplicates(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    with pytest.raises(Crash):
        sync_products(c, store, page_size=100, on_page_committed=lambda n: (_ for _ in ()).throw(Crash()))
    fake._page_tokens.clear()  # the server forgot its cursors
    r = sync_products(c, store)
    assert r.resumed and r.restarted
    assert _count(store, "shop_products") == (250, 250)


def test_server_failure_mid_sync_then_resume(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    c.select_shop()
    fake.inject("/products/search", 502, kind="html", times=1000, after=2)  # down for good after 2 pages

    with pytest.raises(E.ServerError):
        sync_products(c, store, page_size=50)
    saved, _ = _count(store, "shop_products")
    assert saved == 100  # the two pages whose details had arrived were kept
    fake.faults.clear()
    r = sync_products(c, store, page_size=50)
    assert r.resumed and r.inserted == 250 - saved
    assert _count(store, "shop_products") == (250, 250)


def test_order_sync_strips_pii_and_keeps_money_as_text(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    r = sync_orders(c, store)
    assert r.inserted == 120 and r.pages == 2
    row = store.query("SELECT total_amount, order_json FROM shop_orders LIMIT 1")[0]
    assert row["total_amount"] == "25.80"
    assert "recipient_address" not in json.loads(row["order_json"])
    assert "Secret Lane" not in "".join(r["order_json"] for r in store.query("SELECT order_json FROM shop_orders"))
    again = sync_orders(c, store)
    assert again.inserted == 0 and _count(store, "shop_orders") == (120, 120)


def test_missing_product_detail_is_skipped_and_counted(fake: FakeShop, shop_cfg, store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = make_client(shop_cfg)
    gone = "1729000000000000003"
    original = c.request

    def request(name, **kw):  # type: ignore[no-untyped-def]
        if name == "product_detail" and kw.get("path_params", {}).get("product_id") == gone:
            raise E.NotFoundError("deleted", code=12052032)
        return original(name, **kw)

    monkeypatch.setattr(c, "request", request)
    r = sync_products(c, store)
    assert r.skipped == 1 and r.inserted == 249
