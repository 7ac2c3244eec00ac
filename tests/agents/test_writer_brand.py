"""A profile's newsletter name, audience and voice reach the writers: Claude's system prompt, the offline
model's copy and the template writer's lead intro."""

from __future__ import annotations

import json

from ai_content_agents.agents.claude_writer import ClaudeWriter
from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.newsletter.sections import SECTION_SPECS
from ai_content_agents.newsletter.template_writer import TemplateWriter
from ai_content_agents.profiles import parse

from . import factories as f
from .fakes import Script, msg, sdk_client, text

TOP = SECTION_SPECS[0]
PROFILE = """
[newsletter]
name = "Skin Signal"
audience = "Founders of indie skincare brands."
voice = "Calm, <evidence-first>, no hype."
"""


def test_claude_writer_system_prompt_carries_the_profile_audience_and_voice(settings) -> None:  # type: ignore[no-untyped-def]
    branded = parse(PROFILE, "skin", "test").apply(settings)
    good = {"cluster_id": "c1", "headline": "Cloud slides", "signal": "", "why_it_matters": "Buyers.",
            "corroboration": "", "caveat": "", "action": "Test it.", "links": []}
    script = Script([msg([text(json.dumps({"intro": "", "items": [good], "bullets": []}))])] * 2)
    ClaudeWriter(sdk_client(script), branded).write_section(TOP, [f.trend()], f.report())
    system = script.requests[0]["system"][0]["text"]
    assert '<newsletter name="Skin Signal">' in system
    assert "<audience>Founders of indie skincare brands.</audience>" in system
    assert "<voice>Calm, (evidence-first), no hype.</voice>" in system  # brackets cannot open a block
    ClaudeWriter(sdk_client(script), settings).write_section(TOP, [f.trend()], f.report())
    assert "<audience>" not in script.requests[1]["system"][0]["text"]  # no profile, no block


def test_offline_model_and_template_writer_name_the_audience_under_the_lead(settings) -> None:  # type: ignore[no-untyped-def]
    branded = parse(PROFILE, "skin", "test").apply(settings)
    offline = ClaudeWriter(OfflineModel(), branded).write_section(TOP, [f.trend()], f.report())
    assert offline.intro.endswith("Picked for: Founders of indie skincare brands.")
    templ = TemplateWriter(branded.masthead()).write_section(TOP, [f.trend()], f.report())
    assert templ.intro == offline.intro
    plain = TemplateWriter().write_section(TOP, [f.trend()], f.report())
    assert "Picked for" not in plain.intro
