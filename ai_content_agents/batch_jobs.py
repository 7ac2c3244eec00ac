"""The stored state of a many-brand job (`newsletter --profiles a,b,c --batch`), so paid work is never lost.

WHY stored: a Message Batch is paid for when it is created and may take hours. The job (keyed by what it asks
for), every request it sends, the batch id, each entry's outcome and the gathered runs are written as soon as
they exist (each shared gather once, without its ranking; per brand only what its ranking needs to be redone
exactly: the clock, the featured history it saw and the picks, a check); running the same command again reads them back and picks up where it stopped instead of creating
(and paying for) a second batch. An entry's reply is kept whole, so an issue can be written again from it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from .models import GatherReport
from .store import Store


EntryStatus = Literal["pending", "succeeded", "errored", "expired", "canceled"]
FAILED: tuple[EntryStatus, ...] = ("errored", "expired", "canceled")
Mode = Literal["batch", "calls"]


class Reply(BaseModel):
    """A model reply as stored (the fields the writer reads), so it is rebuilt without the SDK."""

    class Block(BaseModel):
        type: str
        text: str = ""

    model: str = ""
    stop_reason: str | None = None
    content: list[Block] = []
    usage: dict[str, Any] = {}

    @classmethod
    def of(cls, message: Any) -> Reply:
        """From an SDK Message, the offline model's Message-shaped object, or a dict of the same keys."""
        data = message if isinstance(message, dict) else message.model_dump(mode="json")
        blocks = [cls.Block(type=str(b.get("type", "")), text=str(b.get("text") or "")) for b in data.get("content") or []]
        return cls(model=str(data.get("model") or ""), stop_reason=data.get("stop_reason"), content=blocks,
                   usage=dict(data.get("usage") or {}))


class EntryResult(BaseModel):
    """What became of one request: a batch entry's result, or an ordinary call's."""

    custom_id: str
    status: EntryStatus
    reply: Reply | None = None
    error: str = ""


class Entry(BaseModel):
    """One writer request of the job: a section of one profile's issue."""

    custom_id: str
    profile: str
    section: str
    params: dict[str, Any]  # the Messages API parameters, as sent
    status: EntryStatus = "pending"
    reply: Reply | None = None
    error: str = ""
    via: Literal["", "batch", "call"] = ""


class Ranking(BaseModel):
    """How one brand's issue ranks its shared gather: enough to rank it again exactly (ranking is pure)."""

    profile: str
    gather_key: str
    ranked_at: datetime
    featured: dict[str, tuple[datetime, float, str]] = {}  # the featured history the ranking saw
    picks: dict[str, list[str]] = {}  # section → cluster ids written about (checked when ranked again)


class Job(BaseModel):
    job_id: str
    job_key: str
    created_at: datetime
    issue_date: datetime
    mode: Mode
    batch_id: str | None = None
    state: Literal["open", "done"] = "open"
    profiles: list[str]


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _job(row: Any) -> Job:
    return Job(job_id=row["job_id"], job_key=row["job_key"], created_at=datetime.fromisoformat(row["created_at"]),
               issue_date=datetime.fromisoformat(row["issue_date"]), mode=row["mode"], batch_id=row["batch_id"],
               state=row["state"], profiles=json.loads(row["profiles"]))


def find_open(store: Store, job_key: str, *, now: datetime, max_age_h: float) -> Job | None:
    """The newest unfinished job with this key younger than `max_age_h`, to resume; None to start afresh."""
    rows = store.query(
        "SELECT * FROM batch_jobs WHERE job_key = ? AND state = 'open' AND created_at >= ? "
        "ORDER BY created_at DESC LIMIT 1",
        (job_key, _ts(now - timedelta(hours=max_age_h))),
    )
    return _job(rows[0]) if rows else None


def create(
    store: Store, job: Job, gathers: dict[str, GatherReport], rankings: list[Ranking], entries: list[Entry]
) -> None:
    """The job, its gathers (items only), each profile's ranking and every request, in one transaction."""
    with store.transaction() as db:
        db.execute(
            "INSERT INTO batch_jobs (job_id, job_key, created_at, issue_date, mode, batch_id, state, profiles)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job.job_id, job.job_key, _ts(job.created_at), _ts(job.issue_date), job.mode, job.batch_id, job.state,
             json.dumps(job.profiles)),
        )
        db.executemany(
            "INSERT INTO batch_gathers (job_id, gather_key, report_json) VALUES (?, ?, ?)",
            [(job.job_id, key, report.model_copy(update={"trends": []}).model_dump_json())
             for key, report in gathers.items()],
        )
        db.executemany(
            "INSERT INTO batch_rankings (job_id, profile, ranking_json) VALUES (?, ?, ?)",
            [(job.job_id, r.profile, r.model_dump_json()) for r in rankings],
        )
        db.executemany(
            "INSERT INTO batch_entries (job_id, custom_id, profile, section, params_json) VALUES (?, ?, ?, ?, ?)",
            [(job.job_id, e.custom_id, e.profile, e.section, json.dumps(e.params, ensure_ascii=False)) for e in entries],
        )


def set_batch(store: Store, job_id: str, batch_id: str) -> None:
    with store.transaction() as db:
        db.execute("UPDATE batch_jobs SET batch_id = ? WHERE job_id = ?", (batch_id, job_id))


def set_mode(store: Store, job_id: str, mode: Mode) -> None:
    with store.transaction() as db:
        db.execute("UPDATE batch_jobs SET mode = ? WHERE job_id = ? AND batch_id IS NULL", (mode, job_id))


def close(store: Store, job_id: str) -> None:
    with store.transaction() as db:
        db.execute("UPDATE batch_jobs SET state = 'done' WHERE job_id = ?", (job_id,))


def gathers(store: Store, job_id: str) -> dict[str, GatherReport]:
    """gather key → the shared gather (its items; `trends` empty: each brand ranks it)."""
    rows = store.query("SELECT gather_key, report_json FROM batch_gathers WHERE job_id = ?", (job_id,))
    return {r["gather_key"]: GatherReport.model_validate_json(r["report_json"]) for r in rows}


def rankings(store: Store, job_id: str) -> dict[str, Ranking]:
    rows = store.query("SELECT profile, ranking_json FROM batch_rankings WHERE job_id = ?", (job_id,))
    return {r["profile"]: Ranking.model_validate_json(r["ranking_json"]) for r in rows}


def entries(store: Store, job_id: str) -> list[Entry]:
    rows = store.query("SELECT * FROM batch_entries WHERE job_id = ? ORDER BY rowid", (job_id,))
    return [
        Entry(custom_id=r["custom_id"], profile=r["profile"], section=r["section"], params=json.loads(r["params_json"]),
              status=r["status"], reply=Reply.model_validate_json(r["reply_json"]) if r["reply_json"] else None,
              error=r["error"], via=r["via"])
        for r in rows
    ]


def record(store: Store, job_id: str, result: EntryResult, via: Literal["batch", "call"], *, only_pending: bool) -> bool:
    """Store one outcome; False (nothing changed) when `only_pending` and the entry already has one, so a batch's
    results read twice are counted once."""
    where = " AND status = 'pending'" if only_pending else ""
    with store.transaction() as db:
        cur = db.execute(
            "UPDATE batch_entries SET status = ?, reply_json = ?, error = ?, via = ?"
            f" WHERE job_id = ? AND custom_id = ?{where}",
            (result.status, result.reply.model_dump_json() if result.reply else None, result.error, via, job_id,
             result.custom_id),
        )
        return cur.rowcount > 0


def mark_written(store: Store, job_id: str, profile: str, folder: str) -> None:
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO batch_written (job_id, profile, folder) VALUES (?, ?, ?)",
                   (job_id, profile, folder))


def written(store: Store, job_id: str) -> dict[str, str]:
    """profile → the issue folder already written for it in this job."""
    return {r["profile"]: r["folder"] for r in store.query(
        "SELECT profile, folder FROM batch_written WHERE job_id = ?", (job_id,))}
