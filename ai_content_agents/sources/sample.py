"""The bundled sample snapshot: real actor/API shapes, invented late-2026 content, used with no keys or --sample.

It is one `Snapshot` (see `snapshot.py`): files in `ai_content_agents/data/sample/`, described by
`manifest.json` (capture time, one file per source, earlier captures for sources whose score needs
history). Everything read here is package data, so it works from an installed wheel too. These
functions are shorthands for `Snapshot.sample()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import Observation
from .snapshot import Snapshot


def captured_at() -> datetime:
    return Snapshot.sample().captured_at


def names() -> list[str]:
    """Sources that have a sample file."""
    return Snapshot.sample().names()


def load_sample(name: str) -> tuple[list[Any], datetime]:
    """The raw items of one source (as its fetch returns them), and the snapshot's capture time."""
    snap = Snapshot.sample()
    return snap.rows(name), snap.captured_at


def load_sample_history(name: str) -> list[tuple[list[Any], datetime]]:
    """Earlier raw snapshots of one source, oldest first, each with its capture time (empty when none)."""
    return Snapshot.sample().history_rows(name)


def sample_observations(name: str, run_id: str = "sample-history") -> dict[str, list[Observation]]:
    """The earlier snapshots parsed into `Observation`s keyed by source_id, ready to pass to `score` as history."""
    from . import load

    return Snapshot.sample().history_observations(name, load(name).parse, run_id)
