"""Input tokens per newsletter run: our agent design vs a naive design that sends raw actor items.

Ours is the real `editor.write_with_agents` path on the bundled sample run: TrendAgent plans the issue
with tools (gather summary, ranked briefs), then ClaudeWriter writes each section from compact
`evidence.trend_payload`s, with compose's fact-check and any revisions. It goes through the real SDK
to a loopback fake /v1/messages server that answers like the offline model and counts everything it
receives (system + messages + tools, characters / 4; there is no tokenizer offline).

The naive design has no ranking and no compact payloads: one prompt per section carries the RAW
actor/API items the run gathered from the sources that section covers (all of them: without ranking,
the model has to find the trends itself), with the same writer system prompt, first attempt only (no
planning, no revisions, nothing for the action list: all of this favours the naive design).
`tokens_ratio` compares against it.

For transparency a second, much stricter baseline is reported too: the raw items of only the trends our
ranking already picked (`tokens_ratio_vs_preselected_raw`). It is not a naive design (it needs our
ranking to exist), and our compact payloads are larger than the small sample items there.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anthropic  # noqa: E402

from ai_content_agents import pipeline  # noqa: E402
from ai_content_agents.agents.editor_offline import editor_plan  # noqa: E402
from ai_content_agents.agents.offline import OfflineModel  # noqa: E402
from ai_content_agents.agents.writer_offline import section_plan  # noqa: E402
from ai_content_agents.config import Settings  # noqa: E402
from ai_content_agents.models import GatherReport, Trend  # noqa: E402
from ai_content_agents.agents.claude_writer import ClaudeWriter  # noqa: E402
from ai_content_agents.agents.editor import EditorBrief, write_with_agents  # noqa: E402
from ai_content_agents.newsletter.sections import SECTION_SPECS, SectionSpec  # noqa: E402
from ai_content_agents.sources import load  # noqa: E402
from ai_content_agents.sources.sample import load_sample, names  # noqa: E402
from ai_content_agents.store import Store  # noqa: E402
from tests.agents.fakes import FakeMessagesServer  # noqa: E402

RawIndex = dict[tuple[str, str], dict[str, Any]]


def raw_index() -> RawIndex:
    """(source, source_id) → the raw actor/API item from the bundled sample files."""
    out: RawIndex = {}
    for name in names():
        rows, captured = load_sample(name)
        for item in load(name).parse(rows, captured):
            if item.raw is not None:
                out[(item.source, item.source_id)] = item.raw
    return out


def naive_prompt(spec: SectionSpec, trends: list[Trend], raw: RawIndex) -> str:
    """What a naive writer sends: the section header and the raw actor JSON of its trends' items."""
    items = [raw.get((it.source, it.source_id)) or it.model_dump(mode="json") for t in trends for it in t.items]
    return (f'<section key="{spec.key}" title="{spec.title}">{spec.purpose}</section>\n'
            f"<raw_items>\n{json.dumps(items, ensure_ascii=False)}\n</raw_items>\nWrite this section as JSON.")


def _ours(report: GatherReport, settings: Settings, store: Store) -> tuple[int, int, int, int, EditorBrief]:
    """A full newsletter through write_with_agents: (input tokens, editor's input tokens, model calls, tool turns, brief)."""
    stops: list[str] = []

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        request = {k: v for k, v in body.items() if k != "stream"}
        plan = editor_plan(settings.top_n) if body.get("tools") else section_plan  # the editor has tools, the writer none
        out = OfflineModel(plan).messages.create(**request).model_dump(mode="json", exclude_none=True)
        stops.append(out["stop_reason"])
        return out

    briefs: list[EditorBrief] = []
    with FakeMessagesServer(reply) as server:
        client = anthropic.Anthropic(api_key="bench-key", base_url=server.url, max_retries=0)
        letter = write_with_agents(report, settings, store, client=client, on_brief=briefs.append)
        failed = [s.key for s in letter.sections if s.error]
        if failed:
            raise RuntimeError(f"bench newsletter has failed sections: {failed}")
        editor_chars = sum(len(json.dumps({k: b.get(k) for k in ("system", "messages", "tools")}, ensure_ascii=False))
                           for b in server.bodies if b.get("tools"))  # the writer offers no tools
        return server.input_tokens, editor_chars // 4, len(server.bodies), stops.count("tool_use"), briefs[0]


def all_raw_prompt(spec: SectionSpec) -> str:
    """A naive writer without ranking: the section header and every raw item of the section's sources."""
    sources = spec.sources or tuple(names())
    items = [row for name in names() if name in sources for row in load_sample(name)[0]]
    return (f'<section key="{spec.key}" title="{spec.title}">{spec.purpose}</section>\n'
            f"<raw_items>\n{json.dumps(items, ensure_ascii=False)}\n</raw_items>\nWrite this section as JSON.")


def _naive(report: GatherReport, settings: Settings, picks: dict[str, list[Trend]] | None) -> int:
    """One request per section with raw items, same system prompt and output format as our writer.

    `picks` given: the raw items of those trends only (the pre-selected baseline); None: every raw item.
    """
    canned = {"id": "m", "type": "message", "role": "assistant", "model": settings.writer_model,
              "content": [{"type": "text", "text": "{}"}], "stop_reason": "end_turn", "stop_sequence": None,
              "usage": {"input_tokens": 0, "output_tokens": 1}}
    raw = raw_index()
    writer = ClaudeWriter(OfflineModel(), settings)
    with FakeMessagesServer(lambda body: canned) as server:
        client = anthropic.Anthropic(api_key="bench-key", base_url=server.url, max_retries=0)
        for spec in SECTION_SPECS:
            if picks is None:
                if spec.max_items == 0:
                    continue
                prompt = all_raw_prompt(spec)
            else:
                trends = picks.get(spec.key, [])
                if not trends:
                    continue
                prompt = naive_prompt(spec, trends, raw)
            client.messages.create(**writer._request([{"role": "user", "content": prompt}], report))
        return server.input_tokens


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), out_dir=Path(tmp) / "out", _env_file=None)
        store = Store(settings.db_path)
        try:
            report = pipeline.gather(settings, None, mode="sample")
            ours, editor, calls, turns, brief = _ours(report, settings, store)
            naive = _naive(report, settings, None)
            preselected = _naive(report, settings, brief.picks)
        finally:
            store.close()
    return {
        "tokens_ours": float(ours),
        "tokens_naive": float(naive),
        "tokens_ratio": ours / naive if naive else float("nan"),
        "tokens_naive_preselected_raw": float(preselected),
        "tokens_ratio_vs_preselected_raw": ours / preselected if preselected else float("nan"),
        "tokens_ours_editor": float(editor),  # TrendAgent's planning calls (system + tools resent each turn)
        "tokens_ours_writer": float(ours - editor),
        "model_calls_per_newsletter": float(calls),
        "tool_turns_per_newsletter": float(turns),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value:.3f}")
