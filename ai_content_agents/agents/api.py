"""Bounded, explained use of the model API: our own retry policy (the SDK's is switched off so retries
never stack and a long Retry-After never blocks silently), and one clear line for every failure.

Every failure line carries the server's own message (redacted of secrets) and, for a 400/404, a hint
about the model name and the AICA_SUPPORTS_* flags.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from .tools import redact

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
RETRYABLE_TYPES = frozenset({"overloaded_error", "rate_limit_error", "api_error", "timeout_error"})
# the SDK refuses non-streaming calls it expects to run longer than 10 minutes (max_tokens above ~21,333)
STREAM_ABOVE_MAX_TOKENS = 16_000


class APIFailure(Exception):
    """A model API problem, already described in one line for a person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def is_api_error(exc: BaseException) -> bool:
    """An SDK API/connection error or our own APIFailure (without importing the SDK when it is not loaded)."""
    if isinstance(exc, APIFailure):
        return True
    anthropic = sys.modules.get("anthropic")
    return anthropic is not None and isinstance(exc, anthropic.APIError)


def _body_error(exc: BaseException) -> tuple[str, str]:
    """(error type, message) from an SDK error's body, as the server sent them."""
    body: Any = getattr(exc, "body", None)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return "", body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            kind = str(err.get("type") or "")
            kind = "" if kind.lower() in ("none", "null", "error") else kind
            return kind, str(err.get("message") or err.get("detail") or json.dumps(err)[:300])
        return "", str(err)
    msg = getattr(exc, "message", None) or str(exc)
    return "", str(msg)


def server_message(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    kind, msg = _body_error(exc)
    text = f"{kind}: {msg}" if kind and kind not in msg else msg
    return redact(" ".join(text.split()), secrets)[:300]


def retry_after_s(exc: BaseException) -> float | None:
    """The wait the server asked for (retry-after-ms, then retry-after in seconds), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return int(status) if isinstance(status, int) else None


def mid_stream(exc: BaseException) -> bool:
    """An `event: error` frame inside a 200 stream (the SDK raises it as an APIStatusError with status 200)."""
    return _status(exc) == 200


def hint(status: int | None, settings: Settings | None) -> str:
    compatible = bool(settings and settings.anthropic_base_url)
    model = settings.writer_model if settings else "the model"
    if status in (400, 404, 422):
        out = f"check that the server knows the model name {model!r} (AICA_WRITER_MODEL / AICA_FAST_MODEL)"
        if compatible:
            out += ("; a compatible server may lack a feature: set AICA_SUPPORTS_TOOL_CHOICE, "
                    "AICA_SUPPORTS_CACHE_CONTROL, AICA_SUPPORTS_STRUCTURED_OUTPUT or AICA_SUPPORTS_BATCHES to false "
                    "as it needs")
        return out
    if status in (401, 403):
        return "check ANTHROPIC_API_KEY (or the proxy's key)"
    return ""


def describe(exc: BaseException, settings: Settings | None = None) -> str:
    """One line for any API, connection or stream failure: what happened, the server's words, a hint."""
    import anthropic

    secrets = tuple(s for s in (_key(settings),) if s)
    if isinstance(exc, APIFailure):
        return str(exc)
    if isinstance(exc, anthropic.APITimeoutError):
        return "the model API did not answer in time (AICA_ANTHROPIC_TIMEOUT_S); nothing was changed"
    if isinstance(exc, anthropic.APIConnectionError):
        return "could not reach the model API (check ANTHROPIC_BASE_URL / network); nothing was changed"
    status = _status(exc)
    said = server_message(exc, secrets)
    if mid_stream(exc):
        return f"the model's answer stream broke off with an error from the server: {said}"
    line = f"the model API returned HTTP {status}" + (f": {said}" if said else "")
    extra = hint(status, settings)
    return line + (f" — {extra}" if extra else "")


def _key(settings: Settings | None) -> str:
    if settings is None or settings.anthropic_api_key is None:
        return ""
    return settings.anthropic_api_key.get_secret_value()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass
class RetryPolicy:
    """How often and how long a model call is retried. Waits longer than `max_wait_s` are not waited."""

    max_retries: int = 2
    max_wait_s: float = 30.0
    settings: Settings | None = None
    sleep: Callable[[float], None] | None = None  # default: time.sleep (looked up when used, so tests can patch)

    @classmethod
    def from_settings(cls, settings: Settings, sleep: Callable[[float], None] | None = None) -> RetryPolicy:
        return cls(settings.anthropic_max_retries, settings.anthropic_max_retry_after_s, settings, sleep)

    def pause(self, seconds: float) -> None:
        (self.sleep or _sleep)(seconds)

    def wait_or_raise(self, exc: BaseException, attempt: int, printed: bool) -> float:
        """The seconds to wait before retrying `exc`, or raise APIFailure (one clear line)."""
        import anthropic

        line = describe(exc, self.settings)
        if mid_stream(exc):
            kind, _ = _body_error(exc)
            if printed or attempt >= 1 or (kind and kind not in RETRYABLE_TYPES):
                raise APIFailure(line, status=200) from None
            return 0.0  # retried once, only when nothing of the answer was shown yet
        if printed:
            raise APIFailure(line + " (after part of the answer was shown)", status=_status(exc)) from None
        retryable = isinstance(exc, anthropic.APIConnectionError) or _status(exc) in RETRYABLE_STATUS
        if not retryable or attempt >= self.max_retries:
            tries = f" (after {attempt + 1} tries)" if retryable and attempt else ""
            raise APIFailure(line + tries, status=_status(exc)) from None
        asked = retry_after_s(exc)
        if asked is not None and asked > self.max_wait_s:
            raise APIFailure(
                f"{line} — the server asked to wait {asked:.0f} s before retrying, longer than "
                f"AICA_ANTHROPIC_MAX_RETRY_AFTER_S={self.max_wait_s:.0f}; try again later",
                status=_status(exc),
            ) from None
        return asked if asked is not None else min(self.max_wait_s, 0.5 * 2**attempt)
