"""Turn a ranked run into a newsletter, with the fact-check gate around whichever writer is used.

The gate lives here, once, so no writer can skip it: a section whose figures are not all grounded
goes back to the writer (at most `max_revisions` times); if it still fails, it is replaced by an
error section and never published as prose.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from ..models import FactcheckReport, GatherReport, Newsletter, Section, Trend
from . import factcheck
from .sections import SECTION_SPECS, SectionSpec, select
from .writer import RevisingWriter, Writer

log = logging.getLogger(__name__)


def _failed(spec: SectionSpec, check: FactcheckReport) -> Section:
    bad = [f.text for f in check.figures if not f.grounded] + check.bad_links
    return Section(
        key=spec.key,
        title=spec.title,
        error=f"ERROR: section withheld, {len(bad)} figure(s) or link(s) not grounded in the data: {', '.join(bad)}",
    )


def compose(
    report: GatherReport,
    writer: Writer,
    *,
    now: datetime | None = None,
    specs: tuple[SectionSpec, ...] = SECTION_SPECS,
    max_revisions: int = 2,
    picks: dict[str, list[Trend]] | None = None,
) -> Newsletter:
    """`picks` (section key → trends) overrides the default selection, e.g. an editor's brief."""
    now = now or datetime.now(UTC)
    picks = picks if picks is not None else select(report.trends, specs)
    sections: list[Section] = []
    checks: list[FactcheckReport] = []
    for spec in specs:
        trends = picks.get(spec.key, [])
        section = writer.write_section(spec, trends, report)
        check = factcheck.check_section(section, trends)
        attempts = 1
        while not check.passed and writer.can_revise and attempts <= max_revisions:
            log.info("section %s: %d ungrounded, revising", spec.key, len(check.figures) - check.grounded)
            section = cast(RevisingWriter, writer).revise_section(spec, trends, report, section, check)
            check = factcheck.check_section(section, trends)
            attempts += 1
        check.attempts = attempts
        checks.append(check)
        sections.append(section if check.passed else _failed(spec, check))
    title = f"DTC Trend Report: {now:%B %-d, %Y}"
    if report.sample:
        title = f"SAMPLE DATA: {title}"
    return Newsletter(
        title=title,
        issue_date=now,
        sample=report.sample,
        writer=writer.name,
        offline=writer.offline,
        sections=sections,
        trends=list({t.cluster_id: t for ts in picks.values() for t in ts}.values()),
        report=report,
        factcheck=checks,
    )
