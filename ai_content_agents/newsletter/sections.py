"""The five sections of an issue and which stories each one gets. Pure: trends in, picks out.

Sections are chosen by content, not by rank alone:
- the trend of the week is the strongest corroborated story (two or more independent sources count); only when no
  story is corroborated does the strongest named story lead, and the copy says it is single-source;
- Creator watch holds stories with a TikTok or YouTube video running far ahead of its creator's norm;
- Amazon movers holds stories whose Amazon listing moved;
- What sellers are saying holds Reddit/X threads, attached to a story featured above or standing on their own product;
- the action list gives one action per featured story (built by `compose` from the written, published items).
A story is written up once per issue (an attached thread points back to it, it does not repeat it). A section with
nothing good gets fewer items, never filler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from ..models import Trend
from ..sources import meta
from . import story


class SectionSpec(BaseModel):
    key: str
    title: str
    purpose: str  # one line: what the section is for (shown to the writer model too)
    max_items: int
    sources: tuple[str, ...] = ()  # the sources whose items this section is about (for the editor's prompt)
    # set by compose for one issue: the issue-wide position of this section's first story (the writer varies its
    # phrasing by position), and thread picks that point to a story written up elsewhere (cluster id → section title)
    first_slot: int = 0
    attached: dict[str, str] = {}


TOP, CREATORS, AMAZON, SELLERS, ACTIONS = "top_trend", "creator_watch", "amazon_movers", "sellers", "action_list"

SECTION_SPECS: tuple[SectionSpec, ...] = (
    SectionSpec(
        key=TOP,
        title="The trend of the week",
        purpose="The strongest story that two or more independent sources confirm, in depth.",
        max_items=1,
    ),
    SectionSpec(
        key=CREATORS,
        title="Creator watch",
        purpose="TikTok and YouTube videos running far ahead of their creator's usual numbers, and the product in them.",
        max_items=3,
        sources=story.sources_of_kind("video"),
    ),
    SectionSpec(
        key=AMAZON,
        title="Amazon movers",
        purpose="Products climbing Amazon's Best Sellers and Movers & Shakers lists.",
        max_items=3,
        sources=("amazon",),
    ),
    SectionSpec(
        key=SELLERS,
        title="What sellers are saying",
        purpose="Reddit and X threads about a featured story or about a product of their own; their numbers are "
        "claims, quoted and attributed.",
        max_items=3,
        sources=story.sources_of_kind("thread"),
    ),
    SectionSpec(
        key=ACTIONS,
        title="This week's action list",
        purpose="One concrete action per featured story, in the order they appear.",
        max_items=0,  # built from the stories featured above
    ),
)
SPEC_BY_KEY = {s.key: s for s in SECTION_SPECS}

# ranking's flags for trends that must not be featured: below a floor/unconfirmed, kept out of the top N by a cap,
# off the niche, or excluded by a profile
NOT_FEATURABLE = frozenset({"ineligible", "capped", "off_topic", "excluded"})
STANDOUT_MULTIPLE = 10.0  # a creator video this far ahead of its norm makes Creator watch a story's home
_HOME = {"listing": AMAZON, "video": CREATORS, "thread": SELLERS}  # a story's home by its lead source's kind


def featurable(trends: list[Trend], top_n: int | None = None) -> list[Trend]:
    """The trends an issue may feature, in rank order: inside the ranked top N, eligible, within caps."""
    limit = top_n if top_n is not None else len(trends)
    return sorted(
        (t for t in trends if 1 <= t.rank <= limit and not NOT_FEATURABLE & set(t.flags)), key=lambda t: t.rank
    )


@dataclass(frozen=True)
class Candidate:
    """What selection needs to know about one story (built from a `Trend`, or from an agent's `TrendBrief`)."""

    cluster_id: str
    rank: int
    fits: tuple[str, ...]  # sections whose content it has, its home section first; TOP when it names a product
    corroborated: bool = False
    has_thread: bool = False  # a thread that may be attached to it once it is featured
    flags: tuple[str, ...] = field(default_factory=tuple)


def section_fits(trend: Trend) -> tuple[str, ...]:
    """The sections this story has content for, its home section (by its lead item's source) first."""
    fits: list[str] = []
    if story.amazon_item(trend) is not None:
        fits.append(AMAZON)
    named = bool(story.name(trend))
    if story.creator_video(trend) is not None:  # unnamed: the copy quotes the caption, attributed, to say what it shows
        fits.append(CREATORS)
    if story.threads(trend) and story.product_anchor(trend):
        fits.append(SELLERS)
    lead = story.lead_item(trend)
    home = _HOME.get(meta(lead.source).kind) if lead is not None else None
    video = story.creator_video(trend)
    if home == AMAZON and video is not None and story.multiple(video) >= STANDOUT_MULTIPLE:
        home = CREATORS  # a video this far ahead of its creator's norm is the story's best angle
    if home in fits:
        fits.remove(home)
        fits.insert(0, home)
    if named:
        fits.insert(0, TOP)
    return tuple(fits)


def candidate(trend: Trend) -> Candidate:
    return Candidate(
        cluster_id=trend.cluster_id,
        rank=trend.rank,
        fits=section_fits(trend),
        corroborated=story.corroborated(trend),
        has_thread=bool(story.threads(trend)),
        flags=tuple(trend.flags),
    )


def fits(key: str, trend: Trend) -> bool:
    return key in section_fits(trend) or (key == SELLERS and bool(story.threads(trend)))


def select_candidates(  # noqa: C901 - the editorial selection rules, in priority order, in one readable pass
    cands: Sequence[Candidate], specs: tuple[SectionSpec, ...] = SECTION_SPECS
) -> dict[str, list[str]]:
    """Section key → cluster ids. Candidates must already be featurable; they are taken in rank order."""
    ranked = sorted(cands, key=lambda c: c.rank)
    limits = {s.key: s.max_items for s in specs}
    picks: dict[str, list[str]] = {s.key: [] for s in specs if s.max_items > 0}
    used: set[str] = set()

    def room(key: str) -> bool:
        return key in picks and len(picks[key]) < limits[key]

    if room(TOP):
        lead = next((c for c in ranked if TOP in c.fits and c.corroborated), None) or next(
            (c for c in ranked if TOP in c.fits), None
        )
        if lead is not None:
            picks[TOP].append(lead.cluster_id)
            used.add(lead.cluster_id)
    deferred: list[Candidate] = []
    for c in ranked:  # creator videos and Amazon moves, each story at its home section when there is room
        if c.cluster_id in used:
            continue
        homes = [k for k in c.fits if k != TOP]
        if homes and homes[0] == SELLERS and not (c.corroborated and len(homes) > 1):
            deferred.append(c)  # led by a thread: written up there (a corroborated story gets its full write-up)
            continue
        for key in homes:
            if key != SELLERS and room(key):
                picks[key].append(c.cluster_id)
                used.add(c.cluster_id)
                break
    if SELLERS in picks:  # threads: about a featured story (attached) or standing on their own product
        featured = {cid for key, ids in picks.items() if key != SELLERS for cid in ids}
        for c in ranked:
            if not room(SELLERS):
                break
            if (c.cluster_id in featured and c.has_thread) or (c.cluster_id not in used and SELLERS in c.fits):
                picks[SELLERS].append(c.cluster_id)
                used.add(c.cluster_id)
    for c in deferred:  # stories led by a thread that found no room there
        if c.cluster_id in used:
            continue
        for key in c.fits:
            if key not in (TOP, SELLERS) and room(key):
                picks[key].append(c.cluster_id)
                used.add(c.cluster_id)
                break
    return picks


def featured_ids(picks: dict[str, list[str]]) -> list[str]:
    """Stories written up in this issue, in section order, each once (an attached thread is not a second write-up)."""
    seen: list[str] = []
    for key, ids in picks.items():
        if key == ACTIONS:
            continue
        for cid in ids:
            if cid not in seen:
                seen.append(cid)
    return seen


def attached(picks: dict[str, list[str]]) -> dict[str, str]:
    """Thread picks that point back to a story featured in another section: cluster id → that section's key."""
    out: dict[str, str] = {}
    for key, ids in picks.items():
        if key in (SELLERS, ACTIONS):
            continue
        for cid in ids:
            if cid in picks.get(SELLERS, []):
                out[cid] = key
    return out


def select(
    trends: list[Trend], specs: tuple[SectionSpec, ...] = SECTION_SPECS, top_n: int | None = None
) -> dict[str, list[Trend]]:
    """Give each section its stories (see the module docstring). The action list gets every story featured above."""
    ranked = featurable(trends, top_n)
    by_id = {t.cluster_id: t for t in ranked}
    ids = select_candidates([candidate(t) for t in ranked], specs)
    picks = {key: [by_id[c] for c in cids] for key, cids in ids.items()}
    for spec in specs:
        if spec.max_items == 0:
            picks[spec.key] = [by_id[c] for c in featured_ids(ids)]
    return picks
