"""Two ways to send many writer requests: one Message Batch (half price, asynchronous), or ordinary calls under a
concurrency limit (servers without batches, the offline model, retries of failed batch entries).

Both report the same `EntryResult` per request (succeeded / errored / expired / canceled), so the caller stores and
reports them alike. The waiting is bounded and injectable: `Poller` takes the clock and the sleep, so a test runs a
day of polling in no time, and a wait that runs out returns (the batch id is stored; the next run resumes it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from ..batch_jobs import EntryResult, Reply
from .api import APIFailure, RetryPolicy, describe, is_api_error, server_message
from .base import ModelClient

log = logging.getLogger(__name__)
T = TypeVar("T")


class BatchState(BaseModel):
    """A batch as last seen: its processing status and the tallies of its entries."""

    batch_id: str
    status: str  # in_progress | canceling | ended
    counts: dict[str, int] = {}
    polls: int = 0
    waited_s: float = 0.0

    @property
    def ended(self) -> bool:
        return self.status == "ended"


@dataclass
class Poller:
    """Backoff between polls: `initial_s`, doubling up to `max_s`; gives up after `max_wait_s` in all."""

    initial_s: float = 10.0
    max_s: float = 300.0
    max_wait_s: float = 3600.0
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)

    def waits(self) -> Iterable[float]:
        """The waits before each next poll, as long as the budget lasts."""
        start, wait = self.clock(), self.initial_s
        while True:
            left = self.max_wait_s - (self.clock() - start)
            if left <= 0:
                return
            yield min(wait, left)
            wait = min(self.max_s, wait * 2)


def _retrying(call: Callable[[], T], retry: RetryPolicy) -> T:
    """One API call under our retry policy; every failure ends as an APIFailure (one clear line)."""
    attempt = 0
    while True:
        try:
            return call()
        except APIFailure:
            raise
        except Exception as exc:
            if not is_api_error(exc):
                raise
            wait = retry.wait_or_raise(exc, attempt, printed=False)
            if wait > 0:
                retry.pause(wait)
            attempt += 1


def _state(batch: Any, polls: int = 0, waited: float = 0.0) -> BatchState:
    counts = batch.request_counts.model_dump() if getattr(batch, "request_counts", None) is not None else {}
    return BatchState(batch_id=batch.id, status=batch.processing_status, counts=counts, polls=polls, waited_s=waited)


def submit(client: ModelClient, requests: list[tuple[str, dict[str, Any]]], retry: RetryPolicy) -> BatchState:
    """Create one Message Batch of (custom_id, Messages API params). Paid from here on: store its id at once."""
    batches = client.messages.batches  # type: ignore[attr-defined]
    batch = _retrying(lambda: batches.create(requests=[{"custom_id": c, "params": p} for c, p in requests]), retry)
    return _state(batch)


def wait(client: ModelClient, batch_id: str, poller: Poller, retry: RetryPolicy) -> BatchState:
    """Poll until the batch has ended or the poller's budget is spent (then the state says so: not `ended`)."""
    batches = client.messages.batches  # type: ignore[attr-defined]
    state = _state(_retrying(lambda: batches.retrieve(batch_id), retry), polls=1)
    waited = 0.0
    for pause in ([] if state.ended else poller.waits()):
        poller.sleep(pause)
        waited += pause
        state = _state(_retrying(lambda: batches.retrieve(batch_id), retry), polls=state.polls + 1, waited=waited)
        log.info("batch %s: %s %s", batch_id, state.status, state.counts)
        if state.ended:
            break
    return state


def _error_text(error: Any, secrets: tuple[str, ...]) -> str:
    inner = getattr(error, "error", error)
    kind, message = getattr(inner, "type", ""), getattr(inner, "message", "")
    text = f"{kind}: {message}" if kind and message else str(kind or message or "errored")
    from .tools import redact

    return redact(" ".join(text.split()), secrets)[:300]


def results(client: ModelClient, batch_id: str, retry: RetryPolicy, secrets: tuple[str, ...] = ()) -> list[EntryResult]:
    """Every entry of an ended batch (read from its JSONL results), whatever its status."""
    batches = client.messages.batches  # type: ignore[attr-defined]
    out: list[EntryResult] = []
    for line in _retrying(lambda: list(batches.results(batch_id)), retry):
        r = line.result
        if r.type == "succeeded":
            out.append(EntryResult(custom_id=line.custom_id, status="succeeded", reply=Reply.of(r.message)))
        elif r.type == "errored":
            out.append(EntryResult(custom_id=line.custom_id, status="errored", error=_error_text(r.error, secrets)))
        else:
            why = "the batch expired (24 h) before this request ran" if r.type == "expired" else "the batch was canceled"
            out.append(EntryResult(custom_id=line.custom_id, status=r.type, error=why))
    return out


def call_each(
    client: ModelClient,
    requests: list[tuple[str, dict[str, Any]]],
    *,
    limit: int,
    retry: RetryPolicy,
    on_result: Callable[[EntryResult], None],
) -> None:
    """Ordinary calls, at most `limit` at once; each outcome goes to `on_result` as soon as it is known (so an
    interrupted run keeps what it already paid for). A failed call is an `errored` entry, never an exception."""

    def one(custom_id: str, params: dict[str, Any]) -> EntryResult:
        try:
            msg = _retrying(lambda: client.messages.create(**params), retry)
        except APIFailure as exc:
            return EntryResult(custom_id=custom_id, status="errored", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - an unreadable reply costs this entry, not the job
            if is_api_error(exc):
                return EntryResult(custom_id=custom_id, status="errored", error=describe(exc, retry.settings))
            return EntryResult(custom_id=custom_id, status="errored",
                               error=f"{type(exc).__name__}: {server_message(exc)}")
        return EntryResult(custom_id=custom_id, status="succeeded", reply=Reply.of(msg))

    if limit <= 1:
        for custom_id, params in requests:
            on_result(one(custom_id, params))
        return
    pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="writer-call")
    try:
        futures = [pool.submit(one, c, p) for c, p in requests]
        for future in as_completed(futures):
            on_result(future.result())
    finally:  # Ctrl-C: the calls not started yet are never sent (and never paid for)
        pool.shutdown(wait=True, cancel_futures=True)
