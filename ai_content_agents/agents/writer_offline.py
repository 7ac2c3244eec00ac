"""ClaudeWriter's offline plan: one section as JSON, written by the template writer from the payloads of
the writer's own prompt (`ClaudeWriter.prompt` builds it; this module reads it back, and nothing else
does). Handed to the generic offline model by ClaudeWriter.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..newsletter.evidence import TrendPayload
from .fence import unfence_json
from .offline import OFFLINE_BANNER, OfflineTurn

Reply = tuple[list[dict[str, Any]], str]
_PAYLOADS = re.compile(r"<trend_payloads>\s*(.*?)\s*</trend_payloads>", re.S)
_KEY = re.compile(r'<section key="([a-z_]+)"')
_SLOT = re.compile(r'<section [^>]*first_slot="(\d+)"')
_ATTACHED = re.compile(r"<attached>(.*?)</attached>", re.S)
_AUDIENCE = re.compile(r"<audience>(.*?)</audience>", re.S)  # a profile's readers, in the system prompt


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _system(request: dict[str, Any]) -> str:
    """The system prompt's text, whether given as a string or as text blocks."""
    system = request.get("system") or ""
    if isinstance(system, list):
        return " ".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
    return str(system)


def section_plan(turn: OfflineTurn) -> Reply:
    from ..newsletter.template_writer import write_json

    prompt = turn.question
    found = _PAYLOADS.search(prompt)
    raw = _loads(unfence_json(found.group(1))) if found else None
    if not isinstance(raw, list):
        return turn.answer(OFFLINE_BANNER)
    key, slot, attached = _KEY.search(prompt), _SLOT.search(prompt), _ATTACHED.search(prompt)
    audience = _AUDIENCE.search(_system(turn.request))
    body = write_json(
        key.group(1) if key else "",
        [TrendPayload.model_validate(p) for p in raw],
        first_slot=int(slot.group(1)) if slot else 0,
        attached=(_loads(attached.group(1)) or {}) if attached else {},
        audience=audience.group(1).strip() if audience else "",
    )
    return turn.answer(json.dumps(body, ensure_ascii=False))
