"""Replay: `--snapshot DIR` ranks a directory of raw source rows like live data; `--as-of` sets the clock.

The snapshot is written into tmp_path from copies of the bundled sample files (real actor/API shapes);
the bundled files are only read. No network, no real clock: every run uses the snapshot's captured_at
or an explicit --as-of.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ai_content_agents import pipeline
from ai_content_agents.cli import app
from ai_content_agents.config import Settings
from ai_content_agents.sources.snapshot import Snapshot, SnapshotError
from ai_content_agents.store import Store

runner = CliRunner()
BUNDLED = Path(str(resources.files("ai_content_agents").joinpath("data", "sample")))
CAPTURED = "2026-11-21T08:30:00Z"
FILES = {
    "tiktok": "tiktok.json",
    "amazon": "amazon.json",
    "x": "x.json",
    "reddit": "reddit.json",
    "youtube": "youtube.json",
    "tiktok_shop": "tiktok_shop.json",
}


def write_snapshot(
    root: Path,
    *,
    files: dict[str, str] | None = None,
    captured_at: object = CAPTURED,
    history: object = None,
    extra_rows: dict[str, list[Any]] | None = None,
) -> Path:
    """A snapshot dir in the bundled layout: copies of the bundled raw files and our own manifest."""
    root.mkdir(parents=True, exist_ok=True)
    files = dict(FILES if files is None else files)
    for name in {*files.values(), "amazon_history.json"}:
        if (BUNDLED / name).exists():
            shutil.copyfile(BUNDLED / name, root / name)
    for name, rows in (extra_rows or {}).items():
        path = root / files[name]
        path.write_text(json.dumps(json.loads(path.read_text()) + rows))
    manifest: dict[str, Any] = {"captured_at": captured_at, "files": files}
    default_history = {"amazon": [{"file": "amazon_history.json", "captured_at": "2026-11-20T08:30:00Z"}]}
    manifest["history"] = default_history if history is None else history
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def trends_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["trends", "--json", "--limit", "100", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "snap")


def test_a_snapshot_replays_deterministically_and_is_not_sample_data(snap: Path) -> None:
    first = runner.invoke(app, ["trends", "--json", "--snapshot", str(snap)])
    second = runner.invoke(app, ["trends", "--json", "--snapshot", str(snap)])
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout  # byte for byte: run id, clock, scores, items
    data = json.loads(first.stdout)
    assert data["sample"] is False and data["snapshot"] == str(snap)
    assert data["started_at"] == CAPTURED  # the default clock is the snapshot's captured_at
    assert {s["source"] for s in data["sources"] if s["status"] == "ok"} == set(FILES)
    assert data["trends"] and [t["rank"] for t in data["trends"]] == list(range(1, len(data["trends"]) + 1))
    observed = {it["observed_at"] for t in data["trends"] for it in t["items"]}
    assert observed == {CAPTURED}

    table = runner.invoke(app, ["trends", "--snapshot", str(snap)])
    assert table.exit_code == 0 and "SAMPLE DATA" not in table.output
    assert "Replaying" in table.output and "snapshot" in table.output


def test_a_snapshot_is_parsed_like_live_data_and_counts_skipped_rows(snap: Path, tmp_path: Path) -> None:
    bad = write_snapshot(tmp_path / "bad", extra_rows={"tiktok": [42, {"id": "no numbers at all"}]})
    clean = {s["source"]: s for s in trends_json("--snapshot", str(snap))["sources"]}
    dirty = {s["source"]: s for s in trends_json("--snapshot", str(bad))["sources"]}
    assert dirty["tiktok"]["items"] == clean["tiktok"]["items"]
    assert dirty["tiktok"]["skipped_items"] == clean["tiktok"]["skipped_items"] + 2
    not_a_dict = clean["tiktok"]["skipped_reasons"].get("not a dict", 0)
    assert dirty["tiktok"]["skipped_reasons"]["not a dict"] == not_a_dict + 1


def test_a_snapshot_run_leaves_live_state_alone(snap: Path) -> None:
    data = trends_json("--snapshot", str(snap), "--sources", "tiktok,amazon")
    assert [s["source"] for s in data["sources"]] == ["tiktok", "amazon"]
    store = Store(Settings(_env_file=None).db_path)
    try:
        assert store.load_source_cache("tiktok") is None and store.load_source_cache("amazon") is None
        ids = [it["source_id"] for t in data["trends"] for it in t["items"] if it["source"] == "tiktok"]
        assert ids and store.history("tiktok", ids) == {}
        (run,) = store.last_runs(1)
        assert run.run_id == data["run_id"] and not run.sample and run.snapshot == str(snap)
    finally:
        store.close()


def test_as_of_moves_the_ranking_clock(snap: Path) -> None:
    at_capture = trends_json("--snapshot", str(snap))
    later = trends_json("--snapshot", str(snap), "--as-of", "2026-11-23T08:30")  # naive: UTC
    assert later["started_at"] == "2026-11-23T08:30:00Z" and later["run_id"].startswith("20261123T083000Z")

    def evidence(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {ev["best_key"]: ev for t in data["trends"] for ev in t["evidence"]}

    before, after = evidence(at_capture), evidence(later)
    shared = before.keys() & after.keys()
    assert shared
    for key in shared:
        assert after[key]["age_h"] == pytest.approx(before[key]["age_h"] + 48)
        assert after[key]["decay"] < before[key]["decay"]
    assert max(t["score"] for t in later["trends"]) < max(t["score"] for t in at_capture["trends"])

    same = trends_json("--snapshot", str(snap), "--as-of", "2026-11-23T09:30:00+01:00")
    assert same["started_at"] == "2026-11-23T08:30:00Z" and same["trends"] == later["trends"]
    midnight = trends_json("--snapshot", str(snap), "--as-of", "2026-11-23")
    assert midnight["started_at"] == "2026-11-23T00:00:00Z"


def test_trends_json_lists_every_member_item_with_its_figures(snap: Path) -> None:
    data = trends_json("--snapshot", str(snap))
    multi = [t for t in data["trends"] if len(t["items"]) > 1]
    assert multi, "the sample has trends with several member items"
    for t in data["trends"]:
        keys = {f"{it['source']}:{it['source_id']}" for it in t["items"]}
        assert keys == {k for ev in t["evidence"] for k in ev["item_keys"]}
        assert t["sources"] == [ev["source"] for ev in t["evidence"]]
        for ev in t["evidence"]:
            assert {"q", "m", "m_s", "baseline_level", "decay", "age_h", "weight", "counted"} <= ev.keys()
        for it in t["items"]:
            assert it["url"].startswith("https://") and it["title"] and it["metrics"]
            assert {"q", "m", "m_s", "baseline_level", "metric", "value"} <= it["signals"].keys()
            assert it["figures"] and {f["source"] for f in it["figures"]} == {it["source"]}
            fields = {f["field"] for f in it["figures"]}
            assert {f"{it['source']}.metrics.{name}" for name in it["metrics"]} <= fields
            assert "raw" not in it


def _documented_json_fields() -> dict[str, set[str]]:
    """The README's `trends --json` table: each row's path (`sources[]`, `trends[].products[]`…) → the field
    names its description lists in backticks."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("`trends --json` prints one object", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            names = re.findall(r"`([^`]+)`", cells[0])
            out[names[0]] = set(names[1:]) | set(re.findall(r"`([a-z_]+)`", cells[1]))
    return out


def test_the_readme_documents_every_field_trends_json_prints(snap: Path) -> None:
    data = trends_json("--snapshot", str(snap))
    doc = _documented_json_fields()
    t = data["trends"][0]
    printed = {
        "sources[]": data["sources"][0], "trends[].products[]": t["products"][0], "trends[].evidence[]": t["evidence"][0],
        "trends[].items[].signals": t["items"][0]["signals"], "trends[].items[].figures[]": t["items"][0]["figures"][0],
    }
    for path, obj in printed.items():
        assert set(obj) <= doc[path], (path, set(obj) - doc[path])
    top_level = {k for k in doc if "." not in k and "[" not in k}
    assert set(data) <= top_level | {"sources", "trends"}, set(data) - top_level
    story = doc["trends[].rank"] | {"rank", "items", "evidence", "products", "sources"}
    assert set(t) <= story, set(t) - story
    item_fields = doc["trends[].items[]"] | {"signals", "figures"}
    assert set(t["items"][0]) <= item_fields, set(t["items"][0]) - item_fields


@pytest.mark.parametrize("command", ["newsletter", "trends"])
def test_a_replay_with_no_rows_for_the_asked_sources_is_an_error_not_an_empty_issue(command: str, tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "snap", files={"amazon": "amazon.json"})
    out = tmp_path / "out"
    result = runner.invoke(app, [command, "--snapshot", str(snap), "--sources", "youtube", "--out", str(out)]
                           if command == "newsletter" else [command, "--snapshot", str(snap), "--sources", "youtube"])
    assert result.exit_code == 2, result.output
    assert "no data" in result.output and "youtube" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_the_bundled_directory_is_the_sample_and_says_so() -> None:
    data = trends_json("--snapshot", str(BUNDLED), "--limit", "3")
    assert data["sample"] is True and data["snapshot"] == "bundled sample"
    assert data == trends_json("--sample", "--limit", "3")


def test_newsletter_from_a_snapshot_at_an_as_of_date(snap: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["newsletter", "--snapshot", str(snap), "--as-of", "2026-11-22", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "latest" / "newsletter.json").read_text())
    assert data["sample"] is False and data["issue_date"].startswith("2026-11-22T00:00:00")
    md = (out / "latest" / "newsletter.md").read_text()
    assert "SAMPLE DATA" not in md and "SAMPLE DATA" not in result.output
    assert "November 22, 2026" in md


def _manifest(root: Path, **changes: Any) -> Path:
    data = json.loads((root / "manifest.json").read_text())
    data.update(changes)
    (root / "manifest.json").write_text(json.dumps(data))
    return root


def _case_missing_dir(tmp: Path) -> list[str]:
    return ["--snapshot", str(tmp / "nowhere")]


def _case_a_file_not_a_dir(tmp: Path) -> list[str]:
    (tmp / "file.json").write_text("[]")
    return ["--snapshot", str(tmp / "file.json")]


def _case_no_manifest(tmp: Path) -> list[str]:
    (tmp / "empty").mkdir()
    return ["--snapshot", str(tmp / "empty")]


def _case_manifest_not_json(tmp: Path) -> list[str]:
    root = write_snapshot(tmp / "s")
    (root / "manifest.json").write_text('{"captured_at": "2026-11-21",')
    return ["--snapshot", str(root)]


def _case_manifest_without_files(tmp: Path) -> list[str]:
    root = write_snapshot(tmp / "s")
    (root / "manifest.json").write_text('{"captured_at": "2026-11-21"}')
    return ["--snapshot", str(root)]


def _case_file_is_an_object(tmp: Path) -> list[str]:
    root = write_snapshot(tmp / "s")
    (root / "x.json").write_text('{"items": []}')
    return ["--snapshot", str(root)]


def _case_file_is_not_json(tmp: Path) -> list[str]:
    root = write_snapshot(tmp / "s")
    (root / "reddit.json").write_text("[{]")
    return ["--snapshot", str(root)]


def _case_listed_file_missing(tmp: Path) -> list[str]:
    root = write_snapshot(tmp / "s")
    (root / "youtube.json").unlink()
    return ["--snapshot", str(root)]


def _case_file_outside_the_dir(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s", files={"tiktok": "../tiktok.json"}))]


def _case_unknown_source(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s", files={**FILES, "myspace": "x.json"}))]


def _case_unknown_history_source(tmp: Path) -> list[str]:
    history = {"friendster": [{"file": "amazon_history.json", "captured_at": "2026-11-20"}]}
    return ["--snapshot", str(write_snapshot(tmp / "s", history=history))]


def _case_bad_captured_at(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s", captured_at="last Tuesday"))]


def _case_numeric_captured_at(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s", captured_at=1763710200))]


def _case_bad_history_captured_at(tmp: Path) -> list[str]:
    history = {"amazon": [{"file": "amazon_history.json", "captured_at": "20/11/2026"}]}
    return ["--snapshot", str(write_snapshot(tmp / "s", history=history))]


def _case_history_after_capture(tmp: Path) -> list[str]:
    history = {"amazon": [{"file": "amazon_history.json", "captured_at": "2026-11-22T00:00:00Z"}]}
    return ["--snapshot", str(write_snapshot(tmp / "s", history=history))]


def _case_bad_as_of(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s")), "--as-of", "next week"]


def _case_as_of_before_capture(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s")), "--as-of", "2026-11-21T08:00:00Z"]


def _case_as_of_without_a_snapshot(tmp: Path) -> list[str]:
    return ["--as-of", "2026-11-21"]


def _case_snapshot_and_sample(tmp: Path) -> list[str]:
    return ["--snapshot", str(write_snapshot(tmp / "s")), "--sample"]


BAD_INPUTS = [
    (_case_missing_dir, "snapshot directory not found: "),
    (_case_a_file_not_a_dir, "is not a directory"),
    (_case_no_manifest, "no manifest.json in snapshot"),
    (_case_manifest_not_json, "manifest.json is not valid JSON: "),
    (_case_manifest_without_files, "manifest.json must be a JSON object with 'captured_at' and 'files'"),
    (_case_file_is_an_object, "x.json is a JSON object, not a JSON list"),
    (_case_file_is_not_json, "reddit.json is not valid JSON"),
    (_case_listed_file_missing, "youtube.json not found (named by files.youtube in manifest.json)"),
    (_case_file_outside_the_dir, "must be a file name inside the snapshot directory"),
    (_case_unknown_source, "unknown source 'myspace' in 'files'; known: tiktok, amazon"),
    (_case_unknown_history_source, "unknown source 'friendster' in 'history'"),
    (_case_bad_captured_at, 'manifest.json: captured_at "last Tuesday" is not a timestamp; allowed: an ISO-8601 date'),
    (_case_numeric_captured_at, "manifest.json: captured_at 1763710200 is not a timestamp; allowed:"),
    (_case_bad_history_captured_at, 'history.amazon[0].captured_at "20/11/2026" is not a timestamp; allowed:'),
    (_case_history_after_capture, "history.amazon[0].captured_at 2026-11-22T00:00:00Z is not before"),
    (_case_bad_as_of, "--as-of 'next week' is not a timestamp; allowed: an ISO-8601 date (2026-11-20)"),
    (_case_as_of_before_capture, "is before the snapshot's captured_at 2026-11-21T08:30:00Z"),
    (_case_as_of_without_a_snapshot, "use it with --snapshot DIR or --sample"),
    (_case_snapshot_and_sample, "--snapshot and --sample contradict each other"),
]


@pytest.mark.parametrize(("case", "message"), BAD_INPUTS, ids=[c.__name__[6:] for c, _ in BAD_INPUTS])
@pytest.mark.parametrize("command", ["trends", "newsletter"])
def test_bad_snapshot_input_is_a_one_line_error(case: Any, message: str, command: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [command, *case(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not Path("out").exists()


def test_the_pipeline_replays_a_snapshot_without_the_store(snap: Path, settings: Settings) -> None:
    """The library path: `gather(snapshot=...)` needs no store and gives the same report twice."""
    snapshot = Snapshot.open(snap)
    first = pipeline.gather(settings, None, snapshot=snapshot)
    second = pipeline.gather(settings, None, snapshot=Snapshot.open(snap))
    assert first.model_dump_json() == second.model_dump_json()
    assert first.started_at == first.finished_at == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    later = pipeline.gather(settings, None, snapshot=snapshot, as_of=datetime(2026, 11, 25, 8, 30))  # naive = UTC
    assert later.started_at == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    with pytest.raises(SnapshotError, match="before the snapshot's captured_at"):
        pipeline.gather(settings, None, snapshot=snapshot, as_of=datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="clock of a replay"):
        pipeline.gather(settings, None, mode="live", as_of=datetime(2026, 11, 25, tzinfo=UTC))


def test_a_partial_snapshot_skips_the_sources_it_lacks(tmp_path: Path, settings: Settings) -> None:
    snap = write_snapshot(tmp_path / "s", files={"amazon": "amazon.json"}, history={})
    report = pipeline.gather(settings, None, sources=["amazon", "tiktok"], snapshot=Snapshot.open(snap))
    status = {s.source: (s.status, s.reason) for s in report.sources}
    assert status["amazon"][0] == "ok" and status["tiktok"] == ("skipped", f"no snapshot {snap}")
    assert report.items and {it.source for it in report.items} == {"amazon"}
