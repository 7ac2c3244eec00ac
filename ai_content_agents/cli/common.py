"""What every command shares: settings, the store, the console, and friendly failure."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # loaded by the first command that needs them, not by `--help`
    from ..config import Settings
    from ..store import Store

console = Console()
err_console = Console(stderr=True)


def _flags_show_no_value() -> None:
    """typer (0.2x) prints `<bool>` after every on/off flag in `--help`, which reads as if `--sample true` were the
    syntax (it is an error: a flag takes no value). Flags show no type; every other option keeps its own."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_flags_plain", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._flags_plain = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_value()


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # one line, printed as written
    return typer.Exit(code)


def load_settings() -> Settings:
    from pydantic import ValidationError

    from ..config import Settings, unknown_variables

    for problem in unknown_variables():
        err_console.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise fail(f"invalid configuration ({problems}). Check your environment and .env (see .env.example).") from None


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    from ..store import Store, StoreError

    try:
        store = Store(settings.db_path)
    except StoreError as exc:
        raise fail(str(exc)) from None
    except sqlite3.Error as exc:
        raise fail(f"cannot open the store {settings.db_path}: {exc}") from None
    try:
        yield store
    finally:
        store.close()


def split_sources(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
