"""`ai-content-agents watch`: new breakouts and big climbers in the latest stored run, for cron.

Exit codes (README "Scheduled runs and alerts"):
  0  nothing new
  10 new alerts (printed, posted to the webhook if one is set, and their cooldown started)
  2  configuration or usage error
  4  no stored run to watch yet
  5  the webhook post failed (the alerts were printed; their cooldown was not started, so the next run retries)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from .common import ProfileOpt, console, err_console, fail, load_settings, open_store

if TYPE_CHECKING:  # imported when the command runs, never for `--help`
    from .. import watch as watcher
    from .. import webhook
    from ..config import Settings

EXIT_NOTHING_NEW = 0
EXIT_NEW_ALERTS = 10
EXIT_NO_RUN = 4
EXIT_WEBHOOK = 5


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(report: watcher.WatchReport, settings: Settings) -> webhook.SlackMessage:
    """The alerts as one incoming-webhook message (story titles are scraped text: escaped, never markup)."""
    from .. import webhook

    head = f"*{_slack_escape(settings.newsletter_name)}*: {len(report.alerts)} new alert(s) in run {report.run_id}"
    if report.sample:
        head += " — SAMPLE DATA"
    lines = [head]
    for a in report.alerts:
        kind = "Breakout" if a.kind == "breakout" else "Climber"
        line = f"• {kind}: *{_slack_escape(a.title)}* (#{a.rank}, score {a.score:.2f}) — {_slack_escape(a.reason)}"
        if a.url and a.url.startswith(("https://", "http://")) and "|" not in a.url and ">" not in a.url:
            line += f" <{a.url}|source>"
        lines.append(line)
    return webhook.SlackMessage(text="\n".join(lines))


def _print(report: watcher.WatchReport) -> None:
    from rich.table import Table

    label = " — [bold white on red] SAMPLE DATA [/]" if report.sample else ""
    against = f"{len(report.compared_with)} earlier run(s)" if report.compared_with else "no earlier run"
    console.print(f"Watching run {escape(report.run_id)}{f' ({escape(report.profile)})' if report.profile else ''}, "
                  f"stored {report.stored_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, against {against}{label}")
    if not report.alerts:
        console.print("Nothing new." + (f" [dim]{len(report.held_back)} story(ies) held back by the cooldown.[/]"
                                        if report.held_back else ""))
        return
    table = Table(title=f"{len(report.alerts)} new alert(s)")
    for col in ("kind", "#", "story", "score", "why"):
        table.add_column(col, overflow="fold")
    for a in report.alerts:
        table.add_row(a.kind, str(a.rank), escape(a.title), f"{a.score:.2f}", escape(a.reason))
    console.print(table)
    if report.held_back:
        console.print(f"[dim]{len(report.held_back)} more held back by the cooldown.[/]")


def watch(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Gather a fresh run first, then watch it.")] = False,
    no_webhook: Annotated[bool, typer.Option("--no-webhook", help="Do not post to AICA_WATCH_WEBHOOK_URL.")] = False,
    profile: ProfileOpt = None,
) -> None:
    """Report new breakouts and big climbers in the latest stored run, compared with the runs before it.

    Thresholds and the cooldown are settings (AICA_WATCH_*). Exit codes: 0 nothing new, 10 new alerts, 2 usage or
    configuration error, 4 no stored run yet, 5 the webhook post failed."""
    from .. import pipeline
    from .. import runs
    from .. import watch as watcher
    from .. import webhook

    settings = load_settings(profile)
    now = datetime.now(UTC)
    with open_store(settings) as store:
        if refresh:  # a whole run, stored like `trends --refresh` stores it (the sample when no source has data)
            if not as_json:
                console.print("[bold]Gathering[/] a fresh run…")
            runs.save(store, pipeline.gather(settings, store, mode="auto"))
        try:
            report = watcher.check(store, settings, now)
        except watcher.NothingToWatch:
            raise fail("no stored run to watch yet: run `ai-content-agents trends --refresh` or `newsletter` first "
                       "(or add --refresh)", code=EXIT_NO_RUN) from None
        if as_json:
            typer.echo(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
        else:
            _print(report)
        if not report.alerts:
            raise typer.Exit(EXIT_NOTHING_NEW)
        if settings.watch_webhook_url is not None and not no_webhook:
            try:
                webhook.post(settings.watch_webhook_url, slack_message(report, settings), timeout_s=settings.http_timeout_s)
            except webhook.WebhookError as exc:
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}; the alerts will be tried again next run",
                                  soft_wrap=True)
                raise typer.Exit(EXIT_WEBHOOK) from None
            if not as_json:
                console.print("Posted to the webhook.")
        watcher.record(store, settings.profile, report.run_id, report.alerts, now)
    raise typer.Exit(EXIT_NEW_ALERTS)


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
