"""Loopback fake servers for the services the sources talk to (Apify, Reddit, YouTube).

Each fake is a ThreadingHTTPServer on 127.0.0.1:0 in a daemon thread. A `handler` callable decides
every response, and every request is recorded so tests can assert on what the client sent.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → sent as-is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Handler = Callable[[Request], Response]


class FakeServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        fake = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding") == "gzip" and body:
                    body = gzip.decompress(body)
                req = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                fake.requests.append(req)
                resp = fake.handler(req)
                if resp.delay_s:
                    time.sleep(resp.delay_s)
                if isinstance(resp.body, bytes):
                    payload, ctype = resp.body, "application/octet-stream"
                elif isinstance(resp.body, str):
                    payload, ctype = resp.body.encode(), "text/html; charset=utf-8"
                else:
                    payload, ctype = json.dumps(resp.body).encode(), "application/json; charset=utf-8"
                try:
                    self.send_response(resp.status)
                    headers = {"Content-Type": ctype, **resp.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.server.daemon_threads = True
        self.server.handle_error = self._handle_error  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a body it would not read, a deadline) is not an error of the fake; anything
        else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        ThreadingHTTPServer.handle_error(self.server, request, client_address)  # type: ignore[arg-type]

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Apify -------------------------------------------------------------------------------


def apify_run(status: str, run_id: str = "fakeRun0001", dataset_id: str = "fakeDataset01", message: str = "") -> dict:
    """A run object with every field apify-client 3.x's `Run` model requires."""
    return {
        "id": run_id,
        "actId": "fakeActor0001",
        "userId": "fakeUser00001",
        "startedAt": "2026-11-20T09:00:00.000Z",
        "finishedAt": None if status in ("READY", "RUNNING") else "2026-11-20T09:04:00.000Z",
        "status": status,
        "statusMessage": message or None,
        "meta": {"origin": "API"},
        "stats": {},
        "options": {"build": "latest", "timeoutSecs": 300, "memoryMbytes": 1024, "diskMbytes": 2048},
        "buildId": "fakeBuild0001",
        "defaultKeyValueStoreId": "fakeKvStore01",
        "defaultDatasetId": dataset_id,
        "defaultRequestQueueId": "fakeQueue0001",
        "usageTotalUsd": 0.0123,
    }


def apify_handler(
    final_status: str = "SUCCEEDED",
    items: list[dict] | None = None,
    *,
    message: str = "",
    fail_with: Response | None = None,
) -> Handler:
    """POST /v2/actors/<id>/runs → RUNNING; GET /v2/actor-runs/<id> → final status; GET dataset items (paged)."""
    rows = items or []

    def handle(req: Request) -> Response:
        if fail_with is not None:
            return fail_with
        if req.method == "POST" and req.path.startswith("/v2/actors/") and req.path.endswith("/runs"):
            return Response(201, {"data": apify_run("RUNNING")})
        if req.method == "GET" and req.path.startswith("/v2/actor-runs/"):
            return Response(200, {"data": apify_run(final_status, message=message)})
        if req.method == "GET" and req.path.startswith("/v2/datasets/") and req.path.endswith("/items"):
            offset = int(req.query.get("offset") or 0)
            limit = int(req.query.get("limit") or 1000) or 1000
            page = rows[offset : offset + limit]
            headers = {
                "x-apify-pagination-total": str(len(rows)),
                "x-apify-pagination-offset": str(offset),
                "x-apify-pagination-count": str(len(page)),
                "x-apify-pagination-limit": str(limit),
                "x-apify-pagination-desc": "false",
            }
            return Response(200, page, headers)
        return Response(404, {"error": {"type": "record-not-found", "message": "not found"}})

    return handle
