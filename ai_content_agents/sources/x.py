"""X / Twitter posts via the Apify actor apidojo/tweet-scraper (search terms and handles).

A post's engagement (likes + reposts + replies + quotes) is scored against its author's norm
(trends_scoring §1.1, hierarchical; `stats.surprise`):

1. **author**: the median engagement of the author's OTHER posts in this run (n = how many);
2. **audience** (recorded as "author", from the author's own follower count): followers × the run's median
   engagement per follower (excluding the post), so an account with 3k followers whose post gets 2.9k
   engagements is far above its norm while a celebrity's routine 5k is not;
3. **run**: the median engagement of every other post (when the follower count is missing).

A thin author level (n < 5) is shrunk toward the audience level, a thick one toward 1. Rows carry no
search term (the actor only echoes it with `includeSearchTerms`, unverified), so there is no group level
and `group` stays "x run". q = strength(m_s, floor=2.0), 0 below 50 engagements: 45 posts each at ~1.2×
their own norm all get q = 0, however many there are.
Worked example: 2,940 engagements from a 3.1k-follower account whose 4 other posts have a median of 650
(m = 4.5, thin) and whose audience level is 3,100 × 0.021 = 65 (m = 45, n = 24 → m_s 38) →
m_s = (4·4.5 + 5·38)/9 = 23 → q = 1 − 2/23 = 0.91.
Ids stay strings (look-alike scrapers emit them as numbers > 2^53).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..models import FetchResult, Observation, Parsed, SourceMeta, TrendItem
from .base import SourceError, as_dict, as_list, as_text, parse_rows
from .stats import (
    THIN_N,
    Level,
    age_hours,
    aware,
    clean_title,
    log2_safe,
    loo_medians,
    loo_medians_by,
    parse_twitter_date,
    surprise,
    to_int,
)
from .urls import links_and_ids, x_status_id

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "x"
META = SourceMeta(
    name=NAME, label="X", tag="X", kind="thread", lead_metrics=("likes", "views", "reposts"),
    phrases=("twitter", "x.com"),
)
ACTOR_ID = "apidojo/tweet-scraper"
MIN_ENGAGEMENT = 50  # likes + reposts + replies + quotes
FOLLOWER_FLOOR = 100  # a 3-follower account cannot produce a meaningful per-follower rate
FLOOR = 2.0  # noteworthiness floor on m_s: an author's posts routinely swing 2× around their median
TOO_RECENT_H = 1.0
COMMERCE_PHRASES = ("sold out", "restock", "tiktok shop", "amazon find", "use code", "link in bio", "preorder", "dtc")


def not_configured(settings: Settings) -> str | None:
    if settings.apify_token is None:
        return "APIFY_TOKEN is not set"
    if not settings.x_search_terms and not settings.x_handles:
        return "no X search terms or handles configured"
    return None


def build_input(settings: Settings) -> dict[str, Any]:
    run_input: dict[str, Any] = {"maxItems": settings.x_max_items, "sort": "Latest"}
    if settings.x_search_terms:
        run_input["searchTerms"] = list(settings.x_search_terms)
    if settings.x_handles:
        run_input["twitterHandles"] = [h.lstrip("@") for h in settings.x_handles]
    return run_input


def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
    reason = not_configured(settings)
    if reason:
        raise SourceError(f"x: {reason}")
    from . import apify  # apify-client is heavy: loaded when a run needs it

    return apify.run_actor(settings, ACTOR_ID, build_input(settings), max_items=settings.x_max_items)


# --- parse -----------------------------------------------------------------------------


def _id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return None  # a float id has already lost precision; use the URL instead
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    return None


def _parse_row(row: dict, observed: datetime) -> TrendItem | str:
    if row.get("type") not in (None, "tweet"):
        return "not a tweet"
    if any(isinstance(k, str) and "." in k for k in row):
        return "flattened row"
    url = row.get("url") if isinstance(row.get("url"), str) else row.get("twitterUrl")
    tweet_id = _id(row.get("id")) or _id(row.get("id_str")) or x_status_id(url)
    if not tweet_id:
        return "no id"
    if row.get("isRetweet") is True:
        return "retweet"
    author = as_dict(row.get("author"))
    handle = author.get("userName") or author.get("username") or author.get("screen_name")
    handle = handle if isinstance(handle, str) and handle else None
    followers = to_int(author.get("followers") if author.get("followers") is not None else author.get("followers_count"))
    text = as_text(row.get("text"))
    if not text and isinstance(row.get("full_text"), str):
        text = row["full_text"]
    metrics: dict[str, float] = {}
    for key, name in (
        ("likeCount", "likes"),
        ("retweetCount", "reposts"),
        ("replyCount", "replies"),
        ("quoteCount", "quotes"),
        ("bookmarkCount", "bookmarks"),
        ("viewCount", "views"),  # may be missing or a string: missing stays missing, never 0
    ):
        value = to_int(row.get(key))
        if value is not None and value >= 0:
            metrics[name] = float(value)
    if followers is not None and followers >= 0:
        metrics["author_followers"] = float(followers)
    expanded: list[str] = []
    entities = as_dict(row.get("entities"))
    url_entries = as_list(entities.get("urls"))
    for entry in url_entries:
        if isinstance(entry, dict) and isinstance(entry.get("expanded_url"), str):
            expanded.append(entry["expanded_url"])
    bio = as_text(author.get("description"))
    links, link_ids = links_and_ids(" ".join(expanded), text, bio)
    links = [link for link in links if not link.startswith("https://t.co/")]
    canonical_ids = [f"x:{tweet_id}"] + [i for i in link_ids if i != f"x:{tweet_id}"]
    lowered = text.lower()
    reasons = [f"phrase:{p}" for p in COMMERCE_PHRASES if p in lowered][:1]
    if any(i.startswith("asin:") for i in link_ids):
        reasons.append("amazon_link")
    return TrendItem(
        source="x",
        source_id=tweet_id,
        title=clean_title(text) or (f"Post by @{handle}" if handle else "X post"),
        url=f"https://x.com/{handle or 'i'}/status/{tweet_id}" if handle else f"https://x.com/i/status/{tweet_id}",
        text=text,
        author=handle,
        author_followers=followers,
        group="x run",
        canonical_ids=canonical_ids,
        links=links,
        metrics=metrics,
        window="since posting",
        published_at=parse_twitter_date(row.get("createdAt") or row.get("created_at")),
        observed_at=observed,
        is_commerce=bool(reasons),
        commerce_reasons=reasons,
        raw=row,
    )


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    observed = aware(observed_at)
    return parse_rows(raw_items, lambda row: _parse_row(row, observed))


# --- score -----------------------------------------------------------------------------


def engagement(item: TrendItem) -> float:
    return sum(item.metrics.get(k, 0.0) for k in ("likes", "reposts", "replies", "quotes"))


def per_follower(item: TrendItem) -> float:
    return engagement(item) / max(float(item.author_followers or 0), FOLLOWER_FLOOR)


def score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:
    """Engagement vs the author's norm (author's other posts → followers × run rate → run), shrunk; q from the floor."""
    eng = [engagement(it) for it in items]
    by_author = loo_medians_by([it.author for it in items], eng)
    by_run = loo_medians_by(["run"] * len(items), eng)
    has_rate = [it.author_followers is not None and it.author_followers >= FOLLOWER_FLOOR for it in items]
    rates = [e / float(it.author_followers or 1) for e, it, ok in zip(eng, items, has_rate, strict=True) if ok]
    loo = iter(loo_medians(rates))
    all_rate = sorted(rates)[len(rates) // 2] if rates else None
    for i, item in enumerate(items):
        followers = item.author_followers
        levels = [Level("author", by_author[i][0], by_author[i][1], "median engagement of the author's other posts this run")]
        rate, n_rate = (next(loo), len(rates) - 1) if has_rate[i] else (all_rate, len(rates))
        if rate is not None and followers is not None and followers >= FOLLOWER_FLOOR:
            levels.append(Level("author", followers * rate, n_rate, f"author's followers × the run's median engagement per follower ({rate:.4f})"))
        levels.append(Level("run", by_run[i][0], by_run[i][1], "median engagement of the other posts this run"))
        sur = surprise(eng[i], levels)
        flags: list[str] = []
        eligible = eng[i] >= MIN_ENGAGEMENT
        if not eligible:
            flags.append("below_floor")
        if sur.m_s is None:
            flags.append("no_baseline")
        elif sur.n < THIN_N:
            flags.append("thin")
        if followers is None:
            flags.append("no_followers")
        age = age_hours(item.published_at, item.observed_at)
        if age is not None and age < TOO_RECENT_H:
            flags.append("too_recent")
        components = {
            "engagement": eng[i],
            "per_follower": per_follower(item),
            "log2_m_s": log2_safe(sur.m_s or 0.0),
            "followers": float(followers or 0),
            "floor": FLOOR,
        }
        if "views" in item.metrics and item.metrics["views"] > 0:
            components["engagement_per_view"] = eng[i] / item.metrics["views"]
        item.signals = sur.signals(
            "engagement", eng[i], floor=FLOOR, eligible=eligible, flags=flags, components=components
        )
    return items
