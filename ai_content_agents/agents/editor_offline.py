"""The newsletter editor's offline plan: list the top N trends and answer with exactly the deterministic
section selection (`sections.select_candidates`), each pick with the template's angle. Handed to the
generic offline model by the editor's TrendAgent (`editor.editor_agent`); it reads no prompt text.
"""

from __future__ import annotations

import json
from typing import Any

from .offline import OfflinePlan, OfflineTurn

Reply = tuple[list[dict[str, Any]], str]


def editor_plan(top_n: int) -> OfflinePlan:
    """The editor's plan for an issue of `top_n` eligible trends (a per-run dependency of the editor's
    TrendAgent, see `editor.editor_agent`): list the top N, answer with the deterministic section selection."""

    def plan(turn: OfflineTurn) -> Reply:
        return _brief(turn, top_n)

    return plan


def _brief(turn: OfflineTurn, top_n: int) -> Reply:
    if turn.may_call and "list_trends" in turn.tools and not turn.called("list_trends"):
        return [turn.use("list_trends", {"limit": max(1, min(20, top_n))})], "tool_use"
    listed = next((r for _, r, err in turn.results("list_trends") if not err and isinstance(r, dict)), None)
    briefs = (listed or {}).get("trends", [])
    return turn.answer(json.dumps(offline_brief(briefs, top_n), ensure_ascii=False))


def offline_angle(b: Any) -> str:
    """The template's angle for one listed trend (a list_trends brief, as a dict or a TrendBrief)."""
    from ..sources import meta

    get = b.get if isinstance(b, dict) else (lambda k, d=None: getattr(b, k, d))
    sources = get("sources", []) or []
    where = ", ".join(meta(s).label for s in sources)
    angle = f"#{get('rank')} this run, {get('label')} on {where}"
    if get("lead"):
        angle += f"; lead with {get('lead')}"
    if "tiktok_shop" in sources:
        angle += "; already selling in your shop"
    return angle


def offline_brief(briefs: list[dict[str, Any]], top_n: int) -> dict[str, Any]:
    """The editor brief the offline model answers: exactly `sections.select` over the listed top-N trends."""
    from ..newsletter.sections import NOT_FEATURABLE, SECTION_SPECS, Candidate, select_candidates

    listed = {b["cluster_id"]: b for b in briefs
              if 1 <= int(b.get("rank", 0)) <= top_n and not NOT_FEATURABLE & set(b.get("flags", []))}
    picks = select_candidates([
        Candidate(cluster_id=b["cluster_id"], rank=int(b["rank"]), fits=tuple(b.get("fits", [])),
                  corroborated=bool(b.get("corroborated")), has_thread=bool(b.get("has_thread")),
                  flags=tuple(b.get("flags", [])))
        for b in listed.values()
    ])
    return {
        "sections": {
            spec.key: [{"cluster_id": c, "angle": offline_angle(listed[c])} for c in picks.get(spec.key, [])]
            for spec in SECTION_SPECS
            if spec.max_items > 0
        }
    }
