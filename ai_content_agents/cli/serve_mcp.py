"""`ai-content-agents mcp`: serve the agents' tools to Claude Desktop / Claude Code over MCP."""

from __future__ import annotations

import contextlib
import socket
from typing import Annotated, Literal

import typer

from .common import ProfileOpt, err_console, fail, load_settings, open_store


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def mcp_cmd(
    sample: Annotated[bool, typer.Option("--sample", help="Trend tools use the bundled sample snapshot.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Trend tools never fall back to the sample.")] = False,
    allow_refresh: Annotated[
        bool, typer.Option("--allow-refresh", help="Let the model re-gather live sources (paid) with gather(refresh=true).")
    ] = False,
    tools: Annotated[
        str, typer.Option("--tools", help="Which tools to serve: all, trends (no shop access) or shop.")
    ] = "all",
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio.")
    ] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port for --http.")] = 8765,
    profile: ProfileOpt = None,
) -> None:
    """Serve the trend and shop tools, the latest issue and the ranked trends over MCP (stdio by default).

    Shop write tools only record proposals; a person approves them with `shop approve ID`.
    """
    from ..mcp.catalogue import Catalogue, ServeOptions

    if sample and live:
        raise fail("--sample and --live contradict each other; pick one.")
    if tools not in ("all", "trends", "shop"):
        raise fail(f"--tools must be all, trends or shop (got {tools[:20]!r}).")
    which: Literal["all", "trends", "shop"] = tools  # type: ignore[assignment]
    if http and not _port_free(port):
        raise fail(f"port {port} on 127.0.0.1 is in use; pick another with --port.")
    settings = load_settings(profile)
    options = ServeOptions(mode="sample" if sample else "live" if live else "auto", allow_refresh=allow_refresh,
                           tools=which)
    import anyio

    from ..mcp.server import HOST, build_server, serve_http, serve_stdio

    with open_store(settings) as store:
        server = build_server(Catalogue(settings, store, options), settings)
        if http:
            err_console.print(f"MCP server on http://{HOST}:{port}/mcp (Ctrl-C stops it)")
            serve_http(server, port)
        else:
            with contextlib.suppress(KeyboardInterrupt):
                anyio.run(serve_stdio, server)


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp_cmd)
