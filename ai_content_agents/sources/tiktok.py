"""TikTok videos via the Apify actor clockworks/tiktok-scraper (hashtags and search queries).

A video is surprising when its plays beat its own author's norm (trends_scoring §1.1, hierarchical):

1. **author**: the median plays of the author's OTHER videos in this run (n = how many);
2. **audience** (recorded as baseline_level "author", from the author's own stats): the author's fans × the
   run's median plays per fan (excluding the video), so a 24M-follower account's routine 2M-play video
   sits at ~0.1× while a 9k-fan creator's 400k-play video is ~20×;
3. **group**: the median plays of the other videos of the same hashtag/query this run;
4. **run**: the median plays of every other video in this run.

The most specific level with data is the baseline; a thin one (n < 5) is shrunk toward the level below it
(`stats.surprise`), a thick one toward 1. Levels 2 and 3 are only reached when the one above is thin or
missing (no fans in the row: level 2 is skipped). Every median excludes the video and is computed from one
sorted list per group (`stats.loo_medians_by`), O(n log n).

Evidence strength: q = boost(strength(m_s, floor=2.0), commerce weight), and q = 0 below 10,000 plays.
Worked example: 3.05M plays; the author's 6 other videos have a median of 119.7k → m = 25.5, n = 6 (not
thin) → m_s = (6·25.5 + 5)/11 = 14.4 → q = 1 − 2/14.4 = 0.86 → with the 1.5 commerce weight
1 − 0.14^1.5 = 0.95. A mega-account's video at 1.1× its own median has m_s ≈ 1.05 < 2 → q = 0.

Commerce videos (shop product, seller account, ad, "link in bio", shop link in the bio) get a
configurable weight because they are what a DTC newsletter is about.

Row handling (documented choice): flattened rows with dotted keys ("authorMeta.name", from the
actor's table view) are skipped and counted, not re-nested: they lack `authorMeta.id` and other
fields, and our fetch never asks for that view. Follower/following add-on rows are skipped too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..models import ChartSpec, FetchResult, Observation, Parsed, Signals, SourceMeta, TrendItem
from .base import SourceError, as_dict, as_str, as_text, parse_rows
from .stats import (
    THIN_N,
    Level,
    age_hours,
    aware,
    boost,
    clean_title,
    http_url,
    log2_safe,
    loo_medians,
    loo_medians_by,
    parse_epoch,
    parse_iso,
    strength,
    surprise,
    to_int,
)
from .urls import (
    canonicalize,
    domain,
    find_links,
    is_amazon_host,
    links_and_ids,
    tiktok_video_id,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "tiktok"
META = SourceMeta(
    name=NAME, label="TikTok", tag="TT", kind="video", lead_metrics=("plays",),
    chart=ChartSpec(metric="plays", label="TikTok plays"), phrases=("tik tok",),
)
ACTOR_ID = "clockworks/tiktok-scraper"
COMMERCE_WEIGHT = 1.5  # default of settings.tiktok_commerce_weight
# score() keyword → the Settings field the pipeline passes for it
SCORE_SETTINGS = {"commerce_weight": "tiktok_commerce_weight"}
MIN_PLAYS = 10_000  # volume floor: below this a big multiplier is noise (q = 0, not eligible)
FLOOR = 2.0  # noteworthiness floor on m_s: plays swing ~2× between a creator's ordinary videos
MIN_FANS = 100  # an account this small gives no usable plays-per-fan ratio
TOO_RECENT_H = 6.0  # plays of a video this fresh are not comparable with older ones yet

COMMERCE_PHRASES = (
    "link in bio",
    "linkinbio",
    "use code",
    "discount code",
    "promo code",
    "tiktok shop",
    "tiktokshop",
    "orange cart",
    "shop now",
    "on sale",
    "amazon find",
    "amazonfinds",
    "tiktokmademebuyit",
)
_SHOP_DOMAINS = ("myshopify.com", "etsy.com", "shopmy.us", "ltk.app", "liketk.it", "bit.ly/shop")


def not_configured(settings: Settings) -> str | None:
    if settings.apify_token is None:
        return "APIFY_TOKEN is not set"
    if not settings.tiktok_hashtags and not settings.tiktok_search_queries:
        return "no TikTok hashtags or search queries configured"
    return None


def build_input(settings: Settings) -> dict[str, Any]:
    """The actor input. `resultsPerPage` is always sent: the actor's default is 1."""
    return {
        "hashtags": [h.lstrip("#") for h in settings.tiktok_hashtags],
        "searchQueries": list(settings.tiktok_search_queries),
        "resultsPerPage": settings.tiktok_results_per_page,
        "shouldDownloadVideos": False,
        "shouldDownloadCovers": False,
        "shouldDownloadSubtitles": False,
        "shouldDownloadSlideshowImages": False,
    }


def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
    reason = not_configured(settings)
    if reason:
        raise SourceError(f"tiktok: {reason}")
    run_input = build_input(settings)
    routes = len(run_input["hashtags"]) + len(run_input["searchQueries"])
    from . import apify  # apify-client is heavy: loaded when a run needs it

    return apify.run_actor(settings, ACTOR_ID, run_input, max_items=settings.tiktok_results_per_page * routes)


# --- parse -----------------------------------------------------------------------------


def _group(row: dict, hashtags: list[str]) -> str | None:
    for key in ("searchQuery", "input"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lstrip("#").lower()
    return hashtags[0].lower() if hashtags else None


def _hashtags(value: object) -> list[str]:
    names: list[str] = []
    if not isinstance(value, list):
        return names
    for tag in value:
        name = tag.get("name") or tag.get("title") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name.strip():
            names.append(name.strip().lstrip("#"))
    return names


def commerce_reasons(row: dict, author: dict, text: str, bio_link: str | None) -> list[str]:
    """Why a video looks commercial. Every flag is optional in the data, so several weak signals are combined."""
    reasons: list[str] = []
    if row.get("hasTikTokShopProduct") is True:
        reasons.append("tiktok_shop_product")
    if author.get("ttSeller") is True:
        reasons.append("tt_seller")
    info = author.get("commerceUserInfo")
    if isinstance(info, dict) and info.get("commerceUser") is True:
        reasons.append("commerce_user")
    if row.get("isAd") is True:
        reasons.append("ad")
    if row.get("isSponsored") is True:
        reasons.append("sponsored")
    lowered = text.lower()
    for phrase in COMMERCE_PHRASES:
        if phrase in lowered:
            reasons.append(f"phrase:{phrase}")
            break
    if bio_link:
        host = domain(bio_link)
        if is_amazon_host(host) or any(d in bio_link.lower() for d in _SHOP_DOMAINS) or any(
            part in {"shop", "store"} or part.endswith("shop") or part.endswith("store") for part in host.split(".")
        ):
            reasons.append("shop_link_in_bio")
    return reasons


def _cover(row: dict) -> str | None:
    """The video's cover image: `videoMeta.coverUrl`, else an older `covers` list/dict (http(s) only)."""
    meta = as_dict(row.get("videoMeta"))
    for value in (meta.get("coverUrl"), meta.get("originalCoverUrl")):
        if url := http_url(value):
            return url
    covers = row.get("covers")
    candidates = list(covers.values()) if isinstance(covers, dict) else covers if isinstance(covers, list) else []
    return next((url for value in candidates if (url := http_url(value))), None)


def _parse_row(row: dict, observed: datetime) -> TrendItem | str:
    if any(isinstance(k, str) and "." in k for k in row):
        return "flattened row"
    if "connectedTo" in row or "connectionType" in row:
        return "follower row"
    raw_id = row.get("id")
    video_id = str(raw_id).strip() if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    web_url = as_str(row.get("webVideoUrl"))
    if not video_id.isdigit():
        video_id = tiktok_video_id(web_url) or ""
    if not video_id:
        return "no id"
    if not web_url and row.get("playCount") is None:  # the actor's rows always carry both
        return "error row" if row.get("error") or row.get("errorDescription") else "not a video row"
    author = as_dict(row.get("authorMeta"))
    handle = as_str(author.get("name"))
    text = as_text(row.get("text"))
    bio = as_text(author.get("signature"))
    bio_link = as_str(author.get("bioLink"))
    hashtags = _hashtags(row.get("hashtags"))
    url = canonicalize(web_url) if web_url else None
    if not url:
        url = f"https://www.tiktok.com/@{handle or 'user'}/video/{video_id}"
    # Only links in the caption add canonical ids: a bio link belongs to the creator, not to this video,
    # and would glue every video of that creator into one product cluster. Bio links stay in `links`.
    links, link_ids = links_and_ids(text)
    links += [link for link in find_links(bio_link, bio) if link not in links]
    canonical_ids = [f"tiktok_video:{video_id}"] + [i for i in link_ids if i != f"tiktok_video:{video_id}"]
    metrics: dict[str, float] = {}
    for key, name in (
        ("playCount", "plays"),
        ("diggCount", "likes"),
        ("shareCount", "shares"),
        ("commentCount", "comments"),
        ("collectCount", "saves"),
        ("repostCount", "reposts"),
    ):
        value = to_int(row.get(key))
        if value is not None and value >= 0:
            metrics[name] = float(value)
    fans = to_int(author.get("fans"))
    if fans is not None and fans >= 0:
        metrics["author_fans"] = float(fans)
    published = parse_epoch(row.get("createTime")) or parse_iso(row.get("createTimeISO"))
    reasons = commerce_reasons(row, author, text, bio_link)
    title = clean_title(text) or (f"TikTok video by @{handle}" if handle else "TikTok video")
    return TrendItem(
        source="tiktok",
        source_id=video_id,
        title=title,
        url=url,
        text=text,
        author=handle,
        author_followers=fans,
        group=_group(row, hashtags),
        canonical_ids=canonical_ids,
        links=links,
        metrics=metrics,
        window="since posting",
        published_at=published,
        observed_at=observed,
        is_commerce=bool(reasons),
        commerce_reasons=reasons,
        thumbnail=_cover(row),
        raw=row,
    )


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    observed = aware(observed_at)
    return parse_rows(raw_items, lambda row: _parse_row(row, observed))


# --- score -----------------------------------------------------------------------------


def _levels(items: list[TrendItem]) -> list[list[Level]]:
    """Each video's candidate baselines, most specific first (see the module docstring)."""
    plays = [it.metrics.get("plays") for it in items]
    by_author = loo_medians_by([it.author for it in items], plays)
    by_group = loo_medians_by([it.group or "" for it in items], plays)
    by_run = loo_medians_by(["run"] * len(items), plays)
    fans = [it.metrics.get("author_fans") for it in items]
    has_ratio = [p is not None and f is not None and f >= MIN_FANS for p, f in zip(plays, fans, strict=True)]
    ratios = [p / f for p, f, ok in zip(plays, fans, has_ratio, strict=True) if ok]  # type: ignore[operator]
    loo = iter(loo_medians(ratios))
    all_ratio = sorted(ratios)[len(ratios) // 2] if ratios else None
    out: list[list[Level]] = []
    for i, _item in enumerate(items):
        levels = [Level("author", by_author[i][0], by_author[i][1], "median plays of the author's other videos this run")]
        if has_ratio[i]:
            r, n_r = next(loo), len(ratios) - 1
        else:
            r, n_r = all_ratio, len(ratios)
        f = fans[i]
        if r is not None and f is not None and f >= MIN_FANS:
            levels.append(Level("author", f * r, n_r, f"author's fans × the run's median plays per fan ({r:.2f})"))
        levels.append(Level("group", by_group[i][0], by_group[i][1], "median plays of the other videos of the same hashtag/query this run"))
        levels.append(Level("run", by_run[i][0], by_run[i][1], "median plays of the other videos this run"))
        out.append(levels)
    return out


def score(
    items: list[TrendItem],
    history: Mapping[str, list[Observation]] | None = None,
    *,
    commerce_weight: float = COMMERCE_WEIGHT,
) -> list[TrendItem]:
    """Plays vs the author's norm (author → audience → hashtag → run), shrunk; q from the floor, commerce-weighted."""
    for item, levels in zip(items, _levels(items), strict=True):
        plays = item.metrics.get("plays")
        if plays is None:
            item.signals = Signals(metric="plays", value=0.0, s=0.0, eligible=False, baseline_level="none", flags=["no_metric"])
            continue
        flags: list[str] = []
        sur = surprise(plays, levels)
        weight = commerce_weight if item.is_commerce else 1.0
        eligible = plays >= MIN_PLAYS
        if not eligible:
            flags.append("below_floor")
        if sur.m_s is None:
            flags.append("no_baseline")
        elif sur.n < THIN_N:
            flags.append("thin")
        age = age_hours(item.published_at, item.observed_at)
        if age is not None and age < TOO_RECENT_H:
            flags.append("too_recent")
        q = boost(strength(sur.m_s, FLOOR), weight) if eligible else 0.0
        s = log2_safe(sur.m_s) + log2_safe(weight) if sur.m_s is not None else 0.0
        components = {"plays": plays, "log2_m_s": log2_safe(sur.m_s or 0.0), "commerce_weight": weight, "floor": FLOOR}
        if sur.baseline is not None:
            components["baseline_plays"] = sur.baseline
        fans = item.metrics.get("author_fans")
        if fans:
            components["plays_per_fan"] = plays / fans
        engagement = sum(item.metrics.get(k, 0.0) for k in ("likes", "comments", "shares", "saves"))
        if plays > 0:
            components["engagement_rate"] = engagement / plays
        item.signals = Signals(
            metric="plays",
            value=plays,
            baseline=sur.baseline,
            baseline_kind=sur.kind,
            n_baseline=sur.n,
            m=sur.m,
            m_s=sur.m_s,
            weight=weight,
            s=s,
            q=q,
            baseline_level=sur.level,
            eligible=eligible,
            flags=flags,
            components=components,
        )
    return items
