"""The store's numbered migrations (`PRAGMA user_version`, store.MIGRATIONS).

tests/data/store_before_migrations.sqlite3 was written by the code before migrations existed (every table
made by `CREATE TABLE IF NOT EXISTS`, user_version 0): a run's observations, source cache, featured history,
usage, a stored run, a synced shop product/order/cursor, a proposal and an audit row. Never edit it.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ai_content_agents import runs, store as store_mod
from ai_content_agents.agents.proposals import ProposalStore
from ai_content_agents.integrations.tiktok_shop.sync import product_titles
from ai_content_agents.store import MIGRATIONS, Store, StoreError

STORED_AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # when the fixture's run was stored
FIXTURE = Path(__file__).parent.parent / "data" / "store_before_migrations.sqlite3"


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def _columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


FIXTURE_COLUMNS: dict[str, list[str]] = {}  # table -> its columns in the fixture (later migrations may add columns, never drop data)


def _dump(path: Path, table: str) -> list[tuple]:
    cols = FIXTURE_COLUMNS.setdefault(table, _columns(FIXTURE, table))
    with sqlite3.connect(path) as db:
        return sorted(db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)


def test_a_store_from_before_migrations_migrates_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    before = _counts(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 0
    assert before["observations"] and before["shop_proposals"] and before["stored_runs"]  # the fixture is not empty
    rows_before = {t: _dump(path, t) for t in before}

    s = Store(path)
    assert s.query("PRAGMA user_version")[0][0] == len(MIGRATIONS)
    # every row is still there, unchanged, and the code reads it back
    assert {t: _dump(path, t) for t in before} == rows_before
    assert len(s.history("tiktok", [r[2] for r in rows_before["observations"] if r[1] == "tiktok"])) > 0
    assert runs.latest(s, max_age_h=24, now=STORED_AT + timedelta(hours=1)) is not None
    assert [p.id for p in ProposalStore(s).list()] == [1]
    assert product_titles(s, "shop1", ["p1"]) == {"p1": "Heatless Curling Ribbon"}
    s.close()
    assert {t: n for t, n in _counts(path).items() if t in before} == before  # no row lost or doubled
    Store(path).close()
    assert {t: _dump(path, t) for t in before} == rows_before


def test_a_new_store_has_every_table_and_the_latest_version(tmp_path: Path) -> None:
    s = Store(tmp_path / "new.sqlite3")
    tables = {r[0] for r in s.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables >= set(_counts(FIXTURE)) - {"sqlite_sequence"}
    assert s.query("PRAGMA user_version")[0][0] == len(MIGRATIONS)


def test_a_sync_cursor_from_before_windows_gains_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "older.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE shop_sync_state (shop_id TEXT NOT NULL, kind TEXT NOT NULL, watermark INTEGER NOT NULL"
                   " DEFAULT 0, run_ge INTEGER, run_started INTEGER, run_high INTEGER, page_token TEXT,"
                   " pages_done INTEGER NOT NULL DEFAULT 0, last_completed_at TEXT, PRIMARY KEY (shop_id, kind))")
        db.execute("INSERT INTO shop_sync_state (shop_id, kind, watermark) VALUES ('s', 'orders', 42)")
    s = Store(path)
    cols = {r["name"] for r in s.query("PRAGMA table_info(shop_sync_state)")}
    assert {"run_le", "run_end"} <= cols
    assert s.query("SELECT watermark FROM shop_sync_state")[0][0] == 42


def test_a_failing_migration_leaves_the_file_at_the_last_good_version(tmp_path: Path, monkeypatch) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(store_mod, "MIGRATIONS", [*MIGRATIONS, broken])
    path = tmp_path / "s.sqlite3"
    with pytest.raises(RuntimeError, match="boom"):
        Store(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchall()


def test_a_store_from_a_newer_version_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer") as exc:
        Store(path)
    assert "\n" not in str(exc.value)
