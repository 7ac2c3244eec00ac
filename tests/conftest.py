"""Test-wide guards: no network but loopback, and no real credentials from the developer's env."""

from __future__ import annotations

import ipaddress
import socket

import pytest

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
