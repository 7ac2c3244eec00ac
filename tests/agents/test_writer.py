"""ClaudeWriter: structured output, lenient parsing, revision on fact-check failure, and an end-to-end
newsletter run through the real SDK against a loopback /v1/messages server (ANTHROPIC_BASE_URL)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ai_content_agents.agents.base import make_client
from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.agents.usage import RunUsage
from ai_content_agents.config import Settings
from ai_content_agents.models import FactcheckFigure, FactcheckReport
from ai_content_agents.agents.claude_writer import ClaudeWriter, parse_draft
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.sections import SECTION_SPECS

from . import factories as f
from . import fakes
from .fakes import TEST_KEY, FakeMessagesServer, Script, msg, sdk_client, text

TOP = SECTION_SPECS[0]
GOOD = {"cluster_id": "c1", "headline": "Cloud slides", "signal": "412K plays on TikTok since posting",
        "why_it_matters": "Buyers.", "corroboration": "Single source.", "caveat": "Fresh.", "action": "Test it.",
        "links": ["https://example.com/tiktok/v1"]}


def offline_reply(body: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved model would write: the offline model's answer, as a wire-format Message."""
    from ai_content_agents.agents.trend_offline import trend_plan
    from ai_content_agents.agents.writer_offline import section_plan

    trend_tools = any(t.get("name") == "list_trends" for t in body.get("tools") or [])
    return fakes.offline_reply(body, trend_plan if trend_tools else section_plan)


def test_structured_output_request_and_parse(settings) -> None:  # type: ignore[no-untyped-def]
    script = Script([msg([text(json.dumps({"intro": "Hi", "items": [GOOD], "bullets": []}))])])
    writer = ClaudeWriter(sdk_client(script), settings)
    section = writer.write_section(TOP, [f.trend()], f.report())
    assert section.error is None and section.items[0].signal == GOOD["signal"]
    req = script.requests[0]
    schema = req["output_config"]["format"]["schema"]
    assert req["output_config"]["format"]["type"] == "json_schema" and schema["additionalProperties"] is False
    prompt = req["messages"][0]["content"]
    assert '"display":"412K"' in prompt and "<trend_payloads>" in prompt
    assert req["system"][0]["text"].startswith("You write one section") and writer.name == "claude-sonnet-5-5"


def test_lenient_parse_and_a_parse_failure_counts_as_an_attempt(settings) -> None:  # type: ignore[no-untyped-def]
    assert parse_draft("Sure!\n```json\n" + json.dumps({"items": [GOOD]}) + "\n```").items[0].cluster_id == "c1"
    no_so = settings.model_copy(update={"supports_structured_output": False})
    script = Script([msg([text("I think it is great")]), msg([text(json.dumps({"items": [GOOD]}))])])
    section = ClaudeWriter(sdk_client(script), no_so).write_section(TOP, [f.trend()], f.report())
    assert section.error is None and "output_config" not in script.requests[0]
    assert "unusable" in script.requests[1]["messages"][-1]["content"]
    bad = Script([msg([text("{}")]), msg([text(json.dumps({"items": [{**GOOD, "cluster_id": "zz"}]}))])])
    failed = ClaudeWriter(sdk_client(bad), settings).write_section(TOP, [f.trend()], f.report())
    assert failed.error and failed.error.startswith("ERROR:") and not failed.items


def test_revision_sends_the_ungrounded_figures(settings) -> None:  # type: ignore[no-untyped-def]
    script = Script([msg([text(json.dumps({"items": [GOOD]}))])])
    writer = ClaudeWriter(sdk_client(script), settings)
    check = FactcheckReport(section="top_trend", figures=[FactcheckFigure(text="9.9M", value=9.9e6, kind="count", grounded=False)],
                            bad_links=["https://evil.example/x"])
    draft = writer.write_section(TOP, [f.trend()], f.report()).model_copy()
    script.replies.append(msg([text(json.dumps({"items": [GOOD]}))]))
    writer.revise_section(TOP, [f.trend()], f.report(), draft, check)
    feedback = script.requests[-1]["messages"][-1]["content"]
    assert '"9.9M"' in feedback and "https://evil.example/x" in feedback
    assert script.requests[-1]["messages"][1]["role"] == "assistant"


def test_end_to_end_newsletter_through_the_sdk_and_a_loopback_server(settings, monkeypatch, store) -> None:  # type: ignore[no-untyped-def]
    """The real SDK client from make_client (env ANTHROPIC_BASE_URL + key), compose's fact-check gate and a
    revision round: the fake model invents a figure once for the top trend, then corrects it."""
    invented = {"done": False}

    def responder(body: dict[str, Any]) -> dict[str, Any]:
        reply = offline_reply(body)
        prompt = body["messages"][0]["content"]
        if 'key="creator_watch"' in prompt and not invented["done"]:  # unnamed TikTok videos: Creator watch
            invented["done"] = True
            draft = json.loads(reply["content"][0]["text"])
            draft["items"][0]["signal"] = "9.9M plays in a day on TikTok"
            reply["content"][0]["text"] = json.dumps(draft)
        return reply

    with FakeMessagesServer(responder) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
        live = Settings(data_dir=settings.data_dir, _env_file=None)
        client = make_client(live)
        assert not isinstance(client, OfflineModel)
        usage = RunUsage.from_settings(live, "nl-1", store)
        writer = ClaudeWriter(client, live, usage=usage)
        report = f.report([f.trend("c1", 1), f.trend("c2", 2, title="Mini waffle maker",
                                                       items=[f.item(source_id="v2", title="Mini waffle maker")])])
        letter = compose(report, writer, now=f.NOW)
    assert letter.writer == "claude-sonnet-5-5" and not letter.offline
    assert all(s.error is None for s in letter.sections), [s.error for s in letter.sections]
    top = next(c for c in letter.factcheck if c.section == "creator_watch")
    assert top.attempts == 2 and top.passed
    assert all(c.passed for c in letter.factcheck)
    assert "9.9M" not in letter.model_dump_json()
    assert all(h == f"Bearer {TEST_KEY}" for h in server.auth_headers)
    assert server.input_tokens > 0 and usage.total().calls == len(server.bodies)
    assert store.query("SELECT COUNT(*) AS n FROM usage WHERE run_id = 'nl-1'")[0]["n"] == len(server.bodies)


def test_streaming_agent_answer_over_sse(settings, monkeypatch, store) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.agents.trend import TrendAgent

    with FakeMessagesServer(offline_reply) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
        live = Settings(data_dir=settings.data_dir, _env_file=None)
        chunks: list[str] = []
        agent = TrendAgent(live, store, report=f.report(), on_text=chunks.append)
        result = agent.ask("what's hot?")
    assert all(b.get("stream") is True for b in server.bodies)
    f.assert_a_sound_run(agent, result, read_only=True)
    assert "".join(chunks).endswith(result.text) and "412K plays" in result.text


def test_deprecated_model_fails_fast(settings) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.agents.base import ModelDeprecated

    old = settings.model_copy(update={"writer_model": "claude-sonnet-4-5"})
    with pytest.raises(ModelDeprecated, match="AICA_WRITER_MODEL"):
        make_client(old)
    assert isinstance(make_client(settings), OfflineModel)
