"""The main job as a user runs it: no keys, no network, sample data, labelled outputs, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Self

from typer.testing import CliRunner

from ai_content_agents.cli import app

runner = CliRunner()


def test_newsletter_from_sample_data_as_a_newcomer_runs_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "APIFY_", "AICA_", "TIKTOK_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "ai_content_agents", "newsletter", "--sample"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out" / "latest"  # -> out/issues/<date>-<run id>/
    md, html = (out / "newsletter.md").read_text(), (out / "newsletter.html").read_text()
    data = json.loads((out / "newsletter.json").read_text())
    assert (out / "newsletter.txt").is_file() and out.resolve().parent.name == "issues"
    assert md.splitlines()[0].startswith("> **SAMPLE DATA**")
    assert "SAMPLE DATA" in html[: html.index("<h1")]
    assert data["sample"] and data["offline"] and len(data["sections"]) == 5
    assert not [s["key"] for s in data["sections"] if s["error"]]
    assert all(c["passed"] for c in data["factcheck"]) and sum(c["total"] for c in data["factcheck"]) > 0
    assert "offline" in md  # says who wrote it
    assert "Traceback" not in proc.stderr


def test_trends_json_is_machine_readable(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trends", "--sample", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sample"] is True and len(data["trends"]) == 5
    assert [t["rank"] for t in data["trends"]] == [1, 2, 3, 4, 5]
    assert all(f["source"] == it["source"] for t in data["trends"] for it in t["items"] for f in it["figures"])
    assert all(ev["best_key"] in {f"{it['source']}:{it['source_id']}" for it in t["items"]}
               for t in data["trends"] for ev in t["evidence"])


def test_sources_filter_and_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trends", "--sample", "--sources", "amazon,reddit"])
    assert result.exit_code == 0, result.output
    assert "amazon" in result.output and "tiktok " not in result.output
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 0
    for name in ("tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop"):
        assert name in result.output
    assert "APIFY_TOKEN" in result.output  # says what is missing


def test_bad_input_is_a_clear_error_not_a_traceback() -> None:
    result = runner.invoke(app, ["newsletter", "--sources", "tiktok,myspace"])
    assert result.exit_code == 2 and "unknown source" in result.output and "myspace" in result.output
    result = runner.invoke(app, ["newsletter", "--sample", "--live"])
    assert result.exit_code == 2 and "contradict" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_live_without_keys_refuses_to_use_sample_data(offline) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["newsletter", "--live"])
    assert result.exit_code == 2
    assert "no source produced live data" in result.output and "skipped" in result.output
    assert not Path("out").exists()


def test_auto_mode_without_keys_falls_back_to_sample_and_says_so(offline) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["newsletter"])
    assert result.exit_code == 0, result.output
    assert "SAMPLE DATA" in result.output
    assert json.loads(Path("out/latest/newsletter.json").read_text())["sample"] is True


def test_without_network_each_host_is_tried_once_and_the_spinner_names_the_sources(offline, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.cli import common

    spinner: list[str] = []

    class Status:  # records what the spinner would show
        def __init__(self, text: str, **kw: object) -> None:
            spinner.append(text)

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, text: str) -> None:
            spinner.append(text)

    monkeypatch.setattr(common.console, "status", Status)
    result = runner.invoke(app, ["newsletter"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "reddit: r/shopify top (public) failed: DNS lookup failed (not retried)" in said and "SAMPLE DATA" in said
    assert offline.lookups == {"www.reddit.com": 1}  # no retries, and not once per subreddit
    assert spinner[0] == "waiting for sources…"
    assert spinner[1] == "waiting for tiktok, amazon, x, reddit, youtube, tiktok_shop…"
    assert spinner[-1] == "ranking…"
