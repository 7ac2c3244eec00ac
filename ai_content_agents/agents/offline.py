"""The offline model: a deterministic stand-in for Claude, used when no API key is set.

WHY: the main job and CI must run without keys through the SAME code path as with Claude. This
class implements `.messages.create(**kwargs)` (and `.messages.stream`) and returns messages of the
SDK's shape, so BaseAgent cannot tell the difference (both fit `client.ModelClient`).

Like pydantic-ai's `FunctionModel` it knows no agent, no prompt and no tool name: each agent hands it
a plan (`OfflinePlan`, a pure function of one `OfflineTurn`) that sits next to the agent's own tools:
`trend_offline`, `shop_offline`, `editor_offline`, `writer_offline`. Without a plan it only says that
it is offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import count
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .fence import unfence_json

OFFLINE_MODEL_ID = "offline-model"
OFFLINE_BANNER = "Written offline (no ANTHROPIC_API_KEY): deterministic templates, no model was called."


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
    """A tool result read back as JSON (a fenced result is unwrapped first); None when it is not JSON."""
    try:
        return json.loads(unfence_json(text))
    except ValueError:
        return None


def banner_plan(turn: OfflineTurn) -> tuple[list[dict[str, Any]], str]:
    """The plan of a model no agent has given one: it says it is offline, and nothing else."""
    return turn.answer(OFFLINE_BANNER)


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
                yield from block.text.splitlines(keepends=True)

    def get_final_message(self) -> Message:
        return self._msg


class _OfflineMessages:
    def __init__(self, plan: OfflinePlan | None = None, ids: Iterator[int] | None = None) -> None:
        self._ids = ids or count(1)
        self.plan = plan

    def create(self, **kwargs: Any) -> Message:
        if kwargs.get("stream"):
            raise ValueError("the offline model does not produce raw event streams; use messages.stream()")
        content, stop = (self.plan or banner_plan)(OfflineTurn(kwargs))
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
