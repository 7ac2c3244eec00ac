"""TrendAgent's offline plan: reads the question's intent, picks the tool calls and filters, and writes
an answer from the results that changes when the question does. Handed to the generic offline model by
TrendAgent (it sits next to TrendAgent's tools, not inside the model).
"""

from __future__ import annotations

from typing import Any

from ..sources import meta
from .intent import Intent, read_intent
from .offline import OFFLINE_BANNER, OfflineTurn

Reply = tuple[list[dict[str, Any]], str]


def _label(source: str) -> str:
    return meta(source).service_name


def _levels(intent: Intent) -> list[int]:
    """Filter levels to try in turn: 0 = category and niche words, 1 = category only, 2 = neither."""
    levels = [0]
    if intent.category and intent.words:
        levels.append(1)
    if intent.category or intent.words:
        levels.append(2)
    return levels


def _list_calls(intent: Intent, level: int = 0) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"limit": 5}
    if level < 2 and intent.category:
        base["category"] = intent.category
    if level < 1 and intent.words:
        base["query"] = " ".join(intent.words)
    if intent.movers or intent.sources:
        base["order"] = "momentum"
    if intent.compare:
        return [{**base, "source": s} for s in intent.sources[:3]]
    return [{**base, "source": intent.sources[0]}] if intent.sources else [base]


def _briefs(turn: OfflineTurn) -> list[tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]]:
    """(input, briefs, whole result) of the last round of list_trends calls (the broadened one if any)."""
    rows = [(args, (r or {}).get("trends", []), r or {}) for args, r, err in turn.results("list_trends")
            if not err and isinstance(r, dict)]
    n = len(_list_calls(read_intent(turn.question)))
    return rows[-n:] if len(rows) > n else rows


def trend_plan(turn: OfflineTurn) -> Reply:
    intent = read_intent(turn.question)
    lists = turn.results("list_trends")
    if turn.may_call and "list_trends" in turn.tools and not lists:
        return [turn.use("list_trends", args, k) for k, args in enumerate(_list_calls(intent))], "tool_use"
    rows = _briefs(turn)
    rounds = len(lists) // max(1, len(_list_calls(intent)))
    levels = _levels(intent)
    if turn.may_call and rounds < len(levels) and not any(b for _, b, _ in rows):
        calls = _list_calls(intent, levels[rounds])
        return [turn.use("list_trends", args, k) for k, args in enumerate(calls)], "tool_use"
    if turn.may_call and "trend_detail" in turn.tools and not turn.called("trend_detail"):
        per = 1 if intent.compare else 2
        ids = list(dict.fromkeys(b["cluster_id"] for _, briefs, _ in rows for b in briefs[:per]))
        if ids:
            return [turn.use("trend_detail", {"cluster_id": c}, k) for k, c in enumerate(ids[:3])], "tool_use"
    return turn.answer(_answer(turn, intent, rows, broadened=len(lists) > len(_list_calls(intent))))


def _line(b: dict[str, Any], source: str | None = None) -> str:
    strength = b.get("strength") or {}
    q = strength.get(source) if source else max(strength.values(), default=None)
    where = ", ".join(_label(s) for s in strength) or ", ".join(_label(s) for s in b.get("sources", []))
    parts = [f"#{b['rank']} {b['title']}", b.get("label", "")]
    if q is not None:
        parts.append(f"strength {q:.2f}{' on ' + _label(source) if source else ''}")
    if b.get("lead"):
        parts.append(str(b["lead"]))
    return "- " + " — ".join(p for p in parts if p) + (f" [{where}]" if where else "")


def _answer(turn: OfflineTurn, intent: Intent, rows: list[Any], *, broadened: bool) -> str:  # noqa: C901 - the offline answer's template: one branch per kind of question, read top to bottom
    from ..newsletter.evidence import TrendPayload
    from ..newsletter.template_writer import story_copy

    out = [OFFLINE_BANNER]
    results = [r for _, _, r in rows]
    if any(r.get("sample") for r in results):
        out.append("SAMPLE DATA: these trends come from the bundled sample snapshot, not live sources.")
    if results and results[0].get("run"):
        out.append(f"From {results[0]['run']}.")
    errors = [str(r) for _, r, err in turn.results("list_trends") if err]
    if not any(b for _, b, _ in rows):
        out.append(f"No ranked trends match {intent.subject} in this run." + (f" ({errors[0]})" if errors else ""))
        return "\n".join(out)
    if broadened:
        out.append(f"Nothing in this run matches {intent.subject} exactly; the closest trends instead:")
    details: dict[str, TrendPayload] = {}
    for _, d, err in turn.results("trend_detail"):
        if not err and isinstance(d, dict) and "trend" in d:
            payload = TrendPayload.model_validate(d["trend"])
            details[payload.cluster_id] = payload

    if intent.compare:
        out += ["", f"## {' vs '.join(_label(s) for s in intent.sources[:3])}" + (f" ({intent.category})" if intent.category else "")]
        seen: dict[str, list[str]] = {}
        for args, briefs, _ in rows:
            src = args.get("source")
            out += ["", f"### On {_label(src)}"] + ([_line(b, src) for b in briefs[:4]] or ["- nothing counted this run"])
            for b in briefs:
                seen.setdefault(b["title"], []).append(_label(src))
        both = [t for t, where in seen.items() if len(where) > 1]
        out += ["", "Strong on more than one: " + ("; ".join(f"{t} ({' + '.join(seen[t])})" for t in both) if both
                                                  else "none of the top trends — each source shows a different set.")]
        return "\n".join(out)

    briefs = [b for _, bs, _ in rows for b in bs]
    src = intent.sources[0] if intent.sources else None
    if intent.movers:
        out += ["", f"## Climbing fastest: {intent.subject}"]
        out += [_line(b, src) for b in briefs]
        top = details.get(briefs[0]["cluster_id"])
        if top is not None:
            c = story_copy(top, "top_trend", 0)
            out += ["", f"Top mover: {c.headline}. {c.signal}", f"Action: {c.action}"] + [f"- {u}" for u in c.links[:2]]
        return "\n".join(out)

    heading = {"post": f"What to post this week ({intent.subject})", "stock": f"What to stock ({intent.subject})",
               "do": f"What to do now ({intent.subject})"}.get(intent.advice or "", f"Trending: {intent.subject}")
    out += ["", f"## {heading}"]
    for i, b in enumerate(briefs[:2]):
        p = details.get(b["cluster_id"])
        if p is None:
            out.append(_line(b, src))
            continue
        c = story_copy(p, "top_trend", i)
        out += ["", f"### {c.headline}", c.signal]
        if intent.advice == "post":
            out.append(f"Post idea: film it in use and lead with the number above. {c.action}")
        elif intent.advice == "stock":
            out.append(f"Stock call: {c.action}")
        else:
            out.append(c.why_it_matters)
            out += [line for line in (c.corroboration, c.caveat) if line] + [f"Action: {c.action}"]
        out += [f"- {u}" for u in c.links[:2]]
    rest = briefs[2:]
    if rest:
        out += ["", "Also ranked:"] + [_line(b, src) for b in rest]
    return "\n".join(out)
