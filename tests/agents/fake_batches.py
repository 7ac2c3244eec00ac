"""A loopback fake of the Message Batches endpoints (and of ordinary /v1/messages calls) on 127.0.0.1:0.

POST /v1/messages/batches creates a batch; GET /v1/messages/batches/{id} reports it in progress for
`polls_to_end` retrievals, then ended with a results_url; GET .../results streams JSONL, one line per request, with
the status `outcome(custom_id)` chooses (succeeded / errored / expired / canceled). Replies come from `responder`
(by default the offline model, so they pass the fact-check) with the usage a real server would report.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.agents.writer_offline import section_plan

from .fakes import LoopbackServer

CREATED = "2026-11-20T09:00:00Z"  # fixed: nothing here reads the real date
EXPIRES = "2026-11-21T09:00:00Z"


def offline_reply(params: dict[str, Any]) -> dict[str, Any]:
    """What a server would answer: the offline model's copy, priced with usage from the request's size."""
    msg = OfflineModel().with_plan(section_plan).messages.create(**params).model_dump(mode="json")
    out_chars = sum(len(b.get("text") or "") for b in msg["content"])
    in_chars = len(json.dumps({k: params.get(k) for k in ("system", "messages")}, ensure_ascii=False))
    return {**msg, "id": "msg_fake", "model": params["model"],
            "usage": {"input_tokens": in_chars // 4, "output_tokens": max(1, out_chars // 4),
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


class FakeBatchServer(LoopbackServer):
    def __init__(
        self,
        *,
        polls_to_end: int = 2,
        outcome: Callable[[str], str] = lambda custom_id: "succeeded",
        responder: Callable[[dict[str, Any]], dict[str, Any]] = offline_reply,
        batch_responder: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
        call_delay_s: float = 0.0,
        create_error: tuple[int, dict[str, Any]] | None = None,
        error_message: str = "Overloaded",
    ) -> None:
        self.polls_to_end, self.outcome, self.responder = polls_to_end, outcome, responder
        self.batch_responder = batch_responder or (lambda custom_id, params: responder(params))
        self.call_delay_s, self.create_error, self.error_message = call_delay_s, create_error, error_message
        self.batches: dict[str, list[dict[str, Any]]] = {}
        self.creates = self.retrieves = self.result_reads = 0
        self.calls: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.polls: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                if self.path == "/v1/messages/batches":
                    return outer._create(self, body)
                if self.path == "/v1/messages":
                    return outer._call(self, body)
                return outer._send(self, 404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}})

            def do_GET(self) -> None:  # noqa: N802
                m = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results)?", self.path)
                if not m or m.group(1) not in outer.batches:
                    return outer._send(self, 404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}})
                if m.group(2):
                    return outer._results(self, m.group(1))
                return outer._retrieve(self, m.group(1))

        self._serve_with(Handler)

    # --- endpoints ---------------------------------------------------------------------------
    def _batch(self, batch_id: str) -> dict[str, Any]:
        requests = self.batches[batch_id]
        ended = self.polls[batch_id] >= self.polls_to_end
        counts = {"processing": 0 if ended else len(requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            for r in requests:
                counts[self.outcome(r["custom_id"])] += 1
        return {"id": batch_id, "type": "message_batch", "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": CREATED, "expires_at": EXPIRES,
                "ended_at": EXPIRES if ended else None,
                "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results" if ended else None}

    def _create(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self.lock:
            self.creates += 1
            if self.create_error is not None:
                return self._send(handler, *self.create_error)
            batch_id = f"msgbatch_{len(self.batches) + 1:04d}"
            self.batches[batch_id] = body["requests"]
            self.polls[batch_id] = 0
            state = self._batch(batch_id)
        self._send(handler, 200, state)

    def _retrieve(self, handler: BaseHTTPRequestHandler, batch_id: str) -> None:
        with self.lock:
            self.retrieves += 1
            self.polls[batch_id] += 1
            state = self._batch(batch_id)
        self._send(handler, 200, state)

    def _results(self, handler: BaseHTTPRequestHandler, batch_id: str) -> None:
        self.result_reads += 1
        lines = []
        for r in self.batches[batch_id]:
            status = self.outcome(r["custom_id"])
            if status == "succeeded":
                result: dict[str, Any] = {"type": "succeeded", "message": self.batch_responder(r["custom_id"], r["params"])}
            elif status == "errored":
                result = {"type": "errored", "error": {"type": "error", "error": {"type": "overloaded_error",
                                                                                   "message": self.error_message}}}
            else:
                result = {"type": status}
            lines.append(json.dumps({"custom_id": r["custom_id"], "result": result}))
        raw = ("\n".join(reversed(lines)) + "\n").encode()  # results come in any order
        handler.send_response(200)
        handler.send_header("content-type", "application/binary")
        handler.send_header("content-length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _call(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.call_delay_s:
                time.sleep(self.call_delay_s)
            reply = self.responder(body)
        finally:
            with self.lock:
                self.in_flight -= 1
        self._send(handler, 200, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(raw)))
        if status >= 400:
            handler.send_header("x-should-retry", "false")
        handler.end_headers()
        handler.wfile.write(raw)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [r for reqs in self.batches.values() for r in reqs]
