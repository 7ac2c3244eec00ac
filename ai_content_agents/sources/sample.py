"""The bundled sample snapshot: real actor/API shapes, invented late-2026 content, used with no keys or --sample.

Files live in `ai_content_agents/data/sample/` and are described by `manifest.json` (capture time,
one file per source, earlier snapshots for sources whose score needs history). Everything read here
is package data, so it works from an installed wheel too.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from ..models import Observation
from .stats import parse_iso

_PACKAGE = "ai_content_agents"
_DIR = "data/sample"


def _read_json(filename: str) -> Any:
    return json.loads(resources.files(_PACKAGE).joinpath(_DIR, filename).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def manifest() -> dict[str, Any]:
    data = _read_json("manifest.json")
    if not isinstance(data, dict) or "captured_at" not in data or "files" not in data:
        raise ValueError("sample manifest.json is missing 'captured_at' or 'files'")
    return data


def captured_at() -> datetime:
    value = parse_iso(manifest()["captured_at"])
    if value is None:
        raise ValueError("sample manifest.json has an invalid captured_at")
    return value


def names() -> list[str]:
    """Sources that have a sample file."""
    return list(manifest()["files"])


def load_sample(name: str) -> tuple[list[dict], datetime]:
    """The raw items of one source (as its fetch returns them), and the snapshot's capture time."""
    files = manifest()["files"]
    if name not in files:
        raise KeyError(f"no sample data for source {name!r}; have: {', '.join(files)}")
    items = _read_json(files[name])
    if not isinstance(items, list):
        raise ValueError(f"sample file {files[name]} is not a JSON list")
    return items, captured_at()


def load_sample_history(name: str) -> list[tuple[list[dict], datetime]]:
    """Earlier raw snapshots of one source, oldest first, each with its capture time (empty when none)."""
    snapshots: list[tuple[list[dict], datetime]] = []
    for entry in manifest().get("history", {}).get(name, []):
        when = parse_iso(entry.get("captured_at"))
        items = _read_json(entry["file"])
        if when is None or not isinstance(items, list):
            raise ValueError(f"sample history entry {entry!r} is invalid")
        snapshots.append((items, when))
    return sorted(snapshots, key=lambda pair: pair[1])


def sample_observations(name: str, run_id: str = "sample-history") -> dict[str, list[Observation]]:
    """The earlier snapshots parsed into `Observation`s keyed by source_id, ready to pass to `score` as history."""
    from . import load

    module = load(name)
    out: dict[str, list[Observation]] = {}
    for items, when in load_sample_history(name):
        for item in module.parse(items, observed_at=when):
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
