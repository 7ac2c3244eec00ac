"""Test-wide guards: no network but loopback, no real credentials from the developer's env, and an
optional shifted wall clock.

WHY the clock shift: a test that quietly reads today's date passes on the day it is written and fails
weeks later (issue 8). `--clock-shift-days N` (or AICA_TEST_CLOCK_SHIFT_DAYS=N) runs the whole session
with the wall clock N days ahead; CI runs the suite once as is and once a year ahead. The clock ticks,
so sleeps, timeouts and threads behave as usual; monotonic clocks are not moved (time-machine leaves
them alone). Subprocesses see the real clock, so a subprocess test must not depend on the date.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

CLOCK_SHIFT_ENV = "AICA_TEST_CLOCK_SHIFT_DAYS"
_SHIFT_DAYS = pytest.StashKey[float]()
_clock_travel: Any = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days", type=float, default=None,
        help=f"run every test with the wall clock this many days ahead (default: ${CLOCK_SHIFT_ENV} or 0)",
    )


def _shift_days(config: pytest.Config) -> float:
    """The session's shift, read once at start-up (tests run with the AICA_ variables removed)."""
    if _SHIFT_DAYS not in config.stash:
        value = config.getoption("--clock-shift-days")
        config.stash[_SHIFT_DAYS] = float(os.environ.get(CLOCK_SHIFT_ENV) or 0) if value is None else float(value)
    return config.stash[_SHIFT_DAYS]


def pytest_configure(config: pytest.Config) -> None:
    """Start the shifted clock before collection, so module-level dates are shifted too."""
    global _clock_travel
    days = _shift_days(config)
    if days:
        import time_machine

        _clock_travel = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        _clock_travel.start()


@pytest.fixture
def clock_shift_days(request: pytest.FixtureRequest) -> float:
    """How many days this session's wall clock runs ahead (0 unless --clock-shift-days is given)."""
    return _shift_days(request.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _clock_travel
    if _clock_travel is not None:
        _clock_travel.stop()
        _clock_travel = None


def pytest_report_header(config: pytest.Config) -> str | None:
    days = _shift_days(config)
    return f"wall clock shifted {days:+g} days: now is {datetime.now(UTC):%Y-%m-%d %H:%M} UTC" if days else None

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
    if not _is_loopback(address):
        raise RuntimeError(f"network access in tests is forbidden (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
    if not _is_loopback(address):
        raise RuntimeError(f"network access in tests is forbidden (tried {address!r})")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


_SECRET_ENV = (
    "APIFY_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "YOUTUBE_API_KEY",
    "TIKTOK_SHOP_APP_KEY",
    "TIKTOK_SHOP_APP_SECRET",
    "TIKTOK_SHOP_SERVICE_ID",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see the developer's keys or `.env`, and never write into the work tree."""
    import os

    for name in list(os.environ):
        if name in _SECRET_ENV or name.startswith("AICA_"):
            monkeypatch.delenv(name, raising=False)
    workdir = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(workdir)  # no stray .env is read, and out/ and .data/ land in a temp dir


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    from ai_content_agents.config import Settings

    return Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "out", _env_file=None)


@pytest.fixture
def store(settings):  # type: ignore[no-untyped-def]
    from ai_content_agents.store import Store

    s = Store(settings.db_path)
    yield s
    s.close()
