"""`ai-content-agents ask "..."`: one question to TrendAgent (or `--shop` to TikTokShopAgent).

Streams the answer, shows tool calls as they happen and the cost at the end. Offline (no key) it
uses the offline model and says so.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from ..agents.base import (
    AgentEvent,
    AgentResult,
    Decision,
    ModelDeprecated,
    ModelReplyError,
    PendingApproval,
    make_client,
    model_failure,
)
from ..agents.offline import OFFLINE_BANNER
from ..agents.usage import RunUsage
from .common import console, err_console, fail, load_settings, open_store


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


def _decide(pending: PendingApproval, record_all: bool) -> dict[str, Decision]:
    """Ask the person at the terminal; without a terminal (and without --record-proposals) deny."""
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
) -> None:
    """Ask TrendAgent (or TikTokShopAgent with --shop) a question; shows tool calls and the cost."""
    settings = load_settings()
    try:
        client = make_client(settings)
    except ModelDeprecated as exc:
        raise fail(str(exc)) from None
    streamed: list[str] = []

    def on_text(chunk: str) -> None:
        streamed.append(chunk)
        console.out(chunk, end="", highlight=False)

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

                agent = TrendAgent(settings, store, mode="sample" if sample else "auto", **common)
                out = agent.ask(question)
            _print_result(out, streamed)
        except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback or a key
            import anthropic

            if isinstance(exc, anthropic.APIStatusError | ModelReplyError):
                raise fail(f"{model_failure(exc)}; nothing was changed") from None
            if isinstance(exc, anthropic.APIConnectionError):
                raise fail("could not reach the model API (check ANTHROPIC_BASE_URL / network)") from None
            raise
        finally:
            err_console.print(f"[dim]{usage.summary()}[/]")


def _print_result(out: AgentResult, streamed: list[str]) -> None:
    if not streamed or out.iterations == 0:
        console.print(out.text, markup=False, highlight=False)
    else:
        console.print()
    if out.offline and OFFLINE_BANNER not in out.text:
        err_console.print("[dim]written offline (no ANTHROPIC_API_KEY)[/]")
    if out.truncated:
        err_console.print("[yellow]note: the answer was forced or cut short (truncated)[/]")
    if out.refused:
        err_console.print(f"[yellow]the model declined ({out.refusal_category or 'no category'})[/]")
    elif out.error and out.iterations:
        err_console.print(f"[yellow]{out.error}[/]")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
