"""Input tokens per newsletter run: our compact payloads vs a naive design that sends raw actor items.

Both designs write the same five sections from the same bundled sample run, through the real SDK to a
loopback fake /v1/messages server that counts what it receives (characters / 4; no tokenizer offline).
The naive design sends, per section (first attempt only), the raw actor JSON of that section's trends' items instead of
`evidence.trend_payload`. Tool turns are the model replies that asked for tools during the run.
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
from ai_content_agents.agents.offline import OfflineModel  # noqa: E402
from ai_content_agents.config import Settings  # noqa: E402
from ai_content_agents.models import Trend  # noqa: E402
from ai_content_agents.newsletter.claude_writer import ClaudeWriter  # noqa: E402
from ai_content_agents.newsletter.compose import compose  # noqa: E402
from ai_content_agents.newsletter.sections import SECTION_SPECS, SectionSpec, select  # noqa: E402
from ai_content_agents.store import Store  # noqa: E402
from tests.agents.fakes import FakeMessagesServer  # noqa: E402


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    request = {k: v for k, v in body.items() if k != "stream"}
    return OfflineModel().messages.create(**request).model_dump(mode="json", exclude_none=True)


def naive_prompt(spec: SectionSpec, trends: list[Trend]) -> str:
    """What a naive writer sends: the section header and the raw actor JSON of its trends' items."""
    raw = [it.raw if it.raw is not None else it.model_dump(mode="json") for t in trends for it in t.items]
    return (f'<section key="{spec.key}" title="{spec.title}">{spec.purpose}</section>\n'
            f"<raw_items>\n{json.dumps(raw, ensure_ascii=False)}\n</raw_items>\nWrite this section as JSON.")


def _ours(report: Any, settings: Settings) -> tuple[int, int, int]:
    """A full newsletter (compose, fact-check, any revisions) with ClaudeWriter through the real SDK."""
    with FakeMessagesServer(_reply) as server:
        client = anthropic.Anthropic(api_key="bench-key", base_url=server.url, max_retries=0)
        compose(report, ClaudeWriter(client, settings))
        turns = sum(1 for b in server.bodies if b.get("tools"))  # the writer offers no tools: 0 tool turns
        return server.input_tokens, len(server.bodies), turns


def _naive(report: Any, settings: Settings) -> int:
    """One request per section with raw items (no revisions counted: this favours the naive design)."""
    canned = {"id": "m", "type": "message", "role": "assistant", "model": settings.writer_model,
              "content": [{"type": "text", "text": "{}"}], "stop_reason": "end_turn", "stop_sequence": None,
              "usage": {"input_tokens": 0, "output_tokens": 1}}
    writer = ClaudeWriter(OfflineModel(), settings)
    with FakeMessagesServer(lambda body: canned) as server:
        client = anthropic.Anthropic(api_key="bench-key", base_url=server.url, max_retries=0)
        for spec in SECTION_SPECS:
            trends = select(report.trends).get(spec.key, [])
            if not trends:
                continue
            request = writer._request([{"role": "user", "content": naive_prompt(spec, trends)}], report)
            client.messages.create(**request)
        return server.input_tokens


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), out_dir=Path(tmp) / "out", _env_file=None)
        store = Store(settings.db_path)
        try:
            report = pipeline.gather(settings, store, mode="sample")
            ours, calls, turns = _ours(report, settings)
            naive = _naive(report, settings)
        finally:
            store.close()
    return {
        "tokens_ours": float(ours),
        "tokens_naive": float(naive),
        "tokens_ratio": ours / naive if naive else float("nan"),
        "model_calls_per_newsletter": float(calls),
        "tool_turns_per_newsletter": float(turns),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value:.3f}")
