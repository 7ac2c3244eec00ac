"""Partial failure: a section the writer cannot produce, or that fails the fact-check, is withheld with a clear
message; the rest of the issue is written; the exit code says so; a deterministic writer is never retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from typer.testing import CliRunner

from ai_content_agents.agents.editor_offline import editor_plan
from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.agents.writer_offline import section_plan
from ai_content_agents.config import Settings
from ai_content_agents.cli import app
from ai_content_agents.agents import editor
from ai_content_agents.newsletter import template_writer
from ai_content_agents.agents.claude_writer import ClaudeWriter
from ai_content_agents.newsletter.compose import compose

from . import stories as S

KEY = "sk-ant-test-0123456789abcdef"


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """A well-behaved model: the editor's offline plan for the editor's request (it has tools), the
    writer's for a section; as wire JSON."""
    plan = editor_plan(Settings.model_fields["top_n"].default) if body.get("tools") else section_plan
    request = {k: v for k, v in body.items() if k != "stream"}
    return OfflineModel(plan).messages.create(**request).model_dump(mode="json", exclude_none=True)


def overloaded_on(section_key: str, calls: list[str]) -> anthropic.Anthropic:
    """A model that answers like the offline model, except HTTP 529 (overloaded) for one section's writer call."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        first = body["messages"][0]["content"]
        prompt = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first if isinstance(b, dict))
        calls.append(prompt[:60])
        if f'<section key="{section_key}"' in prompt:
            return httpx2.Response(529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        return httpx2.Response(200, json=answer(body))

    return anthropic.Anthropic(api_key=KEY, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))


def test_an_api_error_on_one_section_withholds_it_and_writes_the_rest(settings, store) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    nl = editor.write_with_agents(S.report(), settings, store, client=overloaded_on("amazon_movers", calls), now=S.NOW)
    by_key = {s.key: s for s in nl.sections}
    message = str(by_key["amazon_movers"].error)
    assert message.startswith("Withheld: the writer failed") and ("529" in message or "Overloaded" in message)
    assert "rest of this issue was written" in str(by_key["amazon_movers"].error)
    assert [s.key for s in nl.withheld] == ["amazon_movers"]
    assert by_key["top_trend"].items and by_key["creator_watch"].items and by_key["sellers"].items
    # no action for a story whose only write-up was withheld
    assert not {"story:blenders", "story:curlers"} & set(by_key["action_list"].bullet_ids)
    assert by_key["action_list"].bullet_ids[0] == "story:led-masks"
    assert nl.quality["withheld_sections"] == 1


def test_a_deterministic_writer_is_not_retried(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = template_writer.write_json

    def with_an_invented_figure(key: str, payloads, **kw):  # type: ignore[no-untyped-def]
        body = real(key, payloads, **kw)
        if key == "top_trend" and body["items"]:
            body["items"][0]["signal"] += " Sales doubled to 9.9M."
        return body

    monkeypatch.setattr(template_writer, "write_json", with_an_invented_figure)
    writer = ClaudeWriter(OfflineModel(), settings)
    seen: list[dict[str, Any]] = []
    create = writer.client.messages.create
    monkeypatch.setattr(writer.client.messages, "create", lambda **kw: seen.append(kw) or create(**kw))
    assert not writer.can_revise
    nl = compose(S.report(), writer, now=S.NOW)
    top = nl.sections[0]
    assert top.error and "9.9M" in top.error and "one attempt" in top.error
    assert nl.factcheck[0].attempts == 1
    assert sum('<section key="top_trend"' in kw["messages"][0]["content"] for kw in seen) == 1
    assert all(not s.error for s in nl.sections[1:])


def test_the_cli_exits_3_and_still_publishes_the_rest(monkeypatch, tmp_path: Path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(editor, "make_client", lambda settings: overloaded_on("creator_watch", calls))
    result = CliRunner().invoke(app, ["newsletter", "--sample", "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "withheld" in result.output and "Creator watch" in result.output
    data = json.loads((tmp_path / "out" / "latest" / "newsletter.json").read_text())
    assert [w["section"] for w in data["withheld"]] == ["creator_watch"]
    assert any(s["items"] for s in data["sections"] if s["key"] != "creator_watch")


@pytest.mark.parametrize("sources", [None, "tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop"])
def test_no_sample_run_withholds_a_section(sources: str | None, tmp_path: Path) -> None:
    args = ["newsletter", "--sample", "--out", str(tmp_path / "out")] + (["--sources", sources] if sources else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "latest" / "newsletter.json").read_text())
    assert data["withheld"] == [] and all(c["passed"] for c in data["factcheck"])
    assert data["quality"]["distinct_line_share"] >= 0.9 and data["quality"]["max_phrase_repeats"] <= 2
