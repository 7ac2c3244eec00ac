"""Benchmark: full product sync against the fake TikTok Shop (200 ms latency, 20 QPS limit).

Search pages are followed in order (each token comes from the previous page); product details run
concurrently, paced by the client's token bucket. A sequential client in the same run shows what one
request per round trip achieves (~1 / latency = 5 rps = 0.25 of the limit).

Figures:
- shop_sync_rate_over_limit: requests the sync made / its wall time / 20 (target >= 0.9)
- shop_sync_sequential_rate_over_limit: same for a sequential client (expected ~0.25)
- shop_sync_products: how many products the run synced (AICA_BENCH_SHOP_PRODUCTS, default 2000;
  the full 2,000-product run takes ~110 s at 20 QPS)
- shop_sync_throttled: 429s the fake had to send (0 expected: the client stays under the limit)
- shop_sync_25k_*: a full sync of a catalogue beyond the 10,000-result search cap
  (AICA_BENCH_SHOP_BIG products, default 25,000; search pages only, no details, so it measures the
  update_time windows; same 20 QPS limit, AICA_BENCH_SHOP_BIG_LATENCY s per reply, default 0.05):
  _completed (1 if every product was stored once), _products, _requests (pages + window probes),
  _splits (windows halved), _wall_s, _throttled
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

from ai_content_agents.config import Settings
from ai_content_agents.integrations.tiktok_shop.client import RetryPolicy, TikTokShopClient
from ai_content_agents.integrations.tiktok_shop.ratelimit import GroupLimit, RateLimiter
from ai_content_agents.integrations.tiktok_shop.sync import sync_products
from ai_content_agents.store import Store

LIMIT_QPS = 20
LATENCY_S = 0.2
CLIENT_RATE = 19.0  # a hair under the server's limit: a strict 1-s window punishes arrival jitter
SEQUENTIAL_REQUESTS = 30


def _fake_module():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[1] / "tests" / "shop" / "fake_server.py"
    spec = importlib.util.spec_from_file_location("tts_fake_server", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _client(fake, data_dir: Path) -> TikTokShopClient:  # type: ignore[no-untyped-def]
    s = Settings(
        _env_file=None, data_dir=data_dir, tiktok_shop_app_key=fake.app_key, tiktok_shop_app_secret=fake.app_secret,
        tiktok_shop_api_base=fake.url, tiktok_shop_auth_base=fake.url, tiktok_shop_refresh_margin_s=0,
    )
    limiter = RateLimiter({"default": GroupLimit(CLIENT_RATE, 1), "analytics": GroupLimit(CLIENT_RATE, 1)})
    c = TikTokShopClient.from_settings(s, require_token=False, limiter=limiter,
                                       retry=RetryPolicy(max_retries=5, base_s=0.5, cap_s=5))
    if c.tokens.store.load() is None:
        fake.auth_codes.add("bench-code")
        c.tokens.save(c.tokens.auth.exchange_code("bench-code"))
    c.select_shop()
    return c


def run() -> dict[str, float]:
    n = int(os.environ.get("AICA_BENCH_SHOP_PRODUCTS", "2000"))
    fake_mod = _fake_module()
    with tempfile.TemporaryDirectory() as tmp, fake_mod.FakeShop(qps=LIMIT_QPS, latency=LATENCY_S, n_products=n) as fake:
        data = Path(tmp)
        client = _client(fake, data)
        store = Store(data / "bench.sqlite3")
        time.sleep(1.1)  # let the fake's 1-s window forget the setup calls
        before = len(fake.records)
        t0 = time.monotonic()
        report = sync_products(client, store, page_size=100)
        elapsed = time.monotonic() - t0
        made = len(fake.records) - before
        assert report.inserted == n, report
        throttled = sum(1 for r in fake.records[before:] if r.status == 429)

        seq = _client(fake, data)
        time.sleep(1.1)
        ids = list(fake.products)[:SEQUENTIAL_REQUESTS]
        t1 = time.monotonic()
        for pid in ids:
            seq.get_product(pid)
        seq_elapsed = time.monotonic() - t1
        store.close()
    big = _big_catalogue(fake_mod)
    return {
        **big,
        "shop_sync_rate_over_limit": round(made / elapsed / LIMIT_QPS, 4),
        "shop_sync_sequential_rate_over_limit": round(len(ids) / seq_elapsed / LIMIT_QPS, 4),
        "shop_sync_products": float(n),
        "shop_sync_throttled": float(throttled),
    }


def _big_catalogue(fake_mod) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """25,000 products: more than one search can return, so the sync must walk update_time windows."""
    n = int(os.environ.get("AICA_BENCH_SHOP_BIG", "25000"))
    latency = float(os.environ.get("AICA_BENCH_SHOP_BIG_LATENCY", "0.05"))
    with tempfile.TemporaryDirectory() as tmp, fake_mod.FakeShop(qps=LIMIT_QPS, latency=latency, n_products=n) as fake:
        data = Path(tmp)
        client = _client(fake, data)
        store = Store(data / "bench.sqlite3")
        time.sleep(1.1)
        before = len(fake.records)
        t0 = time.monotonic()
        try:
            report = sync_products(client, store, details=False, page_size=100)
            error = None
        except Exception as exc:  # noqa: BLE001 - the figure says it did not complete
            report, error = None, exc
        elapsed = time.monotonic() - t0
        made = len(fake.records) - before
        throttled = sum(1 for r in fake.records[before:] if r.status == 429)
        stored = store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT product_id) AS d FROM shop_products")[0]
        store.close()
    completed = error is None and stored["n"] == stored["d"] == n
    if error is not None:
        print(f"[bench] 25k sync failed: {type(error).__name__}: {error}", file=sys.stderr)
    return {
        "shop_sync_25k_completed": 1.0 if completed else 0.0,
        "shop_sync_25k_products": float(stored["d"]),
        "shop_sync_25k_requests": float(made),
        "shop_sync_25k_splits": float(report.splits if report else 0),
        "shop_sync_25k_wall_s": round(elapsed, 2),
        "shop_sync_25k_throttled": float(throttled),
    }


if __name__ == "__main__":
    print(run())
