"""Pictures for an issue: the product's own thumbnail where the source gives one, a neutral placeholder where it
cannot be shown (the sample's example hosts), and small PNG charts for stories with stored history (Amazon rank
across runs, plays or views across runs). Charts are drawn with matplotlib's Agg backend (no display needed).

`history_for` reads the history (the store, or the bundled sample's earlier snapshots); `draw_chart` and
`placeholder_png` write files. Everything else here is pure.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel

from ..models import ChartSpec, Trend, TrendItem
from ..sources import meta
from . import story



def chart_spec(source: str) -> ChartSpec | None:
    """The metric a source's items are charted on (its `META.chart`), or None when it has none."""
    return meta(source).chart

PLACEHOLDER = "placeholder.png"
_FAKE_HOST = re.compile(r"(^|\.)(example\.(com|org|net)|example|invalid|test|localhost)$|example", re.I)


class Point(BaseModel):
    at: datetime
    value: float


class Chart(BaseModel):
    """One story's chart: which item, what metric, the points (oldest first), the file and its alt text."""

    cluster_id: str
    item_key: str
    source: str
    metric: str
    label: str
    lower_is_better: bool
    points: list[Point]
    file: str  # relative to the issue folder: "images/chart-1.png"
    alt: str


def showable(url: str | None, sample: bool) -> bool:
    """A thumbnail we may point an email at: a real http(s) URL on a real host, and not the sample's."""
    if not url or sample:
        return False
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and bool(host) and not _FAKE_HOST.search(host) and "example" not in parts.path


def thumbnail(trend: Trend, sample: bool) -> tuple[str, bool]:
    """(image URL or the placeholder file, True when it is the product's own picture)."""
    item = story.thumbnail_item(trend)
    if item is not None and showable(item.thumbnail, sample):
        return str(item.thumbnail), True
    return f"images/{PLACEHOLDER}", False


def _series(item: TrendItem, earlier: list[tuple[datetime, dict[str, float]]]) -> list[Point]:
    spec = chart_spec(item.source)
    if spec is None:
        return []
    metric = spec.metric
    points = {at: m[metric] for at, m in earlier if metric in m}
    if metric in item.metrics:
        points[item.observed_at] = item.metrics[metric]
    return [Point(at=at, value=float(v)) for at, v in sorted(points.items())]


def _fmt(value: float, rank: bool) -> str:
    if rank:
        return f"#{int(value)}"
    from .figures import count

    return count(value)


def plan_charts(
    trends: list[Trend], history: dict[str, list[tuple[datetime, dict[str, float]]]], *, min_points: int = 2
) -> list[Chart]:
    """At most one chart per story: its lead item, else its Amazon listing, else any item with `min_points` points.
    `history` maps an item key to its earlier observations (time, metrics). Pure."""
    charts: list[Chart] = []
    for t in trends:
        lead = story.lead_item(t)
        order = [lead] if lead else []
        order += sorted((it for it in t.items if it is not lead), key=lambda it: (it.source != "amazon", it.key))
        for it in order:
            spec = chart_spec(it.source) if it is not None else None
            if it is None or spec is None:
                continue
            points = _series(it, history.get(it.key, []))
            if len(points) < min_points:
                continue
            metric, label, lower = spec.metric, spec.label, spec.lower_is_better
            name = story.name(t) or "this story"
            first, last = points[0], points[-1]
            alt = (f"{label} of {name} across our runs: {_fmt(first.value, lower)} on {first.at:%b %-d} "
                   f"to {_fmt(last.value, lower)} on {last.at:%b %-d}")
            charts.append(Chart(cluster_id=t.cluster_id, item_key=it.key, source=it.source, metric=metric, label=label,
                                lower_is_better=lower, points=points, file=f"images/chart-{len(charts) + 1}.png",
                                alt=alt))
            break
    return charts


def history_for(trends: list[Trend], *, sample: bool, store: object | None = None) -> dict[str, list[tuple[datetime, dict[str, float]]]]:
    """Earlier observations of the trends' items: the bundled sample's snapshots for a sample run, else the store's."""
    out: dict[str, list[tuple[datetime, dict[str, float]]]] = {}
    by_source: dict[str, list[TrendItem]] = {}
    for t in trends:
        for it in t.items:
            if chart_spec(it.source) is not None:
                by_source.setdefault(it.source, []).append(it)
    for source, items in by_source.items():
        if sample:
            from ..sources.sample import sample_observations

            try:
                found = sample_observations(source)
            except (KeyError, ValueError):
                found = {}
        elif store is not None:
            found = store.history(source, [it.source_id for it in items])  # type: ignore[attr-defined]
        else:
            found = {}
        for it in items:
            obs = found.get(it.source_id, [])
            out[it.key] = [(o.observed_at, o.metrics) for o in obs if o.observed_at < it.observed_at]
    return out


def draw_chart(chart: Chart, path: Path) -> None:
    """A small line chart (600×240 px at 2× for sharp phones), ranks drawn with #1 at the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.dates import date2num
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    days = [p.at for p in chart.points]
    xs = [float(x) for x in date2num(days)]
    ys = [p.value for p in chart.points]
    fig, ax = plt.subplots(figsize=(6.0, 2.4), dpi=100)
    try:
        ax.plot(xs, ys, marker="o", linewidth=2.2, color="#1d4ed8")
        for px, py in dict.fromkeys([(xs[0], ys[0]), (xs[-1], ys[-1])]):
            ax.annotate(_fmt(py, chart.lower_is_better), (px, py), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=9, color="#18181b")
        if chart.lower_is_better:
            ax.invert_yaxis()
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"#{int(v)}" if v >= 1 and v == int(v) else ""))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(v, False)))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=chart.lower_is_better))
        ax.set_xticks(xs)
        ax.set_xticklabels([d.strftime("%b %-d") for d in days], fontsize=9)
        ax.tick_params(axis="y", labelsize=9)
        ax.set_title(f"{chart.label} across our runs", fontsize=10, loc="left", color="#3f3f46")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.margins(x=0.08, y=0.25)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=200, metadata={"Software": None})
    finally:
        plt.close(fig)


def placeholder_png(path: Path) -> None:
    """A neutral grey tile with a simple picture glyph: shown where a product picture cannot be."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Polygon, Rectangle

    fig = plt.figure(figsize=(1.0, 1.0), dpi=100)
    try:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        ax.add_patch(Rectangle((0, 0), 1, 1, color="#e4e4e7"))
        ax.add_patch(Polygon([(0.18, 0.28), (0.42, 0.58), (0.58, 0.40), (0.68, 0.50), (0.84, 0.28)], color="#a1a1aa"))
        ax.add_patch(Circle((0.66, 0.70), 0.07, color="#a1a1aa"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=176, metadata={"Software": None})
    finally:
        plt.close(fig)
