"""`newsletter --profiles a,b,c [--batch]`: every brand's issue from shared gathers, its sections sent as one
Message Batch (half price) or as ordinary calls; resumable by running the same command again."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from ..agents.api import APIFailure, describe, is_api_error
from ..agents.base import ModelDeprecated, make_client
from ..agents.batches import Poller
from ..agents.brands import BrandJob, BrandsRun, Gathered, JobOutcome
from ..config import ALL_SOURCES, Settings
from ..models import GatherReport, Newsletter
from ..newsletter import archive, images
from ..sources.snapshot import Snapshot
from ..store import Store
from .common import console, err_console, fail

EXIT_INCOMPLETE = 4  # some brand's issue is not written yet: the batch is still running, or entries failed
PROFILES_DIR = "profiles"
_LISTS = ("tiktok_hashtags", "tiktok_search_queries", "amazon_category_urls", "x_search_terms", "x_handles",
          "reddit_subreddits", "youtube_queries")


class ProfileError(ValueError):
    """A profile that cannot be found or read (one line for the user)."""


def profile_settings(name: str, settings: Settings) -> Settings:
    """ADAPTER to the brand profiles of issue 15 part 1 (branch `reach`): the settings with profile NAME applied.

    Until its loader lands on main (then this becomes `profiles.load(name, settings).apply(settings)`), this reads
    the part of `<data dir>/profiles/NAME.toml` a many-brand run needs, in the same layout: [newsletter] name,
    tagline, sender; [niche] keywords; [sources] the search lists, `enabled` and `weights`."""
    path = settings.data_dir / PROFILES_DIR / f"{name}.toml"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ProfileError(f"{name!r} is not a profile name (letters, digits, - and _)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"no profile named {name!r} (expected {path})") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"profile {path} cannot be read: {exc}") from None
    update: dict[str, Any] = {}

    def strings(section: str, key: str) -> list[str] | None:
        value = data.get(section, {}).get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"profile {path}: {section}.{key} must be a list of strings")
        return [v.strip() for v in value if v.strip()]

    for key in ("name", "tagline", "sender"):
        value = data.get("newsletter", {}).get(key)
        if value is not None:
            if not isinstance(value, str):
                raise ProfileError(f"profile {path}: newsletter.{key} must be a string")
            update[f"newsletter_{key}"] = value
    if (keywords := strings("niche", "keywords")) is not None:
        update["niche_terms"] = keywords
    for key in _LISTS:
        if (values := strings("sources", key)) is not None:
            update[key] = values
    if (enabled := strings("sources", "enabled")) is not None:
        unknown = [s for s in enabled if s not in ALL_SOURCES]
        if unknown:
            raise ProfileError(f"profile {path}: unknown source(s) {', '.join(unknown)}")
        update.update({f"enable_{s}": s in enabled for s in ALL_SOURCES})
    weights = data.get("sources", {}).get("weights")
    if weights is not None:
        if not isinstance(weights, dict) or not all(k in ALL_SOURCES and isinstance(v, int | float)
                                                    for k, v in weights.items()):
            raise ProfileError(f"profile {path}: sources.weights must map known sources to numbers")
        update["source_weights"] = {**settings.source_weights, **{k: float(v) for k, v in weights.items()}}
    return settings.model_copy(update=update)


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
        jobs = [BrandJob(name=n, settings=profile_settings(n, settings)) for n in names]
    except ProfileError as exc:
        raise fail(str(exc)) from None
    if len(set(names)) != len(names):
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

