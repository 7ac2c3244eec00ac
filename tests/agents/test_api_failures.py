"""Bounded API use and explained failures (issue 11, items 3-5), against loopback servers and scripted fakes."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ai_content_agents import runs
from ai_content_agents.agents.base import AgentResult
from ai_content_agents.agents.trend import TrendAgent
from ai_content_agents.cli import ask as ask_cli
from ai_content_agents.store import Store

from . import factories as f
from .fakes import TEST_KEY, LoopbackServer, Script, msg, sdk_client, sse_events, text, use

Raw = tuple[int, dict[str, str], bytes]


def _json(status: int, body: dict[str, Any], **headers: str) -> Raw:
    return status, {"content-type": "application/json", **headers}, json.dumps(body).encode()


def _sse(frames: list[tuple[str | None, dict[str, Any]]]) -> Raw:
    raw = "".join((f"event: {e}\n" if e else "") + f"data: {json.dumps(d)}\n\n" for e, d in frames)
    return 200, {"content-type": "text/event-stream"}, raw.encode()


def _message(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return msg(content, stop)


class RawServer(LoopbackServer):
    """A loopback /v1/messages that answers with scripted raw responses, in order (the last one repeats)."""

    def __init__(self, responses: list[Raw]) -> None:
        self.responses = responses
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                status, headers, raw = outer.responses[min(len(outer.bodies), len(outer.responses)) - 1]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._serve_with(Handler)


def _app() -> typer.Typer:
    app = typer.Typer()
    ask_cli.register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.fixture
def live_env(monkeypatch, settings):  # type: ignore[no-untyped-def]
    """A stored run (so no gather), a key, and no real waiting: any sleep fails the test."""
    monkeypatch.setenv("AICA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    store = Store(settings.db_path)
    runs.save(store, f.report(sample=True))
    store.close()
    slept: list[float] = []
    monkeypatch.setattr("ai_content_agents.agents.api._sleep", slept.append)
    return slept


def _ask(monkeypatch, server: RawServer, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    return CliRunner().invoke(_app(), ["ask", "what's hot?", *args])


def test_429_with_retry_after_3600_ends_at_once_with_a_clear_message(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    err = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens exceeded"}}
    with RawServer([_json(429, err, **{"retry-after": "3600"})]) as server:
        out = _ask(monkeypatch, server)
    assert out.exit_code == ask_cli.EXIT_API, out.output
    assert "3600 s" in out.output and "AICA_ANTHROPIC_MAX_RETRY_AFTER_S" in out.output
    assert "Number of request tokens exceeded" in out.output and "Traceback" not in out.output
    assert len(server.bodies) == 1 and live_env == []  # no SDK retry, no sleep


def test_short_retry_after_is_waited_within_the_cap_then_answers(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    err = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    ok = _json(200, _message([text("All good.")]))
    with RawServer([_json(529, err, **{"retry-after": "2"}), ok]) as server:
        out = _ask(monkeypatch, server, "--no-stream")
    assert out.exit_code == 0, out.output
    assert live_env == [2.0] and "All good." in out.output


def test_400_carries_the_server_message_and_a_hint_never_the_key(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    err = {"error": {"message": f"No connected db. (key {TEST_KEY})", "type": "None", "code": "400"}}
    with RawServer([_json(400, err)]) as server:
        out = _ask(monkeypatch, server)
    assert out.exit_code == ask_cli.EXIT_API
    assert "HTTP 400: No connected db." in out.output
    assert "AICA_SUPPORTS_TOOL_CHOICE" in out.output and "AICA_WRITER_MODEL" in out.output
    assert TEST_KEY not in out.output and "Traceback" not in out.output


def _overloaded_after(text_before: str) -> Raw:
    m = _message([text(text_before or "x")])
    frames: list[tuple[str | None, dict[str, Any]]] = list(sse_events(m))[: 3 if text_before else 1]
    frames.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    return _sse(frames)


def test_mid_stream_overloaded_after_text_is_reported_as_such(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    with RawServer([_overloaded_after("Half an ans"), _sse(list(sse_events(_message([text("never")]))))]) as server:
        out = _ask(monkeypatch, server)
    assert out.exit_code == ask_cli.EXIT_API, out.output
    assert "stream broke off" in out.output and "overloaded_error: Overloaded" in out.output
    assert "HTTP 200" not in out.output and "Traceback" not in out.output
    assert len(server.bodies) == 1  # part of the answer was shown: not retried


def test_mid_stream_error_before_any_text_is_retried_once(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    with RawServer([_overloaded_after(""), _sse(list(sse_events(_message([text("Recovered answer.")]))))]) as server:
        out = _ask(monkeypatch, server)
    assert out.exit_code == 0, out.output
    assert "Recovered answer." in out.output and len(server.bodies) == 2


def test_sse_without_event_lines_is_a_clear_error(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    frames = [(None, d) for _, d in sse_events(_message([text("hello")]))]
    with RawServer([_sse(frames)]) as server:
        out = _ask(monkeypatch, server)
    assert out.exit_code in (ask_cli.EXIT_API, ask_cli.EXIT_INCOMPLETE), out.output
    assert "Traceback" not in out.output


def test_large_max_tokens_are_streamed(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_MAX_TOKENS", "32000")
    with RawServer([_sse(list(sse_events(_message([text("Streamed.")]))))]) as server:
        out = _ask(monkeypatch, server, "--no-stream")
    assert out.exit_code == 0, out.output
    assert server.bodies[0]["stream"] is True and server.bodies[0]["max_tokens"] == 32000


def test_only_the_final_turn_is_the_answer_and_piped_output_has_no_progress(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    first = _message([text("Checking the run."), use("t1", "list_trends", {"limit": 3})], "tool_use")
    with RawServer([_json(200, first), _json(200, _message([text("Final answer: cloud slides.")]))]) as server:
        out = _ask(monkeypatch, server, "--no-stream")
    assert out.exit_code == 0, out.output
    assert "Final answer: cloud slides." in out.output and "Checking the run." not in out.output


def test_an_answer_without_any_tool_gets_a_warning(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    with RawServer([_json(200, _message([text("From memory: slides.")]))]) as server:
        out = _ask(monkeypatch, server, "--no-stream")
    assert out.exit_code == 0 and "used no tool" in out.output


def test_exit_codes_for_refusal_truncation_and_empty(monkeypatch, live_env) -> None:  # type: ignore[no-untyped-def]
    refusal = {**_message([text("")], "refusal"), "stop_details": {"category": "general_harms"}}
    cut = _message([text("A long answer that was cut")], "max_tokens")
    empty = _message([], "end_turn")
    for body, code in ((refusal, ask_cli.EXIT_REFUSED), (cut, ask_cli.EXIT_INCOMPLETE), (empty, ask_cli.EXIT_INCOMPLETE)):
        with RawServer([_json(200, body)]) as server:
            out = _ask(monkeypatch, server, "--no-stream")
        assert out.exit_code == code, (body["stop_reason"], out.output)
        assert "Traceback" not in out.output


def test_tool_input_that_is_not_an_object_goes_back_as_an_error(settings, store) -> None:  # type: ignore[no-untyped-def]
    script = Script([msg([use("t1", "list_trends", [1, 2])], "tool_use"), msg([text("ok")])])  # type: ignore[arg-type]
    agent = TrendAgent(settings, store, report=f.report(), client=sdk_client(script))
    out = agent.ask("hot?")
    assert isinstance(out, AgentResult) and out.text == "ok"
    result = script.requests[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "JSON object" in result["content"]


def test_empty_forced_final_is_retried_without_tools_then_reported(settings, store) -> None:  # type: ignore[no-untyped-def]
    one = settings.model_copy(update={"agent_max_iterations": 1})
    call = msg([use("t1", "list_trends", {"limit": 2})], "tool_use")
    script = Script([call, msg([use("t2", "list_trends", {})], "tool_use"), msg([text("Flattened answer.")])])
    out = TrendAgent(one, store, report=f.report(), client=sdk_client(script)).ask("hot?")
    assert out.text == "Flattened answer." and out.truncated and out.error is None
    assert "tools" in script.requests[1] and "tools" not in script.requests[2] and "tool_choice" not in script.requests[2]
    assert "tool_use" not in json.dumps(script.requests[2]["messages"])  # history flattened to text
    script = Script([call, msg([use("t2", "list_trends", {})], "tool_use"), msg([], "end_turn")])
    out = TrendAgent(one, store, report=f.report(), client=sdk_client(script)).ask("hot?")
    assert out.text == "" and out.error == "the forced final answer came back without text"
