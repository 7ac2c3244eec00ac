"""Gather wall time vs the slowest source, parallel and sequential, on simulated latencies.

Five stand-in sources sleep for fixed latencies, then return one parsed item each; the real
pipeline code (threads, deadlines, store writes, ranking) runs around them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from ai_content_agents import pipeline
from ai_content_agents.config import Settings
from ai_content_agents.models import FetchResult, Observation, Parsed, Signals, TrendItem
from ai_content_agents.store import Store

LATENCIES = {"tiktok": 0.6, "amazon": 0.9, "x": 0.4, "reddit": 0.7, "youtube": 1.2}


def _fake(name: str, latency: float) -> SimpleNamespace:
    def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
        time.sleep(latency)
        return FetchResult(raw_items=[{"id": f"{name}-{i}", "v": 100 + i} for i in range(20)])

    def parse(raw: list[dict], observed_at: datetime | None = None) -> Parsed:
        at = observed_at or datetime.now(UTC)
        return Parsed(
            [
                TrendItem(
                    source=name, source_id=r["id"], title=f"{name} product {r['id']}", url=f"https://example.com/{r['id']}",
                    metrics={"v": r["v"]}, observed_at=at,
                )
                for r in raw
            ]
        )

    def score(items: list[TrendItem], history: Mapping[str, list[Observation]]) -> list[TrendItem]:
        for i, it in enumerate(items):
            it.signals = Signals(metric="v", value=it.metrics["v"], s=float(i))
        return items

    return SimpleNamespace(NAME=name, not_configured=lambda s: None, fetch=fetch, parse=parse, score=score)


def _time(sequential: bool, settings: Settings, store: Store) -> float:
    started = time.perf_counter()
    report = pipeline.gather(settings, store, sources=list(LATENCIES), mode="live", sequential=sequential)
    assert all(s.status == "ok" for s in report.sources), report.sources
    return time.perf_counter() - started


def run() -> dict[str, float]:
    fakes = {n: _fake(n, lat) for n, lat in LATENCIES.items()}
    original = pipeline.load
    pipeline.load = lambda name: fakes[name]  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp), _env_file=None)
            store = Store(settings.db_path)
            slowest = max(LATENCIES.values())
            parallel = min(_time(False, settings, store) for _ in range(3))
            sequential = _time(True, settings, store)
            store.close()
    finally:
        pipeline.load = original  # type: ignore[assignment]
    return {
        "gather_parallel_over_slowest": round(parallel / slowest, 3),
        "gather_sequential_over_slowest": round(sequential / slowest, 3),
    }
