"""The one way this project runs an Apify actor: bounded in time, memory and money, and honest about the result.

apify-client 3.x does not raise when a run fails: FAILED / TIMED-OUT / ABORTED come back as a normal
`Run`. This helper turns those into `SourceError`s, except that items a TIMED-OUT or ABORTED run
already pushed are returned as partial data. The HTTPX2 transport is used (not the default impit)
so recorded-HTTP tests (vcrpy) can see the traffic; retries and timeouts stay the client's own,
except that a refused connection, a failed DNS lookup or an unreachable network is not retried
(apify-client retries every httpx2 transport error; those do not heal in a retry's wait).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx2
from apify_client import ApifyClient
from apify_client.errors import ApifyApiError, ApifyClientError
from apify_client.http_clients import Httpx2HttpClient

from ..config import Settings, secret
from ..models import FetchResult
from ..netfail import unreachable_reason
from ..redact import redact
from .base import SourceError, SourceUnreachable
from .clean import clean_raw

_PARTIAL_OK = {"TIMED-OUT", "ABORTED"}
_WAIT_MARGIN = timedelta(seconds=60)
_API_ERRORS = {
    400: "bad request (400)",
    401: "unauthorized (401): check APIFY_TOKEN",
    402: "payment required (402): check the Apify plan or credit",
    403: "forbidden (403)",
    404: "not found (404)",
    429: "rate limited (429) after retries",
}


PAGE_ITEMS = 250  # dataset rows per request: keeps each response well under the size cap


def _one_line(text: object, limit: int = 160) -> str:
    """Redacted before it is cut (a cut secret is harder to recognise), tags and whitespace collapsed."""
    line = re.sub(r"\s+", " ", redact(str(text or ""))).strip()
    line = re.sub(r"<[^>]+>", "", line).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _scrub(text: str, token: str | None) -> str:
    return redact(text, [token])


class ResponseTooLarge(Exception):
    """A response body over AICA_MAX_RESPONSE_MB: not read, not retried."""


class FailFastHttpClient(Httpx2HttpClient):
    """apify-client's HTTPX2 transport, minus retries of failures that cannot heal (see netfail.py), and
    with a cap on the size of a response body (read as a stream, abandoned as soon as it passes the cap)."""

    def __init__(self, *, max_response_bytes: int | None = None, max_total_bytes: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.max_response_bytes = max_response_bytes
        self.max_total_bytes = max_total_bytes  # all responses together (a dataset that never ends)
        self.total_bytes = 0

    def is_retryable_transport_error(self, exc: Exception) -> bool:
        return super().is_retryable_transport_error(exc) and unreachable_reason(exc) is None

    def send_request(self, *, stream: bool, **kw: Any) -> httpx2.Response:
        response = super().send_request(stream=True, **kw)
        if stream or not self.max_response_bytes:
            if not stream:
                response.read()
            return response
        limit = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        chunks: list[bytes] = []
        total = 0
        try:
            if declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(int(declared))
            for chunk in response.iter_bytes():
                total += len(chunk)
                self.total_bytes += len(chunk)
                if total > limit:
                    raise ResponseTooLarge(total)
                if self.max_total_bytes and self.total_bytes > self.max_total_bytes:
                    raise ResponseTooLarge(self.total_bytes)
                chunks.append(chunk)
        finally:
            response.close()
        response._content = b"".join(chunks)  # what `read()` would have set
        return response


def _too_large(settings: Settings) -> str:
    return (f"a response was larger than {settings.max_response_mb:g} MB (AICA_MAX_RESPONSE_MB), or all of them "
            "together more than one per expected page, and was not read")


def _transport_failure(actor_id: str, what: str, exc: Exception, token: str | None) -> SourceError:
    """One line for a request that raised the HTTP library's own exception (no URL, no token)."""
    unreachable = unreachable_reason(exc)
    if unreachable:
        return SourceUnreachable(f"apify {actor_id}: {what} failed: {unreachable} (not retried)")
    return SourceError(_scrub(f"apify {actor_id}: {what} failed ({type(exc).__name__})", token))


def make_client(settings: Settings) -> ApifyClient:
    """An ApifyClient on the configured API URL, with the configured retries."""
    token = secret(settings.apify_token)
    pages = -(-settings.max_items_per_source // PAGE_ITEMS) + 4  # the dataset's pages, the run's own calls
    http_client = FailFastHttpClient(
        max_response_bytes=int(settings.max_response_mb * 1_000_000),
        max_total_bytes=int(settings.max_response_mb * 1_000_000) * pages,
        token=token,
        max_retries=settings.apify_max_retries,
        min_delay_between_retries=timedelta(milliseconds=500),
        timeout_short=timedelta(seconds=settings.http_timeout_s),
        timeout_medium=timedelta(seconds=settings.http_timeout_s),
        timeout_long=timedelta(seconds=2 * settings.http_timeout_s),
        timeout_max=timedelta(seconds=2 * settings.http_timeout_s),
        user_agent_suffix="ai-content-agents",
    )
    return ApifyClient.with_custom_http_client(
        token=token,
        api_url=settings.apify_api_url,
        api_public_url=settings.apify_api_url,
        http_client=http_client,
    )


def _describe_error(actor_id: str, exc: ApifyClientError, token: str | None) -> str:
    if isinstance(exc, ApifyApiError):
        status = getattr(exc, "status_code", None)
        kind = getattr(exc, "type", None)
        label = _API_ERRORS.get(status or 0) or (f"server error ({status})" if (status or 0) >= 500 else f"HTTP {status}")
        if kind == "actor-not-found" or (status == 404 and not kind):
            label = "actor not found (404)"
        detail = _one_line(getattr(exc, "message", "") or "", 120)
        if detail.lower().startswith("unexpected error"):
            detail = "the API returned a non-JSON error page"
        suffix = f" [{kind}]" if kind else ""
        return _scrub(f"apify {actor_id}: {label}{suffix}" + (f": {detail}" if detail else ""), token)
    return _scrub(f"apify {actor_id}: {type(exc).__name__}: {_one_line(exc, 120)}", token)


def run_actor(
    settings: Settings,
    actor_id: str,
    run_input: dict[str, Any],
    *,
    max_items: int | None = None,
    client: ApifyClient | None = None,
) -> FetchResult:
    """Run `actor_id` with `run_input`, wait for it, and read its default dataset (raw view).

    Raises SourceError (one line, no token) when the run cannot start, ends FAILED, or ends
    TIMED-OUT/ABORTED with nothing pushed. Items from a TIMED-OUT/ABORTED run come back with partial=True.
    """
    token = secret(settings.apify_token)
    if not token:
        raise SourceError("apify: APIFY_TOKEN is not set")
    client = client or make_client(settings)
    run_timeout = timedelta(seconds=settings.apify_run_timeout_s)
    try:
        run = client.actor(actor_id).call(
            run_input=run_input,
            run_timeout=run_timeout,
            wait_duration=run_timeout + _WAIT_MARGIN,
            memory_mbytes=settings.apify_memory_mb,
            max_items=max_items,
            max_total_charge_usd=settings.apify_max_charge_usd,
            logger=None,
            timeout=timedelta(seconds=settings.http_timeout_s),  # the start request; the default has none
        )
    except ApifyClientError as exc:
        raise SourceError(_describe_error(actor_id, exc, token)) from None
    except httpx2.TimeoutException:
        raise SourceError(f"apify {actor_id}: request timed out after {settings.http_timeout_s:g}s") from None
    except ResponseTooLarge:
        raise SourceError(f"apify {actor_id}: {_too_large(settings)}") from None
    except Exception as exc:  # other transport errors surface as the HTTP library's own exceptions
        raise _transport_failure(actor_id, "request", exc, token) from None
    if run is None:
        raise SourceError(f"apify {actor_id}: the run could not be found after it started (call() returned None)")

    status = str(run.status)
    cost = run.usage_total_usd
    message = _one_line(run.status_message or "", 120)
    cut: dict[str, int] = {}
    stopped = ""
    if status == "SUCCEEDED" or status in _PARTIAL_OK:
        items, stopped = _read_items(client, actor_id, run.default_dataset_id, token, settings)
        if len(items) > settings.max_items_per_source:
            cut["rows over the item cap"] = len(items) - settings.max_items_per_source
            items = items[: settings.max_items_per_source]
    elif status == "FAILED":
        raise SourceError(f"apify {actor_id}: run {run.id} ended FAILED" + (f": {message}" if message else ""))
    else:  # still RUNNING / READY after the wait: never block the pipeline past its deadline
        raise SourceError(f"apify {actor_id}: run {run.id} still {status} after waiting {run_timeout + _WAIT_MARGIN}")

    if stopped and not items:
        raise SourceError(f"apify {actor_id}: run {run.id} {status}, but {stopped}")
    if stopped:
        cut["dataset pages not read"] = 1
    if status == "SUCCEEDED":
        note = f"apify run {run.id} SUCCEEDED; {len(items)} items" + (f"; stopped reading: {stopped}" if stopped else "")
        return FetchResult(raw_items=items, cost_usd=cost, note=note, partial=bool(stopped), cut=cut)
    if not items:
        raise SourceError(
            f"apify {actor_id}: run {run.id} ended {status} with no items" + (f": {message}" if message else "")
        )
    return FetchResult(
        raw_items=items,
        partial=True,
        cost_usd=cost,
        cut=cut,
        note=f"apify run {run.id} {status}; {len(items)} items pushed before it stopped",
    )


def _read_items(
    client: ApifyClient, actor_id: str, dataset_id: str, token: str | None, settings: Settings
) -> tuple[list[Any], str]:
    """The run's default dataset in the raw default view (never `view=` / `flatten=`), at most one row past the
    item cap, and why reading stopped early ("" when it did not). Every row is kept, dicts or not: `parse`
    counts what is not an item. A page over the size cap stops the reading; the rows before it are kept."""
    items: list[Any] = []
    limit = settings.max_items_per_source + 1
    longest = max(settings.max_text_chars, settings.max_title_chars, settings.max_field_chars)
    try:
        for item in client.dataset(dataset_id).iterate_items(limit=limit, chunk_size=min(PAGE_ITEMS, limit)):
            items.append(clean_raw(item, longest))  # cut as it arrives: a huge row never stays huge in memory
            if len(items) >= limit:  # a server that ignores `limit` must not make us read on
                break
    except ResponseTooLarge:
        return items, _too_large(settings)
    except ApifyClientError as exc:
        raise SourceError(_describe_error(actor_id, exc, token)) from None
    except httpx2.TimeoutException:
        raise SourceError(f"apify {actor_id}: reading the dataset timed out") from None
    except Exception as exc:
        raise _transport_failure(actor_id, "reading the dataset", exc, token) from None
    return items, ""
