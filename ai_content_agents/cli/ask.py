"""`ai-content-agents ask "..."`: one question to TrendAgent (or `--shop` to TikTokShopAgent).

Streams the answer, shows tool calls as they happen and the cost at the end. Offline (no key) it
uses the offline model and says so.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import ProfileOpt, console, err_console, fail, load_settings, open_store

if TYPE_CHECKING:  # imported when the command runs: `--help` never loads the agents or the Anthropic SDK
    from ..agents.base import AgentEvent, AgentResult, Decision, PendingApproval

# exit codes of `ask` (README "Commands"): 2 is a configuration or usage error, as for every command
EXIT_OK = 0  # a complete answer
EXIT_CONFIG = 2  # configuration or usage error (e.g. --shop with no shop connected)
EXIT_REFUSED = 3  # the model declined (refusal)
EXIT_INCOMPLETE = 4  # the answer is truncated (max_tokens, tool-call limit), empty, or stopped early
EXIT_API = 5  # the model API failed (HTTP error, timeout, Retry-After past the cap, broken stream)


def _show_event(event: AgentEvent) -> None:
    if event.kind == "tool_call":
        args = json.dumps(event.input, ensure_ascii=False)[:120]
        err_console.print(f"[dim]→ {event.name}({args})[/]")
    elif event.kind == "tool_result" and event.is_error:
        err_console.print(f"[yellow]  ✗ {event.name}: {event.detail}[/]")
    elif event.kind == "approval_needed":
        err_console.print(f"[bold yellow]⏸ {event.name} needs your approval[/]")
    elif event.kind == "forced_final":
        err_console.print("[yellow]tool-call limit reached; asking for a final answer[/]")
    elif event.kind == "retry":
        err_console.print(f"[dim]model API busy or unreachable; retrying in {event.detail} s[/]")


def _decide(pending: PendingApproval, record_all: bool) -> dict[str, Decision]:
    """Ask the person at the terminal; without a terminal (and without --record-proposals) deny."""
    from ..agents.base import Decision

    out: dict[str, Decision] = {}
    for call in pending.gated:
        args = json.dumps(call.input, ensure_ascii=False)
        if record_all:
            out[call.id] = Decision(approve=True, by="cli --record-proposals")
        elif sys.stdin.isatty():
            ok = typer.confirm(f"Record proposal {call.name} {args}? (nothing changes until `shop approve`)")
            out[call.id] = Decision(approve=ok, reason="" if ok else "declined at the terminal", by="cli")
        else:
            out[call.id] = Decision(approve=False, reason="no terminal to confirm; rerun with --record-proposals", by="cli")
    return out


def ask(
    question: Annotated[str, typer.Argument(help="What you want to know, in plain language.")],
    shop: Annotated[bool, typer.Option("--shop", help="Ask TikTokShopAgent about your own shop instead.")] = False,
    record_proposals: Annotated[
        bool, typer.Option("--record-proposals", help="With --shop: record any price/stock proposals without asking.")
    ] = False,
    sample: Annotated[bool, typer.Option("--sample", help="Use the bundled sample snapshot for trends.")] = False,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the answer at the end instead of streaming.")] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Gather a fresh run first instead of reading the latest stored one.")
    ] = False,
    allow_refresh: Annotated[
        bool, typer.Option("--allow-refresh", help="Let the model re-gather live sources once if it judges the run stale.")
    ] = False,
    profile: ProfileOpt = None,
) -> None:
    """Ask TrendAgent (or TikTokShopAgent with --shop) a question; shows tool calls and the cost.

    Exit codes: 0 a complete answer; 2 configuration or usage error; 3 the model declined; 4 the answer is
    truncated, empty or incomplete; 5 the model API failed.
    """
    from ..agents.base import ModelDeprecated, PendingApproval, make_client
    from ..agents.usage import RunUsage

    settings = load_settings(profile)
    try:
        client = make_client(settings)
    except ModelDeprecated as exc:
        raise fail(str(exc)) from None
    streamed: list[str] = []

    def on_text(chunk: str) -> None:
        # live text is progress: dim on a terminal (stderr), nothing when piped; the answer proper is
        # the final turn's text, printed once at the end
        streamed.append(chunk)
        if err_console.is_terminal:
            err_console.out(chunk, end="", style="dim", highlight=False)

    run_id = f"ask-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    with open_store(settings) as store:
        usage = RunUsage.from_settings(settings, run_id, store)
        common: dict[str, Any] = {"client": client, "usage": usage, "on_event": _show_event,
                                  "on_text": None if no_stream else on_text}
        try:
            if shop:
                from ..agents.tiktok_shop import TikTokShopAgent

                agent: Any = TikTokShopAgent(settings, store, **common)
                out = agent.ask(question)
                while isinstance(out, PendingApproval):
                    out = agent.resume(out, _decide(out, record_proposals))
            else:
                from ..agents.trend import TrendAgent

                agent = TrendAgent(settings, store, mode="sample" if sample else "auto", refresh=refresh,
                                   allow_model_refresh=allow_refresh, **common)
                out = agent.ask(question)
            code = _print_result(out, streamed)
            if not out.tool_records and len(agent.tools) and out.iterations:
                err_console.print("[yellow]warning: the answer used no tool, so it rests on no gathered data "
                                  "(a server that drops tools does this: check its tool support and AICA_SUPPORTS_*)[/]")
            run = agent.trend_tools.run_line() if not shop else ""
            if run and (agent.trend_tools.report.run_id not in out.text or not out.offline):
                console.print(f"Answered from {run}", markup=False, highlight=False)
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback or a key
            from ..agents.api import describe, is_api_error

            if not is_api_error(exc):
                raise
            raise fail(describe(exc, settings), code=EXIT_API) from None
        finally:
            err_console.print(f"[dim]{usage.summary()}[/]")
    if code:
        raise typer.Exit(code)


def _print_result(out: AgentResult, streamed: list[str]) -> int:
    """Print the answer (the final turn's text only) and its notes; return the exit code."""
    from ..agents.offline import OFFLINE_BANNER

    if streamed and err_console.is_terminal:
        err_console.print()
    if out.text.strip():
        console.print(out.text, markup=False, highlight=False)
    if out.offline and OFFLINE_BANNER not in out.text:
        err_console.print("[dim]written offline (no ANTHROPIC_API_KEY)[/]")
    if out.truncated:
        err_console.print("[yellow]note: the answer was forced or cut short (truncated)[/]")
    if out.refused:
        err_console.print(f"[yellow]the model declined ({out.refusal_category or 'no category'})[/]")
    elif out.error and out.iterations:
        err_console.print(f"[yellow]{out.error}[/]")
    if out.iterations == 0 and out.error:  # answered without the model: a setup problem (no shop configured)
        return EXIT_CONFIG
    if out.refused:
        return EXIT_REFUSED
    if out.truncated or out.error or not out.text.strip():
        if not out.error and not out.truncated:
            err_console.print("[yellow]the model returned an empty answer[/]")
        return EXIT_INCOMPLETE
    return EXIT_OK


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
