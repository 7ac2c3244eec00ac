"""Every bad setting and path is one line, from every command, before anything is fetched or paid for.

The line names the variable (or option), shows the bad value (never a secret's) and says what is allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sources.fakes import FakeServer, Response
from typer.testing import CliRunner

from ai_content_agents.cli import app

runner = CliRunner()

BAD_SETTINGS = [
    ("AICA_SOURCE_WEIGHTS", '{"reddit": -1}', ">= 0"),
    ("AICA_SOURCE_WEIGHTS['reddit']", '{"reddit": NaN}', "finite"),
    ("AICA_SOURCE_WEIGHTS", '{"reddit": 0.5', "JSON"),
    ("AICA_SOURCE_WEIGHTS", '{"redit": 0.5}', "allowed keys"),
    ("AICA_SOURCE_WEIGHTS", '[1, 2]', "dictionary"),
    ("AICA_MODEL_PRICES", '{"claude-sonnet": {"input": 3', "JSON"),
    ("AICA_MODEL_PRICES", '{"claude-sonnet": {"input": 3}}', "'output'"),
    ("AICA_MODEL_PRICES", '{"claude-sonnet": {"input": -3, "output": 15}}', ">= 0"),
    ("AICA_HTTP_TIMEOUT_S", "inf", "finite"),
    ("AICA_HTTP_TIMEOUT_S", "nan", "finite"),
    ("AICA_HTTP_TIMEOUT_S", "0", "greater than 0"),
    ("AICA_HTTP_TIMEOUT_S", "1e12", "less than or equal"),
    ("AICA_SOURCE_TIMEOUT_S", "-5", "greater than 0"),
    ("AICA_RUN_DEADLINE_S", "infinity", "finite"),
    ("AICA_DECAY_HALF_LIFE_H", "0", "greater than 0"),
    ("AICA_ISSUE_CADENCE_DAYS", "0", "greater than 0"),
    ("AICA_ISSUE_CADENCE_DAYS", "NaN", "finite"),
    ("AICA_TOP_N", "0", "greater than or equal to 1"),
    ("AICA_TOP_N", "many", "integer"),
    ("AICA_REDDIT_TIME_FILTER", "fortnight", "'day'"),
    ("AICA_TIKTOK_SHOP_TIME_ZONE", "Mars/Olympus_Mons", "IANA"),
    ("AICA_TIKTOK_SHOP_REGION", "MARS", "US or ROW"),
    ("AICA_APIFY_API_URL", "ftp://api.apify.com", "https://"),
    ("ANTHROPIC_BASE_URL", "localhost:4000", "https://"),
    ("AICA_MAX_RESPONSE_MB", "0", "greater than 0"),
    ("AICA_WRITE_DEADLINE_S", "-1", "greater than 0"),
    ("AICA_APIFY_MAX_CHARGE_USD", "NaN", "finite"),
    ("AICA_ENABLE_REDDIT", "perhaps", "boolean"),
    ("AICA_WRITER_MODEL", "claude sonnet", "without spaces"),
]
COMMANDS = [["newsletter"], ["trends"], ["sources"], ["ask", "what is trending?"], ["shop", "shops"], ["shop", "proposals"],
            ["archive"], ["mcp"]]


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


@pytest.fixture
def apify(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A paid service that must never be asked when the settings are bad."""
    with FakeServer(lambda r: Response(500, {"error": {"message": "should not be called"}})) as fake:
        monkeypatch.setenv("APIFY_TOKEN", "apify_api_test_settings_000")
        monkeypatch.setenv("AICA_APIFY_API_URL", fake.url)
        yield fake


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_SETTINGS, ids=lambda v: str(v)[:30])
def test_a_bad_setting_is_one_line_naming_it_before_any_paid_call(name, value, allowed, apify, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(name.split("[")[0], value)  # AICA_APIFY_API_URL overrides the fake's: nothing is asked anyway
    result = runner.invoke(app, ["newsletter"])
    line = one_line(result)
    assert result.exit_code == 2 and line.startswith("error: invalid configuration")
    shown = "NaN" if "NaN" in value else repr(value)[1:-1][:20]
    assert name in line and shown.lower() in line.lower(), line
    if allowed:
        assert allowed in line, line
    assert not apify.requests
    assert not Path("out").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_says_the_same_one_line(command, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_SOURCE_WEIGHTS", "{bad json")
    result = runner.invoke(app, command)
    line = one_line(result)
    assert result.exit_code == 2 and "AICA_SOURCE_WEIGHTS='{bad json'" in line and "JSON" in line


def test_a_secret_is_never_shown_even_when_it_is_the_bad_value(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_HTTP_TIMEOUT_S", "inf")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "not a url sk-ant-SECRETinURL123456")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-SECRETinURL123456")
    result = runner.invoke(app, ["trends"])
    line = one_line(result)
    assert "SECRETinURL" not in line and "ANTHROPIC_BASE_URL" in line and "AICA_HTTP_TIMEOUT_S='inf'" in line


def _paths(tmp_path: Path) -> dict[str, str]:
    afile = tmp_path / "a-file"
    afile.write_text("x")
    return {"dev-null": "/dev/null", "file": str(afile), "under-file": str(afile / "sub"), "proc": "/proc/aica-out"}


@pytest.mark.parametrize("kind", ["dev-null", "file", "under-file", "proc"])
@pytest.mark.parametrize("variable", ["AICA_DATA_DIR", "AICA_OUT_DIR"])
def test_a_bad_directory_setting_is_one_line(variable, kind, tmp_path, apify, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    value = _paths(tmp_path)[kind]
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["newsletter"])
    line = one_line(result)
    assert result.exit_code == 2 and f"{variable}={value!r}" in line and "allowed: a" in line, line
    assert not apify.requests


@pytest.mark.parametrize("kind", ["dev-null", "file", "under-file", "proc", "empty"])
def test_a_bad_out_option_is_one_line(kind, tmp_path, apify) -> None:  # type: ignore[no-untyped-def]
    value = "" if kind == "empty" else _paths(tmp_path)[kind]
    result = runner.invoke(app, ["newsletter", "--out", value])
    line = one_line(result)
    assert result.exit_code == 2 and "--out" in line and "allowed: a" in line, line
    assert not apify.requests


@pytest.mark.parametrize("command", COMMANDS[:3], ids=lambda c: " ".join(c))
def test_a_bad_data_dir_is_one_line_from_every_command(command, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", "/dev/null")
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and "AICA_DATA_DIR='/dev/null' is not a directory" in one_line(result)


def test_a_good_out_directory_is_created_and_used(tmp_path) -> None:
    target = tmp_path / "fresh" / "issue"
    result = runner.invoke(app, ["newsletter", "--sample", "--out", str(target)])
    assert (target / "latest" / "newsletter.json").exists(), result.output
