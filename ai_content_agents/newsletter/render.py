"""Write a newsletter as Markdown, email-safe HTML and JSON. Files are replaced atomically."""

from __future__ import annotations

import json
from pathlib import Path

from ..evidence import trend_payload
from ..fileio import atomic_write
from ..models import Newsletter
from ..prompts import render as render_template
from .sections import featurable


def writer_note(nl: Newsletter) -> str:
    if nl.writer == "templates":
        return "Written from templates (no model)"
    if nl.offline:
        return "Written offline by the stand-in model (no ANTHROPIC_API_KEY set)"
    return f"Written by {nl.writer}"


def footer(nl: Newsletter) -> str:
    total = sum(len(c.figures) for c in nl.factcheck)
    grounded = sum(c.grounded for c in nl.factcheck)
    ok = sum(1 for s in nl.report.sources if s.status in ("ok", "partial", "stale"))
    note = f"Fact-check: {grounded}/{total} figures grounded in the data. Sources with data: {ok}/{len(nl.report.sources)}."
    if nl.sample:
        note = "SAMPLE DATA. " + note
    return note


def as_json(nl: Newsletter) -> dict:
    return {
        "title": nl.title,
        "issue_date": nl.issue_date.isoformat(),
        "sample": nl.sample,
        "banner": "SAMPLE DATA" if nl.sample else None,
        "writer": nl.writer,
        "offline": nl.offline,
        "run_id": nl.report.run_id,
        "sections": [s.model_dump(mode="json") for s in nl.sections],
        "trends": [trend_payload(t).model_dump(mode="json") for t in nl.trends],
        "ranked": [trend_payload(t).model_dump(mode="json") for t in featurable(nl.report.trends)[:50]],
        "sources": [s.model_dump(mode="json") for s in nl.report.sources],
        "factcheck": [
            {
                "section": c.section,
                "grounded": c.grounded,
                "total": len(c.figures),
                "passed": c.passed,
                "attempts": c.attempts,
                "ungrounded": [f.text for f in c.figures if not f.grounded],
                "bad_links": c.bad_links,
            }
            for c in nl.factcheck
        ],
    }


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, text)  # fsynced; an OSError names the path (a full disk says which file)


def render(nl: Newsletter, out_dir: Path, stem: str = "newsletter") -> dict[str, Path]:
    """Write `<stem>.md`, `<stem>.html` and `<stem>.json`; returns the paths by format."""
    ctx = {"nl": nl, "writer_note": writer_note(nl), "footer": footer(nl)}
    paths = {
        "md": out_dir / f"{stem}.md",
        "html": out_dir / f"{stem}.html",
        "json": out_dir / f"{stem}.json",
    }
    _atomic_write(paths["md"], render_template("newsletter.md.j2", **ctx))
    _atomic_write(paths["html"], render_template("newsletter.html.j2", **ctx))
    _atomic_write(paths["json"], json.dumps(as_json(nl), indent=2, ensure_ascii=False) + "\n")
    return paths
