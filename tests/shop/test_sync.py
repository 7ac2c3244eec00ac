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


# --- catalogues beyond the 10,000-result search cap: update_time windows ----------------------
NOW = 1_796_000_000  # every clock in these tests (fake server, client, token manager) is pinned here


def _pinned_fake(tmp_path, *, products: int = 0, orders: int = 0, spread: int = 7):  # type: ignore[no-untyped-def]
    """A fake whose clock is NOW, with rows updated `spread` seconds apart over the days before NOW."""
    from conftest import CANARY_SECRET

    fake = FakeShop(app_secret=CANARY_SECRET)
    fake.now = lambda: NOW
    start = NOW - 3_600 - spread * max(products, orders)
    for i in range(products):
        fake.add_product(i, update_time=start + spread * i)
    for i in range(orders):
        fake.add_order(i, update_time=start + spread * i)
    return fake


def _pinned_client(fake, tmp_path):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from conftest import authorize, shop_settings

    s = shop_settings(fake, tmp_path / "data")
    authorize(s)
    c = make_client(s)
    c._clock = lambda: float(NOW)
    c.tokens._now = lambda: datetime.fromtimestamp(NOW, UTC)
    return c


def _searches(fake: FakeShop, path: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) | {"_token": r.query.get("page_token"), "_code": r.code}
            for r in fake.api_records() if r.path.endswith(path)]


def test_25000_products_sync_completely_in_windows_below_the_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _pinned_fake(tmp_path, products=25_000) as fake:
        c = _pinned_client(fake, tmp_path)
        store = Store(tmp_path / "s.sqlite3")
        r = sync_products(c, store, details=False)
        assert r.inserted == 25_000 and _count(store, "shop_products") == (25_000, 25_000)
        assert r.windows >= 3 and r.splits >= 1 and r.capped_windows == 0
        searches = _searches(fake, "/products/search")
        assert all(s["_code"] == 0 for s in searches)  # the probe split every oversized window before paging it
        # no window was paged beyond the cap: at most 100 pages of 100 per (update_time_ge, update_time_le)
        per_window: dict[tuple[int, int], int] = {}
        for s in searches:
            per_window[(s["update_time_ge"], s["update_time_le"])] = per_window.get((s["update_time_ge"], s["update_time_le"]), 0) + 1
        assert max(per_window.values()) <= 100
        newest = max(p["update_time"] for p in fake.products.values())
        assert r.watermark == newest and sync_state(store, c.select_shop().id, "products")["run_ge"] is None
        # the next run starts at the watermark: one small window, nothing new
        again = sync_products(c, store, details=False)
        assert again.inserted == 0 and again.windows == 1 and again.requests == 1


@pytest.mark.parametrize("total_count", [True, False])
def test_10150_products_no_longer_fail_at_page_101(tmp_path, total_count: bool) -> None:  # type: ignore[no-untyped-def]
    with _pinned_fake(tmp_path, products=10_150) as fake:
        fake.report_total_count = total_count  # without it, only the 12052180 error says the window is too big
        c = _pinned_client(fake, tmp_path)
        store = Store(tmp_path / "s.sqlite3")
        r = sync_products(c, store, details=False)
        assert r.inserted == 10_150 and _count(store, "shop_products") == (10_150, 10_150)
        capped = [s for s in _searches(fake, "/products/search") if s["_code"] == 12052180]
        assert (len(capped) >= 1) is (not total_count)
        assert r.watermark == max(p["update_time"] for p in fake.products.values())


def test_the_watermark_is_committed_per_window_and_a_crash_resumes_in_its_window(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _pinned_fake(tmp_path, products=12_000) as fake:
        c = _pinned_client(fake, tmp_path)
        store = Store(tmp_path / "s.sqlite3")
        shop_id = c.select_shop().id
        seen: list[dict] = []  # type: ignore[type-arg]

        def crash_in_a_later_window(pages_done: int) -> None:
            state = sync_state(store, shop_id, "products")
            seen.append(state)
            if state["watermark"] > 0 and pages_done >= 100:
                raise Crash("power cut")

        with pytest.raises(Crash):
            sync_products(c, store, details=False, on_page_committed=crash_in_a_later_window)
        state = sync_state(store, shop_id, "products")
        stored = store.query("SELECT MAX(update_time) AS m FROM shop_products WHERE update_time < ?", (state["run_ge"],))
        assert 0 < state["watermark"] == stored[0]["m"]  # finished windows are committed...
        assert state["page_token"] and state["run_ge"] > 0  # ...and the crash left a cursor inside the next one
        before = len(_searches(fake, "/products/search"))
        r = sync_products(c, store, details=False)
        assert r.resumed and _count(store, "shop_products") == (12_000, 12_000)
        rerun = _searches(fake, "/products/search")[before:]
        assert rerun[0]["_token"] == state["page_token"]  # resumed at the saved page, in the saved window
        assert min(s["update_time_ge"] for s in rerun) == state["run_ge"]  # finished windows were not fetched again


def test_orders_get_the_same_protection(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _pinned_fake(tmp_path, orders=12_000, spread=3) as fake:
        fake.order_search_cap = 5_000  # whether orders are capped is undocumented; assume they may be
        c = _pinned_client(fake, tmp_path)
        store = Store(tmp_path / "s.sqlite3")
        r = sync_orders(c, store)
        assert r.inserted == 12_000 and _count(store, "shop_orders") == (12_000, 12_000)
        searches = _searches(fake, "/orders/search")
        assert any(s["_code"] == 12052180 for s in searches) and r.splits >= 1
        assert all(s["update_time_lt"] > s["update_time_ge"] for s in searches)
        assert r.watermark == max(o["update_time"] for o in fake.orders.values())


# --- buyer data never reaches the store -----------------------------------------------------------
def _walk(value: object, path: str = ""):  # type: ignore[no-untyped-def]
    """Every (path, key or scalar) inside a stored value, JSON text parsed."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            yield path, value
            return
        if isinstance(parsed, (dict, list)):
            yield from _walk(parsed, path)
        else:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}", k
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif value is not None:
        yield path, str(value)


def test_no_stored_order_column_holds_buyer_data(fake: FakeShop, shop_cfg, store: Store) -> None:  # type: ignore[no-untyped-def]
    oid = next(iter(fake.orders))
    fake.orders[oid]["buyer_phone_number"] = "PII-555-0100"  # a buyer field TikTok might add later
    c = make_client(shop_cfg)
    sync_orders(c, store)
    rows = store.query("SELECT * FROM shop_orders")
    assert len(rows) == 120
    found = []
    for row in rows:
        for col in row.keys():  # noqa: SIM118 - sqlite3.Row iterates values, not keys
            for where, text in _walk(row[col], col):
                if "PII" in text or text.startswith(("buyer_", "recipient_", "cpf")) or text == "user_id":
                    found.append((where, text))
    assert found == []
    # and the bytes of the SQLite file (with its WAL) hold none of it either
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))
    assert b"PII" not in raw and b"Secret Lane" not in raw
    # what IS kept: the order itself
    kept = json.loads(store.query("SELECT order_json FROM shop_orders WHERE order_id = ?", (oid,))[0]["order_json"])
    assert kept["payment"]["total_amount"] == "25.80" and kept["line_items"]
