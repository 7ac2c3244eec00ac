"""A recorded short agent exchange (vcrpy via pytest-recording), with the authorization header filtered.

Recorded once against the loopback fake (`--record-mode=once`); the suite replays it with `--record-mode=none`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.agents.trend import TrendAgent
from ai_content_agents.config import Settings

from . import factories as f
from .fakes import TEST_KEY, FakeMessagesServer

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "agents"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"filter_headers": ["authorization", "x-api-key"], "match_on": ["method", "path", "body"]}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    return OfflineModel().messages.create(**body).model_dump(mode="json", exclude_none=True)


@pytest.mark.vcr
def test_recorded_trend_agent_exchange(settings, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with FakeMessagesServer(_reply) as server:  # only reached while recording
        live = Settings(data_dir=settings.data_dir, anthropic_api_key=TEST_KEY, anthropic_base_url=server.url,
                        _env_file=None)
        agent = TrendAgent(live, store, report=f.report())
        result = agent.ask("what's hot on tiktok?")
    assert not result.offline and result.model == "offline-model"
    assert [r.name for r in result.tool_records] == ["gather", "list_trends", "trend_detail", "trend_detail"]
    assert "412K plays" in result.text


def test_cassette_holds_no_key() -> None:
    files = list(CASSETTES.rglob("*.yaml"))
    assert files, "the cassette should be committed"
    for path in files:
        raw = path.read_text()
        assert TEST_KEY not in raw and "sk-ant" not in raw and "Bearer" not in raw
        assert "/v1/messages" in raw
