"""`ai-content-agents archive`: the issues written so far, newest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from .common import ProfileOpt, console, load_settings


def archive_cmd(
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: out/).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many issues to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    profile: ProfileOpt = None,
) -> None:
    """List past issues: date, run id, sample or live, top stories (with --profile, that profile's issues)."""
    from rich.table import Table

    from ..newsletter import archive

    out_dir = out or load_settings(profile).out_dir
    entries = archive.list_issues(out_dir)[:limit]
    latest = archive.resolve_latest(out_dir)
    if as_json:
        typer.echo(json.dumps([
            {**e.model_dump(mode="json"), "latest": latest is not None and e.folder.resolve() == latest} for e in entries
        ], indent=2, ensure_ascii=False))
        return
    if not entries:
        console.print(f"No issues in {out_dir / archive.ISSUES} yet. Run `ai-content-agents newsletter` to write one.")
        return
    table = Table(title=f"Issues in {out_dir / archive.ISSUES}")
    for col in ("date", "run id", "data", "top stories", ""):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(
            f"{e.issue_date:%Y-%m-%d %H:%M}" if e.issue_date else "?",
            e.run_id or e.folder.name,
            "[white on red]sample[/]" if e.sample else "live",
            "; ".join(e.top_stories[:3]) or "—",
            ("latest" if latest is not None and e.folder.resolve() == latest else "")
            + (f" {e.withheld} withheld" if e.withheld else ""),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive_cmd)
