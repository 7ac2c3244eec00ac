"""The SQLite store: one file in the data dir, WAL mode, every write committed as it happens.

It keeps what must survive a run: each run, every observation (for velocity and history), the
last good result per source (the stale fallback), which trends were featured in which issue,
and model usage. Other modules (the TikTok Shop sync, proposals) add their own tables through
`ensure_schema`, on the same file and connection.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .models import GatherReport, Observation, TrendItem

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    sample      INTEGER NOT NULL DEFAULT 0,
    report_json TEXT,
    pid         INTEGER,
    host        TEXT,
    status      TEXT
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


# columns added after the first release, for stores created before them: (table, column, declaration)
_ADDED_COLUMNS = (("runs", "pid", "INTEGER"), ("runs", "host", "TEXT"), ("runs", "status", "TEXT"))
_HOST = socket.gethostname()
_UNKNOWN_OWNER_AFTER = timedelta(days=1)  # an unfinished run from a version that did not record its process


class StoreError(RuntimeError):
    """The store could not be opened, read or written. One line that names the file and the cause;
    a full disk says so (SQLite's own words are "database or disk is full")."""


def _error(path: Path, exc: BaseException, doing: str) -> StoreError:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreError(f"disk full: cannot write the store {path} ({text})")
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    return StoreError(f"the store {path} could not be {doing}: {text}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


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
        self._lock = threading.RLock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise _error(self.path, exc, "opened") from None
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
            self._add_columns()
        except sqlite3.Error as exc:
            self._conn.close()
            raise _error(self.path, exc, "opened") from None

    # --- plumbing ----------------------------------------------------------------------
    def _add_columns(self) -> None:
        for table, column, decl in _ADDED_COLUMNS:
            have = {r["name"] for r in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    def ensure_schema(self, sql: str) -> None:
        with self._lock:
            try:
                self._conn.executescript(sql)
            except sqlite3.Error as exc:
                raise _error(self.path, exc, "written") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: all of it lands or none of it does. A failure is a `StoreError` naming the file.

        SQLite rolls a transaction back by itself on some errors (a full disk among them); a second ROLLBACK
        would then fail and hide the real cause, so it is only sent while a transaction is open."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _error(self.path, exc, "written") from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | UnicodeError | OverflowError):
                    raise _error(self.path, exc, "written") from None
                raise

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _error(self.path, exc, "read") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- runs --------------------------------------------------------------------------
    def start_run(self, run_id: str, started_at: datetime, sample: bool = False) -> None:
        """Record a run as running (by this process); runs whose process died first are marked interrupted."""
        self.mark_interrupted()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started_at, sample, pid, host, status)"
                " VALUES (?, ?, ?, ?, ?, 'running')",
                (run_id, _ts(started_at), int(sample), os.getpid(), _HOST),
            )

    def mark_interrupted(self, now: datetime | None = None) -> list[str]:
        """Unfinished runs whose process is gone (killed, crashed, powered off) become `interrupted`.

        A run of a live process (a concurrent run, or this process's own) is left alone; so is one of another
        host. Runs recorded before processes were (no pid) count as gone a day after they started."""
        now = now or datetime.now(UTC)
        rows = self.query("SELECT run_id, started_at, pid, host FROM runs WHERE finished_at IS NULL")
        gone = [
            r["run_id"]
            for r in rows
            if (r["pid"] is None and _dt(r["started_at"]) < now - _UNKNOWN_OWNER_AFTER)
            or (r["pid"] is not None and r["host"] == _HOST and r["pid"] != os.getpid() and not _alive(r["pid"]))
        ]
        if gone:
            with self.transaction() as db:
                db.executemany(
                    "UPDATE runs SET finished_at = ?, status = 'interrupted' WHERE run_id = ? AND finished_at IS NULL",
                    [(_ts(now), run_id) for run_id in gone],
                )
        return gone

    def run_status(self, run_id: str) -> str | None:
        rows = self.query("SELECT status, finished_at FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        return rows[0]["status"] or ("finished" if rows[0]["finished_at"] else "running")

    def finish_run(self, report: GatherReport) -> None:
        summary = report.model_dump_json(exclude={"items", "trends"})
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, sample = ?, report_json = ?, status = 'finished' WHERE run_id = ?",
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
        try:
            items = [TrendItem.model_validate(d) for d in json.loads(rows[0]["items_json"])]
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreError(f"the store {self.path} holds an unreadable cache for {source}: {type(exc).__name__}") from None
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
