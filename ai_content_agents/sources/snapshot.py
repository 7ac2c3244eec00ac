"""Snapshots: raw source rows saved to a directory, replayed through the same parse → score → rank as live data.

A snapshot directory holds one JSON list per source, in the shape the source's `fetch` returns (an
exported Apify dataset, a Reddit Listing's children, YouTube `videos.list` items ...), and a
`manifest.json`:

    {
      "captured_at": "2026-11-20T09:00:00Z",
      "files": {"tiktok": "tiktok.json", "amazon": "amazon.json"},
      "history": {"amazon": [{"file": "amazon_history.json", "captured_at": "2026-11-19T09:00:00Z"}]}
    }

`captured_at` is when the rows were fetched (every item is observed then); `history` is optional:
earlier captures of a source, which its `score` reads as the stored history of a live run would be.
The bundled sample (`ai_content_agents/data/sample/`) is one snapshot; `Snapshot.sample()` opens it.

Every problem is a `SnapshotError` with a one-line message that names the file and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any

from ..models import Observation, TrendItem
from . import SOURCE_MODULES
from .stats import parse_iso

_PACKAGE = "ai_content_agents"
_BUNDLED = ("data", "sample")
MANIFEST = "manifest.json"
BUNDLED_LABEL = "bundled sample"
TIMESTAMP_FORMS = (
    "an ISO-8601 date (2026-11-20) or datetime (2026-11-20T09:00:00Z, 2026-11-20T10:00:00+01:00); "
    "no offset means UTC"
)


class SnapshotError(ValueError):
    """A snapshot (or a replay clock) that cannot be used. The message is one line, shown to users as is."""


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 date or datetime string (naive = UTC); None when it is not one."""
    return parse_iso(value)


def parse_as_of(value: str) -> datetime:
    """The `--as-of` option: a timestamp, or a `SnapshotError` that says what is allowed."""
    when = parse_timestamp(value)
    if when is None:
        raise SnapshotError(f"--as-of {value!r} is not a timestamp; allowed: {TIMESTAMP_FORMS}")
    return when


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class HistoryEntry:
    file: str
    captured_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """An opened, validated snapshot. Rows are read (and checked to be a JSON list) when first asked for."""

    root: Traversable
    label: str  # the directory as given, or "bundled sample"
    captured_at: datetime
    files: dict[str, str]  # source → file name inside root
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)  # oldest first
    note: str = ""
    bundled: bool = False  # True only for the package's own sample: outputs then say SAMPLE DATA

    # --- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, directory: str | Path) -> Snapshot:
        """Open a snapshot directory. The package's own sample directory opens as the bundled sample."""
        path = Path(directory).expanduser()
        if not path.exists():
            raise SnapshotError(f"snapshot directory not found: {directory}")
        if not path.is_dir():
            raise SnapshotError(
                f"snapshot {directory} is not a directory (it should hold {MANIFEST} and one JSON list per source)"
            )
        bundled_root = _bundled_root()
        if isinstance(bundled_root, Path) and path.resolve() == bundled_root.resolve():
            return cls.sample()
        return cls._from_root(path, str(directory).rstrip("/") or "/", bundled=False)

    @classmethod
    def sample(cls) -> Snapshot:
        """The sample that ships with the package (works from an installed wheel too)."""
        return _bundled()

    @classmethod
    def _from_root(cls, root: Traversable, label: str, *, bundled: bool) -> Snapshot:
        where = f"{label}/{MANIFEST}"
        manifest_file = root.joinpath(MANIFEST)
        if not manifest_file.is_file():
            raise SnapshotError(
                f"no {MANIFEST} in snapshot {label} (it names one JSON list per source and the captured_at time; "
                "see the README, 'Replay a snapshot')"
            )
        data = _load_json(manifest_file, where)
        if not isinstance(data, dict) or "captured_at" not in data or "files" not in data:
            raise SnapshotError(f"{where} must be a JSON object with 'captured_at' and 'files'")
        captured = _timestamp(data["captured_at"], where, "captured_at")
        files = data["files"]
        if not isinstance(files, dict) or not files or not all(isinstance(v, str) for v in files.values()):
            raise SnapshotError(
                f"{where}: 'files' must map source names to file names, e.g. {{\"tiktok\": \"tiktok.json\"}}"
            )
        for name, filename in files.items():
            _known(name, where, "files")
            _file(root, label, filename, f"files.{name}")
        history: dict[str, list[HistoryEntry]] = {}
        raw_history = data.get("history") or {}
        if not isinstance(raw_history, dict):
            raise SnapshotError(f"{where}: 'history' must map source names to lists of {{\"file\", \"captured_at\"}}")
        for name, entries in raw_history.items():
            _known(name, where, "history")
            if not isinstance(entries, list):
                raise SnapshotError(f"{where}: history.{name} must be a list of {{\"file\", \"captured_at\"}} entries")
            out: list[HistoryEntry] = []
            for i, entry in enumerate(entries):
                at = f"history.{name}[{i}]"
                if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or "captured_at" not in entry:
                    raise SnapshotError(f"{where}: {at} must be an object with 'file' and 'captured_at'")
                when = _timestamp(entry["captured_at"], where, f"{at}.captured_at")
                if when >= captured:
                    raise SnapshotError(
                        f"{where}: {at}.captured_at {_stamp(when)} is not before the snapshot's captured_at "
                        f"{_stamp(captured)} (history holds earlier captures)"
                    )
                _file(root, label, entry["file"], f"{at}.file")
                out.append(HistoryEntry(entry["file"], when))
            history[name] = sorted(out, key=lambda e: e.captured_at)
        note = data.get("note")
        return cls(
            root=root,
            label=label,
            captured_at=captured,
            files=dict(files),
            history=history,
            note=note if isinstance(note, str) else "",
            bundled=bundled,
        )

    # --- reading -----------------------------------------------------------------------
    def names(self) -> list[str]:
        """The sources that have a file in this snapshot."""
        return list(self.files)

    def rows(self, name: str) -> list[Any]:
        """The raw rows of one source, exactly as its fetch would return them."""
        if name not in self.files:
            have = ", ".join(self.files)
            raise SnapshotError(f"snapshot {self.label} has no file for source {name!r}; it has: {have}")
        return self._list(self.files[name])

    def history_rows(self, name: str) -> list[tuple[list[Any], datetime]]:
        """Earlier raw captures of one source, oldest first, each with its capture time (empty when none)."""
        return [(self._list(entry.file), entry.captured_at) for entry in self.history.get(name, [])]

    def history_observations(
        self,
        name: str,
        parse: Callable[[list[Any], datetime], Sequence[TrendItem]],
        run_id: str = "snapshot-history",
    ) -> dict[str, list[Observation]]:
        """The earlier captures parsed into `Observation`s keyed by source_id: the `history` a source's score reads."""
        out: dict[str, list[Observation]] = {}
        for rows, when in self.history_rows(name):
            for item in parse(rows, when):
                out.setdefault(item.source_id, []).append(
                    Observation(
                        run_id=run_id,
                        source=item.source,
                        source_id=item.source_id,
                        group=item.group,
                        title=item.title,
                        metrics=item.metrics,
                        observed_at=item.observed_at,
                    )
                )
        return out

    def clock(self, as_of: datetime | None) -> datetime:
        """The ranking clock of a replay: `as_of` (never before the capture), else `captured_at`."""
        if as_of is None:
            return self.captured_at
        as_of = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
        if as_of < self.captured_at:
            raise SnapshotError(
                f"--as-of {_stamp(as_of)} is before the snapshot's captured_at {_stamp(self.captured_at)}; "
                "a replay cannot rank data before it was captured"
            )
        return as_of

    def fingerprint(self, names: Iterable[str]) -> str:
        """A short digest of the manifest and the files the given sources read: the same data, the same digest."""
        digest = hashlib.sha256(self.root.joinpath(MANIFEST).read_bytes())
        for name in sorted(set(names)):
            paths = ([self.files[name]] if name in self.files else []) + [e.file for e in self.history.get(name, [])]
            for filename in paths:
                digest.update(f"\0{name}\0{filename}\0".encode())
                digest.update(self.root.joinpath(*_parts(filename)).read_bytes())
        return digest.hexdigest()[:8]

    def _list(self, filename: str) -> list[Any]:
        where = f"{self.label}/{filename}"
        data = _load_json(self.root.joinpath(*_parts(filename)), where)
        if not isinstance(data, list):
            kind = _JSON_KINDS.get(type(data), "JSON value")
            raise SnapshotError(
                f"{where} is a {kind}, not a JSON list of raw rows (export the dataset as a JSON array)"
            )
        return data


def _bundled_root() -> Traversable:
    return resources.files(_PACKAGE).joinpath(*_BUNDLED)


@lru_cache(maxsize=1)
def _bundled() -> Snapshot:
    return Snapshot._from_root(_bundled_root(), BUNDLED_LABEL, bundled=True)


def _load_json(file: Traversable, where: str) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(f"{where} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{where} cannot be read: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def _timestamp(value: object, where: str, key: str) -> datetime:
    when = parse_timestamp(value)
    if when is None:
        raise SnapshotError(f"{where}: {key} {json.dumps(value)} is not a timestamp; allowed: {TIMESTAMP_FORMS}")
    return when


def _known(name: object, where: str, key: str) -> None:
    if name not in SOURCE_MODULES:
        raise SnapshotError(f"{where}: unknown source {name!r} in '{key}'; known: {', '.join(SOURCE_MODULES)}")


_JSON_KINDS: dict[type, str] = {
    dict: "JSON object",
    str: "JSON string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _parts(filename: str) -> tuple[str, ...]:
    return PurePosixPath(filename.replace("\\", "/")).parts


def _file(root: Traversable, label: str, filename: str, key: str) -> None:
    """A listed file must be a relative path inside the snapshot and exist."""
    parts = _parts(filename)
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        raise SnapshotError(f"{label}/{MANIFEST}: {key} {filename!r} must be a file name inside the snapshot directory")
    if not root.joinpath(*parts).is_file():
        raise SnapshotError(f"{label}/{filename} not found (named by {key} in {MANIFEST})")
