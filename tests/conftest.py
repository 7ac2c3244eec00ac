"""Test-wide guards: no network but loopback, no real credentials from the developer's env, and an
optional shifted wall clock.

WHY the clock shift: a test that quietly reads today's date passes on the day it is written and fails
weeks later (issue 8). `--clock-shift-days N` (or AICA_TEST_CLOCK_SHIFT_DAYS=N) runs the whole session
with the wall clock N days ahead; CI runs the suite once as is and once a year ahead. The clock ticks,
so sleeps, timeouts and threads behave as usual; monotonic clocks are not moved (time-machine leaves
them alone). Subprocesses see the real clock, so a subprocess test must not depend on the date.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a fixed seed per test, no example database): a red
# CI run can be reproduced, and a green one is not luck. Search further with `--hypothesis-profile=explore`.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", max_examples=1000)
settings.load_profile("repeatable")

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


@dataclass
class Unreachable:
    """A loopback URL that cannot be reached, and how many times something tried to connect to it."""

    url: str
    attempts: int = 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed: connecting is refused


@pytest.fixture
def refused(monkeypatch: pytest.MonkeyPatch) -> Unreachable:
    """`url` refuses connections (a real ECONNREFUSED from the kernel); `attempts` counts the tries."""
    port = _closed_port()
    target = Unreachable(f"http://127.0.0.1:{port}")
    guarded = socket.socket.connect

    def counting_connect(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[1:2] == (port,):
            target.attempts += 1
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", counting_connect)
    return target


@pytest.fixture
def no_route(monkeypatch: pytest.MonkeyPatch) -> Unreachable:
    """`url` answers every connect with ENETUNREACH, as on a machine with no network route."""
    port = _closed_port()
    target = Unreachable(f"http://127.0.0.1:{port}")
    guarded = socket.socket.connect

    def unreachable_connect(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[1:2] == (port,):
            target.attempts += 1
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", unreachable_connect)
    return target


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> Unreachable:
    """`url`'s host name has no DNS answer (the lookup fails locally; no resolver is asked)."""
    host = "no-such-host.invalid"
    target = Unreachable(f"http://{host}")
    real = socket.getaddrinfo

    def lookup(name: object, *args: Any, **kw: Any):  # type: ignore[no-untyped-def]
        if name == host:
            target.attempts += 1
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return target


@dataclass
class Offline:
    """Every name lookup that is not loopback fails, as on a machine with no network; `lookups` counts them."""

    lookups: dict[str, int]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Offline:
    state = Offline(lookups={})
    real = socket.getaddrinfo

    def lookup(name: object, *args: Any, **kw: Any):  # type: ignore[no-untyped-def]
        host = name.decode() if isinstance(name, bytes) else str(name)
        if not _is_loopback((host, 0)):
            state.lookups[host] = state.lookups.get(host, 0) + 1
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return state


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
