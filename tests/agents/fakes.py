"""Test doubles: a scripted model on httpx2.MockTransport, a loopback /v1/messages server, a fake shop."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Self

import anthropic
import httpx2

from ai_content_agents.integrations.tiktok_shop.analytics import (
    AnalyticsWindow,
    analytics_window,
)

TEST_KEY = "sk-ant-test-0123456789abcdef"


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def use(id_: str, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": id_, "name": name, "input": args or {}}


def msg(content: list[dict[str, Any]], stop: str = "end_turn", *, usage: dict[str, int] | None = None,
        model: str = "claude-sonnet-5-5", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_test", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop, "stop_sequence": None,
        "usage": usage or {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 0,
                           "cache_read_input_tokens": 0},
        **extra,
    }


@dataclass
class Script:
    """Replies in order; records every request body the model received."""

    replies: list[dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        nxt = self.replies.pop(0)
        return nxt(body) if callable(nxt) else nxt


def sdk_client(script: Script) -> anthropic.Anthropic:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        return httpx2.Response(200, json=script.reply(body))

    return anthropic.Anthropic(api_key=TEST_KEY, max_retries=0,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))


def result_json(block: dict[str, Any]) -> Any:
    """A tool_result block's content as JSON; a fenced result (scraped data) has its fence taken off."""
    from ai_content_agents.agents.fence import unfence_json

    return json.loads(unfence_json(block["content"]))


def offline_reply(body: dict[str, Any], plan: Any = None) -> dict[str, Any]:
    """What a well-behaved model would answer to this wire request, following `plan` (an agent's offline plan)."""
    from ai_content_agents.agents.offline import OfflineModel

    request = {k: v for k, v in body.items() if k != "stream"}
    return OfflineModel(plan).messages.create(**request).model_dump(mode="json", exclude_none=True)


def newsletter_model(top_n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A well-behaved model for `write_with_agents` over the wire: the editor's plan for the request with
    tools (the editor's TrendAgent), the writer's plan for the others (one section each)."""
    from ai_content_agents.agents.editor_offline import editor_plan
    from ai_content_agents.agents.writer_offline import section_plan

    editor = editor_plan(top_n)
    return lambda body: offline_reply(body, editor if body.get("tools") else section_plan)


def last_tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body["messages"][-1]["content"]
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


# --- loopback /v1/messages ------------------------------------------------------------------------
def sse_events(m: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    start = {**m, "content": [], "stop_reason": None, "usage": {**m["usage"], "output_tokens": 1}}
    yield "message_start", {"type": "message_start", "message": start}
    for i, block in enumerate(m["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}
            for j in range(0, len(block["text"]), 40):
                yield "content_block_delta", {"type": "content_block_delta", "index": i,
                                              "delta": {"type": "text_delta", "text": block["text"][j:j + 40]}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": i,
                                          "content_block": {**block, "input": {}}}
            yield "content_block_delta", {"type": "content_block_delta", "index": i,
                                          "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}}
        yield "content_block_stop", {"type": "content_block_stop", "index": i}
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": m["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": m["usage"]["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1:0 in a daemon thread, serving while its `with` block runs: the
    lifecycle every fake API here shares. Subclasses build their handler, then call `_serve_with`."""

    def _serve_with(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class FakeMessagesServer(LoopbackServer):
    """ThreadingHTTPServer on 127.0.0.1:0 answering POST /v1/messages (JSON or SSE) from `responder(body)`.

    Counts what it receives: requests, input characters (system + messages + tools) and auth headers seen."""

    def __init__(self, responder: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.responder = responder
        self.bodies: list[dict[str, Any]] = []
        self.input_chars = 0
        self.auth_headers: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["content-length"]))
                body = json.loads(raw)
                outer.bodies.append(body)
                outer.auth_headers.append(self.headers.get("authorization", ""))
                outer.input_chars += len(json.dumps({k: body.get(k) for k in ("system", "messages", "tools")},
                                                    ensure_ascii=False))
                if self.path.rstrip("/") != "/v1/messages":
                    return self._send(404, "application/json", b'{"type":"error","error":{"type":"not_found_error","message":"no"}}')
                m = outer.responder(body)
                if not body.get("stream"):
                    return self._send(200, "application/json", json.dumps(m).encode())
                frames = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in sse_events(m))
                return self._send(200, "text/event-stream", frames.encode())

            def _send(self, status: int, ctype: str, raw: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._serve_with(Handler)

    @property
    def input_tokens(self) -> int:
        return self.input_chars // 4


# --- a fake TikTok Shop client (only the methods the agent and approvals call) -----------------------
class FakeShop:
    def __init__(self, price: str = "20.00", stock: int = 100, *, today: date = date(2026, 11, 28),
                 latest: date | None = date(2026, 11, 27)) -> None:
        self.price = Decimal(price)
        self.stock = stock
        self.today, self.latest = today, latest  # the shop's date and its latest analytics day: fixed, not the clock
        self.writes: list[tuple[str, ...]] = []
        self.reads: list[str] = []
        self.windows: list[int] = []

    def _sku(self) -> SimpleNamespace:
        return SimpleNamespace(id="sku1", seller_sku="SLIDE-1",
                               price=SimpleNamespace(currency="USD", sale_price=self.price, amount=None, tax_exclusive_price=None),
                               inventory=[SimpleNamespace(warehouse_id="w1", quantity=self.stock)])

    def authorized_shops(self, refresh: bool = True) -> list[Any]:
        return [SimpleNamespace(id="shop1", name="Brand Shop", region="US")]

    def select_shop(self, id_or_name: str | None = None) -> Any:
        return self.authorized_shops()[0]

    def get_product(self, product_id: str) -> Any:
        self.reads.append(product_id)
        return SimpleNamespace(id=product_id, title="Cloud slides", status="ACTIVATE", skus=[self._sku()])

    def search_products(self, **kw: Any) -> list[Any]:
        return [self.get_product("p1")]

    def search_inventory(self, *, product_ids: list[str] | None = None, sku_ids: list[str] | None = None) -> list[Any]:
        return []

    def search_orders(self, **kw: Any) -> list[Any]:
        return []

    def analytics_window(self, days: int) -> AnalyticsWindow:
        self.windows.append(days)
        return analytics_window(days, self.today, self.latest, "America/Los_Angeles")

    def shop_performance(self, start: Any, end: Any, **kw: Any) -> Any:
        interval = SimpleNamespace(start_date=start, end_date=end, gmv=SimpleNamespace(amount=Decimal("1234.50"), currency="USD"),
                                   orders=42, units_sold=50, buyers=40, product_page_views=900)
        return SimpleNamespace(latest_available_date=self.latest, performance=SimpleNamespace(intervals=[interval]))

    def product_performance_list(self, start: Any, end: Any, **kw: Any) -> list[Any]:
        return [SimpleNamespace(id="p1", gmv=SimpleNamespace(amount=Decimal("800"), currency="USD"), orders=30, units_sold=33)]

    def video_performance_list(self, start: Any, end: Any, **kw: Any) -> list[Any]:
        return []

    def update_price(self, product_id: str, sku_id: str, amount: Decimal, currency: str) -> Any:
        self.writes.append(("price", product_id, sku_id, str(amount), currency))
        self.price = amount
        return SimpleNamespace(errors=[], warnings=[])

    def update_inventory(self, product_id: str, sku_id: str, quantity: int, warehouse_id: str | None = None) -> Any:
        self.writes.append(("inventory", product_id, sku_id, str(quantity)))
        self.stock = quantity
        return SimpleNamespace(errors=[], warnings=[])
