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

from collections.abc import Callable, Mapping
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
        except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
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
