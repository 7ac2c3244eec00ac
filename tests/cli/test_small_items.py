"""The command's small manners: --version, flags shown as flags, settings that are wrong or unknown said out loud,
nothing to gather is an error, a readable trends table at 80 columns, pointers that lead somewhere."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ai_content_agents import __version__
from ai_content_agents.cli import app
from ai_content_agents.config import unknown_variables

runner = CliRunner()


def _commands(typer_app) -> set[str]:  # type: ignore[no-untyped-def]
    import typer.main

    group = typer.main.get_command(typer_app)
    out = set()
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        out.add(name)
        out |= {f"{name} {sub}" for sub in getattr(cmd, "commands", {})}
    return out


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"ai-content-agents {__version__}"


@pytest.mark.parametrize("command", [[], ["trends"], ["newsletter"], ["ask"]])
def test_on_off_options_are_shown_as_flags(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "--help" in result.output
    if command == ["trends"]:
        assert re.search(r"--sample\s+Use the bundled", result.output)  # no value after the flag
        assert "<int range>" in result.output  # other options keep their type


def test_an_unknown_setting_is_reported_with_a_suggestion(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    env = {"AICA_ENABLE_REDIT": "false", "AICA_TOP_N": "5", "APIFY_TOKEN": "x", "AICA_TEST_CLOCK_SHIFT_DAYS": "3"}
    assert unknown_variables(env, env_file=None) == [
        "unknown setting AICA_ENABLE_REDIT is ignored (did you mean AICA_ENABLE_REDDIT?)"
    ]
    (tmp_path / ".env").write_text("AICA_NEWSLETER_NAME=Weekly\n")
    assert unknown_variables({}, env_file=tmp_path / ".env")[0].startswith("unknown setting AICA_NEWSLETER_NAME")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AICA_ENABLE_REDIT", "false")
    result = runner.invoke(app, ["sources"])
    assert "AICA_ENABLE_REDIT" in result.output and "AICA_ENABLE_REDDIT" in result.output


@pytest.mark.parametrize(("var", "value"), [("AICA_REDDIT_TIME_FILTER", "daily"), ("AICA_TIKTOK_SHOP_REGION", "EU")])
def test_an_invalid_choice_is_one_clear_line(var: str, value: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 2
    assert "invalid configuration" in result.output and var in result.output
    assert "Traceback" not in result.output


def test_all_sources_disabled_is_an_error_not_an_empty_issue(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name in ("TIKTOK", "AMAZON", "X", "REDDIT", "YOUTUBE", "TIKTOK_SHOP"):
        monkeypatch.setenv(f"AICA_ENABLE_{name}", "false")
    result = runner.invoke(app, ["newsletter"])
    assert result.exit_code == 2 and "every source is disabled" in result.output
    assert not (tmp_path / "out").exists()


def test_the_trends_table_reads_at_80_columns(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["trends", "--sample", "-n", "5"], terminal_width=80)
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if re.match(r"│\s+\d+ │", line)]
    assert len(rows) == 5 and all(len(line) <= 80 for line in rows)
    for line in rows:
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert cells[0].isdigit() and re.fullmatch(r"\d\.\d\d", cells[2]), line  # rank and score whole
        assert cells[4] in ("breakout", "climbing", "peaked", "steady"), line


def test_the_trends_table_draws_a_line_under_the_top_stories(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Off-topic, capped and ineligible stories are outside the top N: a reader sees where it ends."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "160")
    result = runner.invoke(app, ["trends", "--sample", "-n", "30"], terminal_width=160)
    assert result.exit_code == 0
    rows: list[tuple[int, str, bool]] = []  # (rank, flags, below the line)
    below = False
    for line in result.output.splitlines():
        below = below or line.startswith("├")
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 6 and cells[0].isdigit():
            rows.append((int(cells[0]), cells[5], below))
        elif len(cells) == 6 and rows and not cells[0]:  # a wrapped flags cell
            rank, flags, under = rows[-1]
            rows[-1] = (rank, f"{flags} {cells[5]}", under)
    hidden = ("off topic", "ineligible", "capped", "excluded")
    assert [r for r, _, _ in rows] == list(range(1, 31))
    assert any(under for *_, under in rows), "no line under the top stories"
    for rank, flags, under in rows:
        assert under == any(h in flags for h in hidden), (rank, flags)
    assert "Above the line" in result.output


def test_ask_shop_without_a_shop_points_to_commands_that_exist(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ask", "--shop", "how is my shop doing?"])
    assert result.exit_code != 0
    named = set(re.findall(r"`ai-content-agents ([a-z-]+(?: [a-z-]+)?)", result.output))
    assert named and all(n in _commands(app) or n.split()[0] in _commands(app) for n in named), named
    assert {n for n in named if n.startswith("shop ")} <= _commands(app)
