"""Client-side token buckets, one per (shop, endpoint group).

WHY reservations: each `acquire` books the next free slot under a lock and then sleeps until it,
so waiting threads never spin, and slots are handed out in the order callers arrived (fair under
many threads). The bucket also backs off multiplicatively when the server says 429 and creeps
back up on success (AIMD), because TikTok's quota is dynamic and unpublished.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class TokenBucket:
    """A thread-safe token bucket of `rate` tokens/s holding at most `burst` tokens."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        min_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        initial_tokens: float | None = None,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.max_rate = float(rate)
        self.rate = float(rate)
        self.ceiling = float(rate)  # learned from 429s: recovery never goes back above it
        self.max_burst = int(burst)
        self.burst = int(burst)
        self.min_rate = min_rate if min_rate is not None else max(self.max_rate / 16, 0.05)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst if initial_tokens is None else initial_tokens)  # may go negative: reservations
        self._last = clock()
        self._paused_until = 0.0
        self._last_penalty = float("-inf")
        self._epoch = 0
        self._successes = 0

    def _refill(self, now: float) -> None:
        # No tokens accrue while paused: otherwise everyone waiting fires at once when the pause ends.
        since = max(self._last, min(now, self._paused_until))
        if now > since:
            self._tokens = min(float(self.burst), self._tokens + (now - since) * self.rate)
        self._last = max(self._last, now)

    def _reserve(self, now: float) -> float:
        """Book one token; return the monotonic time at which the caller may proceed."""
        start = max(now, self._paused_until)
        self._refill(now)
        self._tokens -= 1.0
        if self._tokens >= 0:
            return start
        return start + (-self._tokens) / self.rate  # tokens do not accrue before `start` (pause)

    def _wait_for(self, now: float) -> float:
        start = max(now, self._paused_until)
        self._refill(now)
        deficit = 1.0 - self._tokens
        return start + deficit / self.rate if deficit > 0 else start

    def acquire(self, timeout: float | None = None) -> bool:
        """Block (sleeping, not spinning) until a token is ours; False if it cannot come within `timeout`."""
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            with self._lock:
                now = self._clock()
                if deadline is not None and self._wait_for(now) > deadline:
                    return False
                ready_at = self._reserve(now)
                epoch = self._epoch
            delay = ready_at - self._clock()
            if delay > 0:
                self._sleep(delay)
            with self._lock:
                # Throttled while we slept: our slot was booked at the old rate, so queue again rather
                # than fire into a window the server has just closed.
                if self._epoch == epoch:
                    return True

    def try_acquire(self) -> bool:
        """Take a token only if one is available right now."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return False
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def penalize(self, retry_after: float | None = None) -> None:
        """The server throttled us: remember 75% of this rate as a ceiling, halve the rate and the burst,
        and, if it said so, let nobody through before `retry_after`."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            # Requests already in flight when the quota ran out all come back 429 at once: that is one
            # event, so the rate is cut at most once per server window (1 s), not once per reply.
            if now - self._last_penalty >= 1.0:
                self._last_penalty = now
                self.ceiling = max(self.min_rate, min(self.ceiling, self.rate * 0.75))
                self.rate = max(self.min_rate, self.rate / 2)
                self.burst = max(1, self.burst // 2)
                self._tokens = min(self._tokens, float(self.burst))
                self._successes = 0
            self._epoch += 1
            if retry_after and retry_after > 0:
                self._paused_until = max(self._paused_until, now + retry_after)
                self._tokens = min(self._tokens, 0.0)

    def reward(self) -> None:
        """A request went through: every `burst + 4` successes recover 1/8 of the gap to the learned
        ceiling; every 400 successes let the ceiling itself creep up (TikTok's quota is dynamic)."""
        with self._lock:
            if self.rate >= self.max_rate:
                return
            self._successes += 1
            if self._successes % 400 == 0:
                self.ceiling = min(self.max_rate, self.ceiling + self.max_rate / 32)
                self.burst = min(self.max_burst, self.burst + 1)
            if self._successes % (self.burst + 4) == 0:
                now = self._clock()
                self._refill(now)
                gap = self.ceiling - self.rate
                if gap > 0:
                    self.rate = min(self.ceiling, self.rate + max(gap / 8, self.max_rate / 256))


@dataclass(frozen=True)
class GroupLimit:
    rate: float
    burst: int


class RateLimiter:
    """Buckets keyed by (shop, group), created on first use from the group's configured limit."""

    def __init__(
        self,
        limits: dict[str, GroupLimit],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if "default" not in limits:
            raise ValueError("limits need a 'default' group")
        self.limits = dict(limits)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: object) -> RateLimiter:
        return cls(
            {
                "default": GroupLimit(settings.tiktok_shop_rate, settings.tiktok_shop_burst),  # type: ignore[attr-defined]
                "analytics": GroupLimit(
                    settings.tiktok_shop_analytics_rate,  # type: ignore[attr-defined]
                    settings.tiktok_shop_analytics_burst,  # type: ignore[attr-defined]
                ),
                "auth": GroupLimit(settings.tiktok_shop_rate, settings.tiktok_shop_burst),  # type: ignore[attr-defined]
            }
        )

    def bucket(self, shop: str, group: str) -> TokenBucket:
        key = (shop, group)
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                lim = self.limits.get(group, self.limits["default"])
                b = TokenBucket(lim.rate, lim.burst, clock=self._clock, sleep=self._sleep)
                self._buckets[key] = b
            return b
