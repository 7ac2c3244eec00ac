"""JSON over HTTP for the requests-based sources (Reddit, YouTube), with bounded, polite retries.

One place decides what is retried (429, 5xx, timeouts, dropped connections), how long to wait
(the server's Retry-After / x-ratelimit-reset, capped), and how a failure reads: one line, naming
the service and the status, never the URL's query string (YouTube puts its key there) or a header.
A refused connection, a failed DNS lookup or an unreachable network fails at once (`SourceUnreachable`):
it does not heal in a retry's wait, and a user without network should not wait for it.
A server that asks for a longer wait than the cap is reported as rate limited at once, not waited on.

Bounded: a body larger than `max_bytes` is not read (the call fails with a line that says so), and no
request or retry wait runs past the source's deadline (`base.progress().remaining()`).
Every reason taken from a server's error body goes through `redact.redact` before it is cut short.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from ..netfail import unreachable_reason
from ..redact import redact
from .base import SourceDeadline, SourceError, SourceUnreachable, progress

CHUNK = 64 * 1024


class _Retryable(Exception):
    """A transient failure worth another attempt; carries the server's requested wait, if any."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


class ResponseTooLarge(SourceError):
    """A body over the size cap: not read, not retried."""


def _header_wait(response: requests.Response) -> float | None:
    for name in ("Retry-After", "x-ratelimit-reset"):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            wait = float(value)
        except ValueError:
            continue
        if wait == wait:  # not NaN
            return max(0.0, wait)
    return None


def _make_wait(max_wait_s: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            return min(exc.wait_s, max_wait_s)
        return min(0.5 * 2 ** (state.attempt_number - 1), max_wait_s)

    return wait


def _looks_like_html(response: requests.Response, body: bytes) -> bool:
    ctype = response.headers.get("Content-Type", "").lower()
    head = body[:200].lstrip().lower()
    return "html" in ctype or head.startswith(b"<!doctype") or head.startswith(b"<html")


def one_line(text: str, limit: int = 80) -> str:
    """Redacted first, then whitespace collapsed and cut (a cut secret is harder to recognise)."""
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _api_reason(body: bytes) -> str:
    """A short, secret-free reason from a JSON error body (YouTube and Reddit both use `error`)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            errors = err.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("reason"):
                return one_line(str(errors[0]["reason"]))
            if err.get("status"):
                return one_line(str(err["status"]))
        if isinstance(err, str):
            return one_line(err)
        if isinstance(data.get("message"), str):
            return one_line(data["message"])
    return ""


def _read(response: requests.Response, max_bytes: int | None, service: str, what: str) -> bytes:
    """The body, or `ResponseTooLarge` as soon as it passes `max_bytes` (declared or counted)."""
    limit = f"{max_bytes / 1_000_000:g} MB (AICA_MAX_RESPONSE_MB)" if max_bytes else ""
    declared = response.headers.get("Content-Length", "")
    if max_bytes and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise ResponseTooLarge(f"{service}: {what} sent {int(declared) / 1_000_000:.1f} MB, more than {limit}; not read")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(CHUNK):
        total += len(chunk)
        if max_bytes and total > max_bytes:
            response.close()
            raise ResponseTooLarge(f"{service}: {what} sent more than {limit}; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def request_json(  # noqa: C901 - one request with every retry, wait and cap rule of the module docstring, in order
    session: requests.Session,
    method: str,
    url: str,
    *,
    service: str,
    what: str,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
    retries: int = 3,
    max_wait_s: float = 30.0,
    max_bytes: int | None = None,
) -> Any:
    """Send one request (retrying transient failures) and return the decoded JSON body.

    Raises SourceError("<service>: <what> ...") on anything else. `what` names the call without
    secrets ("token", "r/shopify top", "search.list"), because URLs may carry keys.
    """
    budget = progress()

    def attempt() -> Any:
        remaining = budget.remaining()
        if remaining is not None and remaining <= 0:
            raise SourceDeadline(f"{service}: {what} not sent: the source's time is up")
        timeout = timeout_s if remaining is None else max(0.05, min(timeout_s, remaining))
        try:
            response = session.request(
                method, url, params=params, data=data, auth=auth, headers=headers, timeout=timeout, stream=True
            )
        except requests.Timeout as exc:
            raise _Retryable(f"timed out after {timeout:g}s") from exc
        except requests.ConnectionError as exc:
            unreachable = unreachable_reason(exc)
            if unreachable:
                raise SourceUnreachable(f"{service}: {what} failed: {unreachable} (not retried)") from None
            raise _Retryable("connection failed") from exc
        except requests.RequestException as exc:
            raise SourceError(f"{service}: {what} failed ({type(exc).__name__})") from None
        with response:
            status = response.status_code
            if status == 429 or status >= 500:
                wait = _header_wait(response)
                label = "rate limited (429)" if status == 429 else f"server error ({status})"
                if wait is not None and wait > max_wait_s:
                    raise SourceError(
                        f"{service}: {what} {label}; the server asks to wait {wait:g} s, longer than "
                        f"AICA_HTTP_RETRY_MAX_WAIT_S={max_wait_s:g}; not retried"
                    )
                raise _Retryable(label, wait)
            try:
                body = _read(response, max_bytes, service, what)
            except requests.RequestException as exc:
                raise _Retryable("the response was cut off") from exc
        if status in (401, 403):
            reason = _api_reason(body)
            label = "unauthorized" if status == 401 else "forbidden"
            hint = f": {reason}" if reason else ""
            raise SourceError(f"{service}: {what} {label} ({status}){hint}; check the credentials or access")
        if status >= 400:
            reason = _api_reason(body)
            raise SourceError(f"{service}: {what} failed with HTTP {status}" + (f": {reason}" if reason else ""))
        if _looks_like_html(response, body):
            raise SourceError(f"{service}: {what} returned an HTML page instead of JSON (HTTP {status})")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise SourceError(f"{service}: {what} returned a body that is not JSON (HTTP {status})") from None

    def before_wait(state: RetryCallState) -> None:
        remaining = budget.remaining()
        wait = state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        if remaining is not None and wait >= remaining and isinstance(exc, _Retryable):
            raise SourceDeadline(f"{service}: {what} {exc.reason}; no time left in the source's budget to retry")

    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=_make_wait(max_wait_s),
        retry=retry_if_exception_type(_Retryable),
        before_sleep=before_wait,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise SourceError(f"{service}: {what} {exc.reason} after {retries + 1} attempts") from None
