"""YouTube videos via the Data API v3: search for recent videos, then score each against its own channel.

A video is an outlier when its views beat the median of the channel's recent uploads of the same
format (Shorts ≤ 180 s vs long-form: Shorts views count every replay since 2025), excluding itself and
uploads younger than 48 h. Hierarchy (trends_scoring §1.1, `stats.surprise`):

1. **author**: that channel median (n = uploads behind it); thin (n < 5) → shrunk toward level 2;
2. **prior**: the population prior, the median of the OTHER channels' medians for the same format in this
   run (n = how many channels). A brand-new channel (no comparable uploads) is scored against it, never at
   "m = 1", and flagged `breakout` when its views clear the 10,000-view floor.

Evidence strength q = strength(m_s, floor=2.0) (outlier tools' first tier is 2×), 0 below 10,000 views.
Worked example: a new channel's video with 1.4M views in 60 h, other channels' long-form medians 60k, 80k
and 250k → prior 80k, n = 3 (thin, shrunk toward 1) → m = 17.5, m_s = (3·17.5 + 5)/8 = 7.2 → q = 0.72,
flags breakout + thin. A 2,000-view video at 50× a 40-view channel median stays at q = 0 (volume floor).

Fetch spends quota: searches are the scarce part (cost from settings), the channel refresh costs
~3 units per channel. The spend is reported in FetchResult.note.

Raw item shape (documented choice): each raw item is a `videos.list` resource, plus two private keys
added by fetch: `_channel_recent` (mini video resources of the channel's recent uploads: id,
snippet.publishedAt, contentDetails.duration, statistics.viewCount) and `_channel` (the channel's
statistics). parse summarises the baseline into metrics (median views, n), so score stays pure.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from ..config import secret
from ..models import ChartSpec, FetchResult, Observation, Parsed, Signals, SourceMeta, TrendItem
from .base import SourceError, SourceUnreachable, as_str, parse_rows, progress
from .httpjson import request_json
from .stats import (
    THIN_N,
    Level,
    age_hours,
    aware,
    http_url,
    log2_safe,
    loo_medians,
    median,
    parse_iso,
    surprise,
    to_int,
)
from .urls import links_and_ids

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Store

NAME = "youtube"
META = SourceMeta(
    name=NAME, label="YouTube", tag="YT", kind="video", lead_metrics=("views",),
    chart=ChartSpec(metric="views", label="YouTube views"),
)
SHORTS_MAX_S = 180
TOO_RECENT_H = 48.0
MIN_VIEWS = 10_000  # volume floor: fewer views is no trend evidence, whatever the channel's median
FLOOR = 2.0  # noteworthiness floor on m_s (outlier tools' first tier)
UPLOADS_PER_CHANNEL = 30
BATCH = 50
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
COMMERCE_PHRASES = ("amazon", "tiktok made me buy", "link in description", "affiliate", "use code", "review", "haul")


def not_configured(settings: Settings) -> str | None:
    if settings.youtube_api_key is None:
        return "YOUTUBE_API_KEY is not set"
    if not settings.youtube_queries:
        return "no YouTube queries configured"
    return None


def duration_seconds(value: object) -> int | None:
    """ISO-8601 duration ('PT9M41S', 'P1DT2H') → seconds."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return int(days * 86400 + hours * 3600 + minutes * 60 + seconds)


# --- fetch -----------------------------------------------------------------------------


class _Api:
    """One requests.Session per fetch, with a running count of quota units spent."""

    def __init__(self, settings: Settings, session: requests.Session) -> None:
        self.settings = settings
        self.session = session
        self.base = settings.youtube_api_url.rstrip("/")
        self.key = secret(settings.youtube_api_key) or ""
        self.units = 0
        self.searches = 0
        self.calls = 0
        self.dropped = 0  # video rows that were not objects (counted as skipped, never silently lost)
        self.extra = 0  # rows beyond the ids asked for (a server that sends more is cut)

    def get(self, endpoint: str, params: dict[str, Any]) -> dict:
        cost = self.settings.youtube_search_cost_units if endpoint == "search" else 1
        self.units += cost  # invalid requests are charged too
        if endpoint == "search":
            self.searches += 1
        else:
            self.calls += 1
        body = request_json(
            self.session,
            "GET",
            f"{self.base}/{endpoint}",
            service="youtube",
            what=f"{endpoint}.list",
            params={**params, "key": self.key},
            timeout_s=self.settings.http_timeout_s,
            retries=self.settings.http_retries,
            max_wait_s=self.settings.http_retry_max_wait_s,
            max_bytes=int(self.settings.max_response_mb * 1_000_000),
        )
        if not isinstance(body, dict):
            raise SourceError(f"youtube: {endpoint}.list returned an unexpected body")
        return body

    def videos(self, ids: Iterable[str], parts: str = "snippet,statistics,contentDetails") -> list[dict]:
        ids = list(dict.fromkeys(ids))
        out: list[dict] = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            body = self.get("videos", {"part": parts, "id": ",".join(batch), "maxResults": BATCH})
            rows = _list(body.get("items"))
            if len(rows) > len(batch):
                self.extra += len(rows) - len(batch)
                rows = rows[: len(batch)]
            out.extend(v for v in rows if isinstance(v, dict))
            self.dropped += sum(1 for v in rows if not isinstance(v, dict))
        return out

    def note(self) -> str:
        cost = self.settings.youtube_search_cost_units
        return (
            f"youtube quota: {self.units} units ({self.searches} search.list × {cost} + {self.calls} other calls × 1)"
        )


def fetch(settings: Settings, store: Store | None = None) -> FetchResult:
    reason = not_configured(settings)
    if reason:
        raise SourceError(f"youtube: {reason}")
    after = (datetime.now(UTC) - timedelta(days=settings.youtube_published_within_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with requests.Session() as session:
        api = _Api(settings, session)
        ids: list[str] = []
        failures: list[str] = []
        for query in settings.youtube_queries:
            try:
                body = api.get(
                    "search",
                    {
                        "part": "snippet",
                        "q": query,
                        "type": "video",
                        "order": "viewCount",
                        "publishedAfter": after,
                        "maxResults": settings.youtube_max_results,
                    },
                )
            except SourceUnreachable as exc:  # the other queries go to the same host
                raise SourceUnreachable(f"{exc} [{api.note()}]") from None
            except SourceError as exc:
                if "forbidden" in str(exc) or "unauthorized" in str(exc) or "HTTP 400" in str(exc):
                    raise SourceError(f"{exc} [{api.note()}]") from None
                failures.append(str(exc))
                continue
            for hit in _list(body.get("items")):
                vid = _dict(_dict(hit).get("id")).get("videoId")
                if isinstance(vid, str) and vid not in ids:
                    ids.append(vid)
        if not ids and failures:
            raise SourceError(f"{failures[0]} [{api.note()}]")
        videos = api.videos(ids)
        progress().publish([dict(v) for v in videos], api.note() + "; no channel baselines yet")
        try:
            _attach_channel_baselines(api, videos)
        except SourceError as exc:
            failures.append(f"channel baselines: {exc}")
        except Exception as exc:  # noqa: BLE001 - a garbage baseline body must not cost the videos already fetched
            failures.append(f"channel baselines: unexpected body ({type(exc).__name__})")
    note = api.note()
    if failures:
        note += f"; partial: {failures[0]}"
    skipped = {"not a dict": api.dropped} if api.dropped else {}
    cut = {"rows beyond the ids asked for": api.extra} if api.extra else {}
    return FetchResult(raw_items=videos, partial=bool(failures), note=note, skipped=skipped, cut=cut)


def _attach_channel_baselines(api: _Api, videos: list[dict]) -> None:
    """channels.list → uploads playlist → playlistItems.list → videos.list, ~3 units per channel."""
    channel_ids = list(dict.fromkeys(cid for v in videos if isinstance(cid := _dict(v.get("snippet")).get("channelId"), str) and cid))
    channels: dict[str, dict] = {}
    for start in range(0, len(channel_ids), BATCH):
        body = api.get(
            "channels",
            {"part": "contentDetails,statistics", "id": ",".join(channel_ids[start : start + BATCH]), "maxResults": BATCH},
        )
        for ch in _list(body.get("items")):
            if isinstance(ch, dict) and isinstance(ch.get("id"), str):
                channels[ch["id"]] = ch
    uploads: dict[str, list[str]] = {}
    for cid, ch in channels.items():
        playlist = _dict(_dict(ch.get("contentDetails")).get("relatedPlaylists")).get("uploads")
        if not isinstance(playlist, str) or not playlist:
            continue
        body = api.get("playlistItems", {"part": "contentDetails", "playlistId": playlist, "maxResults": UPLOADS_PER_CHANNEL})
        uploads[cid] = [
            vid for it in _list(body.get("items")) if isinstance(vid := _dict(_dict(it).get("contentDetails")).get("videoId"), str)
        ]
    recent = {v["id"]: v for v in api.videos([i for ids in uploads.values() for i in ids]) if isinstance(v.get("id"), str)}
    for video in videos:
        cid = _dict(video.get("snippet")).get("channelId")
        cid = cid if isinstance(cid, str) else ""
        video["_channel"] = _dict(_dict(channels.get(cid)).get("statistics"))
        video["_channel_recent"] = [
            {
                "id": vid,
                "snippet": {"publishedAt": _dict(recent[vid].get("snippet")).get("publishedAt")},
                "contentDetails": {"duration": _dict(recent[vid].get("contentDetails")).get("duration")},
                "statistics": {"viewCount": _dict(recent[vid].get("statistics")).get("viewCount")},
            }
            for vid in uploads.get(cid, [])
            if vid in recent
        ]


# --- parse -----------------------------------------------------------------------------


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def channel_baseline(video_id: str, is_short: bool, recent: object, observed: datetime) -> tuple[float | None, int]:
    """Median views of the channel's OTHER uploads of the same format that are old enough to compare (≥ 48 h)."""
    views: list[float] = []
    for upload in recent if isinstance(recent, list) else []:
        if not isinstance(upload, dict) or upload.get("id") == video_id:
            continue
        secs = duration_seconds(_dict(upload.get("contentDetails")).get("duration"))
        count = to_int(_dict(upload.get("statistics")).get("viewCount"))
        if secs is None or count is None or (secs <= SHORTS_MAX_S) != is_short:
            continue
        age = age_hours(parse_iso(_dict(upload.get("snippet")).get("publishedAt")), observed)
        if age is not None and age < TOO_RECENT_H:
            continue
        views.append(float(count))
    return median(views), len(views)


_THUMB_SIZES = ("maxres", "standard", "high", "medium", "default")


def thumbnail(snippet: dict) -> str | None:
    """The largest `snippet.thumbnails` entry with an http(s) URL (any key may be missing)."""
    thumbs = _dict(snippet.get("thumbnails"))
    for size in (*_THUMB_SIZES, *(k for k in thumbs if k not in _THUMB_SIZES)):
        if url := http_url(_dict(thumbs.get(size)).get("url")):
            return url
    return None


def _parse_row(row: dict, observed: datetime) -> TrendItem | str:
    raw_id = row.get("id")
    video_id = raw_id if isinstance(raw_id, str) else _dict(raw_id).get("videoId")
    if not isinstance(video_id, str) or not video_id.strip():
        return "no id"
    if row.get("kind") not in (None, "youtube#video", "youtube#searchResult"):
        return "not a video"
    snippet, stats, details = _dict(row.get("snippet")), _dict(row.get("statistics")), _dict(row.get("contentDetails"))
    title = snippet.get("title")
    if not isinstance(title, str) or not title.strip():
        return "no title"
    description = html.unescape(snippet["description"]) if isinstance(snippet.get("description"), str) else ""
    metrics: dict[str, float] = {}
    for key, name in (("viewCount", "views"), ("likeCount", "likes"), ("commentCount", "comments")):
        value = to_int(stats.get(key))
        if value is not None and value >= 0:
            metrics[name] = float(value)
    secs = duration_seconds(details.get("duration"))
    is_short = secs is not None and secs <= SHORTS_MAX_S
    if secs is not None:
        metrics["duration_s"] = float(secs)
    metrics["is_short"] = 1.0 if is_short else 0.0
    channel = _dict(row.get("_channel"))
    subscribers = None if channel.get("hiddenSubscriberCount") is True else to_int(channel.get("subscriberCount"))
    if subscribers is not None:
        metrics["channel_subscribers"] = float(subscribers)
    if secs is not None:
        baseline, n = channel_baseline(video_id, is_short, row.get("_channel_recent"), observed)
        metrics["channel_baseline_n"] = float(n)
        if baseline is not None:
            metrics["channel_median_views"] = baseline
    links, link_ids = links_and_ids(description)
    channel_id = as_str(snippet.get("channelId"))
    lowered = (title + " " + description).lower()
    reasons = [f"phrase:{p}" for p in COMMERCE_PHRASES if p in lowered][:1]
    if any(i.startswith("asin:") for i in link_ids):
        reasons.append("amazon_link")
    return TrendItem(
        source="youtube",
        source_id=video_id,
        title=html.unescape(" ".join(title.split())),
        url=f"https://www.youtube.com/watch?v={video_id}",
        text=description,
        author=as_str(snippet.get("channelTitle")),
        author_followers=subscribers,
        group=f"{channel_id}:{'shorts' if is_short else 'long'}" if channel_id else None,
        canonical_ids=[f"youtube:{video_id}"] + [i for i in link_ids if i != f"youtube:{video_id}"],
        links=links,
        metrics=metrics,
        window="since posting",
        published_at=parse_iso(snippet.get("publishedAt")),
        observed_at=observed,
        is_commerce=bool(reasons),
        commerce_reasons=reasons,
        thumbnail=thumbnail(snippet),
        raw=row,
    )


def parse(raw_items: list[dict], observed_at: datetime | None = None) -> Parsed:
    observed = aware(observed_at)
    return parse_rows(raw_items, lambda row: _parse_row(row, observed))


# --- score -----------------------------------------------------------------------------


def _priors(items: list[TrendItem]) -> dict[str, tuple[float | None, int]]:
    """Per video: the median of the OTHER channels' baselines of the same format (one value per channel)."""
    per_channel: dict[tuple[str, bool], float] = {}
    for it in items:
        base = it.metrics.get("channel_median_views")
        if base and base > 0 and it.group:
            per_channel.setdefault((it.group, bool(it.metrics.get("is_short"))), base)
    out: dict[str, tuple[float | None, int]] = {}
    for short in (False, True):
        keys = [k for k in per_channel if k[1] == short]
        medians = dict(zip(keys, loo_medians([per_channel[k] for k in keys]), strict=True))
        everyone = median(per_channel[k] for k in keys)
        for it in items:
            if bool(it.metrics.get("is_short")) != short:
                continue
            key = (it.group or "", short)
            out[it.source_id] = (medians[key], len(keys) - 1) if key in medians else (everyone, len(keys))
    return out


def score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:
    """Views vs the channel's median for the same format (Shorts vs long-form), else the peers' prior; q from the floor."""
    priors = _priors(items)
    for item in items:
        views = item.metrics.get("views")
        if views is None:
            item.signals = Signals(metric="views", value=0.0, s=0.0, eligible=False, baseline_level="none", flags=["no_metric"])
            continue
        short = bool(item.metrics.get("is_short"))
        fmt = "Shorts" if short else "long-form"
        baseline = item.metrics.get("channel_median_views")
        n = int(item.metrics.get("channel_baseline_n", 0))
        kind = f"channel median views of other {fmt} uploads" + (" (thin: not creator-relative)" if n < THIN_N else "")
        prior, n_prior = priors.get(item.source_id, (None, 0))
        sur = surprise(views, [
            Level("author", baseline, n, kind),
            Level("prior", prior, n_prior, f"population prior: median of other channels' {fmt} medians this run"),
        ])
        flags: list[str] = ["shorts"] if short else []
        eligible = views >= MIN_VIEWS
        if not eligible:
            flags.append("below_floor")
        if sur.m_s is None:
            flags.append("no_baseline")
        elif sur.n < THIN_N:
            flags.append("thin")  # too few uploads (or peers) for a creator-relative label
        if sur.level == "prior" and eligible:
            flags.append("breakout")  # no history of its own, absolute views clear the floor
        age = age_hours(item.published_at, item.observed_at)
        if age is not None and age < TOO_RECENT_H:
            flags.append("too_recent")
        components = {"views": views, "log2_m_s": log2_safe(sur.m_s or 0.0), "floor": FLOOR}
        if baseline is not None:
            components["channel_median_views"] = baseline
        if prior is not None:
            components["prior_views"] = prior
        subs = item.metrics.get("channel_subscribers")
        if subs:
            components["views_per_subscriber"] = views / subs
        item.signals = sur.signals(
            "views", views, floor=FLOOR, eligible=eligible, flags=flags, components=components
        )
    return items
