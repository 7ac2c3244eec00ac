"""The one small interface every copy writer implements (templates, the offline model, Claude).

`compose` calls `write_section`; when the fact-check finds ungrounded figures and the writer
`can_revise`, it calls `revise_section` (at most twice) with the report.
"""

from __future__ import annotations

from typing import Protocol

from ..models import FactcheckReport, GatherReport, Section, Trend
from .sections import SectionSpec


class Writer(Protocol):
    name: str  # shown in every output: "templates", "offline model", or the model id
    offline: bool
    can_revise: bool

    def write_section(self, spec: SectionSpec, trends: list[Trend], report: GatherReport) -> Section: ...


class RevisingWriter(Writer, Protocol):
    """A writer that can correct a draft the fact-check rejected (`can_revise` is True)."""

    def revise_section(
        self, spec: SectionSpec, trends: list[Trend], report: GatherReport, draft: Section, check: FactcheckReport
    ) -> Section: ...
