"""`watch`: what is new in the latest stored run, compared with the runs stored before it.

Two kinds of alert, each about a story in the latest run's featurable top N (not off topic, not excluded):
- breakout: labelled "breakout" by ranking, with a score of at least `watch_breakout_min_score`, and in the top N
  of none of the earlier runs compared (a story already seen there is not new);
- climber: in the previous run too, and up by at least `watch_climb_min_ranks` places or
  `watch_climb_min_score_gain` in score.

Stories are matched across runs by their cluster keys (ranking.cluster_keys: canonical product ids, else item
keys), so a story whose title wording changed is still the same story. A story alerted within
`watch_cooldown_h` (any kind, same profile) is held back: cron can run `watch` hourly without repeating itself.
The cooldown lives in the SQLite store (`watch_alerts`). Pure apart from `recent_alerts` / `record`, which take
the clock as an argument.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from . import runs
from .config import Settings
from .models import Trend
from .newsletter import story
from .newsletter.sections import featurable
from .ranking import cluster_keys
from .store import Store


Kind = Literal["breakout", "climber"]


class Alert(BaseModel):
    kind: Kind
    cluster_id: str
    title: str  # the story's name (its product, else its type, else its lead title)
    rank: int
    score: float
    label: str
    reason: str
    sources: list[str]
    url: str | None = None
    prev_rank: int | None = None
    prev_score: float | None = None
    keys: list[str] = Field(default_factory=list, exclude=True)


class WatchReport(BaseModel):
    run_id: str
    stored_at: datetime
    checked_at: datetime
    profile: str = ""
    sample: bool = False
    compared_with: list[str] = Field(default_factory=list)  # earlier run ids, newest first
    alerts: list[Alert] = Field(default_factory=list)  # new: not alerted within the cooldown
    held_back: list[Alert] = Field(default_factory=list)  # would alert, but did within the cooldown


class Thresholds(BaseModel):
    breakout_min_score: float = 0.5
    climb_min_ranks: int = 5
    climb_min_score_gain: float = 0.2
    cooldown_h: float = 72.0
    history_runs: int = 5
    top_n: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(breakout_min_score=settings.watch_breakout_min_score, climb_min_ranks=settings.watch_climb_min_ranks,
                   climb_min_score_gain=settings.watch_climb_min_score_gain, cooldown_h=settings.watch_cooldown_h,
                   history_runs=settings.watch_history_runs, top_n=settings.top_n)


def _ts(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def _title(trend: Trend) -> str:
    return story.name(trend) or trend.topic or trend.title


def _alert(kind: Kind, t: Trend, reason: str, prev: Trend | None = None) -> Alert:
    return Alert(kind=kind, cluster_id=t.cluster_id, title=_title(t), rank=t.rank, score=round(t.score, 3),
                 label=t.label, reason=reason, sources=t.sources, url=t.canonical_urls[0] if t.canonical_urls else None,
                 prev_rank=prev.rank if prev else None, prev_score=round(prev.score, 3) if prev else None,
                 keys=cluster_keys(t))


def _index(trends: list[Trend]) -> dict[str, Trend]:
    """key → the best-ranked trend holding it."""
    out: dict[str, Trend] = {}
    for t in sorted(trends, key=lambda t: t.rank):
        for key in cluster_keys(t):
            out.setdefault(key, t)
    return out


def _find(index: dict[str, Trend], keys: list[str]) -> Trend | None:
    hits = [index[k] for k in keys if k in index]
    return min(hits, key=lambda t: t.rank) if hits else None


def compare(latest: list[Trend], earlier: list[list[Trend]], th: Thresholds) -> list[Alert]:
    """The alerts of `latest` against earlier runs' trends (newest first). Pure."""
    previous = _index(earlier[0]) if earlier else {}
    seen_top = [_index(featurable(ts, th.top_n)) for ts in earlier]
    out: list[Alert] = []
    for t in featurable(latest, th.top_n):
        keys = cluster_keys(t)
        if t.label == "breakout" and t.score >= th.breakout_min_score and not any(_find(i, keys) for i in seen_top):
            out.append(_alert("breakout", t, f"new breakout: {t.label_reason}" if t.label_reason else "new breakout"))
            continue
        prev = _find(previous, keys)
        if prev is None:
            continue
        places, gain = prev.rank - t.rank, t.score - prev.score
        if places >= th.climb_min_ranks or gain >= th.climb_min_score_gain:
            why = f"up {places} place(s), from #{prev.rank} to #{t.rank}" if places > 0 else f"#{t.rank}"
            if gain > 0:
                why += f"; score {prev.score:.2f} → {t.score:.2f}"
            out.append(_alert("climber", t, why, prev))
    return out


def recent_alerts(store: Store, profile: str, since: datetime) -> set[str]:
    rows = store.query("SELECT key FROM watch_alerts WHERE profile = ? AND alerted_at >= ?", (profile, _ts(since)))
    return {r["key"] for r in rows}


def record(store: Store, profile: str, run_id: str, alerts: list[Alert], now: datetime) -> None:
    """Start the cooldown of every alerted story (all its keys)."""
    with store.transaction() as db:
        db.executemany(
            "INSERT OR REPLACE INTO watch_alerts (profile, key, kind, run_id, alerted_at) VALUES (?, ?, ?, ?, ?)",
            [(profile, key, a.kind, run_id, _ts(now)) for a in alerts for key in a.keys],
        )


class NothingToWatch(LookupError):
    """No stored run to look at."""


def check(store: Store, settings: Settings, now: datetime) -> WatchReport:
    """The latest stored run of this profile against the ones before it (same profile, same sample-ness)."""
    th = Thresholds.from_settings(settings)
    stored = runs.recent(store, limit=1, profile=settings.profile)
    if not stored:
        raise NothingToWatch("no stored run to watch yet")
    latest = stored[0]
    history = [r for r in runs.recent(store, limit=th.history_runs + 1, profile=settings.profile,
                                      sample=latest.report.sample) if r.report.run_id != latest.report.run_id]
    history = history[: th.history_runs]
    found = compare(latest.report.trends, [r.report.trends for r in history], th)
    cooling = recent_alerts(store, settings.profile, now - timedelta(hours=th.cooldown_h))
    fresh = [a for a in found if cooling.isdisjoint(a.keys)]
    held = [a for a in found if not cooling.isdisjoint(a.keys)]
    return WatchReport(run_id=latest.report.run_id, stored_at=latest.stored_at, checked_at=now,
                       profile=settings.profile, sample=latest.report.sample,
                       compared_with=[r.report.run_id for r in history], alerts=fresh, held_back=held)
