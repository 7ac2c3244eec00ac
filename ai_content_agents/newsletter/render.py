"""Write a newsletter as Markdown, email HTML (fluid 320–600 px), plain text and JSON, with its pictures.

`render(nl, folder)` writes one issue's files into `folder` (`newsletter.md/.html/.txt/.json` and `images/`), each
file atomically and readable as the user's umask allows. `archive.publish` calls it on a fresh folder and then
switches `out/latest`, so a reader never sees a mix of two issues.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import fileio
from .evidence import trend_payload
from ..models import Newsletter, Trend, TrendCopy
from ..prompts import render as render_template
from . import images, story
from .sections import ACTIONS, featurable

FILES = ("md", "html", "txt", "json")


def writer_note(nl: Newsletter) -> str:
    if nl.writer == "templates":
        return "Written from templates (no model)"
    if nl.offline:
        return "Written offline by the stand-in model (no ANTHROPIC_API_KEY set)"
    return f"Written by {nl.writer}"


def footer(nl: Newsletter) -> str:
    total = sum(len(c.figures) for c in nl.factcheck)
    grounded = sum(c.grounded for c in nl.factcheck)
    claims = sum(len(c.claims) for c in nl.factcheck)
    ok = sum(1 for s in nl.report.sources if s.status in ("ok", "partial", "stale"))
    note = f"Fact-check: {grounded}/{total} figures grounded in the data"
    if claims:
        said = "1 third-party claim" if claims == 1 else f"{claims} third-party claims"
        note += f"; {said} quoted and attributed, not counted as our figures"
    note += f". Sources with data: {ok}/{len(nl.report.sources)}."
    if nl.withheld:
        note += " 1 section withheld." if len(nl.withheld) == 1 else f" {len(nl.withheld)} sections withheld."
    if nl.sample:
        note = "SAMPLE DATA. " + note
    return note


def link_label(url: str) -> str:
    """Short link text for a phone: "View on Amazon", "Watch on TikTok"…"""
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("shop.") and "tiktok" in host:
        return "View in TikTok Shop"
    for domain, label in (("amazon.", "View on Amazon"), ("tiktok.com", "Watch on TikTok"), ("youtube.com", "Watch on YouTube"),
                          ("youtu.be", "Watch on YouTube"), ("reddit.com", "Read on Reddit"), ("x.com", "Read on X"),
                          ("twitter.com", "Read on X")):
        if host == domain.rstrip(".") or host.endswith("." + domain.rstrip(".")) or host.startswith(domain) or (
                domain.endswith(".") and domain in host):
            return label
    return "Open the source"


def preheader(nl: Newsletter) -> str:
    """The hidden line inbox previews show after the subject."""
    heads = [c.headline for s in nl.sections if not s.error for c in s.items if not c.see_also][:3]
    if not heads:
        return f"{nl.masthead.name}: no story cleared the bar this week."
    text = "This week: " + "; ".join(heads)
    return text if len(text) <= 140 else text[:139].rstrip() + "…"


def _unsubscribe(nl: Newsletter) -> str:
    return nl.masthead.unsubscribe_url or "{{unsubscribe_url}}"


def _view(nl: Newsletter, charts: list[images.Chart]) -> list[dict[str, Any]]:
    """Per section, per item: the copy plus its picture, chart and labelled links (what the templates show)."""
    trends: dict[str, Trend] = {t.cluster_id: t for t in nl.report.trends} | {t.cluster_id: t for t in nl.trends}
    chart_by = {c.cluster_id: c for c in charts}
    out: list[dict[str, Any]] = []
    for s in nl.sections:
        items = []
        for c in s.items:
            t = trends.get(c.cluster_id)
            name = story.name(t) if t else None
            src, own = images.thumbnail(t, nl.sample) if t else (f"images/{images.PLACEHOLDER}", False)
            alt = f"Product photo: {name}" if own and name else "Product photo" if own else (
                f"No product photo available for {name}" if name else "No product photo available")
            items.append({
                "c": c,
                "name": name or c.headline,
                "image": src,
                "image_alt": alt,
                "chart": chart_by.get(c.cluster_id) if not c.see_also else None,
                "links": [{"url": u, "label": link_label(u)} for u in c.links],
                "lines": _lines(c),
            })
        out.append({"s": s, "items": items})
    return out


def _lines(c: TrendCopy) -> list[str]:
    return [t for t in (c.signal, c.corroboration, c.caveat, c.claim) if t]


def as_json(nl: Newsletter, charts: list[images.Chart] | None = None) -> dict:
    return {
        "title": nl.title,
        "name": nl.masthead.name,
        "tagline": nl.masthead.tagline,
        "sender": nl.masthead.sender,
        "unsubscribe_url": nl.masthead.unsubscribe_url,
        "issue_date": nl.issue_date.isoformat(),
        "sample": nl.sample,
        "banner": "SAMPLE DATA" if nl.sample else None,
        "writer": nl.writer,
        "offline": nl.offline,
        "run_id": nl.report.run_id,
        "preheader": preheader(nl),
        "quality": nl.quality,
        "withheld": [{"section": s.key, "message": s.error} for s in nl.withheld],
        "sections": [s.model_dump(mode="json") for s in nl.sections],
        "top_stories": [story.name(t) or t.title for t in nl.trends],
        "trends": [trend_payload(t).model_dump(mode="json") for t in nl.trends],
        "ranked": [trend_payload(t).model_dump(mode="json") for t in featurable(nl.report.trends)[:50]],
        "sources": [s.model_dump(mode="json") for s in nl.report.sources],
        "charts": [c.model_dump(mode="json") for c in charts or []],
        "factcheck": [
            {
                "section": c.section,
                "grounded": c.grounded,
                "total": len(c.figures),
                "passed": c.passed,
                "attempts": c.attempts,
                "ungrounded": [f.text for f in c.figures if not f.grounded],
                "claims": [cl.model_dump(mode="json") for cl in c.claims],
                "bad_links": c.bad_links,
            }
            for c in nl.factcheck
        ],
    }


def _mode() -> int:
    """0o666 less the user's umask: what `open()` would have created (mkstemp makes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: str | bytes) -> None:
    fileio.atomic_write(path, data, mode=_mode())  # fsynced; an OSError names the path (a full disk says which file)


_atomic_write = atomic_write  # the name older callers used


def render(
    nl: Newsletter,
    out_dir: Path,
    stem: str = "newsletter",
    *,
    history: dict[str, list[Any]] | None = None,
) -> dict[str, Path]:
    """Write `<stem>.md/.html/.txt/.json` and `images/` into `out_dir`; returns the paths by format.
    `history` (item key → earlier (time, metrics)) adds a chart for stories with stored history."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = images.plan_charts(list(nl.trends), history or {})
    img_dir = out_dir / "images"
    img_dir.mkdir(exist_ok=True)  # mkdir honours the umask
    for chart in charts:
        _draw(lambda p, c=chart: images.draw_chart(c, p), out_dir / chart.file)
    views = _view(nl, charts)
    ctx = {"nl": nl, "writer_note": writer_note(nl), "footer": footer(nl), "preheader": preheader(nl),
           "unsubscribe": _unsubscribe(nl), "views": views, "actions_key": ACTIONS}
    if any(i["image"] == f"images/{images.PLACEHOLDER}" for v in views for i in v["items"]):
        _draw(images.placeholder_png, img_dir / images.PLACEHOLDER)
    paths = {
        "md": out_dir / f"{stem}.md",
        "html": out_dir / f"{stem}.html",
        "txt": out_dir / f"{stem}.txt",
        "json": out_dir / f"{stem}.json",
    }
    atomic_write(paths["md"], render_template("newsletter.md.j2", **ctx))
    atomic_write(paths["html"], render_template("newsletter.html.j2", **ctx))
    atomic_write(paths["txt"], render_template("newsletter.txt.j2", **ctx))
    atomic_write(paths["json"], json.dumps(as_json(nl, charts), indent=2, ensure_ascii=False) + "\n")
    return paths


def _draw(draw: Any, path: Path) -> None:
    """Draw into a temp file beside `path`, then move it into place with the user's file mode."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        draw(Path(tmp))
        os.chmod(tmp, _mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
