"""The offline model: a deterministic stand-in for Claude, used when no API key is set.

WHY: the main job and CI must run without keys through the SAME code path as with Claude. This
class implements `.messages.create(**kwargs)` (and `.messages.stream`) and returns real
`anthropic.types.Message` objects, so BaseAgent cannot tell the difference. It follows a fixed,
sensible plan over whichever tools it is offered, and writes final copy with the pipeline's
templates (`template_writer.copy_for`), so every number it writes is grounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from itertools import count
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ..newsletter.evidence import TrendPayload

OFFLINE_MODEL_ID = "offline-model"
OFFLINE_BANNER = "Written offline (no ANTHROPIC_API_KEY): deterministic templates, no model was called."
_PAYLOADS = re.compile(r"<trend_payloads>\s*(.*?)\s*</trend_payloads>", re.S)


def _chars(obj: Any) -> int:
    return len(json.dumps(obj, ensure_ascii=False, default=str))


class OfflineTextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str


class OfflineToolUseBlock(BaseModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class OfflineUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class OfflineMessage(BaseModel):
    """The shape of `anthropic.types.Message` that the loop reads. WHY not the SDK's class: importing the
    SDK takes over 2 s, and a keyless `ask` must answer a follow-up in well under that."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[Annotated[OfflineTextBlock | OfflineToolUseBlock, Field(discriminator="type")]]
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: OfflineUsage = Field(default_factory=OfflineUsage)

    def to_param(self) -> dict[str, Any]:
        return {"role": "assistant", "content": [b.model_dump(mode="json") for b in self.content]}


Message = OfflineMessage


def _message(n: int, content: list[dict[str, Any]], stop: str, request: dict[str, Any]) -> Message:
    return Message.model_validate(
        {
            "id": f"msg_offline_{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": OFFLINE_MODEL_ID,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {  # characters/4: the same estimate the benchmark uses
                "input_tokens": _chars({k: request.get(k) for k in ("system", "messages", "tools")}) // 4,
                "output_tokens": _chars(content) // 4,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
    )


def _results(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], str, bool]]:
    """(tool name, input, result text, is_error) of every tool call so far, in order."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    out: list[tuple[str, dict[str, Any], str, bool]] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            continue
        for b in content or []:
            if b.get("type") == "tool_use":
                calls[b["id"]] = (b["name"], b.get("input") or {})
            elif b.get("type") == "tool_result":
                name, args = calls.get(b["tool_use_id"], ("?", {}))
                body = b.get("content", "")
                if isinstance(body, list):
                    body = "".join(x.get("text", "") for x in body if isinstance(x, dict))
                out.append((name, args, str(body), bool(b.get("is_error"))))
    return out


class OfflineTurn:
    """What a plan sees of one request: the question, the tools offered, and every tool result so far.

    Like pydantic-ai's `FunctionModel`, the offline model knows no agent: an agent hands it a plan (a
    function of this turn) that sits next to the agent's own tools.
    """

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.messages: list[dict[str, Any]] = list(request.get("messages") or [])
        self.tools = frozenset(t["name"] for t in request.get("tools") or [] if isinstance(t, dict))
        choice = request.get("tool_choice") or {}
        self.may_call = bool(self.tools) and choice.get("type") != "none"
        self.done = _results(self.messages)
        self.question = _question(self.messages)

    def called(self, name: str) -> bool:
        return any(n == name for n, _, _, _ in self.done)

    def results(self, name: str) -> list[tuple[dict[str, Any], Any, bool]]:
        """(input, parsed JSON result or the raw text, is_error) of every call of `name`, in order."""
        return [(args, _json(r) if not err else r, err) for n, args, r, err in self.done if n == name]

    def use(self, name: str, args: dict[str, Any], k: int = 0) -> dict[str, Any]:
        return {"type": "tool_use", "id": f"toolu_offline_{len(self.done) + k:02d}", "name": name, "input": args}

    @staticmethod
    def answer(text: str) -> tuple[list[dict[str, Any]], str]:
        return [{"type": "text", "text": text}], "end_turn"


OfflinePlan = Callable[[OfflineTurn], tuple[list[dict[str, Any]], str]]


def _question(messages: list[dict[str, Any]]) -> str:
    first = messages[0]["content"] if messages else ""
    if isinstance(first, list):
        return " ".join(b.get("text", "") for b in first if b.get("type") == "text")
    return str(first)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


class _Plan:
    """Decides the next step from the conversation so far. Pure: same input, same output."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.messages: list[dict[str, Any]] = list(request.get("messages") or [])
        self.tools = {t["name"] for t in request.get("tools") or [] if isinstance(t, dict)}
        choice = request.get("tool_choice") or {}
        self.may_call = bool(self.tools) and choice.get("type") != "none"
        self.done = _results(self.messages)
        self.called = [name for name, _, _, _ in self.done]

    def next(self) -> tuple[list[dict[str, Any]], str]:
        if "shop_status" in self.tools:
            return self._shop()
        match = _PAYLOADS.search(_question(self.messages))
        if match:
            return [{"type": "text", "text": self._section(match.group(1))}], "end_turn"
        return [{"type": "text", "text": OFFLINE_BANNER}], "end_turn"

    @staticmethod
    def _use(n: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"type": "tool_use", "id": f"toolu_offline_{n:02d}", "name": name, "input": args}

    # --- TikTokShopAgent: status → performance (parallel) → answer; never proposes writes ----------
    def _shop(self) -> tuple[list[dict[str, Any]], str]:
        step = len(self.called)
        if self.may_call and "shop_status" not in self.called:
            return [self._use(step, "shop_status", {})], "tool_use"
        status = next(((r, err) for n, _, r, err in self.done if n == "shop_status"), ("", True))
        ready = not status[1] and (_json(status[0]) or {}).get("ready")
        wanted = [t for t in ("shop_performance", "product_performance") if t in self.tools]
        if self.may_call and ready and wanted and not set(wanted) & set(self.called):
            return [self._use(step + i, t, {"days": 7}) for i, t in enumerate(wanted)], "tool_use"
        lines = [OFFLINE_BANNER]
        if not ready:
            detail = _json(status[0]) or {}
            lines.append(f"TikTok Shop is not available: {detail.get('detail') or status[0] or 'unknown state'}")
            return [{"type": "text", "text": "\n".join(lines)}], "end_turn"
        for name, _, result, err in self.done:
            if name == "shop_status":
                continue
            lines.append(f"{name}: {'error: ' if err else ''}{result}")
        return [{"type": "text", "text": "\n".join(lines)}], "end_turn"

    # --- ClaudeWriter: one section as JSON, from the payloads in the prompt ------------------------
    def _section(self, raw: str) -> str:
        from ..newsletter.template_writer import write_json

        payloads = [TrendPayload.model_validate(p) for p in json.loads(raw)]
        prompt = _question(self.messages)
        key = re.search(r'<section key="([a-z_]+)"', prompt)
        slot = re.search(r'<section [^>]*first_slot="(\d+)"', prompt)
        attached = re.search(r"<attached>(.*?)</attached>", prompt, re.S)
        body = write_json(
            key.group(1) if key else "",
            payloads,
            first_slot=int(slot.group(1)) if slot else 0,
            attached=(_json(attached.group(1)) or {}) if attached else {},
        )
        return json.dumps(body, ensure_ascii=False)


class _OfflineStream:
    """Enough of the SDK's MessageStream for `ask`: `text_stream` and `get_final_message`."""

    def __init__(self, msg: Message) -> None:
        self._msg = msg

    def __enter__(self) -> _OfflineStream:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def text_stream(self) -> Iterator[str]:
        for block in self._msg.content:
            if block.type == "text":
                for line in block.text.splitlines(keepends=True):
                    yield line

    def get_final_message(self) -> Message:
        return self._msg


class _OfflineMessages:
    def __init__(self, plan: OfflinePlan | None = None, ids: Iterator[int] | None = None) -> None:
        self._ids = ids or count(1)
        self.plan = plan

    def create(self, **kwargs: Any) -> Message:
        if kwargs.get("stream"):
            raise ValueError("the offline model does not produce raw event streams; use messages.stream()")
        if self.plan is not None:
            content, stop = self.plan(OfflineTurn(kwargs))
        else:
            content, stop = _Plan(kwargs).next()
        return _message(next(self._ids), content, stop, kwargs)

    def stream(self, **kwargs: Any) -> _OfflineStream:
        return _OfflineStream(self.create(**kwargs))


class OfflineModel:
    """Drop-in for `anthropic.Anthropic` as far as BaseAgent and ClaudeWriter are concerned."""

    offline = True
    name = "offline model"

    def __init__(self, plan: OfflinePlan | None = None) -> None:
        self.messages = _OfflineMessages(plan)

    def with_plan(self, plan: OfflinePlan) -> OfflineModel:
        """The same model (message ids continue) following `plan`: how an agent supplies its offline plan."""
        other = OfflineModel(plan)
        other.messages = _OfflineMessages(plan, self.messages._ids)
        return other
