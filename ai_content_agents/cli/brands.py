"""`newsletter --profiles a,b,c [--batch]`: every brand's issue from shared gathers, its sections sent as one
Message Batch (half price) or as ordinary calls; resumable by running the same command again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.markup import escape

from ..agents.api import APIFailure, describe, is_api_error
from ..agents.base import ModelDeprecated, make_client
from ..agents.batches import Poller
from ..agents.brands import BrandJob, BrandsRun, Gathered, JobOutcome
from ..config import Settings
from ..models import GatherReport, Newsletter
from ..newsletter import archive, images
from ..profiles import ProfileError
from ..profiles import load as load_profile
from ..sources.snapshot import Snapshot
from ..store import Store
from .common import console, err_console, fail

EXIT_INCOMPLETE = 4  # some brand's issue is not written yet: the batch is still running, or entries failed


def brand_job(value: str, settings: Settings) -> BrandJob:
    """A brand job from a profile name (<data dir>/profiles/NAME.toml, or a bundled example) or a .toml path."""
    profile = load_profile(value, settings)
    return BrandJob(name=profile.name, settings=profile.apply(settings))


def ranked_at(report: GatherReport, replayed: bool) -> datetime:
    """The clock a gather's items were ranked at: a replay's own, the sample's capture time for the fallback."""
    if report.sample and not replayed:
        return Snapshot.sample().captured_at
    return report.started_at


def run_brands(
    settings: Settings,
    store: Store,
    profiles: str,
    *,
    gather: Callable[[Settings], GatherReport],
    replayed: bool,
    gather_label: str,
    out_dir: Path,
    batch: bool,
    retry_failed: bool,
) -> int:
    """Run the job and print one block per brand; returns the exit code."""
    names = [n.strip() for n in profiles.split(",") if n.strip()]
    if not names:
        raise fail("--profiles needs at least one profile name, e.g. --profiles skincare,kitchen")
    try:
        jobs = [brand_job(n, settings) for n in names]
    except ProfileError as exc:
        raise fail(str(exc)) from None
    if len({j.name for j in jobs}) != len(jobs):
        raise fail(f"a profile is named twice in --profiles {profiles}")
    try:
        client = make_client(settings)
    except ModelDeprecated as exc:
        raise fail(str(exc)) from None

    def publish(name: str, nl: Newsletter) -> str:
        history = images.history_for(nl.trends, sample=nl.sample, store=store)
        try:
            return str(archive.publish(nl, out_dir / name, history=history).folder)
        except OSError as exc:
            raise fail(f"could not write {name}'s issue to {out_dir / name}: {exc}") from None

    def gathered(s: Settings) -> Gathered:
        report = gather(s)
        return Gathered(report=report, ranked_at=ranked_at(report, replayed), replay=replayed)

    run = BrandsRun(
        settings, store, client, gathered, publish, gather_label=gather_label, batch=batch, retry_failed=retry_failed,
        poller=Poller(settings.batch_poll_initial_s, settings.batch_poll_max_s, settings.batch_max_wait_s),
        on_line=lambda line: console.print(escape(line)),
    )
    try:
        outcome = run.run(jobs)
    except Exception as exc:  # noqa: BLE001 - an API failure is one clear line, anything else is a bug
        if not (isinstance(exc, APIFailure) or is_api_error(exc)):
            raise
        raise fail(f"{describe(exc, settings)}; what was already paid for is stored: run the same command again "
                   "to resume") from None
    except KeyboardInterrupt:
        raise fail("interrupted; what was already paid for is stored: run the same command again to resume",
                   130) from None
    show(outcome)
    if run.usage is not None:
        console.print(run.usage.summary())
    if outcome.waiting or any(p.folder is None for p in outcome.profiles):
        return EXIT_INCOMPLETE
    return 3 if any(p.withheld and p.written_now for p in outcome.profiles) else 0


def show(outcome: JobOutcome) -> None:
    how = "one Message Batch" if outcome.mode == "batch" else "ordinary calls"
    console.print(f"[bold]{'Resumed' if outcome.resumed else 'Started'}[/] job {outcome.job_id}: sections sent as {how}"
                  + (f", {outcome.gathers} shared gather(s)" if outcome.gathers else ""))
    if outcome.batch is not None:
        b = outcome.batch
        counts = ", ".join(f"{v} {k}" for k, v in b.counts.items() if v)
        console.print(f"  batch {escape(b.batch_id)}: {b.status}" + (f" ({counts})" if counts else ""))
    if outcome.waiting:
        err_console.print("[yellow]The batch is still running[/]: run the same command again later to pick it up "
                          "(nothing is sent twice).")
    for p in outcome.profiles:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(p.counts.items()))
        label = " [bold white on red] SAMPLE DATA [/]" if p.sample else ""
        if p.folder:
            note = "written" if p.written_now else "already written"
            console.print(f"  [green]{escape(p.name)}[/]: {note} [cyan]{escape(p.folder)}[/] ({counts or 'no requests'}){label}")
            for title in p.withheld:
                err_console.print(f"    [red]withheld[/] {escape(title)}")
            continue
        console.print(f"  [yellow]{escape(p.name)}[/]: not written yet ({counts}){label}")
        for problem in p.problems:
            err_console.print(f"    {escape(problem)}")
        if p.failed:
            err_console.print("    run the same command with --retry-failed to send these as ordinary calls")

