"""Shared fixtures for the source tests: settings pointed at loopback fakes, fast retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ai_content_agents.config import Settings

TOKEN = "test-apify-FAKEtokenDoNotLeak123"
REDDIT_SECRET = "reddit-secret-DoNotLeak456"
YOUTUBE_KEY = "AIzaFAKEyoutubeKeyDoNotLeak789"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "out_dir": tmp_path / "out",
        "http_timeout_s": 2.0,
        "apify_max_retries": 0,
        "http_retries": 2,
        "http_retry_max_wait_s": 0.01,
        "_env_file": None,
    }
    base.update(overrides)
    return Settings(**base)


@pytest.fixture
def mk(tmp_path: Path):  # type: ignore[no-untyped-def]
    return lambda **kw: make_settings(tmp_path, **kw)
