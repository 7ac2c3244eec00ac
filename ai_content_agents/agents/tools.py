"""Tools are plain typed Python functions; this module turns them into Claude tool definitions.

WHY our own (rather than the SDK's beta `@beta_tool`): we need a per-tool `requires_approval`
flag, fixed and sanitised error texts (the SDK sends `repr(exc)` to the model, which can leak
URLs with signatures or tokens), and compact result serialisation. The schema still comes from
type hints and the docstring through pydantic, and arguments are validated before the call.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .. import redact as _redact
from .fence import fence_json

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 12_000  # a hard cap on one tool result; tools are expected to stay far below it


class ToolFailure(Exception):
    """Raise inside a tool to send `message` to the model as-is (it must be safe: no secrets, no repr)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolOutcome(BaseModel):
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    requires_approval: bool = False
    parallel_safe: bool = True
    untrusted: bool = False  # its results carry scraped strings: they reach the model fenced whole (fence_json)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        requires_approval: bool = False,
        parallel_safe: bool = True,
        untrusted: bool = False,
    ) -> Tool:
        """Derive the name, description and argument model from the signature and the docstring."""
        doc = docstring_parser.parse(inspect.getdoc(fn) or "")
        param_docs = {p.arg_name: (p.description or "").strip() for p in doc.params}
        hints = get_type_hints(fn, include_extras=True)
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(fn).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {fn.__name__}: *args/**kwargs are not allowed")
            annotation = hints.get(pname, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (annotation, Field(default, description=param_docs.get(pname) or None))
        tool_name = name or fn.__name__
        model = create_model(
            f"{tool_name}_args", __config__=ConfigDict(extra="forbid"), **fields
        )
        joiner = "\n\n" if doc.blank_after_short_description else " "
        description = joiner.join(p for p in (doc.short_description, doc.long_description) if p)
        return cls(
            name=tool_name,
            description=description or tool_name,
            fn=fn,
            args_model=model,
            requires_approval=requires_approval,
            parallel_safe=parallel_safe,
            untrusted=untrusted,
        )

    def input_schema(self) -> dict[str, Any]:
        schema = _strip_titles(self.args_model.model_json_schema())
        schema.setdefault("properties", {})
        schema["additionalProperties"] = False
        return schema

    def param(self) -> dict[str, Any]:
        """The `ToolParam` dict sent to the Messages API."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema()}

    def validate(self, raw: object) -> dict[str, Any]:
        """Validated keyword arguments; raises pydantic.ValidationError on bad input."""
        model = self.args_model.model_validate(raw if raw is not None else {})
        return {name: getattr(model, name) for name in type(model).model_fields}

    def call(self, raw: object) -> ToolOutcome:
        """Validate, run and serialise. Never raises: failures become a short, fixed `is_error` text."""
        try:
            kwargs = self.validate(raw)
        except ValidationError as exc:
            return ToolOutcome(content=validation_message(exc), is_error=True)
        try:
            result = self.fn(**kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the model as a safe message
            log.warning("tool %s failed: %s: %s", self.name, type(exc).__name__, redact(str(exc)))
            return ToolOutcome(content=safe_error(exc), is_error=True)
        content = serialise(result)
        if self.untrusted:
            content = fence_json(content, source="scraped", item_id=self.name)
        return ToolOutcome(content=content)


def tool(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, requires_approval: bool = False
) -> Any:
    """Decorator form of `Tool.from_function`."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return Tool.from_function(f, name=name, requires_approval=requires_approval)

    return wrap(fn) if fn is not None else wrap


class ToolRegistry:
    """The tools one agent may call, by name. Unknown names are answered, never raised."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            if t.name in self._tools:
                raise ValueError(f"duplicate tool name {t.name!r}")
            self._tools[t.name] = t

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def params(self, *, cache: bool = False) -> list[dict[str, Any]]:
        """Tool definitions; with `cache`, a cache breakpoint after the last one caches the whole list."""
        out = [t.param() for t in self._tools.values()]
        if cache and out:
            out[-1] = {**out[-1], "cache_control": {"type": "ephemeral"}}
        return out

    def run(self, name: str, raw: object) -> ToolOutcome:
        t = self._tools.get(name)
        if t is None:
            shown = re.sub(r"[^A-Za-z0-9_\-]", "", str(name))[:64]
            return ToolOutcome(
                content=f"unknown tool '{shown}'; available tools: {', '.join(self._tools)}", is_error=True
            )
        return t.call(raw)


# --- serialisation -----------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def serialise(value: Any) -> str:
    """Compact JSON (no spaces, no nulls from models); strings pass through. Capped at MAX_RESULT_CHARS."""
    text = value if isinstance(value, str) else json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "…(truncated)"
    return text


def _strip_titles(node: Any) -> Any:
    """pydantic adds a `title` to every property; they cost tokens and say nothing the name does not."""
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


# --- safe error texts --------------------------------------------------------------------------
def validation_message(exc: ValidationError) -> str:
    """Which argument was wrong and why, without echoing the input values back."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "(arguments)"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid arguments: " + "; ".join(parts)


def _shop_error_text(exc: Exception) -> str | None:
    try:
        from ..integrations.tiktok_shop import errors as shop_errors
    except ImportError:  # pragma: no cover - the integration is part of the package
        return None
    if not isinstance(exc, shop_errors.TikTokShopError):
        return None
    table: list[tuple[type[Exception], str]] = [
        (shop_errors.ShopNotConfigured, "TikTok Shop is not configured for this workspace"),
        (shop_errors.ShopNotAuthorized, "TikTok Shop is not authorised; a person must run `shop auth-url`"),
        (shop_errors.ShopSelectionError, "no TikTok Shop is selected; a person must choose one"),
        (shop_errors.RateLimitedError, "TikTok Shop rate limit reached; try again later"),
        (shop_errors.NotFoundError, "not found in this shop"),
        (shop_errors.ScopeError, "the shop app lacks permission for this data"),
        (shop_errors.AuthError, "TikTok Shop authorisation failed"),
        (shop_errors.ServerError, "TikTok Shop is temporarily unavailable"),
    ]
    for cls, text in table:
        if isinstance(exc, cls):
            return text
    code = getattr(exc, "code", None)
    return f"TikTok Shop request failed (code {code})" if code else "TikTok Shop request failed"


def safe_error(exc: Exception) -> str:
    """A short fixed text per exception type. Never `repr(exc)`, never the exception's own message
    (it may hold a signed URL or a token) except for `ToolFailure`, whose text is written to be safe."""
    if isinstance(exc, ToolFailure):
        return exc.message[:500]
    shop = _shop_error_text(exc)
    if shop is not None:
        return shop
    if isinstance(exc, TimeoutError):
        return "the tool timed out"
    if isinstance(exc, (ConnectionError, OSError)):
        return "an upstream service could not be reached"
    if isinstance(exc, (KeyError, LookupError)):
        return "not found"
    if isinstance(exc, ValueError):
        return "the tool could not use these arguments"
    return "the tool failed with an internal error"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Text safe to log: the project's one redaction (`ai_content_agents.redact`): every known secret in any
    encoding and fragments of it, query strings, bearer tokens and `key=value` secrets."""
    return _redact.redact(text, secrets)
