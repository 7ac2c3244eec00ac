"""BaseAgent: our own tool loop on `client.messages.create` (reference claude_agents.md §4–§5).

WHY not the SDK's beta tool runner: it uses server-held threads by default (compatible servers
silently lose history), has no approval gate for function tools, no forced final answer at the
iteration limit, and sends `repr(exc)` to the model. This loop works the same against the real SDK
client, any Anthropic-compatible server (`ANTHROPIC_BASE_URL`) and the offline model, because all
three fit `client.ModelClient` (`.messages.create(**kwargs)` and `.messages.stream(**kwargs)`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from ..config import Settings, secret
from .api import STREAM_ABOVE_MAX_TOKENS, APIFailure, RetryPolicy
from .client import ModelClient as ModelClient
from .client import ModelReply
from .tools import ToolOutcome, ToolRegistry
from .usage import RunUsage

if TYPE_CHECKING:
    from .offline import OfflinePlan

log = logging.getLogger(__name__)

FINAL_NUDGE = (
    "You have reached the tool-call limit for this request. Give your final answer now, using only what "
    "the tools already returned. Do not call any more tools."
)


class ModelDeprecated(ValueError):
    """A configured model is on anthropic's deprecation list: fail at startup, not mid-run."""


def deprecated_models() -> dict[str, str]:
    """Model id → end-of-life date, from the installed SDK (both of its lists)."""
    out: dict[str, str] = {}
    try:
        from anthropic._data import DEPRECATED_MODELS as data_list

        out.update(data_list)
    except ImportError:  # pragma: no cover - older SDK layout
        pass
    import importlib

    # older SDKs keep a second list in the messages module (not re-exported: read it as an attribute)
    messages_module = importlib.import_module("anthropic.resources.messages.messages")
    out.update(getattr(messages_module, "DEPRECATED_MODELS", {}))
    return out


def check_models(settings: Settings, *, offline: bool = False) -> None:
    if offline and (settings.writer_model, settings.fast_model) == (
        Settings.model_fields["writer_model"].default, Settings.model_fields["fast_model"].default
    ):
        return  # keyless with the default (current) models: skip importing the SDK (over 2 s) for its lists
    dead = deprecated_models()
    for setting, model in (("AICA_WRITER_MODEL", settings.writer_model), ("AICA_FAST_MODEL", settings.fast_model)):
        if model in dead:
            raise ModelDeprecated(
                f"model {model!r} is deprecated by Anthropic and reaches end of life on {dead[model]}; "
                f"set {setting} to a current model (e.g. claude-sonnet-5-5 or claude-haiku-5-5)"
            )


def make_client(settings: Settings) -> ModelClient:
    """The real SDK client when a key (or a compatible server URL) is set, else the offline model."""
    key = secret(settings.anthropic_api_key)
    base_url = settings.anthropic_base_url
    check_models(settings, offline=not key and not base_url)
    if not key and not base_url:
        from .offline import OfflineModel

        return OfflineModel()
    import anthropic

    # a local compatible server (Ollama, vLLM) ignores the key; the SDK still needs one to build headers.
    # max_retries=0: BaseAgent retries (RetryPolicy), capping Retry-After and never stacking on a proxy's retries
    return anthropic.Anthropic(
        api_key=key or "no-key",
        base_url=base_url or None,
        timeout=anthropic.Timeout(settings.anthropic_timeout_s, connect=settings.anthropic_connect_timeout_s),
        max_retries=0,
    )


def checked_reply(msg: object) -> ModelReply:
    """`msg` if it is a usable message. Given a 200 reply that is not JSON (a proxy's HTML login page), the SDK
    returns the text, not a Message: that is one clear APIFailure, not an AttributeError later."""
    content = getattr(msg, "content", None)
    if isinstance(content, list) and hasattr(msg, "stop_reason"):
        return msg  # type: ignore[return-value]
    head = msg.lstrip()[:15].lower() if isinstance(msg, str) else ""
    what = "an HTML page" if head.startswith(("<!doctype", "<html")) else f"a {type(msg).__name__}"
    raise APIFailure(
        f"the model API answered with {what} instead of a message; "
        "is ANTHROPIC_BASE_URL an Anthropic-compatible /v1/messages endpoint?"
    )


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
    invalid: str = ""  # why the model's input cannot be used (e.g. not a JSON object): answered as an error


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
    kind: Literal["tool_call", "tool_result", "approval_needed", "pause_turn", "forced_final", "retry", "turn_text"]
    name: str = ""
    input: dict[str, Any] = Field(default_factory=dict)
    is_error: bool = False
    detail: str = ""


# --- history helpers (pure) -------------------------------------------------------------------
def assistant_param(msg: ModelReply) -> dict[str, Any]:
    """`msg.to_param()` as plain JSON-able dicts, so history can be serialised and resent."""
    return {"role": "assistant", "content": [b.model_dump(mode="json", exclude_none=True) for b in msg.content]}


def text_of(msg: ModelReply) -> str:
    return "".join(getattr(b, "text", "") for b in msg.content if b.type == "text")


def tool_uses(msg: ModelReply) -> list[Any]:
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


def with_history_breakpoint(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A cache breakpoint on the last block of the growing history, so each turn re-reads the earlier
    turns from the cache instead of paying for them again. The stored history is not changed."""
    if not messages or messages[-1].get("role") != "user" or isinstance(messages[-1].get("content"), str) \
            or not messages[-1].get("content"):
        return messages  # e.g. a pause_turn resend: the assistant's partial turn goes back exactly as it was
    last = dict(messages[-1])
    blocks = [dict(b) for b in last["content"]]
    if blocks[-1].get("type") in ("text", "tool_result", "tool_use", "image", "document"):
        blocks[-1]["cache_control"] = {"type": "ephemeral"}
    last["content"] = blocks
    return [*messages[:-1], last]


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
        retry: RetryPolicy | None = None,
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
        self.retry = retry or RetryPolicy()
        self.offline = is_offline(client)
        plan = self.offline_plan() if self.offline else None
        if plan is not None:  # the offline model follows this agent's plan
            from .offline import OfflineModel

            if isinstance(client, OfflineModel):
                self.client = client.with_plan(plan)

    def offline_plan(self) -> OfflinePlan | None:
        """This agent's plan for the offline model (next to its tools); None: the model's default."""
        return None

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
            kwargs["messages"] = with_history_breakpoint(messages) if cache else messages
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

    def _call(self, kwargs: dict[str, Any]) -> ModelReply:
        """One model call, bounded: retried per `self.retry` (never past its longest wait), streamed when
        text is shown live or max_tokens is large; every failure becomes an APIFailure with one clear line."""
        from .api import is_api_error

        streaming = (self.on_text is not None or kwargs.get("max_tokens", 0) > STREAM_ABOVE_MAX_TOKENS) and hasattr(
            self.client.messages, "stream"
        )
        attempt = 0
        while True:
            printed = False
            try:
                if streaming:
                    with self.client.messages.stream(**kwargs) as stream:
                        for chunk in stream.text_stream:
                            if self.on_text is not None:
                                self.on_text(chunk)
                                printed = True
                        msg = stream.get_final_message()
                else:
                    msg = self.client.messages.create(**kwargs)
                msg = checked_reply(msg)
                break
            except APIFailure:
                raise
            except Exception as exc:
                if not is_api_error(exc):
                    if streaming:
                        # e.g. SSE without `event:` lines, or a streamed tool input that is not valid JSON
                        log.warning("%s: unreadable stream: %s", self.name, type(exc).__name__)
                        raise APIFailure(
                            f"the server's answer stream could not be read ({type(exc).__name__}); "
                            "is ANTHROPIC_BASE_URL an Anthropic-compatible /v1/messages endpoint?"
                        ) from None
                    raise
                log.warning("%s: model call failed (attempt %d): %s", self.name, attempt + 1, type(exc).__name__)
                wait = self.retry.wait_or_raise(exc, attempt, printed)
                self._emit(AgentEvent(kind="retry", detail=f"{wait:.1f}"))
                if wait > 0:
                    self.retry.pause(wait)
                attempt += 1
        # priced by the configured id (a server may report a .gguf path); the offline model prices itself
        priced_as = (msg.model or self.model) if self.offline else self.model
        self.usage.add(self.name, priced_as, msg.usage, served_by=msg.model)
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
                        input=b.input if isinstance(b.input, dict) else {},
                        invalid="" if isinstance(b.input, dict) or b.input is None else
                        f"the tool input must be a JSON object, not {type(b.input).__name__}",
                        requires_approval=bool((t := self.tools.get(b.name)) and t.requires_approval),
                    )
                    for b in tool_uses(msg)
                ]
                if text_of(msg).strip():  # text beside tool calls is progress, never part of the answer
                    self._emit(AgentEvent(kind="turn_text", detail=text_of(msg)))
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
        self, msg: ModelReply, messages: list[dict[str, Any]], iterations: int, records: list[ToolRecord]
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
            if not result.text.strip():
                result.error = "the model returned an empty answer"
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
        if not text_of(msg).strip() and ("tools" in kwargs):
            # some servers ignore tool_choice none (llama.cpp) and answer with a tool call only:
            # once more with the tools removed and the history flattened to text
            kwargs = {k: v for k, v in kwargs.items() if k not in ("tools", "tool_choice")}
            kwargs["messages"] = with_nudge(flatten_tool_blocks(messages))
            msg = self._call(kwargs)
        empty = not text_of(msg).strip()
        return AgentResult(
            error="the forced final answer came back without text" if empty else None,
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
        if call.invalid:
            self._emit(AgentEvent(kind="tool_result", name=call.name, is_error=True, detail=call.invalid))
            return ToolOutcome(content=call.invalid, is_error=True), None
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
