"""The SQLite store: one file in the data dir, WAL mode, every write committed as it happens.

It keeps what must survive a run: each run, every observation (for velocity and history), the
last good result per source (the stale fallback), which trends were featured in which issue,
and model usage. Every table, the TikTok Shop sync's and the proposals' included, is created by the one
ordered list of migrations below (`PRAGMA user_version` counts those applied).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .models import GatherReport, Observation, TrendItem

class StoreError(RuntimeError):
    """The store could not be opened, read or written, or was written by a newer version. One line that names
    the cause; a full disk says so (SQLite's own words are "database or disk is full")."""


# --------------------------------------------------------------------------------------
# Migrations: one ordered list for every table, the TikTok Shop sync's and the proposals' included
# --------------------------------------------------------------------------------------
#
# `PRAGMA user_version` is how many of MIGRATIONS a database file has had. Opening a store applies the
# rest, each in its own transaction, in order. Rules (as in simonw/llm's migrations.py): only ever append
# a migration; never edit, reorder or remove one that has shipped, since files in the wild already ran it.
# m001–m004 describe the schema as it was before versions existed, so they are idempotent on such a file
# (IF NOT EXISTS, columns added only when missing): a version-0 file with any subset of tables migrates.

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next migration (definition order is application order)."""
    MIGRATIONS.append(fn)
    return fn


def _script(db: sqlite3.Connection, sql: str) -> None:
    # statement by statement: `executescript` would COMMIT the migration's transaction half-way
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _add_column(db: sqlite3.Connection, table: str, name: str, kind: str) -> None:
    if name not in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


@migration
def m001_runs_observations_cache_featured_usage(db: sqlite3.Connection) -> None:
    _script(db, """
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
)""")


@migration
def m002_stored_runs(db: sqlite3.Connection) -> None:
    """Whole ranked runs, read back by `runs.latest` (runs.py)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS stored_runs (
    run_id      TEXT PRIMARY KEY,
    stored_at   TEXT NOT NULL,
    sample      INTEGER NOT NULL DEFAULT 0,
    report_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stored_runs_at ON stored_runs (stored_at)""")


@migration
def m003_shop_sync(db: sqlite3.Connection) -> None:
    """The TikTok Shop sync's mirror and resumable state (integrations/tiktok_shop/sync.py)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS shop_products (
    shop_id     TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    status      TEXT,
    update_time INTEGER,
    detail_json TEXT NOT NULL,
    synced_at   TEXT NOT NULL,
    PRIMARY KEY (shop_id, product_id)
);
CREATE TABLE IF NOT EXISTS shop_orders (
    shop_id      TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    status       TEXT,
    update_time  INTEGER,
    currency     TEXT,
    total_amount TEXT,
    order_json   TEXT NOT NULL,
    synced_at    TEXT NOT NULL,
    PRIMARY KEY (shop_id, order_id)
);
CREATE TABLE IF NOT EXISTS shop_sync_state (
    shop_id           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    watermark         INTEGER NOT NULL DEFAULT 0,
    run_ge            INTEGER,
    run_started       INTEGER,
    run_high          INTEGER,
    run_le            INTEGER,
    run_end           INTEGER,
    page_token        TEXT,
    pages_done        INTEGER NOT NULL DEFAULT 0,
    last_completed_at TEXT,
    PRIMARY KEY (shop_id, kind)
)""")
    # a file from before syncs had update_time windows has the table without these two
    _add_column(db, "shop_sync_state", "run_le", "INTEGER")
    _add_column(db, "shop_sync_state", "run_end", "INTEGER")


@migration
def m004_shop_proposals_and_audit(db: sqlite3.Connection) -> None:
    """Changes the shop agent proposes and a person approves, and its audit log (agents/proposals.py)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS shop_proposals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    sku_id      TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT NOT NULL,
    currency    TEXT,
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending',
    decided_by  TEXT,
    decided_at  TEXT,
    result      TEXT
);
CREATE TABLE IF NOT EXISTS shop_audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    tool          TEXT NOT NULL,
    input_json    TEXT NOT NULL,
    result_sha256 TEXT NOT NULL,
    is_error      INTEGER NOT NULL DEFAULT 0,
    approver      TEXT
)""")


@migration
def m005_run_owner(db: sqlite3.Connection) -> None:
    """Which process (pid, host) runs a run and how it ended, so an interrupted run is told from a live one."""
    _add_column(db, "runs", "pid", "INTEGER")
    _add_column(db, "runs", "host", "TEXT")
    _add_column(db, "runs", "status", "TEXT")


@migration
def m006_watch_alerts(db: sqlite3.Connection) -> None:
    """`watch`'s alert cooldowns per profile (watch.py)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS watch_alerts (
    profile    TEXT NOT NULL DEFAULT '',
    key        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    alerted_at TEXT NOT NULL,
    PRIMARY KEY (profile, key)
);
CREATE INDEX IF NOT EXISTS watch_alerts_at ON watch_alerts (alerted_at)""")


@migration
def m007_batch_jobs(db: sqlite3.Connection) -> None:
    """Many brands through Message Batches: jobs, their gathers, rankings, entries and written issues (batch_jobs.py)."""
    _script(db, """
CREATE TABLE IF NOT EXISTS batch_jobs (
    job_id      TEXT PRIMARY KEY,
    job_key     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    issue_date  TEXT NOT NULL,
    mode        TEXT NOT NULL,
    batch_id    TEXT,
    state       TEXT NOT NULL DEFAULT 'open',
    profiles    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_jobs_key ON batch_jobs (job_key, created_at);
CREATE TABLE IF NOT EXISTS batch_gathers (
    job_id      TEXT NOT NULL,
    gather_key  TEXT NOT NULL,
    report_json TEXT NOT NULL,
    PRIMARY KEY (job_id, gather_key)
);
CREATE TABLE IF NOT EXISTS batch_rankings (
    job_id       TEXT NOT NULL,
    profile      TEXT NOT NULL,
    ranking_json TEXT NOT NULL,
    PRIMARY KEY (job_id, profile)
);
CREATE TABLE IF NOT EXISTS batch_entries (
    job_id       TEXT NOT NULL,
    custom_id    TEXT NOT NULL,
    profile      TEXT NOT NULL,
    section      TEXT NOT NULL,
    params_json  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    reply_json   TEXT,
    error        TEXT NOT NULL DEFAULT '',
    via          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, custom_id)
);
CREATE TABLE IF NOT EXISTS batch_written (
    job_id   TEXT NOT NULL,
    profile  TEXT NOT NULL,
    folder   TEXT NOT NULL,
    PRIMARY KEY (job_id, profile)
)""")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations this file has not had, each atomically; return the resulting version.

    Safe when two processes open one file at once: the version is re-read inside each write lock.
    """
    if schema_version(db) > len(MIGRATIONS):
        raise StoreError(
            f"the store was written by a newer ai-content-agents (schema {schema_version(db)}, this version "
            f"knows {len(MIGRATIONS)}); upgrade, or point AICA_DATA_DIR elsewhere"
        )
    for number, step in enumerate(MIGRATIONS, start=1):
        db.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(db) < number:
                step(db)
                db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return schema_version(db)


_HOST = socket.gethostname()
_UNKNOWN_OWNER_AFTER = timedelta(days=1)  # an unfinished run from a version that did not record its process


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
            migrate(self._conn)
        except sqlite3.Error as exc:
            self._conn.close()
            raise _error(self.path, exc, "opened") from None
        except StoreError:
            self._conn.close()
            raise

    # --- plumbing ----------------------------------------------------------------------
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
