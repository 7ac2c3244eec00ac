"""The main commands: newsletter, trends, sources."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import anthropic
import typer
from rich.markup import escape
from rich.table import Table

from .. import pipeline
from ..agents.base import ModelDeprecated, ModelReplyError, model_failure
from ..agents.usage import RunUsage
from ..config import Settings
from ..evidence import TrendsExport
from ..models import GatherReport, SourceReport
from ..newsletter.editor import EditorBrief, write_with_agents
from ..newsletter.render import render
from ..ranking import cluster_keys
from ..sources import SOURCE_MODULES, load
from ..sources.snapshot import Snapshot, SnapshotError, parse_as_of
from ..store import Store
from .common import (
    DeadlineExceeded,
    GuardedGroup,
    console,
    err_console,
    fail,
    load_settings,
    open_store,
    out_dir,
    split_sources,
    within,
)

app = typer.Typer(
    name="ai-content-agents",
    help="Find what is trending for DTC brands, rank it fairly across sources, and write it up as a newsletter.\n\n"
    "With no API keys it runs on the bundled SAMPLE DATA and writes copy offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)

SourcesOpt = Annotated[
    str | None,
    typer.Option(
        "--sources",
        help=f"Comma-separated sources to use (default: all enabled). Known: {', '.join(SOURCE_MODULES)}.",
    ),
]
SampleOpt = Annotated[bool, typer.Option("--sample", help="Use the bundled sample snapshot, even if keys are set.")]
LiveOpt = Annotated[bool, typer.Option("--live", help="Refuse to fall back to sample data if no source has data.")]
SequentialOpt = Annotated[bool, typer.Option("--sequential", help="Run sources one at a time (for debugging).")]
SnapshotOpt = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        metavar="DIR",
        help="Replay a snapshot directory instead of fetching: manifest.json plus one raw JSON list per source "
        "(e.g. exported Apify datasets; layout in the README). Parsed and scored like live data; "
        "nothing is stored as live data.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIMESTAMP",
        help="The ranking clock ('now') for decay and the run's time, with --snapshot or --sample: an ISO-8601 "
        "date (2026-11-20) or datetime (2026-11-20T09:00:00Z); no offset means UTC. "
        "Default: the snapshot's captured_at.",
    ),
]

STATUS_STYLE = {"ok": "green", "partial": "yellow", "stale": "yellow", "failed": "red", "skipped": "dim"}


def _mode(sample: bool, live: bool) -> pipeline.Mode:
    if sample and live:
        raise fail("--sample and --live contradict each other; pick one.")
    return "sample" if sample else "live" if live else "auto"


def _replay(snapshot: Path | None, as_of: str | None, mode: pipeline.Mode) -> tuple[Snapshot | None, datetime | None]:
    """The snapshot to replay (a directory, or the bundled sample for --sample) and its clock, checked up front."""
    if snapshot is not None and mode != "auto":
        raise fail(f"--snapshot and --{mode} contradict each other; pick one.")
    if as_of is not None and snapshot is None and mode != "sample":
        raise fail("--as-of sets the clock of a replay; use it with --snapshot DIR or --sample.")
    try:
        when = parse_as_of(as_of) if as_of is not None else None
        replay = Snapshot.open(snapshot) if snapshot is not None else Snapshot.sample() if mode == "sample" else None
        if replay is not None:
            replay.clock(when)
    except SnapshotError as exc:
        raise fail(str(exc)) from None
    return replay, when


def _progress_line(report: SourceReport) -> None:
    style = STATUS_STYLE.get(report.status, "")
    detail = f"{report.items} items" if report.items else ""
    if report.skipped_items:
        detail += f", {report.skipped_items} malformed skipped"
    if report.cut:
        detail += ", cut: " + ", ".join(f"{what} {n}" for what, n in report.cut.items())
    if report.reason:
        detail += f"{' — ' if detail else ''}{report.reason}"
    console.print(f"  [{style}]{report.status:>7}[/] {report.source:<11} [dim]{report.duration_s:5.1f}s[/] {detail}")


def waiting_line(running: list[str]) -> str:
    """The spinner's text: which sources the run still waits for, so a slow one has a name."""
    return f"waiting for {', '.join(running)}…" if running else "ranking…"


def run_gather(
    settings: Settings,
    store: Store,
    sources: str | None,
    sample: bool,
    live: bool,
    sequential: bool,
    quiet: bool = False,
    snapshot: Path | None = None,
    as_of: str | None = None,
) -> GatherReport:
    names = split_sources(sources)
    mode = _mode(sample, live)
    replay, when = _replay(snapshot, as_of, mode)
    try:
        selected = pipeline.resolve_sources(settings, names)
    except ValueError as exc:
        raise fail(str(exc)) from None
    label = "sample snapshot" if mode == "sample" else f"{len(selected)} source(s)"
    progress = None if quiet else _progress_line
    if not quiet and replay is not None and not replay.bundled:
        clock = (when or replay.captured_at).isoformat().replace("+00:00", "Z")
        console.print(f"[bold]Replaying[/] snapshot {escape(replay.label)} (ranked as of {clock})…")
    elif not quiet:
        console.print(f"[bold]Gathering[/] from {label}…")
    try:
        with console.status("waiting for sources…", spinner="dots") if not quiet else nullcontext() as status:
            report = pipeline.gather(
                settings, store, sources=selected, mode=mode, sequential=sequential, on_progress=progress,
                on_running=(lambda running: status.update(waiting_line(running))) if status is not None else None,
                snapshot=replay, as_of=when,
            )
    except pipeline.NoLiveData as exc:
        raise fail(f"{exc}. Drop --live to fall back to the sample data.") from None
    except SnapshotError as exc:
        raise fail(str(exc)) from None
    if report.sample and not quiet:
        console.print("[bold white on red] SAMPLE DATA [/] no live source produced data; using the bundled snapshot.")
    return report


def _show_brief(brief: EditorBrief) -> None:
    who = "offline model" if brief.offline else "TrendAgent"
    console.print(f"[bold]Planned[/] the issue with {who}: {brief.tool_turns} tool turn(s), {brief.model_calls} call(s).")
    for note in brief.notes:
        console.print(f"  [dim]{note}[/]")


@app.command()
def newsletter(
    sources: SourcesOpt = None,
    out: Annotated[str | None, typer.Option("--out", help="Output folder (default: out/).")] = None,
    sample: SampleOpt = False,
    live: LiveOpt = False,
    sequential: SequentialOpt = False,
    snapshot: SnapshotOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Gather, rank and write this week's newsletter to OUT as .md, .html and .json."""
    settings = load_settings()
    target = out_dir(settings, out)  # checked before anything is fetched or paid for
    with open_store(settings) as store:
        report = run_gather(settings, store, sources, sample, live, sequential, snapshot=snapshot, as_of=as_of)
        usage = RunUsage.from_settings(settings, report.run_id, store)
        replayed = report.snapshot is not None
        try:
            when = report.started_at if replayed else None  # a replay's issue is dated by its clock
            nl = within(settings.write_deadline_s, "AICA_WRITE_DEADLINE_S", lambda: write_with_agents(
                report, settings, store, usage=usage, on_brief=_show_brief, now=when))
        except ModelDeprecated as exc:
            raise fail(str(exc)) from None
        except (anthropic.APIError, ModelReplyError, DeadlineExceeded) as exc:
            raise fail(f"{model_failure(exc)}; nothing was written. {usage.summary()}") from None
        paths = render(nl, target)
        if not replayed:  # a replay leaves the featured history alone
            store.mark_featured(
                report.run_id,
                [(key, t.score) for t in nl.trends for key in cluster_keys(t)],
                nl.issue_date,
            )
    failed = [s.key for s in nl.sections if s.error]
    grounded = sum(c.grounded for c in nl.factcheck)
    total = sum(len(c.figures) for c in nl.factcheck)
    console.print(f"Written by: {nl.writer}{' (offline: no ANTHROPIC_API_KEY)' if nl.offline else ''}.")
    console.print(f"Fact-check: {grounded}/{total} figures grounded.")
    console.print(usage.summary())
    for fmt_name, path in paths.items():
        console.print(f"  wrote [cyan]{path}[/] ({fmt_name})")
    if report.sample:
        console.print("[bold white on red] SAMPLE DATA [/] every output is labelled as such.")
    if failed:
        err_console.print(f"[bold red]{len(failed)} section(s) withheld by the fact-check:[/] {', '.join(failed)}")
        raise typer.Exit(1)


@app.command()
def trends(
    sources: SourcesOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many trends to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranked trends as JSON.")] = False,
    sample: SampleOpt = False,
    live: LiveOpt = False,
    sequential: SequentialOpt = False,
    snapshot: SnapshotOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Show the ranked trends (fused across sources) in the terminal."""
    settings = load_settings()
    with open_store(settings) as store:
        report = run_gather(
            settings, store, sources, sample, live, sequential, quiet=as_json, snapshot=snapshot, as_of=as_of
        )
    top = report.trends[:limit]
    if as_json:
        export = TrendsExport.of(report, limit)
        typer.echo(json.dumps(export.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    title = "SAMPLE DATA — ranked trends" if report.sample else "Ranked trends"
    if report.snapshot and not report.sample:
        title += f" — snapshot {report.snapshot}, as of {report.started_at:%Y-%m-%d %H:%M} UTC"
    table = Table(title=escape(title), show_lines=False)
    for col, kw in (
        ("#", {"justify": "right", "no_wrap": True}),
        ("trend", {"no_wrap": True, "overflow": "ellipsis", "max_width": 56}),
        ("score", {"justify": "right", "no_wrap": True}),
        ("sources", {"no_wrap": True}),
        ("label", {"no_wrap": True}),
        ("flags", {"style": "dim"}),
    ):
        table.add_column(col, **kw)
    for t in top:
        table.add_row(
            str(t.rank),
            f"{t.topic}: {t.title}" if t.topic else t.title,
            f"{t.score:.3f}",
            "+".join(e.source for e in t.evidence if e.counted) or "-",
            t.label,
            ", ".join(t.flags),
        )
    console.print(table)


@app.command("sources")
def sources_cmd() -> None:
    """What is configured, and how each source did in the last run."""
    settings = load_settings()
    with open_store(settings) as store:
        last = store.last_runs(1)
    last_report = last[0] if last else None
    table = Table(title="Sources")
    for col in ("source", "enabled", "configured", "last run", "items", "detail"):
        table.add_column(col)
    for name in SOURCE_MODULES:
        enabled = settings.source_enabled(name)
        try:
            reason = load(name).not_configured(settings)
        except Exception as exc:  # a source that cannot even load is reported, not fatal
            reason = f"cannot load: {type(exc).__name__}"
        prev = last_report.source(name) if last_report else None
        status = f"[{STATUS_STYLE.get(prev.status, '')}]{prev.status}[/]" if prev else "—"
        if last_report and last_report.sample and prev:
            status += " (sample)"
        elif last_report and last_report.snapshot and prev:
            status += " (replay)"
        table.add_row(
            name,
            "yes" if enabled else "[dim]no[/]",
            "[green]yes[/]" if not reason else f"[yellow]no[/]: {reason}",
            status,
            str(prev.items) if prev else "—",
            (prev.reason if prev else "")[:60],
        )
    console.print(table)
    if last_report:
        when = last_report.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        console.print(f"[dim]last run {last_report.run_id} at {when}[/]")


def _register_commands() -> None:
    """The agent and shop commands live in their own modules; they join the one `app` here."""
    from . import ask, proposals, shop

    ask.register(app)
    proposals.register(shop.app)
    app.add_typer(shop.app, name="shop")


_register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()

