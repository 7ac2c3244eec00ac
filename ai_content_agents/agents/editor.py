"""The newsletter's editor: TrendAgent plans the issue, code validates the plan, ClaudeWriter writes it.

WHY a plan step: the deterministic `sections.select` only knows rank order; an editor model that has
read the ranked trends (and what was featured recently) can choose which trend leads and with which
figure. WHY the plan is validated in code: the brief is model text derived from scraped content, so
it is treated like any other untrusted input. Only ids of eligible top-N trends of THIS run survive,
each trend appears once, section limits and source filters hold, and every gap is filled from the
deterministic selection. Angles are guidance only: the writer still gets the payloads, and compose's
fact-check gate still decides what is published.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from .base import AgentResult, ModelClient, make_client
from .fence import clean, strip_invisible
from .trend import TrendAgent
from .usage import RunUsage
from ..config import Settings
from ..models import GatherReport, Newsletter, Trend
from ..redact import redact
from ..store import Store
from ..newsletter import story
from .claude_writer import ClaudeWriter
from .editor_offline import editor_plan
from ..newsletter.compose import compose
from ..newsletter.sections import SECTION_SPECS, SELLERS, SectionSpec, featurable, fits, section_fits, select

log = logging.getLogger(__name__)

MAX_TOOL_TURNS = 8  # issue 4: a whole newsletter needs at most 8 tool-call turns (the writer uses none)
ANGLE_LIMIT = 200  # characters; an angle is one line of guidance, not copy


class BriefEntry(BaseModel):
    """One pick as the model wrote it (not yet trusted)."""

    cluster_id: str
    angle: str = ""


class BriefPick(BaseModel):
    cluster_id: str
    angle: str = ""
    origin: Literal["editor", "default"] = "editor"


class EditorBrief(BaseModel):
    """The validated plan of one issue, and the picks ready for `compose(report, writer, picks=...)`."""

    sections: dict[str, list[BriefPick]]  # every section key with items (not the action list), in order
    picks: dict[str, list[Trend]]  # every section key of the specs, action list included
    notes: list[str] = Field(default_factory=list)  # what was dropped or filled, for the run log
    tool_turns: int = 0  # model replies that asked for tools
    model_calls: int = 0
    truncated: bool = False  # the editor's answer was forced at the iteration cap
    offline: bool = False
    error: str | None = None  # e.g. the agent refused; the brief is then the default selection

    @property
    def angles(self) -> dict[str, str]:
        return {p.cluster_id: p.angle for ps in self.sections.values() for p in ps if p.angle}

    @property
    def replaced(self) -> int:
        return sum(1 for ps in self.sections.values() for p in ps if p.origin == "default")


# --- pure helpers ------------------------------------------------------------------------------------
def tidy_angle(text: str) -> str:
    """One line, invisible characters stripped, truncated. Not escaped: the writer fences it when used."""
    norm = strip_invisible(unicodedata.normalize("NFKC", text or ""))
    norm = re.sub(r"\s+", " ", norm).strip()
    return norm if len(norm) <= ANGLE_LIMIT else norm[: ANGLE_LIMIT - 1].rstrip() + "…"


def eligible_trends(report: GatherReport, top_n: int) -> list[Trend]:
    return featurable(report.trends, top_n)


def default_picks(report: GatherReport, top_n: int, specs: tuple[SectionSpec, ...] = SECTION_SPECS) -> dict[str, list[Trend]]:
    return select(eligible_trends(report, top_n), specs)


def editor_prompt(report: GatherReport, specs: tuple[SectionSpec, ...], *, top_n: int, max_turns: int) -> str:
    """The editor's task. Section rules are stated here AND enforced by `validate_brief`."""
    lines = [
        f'<issue_plan_request run_id="{clean(report.run_id, 60)}">',
        "Plan this week's newsletter issue from the run that has already been gathered (do not refresh it).",
        "Call `gather` once (it returns this run's summary), then `list_trends` (limit 20); call `trend_detail` "
        "for the few trends you are unsure about (several in one turn) and `recently_featured` to avoid repeats. "
        f"You have at most {max_turns} tool turns in total.",
        f"Only feature trends from list_trends ranked 1-{top_n}. Each trend goes in one section only, best first.",
        "Sections:",
    ]
    for spec in specs:
        if spec.max_items == 0:
            continue
        lines.append(f"- {spec.key} (at most {spec.max_items}): {spec.purpose}")
    lines += [
        "Each listed trend says which sections it has content for (`fits`); pick only from those. "
        f"A {SELLERS} pick may be a trend featured above (its thread is quoted there, not the story again).",
        "The action list is built from the trends you pick.",
        f"For each pick write a one-line `angle` (at most {ANGLE_LIMIT} characters): why this trend, and which "
        "figure to lead with, written exactly as its display string.",
        "If a trend has evidence from tiktok_shop (the brand's own shop), its angle must say it is selling in your shop.",
        "Finish with one JSON object only, no prose:",
        '{"sections": {"top_trend": [{"cluster_id": "...", "angle": "..."}], "creator_watch": [...], '
        '"amazon_movers": [...], "sellers": [...]}}',
        "</issue_plan_request>",
    ]
    return "\n".join(lines)


def parse_brief(text: str) -> tuple[dict[str, list[BriefEntry]], list[str]]:
    """Lenient: a bare object, one in ``` fences or with prose around it; `sections` may be omitted.

    Bad entries are dropped with a note, never raised: a partial brief is still useful."""
    notes: list[str] = []
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", (text or "").strip())
    start, end = body.find("{"), body.rfind("}")
    data: Any = None
    if start >= 0 and end > start:
        try:
            data = json.loads(body[start : end + 1])
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return {}, ["the editor's reply held no JSON brief; using the default selection"]
    sections = data.get("sections", data)
    if not isinstance(sections, dict):
        return {}, ["the editor's brief has no `sections` object; using the default selection"]
    out: dict[str, list[BriefEntry]] = {}
    for key, entries in sections.items():
        name = clean(str(key), 40)
        if not isinstance(entries, list):
            notes.append(f"{name}: not a list, ignored")
            continue
        kept: list[BriefEntry] = []
        for raw in entries:
            try:
                kept.append(BriefEntry(cluster_id=raw) if isinstance(raw, str) else BriefEntry.model_validate(raw))
            except ValidationError:
                notes.append(f"{name}: dropped a malformed entry")
        out[str(key)] = kept
    return out, notes


def validate_brief(  # noqa: C901 - one pass over a model's brief, each rule a guard that reports its own reason
    raw: Mapping[str, list[BriefEntry]],
    report: GatherReport,
    *,
    top_n: int,
    specs: tuple[SectionSpec, ...] = SECTION_SPECS,
) -> tuple[dict[str, list[BriefPick]], dict[str, list[Trend]], list[str]]:
    """Keep the valid editor picks, fill every gap from the default selection. Pure.

    Pass 1 accepts editor picks in section order (so a later section's valid choice is not lost to an
    earlier section's default); pass 2 tops each section up to the size of its default selection.
    Returns (sections, picks for compose, notes)."""
    by_id = {t.cluster_id: t for t in report.trends}
    allowed = {t.cluster_id: t for t in eligible_trends(report, top_n)}
    ranked = list(allowed.values())
    default = select(ranked, specs)
    editable = [s for s in specs if s.max_items > 0]
    known_keys = {s.key for s in specs}
    notes = [f"{clean(k, 40)}: not a section the editor plans, ignored" for k in raw if k not in known_keys]
    notes += [f"{k}: built from the featured trends, editor picks ignored" for k in raw
              if k in known_keys and k not in {s.key for s in editable} and raw[k]]

    def suits(spec: SectionSpec, trend: Trend) -> bool:
        if spec.key == SELLERS:  # a thread about a story featured above, or one standing on its own product
            return SELLERS in section_fits(trend) or (bool(story.threads(trend)) and trend.cluster_id in featured)
        return fits(spec.key, trend)

    used: set[str] = set()
    featured: set[str] = set()
    chosen: dict[str, list[BriefPick]] = {s.key: [] for s in editable}
    for spec in editable:
        for entry in raw.get(spec.key, []):
            cid, shown = entry.cluster_id, clean(entry.cluster_id, 60)
            why = None
            if cid not in by_id:
                why = "unknown cluster id"
            elif cid not in allowed:
                why = f"not an eligible top-{top_n} trend"
            elif cid in used and not (spec.key == SELLERS and cid in featured):
                why = "already featured in this issue"
            elif any(p.cluster_id == cid for p in chosen[spec.key]):
                why = "already in this section"
            elif not suits(spec, allowed[cid]):
                why = f"nothing for {spec.title} in it"
            elif len(chosen[spec.key]) >= spec.max_items:
                why = f"over the section's limit of {spec.max_items}"
            if why:
                notes.append(f"{spec.key}: dropped {shown!r} ({why})")
                continue
            chosen[spec.key].append(BriefPick(cluster_id=cid, angle=tidy_angle(entry.angle)))
            used.add(cid)
            if spec.key != SELLERS:
                featured.add(cid)

    for spec in editable:
        target = len(default.get(spec.key, []))
        candidates = [*default.get(spec.key, []), *(t for t in ranked if suits(spec, t))]
        for trend in candidates:
            if len(chosen[spec.key]) >= target:
                break
            if any(p.cluster_id == trend.cluster_id for p in chosen[spec.key]):
                continue
            if trend.cluster_id in used and not (spec.key == SELLERS and trend.cluster_id in featured):
                continue
            chosen[spec.key].append(BriefPick(cluster_id=trend.cluster_id, origin="default"))
            used.add(trend.cluster_id)
            if spec.key != SELLERS:
                featured.add(trend.cluster_id)
            notes.append(f"{spec.key}: filled {clean(trend.cluster_id, 60)!r} from the default selection")

    picks: dict[str, list[Trend]] = {k: [allowed[p.cluster_id] for p in ps] for k, ps in chosen.items()}
    in_order = list({t.cluster_id: t for s in editable for t in picks[s.key]}.values())
    for spec in specs:
        if spec.max_items == 0:
            picks[spec.key] = in_order
    return chosen, picks, notes


def _tool_turns(result: AgentResult) -> int:
    """Assistant turns whose tool calls were run (a tool_use in the final, forced reply never is)."""
    msgs = result.messages
    turns = 0
    for i, m in enumerate(msgs[:-1]):
        if m.get("role") != "assistant" or isinstance(m.get("content"), str):
            continue
        nxt = msgs[i + 1].get("content")
        if any(b.get("type") == "tool_use" for b in m["content"]) and isinstance(nxt, list) and any(
            b.get("type") == "tool_result" for b in nxt
        ):
            turns += 1
    if turns == 0 and result.tool_records:  # history was flattened for the forced final answer
        turns = max(0, result.iterations - 1)
    return turns


# --- I/O edges ---------------------------------------------------------------------------------------
def editor_agent(
    settings: Settings,
    store: Store,
    report: GatherReport,
    *,
    client: ModelClient | None = None,
    usage: RunUsage | None = None,
    now: datetime | None = None,
    max_tool_turns: int = MAX_TOOL_TURNS,
) -> TrendAgent:
    """The editor's TrendAgent, built with its per-run dependencies: pinned to `report` (its `gather`
    tool only summarises it, even with refresh=true), capped at min(settings' cap, `max_tool_turns`), and
    with the editor's own offline plan (used only when `client` is the offline model)."""
    return TrendAgent(settings, store, client=client, usage=usage, report=report, refresh_allowed=False, now=now,
                      max_iterations=max(1, min(settings.agent_max_iterations, max_tool_turns)),
                      offline_plan=editor_plan(settings.top_n))


def plan_issue(
    agent: TrendAgent,
    report: GatherReport,
    *,
    specs: tuple[SectionSpec, ...] = SECTION_SPECS,
) -> EditorBrief:
    """Run the editor's TrendAgent (see `editor_agent`) over `report`; return the validated brief.
    The agent is used as built, never changed."""
    tools = agent.trend_tools
    if tools.report is not report or tools.refresh_allowed:
        raise ValueError("plan_issue needs an agent pinned to this report (build it with editor_agent)")
    top_n = tools.settings.top_n
    calls_before = len(agent.usage.calls)
    result = agent.ask(editor_prompt(report, specs, top_n=top_n, max_turns=agent.max_iterations))
    model_calls = sum(1 for c in agent.usage.calls[calls_before:] if c.agent == agent.name)
    raw, notes = parse_brief(result.text) if not result.refused else ({}, [])
    if result.error:
        notes.insert(0, f"editor: {result.error}; using the default selection where needed")
    sections, picks, more = validate_brief(raw, report, top_n=top_n, specs=specs)
    notes += more
    for note in notes:
        log.info("editor brief: %s", note)
    brief = EditorBrief(
        sections=sections,
        picks=picks,
        notes=notes,
        tool_turns=_tool_turns(result),
        model_calls=model_calls,
        truncated=result.truncated,
        offline=result.offline,
        error=result.error,
    )
    if brief.replaced:
        log.warning("editor brief: %d pick(s) came from the default selection (see notes)", brief.replaced)
    return brief


def write_with_agents(
    report: GatherReport,
    settings: Settings,
    store: Store,
    *,
    client: ModelClient | None = None,
    usage: RunUsage | None = None,
    now: datetime | None = None,
    on_brief: Callable[[EditorBrief], None] | None = None,
) -> Newsletter:
    """The `newsletter` command with agents: TrendAgent plans, ClaudeWriter writes, compose fact-checks.

    With no key `make_client` gives the offline model, so this path runs (and says so) without keys.
    `on_brief` lets a caller show the plan (picks, replacements, tool turns) before writing starts."""
    client = client if client is not None else make_client(settings)
    usage = usage if usage is not None else RunUsage.from_settings(settings, report.run_id, store)
    agent = editor_agent(settings, store, report, client=client, usage=usage, now=now)
    try:
        brief = plan_issue(agent, report)
    except Exception as exc:  # the plan is an improvement, not a requirement: fall back to the default selection
        log.warning("editor: planning failed (%s); using the default selection", redact(str(exc)))
        picks = default_picks(report, settings.top_n)
        brief = EditorBrief(
            sections={k: [BriefPick(cluster_id=t.cluster_id, origin="default") for t in v]
                      for k, v in picks.items() if k in {s.key for s in SECTION_SPECS if s.max_items > 0}},
            picks=picks, notes=[f"editor failed ({type(exc).__name__}); using the default selection"],
            offline=getattr(client, "offline", False), error=f"{type(exc).__name__}: {redact(str(exc))[:160]}",
        )
    if on_brief is not None:
        on_brief(brief)
    writer = ClaudeWriter(client, settings, usage=usage, angles=brief.angles)
    return compose(report, writer, now=now, picks=brief.picks, masthead=settings.masthead())
