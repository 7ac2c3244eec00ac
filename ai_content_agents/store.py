"""The SQLite store: one file in the data dir, WAL mode, every write committed as it happens.

It keeps what must survive a run: each run, every observation (for velocity and history), the
last good result per source (the stale fallback), which trends were featured in which issue,
and model usage. Other modules (the TikTok Shop sync, proposals) add their own tables through
`ensure_schema`, on the same file and connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .models import GatherReport, Observation, TrendItem

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    sample      INTEGER NOT NULL DEFAULT 0,
    report_json TEXT
);
CREATE TABLE IF NOT EXISTS observations (
    run_id      TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    group_key   TEXT,
    title       TEXT NOT NULL DEFAULT '',
    metrics     TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    UNIQUE (source, source_id, observed_at)
);
CREATE INDEX IF NOT EXISTS observations_item ON observations (source, source_id, observed_at);
CREATE TABLE IF NOT EXISTS source_cache (
    source     TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    items_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS featured (
    key         TEXT NOT NULL,
    issue_id    TEXT NOT NULL,
    featured_at TEXT NOT NULL,
    score       REAL NOT NULL,
    PRIMARY KEY (key, issue_id)
);
CREATE TABLE IF NOT EXISTS usage (
    run_id       TEXT NOT NULL,
    agent        TEXT NOT NULL,
    model        TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd     REAL NOT NULL DEFAULT 0,
    recorded_at  TEXT NOT NULL
);
"""


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Store:
    """A thread-safe handle on the project's SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self.ensure_schema(_SCHEMA)

    # --- plumbing ----------------------------------------------------------------------
    def ensure_schema(self, sql: str) -> None:
        with self._lock:
            self._conn.executescript(sql)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: all of it lands or none of it does."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- runs --------------------------------------------------------------------------
    def start_run(self, run_id: str, started_at: datetime, sample: bool = False) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started_at, sample) VALUES (?, ?, ?)",
                (run_id, _ts(started_at), int(sample)),
            )

    def finish_run(self, report: GatherReport) -> None:
        summary = report.model_dump_json(exclude={"items", "trends"})
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, sample = ?, report_json = ? WHERE run_id = ?",
                (_ts(report.finished_at or datetime.now(UTC)), int(report.sample), summary, report.run_id),
            )

    def last_runs(self, limit: int = 10) -> list[GatherReport]:
        rows = self.query(
            "SELECT report_json FROM runs WHERE report_json IS NOT NULL ORDER BY started_at DESC LIMIT ?", (limit,)
        )
        return [GatherReport.model_validate_json(r["report_json"]) for r in rows]

    # --- observations ------------------------------------------------------------------
    def add_observations(self, run_id: str, items: Iterable[TrendItem]) -> int:
        """Append one observation per item; replays of the same snapshot are ignored, not duplicated."""
        rows = [
            (
                run_id,
                it.source,
                it.source_id,
                it.group,
                it.title,
                json.dumps(it.metrics, separators=(",", ":")),
                _ts(it.observed_at),
            )
            for it in items
        ]
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO observations (run_id, source, source_id, group_key, title, metrics, observed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def history(
        self, source: str, source_ids: Iterable[str], before: datetime | None = None
    ) -> dict[str, list[Observation]]:
        """Earlier observations of these items, oldest first, keyed by source id."""
        ids = list(dict.fromkeys(source_ids))
        out: dict[str, list[Observation]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = (
                "SELECT run_id, source, source_id, group_key, title, metrics, observed_at FROM observations"
                f" WHERE source = ? AND source_id IN ({marks})"
            )
            params: list[object] = [source, *chunk]
            if before is not None:
                sql += " AND observed_at < ?"
                params.append(_ts(before))
            for r in self.query(sql + " ORDER BY observed_at", params):
                out.setdefault(r["source_id"], []).append(
                    Observation(
                        run_id=r["run_id"],
                        source=r["source"],
                        source_id=r["source_id"],
                        group=r["group_key"],
                        title=r["title"],
                        metrics=json.loads(r["metrics"]),
                        observed_at=_dt(r["observed_at"]),
                    )
                )
        return out

    # --- source cache (stale fallback) -------------------------------------------------
    def save_source_cache(self, source: str, run_id: str, fetched_at: datetime, items: list[TrendItem]) -> None:
        payload = json.dumps([it.model_dump(mode="json") for it in items], separators=(",", ":"))
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO source_cache (source, run_id, fetched_at, items_json) VALUES (?, ?, ?, ?)",
                (source, run_id, _ts(fetched_at), payload),
            )

    def load_source_cache(self, source: str) -> tuple[datetime, list[TrendItem]] | None:
        rows = self.query("SELECT fetched_at, items_json FROM source_cache WHERE source = ?", (source,))
        if not rows:
            return None
        items = [TrendItem.model_validate(d) for d in json.loads(rows[0]["items_json"])]
        return _dt(rows[0]["fetched_at"]), items

    # --- featured history --------------------------------------------------------------
    def mark_featured(self, issue_id: str, keys_with_scores: Iterable[tuple[str, float]], at: datetime) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO featured (key, issue_id, featured_at, score) VALUES (?, ?, ?, ?)",
                [(key, issue_id, _ts(at), score) for key, score in keys_with_scores],
            )

    def recently_featured(self, since: datetime) -> dict[str, tuple[datetime, float, str]]:
        """key → (featured_at, best score then, issue id) for everything featured since `since`."""
        out: dict[str, tuple[datetime, float, str]] = {}
        for r in self.query(
            "SELECT key, issue_id, featured_at, score FROM featured WHERE featured_at >= ? ORDER BY featured_at",
            (_ts(since),),
        ):
            out[r["key"]] = (_dt(r["featured_at"]), float(r["score"]), r["issue_id"])
        return out

    # --- usage -------------------------------------------------------------------------
    def add_usage(
        self,
        run_id: str,
        agent: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    agent,
                    model,
                    input_tokens,
                    output_tokens,
                    cache_read_tokens,
                    cache_write_tokens,
                    cost_usd,
                    _ts(datetime.now(UTC)),
                ),
            )


def featured_since(days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)
