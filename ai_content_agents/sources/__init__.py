"""One module per trend source. Each one is small and alike (see `base.SourceModule`).

Modules are imported lazily so that a broken or slow optional dependency of one source never
stops the others from loading.
"""

from __future__ import annotations

import importlib

from .base import SourceError, SourceModule

SOURCE_MODULES: dict[str, str] = {
    "tiktok": "ai_content_agents.sources.tiktok",
    "amazon": "ai_content_agents.sources.amazon",
    "x": "ai_content_agents.sources.x",
    "reddit": "ai_content_agents.sources.reddit",
    "youtube": "ai_content_agents.sources.youtube",
    "tiktok_shop": "ai_content_agents.sources.tiktok_shop",
}


def load(name: str) -> SourceModule:
    if name not in SOURCE_MODULES:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCE_MODULES)}")
    return importlib.import_module(SOURCE_MODULES[name])  # type: ignore[return-value]


__all__ = ["SOURCE_MODULES", "SourceError", "SourceModule", "load"]
