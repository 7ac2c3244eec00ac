"""Canary secrets never come back out: every loopback fake echoes the request it got (URL with its query,
every header, the body; whole and cut short) in every error path, and the whole main job runs against them.

Then stdout, stderr, the log, every file in the data directory (SQLite and its WAL included) and every file
in out/ are scanned for each canary in each encoding it could travel in: raw, URL-encoded, base64 of itself
and of `id:secret` (Reddit's Basic auth), and any 12-character fragment of those.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus, urlencode

import pytest
from pydantic import SecretStr
from sources.fakes import FakeServer, Request, Response, apify_run
from typer.testing import CliRunner

from ai_content_agents.cli import app
from ai_content_agents.integrations.tiktok_shop.auth import TokenSet, TokenStore

APIFY = "apify_api_CANARYapifyTok3n-q1w2e3r4"
REDDIT_ID = "cid-CANARY-public"
REDDIT_SECRET = "CANARYredditSecret24chrs"  # 24 characters, like the one the fault suite saw half-decoded
REDDIT_ACCESS = "RDTacc-CANARY-Tok99xyzab"
YOUTUBE = "AIzaCANARYyoutubeKey0123456789xyz"
ANTHROPIC = "sk-ant-CANARYanthropic-9f8e7d6c5b4a"
SHOP_SECRET = "CANARYshopAppSecret0123"
SHOP_ACCESS = "ACC_CANARYshopAccess0123"
SHOP_REFRESH = "REF_CANARYshopRefresh0123"
CANARIES = [APIFY, REDDIT_SECRET, REDDIT_ACCESS, YOUTUBE, ANTHROPIC, SHOP_SECRET, SHOP_ACCESS, SHOP_REFRESH]
FRAGMENT = 12

MODES = ["400", "401", "403", "404", "429-long", "500", "html", "garbage", "content"]
runner = CliRunner()


def forms(secret: str) -> list[tuple[str, int]]:
    """(encoded form, where the secret's own characters start in it). Written here independently of
    ai_content_agents.redact, so the test checks it rather than mirrors it."""
    out = [(secret, 0), (quote(secret, safe=""), 0), (quote_plus(secret), 0)]
    public = 4 * (len(f"{REDDIT_ID}:") // 3)  # base64 characters that encode only the public id
    pairs = [(f"{REDDIT_ID}:{secret}".encode(), public)] if secret == REDDIT_SECRET else []
    for raw, start in ((secret.encode(), 0), *pairs):
        for enc in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            out += [(enc, start), (enc.rstrip("="), start)]
    return out


def fragments(secret: str) -> set[str]:
    """Every FRAGMENT-long piece of every form that carries part of the secret."""
    return {form[i : i + FRAGMENT] for form, start in forms(secret) for i in range(start, len(form) - FRAGMENT + 1)}


ALL_FRAGMENTS = {g: s for s in CANARIES for g in fragments(s)}


def leaks(text: str) -> set[str]:
    return {secret for gram, secret in ALL_FRAGMENTS.items() if gram in text}


SECRET_HEADERS = ("authorization", "x-api-key", "x-tts-access-token")
SECRET_PARAMS = ("key", "app_secret", "refresh_token", "access_token", "token")


def echo(req: Request) -> str:
    """The request as a server that echoes it would: credentials first (so a reason cut at 80 characters
    still holds them), then the URL with its query, every header and the body."""
    creds = " ".join([req.headers[h] for h in SECRET_HEADERS if h in req.headers]
                     + [f"{p}={req.query[p]}" for p in SECRET_PARAMS if p in req.query])
    query = urlencode(req.query)
    headers = json.dumps(req.headers)
    return f"{creds} {req.method} {req.path}?{query} headers={headers} body={req.body.decode('utf-8', 'replace')}"


def cut(text: str) -> str:
    """How servers echo: whole, and cut at lengths that split a secret."""
    return f"{text} | {text[:30]} | {text[:80]}"


def handler(mode: str):  # type: ignore[no-untyped-def]  # noqa: C901 - one fake answer per failure mode
    status = {"400": 400, "401": 401, "403": 403, "404": 404, "429-long": 429, "500": 500}.get(mode, 200)
    retry = {"Retry-After": "3600"} if mode == "429-long" else {}

    def error(req: Request, body: object) -> Response:
        if mode == "html":
            return Response(200, f"<html><body>{cut(echo(req))}</body></html>")
        if mode == "garbage":
            return Response(200, [cut(echo(req)), {"weird": cut(echo(req))}])
        return Response(status, body, {**retry, "request-id": req.headers.get("x-api-key", "r1"),
                                       "x-request-id": req.headers.get("authorization", "r2")})

    def handle(req: Request) -> Response:  # noqa: C901 - one fake endpoint per branch
        said = cut(echo(req))
        path = req.path
        if path.startswith("/v1/messages"):  # Anthropic: every mode is an error (content mode: overloaded)
            body = {"type": "error", "error": {"type": "api_error", "message": said}}
            if mode == "content":
                return Response(529, body, {"request-id": req.headers.get("x-api-key", "")})
            return error(req, body)
        if path.startswith(("/authorization/", "/api/v2/token", "/analytics/", "/product/")):  # TikTok Shop
            code = 105002 if mode in ("401", "content") else 36009004  # 105002: refresh (app_secret in the URL)
            return Response(200 if mode != "500" else 500, {
                "code": code, "message": said, "request_id": req.headers.get("x-tts-access-token") or req.query.get("app_secret", "")})
        if path.startswith("/v2/"):  # Apify
            if mode != "content":
                return error(req, {"error": {"type": "token-not-valid", "message": said}})
            if req.method == "POST":
                return Response(201, {"data": apify_run("RUNNING")})
            if path.startswith("/v2/actor-runs/"):
                return Response(200, {"data": apify_run("SUCCEEDED")})
            if path.endswith("/items"):
                offset = int(req.query.get("offset") or 0)
                rows = [] if offset else [{"id": "7300000000000000001", "text": said, "playCount": 5,
                                           "webVideoUrl": "https://www.tiktok.com/@a/video/7300000000000000001",
                                           "name": said, "asin": "B0CANARY01", "url": "https://www.amazon.com/dp/B0CANARY01",
                                           "type": "tweet", "fullText": said, "author": {"userName": said}}]
                return Response(200, rows, {"x-apify-pagination-total": str(len(rows)), "x-apify-pagination-offset": "0",
                                            "x-apify-pagination-count": str(len(rows)), "x-apify-pagination-limit": "250",
                                            "x-apify-pagination-desc": "false"})
        if path == "/api/v1/access_token":  # Reddit's token call: fails (with the Basic header) in 400/401
            if mode in ("400", "401"):
                return Response(status, {"message": said, "error": said})
            return Response(200, {"access_token": REDDIT_ACCESS, "token_type": "bearer", "expires_in": 3600})
        if path.startswith("/r/"):
            if mode != "content":
                return error(req, {"message": said, "error": said})
            post = {"kind": "t3", "data": {"id": "abc123", "title": said, "selftext": said, "score": 50,
                                           "subreddit": "shopify", "created_utc": 1_790_000_000}}
            return Response(200, {"kind": "Listing", "data": {"children": [post]}})
        if path.startswith("/youtube/"):
            if mode != "content":
                return error(req, {"error": {"code": status, "message": said, "errors": [{"reason": said}], "status": said}})
            if path.endswith("/search"):
                return Response(200, {"items": [{"id": {"videoId": "vidCANARY01"}}]})
            if path.endswith("/videos"):
                return Response(200, {"items": [{"id": "vidCANARY01", "snippet": {"title": said, "description": said,
                                                 "channelId": "UC1", "channelTitle": said},
                                                 "statistics": {"viewCount": "5000"}, "contentDetails": {"duration": "PT30S"}}]})
            return error(req, {"error": {"message": said, "errors": [{"reason": said}]}})
        return Response(404, {"error": {"message": said}})

    return handle


def _env(monkeypatch: pytest.MonkeyPatch, url: str, data: Path, out: Path) -> None:
    env = {
        "APIFY_TOKEN": APIFY, "REDDIT_CLIENT_ID": REDDIT_ID, "REDDIT_CLIENT_SECRET": REDDIT_SECRET,
        "YOUTUBE_API_KEY": YOUTUBE, "ANTHROPIC_API_KEY": ANTHROPIC, "ANTHROPIC_BASE_URL": url,
        "TIKTOK_SHOP_APP_KEY": "shop-app-key", "TIKTOK_SHOP_APP_SECRET": SHOP_SECRET,
        "AICA_DATA_DIR": str(data), "AICA_OUT_DIR": str(out),
        "AICA_APIFY_API_URL": url, "AICA_REDDIT_AUTH_URL": url + "/api/v1/access_token", "AICA_REDDIT_API_URL": url,
        "AICA_REDDIT_PUBLIC_URL": url, "AICA_YOUTUBE_API_URL": url + "/youtube/v3",
        "AICA_TIKTOK_SHOP_API_BASE": url, "AICA_TIKTOK_SHOP_AUTH_BASE": url,
        "AICA_HTTP_RETRIES": "0", "AICA_APIFY_MAX_RETRIES": "0", "AICA_TIKTOK_SHOP_MAX_RETRIES": "0",
        "AICA_HTTP_TIMEOUT_S": "5", "AICA_HTTP_RETRY_MAX_WAIT_S": "0.01",
        "AICA_TIKTOK_HASHTAGS": "canary", "AICA_AMAZON_CATEGORY_URLS": "https://www.amazon.com/gp/movers-and-shakers/beauty/",
        "AICA_X_SEARCH_TERMS": "canary", "AICA_REDDIT_SUBREDDITS": "shopify,ecommerce", "AICA_YOUTUBE_QUERIES": "canary",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    now = datetime.now(UTC)
    TokenStore.in_data_dir(data).save(TokenSet(
        access_token=SecretStr(SHOP_ACCESS), access_expires_at=now + timedelta(days=5),
        refresh_token=SecretStr(SHOP_REFRESH), refresh_expires_at=now + timedelta(days=300),
    ))


def _files(root: Path) -> dict[str, str]:
    return {str(p): p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("mode", MODES)
def test_no_canary_leaves_in_any_encoding(mode, tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    data, out = tmp_path / "data", tmp_path / "out"
    with FakeServer(handler(mode)) as fake:
        _env(monkeypatch, fake.url, data, out)
        result = runner.invoke(app, ["newsletter"])
    assert fake.requests, "the fakes were never asked"
    said = {"stdout": result.stdout, "stderr": result.stderr, "log": caplog.text}
    token_file = str(TokenStore.in_data_dir(data).path)
    said |= {path: text for path, text in {**_files(data), **_files(out)}.items() if path != token_file}
    found = {where: sorted(leaks(text)) for where, text in said.items() if leaks(text)}
    assert not found, f"{mode}: canaries leaked: {found}"
    assert "Traceback" not in result.output
    # the run did something visible: the sources said why they failed (or the copy was written)
    assert "reddit" in result.stdout and result.exit_code in (0, 1, 2, 3), result.output


def test_the_scan_would_see_a_leak(tmp_path) -> None:  # the scanner itself is not blind
    pair = base64.b64encode(f"{REDDIT_ID}:{REDDIT_SECRET}".encode()).decode()
    assert leaks(f"Authorization: Basic {pair[:45]}") == {REDDIT_SECRET}  # 19 of 24 characters
    assert leaks(quote(YOUTUBE)) == {YOUTUBE} and leaks(SHOP_ACCESS[:13]) == {SHOP_ACCESS}
    assert not leaks(base64.b64encode(f"{REDDIT_ID}:".encode()).decode())
