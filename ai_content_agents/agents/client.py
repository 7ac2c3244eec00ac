"""The model client as the agents see it: the part of `anthropic.Anthropic` they call, as protocols.

WHY protocols of read-only properties: `anthropic.Anthropic()` and the offline model must both be
accepted where a `ModelClient` is expected, and mypy checks that. The SDK's `Message` has more fields
and narrower types (Literal stop reasons, a union of content blocks) than the offline model's; read-only
members are covariant, so both fit without either pretending to be the other. `create` takes
`*args: Any, **kwargs: Any`, which mypy treats like `...`: the SDK's keyword-only, overloaded `create`
fits it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol


class ReplyBlock(Protocol):
    """One content block of a reply (text, tool_use, thinking, …); read by `type` first."""

    @property
    def type(self) -> str: ...

    def model_dump(self, *, mode: str = ..., exclude_none: bool = ...) -> dict[str, Any]: ...


class ModelReply(Protocol):
    """What the tool loop and the writer read of one `messages.create` reply."""

    @property
    def id(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def content(self) -> Sequence[ReplyBlock]: ...

    @property
    def stop_reason(self) -> str | None: ...

    @property
    def usage(self) -> object: ...  # read field by field (RunUsage.add); the SDK's Usage or the offline one


class ReplyStream(Protocol):
    """The SDK's `MessageStream`, as far as the loop uses it."""

    @property
    def text_stream(self) -> Iterator[str]: ...

    def get_final_message(self) -> ModelReply: ...


class ReplyStreamManager(Protocol):
    def __enter__(self) -> ReplyStream: ...

    def __exit__(self, *exc: Any) -> object: ...


class MessagesAPI(Protocol):
    def create(self, *args: Any, **kwargs: Any) -> ModelReply: ...

    def stream(self, *args: Any, **kwargs: Any) -> ReplyStreamManager: ...


class ModelClient(Protocol):
    """The one interface the agents need: `anthropic.Anthropic` and `OfflineModel` both fit (mypy-checked)."""

    @property
    def messages(self) -> MessagesAPI: ...
