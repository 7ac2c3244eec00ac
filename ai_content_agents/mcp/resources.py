"""The two MCP resources: the latest issue (Markdown) and the ranked trends (JSON).

The issue is read from the archive (`<out dir>/latest`, newsletter/archive.py): our own rendered, fact-checked
copy. The trends come from the run the tools read (the latest fresh stored run, else a gather, as `trends`
does), as the same cleaned payloads `trend_detail` returns: no raw scraped text.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from ..agents.trend import TrendTools, safe_payload
from ..newsletter import archive
from ..newsletter.evidence import TrendPayload

LATEST_ISSUE_URI = "aica://issue/latest.md"
RANKED_TRENDS_URI = "aica://trends/ranked.json"
TRENDS_LIMIT = 20


class ResourceInfo(BaseModel):
    uri: str
    name: str
    description: str
    mime_type: str


RESOURCES = (
    ResourceInfo(uri=LATEST_ISSUE_URI, name="latest-issue", mime_type="text/markdown",
                 description="The latest newsletter issue written by `ai-content-agents newsletter`, as Markdown."),
    ResourceInfo(uri=RANKED_TRENDS_URI, name="ranked-trends", mime_type="application/json",
                 description=f"The top {TRENDS_LIMIT} ranked trends of the latest run, with their evidence and figures "
                             "(SAMPLE DATA when `sample` is true)."),
)


class ResourceMissing(Exception):
    """A resource has nothing to show yet; the message is one line a person can act on."""


class RankedTrends(BaseModel):
    run_id: str
    run: str  # names the run: id, time, SAMPLE DATA when so
    sample: bool
    total: int
    trends: list[TrendPayload]


def latest_issue(out_dir: Path) -> str:
    folder = archive.resolve_latest(out_dir)
    md = folder / "newsletter.md" if folder is not None else None
    if md is None or not md.is_file():
        raise ResourceMissing(f"no issue in {out_dir} yet: run `ai-content-agents newsletter` first")
    return md.read_text(encoding="utf-8")


def ranked_trends(tools: TrendTools, limit: int = TRENDS_LIMIT) -> RankedTrends:
    listing = tools.list_trends(limit=limit)  # the run `ask` would read, gathered only when there is none
    report = tools.report
    assert report is not None  # list_trends read or gathered it
    by_id = {t.cluster_id: t for t in report.trends}
    return RankedTrends(run_id=listing.run_id, run=listing.run, sample=listing.sample, total=len(report.trends),
                        trends=[safe_payload(by_id[b.cluster_id]) for b in listing.trends])
