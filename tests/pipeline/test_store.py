"""The store keeps history across runs, never duplicates a replayed snapshot, and writes atomically."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from ai_content_agents.models import TrendItem
from ai_content_agents.store import Store, featured_since

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def item(source_id: str, at: datetime, **metrics: float) -> TrendItem:
    return TrendItem(
        source="amazon", source_id=source_id, title=f"Product {source_id}", url=f"https://www.amazon.com/dp/{source_id}",
        group="https://www.amazon.com/gp/movers-and-shakers/beauty/", metrics=metrics, observed_at=at,
    )


def test_history_is_ordered_and_replays_do_not_duplicate(store: Store) -> None:
    assert store.add_observations("r1", [item("B0A", T0, position=40), item("B0B", T0, position=3)]) == 2
    assert store.add_observations("r1-replay", [item("B0A", T0, position=40)]) == 0
    store.add_observations("r2", [item("B0A", T0 + timedelta(days=1), position=12)])
    hist = store.history("amazon", ["B0A", "B0B", "B0C"])
    assert [o.metrics["position"] for o in hist["B0A"]] == [40, 12]
    assert "B0C" not in hist
    before = store.history("amazon", ["B0A"], before=T0 + timedelta(hours=1))
    assert [o.run_id for o in before["B0A"]] == ["r1"]


def test_history_handles_more_ids_than_one_sql_statement_takes(store: Store) -> None:
    ids = [f"B{i:09d}" for i in range(1200)]
    store.add_observations("r1", [item(i, T0, position=1) for i in ids])
    assert len(store.history("amazon", ids)) == 1200


def test_source_cache_round_trips_items(store: Store) -> None:
    items = [item("B0A", T0, position=4)]
    store.save_source_cache("amazon", "r1", T0, items)
    fetched_at, loaded = store.load_source_cache("amazon")  # type: ignore[misc]
    assert fetched_at == T0 and loaded[0].source_id == "B0A" and loaded[0].metrics == {"position": 4}
    assert store.load_source_cache("reddit") is None


def test_featured_within_lookback(store: Store) -> None:
    now = T0 + timedelta(days=30)
    store.mark_featured("issue-old", [("asin:B0OLD", 0.9)], T0)
    store.mark_featured("issue-new", [("asin:B0NEW", 0.8)], now - timedelta(days=3))
    recent = store.recently_featured(featured_since(28, now))
    assert set(recent) == {"asin:B0NEW"} and recent["asin:B0NEW"][1:] == (0.8, "issue-new")


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        db.execute(
            "INSERT INTO observations (run_id, source, source_id, metrics, observed_at) VALUES ('r', 'x', '1', '{}', 't')"
        )
        raise RuntimeError("crash mid-write")
    assert store.query("SELECT COUNT(*) AS n FROM observations")[0]["n"] == 0


def test_file_is_wal_and_survives_reopen(settings) -> None:  # type: ignore[no-untyped-def]
    s = Store(settings.db_path)
    s.add_observations("r1", [item("B0A", T0, position=1)])
    s.close()  # no explicit commit anywhere: every write is already durable
    raw = sqlite3.connect(settings.db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 1
    raw.close()
