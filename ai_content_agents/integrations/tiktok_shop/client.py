"""The TikTok Shop Partner API client: signed, rate-limited, retried, typed.

WHY one `_attempt` per try: each attempt takes a rate-limit token, stamps a fresh timestamp, signs the
exact bytes it sends and classifies the reply by its body `code`. tenacity decides whether to try
again (throttling, 5xx, timeouts, dropped connections) and how long to wait (exponential + jitter,
`Retry-After` honoured); signature, permission, validation and not-found errors are never retried,
nor are a refused connection, a failed DNS lookup or an unreachable network (they do not heal in a
retry's wait). A 105002 refreshes the token once (single-flight) and repeats the call once inside
the same attempt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from ... import redact
from ...config import secret
from . import errors
from .analytics import AnalyticsWindow, analytics_window, shop_time_zone, shop_today
from .auth import AuthClient, TokenManager, TokenStore, authorization_url
from .endpoints import ENDPOINTS, Endpoint
from .models import (
    InventoryItem,
    Order,
    Page,
    Product,
    ProductDetail,
    ProductPerformance,
    ProductPerformanceRow,
    Shop,
    ShopPerformance,
    VideoPerformance,
    VideoPerformanceRow,
)
from .ratelimit import GroupLimit, RateLimiter, TokenBucket
from .signing import canonical_query, encode_query, sign, string_to_sign

if TYPE_CHECKING:
    from ...config import Settings
    from ...store import Store

log = logging.getLogger(__name__)
errors.install_log_redaction()

T = TypeVar("T", bound=BaseModel)

MAX_SEARCH_RESULTS = 10_000
ORDER_DETAIL_BATCH = 50
INVENTORY_PRODUCT_BATCH = 100  # Inventory Search: product_ids max 100 per call (official Node SDK model doc)
INVENTORY_SKU_BATCH = 600  # ... and sku_ids max 600 per call


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff: delay = max(retry_after, min(base * 2**n + uniform(0, jitter), cap)); injectable for tests."""

    max_retries: int = 5
    max_time_s: float = 120.0
    base_s: float = 1.0
    cap_s: float = 60.0
    jitter_s: float = 0.5
    sleep: Callable[[float], None] = time.sleep


@dataclass
class PageResult:
    """One page of a list call: its raw items, the token that fetched it and the next one."""

    items: list[dict[str, Any]]
    token: str | None
    next_token: str | None
    meta: Page
    dropped: int = 0  # rows in the page that were not objects


@dataclass
class WriteResult:
    """A write's outcome; batch-style writes can succeed overall and still fail per item."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""  # e.g. "confirmed by re-reading after an ambiguous failure"

    @property
    def ok(self) -> bool:
        return not self.errors


class Paged(Generic[T]):
    """An iterator of typed rows that also exposes what the pages said (`latest_available_date`, ...)."""

    def __init__(self, pages: Iterator[PageResult], model: type[T]) -> None:
        self._pages = pages
        self._model = model
        self.latest_available_date: date | None = None
        self.total_count: int | None = None
        self.skipped = 0
        self._it = self._rows()

    def _rows(self) -> Iterator[T]:
        for page in self._pages:
            if page.meta.latest_available_date:
                self.latest_available_date = page.meta.latest_available_date
            if page.meta.total_count is not None:
                self.total_count = page.meta.total_count
            self.skipped += page.dropped
            for raw in page.items:
                try:
                    yield self._model.model_validate(raw)
                except ValidationError:
                    self.skipped += 1
                    log.warning("skipped a malformed %s row", self._model.__name__)

    def __iter__(self) -> Iterator[T]:
        return self._it

    def __next__(self) -> T:
        return next(self._it)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def encode_body(body: Mapping[str, Any] | None) -> bytes:
    """Serialise ONCE: these exact bytes are signed and sent."""
    if body is None:
        return b""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode("utf-8")


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _request_was_sent(exc: requests.RequestException) -> bool:
    """False only when the connection was never established (nothing reached the server)."""
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return False
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        cur = stack.pop()
        if id(cur) in seen or cur is None:
            continue
        seen.add(id(cur))
        if isinstance(cur, NewConnectionError):
            return False
        if isinstance(cur, BaseException):
            stack.extend([cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args])
    return True


def _date(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


class TikTokShopClient:
    """One client per app + token; thread-safe; pick the shop per call or once with `select_shop`."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        tokens: TokenManager,
        api_base: str = "https://open-api.tiktokglobalshop.com",
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        default_shop: str | None = None,
        auth_url: str | None = None,
        max_workers: int = 16,
        clock: Callable[[], float] = time.time,
        store: Store | None = None,
        time_zone: str | None = None,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.tokens = tokens
        self.api_base = api_base.rstrip("/")
        self.limiter = limiter or RateLimiter({"default": GroupLimit(5.0, 5), "analytics": GroupLimit(0.5, 1)})
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, max_workers + 4))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.timeout = timeout
        self.default_shop = default_shop
        self.auth_url = auth_url
        self.max_workers = max_workers
        self._clock = clock
        self.store = store
        self.time_zone = time_zone  # overrides the zone derived from the shop's region
        self._latest: dict[str, date | None] = {}  # shop id → latest_available_date, asked once per client
        self._latest_lock = threading.Lock()
        self._shop: Shop | None = None
        self._shop_lock = threading.Lock()
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "refreshes": 0}
        self._stats_lock = threading.Lock()

    # --- construction ------------------------------------------------------------------
    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: Store | None = None,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        require_token: bool = True,
    ) -> TikTokShopClient:
        missing = [
            name
            for name, value in (
                ("TIKTOK_SHOP_APP_KEY", settings.tiktok_shop_app_key),
                ("TIKTOK_SHOP_APP_SECRET", secret(settings.tiktok_shop_app_secret)),
            )
            if not value
        ]
        if missing:
            raise errors.ShopNotConfigured(f"TikTok Shop is not configured: {', '.join(missing)} not set")
        app_key = str(settings.tiktok_shop_app_key)
        app_secret = str(secret(settings.tiktok_shop_app_secret))
        auth_url = shop_auth_url(settings)
        session = session or requests.Session()
        auth = AuthClient(
            app_key, app_secret, settings.tiktok_shop_auth_base, session=session,
            timeout=settings.http_timeout_s, auth_url=auth_url,
        )
        manager = TokenManager(
            auth,
            TokenStore.in_data_dir(settings.data_dir),
            refresh_margin_s=settings.tiktok_shop_refresh_margin_s,
            auth_url=auth_url,
        )
        if require_token and manager.store.load() is None:
            raise errors.ShopNotAuthorized("the shop has not been authorised yet (no stored token)", auth_url=auth_url)
        return cls(
            app_key=app_key,
            app_secret=app_secret,
            tokens=manager,
            api_base=settings.tiktok_shop_api_base,
            limiter=limiter or RateLimiter.from_settings(settings),
            retry=retry
            or RetryPolicy(
                max_retries=settings.tiktok_shop_max_retries, max_time_s=settings.tiktok_shop_max_retry_time_s
            ),
            session=session,
            timeout=settings.http_timeout_s,
            default_shop=settings.tiktok_shop_default_shop,
            auth_url=auth_url,
            store=store,
            time_zone=settings.tiktok_shop_time_zone,
        )

    # --- the request core --------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [self._secret, *self.tokens.secrets()]

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def request(
        self,
        name: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | None = None,
        shop: Shop | str | None = None,
    ) -> dict[str, Any]:
        """Call one endpoint from the table and return its `data` (an empty dict when absent)."""
        ep = ENDPOINTS[name]
        path = ep.render(**(path_params or {}))
        target = self._resolve_shop(shop) if ep.needs_cipher else None
        body_bytes = encode_body(body if body is not None else ({} if ep.method == "POST" else None))
        bucket = self.limiter.bucket(target.id if target else "-", ep.group)
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_retries + 1) | stop_after_delay(self.retry.max_time_s),
            wait=self._wait,
            retry=retry_if_exception(lambda e: self._should_retry(ep, e)),
            sleep=self.retry.sleep,
            before_sleep=lambda rs: self._before_sleep(ep, path, rs),
            reraise=True,
        )
        return retrying(self._attempt, ep, path, dict(query or {}), body_bytes, target, bucket)

    def _should_retry(self, ep: Endpoint, exc: BaseException) -> bool:
        if not isinstance(exc, errors.TikTokShopError) or not exc.retryable:
            return False
        if ep.idempotent:
            return True
        # A non-idempotent call is re-sent only when the server cannot have acted on it: the gateway
        # throttled it (429 / 36009002) or the connection was never made. A timeout or 5xx after the
        # request went out is ambiguous and left to the caller (see update_inventory).
        return isinstance(exc, errors.RateLimitedError) or (isinstance(exc, errors.TransportError) and not exc.sent)

    def _wait(self, rs: RetryCallState) -> float:
        n = max(0, rs.attempt_number - 1)
        delay = min(self.retry.base_s * (2**n) + random.uniform(0, self.retry.jitter_s), self.retry.cap_s)
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, errors.RateLimitedError) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        return delay

    def _before_sleep(self, ep: Endpoint, path: str, rs: RetryCallState) -> None:
        self._count("retries")
        exc = rs.outcome.exception() if rs.outcome else None
        log.warning(
            "tiktok_shop %s %s attempt %d failed (%s); retrying in %.2fs",
            ep.method, path, rs.attempt_number, type(exc).__name__,
            rs.next_action.sleep if rs.next_action else 0.0,
        )

    def _attempt(
        self, ep: Endpoint, path: str, query: dict[str, object], body: bytes, shop: Shop | None, bucket: TokenBucket
    ) -> dict[str, Any]:
        refreshed = restamped = False
        while True:
            token = self.tokens.access_token()
            bucket.acquire()
            try:
                data = self._send(ep, path, query, body, shop, token)
            except errors.AuthExpiredError:
                if refreshed:
                    raise errors.AuthExpiredError(
                        f"{ep.method} {path}: the access token was rejected again right after a refresh",
                        action=f"re-authorise the shop{': open ' + self.auth_url if self.auth_url else ''}",
                    ) from None
                refreshed = True
                self._count("refreshes")
                self.tokens.refresh(stale=token)
                continue
            except errors.TimestampError:
                if restamped:
                    raise
                restamped = True
                continue
            except errors.RateLimitedError as exc:
                bucket.penalize(exc.retry_after)
                raise
            bucket.reward()
            return data

    def _send(
        self, ep: Endpoint, path: str, query: Mapping[str, object], body: bytes, shop: Shop | None, token: str
    ) -> dict[str, Any]:
        params: dict[str, object] = {**query, "app_key": self.app_key, "timestamp": int(self._clock())}
        if ep.needs_cipher:
            assert shop is not None
            params["shop_cipher"] = shop.cipher
        q = canonical_query(params)
        # The API reference marks content-type required on EVERY endpoint, GETs included (TikTok's own
        # curl example and the official Node SDK send it on GETs). It does not change the signature of a
        # body-less request: only body bytes are appended, and a GET has none.
        content_type = "application/json"
        q["sign"] = sign(self._secret, path, q, body, content_type)
        headers = {"x-tts-access-token": token, "content-type": content_type}
        url = f"{self.api_base}{path}?{encode_query(q)}"
        started = time.monotonic()
        self._count("requests")
        failure: errors.TransportError | None = None
        try:
            resp = self.session.request(ep.method, url, data=body or None, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            failure = errors.TransportError(f"{ep.method} {path} timed out after {self.timeout:.0f}s",
                                            sent=_request_was_sent(exc))
        except requests.RequestException as exc:
            failure = errors.transport_error(f"{ep.method} {path} failed", exc, sent=_request_was_sent(exc))
        if failure is not None:
            # Raised outside the except block: the requests exception (its text holds the signed URL)
            # must not ride along as __context__.
            raise failure
        try:
            return self._decode(ep, path, resp)
        except errors.SignatureError:
            digest = hashlib.sha256(string_to_sign(path, q, body, content_type)).hexdigest()[:16]
            log.error("tiktok_shop 106001 on %s %s; string-to-sign sha256 %s", ep.method, path, digest)
            raise
        finally:
            log.debug("tiktok_shop %s %s HTTP %s in %.0f ms", ep.method, path, resp.status_code,
                      (time.monotonic() - started) * 1000)

    def _decode(self, ep: Endpoint, path: str, resp: requests.Response) -> dict[str, Any]:
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            kind = (resp.headers.get("content-type") or "no content type").split(";")[0]
            raise errors.from_response(
                None,
                f"{ep.method} {path} returned HTTP {status} with a non-JSON body ({kind})",
                request_id=resp.headers.get("x-tt-logid"),
                http_status=status,
                retry_after=_retry_after(resp),
            ) if status == 429 or status >= 500 else errors.UnexpectedResponse(
                f"{ep.method} {path} returned HTTP {status} with a non-JSON body ({kind})", http_status=status
            )
        code = body["code"]
        request_id = redact.request_id(body.get("request_id"))  # chosen by the server: logged only if a plain id
        if code == 0:
            data = body.get("data")
            if data is not None and not isinstance(data, dict):  # "ok" with garbage is not an empty answer
                raise errors.UnexpectedResponse(f"{ep.method} {path} returned code 0 with a `data` that is not an object")
            return data if isinstance(data, dict) else {}
        message = errors.redact(str(body.get("message") or ""), self._secrets())
        log.info("tiktok_shop %s %s -> code %s request_id %s", ep.method, path, code, request_id)
        raise errors.from_response(
            code,
            f"{ep.method} {path}: {message}",
            request_id=request_id,
            http_status=status,
            retry_after=_retry_after(resp),
            auth_url=self.auth_url,
        )

    # --- pagination --------------------------------------------------------------------
    def iter_pages(
        self,
        name: str,
        items_key: str,
        *,
        query: Mapping[str, object] | None = None,
        body: Mapping[str, Any] | None = None,
        shop: Shop | str | None = None,
        page_size: int = 100,
        start_token: str | None = None,
        max_pages: int = 1_000,
        max_results: int | None = MAX_SEARCH_RESULTS,
        path_params: Mapping[str, str] | None = None,
    ) -> Iterator[PageResult]:
        """Follow `next_page_token` in order; stop on an empty/repeated token, the page cap or the result cap."""
        target = self._resolve_shop(shop) if ENDPOINTS[name].needs_cipher else None
        seen: set[str] = set()
        token = start_token
        pages = results = 0
        while True:
            q = {**(query or {}), "page_size": page_size}
            if token:
                q["page_token"] = token
                seen.add(token)
            data = self.request(name, path_params=path_params, query=q, body=body, shop=target)
            rows = data.get(items_key)
            if rows is not None and not isinstance(rows, list):
                raise errors.UnexpectedResponse(f"{name} returned a `{items_key}` that is not a list")
            items = [i for i in (rows or []) if isinstance(i, dict)]
            nxt = data.get("next_page_token") or None
            if nxt is not None and not isinstance(nxt, str):
                nxt = str(nxt)
            try:
                meta = Page.model_validate({k: data.get(k) for k in ("total_count", "latest_available_date")})
            except ValidationError:
                meta = Page()
            meta.next_page_token = nxt if isinstance(nxt, str) else None
            pages += 1
            results += len(items)
            if nxt and nxt in seen:
                log.warning("tiktok_shop %s returned a page token it already gave; stopping", name)
                nxt = None
            elif nxt and pages >= max_pages:
                log.warning("tiktok_shop %s stopped at the page cap (%d pages)", name, max_pages)
                nxt = None
            elif nxt and max_results is not None and results >= max_results:
                log.warning("tiktok_shop %s stopped at the %d-result cap; narrow by time window", name, max_results)
                nxt = None
            yield PageResult(items=items, token=token, next_token=nxt, meta=meta, dropped=len(rows or []) - len(items))
            if not nxt:
                return
            token = nxt

    def _paged(self, model: type[T], *args: Any, **kw: Any) -> Paged[T]:
        return Paged(self.iter_pages(*args, **kw), model)

    # --- shops -------------------------------------------------------------------------
    def authorized_shops(self, refresh: bool = True) -> list[Shop]:
        """GET /authorization/202309/shops (no cipher); caches the shops (and ciphers) with the token."""
        if not refresh:
            cached = self.tokens.tokens().shops
            if cached:
                return cached
        data = self.request("authorized_shops")
        shops = []
        for raw in data.get("shops") or []:
            try:
                shops.append(Shop.model_validate(raw))
            except ValidationError:
                log.warning("skipped a malformed shop row")
        self.tokens.update_shops(shops)
        return shops

    def select_shop(self, id_or_name: str | None = None) -> Shop:
        """Choose the shop for later calls: by id, name (case-insensitive) or cipher; the only one if there is one."""
        with self._shop_lock:
            shops = self.authorized_shops(refresh=False)
            wanted = id_or_name or self.default_shop
            shop = _match_shop(shops, wanted)
            if shop is None and wanted:  # maybe a shop added since the cache was written
                shops = self.authorized_shops(refresh=True)
                shop = _match_shop(shops, wanted)
            if shop is None:
                names = ", ".join(f"{s.name} ({s.id})" for s in shops) or "none"
                if wanted:
                    raise errors.ShopSelectionError(f"no authorised shop matches {wanted!r}; authorised: {names}")
                raise errors.ShopSelectionError(f"this token covers several shops; choose one of: {names}")
            self._shop = shop
            return shop

    def _resolve_shop(self, shop: Shop | str | None) -> Shop:
        if isinstance(shop, Shop):
            return shop
        if shop is not None:
            return self.select_shop(shop)
        if self._shop is None:
            return self.select_shop(None)
        return self._shop

    # --- products and inventory --------------------------------------------------------
    def search_products(
        self,
        *,
        status: str | None = None,
        update_time_ge: int | None = None,
        update_time_le: int | None = None,
        create_time_ge: int | None = None,
        create_time_le: int | None = None,
        seller_skus: list[str] | None = None,
        page_size: int = 100,
        shop: Shop | str | None = None,
        max_results: int = MAX_SEARCH_RESULTS,
    ) -> Paged[Product]:
        """POST /product/202309/products/search, lazily across pages (stops at 10,000 results)."""
        body = _drop_none(
            status=status, update_time_ge=update_time_ge, update_time_le=update_time_le,
            create_time_ge=create_time_ge, create_time_le=create_time_le, seller_skus=seller_skus,
        )
        return self._paged(
            Product, "products_search", "products", body=body, shop=shop, page_size=page_size, max_results=max_results
        )

    def get_product(self, product_id: str, *, shop: Shop | str | None = None) -> ProductDetail:
        """GET /product/202309/products/{id}."""
        data = self.request("product_detail", path_params={"product_id": str(product_id)}, shop=shop)
        return _one(ProductDetail, data, "get product")

    def get_products(
        self, ids: Iterable[str], *, shop: Shop | str | None = None, max_workers: int | None = None
    ) -> list[ProductDetail]:
        """Details of many products, concurrently up to the rate limit; missing ones (not found) are skipped."""
        target = self._resolve_shop(shop)

        def one(pid: str) -> ProductDetail | None:
            try:
                return self.get_product(pid, shop=target)
            except errors.NotFoundError:
                log.info("tiktok_shop product %s not found; skipped", pid)
                return None

        return [p for p in self._map(one, [str(i) for i in ids], max_workers) if p is not None]

    def search_inventory(
        self,
        *,
        product_ids: list[str] | None = None,
        sku_ids: list[str] | None = None,
        shop: Shop | str | None = None,
    ) -> list[InventoryItem]:
        """POST /product/202309/inventory/search (not paginated), batched: at most 100 product ids or
        600 SKU ids per call. SKU ids take precedence server-side, so when both are given only the SKU
        ids are sent."""
        if not product_ids and not sku_ids:
            raise errors.RequestShapeError("inventory search needs product_ids or sku_ids",
                                           action="pass --product or --sku")
        target = self._resolve_shop(shop)
        if sku_ids:
            key, ids, size = "sku_ids", list(dict.fromkeys(str(i) for i in sku_ids)), INVENTORY_SKU_BATCH
        else:
            key, ids, size = "product_ids", list(dict.fromkeys(str(i) for i in product_ids or [])), INVENTORY_PRODUCT_BATCH
        batches = [ids[i : i + size] for i in range(0, len(ids), size)]

        def one(batch: list[str]) -> list[InventoryItem]:
            data = self.request("inventory_search", body={key: batch}, shop=target)
            return _models(InventoryItem, data.get("inventory"))

        return [item for chunk in self._map(one, batches, None) for item in chunk]

    # --- orders ------------------------------------------------------------------------
    def search_orders(
        self,
        *,
        order_status: str | None = None,
        create_time_ge: int | None = None,
        create_time_lt: int | None = None,
        update_time_ge: int | None = None,
        update_time_lt: int | None = None,
        sort_field: str = "update_time",
        sort_order: str = "ASC",
        page_size: int = 100,
        shop: Shop | str | None = None,
        max_results: int | None = None,
    ) -> Paged[Order]:
        """POST /order/202309/orders/search, lazily across pages."""
        body = _drop_none(
            order_status=order_status, create_time_ge=create_time_ge, create_time_lt=create_time_lt,
            update_time_ge=update_time_ge, update_time_lt=update_time_lt,
        )
        return self._paged(
            Order, "orders_search", "orders", query={"sort_field": sort_field, "sort_order": sort_order},
            body=body, shop=shop, page_size=page_size, max_results=max_results,
        )

    def get_orders(
        self, ids: Iterable[str], *, shop: Shop | str | None = None, max_workers: int | None = None
    ) -> list[Order]:
        """GET /order/202309/orders?ids=a,b,c in batches of at most 50, batches fetched concurrently."""
        target = self._resolve_shop(shop)
        unique = list(dict.fromkeys(str(i) for i in ids))
        batches = [unique[i : i + ORDER_DETAIL_BATCH] for i in range(0, len(unique), ORDER_DETAIL_BATCH)]

        def one(batch: list[str]) -> list[Order]:
            data = self.request("orders_detail", query={"ids": batch}, shop=target)
            return _models(Order, data.get("orders"))

        return [o for chunk in self._map(one, batches, max_workers) for o in chunk]

    # --- analytics (pinned versions: see endpoints.py) ---------------------------------
    def latest_available_date(self, *, shop: Shop | str | None = None) -> date | None:
        """The last day with analytics data (shop time); asked once per shop, then cached for this client.

        A one-day shop-performance read of yesterday carries it. None when the API does not say.
        Single-flight: tools called in parallel share the one question (a failed one is asked again).
        """
        target = self._resolve_shop(shop)
        with self._latest_lock:
            if target.id not in self._latest:
                today = self._shop_today(target)
                perf = self.shop_performance(today - timedelta(days=1), today, shop=target)
                self._latest[target.id] = perf.latest_available_date
            return self._latest[target.id]

    def analytics_window(self, days: int, *, shop: Shop | str | None = None) -> AnalyticsWindow:
        """The last `days` days that have data, in the shop's time zone (see analytics.py)."""
        target = self._resolve_shop(shop)
        zone = shop_time_zone(target.region, self.time_zone)
        return analytics_window(days, self._shop_today(target), self.latest_available_date(shop=target), zone.key)

    def _shop_today(self, shop: Shop) -> date:
        return shop_today(datetime.fromtimestamp(self._clock(), UTC), shop_time_zone(shop.region, self.time_zone))

    def shop_performance(
        self, start: date | str, end: date | str, *, granularity: str = "ALL", currency: str = "LOCAL",
        with_comparison: bool = False, shop: Shop | str | None = None,
    ) -> ShopPerformance:
        """GET /analytics/202405/shop/performance; `start` inclusive, `end` exclusive (shop time zone)."""
        data = self.request(
            "shop_performance",
            query={"start_date_ge": _date(start), "end_date_lt": _date(end), "granularity": granularity,
                   "currency": currency, "with_comparison": with_comparison},
            shop=shop,
        )
        return _one(ShopPerformance, data, "shop performance")

    def product_performance_list(
        self, start: date | str, end: date | str, *, sort_field: str = "gmv", sort_order: str = "DESC",
        currency: str = "LOCAL", page_size: int = 100, max_results: int | None = None,
        shop: Shop | str | None = None,
    ) -> Paged[ProductPerformanceRow]:
        """GET /analytics/202405/shop_products/performance (top products by GMV/units)."""
        return self._paged(
            ProductPerformanceRow, "product_performance_list", "products",
            query={"start_date_ge": _date(start), "end_date_lt": _date(end), "sort_field": sort_field,
                   "sort_order": sort_order, "currency": currency},
            shop=shop, page_size=page_size, max_results=max_results,
        )

    def product_performance(
        self, product_id: str, start: date | str, end: date | str, *, granularity: str = "ALL",
        currency: str = "LOCAL", shop: Shop | str | None = None,
    ) -> ProductPerformance:
        """GET /analytics/202405/shop_products/{id}/performance."""
        data = self.request(
            "product_performance", path_params={"product_id": str(product_id)},
            query={"start_date_ge": _date(start), "end_date_lt": _date(end), "granularity": granularity,
                   "currency": currency},
            shop=shop,
        )
        return _one(ProductPerformance, data, "product performance")

    def video_performance_list(
        self, start: date | str, end: date | str, *, sort_field: str = "gmv", sort_order: str = "DESC",
        account_type: str = "ALL", currency: str = "LOCAL", page_size: int = 100, max_results: int | None = None,
        shop: Shop | str | None = None,
    ) -> Paged[VideoPerformanceRow]:
        """GET /analytics/202409/shop_videos/performance."""
        return self._paged(
            VideoPerformanceRow, "video_performance_list", "videos",
            query={"start_date_ge": _date(start), "end_date_lt": _date(end), "sort_field": sort_field,
                   "sort_order": sort_order, "account_type": account_type, "currency": currency},
            shop=shop, page_size=page_size, max_results=max_results,
        )

    def video_performance(
        self, video_id: str, start: date | str, end: date | str, *, granularity: str = "ALL",
        currency: str = "LOCAL", shop: Shop | str | None = None,
    ) -> VideoPerformance:
        """GET /analytics/202409/shop_videos/{id}/performance."""
        data = self.request(
            "video_performance", path_params={"video_id": str(video_id)},
            query={"start_date_ge": _date(start), "end_date_lt": _date(end), "granularity": granularity,
                   "currency": currency},
            shop=shop,
        )
        return _one(VideoPerformance, data, "video performance")

    # --- writes (used only by the human approval path) ---------------------------------
    # Paths and bodies confirmed against the official TikTok Shop Node.js SDK (api/productV202309Api.ts:
    # ProductsProductIdInventoryUpdatePost / ProductsProductIdPricesUpdatePost; request models
    # model/product/V202309/UpdateInventoryRequestBody*.ts, UpdatePriceRequestBody*.ts). Keys are written
    # in the SDK's serialisation order, so our bytes (and signature) equal the SDK's for the same call;
    # tests/shop/test_known_answers.py holds the vectors.
    def _sku_stock(self, product_id: str, sku_id: str, warehouse_id: str | None, shop: Shop) -> int | None:
        """The SKU's current stock as the write sets it: `skus[].inventory[].quantity` of Get Product."""
        product = self.get_product(product_id, shop=shop)
        sku = next((s for s in product.skus if str(s.id) == str(sku_id)), None)
        if sku is None:
            raise errors.NotFoundError(f"SKU {sku_id} is not part of product {product_id}")
        rows = [w for w in sku.inventory if warehouse_id is None or str(w.warehouse_id) == str(warehouse_id)]
        if warehouse_id is None and len(rows) > 1:
            raise errors.RequestShapeError(
                f"SKU {sku_id} is stocked in {len(rows)} warehouses; a stock update must name the warehouse",
                action="pass warehouse_id (one of the SKU's warehouses)",
            )
        quantities = [w.quantity for w in rows if w.quantity is not None]
        return sum(quantities) if quantities else None

    def update_inventory(
        self, product_id: str, sku_id: str, quantity: int, warehouse_id: str | None = None,
        *, shop: Shop | str | None = None,
    ) -> WriteResult:
        """SET one SKU's stock: POST /product/202309/products/{id}/inventory/update
        {"skus":[{"id", "inventory":[{"quantity", "warehouse_id"}]}]}.

        Not blindly retried: if the first attempt landed and an order then took stock, a re-send would
        put the sold units back. So the current level is read first; after an AMBIGUOUS failure (a
        timeout or 5xx once the request was sent) it is read again: still the old value → the write did
        not land, send it again; the new value → it landed; anything else → `WriteOutcomeUnknown`
        carrying what was read. Throttled (429) or never-connected attempts are re-sent as usual.
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise errors.RequestShapeError(f"quantity must be a whole number >= 0, got {quantity!r}",
                                           action="pass a non-negative integer")
        target = self._resolve_shop(shop)
        stock: dict[str, Any] = {"quantity": quantity}
        if warehouse_id:
            stock["warehouse_id"] = str(warehouse_id)
        body = {"skus": [{"id": str(sku_id), "inventory": [stock]}]}
        before = self._sku_stock(product_id, sku_id, warehouse_id, target)
        resends = 0
        while True:
            try:
                data = self.request("inventory_update", path_params={"product_id": str(product_id)}, body=body,
                                    shop=target)
            except errors.TikTokShopError as exc:
                if not _ambiguous(exc):
                    raise
                what = f"stock update of SKU {sku_id} failed ambiguously ({type(exc).__name__})"
                try:
                    after = self._sku_stock(product_id, sku_id, warehouse_id, target)
                except errors.TikTokShopError as read_exc:
                    raise errors.WriteOutcomeUnknown(
                        f"{what} and the stock could not be re-read ({type(read_exc).__name__}); it was {before},"
                        f" the update asked for {quantity}", read_value=None, code=exc.code,
                        request_id=exc.request_id,
                    ) from None
                if after == quantity:
                    log.info("tiktok_shop %s; re-read shows the new value %s: it landed", what, after)
                    return WriteResult(note=f"confirmed by re-reading after {type(exc).__name__}")
                if after == before and resends < self.retry.max_retries:
                    resends += 1
                    self._count("retries")
                    log.warning("tiktok_shop %s; re-read still shows %s: sending it again", what, after)
                    self.retry.sleep(min(self.retry.base_s * 2 ** (resends - 1), self.retry.cap_s))
                    continue
                raise errors.WriteOutcomeUnknown(
                    f"{what}; re-read shows {after} (it was {before}, the update asked for {quantity})",
                    read_value=after, code=exc.code, request_id=exc.request_id,
                ) from None
            result = WriteResult(errors=list(data.get("errors") or []), warnings=list(data.get("warnings") or []))
            if resends:
                result.note = f"applied after {resends} re-send(s) that a re-read showed were needed"
            return result

    def update_price(
        self, product_id: str, sku_id: str, amount: Decimal, currency: str, *, shop: Shop | str | None = None
    ) -> WriteResult:
        """SET one SKU's price: POST /product/202309/products/{id}/prices/update
        {"skus":[{"id", "price":{"amount":"12.90","currency":"USD"}}]}.

        An absolute price SET is idempotent (orders do not change it), so it is retried like a read.
        Amount is Decimal, sent as a string.
        """
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise errors.RequestShapeError(f"amount must be a positive Decimal, got {amount!r}",
                                           action="pass Decimal('12.90')")
        data = self.request(
            "prices_update", path_params={"product_id": str(product_id)},
            body={"skus": [{"id": str(sku_id), "price": {"amount": format(amount, "f"), "currency": currency}}]},
            shop=shop,
        )
        return WriteResult(errors=list(data.get("errors") or []), warnings=list(data.get("warnings") or []))

    # --- helpers -----------------------------------------------------------------------
    def _map(self, fn: Callable[[Any], Any], items: list[Any], max_workers: int | None) -> list[Any]:
        if not items:
            return []
        workers = max(1, min(max_workers or self.max_workers, len(items)))
        if workers == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts") as pool:
            return list(pool.map(fn, items))

    def close(self) -> None:
        self.session.close()


def _match_shop(shops: list[Shop], wanted: str | None) -> Shop | None:
    if not wanted:
        return shops[0] if len(shops) == 1 else None
    for s in shops:
        if wanted in (s.id, s.cipher, s.code):
            return s
    low = wanted.casefold()
    return next((s for s in shops if s.name.casefold() == low), None)


def _one(model: type[T], data: dict[str, Any], what: str) -> T:
    """Validate a single-object response; a shape we do not understand is a clear error, not a traceback."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.UnexpectedResponse(
            f"{what}: response did not match the pinned {model.__name__} shape ({exc.error_count()} problems)",
            action="the API version may have changed; report it with the request_id from the logs",
        ) from None


def _ambiguous(exc: errors.TikTokShopError) -> bool:
    """A failure after which the server may or may not have applied the request."""
    if isinstance(exc, errors.TransportError):
        return exc.sent
    return isinstance(exc, errors.ServerError)


def _drop_none(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None and v != []}


def _models(model: type[T], rows: Any) -> list[T]:
    out: list[T] = []
    for raw in rows or []:
        try:
            out.append(model.model_validate(raw))
        except ValidationError:
            log.warning("skipped a malformed %s row", model.__name__)
    return out


def shop_auth_url(settings: Settings, state: str | None = None) -> str | None:
    """The consent URL from settings, or None when no service id is configured."""
    if not settings.tiktok_shop_service_id:
        return None
    return authorization_url(settings.tiktok_shop_service_id, settings.tiktok_shop_region, state)
