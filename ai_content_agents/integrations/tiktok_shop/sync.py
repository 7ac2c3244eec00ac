"""Incremental product and order sync into the project's SQLite store.

WHY this shape: search pages must be followed in order (each token comes from the previous page),
but product details are independent, so details run concurrently on a thread pool while the main
thread keeps following tokens; the rate limiter, not the round-trip time, sets the pace. Each page is
committed in ONE transaction together with the cursor (the next page token), in page order, so a
crash loses at most the pages in flight and a re-run resumes from the saved token. Rows are keyed by
(shop, id), so a replayed page updates rather than duplicates.

The watermark for the next run is min(highest update_time seen, run start - skew margin): anything
edited while a run was in progress is fetched again next time rather than missed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from ...store import Store
from . import errors
from .client import PageResult, TikTokShopClient
from .models import PII_ORDER_FIELDS, Shop

log = logging.getLogger(__name__)

Kind = Literal["products", "orders"]
SKEW_MARGIN_S = 300
MAX_PAGES_IN_FLIGHT = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS shop_products (
    shop_id     TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    status      TEXT,
    update_time INTEGER,
    detail_json TEXT NOT NULL,
    synced_at   TEXT NOT NULL,
    PRIMARY KEY (shop_id, product_id)
);
CREATE TABLE IF NOT EXISTS shop_orders (
    shop_id      TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    status       TEXT,
    update_time  INTEGER,
    currency     TEXT,
    total_amount TEXT,
    order_json   TEXT NOT NULL,
    synced_at    TEXT NOT NULL,
    PRIMARY KEY (shop_id, order_id)
);
CREATE TABLE IF NOT EXISTS shop_sync_state (
    shop_id           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    watermark         INTEGER NOT NULL DEFAULT 0,
    run_ge            INTEGER,
    run_started       INTEGER,
    run_high          INTEGER,
    page_token        TEXT,
    pages_done        INTEGER NOT NULL DEFAULT 0,
    last_completed_at TEXT,
    PRIMARY KEY (shop_id, kind)
);
"""


class SyncReport(BaseModel):
    """What a sync did, for the CLI and logs."""

    kind: str
    shop_id: str
    resumed: bool = False
    restarted: bool = False  # a saved page token was rejected; the run started over (no duplicates)
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    watermark: int = 0
    requests: int = 0
    duration_s: float = 0.0


class _State(BaseModel):
    watermark: int = 0
    run_ge: int | None = None
    run_started: int | None = None
    run_high: int | None = None
    page_token: str | None = None
    pages_done: int = 0


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _load_state(store: Store, shop_id: str, kind: str) -> _State:
    rows = store.query("SELECT * FROM shop_sync_state WHERE shop_id = ? AND kind = ?", (shop_id, kind))
    if not rows:
        return _State()
    r = rows[0]
    return _State(watermark=r["watermark"], run_ge=r["run_ge"], run_started=r["run_started"],
                  run_high=r["run_high"], page_token=r["page_token"], pages_done=r["pages_done"])


def _save_state(db: Any, shop_id: str, kind: str, st: _State, completed: bool = False) -> None:
    db.execute(
        "INSERT INTO shop_sync_state (shop_id, kind, watermark, run_ge, run_started, run_high, page_token,"
        " pages_done, last_completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (shop_id, kind) DO UPDATE SET watermark = excluded.watermark, run_ge = excluded.run_ge,"
        " run_started = excluded.run_started, run_high = excluded.run_high, page_token = excluded.page_token,"
        " pages_done = excluded.pages_done,"
        " last_completed_at = COALESCE(excluded.last_completed_at, shop_sync_state.last_completed_at)",
        (shop_id, kind, st.watermark, st.run_ge, st.run_started, st.run_high, st.page_token, st.pages_done,
         datetime.now(UTC).isoformat() if completed else None),
    )


def sync_state(store: Store, shop_id: str, kind: Kind) -> dict[str, Any]:
    """The saved cursor, for `shop sync --status` and tests."""
    ensure_schema(store)
    return _load_state(store, shop_id, kind).model_dump()


def _strip_pii(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k not in PII_ORDER_FIELDS}


def _as_int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def sync_products(
    client: TikTokShopClient,
    store: Store,
    *,
    shop: Shop | str | None = None,
    full: bool = False,
    details: bool = True,
    page_size: int = 100,
    max_workers: int | None = None,
    on_page_committed: Callable[[int], None] | None = None,
) -> SyncReport:
    """Search products updated since the watermark (pages in order), fetch every detail concurrently, upsert."""
    target = client._resolve_shop(shop)
    pool_size = max_workers or client.max_workers

    def fetch_details(rows: list[dict[str, Any]], pool: ThreadPoolExecutor) -> list[Future[dict[str, Any] | None]]:
        def one(row: dict[str, Any]) -> dict[str, Any] | None:
            try:
                data = client.request("product_detail", path_params={"product_id": str(row["id"])}, shop=target)
            except errors.NotFoundError:
                return None  # deleted or frozen since the search: skip, counted
            return {**row, **data}

        return [pool.submit(one, r) for r in rows if r.get("id") is not None]

    return _run(
        client, store, target, "products", full=full, page_size=page_size, pool_size=pool_size,
        search=lambda ge, token: client.iter_pages(
            "products_search", "products", body={"update_time_ge": ge} if ge else None, shop=target,
            page_size=page_size, start_token=token, max_results=None,
        ),
        fetch=fetch_details if details else None,
        on_page_committed=on_page_committed,
    )


def sync_orders(
    client: TikTokShopClient,
    store: Store,
    *,
    shop: Shop | str | None = None,
    full: bool = False,
    page_size: int = 100,
    on_page_committed: Callable[[int], None] | None = None,
) -> SyncReport:
    """Search orders by update_time ascending since the watermark; search rows are full orders (PII stripped)."""
    target = client._resolve_shop(shop)
    return _run(
        client, store, target, "orders", full=full, page_size=page_size, pool_size=1,
        search=lambda ge, token: client.iter_pages(
            "orders_search", "orders", query={"sort_field": "update_time", "sort_order": "ASC"},
            body={"update_time_ge": ge} if ge else None, shop=target, page_size=page_size,
            start_token=token, max_results=None,
        ),
        fetch=None,
        on_page_committed=on_page_committed,
    )


def _run(
    client: TikTokShopClient,
    store: Store,
    shop: Shop,
    kind: Kind,
    *,
    full: bool,
    page_size: int,
    pool_size: int,
    search: Callable[[int, str | None], Any],
    fetch: Callable[[list[dict[str, Any]], ThreadPoolExecutor], list[Future[dict[str, Any] | None]]] | None,
    on_page_committed: Callable[[int], None] | None,
) -> SyncReport:
    ensure_schema(store)
    started = time.monotonic()
    requests_before = client.stats.get("requests", 0)
    st = _load_state(store, shop.id, kind)
    report = SyncReport(kind=kind, shop_id=shop.id)
    if st.run_ge is not None and not full:
        report.resumed = True
        log.info("tiktok_shop %s sync resumes after %d committed pages", kind, st.pages_done)
    else:
        st = _State(
            watermark=0 if full else st.watermark,
            run_ge=0 if full else st.watermark,
            run_started=int(time.time()),
            run_high=None,
            page_token=None,
            pages_done=0,
        )
        with store.transaction() as db:
            _save_state(db, shop.id, kind, st)

    def commit(page: PageResult, rows: list[dict[str, Any] | None]) -> None:
        kept = [r for r in rows if r is not None]
        report.skipped += len(rows) - len(kept)
        report.fetched += len(kept)
        now = datetime.now(UTC).isoformat()
        with store.transaction() as db:
            ids = [str(r["id"]) for r in kept]
            existing: dict[str, int | None] = {}
            table, id_col = ("shop_products", "product_id") if kind == "products" else ("shop_orders", "order_id")
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for r in db.execute(
                    f"SELECT {id_col} AS id, update_time FROM {table} WHERE shop_id = ? AND {id_col} IN ({marks})",
                    [shop.id, *chunk],
                ):
                    existing[r["id"]] = r["update_time"]
            for r in kept:
                rid, ut = str(r["id"]), _as_int(r.get("update_time"))
                if rid not in existing:
                    report.inserted += 1
                elif existing[rid] == ut:
                    report.unchanged += 1
                else:
                    report.updated += 1
                if ut is not None:
                    st.run_high = max(st.run_high or 0, ut)
                if kind == "products":
                    db.execute(
                        "INSERT INTO shop_products (shop_id, product_id, title, status, update_time, detail_json,"
                        " synced_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, product_id) DO UPDATE SET"
                        " title = excluded.title, status = excluded.status, update_time = excluded.update_time,"
                        " detail_json = excluded.detail_json, synced_at = excluded.synced_at",
                        (shop.id, rid, str(r.get("title") or ""), r.get("status"), ut,
                         json.dumps(r, separators=(",", ":")), now),
                    )
                else:
                    clean = _strip_pii(r)
                    pay = clean.get("payment") if isinstance(clean.get("payment"), dict) else {}
                    db.execute(
                        "INSERT INTO shop_orders (shop_id, order_id, status, update_time, currency, total_amount,"
                        " order_json, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, order_id)"
                        " DO UPDATE SET status = excluded.status, update_time = excluded.update_time,"
                        " currency = excluded.currency, total_amount = excluded.total_amount,"
                        " order_json = excluded.order_json, synced_at = excluded.synced_at",
                        (shop.id, rid, clean.get("status"), ut, pay.get("currency"),
                         None if pay.get("total_amount") is None else str(pay.get("total_amount")),
                         json.dumps(clean, separators=(",", ":")), now),
                    )
            st.page_token = page.next_token
            st.pages_done += 1
            _save_state(db, shop.id, kind, st)
        report.pages += 1
        if on_page_committed is not None:
            on_page_committed(st.pages_done)

    def drain(pending: deque[tuple[PageResult, list[Future[dict[str, Any] | None]]]], block: bool) -> None:
        while pending and (block or all(f.done() for f in pending[0][1])):
            page, futs = pending.popleft()
            commit(page, [f.result() for f in futs])

    def pages_from(token: str | None) -> Any:
        return search(st.run_ge or 0, token)

    pool = ThreadPoolExecutor(max_workers=max(1, pool_size), thread_name_prefix="tts-sync") if fetch else None
    pending: deque[tuple[PageResult, list[Future[dict[str, Any] | None]]]] = deque()
    try:
        token = st.page_token if report.resumed else None
        try:
            iterator = iter(pages_from(token))
            first = next(iterator, None)
        except errors.RequestShapeError:
            if not token:
                raise
            log.warning("tiktok_shop %s sync: saved page token rejected; starting this run over", kind)
            report.restarted = True
            iterator = iter(pages_from(None))
            first = next(iterator, None)
        page = first
        while page is not None:
            if pool is not None and fetch is not None:
                pending.append((page, fetch(page.items, pool)))
                drain(pending, block=False)
                while len(pending) > MAX_PAGES_IN_FLIGHT:
                    page0, futs0 = pending.popleft()
                    commit(page0, [f.result() for f in futs0])
            else:
                commit(page, list(page.items))
            try:
                page = next(iterator, None)
            except errors.TikTokShopError:
                # The search failed for good: keep the pages whose details already arrived, so the
                # re-run resumes after them, then report the failure.
                try:
                    drain(pending, block=True)
                except errors.TikTokShopError:
                    pass
                raise
        drain(pending, block=True)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    high = st.run_high if st.run_high is not None else st.watermark
    new_wm = max(st.watermark, min(high, (st.run_started or int(time.time())) - SKEW_MARGIN_S))
    done = _State(watermark=new_wm)
    with store.transaction() as db:
        _save_state(db, shop.id, kind, done, completed=True)
    report.watermark = new_wm
    report.requests = client.stats.get("requests", 0) - requests_before
    report.duration_s = round(time.monotonic() - started, 3)
    log.info("tiktok_shop %s sync: %s", kind, report.model_dump())
    return report
