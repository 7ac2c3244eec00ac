"""Incremental product and order sync into the project's SQLite store.

WHY this shape: search pages must be followed in order (each token comes from the previous page),
but product details are independent, so details run concurrently on a thread pool while the main
thread keeps following tokens; the rate limiter, not the round-trip time, sets the pace. Each page is
committed in ONE transaction together with the cursor (window + next page token), in page order, so
a crash loses at most the pages in flight and a re-run resumes from the saved token. Rows are keyed by
(shop, id), so a replayed page updates rather than duplicates.

WHY time windows: product search stops at 10,000 results (error 12052180), so one search over the
whole catalogue can never finish for a bigger shop. A run covers [watermark, run start] as a series
of `update_time` windows. A window whose search reports more than 10,000 matches (`total_count`), or
that hits 12052180 anyway, is halved and tried again; a completed window commits the watermark up to
its end, so an interrupted run never redoes finished windows. The next window is twice as wide as the
last completed one. Orders run the same way (update_time_ge / update_time_lt), in case their search is
capped too.

The watermark is the newest update_time stored, and never passes run start - skew margin: anything
edited while a run was in progress, or stamped by a server clock a little behind ours, is fetched
again next time rather than missed.
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
from .client import MAX_SEARCH_RESULTS, PageResult, TikTokShopClient
from .models import Shop, is_pii_order_field
import contextlib

log = logging.getLogger(__name__)

Kind = Literal["products", "orders"]
SKEW_MARGIN_S = 300
MAX_PAGES_IN_FLIGHT = 4



class SyncReport(BaseModel):
    """What a sync did, for the CLI and logs."""

    kind: str
    shop_id: str
    resumed: bool = False
    restarted: bool = False  # a saved page token was rejected; its window started over (no duplicates)
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    windows: int = 0  # update_time windows completed
    splits: int = 0  # windows halved because they held more than the search cap
    capped_windows: int = 0  # one-second windows still over the cap: only the first `cap` rows were read
    watermark: int = 0
    requests: int = 0
    duration_s: float = 0.0


class _State(BaseModel):
    watermark: int = 0
    run_ge: int | None = None  # the current window: [run_ge, run_le]
    run_le: int | None = None
    run_end: int | None = None  # the run covers [.., run_end]
    run_started: int | None = None
    run_high: int | None = None  # the highest update_time stored by this run
    page_token: str | None = None
    pages_done: int = 0


def product_titles(store: Store, shop_id: str, product_ids: list[str]) -> dict[str, str]:
    """Titles of synced products (id → title), for the ones the local catalogue has with a title."""
    out: dict[str, str] = {}
    for start in range(0, len(product_ids), 500):
        chunk = product_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in store.query(
            f"SELECT product_id, title FROM shop_products WHERE shop_id = ? AND product_id IN ({marks})",
            [shop_id, *chunk],
        ):
            if r["title"]:
                out[r["product_id"]] = r["title"]
    return out


def _load_state(store: Store, shop_id: str, kind: str) -> _State:
    rows = store.query("SELECT * FROM shop_sync_state WHERE shop_id = ? AND kind = ?", (shop_id, kind))
    if not rows:
        return _State()
    r = rows[0]
    return _State(watermark=r["watermark"], run_ge=r["run_ge"], run_le=r["run_le"], run_end=r["run_end"],
                  run_started=r["run_started"], run_high=r["run_high"], page_token=r["page_token"],
                  pages_done=r["pages_done"])


def _save_state(db: Any, shop_id: str, kind: str, st: _State, completed: bool = False) -> None:
    db.execute(
        "INSERT INTO shop_sync_state (shop_id, kind, watermark, run_ge, run_le, run_end, run_started, run_high,"
        " page_token, pages_done, last_completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (shop_id, kind) DO UPDATE SET watermark = excluded.watermark, run_ge = excluded.run_ge,"
        " run_le = excluded.run_le, run_end = excluded.run_end, run_started = excluded.run_started,"
        " run_high = excluded.run_high, page_token = excluded.page_token, pages_done = excluded.pages_done,"
        " last_completed_at = COALESCE(excluded.last_completed_at, shop_sync_state.last_completed_at)",
        (shop_id, kind, st.watermark, st.run_ge, st.run_le, st.run_end, st.run_started, st.run_high, st.page_token,
         st.pages_done, datetime.now(UTC).isoformat() if completed else None),
    )


def sync_state(store: Store, shop_id: str, kind: Kind) -> dict[str, Any]:
    """The saved cursor, for `shop sync --status` and tests."""
    return _load_state(store, shop_id, kind).model_dump()


def _strip_pii(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if not is_pii_order_field(k)}


def _as_int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


Search = Callable[[int, int, "str | None"], Any]  # (window start, window end (inclusive), page token) -> pages


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
    cap: int = MAX_SEARCH_RESULTS,
) -> SyncReport:
    """Search products updated since the watermark, window by window (pages in order), fetch every
    detail concurrently, upsert."""
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
        client, store, target, "products", full=full, pool_size=pool_size, cap=cap,
        search=lambda ge, le, token: client.iter_pages(
            "products_search", "products", body={"update_time_ge": ge, "update_time_le": le}, shop=target,
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
    cap: int = MAX_SEARCH_RESULTS,
) -> SyncReport:
    """Search orders by update_time ascending, window by window; search rows are full orders (buyer data stripped)."""
    target = client._resolve_shop(shop)
    return _run(
        client, store, target, "orders", full=full, pool_size=1, cap=cap,
        search=lambda ge, le, token: client.iter_pages(
            "orders_search", "orders", query={"sort_field": "update_time", "sort_order": "ASC"},
            body={"update_time_ge": ge, "update_time_lt": le + 1}, shop=target, page_size=page_size,
            start_token=token, max_results=None,
        ),
        fetch=None,
        on_page_committed=on_page_committed,
    )


class _Split(Exception):
    """The current window holds more rows than the search will return: narrow it to end at `hi`."""

    def __init__(self, hi: int) -> None:
        super().__init__(hi)
        self.hi = hi


def _run(  # noqa: C901 - the resumable sync loop: cursor, window splits, page pipeline and commit order in one place on purpose
    client: TikTokShopClient,
    store: Store,
    shop: Shop,
    kind: Kind,
    *,
    full: bool,
    pool_size: int,
    cap: int,
    search: Search,
    fetch: Callable[[list[dict[str, Any]], ThreadPoolExecutor], list[Future[dict[str, Any] | None]]] | None,
    on_page_committed: Callable[[int], None] | None,
) -> SyncReport:
    started = time.monotonic()
    requests_before = client.stats.get("requests", 0)
    st = _load_state(store, shop.id, kind)
    report = SyncReport(kind=kind, shop_id=shop.id)
    if st.run_ge is not None and st.run_end is not None and not full:
        report.resumed = True
        log.info("tiktok_shop %s sync resumes in window [%s, %s] after %d committed pages", kind, st.run_ge,
                 st.run_le, st.pages_done)
    else:
        now = int(client._clock())
        ge = 0 if full else (st.run_ge if st.run_ge is not None else st.watermark)  # an old-format run restarts
        st = _State(watermark=0 if full else st.watermark, run_ge=ge, run_le=now, run_end=now, run_started=now,
                    page_token=None, pages_done=0)
        with store.transaction() as db:
            _save_state(db, shop.id, kind, st)
    assert st.run_ge is not None and st.run_end is not None and st.run_started is not None
    if st.run_le is None:
        st.run_le = st.run_end

    def commit(page: PageResult, rows: list[dict[str, Any] | None]) -> None:
        kept = [r for r in rows if r is not None]
        report.skipped += len(rows) - len(kept)
        report.fetched += len(kept)
        now_iso = datetime.now(UTC).isoformat()
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
                    existing[rid] = ut
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
                         json.dumps(r, separators=(",", ":")), now_iso),
                    )
                else:
                    clean = _strip_pii(r)
                    pay = clean.get("payment")
                    pay = pay if isinstance(pay, dict) else {}
                    db.execute(
                        "INSERT INTO shop_orders (shop_id, order_id, status, update_time, currency, total_amount,"
                        " order_json, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, order_id)"
                        " DO UPDATE SET status = excluded.status, update_time = excluded.update_time,"
                        " currency = excluded.currency, total_amount = excluded.total_amount,"
                        " order_json = excluded.order_json, synced_at = excluded.synced_at",
                        (shop.id, rid, clean.get("status"), ut, pay.get("currency"),
                         None if pay.get("total_amount") is None else str(pay.get("total_amount")),
                         json.dumps(clean, separators=(",", ":")), now_iso),
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

    def window(lo: int, hi: int, token: str | None, pool: ThreadPoolExecutor | None) -> None:
        """Fetch and commit every page of [lo, hi]; raise _Split when it must be halved first."""
        pending: deque[tuple[PageResult, list[Future[dict[str, Any] | None]]]] = deque()
        seen: list[int] = []  # update_times this pass has read in the window

        def narrowed() -> int:
            """Halve the window by rows if this pass saw some (split at the median update_time read),
            else by time. Either way it ends strictly before `hi`."""
            if seen:
                seen.sort()
                return max(lo, min(seen[len(seen) // 2], hi - 1))
            return lo + (hi - lo) // 2

        try:
            try:
                iterator = iter(search(lo, hi, token))
                page = next(iterator, None)
            except errors.SearchLimitError:
                raise _Split(narrowed()) from None
            except errors.RequestShapeError:
                if not token:
                    raise
                log.warning("tiktok_shop %s sync: saved page token rejected; starting this window over", kind)
                report.restarted = True
                token = None
                iterator = iter(search(lo, hi, None))
                page = next(iterator, None)
            # Probe: the first page says how many rows match. More than the search will ever return
            # means this window cannot finish: halve it before paging through it.
            if (page is not None and token is None and hi > lo and page.meta.total_count is not None
                    and page.meta.total_count > cap):
                raise _Split(lo + (hi - lo) // 2)
            while page is not None:
                seen.extend(t for t in (_as_int(i.get("update_time")) for i in page.items) if t is not None)
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
                except errors.SearchLimitError:
                    drain(pending, block=True)
                    if hi > lo:
                        raise _Split(narrowed()) from None
                    # One second holding more rows than the search returns: nothing narrower to ask
                    # for by update_time. Keep what was read and say so.
                    report.capped_windows += 1
                    log.warning("tiktok_shop %s sync: more than %d rows share update_time %d; only the first"
                                " %d were read", kind, cap, lo, cap)
                    page = None
                except errors.TikTokShopError:
                    # The search failed for good: keep the pages whose details already arrived, so the
                    # re-run resumes after them, then report the failure.
                    with contextlib.suppress(errors.TikTokShopError):
                        drain(pending, block=True)
                    raise
            drain(pending, block=True)
        finally:
            for _, futs in pending:
                for f in futs:
                    f.cancel()

    pool = ThreadPoolExecutor(max_workers=max(1, pool_size), thread_name_prefix="tts-sync") if fetch else None
    try:
        lo, hi, end = st.run_ge, st.run_le, st.run_end
        token = st.page_token if report.resumed else None
        while lo <= end:
            try:
                window(lo, hi, token, pool)
            except _Split as split:
                hi = split.hi
                report.splits += 1
                log.info("tiktok_shop %s sync: window over %d rows; narrowed to [%d, %d]", kind, cap, lo, hi)
                token, st.run_le, st.page_token = None, hi, None
                with store.transaction() as db:
                    _save_state(db, shop.id, kind, st)
                continue
            # The window is complete: everything updated in [lo, hi] is stored. Commit the watermark up
            # to the newest row stored so far (never past the window, nor past run start - skew: a late
            # or back-dated edit is fetched again rather than missed) and move on to a window twice as wide.
            report.windows += 1
            width = hi - lo + 1
            if st.run_high is not None:
                st.watermark = max(st.watermark, min(st.run_high, hi + 1, st.run_started - SKEW_MARGIN_S))
            lo, token = hi + 1, None
            hi = min(end, lo + 2 * width - 1)
            st.run_ge, st.run_le, st.page_token = lo, hi, None
            with store.transaction() as db:
                _save_state(db, shop.id, kind, st)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    done = _State(watermark=st.watermark)
    with store.transaction() as db:
        _save_state(db, shop.id, kind, done, completed=True)
    report.watermark = st.watermark
    report.requests = client.stats.get("requests", 0) - requests_before
    report.duration_s = round(time.monotonic() - started, 3)
    log.info("tiktok_shop %s sync: %s", kind, report.model_dump())
    return report
