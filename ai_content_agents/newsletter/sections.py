"""The five sections of an issue and which trends each one gets. Pure: trends in, picks out."""

from __future__ import annotations

from pydantic import BaseModel

from ..models import Trend


class SectionSpec(BaseModel):
    key: str
    title: str
    purpose: str  # one line: what the section is for (shown to the writer model too)
    max_items: int
    sources: tuple[str, ...] = ()  # only trends with evidence from one of these sources; () = any


SECTION_SPECS: tuple[SectionSpec, ...] = (
    SectionSpec(
        key="top_trend",
        title="The trend of the week",
        purpose="The single strongest, best-corroborated trend, in depth.",
        max_items=1,
    ),
    SectionSpec(
        key="quick_hits",
        title="Quick hits",
        purpose="Three more trends worth a look, one short paragraph each.",
        max_items=3,
    ),
    SectionSpec(
        key="amazon_movers",
        title="Amazon movers",
        purpose="What is climbing Amazon Best Sellers and Movers & Shakers lists.",
        max_items=3,
        sources=("amazon",),
    ),
    SectionSpec(
        key="creator_watch",
        title="Creator watch",
        purpose="Videos and posts outperforming their creator's or community's usual numbers.",
        max_items=3,
        sources=("tiktok", "youtube", "x", "reddit", "tiktok_shop"),
    ),
    SectionSpec(
        key="action_list",
        title="This week's action list",
        purpose="One concrete action per featured trend, in priority order.",
        max_items=0,  # built from the trends featured above
    ),
)


# ranking's flags for trends that must not be featured: below a floor/unconfirmed, or kept out of the top N by a cap
NOT_FEATURABLE = frozenset({"ineligible", "capped"})


def featurable(trends: list[Trend], top_n: int | None = None) -> list[Trend]:
    """The trends an issue may feature, in rank order: inside the ranked top N, eligible, within caps."""
    limit = top_n if top_n is not None else len(trends)
    return sorted(
        (t for t in trends if 1 <= t.rank <= limit and not NOT_FEATURABLE & set(t.flags)), key=lambda t: t.rank
    )


def select(
    trends: list[Trend], specs: tuple[SectionSpec, ...] = SECTION_SPECS, top_n: int | None = None
) -> dict[str, list[Trend]]:
    """Give each section its trends in rank order; a trend appears in one section only.

    Only `featurable` trends are used. The action list gets every trend featured above it.
    """
    ranked = featurable(trends, top_n)
    used: set[str] = set()
    picks: dict[str, list[Trend]] = {}
    for spec in specs:
        if spec.max_items == 0:
            continue
        chosen: list[Trend] = []
        for trend in ranked:
            if len(chosen) >= spec.max_items:
                break
            if trend.cluster_id in used:
                continue
            if spec.sources and not set(trend.sources) & set(spec.sources):
                continue
            chosen.append(trend)
            used.add(trend.cluster_id)
        picks[spec.key] = chosen
    featured = [t for spec in specs for t in picks.get(spec.key, [])]
    for spec in specs:
        if spec.max_items == 0:
            picks[spec.key] = featured
    return picks
