"""`ai-content-agents mcp` as Claude Desktop / Claude Code start it: a subprocess spoken to over stdio,
then over streamable HTTP on 127.0.0.1; and the command's bad input, one clear line each."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

from ai_content_agents.agents.fence import unfence_json
from ai_content_agents.agents.proposals import ProposalStore
from ai_content_agents.cli.app import app
from ai_content_agents.mcp.resources import RANKED_TRENDS_URI
from ai_content_agents.store import Store

from .conftest import CANARY_SECRET, authorize, real_clock, shop_env
from .exercise import call_every_tool

runner = CliRunner()


def _env(fake: Any, tmp_path: Path, monkeypatch: Any) -> dict[str, str]:
    env = shop_env(fake, tmp_path / "data", tmp_path / "out")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from ai_content_agents.config import Settings

    authorize(Settings(_env_file=None))
    return env


def test_stdio_subprocess_lists_and_calls_every_tool(fake_shop, tmp_path, monkeypatch, clock_shift_days) -> None:  # type: ignore[no-untyped-def]
    real_clock(fake_shop, clock_shift_days)
    env = _env(fake_shop, tmp_path, monkeypatch)
    params = StdioServerParameters(command=sys.executable, args=["-m", "ai_content_agents", "mcp", "--sample"],
                                   env=env, cwd=str(tmp_path))

    async def go() -> Any:
        async with Client(params, read_timeout_seconds=60) as client:
            listed, got, raw = await call_every_tool(client)
            ranked = (await client.read_resource(RANKED_TRENDS_URI)).contents[0].text  # type: ignore[union-attr]
            return listed, got, raw, ranked

    listed, got, raw, ranked = anyio.run(go)
    assert len(listed) == 16 and got["list_trends"]["sample"] is True and json.loads(ranked)["sample"] is True
    assert got["shop_status"]["ready"] is True and fake_shop.writes == []
    assert all(CANARY_SECRET not in text for text in raw.values())
    store = Store(tmp_path / "data" / "ai_content_agents.sqlite3")
    try:
        assert [p.status for p in ProposalStore(store).list()] == ["pending", "pending"]  # recorded, nothing applied
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_streamable_http_on_loopback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AICA_", "TIKTOK_", "APIFY", "ANTHROPIC"))}
    env.update({"AICA_DATA_DIR": str(tmp_path / "data"), "AICA_OUT_DIR": str(tmp_path / "out")})
    proc = subprocess.Popen([sys.executable, "-m", "ai_content_agents", "mcp", "--sample", "--http", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "the HTTP server did not start"
            time.sleep(0.2)

        async def go() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=60) as client:
                names = [t.name for t in (await client.list_tools()).tools]
                result = await client.call_tool("list_trends", {"limit": 2})
                return names, json.loads(unfence_json(result.content[0].text))  # type: ignore[union-attr]

        names, listing = anyio.run(go)
        assert "list_trends" in names and "propose_price_change" in names
        assert listing["sample"] is True and len(listing["trends"]) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()


def test_bad_input_is_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(app, ["mcp", "--sample", "--live"])
    assert r.exit_code == 2 and "--sample and --live contradict each other" in r.output
    r = runner.invoke(app, ["mcp", "--tools", "everything"])
    assert r.exit_code == 2 and "--tools must be all, trends or shop" in r.output and "Traceback" not in r.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(app, ["mcp", "--http", "--port", str(port)])
    assert r.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in r.output
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1
