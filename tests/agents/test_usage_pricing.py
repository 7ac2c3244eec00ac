"""Usage priced by the configured model id, 1-hour cache writes at 2×, a cache breakpoint on the history (item 6)."""

from __future__ import annotations

from ai_content_agents.agents.base import with_history_breakpoint
from ai_content_agents.agents.trend import TrendAgent
from ai_content_agents.agents.usage import Price, RunUsage

from . import factories as f
from .fakes import Script, msg, sdk_client, text, use


def test_priced_by_the_configured_model_and_server_id_shown(settings, store) -> None:  # type: ignore[no-untyped-def]
    usage = {"input_tokens": 1_000_000, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    script = Script([msg([text("hi")], usage=usage, model="/models/qwen3-8b-q4.gguf")])
    agent = TrendAgent(settings, store, report=f.report(), client=sdk_client(script))
    agent.ask("hot?")
    total = agent.usage.total()
    assert total.model == settings.writer_model and total.cost_usd == 3.0  # sonnet input price
    assert "served as /models/qwen3-8b-q4.gguf" in agent.usage.summary()


def test_one_hour_cache_writes_cost_twice_the_input_price() -> None:
    run = RunUsage("r", prices={"m": Price(input=1.0, output=0.0)})
    call = run.add("a", "m", {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 3_000_000,
                              "cache_creation": {"ephemeral_5m_input_tokens": 1_000_000,
                                                 "ephemeral_1h_input_tokens": 2_000_000}})
    assert call.cache_write_1h_tokens == 2_000_000
    assert abs(call.cost_usd - (1.25 + 4.0)) < 1e-9


def test_growing_history_carries_one_cache_breakpoint(settings, store) -> None:  # type: ignore[no-untyped-def]
    script = Script([msg([use("t1", "list_trends", {"limit": 2})], "tool_use"), msg([text("done")])])
    TrendAgent(settings, store, report=f.report(), client=sdk_client(script)).ask("hot?")
    second = script.requests[1]["messages"]
    marked = [b for m in second for b in m["content"] if isinstance(b, dict) and "cache_control" in b]
    assert len(marked) == 1 and marked[0]["type"] == "tool_result"
    first = script.requests[0]["messages"]
    assert "cache_control" in first[-1]["content"][-1]
    history = [{"role": "user", "content": [{"type": "text", "text": "q"}]}]
    assert with_history_breakpoint(history) is not history and "cache_control" not in history[0]["content"][0]


def test_no_breakpoint_where_caching_is_unsupported(settings, store) -> None:  # type: ignore[no-untyped-def]
    no_cache = settings.model_copy(update={"supports_cache_control": False})
    script = Script([msg([text("done")])])
    TrendAgent(no_cache, store, report=f.report(), client=sdk_client(script)).ask("hot?")
    assert "cache_control" not in str(script.requests[0])
