"""What every command shares: settings, the store, the console, and friendly failure.

Every failure a person can cause or meet (a bad setting or path, a full disk, an unreadable store, a
service answering garbage) ends as one red line that names what is wrong and what is allowed, never a
traceback: `GuardedGroup` turns anything a command did not handle into such a line (AICA_DEBUG=1 shows
the traceback instead).
"""

from __future__ import annotations

import errno
import sqlite3
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from ..redact import redact

if TYPE_CHECKING:  # loaded by the first command that needs them, never by `--help` (bench/startup.py)
    from ..config import Settings
    from ..store import Store

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger(__name__)


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
    line = " ".join(redact(message, generic=False).split())
    err_console.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)  # one line, printed as written
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
    """The settings, validated, with the brand profile (`--profile`, else AICA_PROFILE) applied, and the data
    directory usable, before anything is fetched or paid for."""
    from pydantic import ValidationError

    from .. import profiles
    from ..config import Settings, describe, remember_env_secrets, unknown_variables, writable_dir

    for warning in unknown_variables():
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    remember_env_secrets()
    try:
        settings = Settings()
    except ValidationError as exc:
        raise fail(f"invalid configuration: {describe(exc)}. Check your environment and .env (see .env.example).") from None
    except Exception as exc:  # noqa: BLE001 - e.g. pydantic-settings' SettingsError, an unreadable .env
        raise fail(f"cannot read the configuration ({type(exc).__name__}: {exc}). Check your environment and .env.") from None
    problem = writable_dir(settings.data_dir, "AICA_DATA_DIR")
    if problem:
        raise fail(problem)
    wanted = profile if profile is not None else settings.profile
    if not wanted.strip():
        return settings.model_copy(update={"profile": ""})
    try:
        return profiles.load(wanted, settings).apply(settings)
    except profiles.ProfileError as exc:
        raise fail(str(exc)) from None


def out_dir(settings: Settings, out: str | Path | None) -> Path:
    """The output folder (`--out`, else AICA_OUT_DIR), checked to be writable before any work starts."""
    from ..config import writable_dir

    name, value = ("--out", out) if out is not None else ("AICA_OUT_DIR", settings.out_dir)
    problem = writable_dir(value, name)
    if problem:
        raise fail(problem)
    return Path(value)


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


T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """A phase did not finish in its time."""


def within(seconds: float, setting: str, work: Callable[[], T]) -> T:
    """`work()`, or `DeadlineExceeded` once `seconds` have passed (the work is abandoned on a daemon thread:
    its model calls are bounded by their own timeouts, and the process exits without waiting for it)."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, never printed by the thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="deadline-work", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"did not finish within {seconds:g} s ({setting})")
    if "error" in box:
        raise box["error"]
    return box["value"]


def failure_line(exc: BaseException) -> str:
    """One line for an error no command handled: what failed and, for files, which path."""
    from ..store import StoreError

    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return f"disk full: cannot write{where} (No space left on device)"
        reason = exc.strerror or type(exc).__name__
        return f"cannot use{where}: {reason}"
    text = redact(" ".join(str(exc).split())) or "no details"
    return f"unexpected error ({type(exc).__name__}): {text[:300]}"


class GuardedGroup(TyperGroup):
    """The top-level command group: an exception a command did not handle becomes one line, exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (Exit, TyperException, Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("AICA_DEBUG"):
                raise
            log.debug("unhandled error", exc_info=True)
            raise fail(failure_line(exc) + " (AICA_DEBUG=1 shows the traceback)", code=1) from None
