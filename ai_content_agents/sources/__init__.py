"""One module per trend source, and the one registry of them (`SOURCE_MODULES`).

Adding a source is one module (its `NAME`, `META`, `not_configured`, `fetch`, `parse`, `score`; see
`base.SourceModule`) plus one line below. Everything else that names sources derives from here: settings'
enabled list (`enabled`), ranking's default weights and independence (pipeline.rank_config), labels in copy,
the offline writer's lead metrics, charts, the CLI and the offline model's reading of questions (`meta`).

Modules are imported lazily so that a broken or slow optional dependency of one source never
stops the others from loading.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use: `names()` (the CLI's --help) must not pay for pydantic
    from ..config import Settings
    from ..models import SourceMeta
    from .base import SourceModule

# name → module path (or, for a source defined in code, e.g. in a test, the module-like object itself);
# the order is the default order of runs, reports and lists
SOURCE_MODULES: dict[str, str | SourceModule] = {
    "tiktok": "ai_content_agents.sources.tiktok",
    "amazon": "ai_content_agents.sources.amazon",
    "x": "ai_content_agents.sources.x",
    "reddit": "ai_content_agents.sources.reddit",
    "youtube": "ai_content_agents.sources.youtube",
    "tiktok_shop": "ai_content_agents.sources.tiktok_shop",
}


def names() -> tuple[str, ...]:
    return tuple(SOURCE_MODULES)


def load(name: str) -> SourceModule:
    if name not in SOURCE_MODULES:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCE_MODULES)}")
    entry = SOURCE_MODULES[name]
    if isinstance(entry, str):
        return importlib.import_module(entry)  # a module that follows the protocol (base.SourceModule)
    return entry


def meta(name: str) -> SourceMeta:
    """A source's declared metadata; a source no longer registered (an old stored run) gets a plain one."""
    if name not in SOURCE_MODULES:
        from ..models import SourceMeta

        return SourceMeta(name=name, label=name)
    return load(name).META


def metas() -> list[SourceMeta]:
    return [meta(n) for n in SOURCE_MODULES]


def label(name: str) -> str:
    return meta(name).label


def enabled(settings: Settings) -> list[str]:
    """The registered sources the settings leave on (`AICA_ENABLE_<NAME>`; a source without a switch is on)."""
    return [n for n in SOURCE_MODULES if settings.source_enabled(n)]


__all__ = ["SOURCE_MODULES", "enabled", "label", "load", "meta", "metas", "names"]
