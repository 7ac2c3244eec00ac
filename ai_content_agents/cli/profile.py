"""`ai-content-agents profile init | list | show`: brand profiles (see profiles.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from .common import console, fail, load_settings

app = typer.Typer(
    help="Brand profiles: who the issue is for, what counts as on topic, what each source searches.",
    no_args_is_help=True,
)


@app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="The profile's name (letters, digits, - and _).")],
    from_: Annotated[
        str | None, typer.Option("--from", metavar="EXAMPLE", help="Start from a bundled example: skincare, kitchen.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile of that name.")] = False,
) -> None:
    """Write a commented starting file to <data dir>/profiles/NAME.toml."""
    from .. import profiles

    settings = load_settings("")
    try:
        path = profiles.init(name, settings, example=from_, force=force)
    except (profiles.ProfileError, OSError) as exc:
        raise fail(str(exc)) from None
    console.print(f"wrote [cyan]{escape(str(path))}[/]; edit it, then use [bold]--profile {escape(name)}[/]")


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False) -> None:
    """Every profile a name reaches: yours in <data dir>/profiles/, then the bundled examples."""
    from .. import profiles
    from rich.table import Table

    settings = load_settings("")
    rows: list[dict[str, str | int]] = []
    for name, path in profiles.available(settings):
        try:
            p = profiles.load(str(path) if path else name, settings)
            rows.append({"name": name, "path": str(path) if path else "(bundled example)",
                         "newsletter": p.newsletter.name or "", "keywords": len(p.niche.keywords), "error": ""})
        except profiles.ProfileError as exc:
            rows.append({"name": name, "path": str(path), "newsletter": "", "keywords": 0, "error": str(exc)})
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Profiles ({profiles.profiles_dir(settings)})")
    for col in ("name", "newsletter", "keywords", "file"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(escape(str(r["name"])),
                      escape(str(r["newsletter"])) or (f"[red]{escape(str(r['error']))}[/]" if r["error"] else "—"),
                      str(r["keywords"]), escape(str(r["path"])))
    console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A profile name or a path to a .toml file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """The profile as read (validated), and what it changes in the settings."""
    from .. import profiles
    from ..config import Settings
    from rich.table import Table

    base = load_settings("")
    try:
        where = profiles.locate(name, base)[1]
        profile = profiles.load(name, base)
    except profiles.ProfileError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(profile.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    applied = profile.apply(base)
    console.print(f"[bold]{escape(profile.name)}[/] — {escape(str(where) if where else 'bundled example')}")
    table = Table(show_header=True)
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    for field in sorted(set(Settings.model_fields) - {"profile"}):
        new, old = getattr(applied, field), getattr(base, field)
        if new != old:
            table.add_row(field, escape(str(new)))
    console.print(table)
