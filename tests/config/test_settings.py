"""Settings: every variable is documented in .env.example, the file parses, and secrets stay hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import AliasChoices

from ai_content_agents import sources
from ai_content_agents.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else f"AICA_{field.upper()}"


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in documented]
    assert not missing, f"add these to .env.example: {missing}"


def test_env_example_loads_as_a_dotenv(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.apify_token is None  # `KEY=` means unset
    assert s.x_search_terms[0] == '"tiktok shop" min_faves:50'
    assert s.tiktok_results_per_page == 30 and s.top_n == 20


def test_lists_from_env_are_comma_separated_and_secrets_are_masked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_REDDIT_SUBREDDITS", "shopify, ecommerce ,,")
    monkeypatch.setenv("APIFY_TOKEN", "test-apify-CANARY123456")
    s = Settings(_env_file=None)
    assert s.reddit_subreddits == ["shopify", "ecommerce"]
    assert "CANARY" not in repr(s) and "CANARY" not in str(s.model_dump())
    assert sources.enabled(s) == ["tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop"]
