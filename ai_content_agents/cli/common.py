"""What every command shares: settings, the store, the console, and friendly failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from .. import profiles
from ..config import Settings
from ..store import Store

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # one line, printed as written
    return typer.Exit(code)


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME|PATH",
        help="A brand profile: NAME reads <data dir>/profiles/NAME.toml (or a bundled example: skincare, kitchen); "
        "a path reads that .toml file. Default: AICA_PROFILE, else none.",
    ),
]


def load_settings(profile: str | None = None) -> Settings:
    """Settings from the environment, with the brand profile (`--profile`, else AICA_PROFILE) applied."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise fail(f"invalid configuration ({problems}). Check your environment and .env (see .env.example).") from None
    wanted = profile if profile is not None else settings.profile
    if not wanted.strip():
        return settings.model_copy(update={"profile": ""})
    try:
        return profiles.load(wanted, settings).apply(settings)
    except profiles.ProfileError as exc:
        raise fail(str(exc)) from None


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    store = Store(settings.db_path)
    try:
        yield store
    finally:
        store.close()


def split_sources(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
