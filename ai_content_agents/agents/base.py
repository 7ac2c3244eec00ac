"""BaseAgent: our own tool loop on `client.messages.create` (reference claude_agents.md §4–§5).

WHY not the SDK's beta tool runner: it uses server-held threads by default (compatible servers
silently lose history), has no approval gate for function tools, no forced final answer at the
iteration limit, and sends `repr(exc)` to the model. This loop works the same against the real SDK
client, any Anthropic-compatible server (`ANTHROPIC_BASE_URL`) and the offline model, because all
three expose `.messages.create(**kwargs) -> anthropic.types.Message`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol

from anthropic.types import Message
from pydantic import BaseModel, Field

from ..config import Settings, secret
from ..redact import redact, request_id
from .tools import ToolOutcome, ToolRegistry
from .usage import RunUsage

log = logging.getLogger(__name__)

OFFLINE_NOTE = "written offline (no ANTHROPIC_API_KEY)"
FINAL_NUDGE = (
    "You have reached the tool-call limit for this request. Give your final answer now, using only what "
    "the tools already returned. Do not call any more tools."
)


class MessagesAPI(Protocol):
    def create(self, **kwargs: Any) -> Message: ...


class ModelClient(Protocol):
    """The one interface BaseAgent needs: `anthropic.Anthropic` and `OfflineModel` both fit."""

    @property
    def messages(self) -> MessagesAPI: ...


class ModelDeprecated(ValueError):
    """A configured model is on anthropic's deprecation list: fail at startup, not mid-run."""


class ModelReplyError(RuntimeError):
    """The model endpoint answered, but not with a message (an HTML page with HTTP 200, a proxy's error text...)."""


def model_failure(exc: BaseException) -> str:
    """One secret-free line for a failed model call: the error type, HTTP status and request id (ids are chosen
    by the server, so they are redacted and shown only when they look like ids), never the server's text."""
    status = getattr(exc, "status_code", None)
    rid = request_id(getattr(exc, "request_id", None))
    if isinstance(exc, ModelReplyError):
        return f"the model API sent an unusable reply ({redact(str(exc))})"
    if isinstance(exc, TimeoutError):
        return f"writing {exc}"
    detail = type(exc).__name__ + (f", HTTP {status}" if status else "") + (f", request {rid}" if rid else "")
    return f"the model API call failed ({detail})"


def _checked(msg: object) -> Message:
    """`msg` if it is a usable message; an SDK given a non-JSON 200 returns text or a half-built object."""
    content = getattr(msg, "content", None)
    if not isinstance(msg, Message) and not (isinstance(content, list) and hasattr(msg, "stop_reason")):
        kind = type(msg).__name__
        head = msg.lstrip()[:15].lower() if isinstance(msg, str) else ""
        what = "an HTML page" if head.startswith(("<!doctype", "<html")) else f"a {kind}"
        raise ModelReplyError(f"{what} instead of a message")
    if not isinstance(content, list):
        raise ModelReplyError("a message without content blocks")
    return msg  # type: ignore[return-value]


def deprecated_models() -> dict[str, str]:
    """Model id → end-of-life date, from the installed SDK (both of its lists)."""
    out: dict[str, str] = {}
    try:
        from anthropic._data import DEPRECATED_MODELS as data_list

        out.update(data_list)
    except ImportError:  # pragma: no cover - older SDK layout
        pass
    from anthropic.resources.messages.messages import DEPRECATED_MODELS as messages_list

    out.update(messages_list)
    return out


def check_models(settings: Settings) -> None:
    dead = deprecated_models()
    for setting, model in (("AICA_WRITER_MODEL", settings.writer_model), ("AICA_FAST_MODEL", settings.fast_model)):
        if model in dead:
            raise ModelDeprecated(
                f"model {model!r} is deprecated by Anthropic and reaches end of life on {dead[model]}; "
                f"set {setting} to a current model (e.g. claude-sonnet-5-5 or claude-haiku-5-5)"
            )


def make_client(settings: Settings) -> ModelClient:
    """The real SDK client when a key (or a compatible server URL) is set, else the offline model."""
    check_models(settings)
    key = secret(settings.anthropic_api_key)
    base_url = settings.anthropic_base_url
    if not key and not base_url:
        from .offline import OfflineModel

        return OfflineModel()
    import anthropic

    class BoundedAnthropic(anthropic.Anthropic):
        """The SDK client, except that a Retry-After longer than AICA_HTTP_RETRY_MAX_WAIT_S is not waited on
        (the SDK would sleep for as long as any server asks): the call fails at once, as rate limited."""

        def _should_retry(self, response: Any) -> bool:
            wait = self._parse_retry_after_header(response.headers)
            if wait is not None and wait > settings.http_retry_max_wait_s:
                return False
            return bool(super()._should_retry(response))

    # a local compatible server (Ollama, vLLM) ignores the key; the SDK still needs one to build headers
    return BoundedAnthropic(api_key=key or "no-key", base_url=base_url or None)


def is_offline(client: object) -> bool:
    return bool(getattr(client, "offline", False))


# --- what the loop returns -------------------------------------------------------------------------
class Capabilities(BaseModel):
    """What the endpoint supports (Ollama: no tool_choice, no caching; LiteLLM drops cache_control)."""

    tool_choice: bool = True
    cache_control: bool = True
    structured_output: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Capabilities:
        return cls(
            tool_choice=settings.supports_tool_choice,
            cache_control=settings.supports_cache_control,
            structured_output=settings.supports_structured_output,
        )


class ToolCall(BaseModel):
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    requires_approval: bool = False


class ToolRecord(BaseModel):
    id: str
    name: str
    input: dict[str, Any]
    is_error: bool
    chars: int  # size of the result sent back
    approved_by: str | None = None


class Decision(BaseModel):
    approve: bool
    reason: str = ""
    by: str = "operator"


class PendingApproval(BaseModel):
    """A paused run: serialisable (JSON) so it can be resumed in another process."""

    kind: Literal["pending_approval"] = "pending_approval"
    agent: str
    run_id: str
    iteration: int
    messages: list[dict[str, Any]]
    calls: list[ToolCall]  # every tool_use of the paused turn, in order
    tool_records: list[ToolRecord] = Field(default_factory=list)

    @property
    def gated(self) -> list[ToolCall]:
        return [c for c in self.calls if c.requires_approval]


class AgentResult(BaseModel):
    kind: Literal["result"] = "result"
    agent: str
    run_id: str
    model: str
    text: str
    stop_reason: str | None
    iterations: int
    truncated: bool = False  # the answer was forced at max_iterations, or cut at max_tokens
    refused: bool = False
    refusal_category: str | None = None
    error: str | None = None  # e.g. context window exceeded, unknown stop reason
    offline: bool = False
    tool_records: list[ToolRecord] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)


class AgentEvent(BaseModel):
    kind: Literal["tool_call", "tool_result", "approval_needed", "pause_turn", "forced_final"]
    name: str = ""
    input: dict[str, Any] = Field(default_factory=dict)
    is_error: bool = False
    detail: str = ""


# --- history helpers (pure) -------------------------------------------------------------------
def assistant_param(msg: Message) -> dict[str, Any]:
    """`msg.to_param()` as plain JSON-able dicts, so history can be serialised and resent."""
    return {"role": "assistant", "content": [b.model_dump(mode="json", exclude_none=True) for b in msg.content]}


def text_of(msg: Message) -> str:
    return "".join(getattr(b, "text", "") for b in msg.content if b.type == "text")


def tool_uses(msg: Message) -> list[Any]:
    return [b for b in msg.content if b.type == "tool_use"]


def with_nudge(messages: list[dict[str, Any]], nudge: str = FINAL_NUDGE) -> list[dict[str, Any]]:
    """Add the final-answer nudge as a text block of the last user message (never two user turns in a row)."""
    out = [dict(m) for m in messages]
    if out and out[-1]["role"] == "user":
        content = out[-1]["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
        out[-1] = {"role": "user", "content": [*blocks, {"type": "text", "text": nudge}]}
    else:
        out.append({"role": "user", "content": [{"type": "text", "text": nudge}]})
    return out


def flatten_tool_blocks(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn tool_use/tool_result blocks into plain text, for endpoints without `tool_choice` (reference §5.1)."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            out.append(m)
            continue
        blocks: list[dict[str, Any]] = []
        for b in content:
            kind = b.get("type")
            if kind == "tool_use":
                names[b["id"]] = b["name"]
                args = json.dumps(b.get("input", {}), separators=(",", ":"), ensure_ascii=False)
                blocks.append({"type": "text", "text": f"[called tool {b['name']} with {args}]"})
            elif kind == "tool_result":
                body = b.get("content", "")
                if isinstance(body, list):
                    body = "".join(x.get("text", "") for x in body if isinstance(x, dict))
                label = "error from" if b.get("is_error") else "result of"
                blocks.append({"type": "text", "text": f"[{label} {names.get(b['tool_use_id'], 'tool')}: {body}]"})
            elif kind in ("text",):
                blocks.append({"type": "text", "text": b.get("text", "")})
            # thinking/other blocks are dropped: they are not valid without their tool context
        if blocks:
            out.append({"role": m["role"], "content": blocks})
    return out


def _result_block(call: ToolCall, outcome: ToolOutcome) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call.id, "content": outcome.content, "is_error": outcome.is_error}


# --- the agent -----------------------------------------------------------------------------------
class BaseAgent:
    """A bounded tool loop. Subclasses provide `name`, the system prompt and the tool registry."""

    name = "agent"

    def __init__(
        self,
        client: ModelClient,
        *,
        model: str,
        system: str,
        tools: ToolRegistry,
        max_tokens: int = 4096,
        max_iterations: int = 8,
        capabilities: Capabilities | None = None,
        usage: RunUsage | None = None,
        run_id: str | None = None,
        on_event: Callable[[AgentEvent], None] | None = None,
        on_text: Callable[[str], None] | None = None,
        max_parallel: int = 4,
    ) -> None:
        self.client = client
        self.model = model
        self.system = system
        self.tools = tools
        self.max_tokens = max_tokens
        self.max_iterations = max_iterations
        self.caps = capabilities or Capabilities()
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.usage = usage if usage is not None else RunUsage(self.run_id)
        self.on_event = on_event
        self.on_text = on_text  # set → stream the answer through `messages.stream`
        self.max_parallel = max(1, max_parallel)
        self.offline = is_offline(client)

    # --- public API -------------------------------------------------------------------------
    def run(self, prompt: str) -> AgentResult | PendingApproval:
        messages: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
        return self._loop(messages, iteration=0, records=[])

    def resume(
        self, pending: PendingApproval, decisions: Mapping[str, Decision]
    ) -> AgentResult | PendingApproval:
        """Continue a paused run: one user message holds a tool_result for every call of that turn."""
        records = list(pending.tool_records)
        blocks = self._run_calls(pending.calls, decisions, records)
        messages = [*pending.messages, {"role": "user", "content": blocks}]
        return self._loop(messages, iteration=pending.iteration + 1, records=records)

    # --- hooks --------------------------------------------------------------------------------
    def after_tool(self, call: ToolCall, outcome: ToolOutcome, approver: str | None) -> None:
        """Called after every tool call (TikTokShopAgent writes its audit log here)."""

    # --- the loop -----------------------------------------------------------------------------
    def _request(self, messages: list[dict[str, Any]], *, final: bool = False) -> dict[str, Any]:
        cache = self.caps.cache_control
        system: Any = [{"type": "text", "text": self.system, **({"cache_control": {"type": "ephemeral"}} if cache else {})}]
        kwargs: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, "system": system}
        if not final:
            kwargs["messages"] = messages
            if len(self.tools):
                kwargs["tools"] = self.tools.params(cache=cache)
            return kwargs
        if self.caps.tool_choice and len(self.tools):
            kwargs["messages"] = with_nudge(messages)
            kwargs["tools"] = self.tools.params(cache=cache)
            kwargs["tool_choice"] = {"type": "none"}
        else:  # never send tool_choice without tools; never send tool blocks without tools
            kwargs["messages"] = with_nudge(flatten_tool_blocks(messages))
        return kwargs

    def _call(self, kwargs: dict[str, Any]) -> Message:
        try:
            if self.on_text is not None and hasattr(self.client.messages, "stream"):
                with self.client.messages.stream(**kwargs) as stream:  # type: ignore[attr-defined]
                    for chunk in stream.text_stream:
                        self.on_text(chunk)
                    msg = stream.get_final_message()
            else:
                msg = self.client.messages.create(**kwargs)
            msg = _checked(msg)
        except Exception:
            log.warning("%s: model call failed", self.name)
            raise
        self.usage.add(self.name, getattr(msg, "model", None) or self.model, getattr(msg, "usage", None))
        return msg

    def _emit(self, event: AgentEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _loop(
        self, messages: list[dict[str, Any]], *, iteration: int, records: list[ToolRecord]
    ) -> AgentResult | PendingApproval:
        while iteration < self.max_iterations:
            msg = self._call(self._request(messages))
            messages.append(assistant_param(msg))
            reason = msg.stop_reason
            if reason == "pause_turn":  # the server paused a long turn: resend as is, run nothing
                self._emit(AgentEvent(kind="pause_turn"))
                iteration += 1
                continue
            if reason == "tool_use":
                calls = [
                    ToolCall(
                        id=b.id,
                        name=b.name,
                        input=dict(b.input or {}),
                        requires_approval=bool((t := self.tools.get(b.name)) and t.requires_approval),
                    )
                    for b in tool_uses(msg)
                ]
                if any(c.requires_approval for c in calls):
                    for c in calls:
                        if c.requires_approval:
                            self._emit(AgentEvent(kind="approval_needed", name=c.name, input=c.input))
                    return PendingApproval(
                        agent=self.name,
                        run_id=self.run_id,
                        iteration=iteration,
                        messages=messages,
                        calls=calls,
                        tool_records=records,
                    )
                messages.append({"role": "user", "content": self._run_calls(calls, {}, records)})
                iteration += 1
                continue
            return self._finish(msg, messages, iteration + 1, records)
        return self._forced_final(messages, iteration, records)

    def _finish(
        self, msg: Message, messages: list[dict[str, Any]], iterations: int, records: list[ToolRecord]
    ) -> AgentResult:
        reason = msg.stop_reason
        result = AgentResult(
            agent=self.name,
            run_id=self.run_id,
            model=msg.model or self.model,
            text=text_of(msg),
            stop_reason=reason,
            iterations=iterations,
            offline=self.offline,
            tool_records=records,
            messages=messages,
        )
        if reason in ("end_turn", "stop_sequence"):
            return result
        if reason == "max_tokens":  # cut off: a trailing tool_use is incomplete and is never executed
            result.truncated = True
            result.error = "the answer was cut off at max_tokens" + (
                "; an unfinished tool call was not executed" if tool_uses(msg) else ""
            )
            return result
        if reason == "refusal":
            details = getattr(msg, "stop_details", None)
            result.refused = True
            result.refusal_category = getattr(details, "category", None)
            result.error = f"the model declined this request ({result.refusal_category or 'no category given'})"
            log.warning("%s: refusal, category=%s", self.name, result.refusal_category)
            return result
        if reason == "model_context_window_exceeded":
            result.error = "the conversation exceeded the model's context window"
            return result
        log.warning("%s: unknown stop_reason %r; stopping", self.name, reason)
        result.error = f"stopped on an unknown stop reason ({str(reason)[:40]})"
        return result

    def _forced_final(
        self, messages: list[dict[str, Any]], iteration: int, records: list[ToolRecord]
    ) -> AgentResult:
        """One last call in which tools cannot run; its answer is flagged truncated."""
        self._emit(AgentEvent(kind="forced_final", detail=f"max_iterations={self.max_iterations}"))
        kwargs = self._request(messages, final=True)
        msg = self._call(kwargs)
        return AgentResult(
            agent=self.name,
            run_id=self.run_id,
            model=msg.model or self.model,
            text=text_of(msg),  # any tool_use in this reply is discarded, never executed
            stop_reason=msg.stop_reason,
            iterations=iteration + 1,
            truncated=True,
            offline=self.offline,
            tool_records=records,
            messages=[*kwargs["messages"], assistant_param(msg)],
        )

    def _run_one(self, call: ToolCall, decision: Decision | None) -> tuple[ToolOutcome, str | None]:
        if call.requires_approval:
            if decision is None:
                return ToolOutcome(content="denied by operator: no decision was given", is_error=True), None
            if not decision.approve:
                reason = decision.reason.strip() or "no reason given"
                return ToolOutcome(content=f"denied by operator: {reason[:300]}", is_error=True), decision.by
        self._emit(AgentEvent(kind="tool_call", name=call.name, input=call.input))
        outcome = self.tools.run(call.name, call.input)
        approver = decision.by if (call.requires_approval and decision) else None
        self.after_tool(call, outcome, approver)
        self._emit(
            AgentEvent(kind="tool_result", name=call.name, is_error=outcome.is_error, detail=outcome.content[:200])
        )
        return outcome, approver

    def _run_calls(
        self, calls: list[ToolCall], decisions: Mapping[str, Decision], records: list[ToolRecord]
    ) -> list[dict[str, Any]]:
        """Run every call of one turn (in parallel when all are parallel-safe); results keep call order."""
        safe = all((t := self.tools.get(c.name)) is None or t.parallel_safe for c in calls)
        if len(calls) > 1 and safe:
            with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(calls))) as pool:
                outcomes = list(pool.map(lambda c: self._run_one(c, decisions.get(c.id)), calls))
        else:
            outcomes = [self._run_one(c, decisions.get(c.id)) for c in calls]
        blocks = []
        for call, (outcome, approver) in zip(calls, outcomes, strict=True):
            records.append(
                ToolRecord(
                    id=call.id,
                    name=call.name,
                    input=call.input,
                    is_error=outcome.is_error,
                    chars=len(outcome.content),
                    approved_by=approver,
                )
            )
            blocks.append(_result_block(call, outcome))
        return blocks
