"""Turn a ranked run into a newsletter, with the fact-check gate around whichever writer is used.

The gate lives here, once, so no writer can skip it: a section whose figures are not all grounded (or whose quotes
are not verbatim and attributed, or whose links are not the story's) goes back to the writer at most
`max_revisions` times when the writer can revise; a deterministic writer is never retried (it would write the same
thing again). A section that still fails, or that the writer could not produce at all (an API error, a refusal),
is withheld with a clear message and the rest of the issue is written. The action list is built last, from the
published stories only: one action per story written up, none for a withheld one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from ..models import FactcheckReport, GatherReport, Masthead, Newsletter, Section, Trend
from ..redact import redact
from . import factcheck, quality, story
from .sections import ACTIONS, SECTION_SPECS, SectionSpec, attached, featured_ids, select
from .writer import RevisingWriter, Writer

log = logging.getLogger(__name__)


def withheld(spec: SectionSpec, reason: str) -> Section:
    return Section(key=spec.key, title=spec.title, error=f"Withheld: {reason}. The rest of this issue was written.")


def _check_reason(check: FactcheckReport) -> str:
    bad = [f.text for f in check.figures if not f.grounded]
    parts = []
    if bad:
        parts.append(f"{len(bad)} figure(s) not grounded in the data ({', '.join(bad[:5])})")
    if check.bad_links:
        parts.append(f"{len(check.bad_links)} link(s) not from the story ({', '.join(check.bad_links[:3])})")
    for c in check.bad_claims[:3]:
        why = "a claim inside an action" if c.in_action else "not verbatim in the source" if not c.source_text else "not attributed"
        parts.append(f"quote “{c.quote}” is {why}")
    return "the fact-check rejected it after " + (f"{check.attempts} attempt(s)" if check.attempts > 1 else "one attempt") + ": " + "; ".join(parts)


def _write(spec: SectionSpec, trends: list[Trend], report: GatherReport, writer: Writer,
           max_revisions: int) -> tuple[Section, FactcheckReport]:
    check = FactcheckReport(section=spec.key)
    try:
        section = writer.write_section(spec, trends, report)
    except Exception as exc:  # one section's failure (an API 529, a timeout) must not cost the rest of the issue
        log.warning("section %s: the writer failed: %s", spec.key, redact(str(exc)))
        return withheld(spec, f"the writer failed ({type(exc).__name__}: {redact(str(exc))[:160]})"), check
    if section.error:
        return withheld(spec, section.error.removeprefix("ERROR: ")), check
    check = factcheck.check_section(section, trends)
    attempts = 1
    while not check.passed and writer.can_revise and attempts <= max_revisions:
        log.info("section %s: fact-check failed, revising", spec.key)
        try:
            section = cast(RevisingWriter, writer).revise_section(spec, trends, report, section, check)
        except Exception as exc:
            log.warning("section %s: the revision failed: %s", spec.key, redact(str(exc)))
            check.attempts = attempts
            return withheld(spec, f"the writer failed while revising ({type(exc).__name__})"), check
        attempts += 1
        if section.error:
            check = FactcheckReport(section=spec.key, attempts=attempts)
            return withheld(spec, section.error.removeprefix("ERROR: ")), check
        check = factcheck.check_section(section, trends)
    check.attempts = attempts
    if not check.passed:
        return withheld(spec, _check_reason(check)), check
    return _pointing_back(section, spec.attached), check


def _pointing_back(section: Section, attached: dict[str, str]) -> Section:
    """Entries about a story written up in another section point back to it and carry no second action,
    whichever writer wrote them (a story is written up, and acted on, once per issue)."""
    if not attached:
        return section
    items = [
        it.model_copy(update={"see_also": attached[it.cluster_id], "action": ""}) if it.cluster_id in attached else it
        for it in section.items
    ]
    return section.model_copy(update={"items": items})


def _video_label(trend: Trend | None, key: str) -> str | None:
    item = story.item_by_key(trend).get(key) if trend is not None else None
    if item is None or not item.author:
        return None
    return f"@{item.author}'s video" if item.source == "tiktok" else f"{item.author}'s video"


def action_list(spec: SectionSpec, written: list[Section], trends: dict[str, Trend]) -> Section:
    """One action per story written up in a published section, in the order they appear; none for a withheld one."""
    bullets: list[str] = []
    ids: list[str] = []
    for section in written:
        if section.error:
            continue
        for item in section.items:
            if item.see_also or not item.action.strip() or item.cluster_id in ids:
                continue
            trend = trends.get(item.cluster_id)
            label = (story.name(trend) if trend else None) or _video_label(trend, item.focus_key) or item.headline
            text = f"{label}: {item.action}"
            if text in bullets:
                continue
            bullets.append(text)
            ids.append(item.cluster_id)
    intro = "One move per story, in the order above." if bullets else "Nothing to act on this week."
    return Section(key=spec.key, title=spec.title, intro=intro, bullets=bullets, bullet_ids=ids)


def plan_sections(
    picks: dict[str, list[Trend]], specs: tuple[SectionSpec, ...] = SECTION_SPECS
) -> list[tuple[SectionSpec, list[Trend]]]:
    """Each written section's spec as this issue asks for it (slot numbering, stories written up elsewhere) with its
    trends, in order; the action list is not written, so not here. Pure: a batch builds its requests from it."""
    ids = {k: [t.cluster_id for t in v] for k, v in picks.items() if k != ACTIONS}
    titles = {s.key: s.title for s in specs}
    pointers = attached(ids)
    out: list[tuple[SectionSpec, list[Trend]]] = []
    slot = 0
    for spec in specs:
        if spec.max_items == 0:
            continue
        trends = picks.get(spec.key, [])
        here = {cid: titles[pointers[cid]] for cid in ids.get(spec.key, []) if cid in pointers and pointers[cid] != spec.key}
        out.append((spec.model_copy(update={"first_slot": slot, "attached": here}), trends))
        slot += len(trends)
    return out


def compose(
    report: GatherReport,
    writer: Writer,
    *,
    now: datetime | None = None,
    specs: tuple[SectionSpec, ...] = SECTION_SPECS,
    max_revisions: int = 2,
    picks: dict[str, list[Trend]] | None = None,
    masthead: Masthead | None = None,
) -> Newsletter:
    """`picks` (section key → trends) overrides the default selection, e.g. an editor's brief."""
    now = now or datetime.now(UTC)
    masthead = masthead or Masthead()
    picks = picks if picks is not None else select(report.trends, specs)
    ids = {k: [t.cluster_id for t in v] for k, v in picks.items() if k != ACTIONS}
    by_id = {t.cluster_id: t for ts in picks.values() for t in ts}
    sections: dict[str, Section] = {}
    checks: dict[str, FactcheckReport] = {}
    for issue_spec, trends in plan_sections(picks, specs):
        sections[issue_spec.key], checks[issue_spec.key] = _write(issue_spec, trends, report, writer, max_revisions)
    for spec in specs:
        if spec.max_items == 0:
            section = action_list(spec, list(sections.values()), by_id)
            check = factcheck.check_section(section, [by_id[c] for c in section.bullet_ids])
            sections[spec.key], checks[spec.key] = (section, check) if check.passed else (
                withheld(spec, _check_reason(check)), check)
    ordered = [sections[s.key] for s in specs if s.key in sections]
    title = f"{masthead.name}: {now:%B %-d, %Y}"
    if report.sample:
        title = f"SAMPLE DATA: {title}"
    published = [cid for cid in featured_ids(ids) if any(
        not s.error and any(i.cluster_id == cid for i in s.items) for s in ordered)]
    nl = Newsletter(
        title=title,
        issue_date=now,
        masthead=masthead,
        sample=report.sample,
        writer=writer.name,
        offline=writer.offline,
        sections=ordered,
        trends=[by_id[c] for c in published],
        report=report,
        factcheck=[checks[s.key] for s in specs if s.key in checks],
    )
    nl.quality = quality.measure(nl)
    return nl
