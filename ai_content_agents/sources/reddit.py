"""Reddit top posts per subreddit: OAuth app-only when credentials exist, else Apify's Reddit scraper,
else the keyless `.json` endpoint as a last resort (widely blocked in 2026; it fails cleanly).

Scoring uses upvotes per hour of age (score / max(age_h, 1)). `top?t=day` mixes 2-hour-old and 23-hour-old
posts, and a per-hour rate is the simplest decay that makes them comparable; fresh posts with `hide_score`
are flagged too_recent, ineligible, and part of nobody's baseline. Hierarchy (trends_scoring §1.1):

1. **group**: the median rate of the OTHER posts from the same subreddit this run;
2. **run** (per audience): the subreddit's subscribers × the run's median upvotes/hour per subscriber, so a
   thin small subreddit is not measured against the big ones' rates (skipped when subscribers are unknown);
3. **run**: the median rate of every other post this run.

There is no author level: a listing carries no author stats, and one user's several posts in a top
listing are rare (and the sample anonymises every author to one name). A thin subreddit (n < 5) is shrunk
toward the level below it (`stats.surprise`). q = strength(m_s, floor=2.0), 0 below a score of 20: top
listings are power-law, so 1.5–2× the subreddit's median rate is ordinary.
Worked example: 4,210 points in 15 h = 281/h against r/BuyItForLife's median 59/h over 7 posts → m = 4.8,
m_s = (7·4.8 + 5)/12 = 3.2 → q = 1 − 2/3.2 = 0.38.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import requests

from ..config import secret
from ..models import ChartSpec, FetchResult, Observation, Parsed, Signals, SourceMeta, TrendItem
from ..redact import remember
from .base import SourceError, SourceUnreachable, as_str, parse_rows, progress
from .httpjson import one_line, request_json
from .stats import (
    THIN_N,
    Level,
    age_hours,
    aware,
    clean_title,
    http_url,
    log2_safe,
    loo_medians_by,
    parse_epoch,
    parse_iso,
    surprise,
    to_float,
    to_int,
)
from .urls import canonicalize, links_and_ids

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "reddit"
META = SourceMeta(
    name=NAME, label="Reddit", tag="RD", kind="thread", lead_metrics=("score", "comments"),
    chart=ChartSpec(metric="score", label="Reddit upvotes"),
)
APIFY_ACTOR_ID = "trudax/reddit-scraper-lite"
MIN_SCORE = 20
MIN_AGE_H = 1.0  # rate denominator floor, so a 5-minute-old post cannot divide by ~0
FLOOR = 2.0  # noteworthiness floor on m_s
TOO_RECENT_H = 2.0
COMMERCE_PHRASES = ("bought", "buy it", "worth it", "product", "amazon", "tiktok shop", "restock", "sold out", "brand")


def not_configured(settings: Settings) -> str | None:
    if not settings.reddit_subreddits:
        return "no subreddits configured"
    return None  # the keyless endpoint is always worth one clean try


def route(settings: Settings) -> str:
    if settings.reddit_client_id and settings.reddit_client_secret is not None:
        return "oauth"
    if settings.apify_token is not None:
        return "apify"
    return "public"


def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
    reason = not_configured(settings)
    if reason:
        raise SourceError(f"reddit: {reason}")
    way = route(settings)
    if way == "apify":
        return _fetch_apify(settings)
    with requests.Session() as session:
        session.headers["User-Agent"] = settings.reddit_user_agent
        headers: dict[str, str] = {}
        if way == "oauth":
            headers["Authorization"] = f"bearer {_token(session, settings)}"
            base = settings.reddit_api_url.rstrip("/")
            path = "/r/{sub}/top"
        else:
            base = settings.reddit_public_url.rstrip("/")
            path = "/r/{sub}/top.json"
        listings: list[dict] = []
        failures: list[str] = []
        extra = 0  # posts beyond the `limit` asked for (a server that sends more is cut)
        for sub in settings.reddit_subreddits:
            try:
                listing = request_json(
                    session,
                    "GET",
                    base + path.format(sub=sub),
                    service="reddit",
                    what=f"r/{sub} top ({way})",
                    params={"t": settings.reddit_time_filter, "limit": settings.reddit_limit, "raw_json": 1},
                    headers=headers,
                    timeout_s=settings.http_timeout_s,
                    retries=settings.http_retries,
                    max_wait_s=settings.http_retry_max_wait_s,
                    max_bytes=int(settings.max_response_mb * 1_000_000),
                )
            except SourceUnreachable:
                raise  # the other subreddits live on the same host
            except SourceError as exc:
                if "unauthorized" in str(exc) and way == "oauth":
                    raise
                failures.append(str(exc))
                continue
            if isinstance(listing, dict):
                extra += _cap_children(listing, settings.reddit_limit)
                listings.append(listing)
                progress().publish(listings, f"reddit via {way}; {len(listings)}/{len(settings.reddit_subreddits)} subreddits")
            else:
                failures.append(f"reddit: r/{sub} returned an unexpected body")
    if not listings:
        raise SourceError(failures[0] if failures else "reddit: no subreddit returned data")
    note = f"reddit via {way}; {len(listings)}/{len(settings.reddit_subreddits)} subreddits"
    if failures:
        note += f"; failed: {failures[0]}" + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else "")
    cut = {"posts over the requested limit": extra} if extra else {}
    return FetchResult(raw_items=listings, partial=bool(failures), note=note, cut=cut)


def _cap_children(listing: dict, limit: int) -> int:
    """Keep at most the `limit` posts asked for in a Listing; return how many were cut."""
    data = listing.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    if isinstance(children, list) and len(children) > limit:
        data["children"] = children[:limit]  # type: ignore[index]
        return len(children) - limit
    return 0


def _token(session: requests.Session, settings: Settings) -> str:
    body = request_json(
        session,
        "POST",
        settings.reddit_auth_url,
        service="reddit",
        what="token request",
        data={"grant_type": "client_credentials"},
        auth=(settings.reddit_client_id or "", secret(settings.reddit_client_secret) or ""),
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
        max_wait_s=settings.http_retry_max_wait_s,
        max_bytes=int(settings.max_response_mb * 1_000_000),
    )
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        error = body.get("error") if isinstance(body, dict) else None
        raise SourceError(f"reddit: token request returned no access token ({one_line(str(error or 'no error field'), 60)})")
    remember(token)  # masked in every message from now on
    return token


def _fetch_apify(settings: Settings) -> FetchResult:
    subs = list(settings.reddit_subreddits)
    t = settings.reddit_time_filter
    run_input = {
        "startUrls": [{"url": f"https://www.reddit.com/r/{sub}/top/?t={t}"} for sub in subs],
        "sort": "top",
        "time": t,
        "maxItems": settings.reddit_limit * len(subs),
        "maxPostCount": settings.reddit_limit,
        "maxComments": 0,
        "skipComments": True,
        "includeNSFW": False,
    }
    from . import apify  # apify-client is heavy: loaded when a run needs it

    return apify.run_actor(settings, APIFY_ACTOR_ID, run_input, max_items=settings.reddit_limit * len(subs))


# --- parse -----------------------------------------------------------------------------


def _posts(raw_items: object) -> Iterator[object]:
    """Flatten Listing envelopes and `{kind: t3, data}` things into post dicts (other rows pass through)."""
    for entry in raw_items if isinstance(raw_items, list) else []:
        if isinstance(entry, dict) and entry.get("kind") == "Listing":
            data = entry.get("data")
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(children, list):
                yield entry  # `_parse_entry` counts it as a bad listing
                continue
            yield from children
        else:
            yield entry


def _from_apify(row: dict) -> dict:
    """The trudax/reddit-scraper item in Reddit's own field names."""
    raw_id = row.get("parsedId") or row.get("id")
    post_id = raw_id.removeprefix("t3_") if isinstance(raw_id, str) else raw_id
    community = row.get("communityName") or row.get("parsedCommunityName")
    subreddit = community.removeprefix("r/") if isinstance(community, str) else None
    return {
        "id": post_id,
        "title": row.get("title"),
        "selftext": row.get("body"),
        "author": row.get("username"),
        "subreddit": subreddit,
        "score": row.get("upVotes"),
        "num_comments": row.get("numberOfComments"),
        "upvote_ratio": row.get("upVoteRatio"),
        "over_18": row.get("over18"),
        "_created": row.get("createdAt"),
        "url": row.get("url"),
        "link": row.get("link"),
    }


def _parse_post(post: dict, observed: datetime) -> TrendItem | str:  # noqa: C901 - raw API posts: one guard per field variant (removed, crosspost, media, link)
    if post.get("dataType") is not None:
        if post.get("dataType") != "post":
            return "comment" if post.get("dataType") == "comment" else "not a post"
        post = _from_apify(post)
    raw_id = post.get("id")
    post_id = str(raw_id).strip().removeprefix("t3_") if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    if not post_id:
        return "no id"
    title = post.get("title")
    if not isinstance(title, str) or not title.strip():
        return "no title"
    if post.get("stickied") is True:
        return "stickied"
    if post.get("over_18") is True:
        return "nsfw"
    subreddit = as_str(post.get("subreddit"))
    permalink = as_str(post.get("permalink"))
    if permalink and permalink.startswith("/"):
        url = "https://www.reddit.com" + permalink
    elif isinstance(post.get("url"), str) and "/comments/" in post["url"]:
        url = post["url"]
    elif subreddit:
        url = f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/"
    else:
        url = f"https://www.reddit.com/comments/{post_id}/"
    body = html.unescape(post["selftext"]) if isinstance(post.get("selftext"), str) else ""
    dest = post.get("url_overridden_by_dest") or (post.get("url") if post.get("is_self") is False else None)
    if dest is None and isinstance(post.get("link"), str):
        dest = post["link"]
    dest = html.unescape(dest) if isinstance(dest, str) else None
    links, link_ids = links_and_ids(dest, body)
    links = [link for link in links if "reddit.com" not in link and "redd.it" not in link]
    canonical_ids = [f"reddit:{post_id.lower()}"] + [i for i in link_ids if not i.startswith("reddit:")]
    metrics: dict[str, float] = {}
    for key, name in (
        ("score", "score"),
        ("num_comments", "comments"),
        ("subreddit_subscribers", "subscribers"),
        ("num_crossposts", "crossposts"),
    ):
        value = to_int(post.get(key))
        if value is not None:
            metrics[name] = float(value)
    ratio = to_float(post.get("upvote_ratio"))
    if ratio is not None:
        metrics["upvote_ratio"] = ratio
    if post.get("hide_score") is True:
        metrics["hide_score"] = 1.0
    published = parse_epoch(post.get("created_utc")) or parse_iso(post.get("_created"))
    clean = html.unescape(" ".join(title.split()))
    lowered = (clean + " " + body).lower()
    reasons = [f"phrase:{p}" for p in COMMERCE_PHRASES if p in lowered][:1]
    if any(i.startswith("asin:") for i in link_ids):
        reasons.append("amazon_link")
    author = as_str(post.get("author"))
    return TrendItem(
        source="reddit",
        source_id=post_id.lower(),
        title=clean_title(clean, limit=200) or clean,
        url=canonicalize(url) or url,
        text=body,
        author=author,
        group=f"r/{subreddit}" if subreddit else None,
        canonical_ids=canonical_ids,
        links=links,
        metrics=metrics,
        window="since posting",
        published_at=published,
        observed_at=observed,
        is_commerce=bool(reasons),
        commerce_reasons=reasons,
        thumbnail=http_url(html.unescape(post["thumbnail"])) if isinstance(post.get("thumbnail"), str) else None,
        raw=post,
    )


def _parse_entry(entry: dict, observed: datetime) -> TrendItem | str:
    """One row from `_posts`: a post dict, a `{kind: t3, data}` thing, or a Listing `_posts` could not open."""
    kind = entry.get("kind")
    if kind == "Listing":
        return "bad listing"
    if kind is not None and "data" in entry:
        if kind != "t3":
            return "not a post"
        post = entry.get("data")
        return _parse_post(post, observed) if isinstance(post, dict) else "not a dict"
    return _parse_post(entry, observed)


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    """Accepts Listing envelopes, bare post dicts, `t3` things, and trudax/reddit-scraper items."""
    observed = aware(observed_at)
    return parse_rows(list(_posts(raw_items)), lambda entry: _parse_entry(entry, observed))


# --- score -----------------------------------------------------------------------------


def hourly_rate(item: TrendItem) -> float | None:
    points = item.metrics.get("score")
    if points is None:
        return None
    age = age_hours(item.published_at, item.observed_at)
    return max(points, 0.0) / max(age if age is not None else 24.0, MIN_AGE_H)


def score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:
    """Upvotes per hour vs the subreddit's other posts (→ per-subscriber → run), shrunk; q from the floor."""
    rates = [hourly_rate(it) for it in items]
    counted = [None if it.metrics.get("hide_score") else r for it, r in zip(items, rates, strict=True)]
    by_sub = loo_medians_by([it.group or "" for it in items], counted)
    by_run = loo_medians_by(["run"] * len(items), counted)
    subs = [it.metrics.get("subscribers") for it in items]
    per_sub = [r / s if r is not None and s else None for r, s in zip(counted, subs, strict=True)]
    by_audience = loo_medians_by(["run"] * len(items), per_sub)
    everyone = sorted(v for v in per_sub if v is not None)
    for i, item in enumerate(items):
        rate = rates[i]
        if rate is None:
            item.signals = Signals(metric="upvotes_per_hour", value=0.0, s=0.0, eligible=False, baseline_level="none", flags=["no_metric"])
            continue
        per_sub_median, n_audience = by_audience[i] if per_sub[i] is not None else (
            everyone[len(everyone) // 2] if everyone else None, len(everyone))
        sub_count = subs[i]
        levels = [Level("group", by_sub[i][0], by_sub[i][1], "median upvotes/hour of the other posts from the same subreddit this run")]
        if sub_count and per_sub_median is not None:
            levels.append(Level("run", sub_count * per_sub_median, n_audience,
                                "subreddit subscribers × the run's median upvotes/hour per subscriber"))
        levels.append(Level("run", by_run[i][0], by_run[i][1], "median upvotes/hour of the other posts this run"))
        sur = surprise(rate, levels)
        flags: list[str] = []
        eligible = item.metrics.get("score", 0.0) >= MIN_SCORE
        if not eligible:
            flags.append("below_floor")
        if item.metrics.get("hide_score"):
            flags.append("too_recent")
            eligible = False  # the score is hidden, so not meaningful yet
        age = age_hours(item.published_at, item.observed_at)
        if age is not None and age < TOO_RECENT_H and "too_recent" not in flags:
            flags.append("too_recent")
        if sur.m_s is None:
            flags.append("no_baseline")
        elif sur.n < THIN_N:
            flags.append("thin")
        components = {
            "score": item.metrics.get("score", 0.0),
            "age_h": age if age is not None else -1.0,
            "upvotes_per_hour": rate,
            "log2_m_s": log2_safe(sur.m_s or 0.0),
            "floor": FLOOR,
        }
        if "comments" in item.metrics:
            components["comments"] = item.metrics["comments"]
        item.signals = sur.signals(
            "upvotes_per_hour", rate, floor=FLOOR, eligible=eligible, flags=flags, components=components, velocity=rate
        )
    return items
