"""JSON over HTTP for the requests-based sources (Reddit, YouTube), with bounded, polite retries.

One place decides what is retried (429, 5xx, timeouts, dropped connections), how long to wait
(the server's Retry-After / x-ratelimit-reset, capped), and how a failure reads: one line, naming
the service and the status, never the URL's query string (YouTube puts its key there) or a header.
A refused connection, a failed DNS lookup or an unreachable network fails at once (`SourceUnreachable`):
it does not heal in a retry's wait, and a user without network should not wait for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from ..netfail import unreachable_reason
from .base import SourceError, SourceUnreachable


class _Retryable(Exception):
    """A transient failure worth another attempt; carries the server's requested wait, if any."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


def _header_wait(response: requests.Response) -> float | None:
    for name in ("Retry-After", "x-ratelimit-reset"):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return None


def _make_wait(max_wait_s: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            return min(exc.wait_s, max_wait_s)
        return min(0.5 * 2 ** (state.attempt_number - 1), max_wait_s)

    return wait


def _looks_like_html(response: requests.Response) -> bool:
    ctype = response.headers.get("Content-Type", "").lower()
    head = response.content[:200].lstrip().lower()
    return "html" in ctype or head.startswith(b"<!doctype") or head.startswith(b"<html")


def _api_reason(response: requests.Response) -> str:
    """A short, secret-free reason from a JSON error body (YouTube and Reddit both use `error`)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            errors = err.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("reason"):
                return str(errors[0]["reason"])[:80]
            if err.get("status"):
                return str(err["status"])[:80]
        if isinstance(err, str):
            return err[:80]
        if isinstance(body.get("message"), str):
            return body["message"][:80]
    return ""


def request_json(
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
) -> Any:
    """Send one request (retrying transient failures) and return the decoded JSON body.

    Raises SourceError("<service>: <what> ...") on anything else. `what` names the call without
    secrets ("token", "r/shopify top", "search.list"), because URLs may carry keys.
    """

    def attempt() -> Any:
        try:
            response = session.request(
                method, url, params=params, data=data, auth=auth, headers=headers, timeout=timeout_s
            )
        except requests.Timeout as exc:
            raise _Retryable(f"timed out after {timeout_s:g}s") from exc
        except requests.ConnectionError as exc:
            unreachable = unreachable_reason(exc)
            if unreachable:
                raise SourceUnreachable(f"{service}: {what} failed: {unreachable} (not retried)") from None
            raise _Retryable("connection failed") from exc
        except requests.RequestException as exc:
            raise SourceError(f"{service}: {what} failed ({type(exc).__name__})") from None
        status = response.status_code
        if status == 429:
            raise _Retryable("rate limited (429)", _header_wait(response))
        if status >= 500:
            raise _Retryable(f"server error ({status})", _header_wait(response))
        if status in (401, 403):
            reason = _api_reason(response)
            label = "unauthorized" if status == 401 else "forbidden"
            hint = f": {reason}" if reason else ""
            raise SourceError(f"{service}: {what} {label} ({status}){hint}; check the credentials or access")
        if status >= 400:
            reason = _api_reason(response)
            raise SourceError(f"{service}: {what} failed with HTTP {status}" + (f": {reason}" if reason else ""))
        if _looks_like_html(response):
            raise SourceError(f"{service}: {what} returned an HTML page instead of JSON (HTTP {status})")
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            raise SourceError(f"{service}: {what} returned a body that is not JSON (HTTP {status})") from None

    retrying = Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=_make_wait(max_wait_s),
        retry=retry_if_exception_type(_Retryable),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise SourceError(f"{service}: {what} {exc.reason} after {retries + 1} attempts") from None
