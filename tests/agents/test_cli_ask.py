from __future__ import annotations

import typer
from typer.testing import CliRunner

from ai_content_agents.cli import ask as ask_cli

from . import factories as f


def _app() -> typer.Typer:
    app = typer.Typer()
    ask_cli.register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer in multi-command mode
    return app


def test_ask_offline_streams_tools_and_cost(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", str(settings.data_dir))
    seen: dict[str, object] = {}

    def fake_gather(s, store, **kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        return f.report(sample=True)

    monkeypatch.setattr("ai_content_agents.pipeline.gather", fake_gather)
    out = CliRunner().invoke(_app(), ["ask", "what's hot?", "--sample"])
    assert out.exit_code == 0, out.output
    assert seen["mode"] == "sample"
    assert "Written offline (no ANTHROPIC_API_KEY)" in out.output and "SAMPLE DATA" in out.output
    assert "→ list_trends" in out.output and "usage: 3 model calls" in out.output


def test_ask_shop_without_shop_says_so(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", str(settings.data_dir))
    out = CliRunner().invoke(_app(), ["ask", "how are sales?", "--shop"])
    assert out.exit_code == 2, out.output  # a setup problem, not a complete answer
    assert "TikTok Shop is not available" in out.output and "usage: no model calls" in out.output


def test_ask_deprecated_model_is_a_clear_error(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AICA_WRITER_MODEL", "claude-sonnet-4-5-20250929")
    out = CliRunner().invoke(_app(), ["ask", "hi"])
    assert out.exit_code == 2 and "AICA_WRITER_MODEL" in out.output and "Traceback" not in out.output
