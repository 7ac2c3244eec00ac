"""The main commands: newsletter, trends, sources."""

from __future__ import annotations

import json
import signal
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ..sources import names as source_names
from . import send as send_cmd
from .common import (
    DeadlineExceeded,
    GuardedGroup,
    ProfileOpt,
    console,
    err_console,
    fail,
    failure_line,
    load_settings,
    open_store,
    out_dir,
    split_sources,
    within,
)

if TYPE_CHECKING:  # the commands import what they use when they run: `--help` stays fast (bench/startup.py)
    from .. import pipeline
    from ..agents.editor import EditorBrief
    from ..config import Settings
    from ..models import GatherReport, SourceReport
    from ..sources.snapshot import Snapshot
    from ..store import Store

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
        help=f"Comma-separated sources to use (default: all enabled). Known: {', '.join(source_names())}.",
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

def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ai-content-agents {version('ai-content-agents')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


STATUS_STYLE = {"ok": "green", "partial": "yellow", "stale": "yellow", "failed": "red", "skipped": "dim"}


def _mode(sample: bool, live: bool) -> pipeline.Mode:
    if sample and live:
        raise fail("--sample and --live contradict each other; pick one.")
    return "sample" if sample else "live" if live else "auto"


def _replay(snapshot: Path | None, as_of: str | None, mode: pipeline.Mode) -> tuple[Snapshot | None, datetime | None]:
    """The snapshot to replay (a directory, or the bundled sample for --sample) and its clock, checked up front."""
    from ..sources.snapshot import Snapshot, SnapshotError, parse_as_of

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
    detail = f"{report.items} items" if report.items or report.skipped_items else ""
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
    from .. import pipeline, runs
    from ..sources.snapshot import SnapshotError

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
    if replay is not None and not report.items:  # nothing to rank: no issue of empty sections (an error, not prose)
        asked = ", ".join(names) if names else "the enabled sources"
        raise fail(f"no data: snapshot {replay.label} has no usable rows for {asked}; nothing to rank or write.")
    if replay is None and not names:  # a whole run (live, or the sample): later questions read it
        runs.save(store, report)
    if report.sample and not quiet:
        why = "the bundled snapshot, as asked" if mode == "sample" else "no live source produced data; using the bundled snapshot"
        console.print(f"[bold white on red] SAMPLE DATA [/] {why}.")
    return report


def _show_brief(brief: EditorBrief) -> None:
    who = "offline model" if brief.offline else "TrendAgent"
    console.print(f"[bold]Planned[/] the issue with {who}: {brief.tool_turns} tool turn(s), {brief.model_calls} call(s).")
    for note in brief.notes:
        console.print(f"  [dim]{note}[/]")


EXIT_WITHHELD = 3  # the issue was written, but at least one section was withheld


def _brands(settings: Settings, profiles: str, target: Path, sample: bool, live: bool, sequential: bool,
            snapshot: Path | None, as_of: str | None, batch: bool, retry_failed: bool) -> int:
    """Many brands (--profiles): one gather per source configuration, one Message Batch for the writing."""
    from . import brands


    _replay(snapshot, as_of, _mode(sample, live))  # contradictions and a bad snapshot: one line before anything runs
    label = (f"snapshot:{snapshot.resolve()}@{as_of}" if snapshot else f"sample@{as_of}" if sample
             else "live" if live else "auto")
    with open_store(settings) as store:
        return brands.run_brands(
            settings, store, profiles,
            gather=lambda s: run_gather(s, store, None, sample, live, sequential, snapshot=snapshot, as_of=as_of),
            replayed=sample or snapshot is not None, gather_label=label, out_dir=target, batch=batch,
            retry_failed=retry_failed,
        )


@app.command()
def newsletter(  # noqa: C901 - one issue or many brands (--profiles), with sending: each step one guard
    sources: SourcesOpt = None,
    out: Annotated[str | None, typer.Option("--out", help="Output folder (default: out/).")] = None,
    sample: SampleOpt = False,
    live: LiveOpt = False,
    sequential: SequentialOpt = False,
    snapshot: SnapshotOpt = None,
    as_of: AsOfOpt = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML issue in your default browser.")] = False,
    profile: ProfileOpt = None,
    send: send_cmd.SendOpt = False,
    send_test: send_cmd.SendTestOpt = None,
    allow_sample: send_cmd.AllowSampleOpt = False,
    profiles: Annotated[str | None, typer.Option(
        "--profiles", metavar="A,B,C",
        help="Write an issue for each of these brand profiles (OUT/<profile>/), gathering once per distinct source "
        "configuration. Running the same command again resumes an unfinished run without paying twice.")] = None,
    batch: Annotated[bool, typer.Option(
        "--batch", help="With --profiles: send every section through one Message Batch (half price, asynchronous; "
        "concurrent ordinary calls where AICA_SUPPORTS_BATCHES=false).")] = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="With --profiles: send the errored, expired or canceled entries again as ordinary "
        "calls.")] = False,
) -> None:
    """Gather, rank and write this week's newsletter: OUT/issues/<date>-<run id>/ (.md .html .txt .json, images/),
    then OUT/latest points at it (with a profile, OUT/<profile>/…); --send / --send-test mail it by SMTP.
    Exit codes: 3 a section had to be withheld; 6 the issue was written but not sent; with --profiles, 4 while
    some brand's issue is not written yet (the batch is still running, or entries failed)."""
    from .. import redact
    from ..agents.base import ModelDeprecated
    from ..agents.editor import write_with_agents
    from ..agents.usage import RunUsage
    from ..newsletter import archive, images
    from ..ranking import cluster_keys

    if profiles is not None and (profile or send or send_test):
        raise fail("--profiles writes many brands' issues; --profile, --send and --send-test go with one issue.")
    settings = load_settings("" if profiles is not None else profile)  # many brands: each applies its own profile
    send_plan = send_cmd.plan(settings, send, send_test, allow_sample, sample)
    target = out_dir(settings, out)  # checked before anything is fetched or paid for
    if profiles is not None:
        if sources:
            raise fail("--sources and --profiles contradict each other: each profile says which sources it uses.")
        code = _brands(settings, profiles, target, sample, live, sequential, snapshot, as_of, batch, retry_failed)
        if code:
            raise typer.Exit(code)
        return
    if batch or retry_failed:
        raise fail("--batch and --retry-failed go with --profiles A,B,C (many brands in one run).")
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
        except DeadlineExceeded as exc:
            raise fail(f"writing {exc}; nothing was written. {usage.summary()}") from None
        except Exception as exc:  # noqa: BLE001 - an API failure is one clear line, anything else is a bug
            from ..agents.api import describe, is_api_error

            if not is_api_error(exc):
                raise
            request_id = redact.request_id(getattr(exc, "request_id", None))  # chosen by the server
            detail = describe(exc, settings) + (f" (request {request_id})" if request_id else "")
            raise fail(f"{detail}; nothing was written. {usage.summary()}") from None
        history = images.history_for(nl.trends, sample=report.sample, store=store)
        try:
            published = archive.publish(nl, target, history=history)
        except OSError as exc:
            raise fail(failure_line(exc)) from None
        if not report.sample and not replayed:  # samples and replays leave the featured history alone
            store.mark_featured(
                report.run_id,
                [(key, t.score) for t in nl.trends for key in cluster_keys(t)],
                nl.issue_date,
            )
    withheld = nl.withheld
    grounded = sum(c.grounded for c in nl.factcheck)
    total = sum(len(c.figures) for c in nl.factcheck)
    claims = sum(len(c.claims) for c in nl.factcheck)
    console.print(f"Written by: {nl.writer}{' (offline: no ANTHROPIC_API_KEY)' if nl.offline else ''}.")
    console.print(f"Fact-check: {grounded}/{total} figures grounded" + (f"; {claims} quoted claim(s) kept apart." if claims else "."))
    q = nl.quality
    console.print(f"Copy: {q.get('distinct_line_share', 1.0):.0%} of lines distinct, "
                  f"no 5-word phrase more than {int(q.get('max_phrase_repeats', 0))}×.")
    console.print(usage.summary())
    console.print(f"  issue folder [cyan]{published.folder}[/]")
    latest = published.latest
    for fmt_name, path in published.paths.items():
        console.print(f"  wrote [cyan]{latest / path.name}[/] ({fmt_name})")
    if report.sample:
        console.print("[bold white on red] SAMPLE DATA [/] every output is labelled as such.")
    if open_:
        import webbrowser

        webbrowser.open(published.paths["html"].resolve().as_uri())
    sent = send_cmd.deliver(send_plan, published.folder) if send_plan is not None else 0
    if withheld:
        err_console.print(f"[bold red]{len(withheld)} section(s) withheld[/] (the rest of the issue was written):")
        for section in withheld:
            err_console.print(f"  {section.title}: {section.error}")
        raise typer.Exit(EXIT_WITHHELD)
    if sent:
        raise typer.Exit(sent)





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
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Gather anew instead of showing the latest stored run.")
    ] = False,
    profile: ProfileOpt = None,
) -> None:
    """Show the ranked trends (fused across sources) in the terminal.

    Shows the latest stored run younger than AICA_RUN_MAX_AGE_H (default 24 h); gathers only when there
    is none, with --refresh, or for a replay or a subset of sources."""
    from rich.table import Table

    from .. import runs
    from ..newsletter.evidence import TrendsExport
    from ..newsletter.sections import featurable
    from ..sources import meta

    settings = load_settings(profile)
    with open_store(settings) as store:
        stored = None
        if not (refresh or sources or snapshot or as_of):
            wanted = True if sample else (False if live else None)
            stored = runs.latest(store, max_age_h=settings.run_max_age_h, sample=wanted, profile=settings.profile)
        if stored is not None:
            report = stored.report
            if not as_json:
                line = stored.describe(datetime.now(UTC))
                console.print(f"From stored {escape(line)} (--refresh gathers anew)")
        else:
            report = run_gather(
                settings, store, sources, sample, live, sequential, quiet=as_json, snapshot=snapshot, as_of=as_of
            )
    top = report.trends[:limit]
    if as_json:
        export = TrendsExport.of(report, limit)
        typer.echo(json.dumps(export.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    title = "SAMPLE DATA — ranked trends" if report.sample else "Ranked trends"
    if report.profile:
        title += f" for {report.profile}"
    if report.snapshot and not report.sample:
        title += f" — snapshot {report.snapshot}, as of {report.started_at:%Y-%m-%d %H:%M} UTC"
    table = Table(title=escape(title), show_lines=False)
    for col, kw in (
        ("#", {"justify": "right", "no_wrap": True, "width": 2}),
        # the story takes what the fixed columns leave (rich would otherwise squeeze them at 80 columns)
        ("story", {"no_wrap": True, "overflow": "ellipsis", "width": max(20, min(60, console.width - 62))}),
        ("S", {"justify": "right", "no_wrap": True, "width": 4}),
        ("sources", {"overflow": "fold", "min_width": 6, "max_width": 20}),
        ("label", {"no_wrap": True, "width": 9}),
        ("flags", {"style": "dim", "min_width": 6, "max_width": 18, "overflow": "fold"}),
    ):
        table.add_column(col, **kw)
    in_top = len(featurable(report.trends, settings.top_n))  # the capped top N leads the ranking
    if len(top) > in_top:
        table.caption = (
            f"Above the line, the top stories ({in_top} qualified for AICA_TOP_N={settings.top_n}); below it, what "
            "the top leaves out (capped, off topic, ineligible or excluded) and the rest, by score."
        )
    for t in top:
        if t.rank == in_top + 1:
            table.add_section()
        table.add_row(
            str(t.rank),
            escape(f"{t.topic}: {t.title}" if t.topic else t.title),
            f"{t.score:.2f}",
            " ".join(meta(e.source).short_tag for e in t.evidence if e.counted) or "-",
            t.label,
            ", ".join(f.replace("_", " ") for f in t.flags),
        )
    console.print(table)


@app.command("sources")
def sources_cmd(profile: ProfileOpt = None) -> None:
    """What is configured (with a profile: as that profile sets it), and how each source did in the last run."""
    from rich.table import Table

    from ..sources import load

    settings = load_settings(profile)
    with open_store(settings) as store:
        last = store.last_runs(1)
    last_report = last[0] if last else None
    table = Table(title="Sources")
    for col in ("source", "enabled", "configured", "last run", "items", "detail"):
        table.add_column(col)
    for name in source_names():
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
    from . import archive as archive_cmd
    from . import ask, proposals, serve_mcp, shop
    from . import profile as profile_cmd
    from . import watch as watch_cmd

    ask.register(app)
    archive_cmd.register(app)
    serve_mcp.register(app)
    watch_cmd.register(app)
    app.add_typer(profile_cmd.app, name="profile")
    proposals.register(shop.app)
    app.add_typer(shop.app, name="shop")


_register_commands()


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def _interrupted(signum: int, frame: object) -> None:
    # SystemExit, not KeyboardInterrupt: click would print "Aborted!" and exit 1; every `finally` still runs
    # (the store closes, a half-written issue stays in its temporary file), and nothing prints a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while unwinding changes nothing
    err_console.print("interrupted", style="bold red")
    raise SystemExit(EXIT_INTERRUPTED)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted)
    app()


if __name__ == "__main__":
    main()

