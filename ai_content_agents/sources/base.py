"""The contract every source module follows.

A source module defines, at module level:

- `NAME`: its `SourceName` (the registry key in `sources/__init__.py`).
- `META`: its `SourceMeta` (label, kind, lead metrics, chart, ranking weight...), which everything else reads.
- `not_configured(settings) -> str | None`: why it cannot run (missing key...), or None.
- `fetch(settings, store) -> FetchResult`: talks to the real service; raises `SourceError` with a
  one-line, secret-free reason on failure.
- `parse(raw_items, observed_at) -> Parsed`: never raises on a bad item; skips and counts it.
- `score(items, history) -> list[TrendItem]`: pure; sets `item.signals` against the source's own
  baseline. `history` maps source_id → earlier `Observation`s from the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..models import FetchResult, Observation, Parsed, SourceMeta, TrendItem

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store


class SourceError(RuntimeError):
    """A source could not produce data. The message is shown to users: one line, no secrets."""

    def __init__(self, message: str, *, partial_items: list[dict] | None = None) -> None:
        super().__init__(message)
        self.partial_items = partial_items or []


class SourceUnreachable(SourceError):
    """The service cannot be reached at all (refused, no DNS, no route): not retried, and a source stops
    asking the same host for its other queries."""


# Raw actor/API JSON is read leniently, and these say so in types: a field of the wrong type reads as empty.
def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
class SourceDeadline(SourceError):
    """The source's time is up: a fetch stops asking and returns what it already has."""


class Progress:
    """What a running fetch has so far, and how long it may still take.

    The pipeline gives each source thread one (`tracking`); a fetch that pages (Reddit, YouTube) `publish`es
    the raw rows it holds after each page, so a source that runs out of time still yields them (partial).
    `publish` takes a snapshot: the fetch may keep changing its own lists afterwards. `remaining()` is the
    time left before the source's deadline (None: no deadline), which HTTP calls respect.
    """

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline  # time.monotonic() value
        self._rows: list[Any] = []
        self.note = ""
        self._lock = threading.Lock()

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def publish(self, rows: list[Any], note: str = "") -> None:
        with self._lock:
            self._rows, self.note = list(rows), note

    def rows(self) -> list[Any]:
        with self._lock:
            return list(self._rows)


_local = threading.local()


def progress() -> Progress:
    """The current source thread's `Progress` (a throwaway one outside the pipeline)."""
    current = getattr(_local, "progress", None)
    return current if current is not None else Progress()


@contextmanager
def tracking(current: Progress) -> Iterator[Progress]:
    """Make `current` what `progress()` returns on this thread for the duration."""
    before = getattr(_local, "progress", None)
    _local.progress = current
    try:
        yield current
    finally:
        _local.progress = before


def parse_rows(raw_items: object, parse_row: Callable[[dict], TrendItem | str]) -> Parsed:
    """The loop every `parse` shares: each row becomes an item or a counted skip, never an exception.

    `parse_row` returns a `TrendItem`, or a short reason string for a row it rejects.
    """
    out = Parsed()
    seen: set[str] = set()
    for row in raw_items if isinstance(raw_items, list) else []:
        if not isinstance(row, dict):
            out.skip("not a dict")
            continue
        try:
            result = parse_row(row)
        except Exception:  # noqa: BLE001 - garbage in one row (a ValidationError, 10**400, ...) costs that row only
            out.skip("invalid row")
            continue
        if isinstance(result, str):
            out.skip(result)
        elif result.source_id in seen:
            out.skip("duplicate")
        else:
            seen.add(result.source_id)
            out.append(result)
    return out


class SourceModule(Protocol):
    NAME: str
    META: SourceMeta

    def not_configured(self, settings: Settings) -> str | None: ...

    def fetch(self, settings: Settings, store: Store | None = None) -> FetchResult: ...

    def parse(self, raw_items: list[dict], observed_at: datetime | None = None) -> Parsed: ...

    def score(self, items: list[TrendItem], history: Mapping[str, list[Observation]]) -> list[TrendItem]: ...
