"""A full disk, a failing store write and killed runs: one clear line naming the path, never a lost run.

The disk is filled two ways: SQLite's own limit (`PRAGMA max_page_count`, which fails exactly as a full
disk does: "database or disk is full") and an injected `OSError(ENOSPC)` on the output files.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from ai_content_agents import fileio, pipeline
from ai_content_agents.cli import app
from ai_content_agents.models import FetchResult, Parsed, Signals, TrendItem
from ai_content_agents.store import Store, StoreError

runner = CliRunner()
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _fill(store: Store) -> None:
    """Let the store grow by no more than a page or two: the next big write meets a full disk."""
    pages = store.query("PRAGMA page_count")[0][0]
    store.query(f"PRAGMA max_page_count = {pages + 1}")


def _items(n: int, size: int = 2000) -> list[TrendItem]:
    return [TrendItem(source="reddit", source_id=f"p{i}", title="t" * size, url=f"https://www.reddit.com/p{i}",
                      metrics={"score": float(i)}, observed_at=NOW) for i in range(n)]


def fake_source(name: str, n: int, title_size: int = 20) -> SimpleNamespace:
    """A stand-in source: fetch returns `n` rows, parse makes items with long titles, score is trivial."""

    def parse(raw: list, observed_at: datetime | None = None) -> Parsed:
        return Parsed([TrendItem(source=name, source_id=str(r["id"]), title="t" * title_size,
                                 url=f"https://example.com/{name}/{r['id']}", metrics={"v": 1.0},
                                 observed_at=observed_at or NOW) for r in raw])

    def score(items: list[TrendItem], history: object) -> list[TrendItem]:
        for it in items:
            it.signals = Signals(metric="v", value=1.0, s=1.0)
        return items

    return SimpleNamespace(NAME=name, not_configured=lambda s: None, parse=parse, score=score,
                           fetch=lambda s, store=None: FetchResult(raw_items=[{"id": i} for i in range(n)]))


def test_a_full_disk_is_a_store_error_that_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "fresh.sqlite3")  # a fresh database: the case where a second ROLLBACK hid the cause
    _fill(store)
    with pytest.raises(StoreError) as err:
        store.add_observations("r1", _items(200))
    assert str(err.value).startswith("disk full: cannot write the store") and str(tmp_path / "fresh.sqlite3") in str(err.value)
    assert "database or disk is full" in str(err.value)
    store.query("PRAGMA max_page_count = 1000000")
    assert store.add_observations("r2", _items(2, 10)) == 2  # the store is intact and usable afterwards
    store.close()


def test_a_failing_store_write_costs_that_source_not_the_run(settings, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    names = ["reddit", "x"]
    table = {"reddit": fake_source("reddit", n=200, title_size=3000), "x": fake_source("x", n=3)}
    monkeypatch.setattr(pipeline, "load", lambda name: table[name])
    real_add = store.add_observations

    def add(run_id: str, items: list[TrendItem]) -> int:
        if items and items[0].source == "reddit":
            _fill(store)
            try:
                return real_add(run_id, items)
            finally:
                store.query("PRAGMA max_page_count = 1000000")
        return real_add(run_id, items)

    monkeypatch.setattr(store, "add_observations", add)
    report = pipeline.gather(settings, store, sources=names, mode="live", now=NOW)
    by = {s.source: s for s in report.sources}
    assert by["reddit"].status == "failed" and "could not be stored" in by["reddit"].reason
    assert "disk full" in by["reddit"].reason and str(store.path) in by["reddit"].reason
    assert by["x"].status == "ok" and by["x"].items == 3 and not report.sample
    assert store.last_runs(1)[0].run_id == report.run_id  # the run finished and was recorded


def test_a_full_disk_under_the_cli_is_one_line_naming_the_store(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = Store.start_run

    def start(self, run_id, started_at, sample=False):  # type: ignore[no-untyped-def]
        self.query("PRAGMA max_page_count = 1")  # the disk is full: not one more page fits
        real(self, run_id + "x" * 20_000, started_at, sample)  # a run record that needs a new page

    monkeypatch.setattr(Store, "start_run", start)
    result = runner.invoke(app, ["trends", "--sample"])
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("Gathering")]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("error: disk full: cannot write the store") and "ai_content_agents.sqlite3" in lines[0]
    assert "Traceback" not in result.output


def test_a_full_disk_for_the_newsletter_files_is_one_line_naming_the_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    out = tmp_path / "out"
    result = runner.invoke(app, ["newsletter", "--sample", "--out", str(out)])
    monkeypatch.setattr(fileio.os, "fsync", real_fsync)
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert result.exit_code == 2 and last.startswith("error: disk full: cannot write"), result.output
    assert str(out) in last and last.split(" (No space")[0].endswith("newsletter.md") and "Traceback" not in result.output
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # no temp files or folders left behind
    assert not (out / "latest").exists()


def test_atomic_write_fsyncs_before_it_renames(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(fileio.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(fileio.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    fileio.atomic_write(tmp_path / "a.txt", "hello")
    assert (tmp_path / "a.txt").read_text() == "hello"
    assert events[:2] == ["fsync", "replace"] and events[-1] == "fsync"  # the file, then the directory


KILLED = """
import os, signal, sys
from datetime import datetime, UTC
from ai_content_agents.store import Store
s = Store(sys.argv[1])
s.start_run(sys.argv[2], datetime.now(UTC))
os.kill(os.getpid(), signal.SIGKILL)
"""

RUNNING = """
import sys, time
from datetime import datetime, UTC
from ai_content_agents.store import Store
s = Store(sys.argv[1])
s.start_run(sys.argv[2], datetime.now(UTC))
print("started", flush=True)
time.sleep(60)
"""


def test_a_killed_run_is_marked_interrupted_at_the_next_start_and_a_live_one_is_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "runs.sqlite3"
    live = subprocess.Popen([sys.executable, "-c", RUNNING, str(db), "live-run"], stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "started"
        killed = subprocess.run([sys.executable, "-c", KILLED, str(db), "killed-run"], capture_output=True, timeout=60)
        assert killed.returncode == -signal.SIGKILL
        store = Store(db)
        assert store.run_status("killed-run") == "running"
        store.start_run("next-run", datetime.now(UTC))
        assert store.run_status("killed-run") == "interrupted"
        assert store.run_status("live-run") == "running"  # a concurrent run is not somebody's crash
        assert store.run_status("next-run") == "running"
        store.close()
    finally:
        live.kill()
        live.wait(timeout=30)


def test_runs_from_before_pids_were_recorded_are_interrupted_after_a_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # a store written by the previous version: no pid/host/status columns
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,"
                     " sample INTEGER NOT NULL DEFAULT 0, report_json TEXT)")
        old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        conn.executemany("INSERT INTO runs (run_id, started_at) VALUES (?, ?)", [("old", old), ("recent", recent)])
    store = Store(db)
    assert store.mark_interrupted() == ["old"]
    assert store.run_status("old") == "interrupted" and store.run_status("recent") == "running"
    store.close()


def test_an_unusable_store_path_is_a_store_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreError, match="could not be opened"):
        Store(tmp_path / "dir.sqlite3")
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="could not be opened"):
        Store(tmp_path / "file" / "db.sqlite3")


