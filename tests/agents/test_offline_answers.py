"""The offline model answers the question asked (issue 11, item 2): a fresh data dir, no keys, the CLI."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from ai_content_agents.agents.intent import read_intent
from ai_content_agents.agents.offline import OfflineModel, OfflineTurn
from ai_content_agents.cli import ask as ask_cli


def _app() -> typer.Typer:
    app = typer.Typer()
    ask_cli.register(app)
    app.command("noop")(lambda: None)
    return app


def _answer(output: str) -> str:
    """The answer part of the output (after the tool-call lines, before the usage line)."""
    lines = [ln for ln in output.splitlines() if not ln.startswith(("→", "usage:", "cost $"))]
    return "\n".join(lines)


@pytest.fixture
def answers(monkeypatch, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", str(tmp_path / "fresh"))  # a fresh data directory, no keys
    questions = {
        "beauty": "what's trending in beauty on TikTok?",
        "amazon": "which Amazon products are climbing fastest?",
        "compare": "compare TikTok and Amazon",
        "post": "what should my skincare brand post this week?",
    }
    out = {}
    for key, q in questions.items():
        res = CliRunner().invoke(_app(), ["ask", q, "--sample"])
        assert res.exit_code == 0, res.output
        out[key] = _answer(res.output)
    return out


def test_each_answer_says_sample_data_and_they_all_differ(answers) -> None:  # type: ignore[no-untyped-def]
    for text in answers.values():
        assert "SAMPLE DATA" in text
    assert len(set(answers.values())) == len(answers)


def test_beauty_on_tiktok_answers_with_tiktok_beauty_items(answers) -> None:  # type: ignore[no-untyped-def]
    text = answers["beauty"]
    assert "## Trending: beauty on TikTok" in text
    assert "LED Face Mask" in text and "Heatless" in text  # beauty stories with TikTok evidence
    assert "Blender" not in text and "Phone Grip" not in text  # home & kitchen: not beauty


def test_amazon_climbers_are_amazon_movers_by_amazon_strength(answers) -> None:  # type: ignore[no-untyped-def]
    text = answers["amazon"]
    assert "## Climbing fastest: Amazon products" in text
    strengths = [float(x) for x in re.findall(r"strength ([0-9.]+) on Amazon", text)]
    assert len(strengths) >= 3 and strengths == sorted(strengths, reverse=True)
    assert "Blender" not in text.split("## Climbing fastest")[1].split("\n- ")[1]  # the top mover is not TikTok's


def test_compare_shows_both_sources(answers) -> None:  # type: ignore[no-untyped-def]
    text = answers["compare"]
    assert "### On TikTok" in text and "### On Amazon" in text
    tiktok = text.split("### On TikTok")[1].split("### On Amazon")[0]
    amazon = text.split("### On Amazon")[1]
    assert "on TikTok" in tiktok and "on Amazon" in amazon and tiktok != amazon
    assert "Strong on more than one:" in text


def test_advice_question_gives_advice_in_the_asked_niche(answers) -> None:  # type: ignore[no-untyped-def]
    text = answers["post"]
    assert "## What to post this week (skincare)" in text and "Post idea:" in text
    assert "Blender" not in text  # the niche narrows to beauty when nothing matches "skincare" itself


def test_intent_reader() -> None:
    i = read_intent("Compare TikTok vs Amazon for beauty")
    assert i.sources == ["tiktok", "amazon"] and i.compare and i.category == "beauty"
    i = read_intent("which Amazon products are climbing fastest?")
    assert i.sources == ["amazon"] and i.movers and not i.compare and i.words == []
    i = read_intent("what should I stock in my shop?")
    assert i.advice == "stock" and i.sources == ["tiktok_shop"]
    assert read_intent("heatless curlers on reddit").words == ["heatless", "curlers"]


def test_offline_model_is_generic_and_follows_a_supplied_plan() -> None:
    seen: list[OfflineTurn] = []

    def plan(turn: OfflineTurn):  # type: ignore[no-untyped-def]
        seen.append(turn)
        return turn.answer(f"you asked: {turn.question}")

    model = OfflineModel().with_plan(plan)
    msg = model.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi there"}])
    assert msg.content[0].text == "you asked: hi there" and seen[0].tools == frozenset()  # type: ignore[union-attr]


def test_offline_model_without_a_plan_knows_no_agent() -> None:
    """Given tools and prompts that look like the editor's or the writer's, the bare model only says it is offline."""
    from ai_content_agents.agents.offline import OFFLINE_BANNER

    tools = [{"name": "list_trends", "description": "d", "input_schema": {"type": "object"}},
             {"name": "shop_status", "description": "d", "input_schema": {"type": "object"}}]
    for prompt in ('<editor_brief_request top_n="20">plan</editor_brief_request>',
                   '<section key="top_trend"></section><trend_payloads>[]</trend_payloads>'):
        msg = OfflineModel().messages.create(model="m", max_tokens=10, tools=tools,
                                             messages=[{"role": "user", "content": prompt}])
        assert [b.type for b in msg.content] == ["text"] and msg.content[0].text == OFFLINE_BANNER  # type: ignore[union-attr]
