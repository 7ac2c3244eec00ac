"""Stored runs: the full ranked result of a gather, kept so questions are answered without re-gathering.

WHY: every `ask` and `trends` used to re-run every source (about 30 s with no network; with keys, paid
Apify runs each time). A run is stored once, whole (items and trends), and read back while it is younger
than `AICA_RUN_MAX_AGE_H`. Freshness is measured from when the run was *stored* (wall clock), not from
its ranking clock: a replay of the bundled sample is ranked at the snapshot's capture time.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from .models import GatherReport
from .store import Store

KEEP = 20  # stored runs kept (the newest); older ones are dropped on save


class StoredRun(BaseModel):
    """A run read back from the store, with when it was stored."""

    report: GatherReport
    stored_at: datetime

    def age_h(self, now: datetime) -> float:
        return max(0.0, (now - self.stored_at).total_seconds() / 3600)

    def describe(self, now: datetime | None = None) -> str:
        """One line naming the run an answer used: id, time, and SAMPLE DATA when so."""
        return describe(self.report, self.stored_at, now)


def describe(report: GatherReport, stored_at: datetime | None = None, now: datetime | None = None) -> str:
    at = stored_at or report.finished_at or report.started_at
    line = f"run {report.run_id}, gathered {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if now is not None and stored_at is not None:
        hours = max(0.0, (now - stored_at).total_seconds() / 3600)
        line += f" ({hours:.0f} h ago)" if hours >= 1 else f" ({hours * 60:.0f} min ago)"
    if report.sample:
        line += " — SAMPLE DATA (bundled sample snapshot, not live sources)"
    elif report.snapshot:
        line += f" — replay of snapshot {report.snapshot}"
    return line


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _filters(sample: bool | None, profile: str | None) -> tuple[str, list[object]]:
    """The WHERE clause (and its parameters) that `latest` and `recent` share: sample or live, and profile
    ("" → runs with no profile; None → any)."""
    where = ["1 = 1"]
    params: list[object] = []
    if sample is not None:
        where.append("sample = ?")
        params.append(int(sample))
    if profile is not None:
        where.append("COALESCE(json_extract(report_json, '$.profile'), '') = ?")
        params.append(profile)
    return " AND ".join(where), params


def save(store: Store, report: GatherReport, now: datetime | None = None) -> None:
    """Keep the whole run (items and trends) for later questions; the newest KEEP runs are kept."""
    at = _ts(now or datetime.now(UTC))
    with store.transaction() as db:
        db.execute(
            "INSERT OR REPLACE INTO stored_runs (run_id, stored_at, sample, report_json) VALUES (?, ?, ?, ?)",
            (report.run_id, at, int(report.sample), report.model_dump_json()),
        )
        db.execute(
            "DELETE FROM stored_runs WHERE run_id NOT IN "
            "(SELECT run_id FROM stored_runs ORDER BY stored_at DESC LIMIT ?)",
            (KEEP,),
        )


def latest(
    store: Store,
    *,
    max_age_h: float,
    now: datetime | None = None,
    sample: bool | None = None,
    profile: str | None = None,
) -> StoredRun | None:
    """The newest stored run younger than `max_age_h` (None when there is none).

    sample: True → only runs on the bundled sample; False → only live runs; None → either.
    profile: only runs gathered and ranked for this profile ("" → runs with no profile); None → any.
    """
    now = now or datetime.now(UTC)
    since = _ts(now - timedelta(hours=max_age_h))
    where, params = _filters(sample, profile)
    rows = store.query(
        f"SELECT stored_at, report_json FROM stored_runs WHERE stored_at >= ? AND {where} ORDER BY stored_at DESC LIMIT 1",
        [since, *params],
    )
    return _stored(rows[0]) if rows else None


def recent(
    store: Store,
    *,
    limit: int = KEEP,
    sample: bool | None = None,
    profile: str | None = None,
) -> list[StoredRun]:
    """The stored runs, newest first (at most `limit`), filtered like `latest` but of any age."""
    where, params = _filters(sample, profile)
    rows = store.query(
        f"SELECT stored_at, report_json FROM stored_runs WHERE {where} ORDER BY stored_at DESC LIMIT ?",
        [*params, limit],
    )
    return [_stored(r) for r in rows]


def _stored(row: sqlite3.Row) -> StoredRun:
    return StoredRun(report=GatherReport.model_validate_json(row["report_json"]), stored_at=datetime.fromisoformat(row["stored_at"]))
