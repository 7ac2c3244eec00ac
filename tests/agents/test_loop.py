"""BaseAgent loop against a scripted model on httpx2.MockTransport (the real SDK, no network)."""

from __future__ import annotations

import json
import threading
from itertools import pairwise
from typing import Annotated

import pytest
from pydantic import Field

from ai_content_agents.agents.base import (
    AgentResult,
    BaseAgent,
    Capabilities,
    Decision,
    PendingApproval,
)
from ai_content_agents.agents.tools import Tool, ToolFailure, ToolRegistry
from ai_content_agents.agents.usage import Price, RunUsage

from .fakes import TEST_KEY, Script, last_tool_results, msg, sdk_client, text, use


def make_agent(script: Script, tools: list[Tool], **kw) -> BaseAgent:  # type: ignore[no-untyped-def]
    return BaseAgent(sdk_client(script), model="claude-sonnet-5-5", system="You are a test agent.",
                     tools=ToolRegistry(tools), **kw)


def add(a: int, b: Annotated[int, Field(ge=0)] = 1) -> dict[str, int]:
    """Add two numbers.

    Args:
        a: the first.
        b: the second, not negative.
    """
    return {"sum": a + b}


def test_tool_schema_comes_from_hints_and_docstring() -> None:
    t = Tool.from_function(add)
    schema = t.input_schema()
    assert t.description == "Add two numbers."
    assert schema["required"] == ["a"]
    assert schema["properties"]["b"]["minimum"] == 0
    assert schema["properties"]["a"]["description"] == "the first."
    assert schema["additionalProperties"] is False
    assert t.call({"a": 2, "b": 3}).content == '{"sum":5}'
    bad = t.call({"a": "x", "zzz": 1})
    assert bad.is_error and "a:" in bad.content and "zzz" in bad.content


def test_parallel_tool_calls_run_concurrently_and_return_in_one_message() -> None:
    barrier = threading.Barrier(2, timeout=10)  # both calls must be running at once to pass it

    def slow(x: int) -> str:
        """Wait for the other call."""
        barrier.wait()
        return f"done {x}"

    script = Script([
        msg([text("two at once"), use("t1", "slow", {"x": 1}), use("t2", "slow", {"x": 2})], "tool_use"),
        msg([text("both done")]),
    ])
    result = make_agent(script, [Tool.from_function(slow)]).run("go")
    assert isinstance(result, AgentResult) and result.text == "both done"
    results = last_tool_results(script.requests[1])
    assert [(r["tool_use_id"], r["content"], r["is_error"]) for r in results] == [("t1", "done 1", False), ("t2", "done 2", False)]
    assert script.requests[1]["messages"][1]["role"] == "assistant"
    assert len(script.requests[1]["messages"]) == 3  # user, assistant(tool_use), ONE user with both results


def test_tool_errors_are_sanitised_and_unknown_tools_answered() -> None:
    def leaky() -> str:
        """Fails with a secret in its message."""
        raise RuntimeError(f"GET https://api.example.com/x?access_token={TEST_KEY} failed")

    def polite() -> str:
        """Fails with a safe message."""
        raise ToolFailure("nothing matched")

    script = Script([
        msg([use("a", "leaky"), use("b", "nope"), use("c", "polite"), use("d", "add", {"a": "NaN-ish"})], "tool_use"),
        msg([text("ok")]),
    ])
    result = make_agent(script, [Tool.from_function(leaky), Tool.from_function(polite), Tool.from_function(add)]).run("go")
    assert isinstance(result, AgentResult)
    results = {r["tool_use_id"]: r for r in last_tool_results(script.requests[1])}
    assert all(r["is_error"] for r in results.values())
    assert results["a"]["content"] == "the tool failed with an internal error"
    assert "unknown tool 'nope'" in results["b"]["content"]
    assert results["c"]["content"] == "nothing matched"
    assert results["d"]["content"].startswith("invalid arguments: a:")
    dumped = json.dumps(script.requests)
    assert TEST_KEY not in dumped and "RuntimeError" not in dumped and "access_token" not in dumped


def test_pause_turn_is_resent_without_running_tools() -> None:
    calls: list[int] = []

    def count() -> int:
        """Count calls."""
        calls.append(1)
        return len(calls)

    script = Script([msg([text("thinking...")], "pause_turn"), msg([text("final")])])
    result = make_agent(script, [Tool.from_function(count)]).run("go")
    assert isinstance(result, AgentResult) and result.text == "final" and not calls
    resent = script.requests[1]["messages"]
    assert resent[-1] == {"role": "assistant", "content": [{"type": "text", "text": "thinking..."}]}


def test_max_tokens_never_executes_a_truncated_tool_call() -> None:
    calls: list[int] = []

    def danger(x: int) -> str:
        """Must not run."""
        calls.append(x)
        return "ran"

    script = Script([msg([text("partial"), use("t1", "danger", {"x": 1})], "max_tokens")])
    result = make_agent(script, [Tool.from_function(danger)]).run("go")
    assert isinstance(result, AgentResult)
    assert result.truncated and result.stop_reason == "max_tokens" and not calls
    assert "not executed" in (result.error or "")


def test_refusal_is_surfaced_with_its_category() -> None:
    script = Script([msg([text("")], "refusal", stop_details={"type": "refusal", "category": "cyber", "explanation": None})])
    result = make_agent(script, []).run("do something bad")
    assert isinstance(result, AgentResult)
    assert result.refused and result.refusal_category == "cyber" and len(script.requests) == 1


@pytest.mark.parametrize("tool_choice", [True, False])
def test_max_iterations_forces_a_final_answer(tool_choice: bool) -> None:
    loop = [msg([use(f"t{i}", "add", {"a": i})], "tool_use") for i in range(3)]
    final = msg([text("summary from what I have"), use("tx", "add", {"a": 9})], "end_turn")
    script = Script([*loop, final])
    agent = make_agent(script, [Tool.from_function(add)], max_iterations=3,
                       capabilities=Capabilities(tool_choice=tool_choice))
    result = agent.run("loop forever")
    assert isinstance(result, AgentResult)
    assert result.truncated and result.text == "summary from what I have"
    assert len(result.tool_records) == 3  # the tool_use in the forced reply was never executed
    last = script.requests[-1]
    nudge = last["messages"][-1]["content"][-1]
    assert nudge["type"] == "text" and "final answer" in nudge["text"]
    roles = [m["role"] for m in last["messages"]]
    assert all(a != b for a, b in pairwise(roles))  # never two user turns in a row
    if tool_choice:
        assert last["tool_choice"] == {"type": "none"} and last["tools"]
    else:
        assert "tools" not in last and "tool_choice" not in last
        kinds = {b["type"] for m in last["messages"] for b in m["content"]}
        assert kinds == {"text"}  # tool blocks flattened to text


def test_approval_pauses_and_resumes_with_approve_and_deny() -> None:
    done: list[str] = []

    def write(item: str) -> str:
        """A write that needs a person."""
        done.append(item)
        return f"wrote {item}"

    script = Script([
        msg([use("r1", "add", {"a": 1}), use("w1", "write", {"item": "A"}), use("w2", "write", {"item": "B"})], "tool_use"),
        msg([text("finished")]),
    ])
    tools = [Tool.from_function(add), Tool.from_function(write, requires_approval=True)]
    agent = make_agent(script, tools)
    paused = agent.run("change things")
    assert isinstance(paused, PendingApproval) and not done
    assert [c.id for c in paused.gated] == ["w1", "w2"]
    restored = PendingApproval.model_validate_json(paused.model_dump_json())  # serialisable across processes
    result = agent.resume(restored, {"w1": Decision(approve=True, by="alice"), "w2": Decision(approve=False, reason="too risky")})
    assert isinstance(result, AgentResult) and result.text == "finished"
    assert done == ["A"]
    results = {r["tool_use_id"]: r for r in last_tool_results(script.requests[1])}
    assert set(results) == {"r1", "w1", "w2"}  # every call of that turn answered in one message
    assert results["w2"]["is_error"] and results["w2"]["content"] == "denied by operator: too risky"
    assert results["w1"]["content"] == "wrote A" and results["r1"]["content"] == '{"sum":2}'
    assert {r.id: r.approved_by for r in result.tool_records}["w1"] == "alice"


def test_usage_is_accounted_per_call_agent_and_stored(store) -> None:  # type: ignore[no-untyped-def]
    u1 = {"input_tokens": 1000, "output_tokens": 100, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 0}
    u2 = {"input_tokens": 500, "output_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2000}
    script = Script([msg([use("t", "add", {"a": 1})], "tool_use", usage=u1), msg([text("ok")], usage=u2)])
    usage = RunUsage("run-1", prices={"claude-sonnet": Price(input=3, output=15)}, store=store)
    make_agent(script, [Tool.from_function(add)], usage=usage).run("go")
    total = usage.total()
    assert (total.input_tokens, total.output_tokens, total.cache_write_tokens, total.cache_read_tokens) == (1500, 150, 2000, 2000)
    expected = (1500 * 3 + 150 * 15 + 2000 * 3.75 + 2000 * 0.3) / 1e6
    assert total.cost_usd == pytest.approx(expected)
    rows = store.query("SELECT agent, model, input_tokens, cache_write_tokens, cost_usd FROM usage WHERE run_id = 'run-1'")
    assert [(r["agent"], r["input_tokens"]) for r in rows] == [("agent", 1000), ("agent", 500)]
    assert sum(r["cost_usd"] for r in rows) == pytest.approx(expected)
    assert "2 model calls" in usage.summary() and f"cost ${expected:.4f}" in usage.summary()


def test_system_prompt_is_top_level_and_cached_when_supported() -> None:
    script = Script([msg([text("a")]), msg([text("b")])])
    make_agent(script, [Tool.from_function(add)]).run("go")
    make_agent(script, [Tool.from_function(add)], capabilities=Capabilities(cache_control=False)).run("go")
    cached, plain = script.requests
    assert cached["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert cached["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in plain["system"][0] and "cache_control" not in plain["tools"][-1]
    assert all(m["role"] != "system" for m in cached["messages"])
    assert "temperature" not in cached
