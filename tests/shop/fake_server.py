"""A loopback fake of the TikTok Shop Partner API and its auth host, strict where the real one is.

It verifies every signature with its OWN implementation (written from the reference's step list, it
does not import the client's signing module), checks the timestamp window, enforces a QPS limit
over a sliding one-second window (429 + 36009002 + Retry-After), expires tokens on demand (105002),
rotates refresh tokens, serves cursor pages whose tokens contain `+ / =`, can inject 5xx and HTML
error pages, and sleeps a configurable latency. Every request is recorded for assertions.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
import operator
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

SHOP_PATH_PREFIXES = ("/product/", "/order/", "/analytics/")


def reference_sign(secret: str, path: str, params: dict[str, str], body: bytes, content_type: str) -> str:
    """Steps 1-7 of the reference, done independently of the client."""
    base = path
    for key in sorted(params):
        if key in ("sign", "access_token"):
            continue
        base += key + params[key]
    mt = content_type.split(";")[0].strip().lower() if content_type else ""
    data = base.encode("utf-8") + (body if mt != "multipart/form-data" else b"")
    wrapped = secret.encode("utf-8") + data + secret.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), wrapped, hashlib.sha256).hexdigest()


@dataclass
class Record:
    t: float  # time.monotonic() at arrival
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    status: int = 0
    code: int | None = None
    token: str | None = None
    content_type: str | None = None


@dataclass
class Fault:
    path_contains: str
    status: int
    kind: str  # "html", "json"
    code: int | None = None
    message: str = ""
    times: int = 1
    retry_after: str | None = None
    after: int = 0  # let this many matching requests through first
    land: bool = False  # process the request (a write takes effect), THEN answer with this fault
    delay: float = 0.0  # sleep this long before answering (longer than the client's timeout = a timeout)


@dataclass
class TokenInfo:
    shop_scope: str
    expires_at: int


class FakeShop:
    """Start with `with FakeShop(...) as fake:`; `fake.url` is the base URL for both API and auth hosts."""

    def __init__(
        self,
        *,
        app_key: str = "fake-app-key",
        app_secret: str = "fake-app-secret",
        qps: float | None = None,
        retry_after: str | None = "1",
        latency: float = 0.0,
        n_products: int = 0,
        n_orders: int = 0,
        shops: list[dict[str, Any]] | None = None,
        expired_token_http_status: int = 401,
        access_ttl_s: int = 7 * 86_400,
        refresh_ttl_s: int = 365 * 86_400,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.qps = qps
        self.retry_after = retry_after
        self.latency = latency
        self.expired_token_http_status = expired_token_http_status
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.shops = shops or [
            {"id": "7000000000000000001", "name": "Glow Goods", "region": "US", "seller_type": "LOCAL",
             "cipher": "ROW_aBc+dEf/gHi==", "code": "USGLOW01"},
        ]
        self.lock = threading.Lock()
        self.records: list[Record] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.access_tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, int] = {}
        self.auth_codes: set[str] = {"good-code"}
        self.token_calls: list[str] = []  # "get" / "refresh"
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.on_write: Any = None  # called as on_write(kind, doc) after a write took effect (e.g. a sale)
        self.order_search_cap: int | None = None  # orders search errors past this many rows (None: no cap)
        self.report_total_count = True  # False: search pages omit total_count (the client must cope)
        self.monotonic = time.monotonic  # the clock of the QPS window (tests inject a virtual one)
        self._sorted_cache: dict[str, tuple[tuple[int, int], list[dict[str, Any]], list[int]]] = {}
        self._accepted: deque[float] = deque()
        self._page_tokens: dict[str, int] = {}
        self.now = time.time  # the server's clock (tests may shift it); every date below derives from it
        self.time_zone = ZoneInfo("America/Los_Angeles")  # where the shop's analytics days are counted (US)
        self.analytics_lag_days = 1  # data is next-day: the latest day with data is this many days before today
        base = int(self.now()) - 100_000
        self.products: dict[str, dict[str, Any]] = {}
        for i in range(n_products):
            self.add_product(i, update_time=base + i)
        self.orders: dict[str, dict[str, Any]] = {}
        for i in range(n_orders):
            self.add_order(i, update_time=base + i)
        self.product_perf: list[dict[str, Any]] = []
        self.video_perf: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- dates (from the server's clock, in the shop's time zone) --------------------
    @property
    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), self.time_zone).date()

    @property
    def latest_available_date(self) -> str:
        return (self.today - timedelta(days=self.analytics_lag_days)).isoformat()

    # --- data ------------------------------------------------------------------------
    def add_product(self, i: int, *, update_time: int, title: str | None = None) -> str:
        pid = str(1729000000000000000 + i)
        self.products[pid] = {
            "id": pid,
            "title": title or f"Product {i}",
            "status": "ACTIVATE",
            "create_time": update_time - 1000,
            "update_time": update_time,
            "skus": [
                {
                    "id": str(1730000000000000000 + i),
                    "seller_sku": f"SKU-{i}",
                    "price": {"currency": "USD", "sale_price": f"{10 + i % 50}.90", "tax_exclusive_price": "9.99"},
                    "inventory": [{"warehouse_id": "7100000000000000001", "quantity": 10 + i}],
                }
            ],
        }
        return pid

    def add_order(self, i: int, *, update_time: int) -> str:
        oid = str(5760000000000000000 + i)
        self.orders[oid] = {
            "id": oid,
            "status": "AWAITING_SHIPMENT",
            "create_time": update_time - 50,
            "update_time": update_time,
            "payment": {"currency": "USD", "total_amount": "25.80", "sub_total": "25.80", "shipping_fee": "0.00"},
            "line_items": [
                {"id": f"{oid}1", "product_id": "1729000000000000000", "sku_id": "1730000000000000000",
                 "product_name": "Product 0", "sale_price": "12.90", "original_price": "14.90"}
            ],
            "recipient_address": {"name": "PII Person", "full_address": "1 Secret Lane"},
            # every buyer field of the 202309 order object (official Node SDK model), with recognisable values
            "buyer_email": "pii-buyer@example.invalid",
            "buyer_message": "PII leave it with my neighbour",
            "buyer_nickname": "PII nickname",
            "buyer_avatar": "https://p16.example.invalid/PII-avatar.jpeg",
            "cpf": "PII-CPF-123",
            "cpf_name": "PII CPF Name",
            "user_id": "PII-USER-7494",
        }
        return oid

    def sell(self, pid: str, units: int = 1) -> None:
        """An order takes `units` from the product's first SKU in its first warehouse."""
        with self.lock:
            self.products[pid]["skus"][0]["inventory"][0]["quantity"] -= units

    # --- tokens ----------------------------------------------------------------------
    def issue_tokens(self) -> dict[str, Any]:
        now = int(self.now())
        access = "ACC_" + secrets.token_hex(12)
        refresh = "REF_" + secrets.token_hex(12)
        self.access_tokens[access] = TokenInfo("all", now + self.access_ttl_s)
        self.refresh_tokens[refresh] = now + self.refresh_ttl_s
        return {
            "access_token": access,
            "access_token_expire_in": now + self.access_ttl_s,  # absolute, as the real API does
            "refresh_token": refresh,
            "refresh_token_expire_in": now + self.refresh_ttl_s,
            "open_id": "open-1",
            "seller_name": "Glow Goods",
            "seller_base_region": "US",
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.order.info", "data.shop_analytics.public.read"],
        }

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access_tokens.values():
                info.expires_at = 0

    def expire_refresh_tokens(self) -> None:
        with self.lock:
            for k in list(self.refresh_tokens):
                self.refresh_tokens[k] = 0

    def inject(self, path_contains: str, status: int = 500, *, kind: str = "json", code: int | None = None,
               message: str = "", times: int = 1, retry_after: str | None = None, after: int = 0,
               land: bool = False, delay: float = 0.0) -> None:
        with self.lock:
            self.faults.append(Fault(path_contains, status, kind, code, message, times, retry_after, after, land,
                                     delay))

    # --- server ----------------------------------------------------------------------
    def __enter__(self) -> FakeShop:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def api_records(self) -> list[Record]:
        return [r for r in self.records if not r.path.startswith("/api/v2/token")]

    def count(self, path_contains: str, status: int | None = None) -> int:
        return sum(1 for r in self.records if path_contains in r.path and (status is None or r.status == status))

    def by_update_time(self, kind: str, ge: int | None = None, le: int | None = None, lt: int | None = None
                       ) -> list[dict[str, Any]]:
        """Rows of `kind` ("products"/"orders") sorted by (update_time, id) within the bounds. The sort is
        cached until a row is added or an update_time changes, so a 25,000-row catalogue stays quick."""
        table = self.products if kind == "products" else self.orders
        with self.lock:
            sig = (len(table), sum(map(operator.itemgetter("update_time"), table.values())))
            cached = self._sorted_cache.get(kind)
            if cached is None or cached[0] != sig:
                rows = sorted(table.values(), key=lambda r: (r["update_time"], r["id"]))
                cached = (sig, rows, [r["update_time"] for r in rows])
                self._sorted_cache[kind] = cached
        _, rows, keys = cached
        start = bisect.bisect_left(keys, ge) if ge is not None else 0
        end = len(rows)
        if le is not None:
            end = min(end, bisect.bisect_right(keys, le))
        if lt is not None:
            end = min(end, bisect.bisect_left(keys, lt))
        return rows[start:end]

    # --- page tokens ----------------------------------------------------------------
    def _token_for(self, kind: str, offset: int) -> str:
        raw = f"{kind}:{offset}".encode() + b"\xfb\xef\xff"
        token = base64.b64encode(raw).decode()
        if "+" not in token:
            token = "+" + token
        if "/" not in token:
            token += "/"
        if not token.endswith("="):
            token += "=="
        self._page_tokens[token] = offset
        return token


class _Handler(BaseHTTPRequestHandler):
    fake: FakeShop
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to
        # every keep-alive reply, which is the fake's cost, not the client's
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # --- plumbing ---------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        fake = self.fake
        arrived = fake.monotonic()
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = Record(arrived, method, parts.path, query, body, token=self.headers.get("x-tts-access-token"),
                     content_type=self.headers.get("Content-Type"))
        with fake.lock:
            fake.records.append(rec)
        if fake.latency:
            time.sleep(fake.latency)
        try:
            status, payload, headers = self._route(method, parts.path, query, pairs, body, rec)
        except Exception as exc:  # a bug in the fake must be visible, not a hang
            status, payload, headers = 500, {"code": 36009003, "message": f"fake crashed: {exc!r}"}, {}
        rec.status = status
        if isinstance(payload, dict):
            rec.code = payload.get("code")
            payload.setdefault("request_id", "req-" + secrets.token_hex(6))
            data = json.dumps(payload).encode()
            ctype = "application/json"
        else:
            data = payload.encode()
            ctype = "text/html"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout) before the answer
            self.close_connection = True

    def _route(self, method: str, path: str, query: dict[str, str], pairs: list[tuple[str, str]], body: bytes,
               rec: Record) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        fake = self.fake
        # faults first (they model an overloaded gateway in front of everything)
        fault: Fault | None = None
        with fake.lock:
            for f in fake.faults:
                if f.times > 0 and f.path_contains in path:
                    if f.after > 0:
                        f.after -= 1
                        continue
                    f.times -= 1
                    fault = f
                    break
        if fault is not None:
            if fault.land:  # the backend did the work; the reply is lost or broken on the way back
                self._checked(method, path, query, pairs, body, rec)
            if fault.delay:
                time.sleep(fault.delay)
            hdr = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.kind == "html":
                return fault.status, f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>", hdr
            return fault.status, {"code": fault.code or 36009003, "message": fault.message or "internal error"}, hdr
        return self._checked(method, path, query, pairs, body, rec)

    def _checked(self, method: str, path: str, query: dict[str, str], pairs: list[tuple[str, str]], body: bytes,  # noqa: C901 - the fake server checks every signing and auth rule of the real API in order
                 rec: Record) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        fake = self.fake
        if path.startswith("/api/v2/token/"):
            return self._token(path, query)
        # shape rules that the real API enforces or that the reference forbids
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fake.violations.append(f"repeated query key on {path}")
        if "access_token" in query:
            fake.violations.append(f"access_token in query on {path}")
        if "version" in query:
            fake.violations.append(f"version param on {path}")
        if any(v == "" for v in query.values()):
            fake.violations.append(f"empty query value on {path}")
        if (rec.content_type or "").split(";")[0].strip().lower() != "application/json":
            # the API reference marks content-type: application/json required on every endpoint, GETs too
            fake.violations.append(f"content-type {rec.content_type!r} on {method} {path}")
        # error texts as the live gateway words them (captured responses, see tests/shop/test_known_answers.py)
        if query.get("app_key") != fake.app_key:
            return 400, {"code": 36009004, "data": None,
                         "message": "Invalid credentials. Invalid 'app_key' query parameter."}, {}
        ts = query.get("timestamp", "")
        now = fake.now()
        if not re.fullmatch(r"\d{10}", ts) or not (now - 300 <= int(ts) <= now + 30):
            return 400, {"code": 36009004, "message": "Invalid timestamp: out of window or not seconds"}, {}
        expected = reference_sign(fake.app_secret, path, query, body, self.headers.get("Content-Type") or "")
        if not hmac.compare_digest(expected, query.get("sign", "")):
            return 401, {"code": 106001, "data": None,
                         "message": "Invalid credentials. The 'sign' query parameter is invalid."}, {}
        shop_scoped = path.startswith(SHOP_PATH_PREFIXES)
        if shop_scoped and not query.get("shop_cipher"):
            return 400, {"code": 106013, "message": "shop_cipher is required"}, {}
        if not shop_scoped and "shop_cipher" in query:
            return 400, {"code": 36009004, "message": "Unexpected identifier: shop_cipher is not required"}, {}
        if shop_scoped and query["shop_cipher"] not in {s["cipher"] for s in fake.shops}:
            return 400, {"code": 36009004, "message": "shop_cipher invalid"}, {}
        token = rec.token
        with fake.lock:
            info = fake.access_tokens.get(token or "")
        if info is None:
            return 401, {"code": 36009004, "data": None,
                         "message": "Invalid credentials. The 'x-tts-access-token' header is invalid"}, {}
        if info.expires_at <= now:
            return fake.expired_token_http_status, {"code": 105002, "message": "Access token is expired"}, {}
        if fake.qps is not None:
            with fake.lock:
                window = fake._accepted
                while window and window[0] <= rec.t - 1.0:
                    window.popleft()
                if len(window) >= fake.qps:
                    hdr = {"Retry-After": fake.retry_after} if fake.retry_after else {}
                    return 429, {"code": 36009002, "message": "Too many requests"}, hdr
                window.append(rec.t)
        if method == "POST" and body:
            try:
                doc = json.loads(body)
            except ValueError:
                return 400, {"code": 36009022, "message": "body must be JSON"}, {}
        else:
            doc = {}
        return self._api(method, path, query, doc)

    # --- auth host --------------------------------------------------------------------
    def _token(self, path: str, q: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        fake = self.fake
        if q.get("app_key") != fake.app_key or q.get("app_secret") != fake.app_secret:
            return 200, {"code": 36004003, "message": "invalid app_key or app_secret"}, {}
        with fake.lock:
            if path == "/api/v2/token/get":
                fake.token_calls.append("get")
                if q.get("grant_type") != "authorized_code":
                    return 200, {"code": 36004002, "message": "grant_type must be authorized_code"}, {}
                if q.get("auth_code") not in fake.auth_codes:
                    return 200, {"code": 36004004, "message": "Invalid auth code"}, {}
                fake.auth_codes.discard(q["auth_code"])  # single-use
                return 200, {"code": 0, "message": "success", "data": fake.issue_tokens()}, {}
            if path == "/api/v2/token/refresh":
                fake.token_calls.append("refresh")
                if q.get("grant_type") != "refresh_token":
                    return 200, {"code": 36004002, "message": "grant_type must be refresh_token"}, {}
                expires = fake.refresh_tokens.get(q.get("refresh_token", ""))
                if expires is None:
                    return 200, {"code": 36004005, "message": "can not find related auth record"}, {}
                if expires <= fake.now():
                    return 200, {"code": 36004001, "message": "rt has expired"}, {}
                del fake.refresh_tokens[q["refresh_token"]]  # rotation: the old one is dead
                return 200, {"code": 0, "message": "success", "data": fake.issue_tokens()}, {}
        return 404, {"code": 36009009, "message": "invalid path"}, {}

    # --- API routes -------------------------------------------------------------------
    def _page(self, kind: str, rows: list[dict[str, Any]], q: dict[str, str], cap: int | None = None
              ) -> tuple[list[dict[str, Any]], str, int | None] | dict[str, Any]:
        fake = self.fake
        try:
            size = int(q.get("page_size", "0"))
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return {"code": 36009004, "message": "invalid param: page_size"}
        token = q.get("page_token")
        offset = 0
        if token:
            with fake.lock:
                if token not in fake._page_tokens:
                    return {"code": 36009004, "message": "invalid param: page_token"}
                offset = fake._page_tokens[token]
        if cap is not None and offset >= cap:
            return {"code": 12052180, "message": f"search beyond {cap} results"}
        chunk = rows[offset : offset + size]
        nxt = ""
        if offset + size < len(rows):
            with fake.lock:
                nxt = fake._token_for(kind, offset + size)
        return chunk, nxt, len(rows) if fake.report_total_count else None

    def _api(self, method: str, path: str, q: dict[str, str], doc: dict[str, Any]  # noqa: C901 - one fake endpoint per branch, like the real API's router
             ) -> tuple[int, dict[str, Any], dict[str, str]]:
        fake = self.fake

        def ok(data: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
            return 200, {"code": 0, "message": "Success", "data": data}, {}

        if method == "GET" and path == "/authorization/202309/shops":
            return ok({"shops": fake.shops})
        if method == "POST" and path == "/product/202309/products/search":
            rows = fake.by_update_time("products", doc.get("update_time_ge"), le=doc.get("update_time_le"))
            if "status" in doc and doc["status"] != "ALL":
                rows = [p for p in rows if p["status"] == doc["status"]]
            res = self._page("products", rows, q, cap=10_000)
            if isinstance(res, dict):
                return 400, res, {}
            chunk, nxt, total = res
            slim = [{k: v for k, v in p.items() if k != "description"} for p in chunk]
            return ok({"products": slim, "next_page_token": nxt, "total_count": total})
        m = re.fullmatch(r"/product/202309/products/(\d+)", path)
        if method == "GET" and m:
            p = fake.products.get(m.group(1))
            if p is None:
                return 200, {"code": 12052032, "message": "product does not exist"}, {}
            return ok({**p, "description": f"<p>{p['title']}</p>",
                       "main_images": [{"uri": "img1", "urls": ["https://img.example/1.jpg"], "width": 600, "height": 600}]})
        if method == "POST" and path == "/product/202309/inventory/search":
            # limits from the official Node SDK's InventorySearchRequestBody: product_ids max 100, sku_ids max
            # 600; sku_ids take precedence when both are sent
            ids, skus = doc.get("product_ids") or [], doc.get("sku_ids") or []
            if len(ids) > 100 or len(skus) > 600:
                return 400, {"code": 36009004, "message": "invalid param: too many product_ids or sku_ids"}, {}
            if skus:
                by_sku = {s["id"]: p for p in fake.products.values() for s in p["skus"]}
                ids = list(dict.fromkeys(by_sku[str(s)]["id"] for s in skus if str(s) in by_sku))
            inv = []
            for pid in ids:
                p = fake.products.get(str(pid))
                if p:
                    inv.append({"product_id": pid, "skus": [{"id": s["id"], "seller_sku": s["seller_sku"],
                                "total_available_quantity": s["inventory"][0]["quantity"], "total_committed_quantity": 1,
                                "warehouse_inventory": [{"warehouse_id": "7100000000000000001",
                                                         "available_quantity": s["inventory"][0]["quantity"],
                                                         "committed_quantity": 1}]}
                                for s in p["skus"] if not skus or s["id"] in {str(x) for x in skus}]})
            return ok({"inventory": inv})
        if method == "POST" and path == "/order/202309/orders/search":
            rows = fake.by_update_time("orders", doc.get("update_time_ge"), lt=doc.get("update_time_lt"))
            if q.get("sort_order") == "DESC":
                rows = rows[::-1]
            res = self._page("orders", rows, q, cap=fake.order_search_cap)
            if isinstance(res, dict):
                return 400, res, {}
            chunk, nxt, total = res
            return ok({"orders": chunk, "next_page_token": nxt, "total_count": total})
        if method == "GET" and path == "/order/202309/orders":
            ids = [i for i in q.get("ids", "").split(",") if i]
            if not ids or len(ids) > 50:
                return 400, {"code": 36009004, "message": "invalid param: ids (1-50)"}, {}
            return ok({"orders": [fake.orders[i] for i in ids if i in fake.orders]})
        if path.startswith("/analytics/"):
            for need in ("start_date_ge", "end_date_lt"):
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", q.get(need, "")):
                    return 400, {"code": 36009004, "message": f"invalid param: {need}"}, {}
            if q["end_date_lt"] > fake.today.isoformat():
                fake.violations.append(f"analytics window on {path} includes today or later ({q['end_date_lt']})")
            if q["end_date_lt"] > fake.latest_available_date and q["start_date_ge"] > fake.latest_available_date:
                return ok({"latest_available_date": fake.latest_available_date, "products": [], "videos": []})
        if method == "GET" and path == "/analytics/202405/shop/performance":
            return ok({"latest_available_date": fake.latest_available_date, "performance": {"intervals": [
                {"start_date": q["start_date_ge"], "end_date": q["end_date_lt"], "gmv": {"amount": "1234.50", "currency": "USD"},
                 "orders": 80, "units_sold": 95, "buyers": 70, "product_page_views": 4000,
                 "avg_order_value": {"amount": "15.43", "currency": "USD"}}]}})
        if method == "GET" and path == "/analytics/202405/shop_products/performance":
            rows = fake.product_perf
            key = {"gmv": lambda r: float(r["gmv"]["amount"]), "unit_sold_count": lambda r: r["units_sold"],
                   "order_count": lambda r: r["orders"]}.get(q.get("sort_field", "gmv"), lambda r: 0)
            rows = sorted(rows, key=key, reverse=q.get("sort_order", "DESC") == "DESC")
            res = self._page("pperf", rows, q)
            if isinstance(res, dict):
                return 400, res, {}
            chunk, nxt, total = res
            return ok({"products": chunk, "next_page_token": nxt, "total_count": total,
                       "latest_available_date": fake.latest_available_date})
        m = re.fullmatch(r"/analytics/202405/shop_products/(\d+)/performance", path)
        if method == "GET" and m:
            return ok({"latest_available_date": fake.latest_available_date, "performance": {"intervals": [
                {"start_date": q["start_date_ge"], "end_date": q["end_date_lt"], "gmv": {"amount": "99.90", "currency": "USD"},
                 "orders": 9, "units_sold": 10}]}})
        if method == "GET" and path == "/analytics/202409/shop_videos/performance":
            res = self._page("vperf", fake.video_perf, q)
            if isinstance(res, dict):
                return 400, res, {}
            chunk, nxt, total = res
            return ok({"videos": chunk, "next_page_token": nxt, "total_count": total,
                       "latest_available_date": fake.latest_available_date})
        m = re.fullmatch(r"/analytics/202409/shop_videos/(\d+)/performance", path)
        if method == "GET" and m:
            return ok({"latest_available_date": fake.latest_available_date,
                       "engagement_data": {"total_views": 12000, "total_likes": 900, "total_comments": 40, "total_shares": 15},
                       "performance": {"intervals": [{"start_date": q["start_date_ge"], "gmv": {"amount": "45.00", "currency": "USD"}}]}})
        m = re.fullmatch(r"/product/202309/products/(\d+)/(inventory|prices)/update", path)
        if method == "POST" and m:
            skus = doc.get("skus")
            if not isinstance(skus, list) or not skus or not all(isinstance(s, dict) and s.get("id") for s in skus):
                return 400, {"code": 36009004, "message": "invalid param: skus"}, {}
            p = fake.products.get(m.group(1))
            if p is None:
                return 200, {"code": 12052032, "message": "product does not exist"}, {}
            with fake.lock:
                fake.writes.append((m.group(2), doc))
                for sku in skus:  # the write takes effect
                    target = next((x for x in p["skus"] if x["id"] == str(sku["id"])), None)
                    if target is None:
                        continue
                    if m.group(2) == "inventory":
                        for inv in sku.get("inventory") or []:
                            slot = next((w for w in target["inventory"]
                                         if w["warehouse_id"] == inv.get("warehouse_id", w["warehouse_id"])), None)
                            if slot is not None:
                                slot["quantity"] = inv["quantity"]
                    elif isinstance(sku.get("price"), dict):
                        target["price"] = {**target["price"], "sale_price": sku["price"]["amount"],
                                           "currency": sku["price"]["currency"]}
            if fake.on_write is not None:
                fake.on_write(m.group(2), doc)
            return ok({})
        return 404, {"code": 36009009, "message": "invalid path"}, {}
