"""Error classification by body code, redaction, and the token bucket (with a fake clock)."""

from __future__ import annotations

import threading

import pytest

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.ratelimit import GroupLimit, RateLimiter, TokenBucket


@pytest.mark.parametrize(
    ("code", "message", "status", "cls"),
    [
        (106001, "sign invalid", 401, E.SignatureError),
        (105002, "expired", 401, E.AuthExpiredError),
        (105002, "expired", 200, E.AuthExpiredError),
        (105005, "apply auth pkg for this api", 200, E.ScopeError),
        (36009002, "too many", 200, E.RateLimitedError),
        (36009037, "hourly", 429, E.HourlyCapError),
        (36009003, "internal", 200, E.ServerError),
        (36009007, "timeout", 200, E.ServerError),
        (36004001, "rt has expired", 200, E.ReauthorizeRequired),
        (36004005, "can not find related auth record", 200, E.ReauthorizeRequired),
        (36004004, "Invalid auth code", 200, E.InvalidAuthCode),
        (36009004, "Invalid timestamp", 400, E.TimestampError),
        (36009004, "Invalid app_key", 400, E.ConfigError),
        (36009004, "Invalid x-tts-access-token", 401, E.AuthExpiredError),
        (36009004, "Unexpected identifier: shop_cipher is not required", 400, E.RequestShapeError),
        (36009004, "date range exceeds the limit", 400, E.RequestShapeError),
        (36009043, "shop inactive", 401, E.ShopInactive),
        (12052032, "no product", 200, E.NotFoundError),
        (21008111, "not your order", 200, E.NotFoundError),
        (12052180, "beyond 10000", 200, E.SearchLimitError),
        (106013, "cipher missing", 400, E.RequestShapeError),
        (None, "html", 502, E.ServerError),
        (None, "html", 429, E.RateLimitedError),
    ],
)
def test_classified_by_body_code(code, message, status, cls) -> None:  # type: ignore[no-untyped-def]
    exc = E.from_response(code, message, request_id="r1", http_status=status, auth_url="https://x/auth")
    assert type(exc) is cls
    assert "Action:" in str(exc) and (code is None or str(code) in str(exc))


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        # documented sub-cases, worded as the gateway words them
        ("Invalid timestamp", E.TimestampError),
        ("Invalid credentials. The 'timestamp' query parameter is invalid", E.TimestampError),
        ("Invalid credentials. The 'x-tts-access-token' header is invalid", E.AuthExpiredError),
        ("Invalid credentials. Invalid 'app_key' query parameter.", E.ConfigError),
        ("Missing credentials", E.SignatureError),
        ("Invalid API version", E.RequestShapeError),
        ("invalid param: page_size", E.RequestShapeError),
        # merely MENTIONING a keyword is not a sub-case
        ("invalid param: create_time_ge must be a unix timestamp in seconds", E.RequestShapeError),
        ("The order was updated at timestamp 1700000000 and cannot be edited", E.RequestRejected),
        ("app_key and access_token look fine; the product is frozen", E.RequestRejected),
        ("", E.RequestRejected),
    ],
)
def test_36009004_is_classified_by_code_and_documented_sub_cases_only(message: str, cls: type) -> None:
    exc = E.from_response(36009004, f"POST /product/202309/products/search: {message}", request_id="r",
                          http_status=400)
    assert type(exc) is cls
    if cls is E.RequestRejected:
        assert "NTP" not in str(exc) and "clock" not in str(exc) and not exc.retryable
        assert "Not retried automatically" in str(exc)


def test_rate_limit_is_not_an_auth_error_and_only_transients_retry() -> None:
    assert not isinstance(E.from_response(36009002, "", request_id=None, http_status=429), E.AuthError)
    retryable = {c for c in (106001, 105005, 36009002, 36009003, 12052032, 36004001, 36009037)
                 if E.from_response(c, "", request_id=None, http_status=200).retryable}
    assert retryable == {36009002, 36009003}


def test_reauthorize_message_carries_the_auth_url() -> None:
    exc = E.from_response(36004001, "rt has expired", request_id="r", http_status=200, auth_url="https://auth.example/x")
    assert "https://auth.example/x" in str(exc)


def test_redact_removes_secrets_and_query_strings() -> None:
    text = "GET https://auth.tiktok-shops.com/api/v2/token/get?app_secret=S3CRET&x=1 failed for tok_ABCDEF"
    out = E.redact(text, ["tok_ABCDEF"])
    assert "S3CRET" not in out and "tok_ABCDEF" not in out and "/api/v2/token/get" in out


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.t

    def sleep(self, d: float) -> None:
        with self.lock:
            self.sleeps.append(d)


def test_bucket_allows_burst_then_spaces_by_rate() -> None:
    clock = FakeClock()
    b = TokenBucket(10, 3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert b.acquire()
    assert clock.sleeps == []
    b.acquire()
    b.acquire()
    # reservations: the 4th waits 0.1 s, the 5th 0.2 s (FIFO order, no spinning: one sleep each)
    assert clock.sleeps == pytest.approx([0.1, 0.2])


def test_try_acquire_and_timeout() -> None:
    clock = FakeClock()
    b = TokenBucket(2, 1, clock=clock, sleep=clock.sleep)
    assert b.try_acquire()
    assert not b.try_acquire()
    assert b.acquire(timeout=0.1) is False  # the next token is 0.5 s away
    clock.t += 0.5
    assert b.try_acquire()


def test_try_acquire_is_thread_safe() -> None:
    clock = FakeClock()
    b = TokenBucket(1, 7, clock=clock, sleep=clock.sleep)
    wins: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = b.try_acquire()
            with lock:
                wins.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(wins) == 7


def test_penalize_pauses_and_halves_then_reward_recovers() -> None:
    clock = FakeClock()
    b = TokenBucket(8, 1, clock=clock, sleep=clock.sleep)
    b.penalize(retry_after=2.0)
    assert b.rate == 4
    assert not b.try_acquire()
    b.acquire()
    assert clock.sleeps[-1] >= 2.0
    assert b.ceiling == pytest.approx(6.0)  # 75% of the rate that got throttled
    for _ in range(200):
        b.reward()
    assert b.rate == pytest.approx(6.0)  # recovers to the learned ceiling, not to the configured 8
    for _ in range(20000):
        b.reward()
    assert b.rate == 8  # the ceiling creeps back up slowly (quotas are dynamic)


def test_limiter_keys_per_shop_and_group() -> None:
    lim = RateLimiter({"default": GroupLimit(5, 5), "analytics": GroupLimit(0.5, 1)})
    assert lim.bucket("s1", "default") is lim.bucket("s1", "default")
    assert lim.bucket("s1", "default") is not lim.bucket("s2", "default")
    assert lim.bucket("s1", "analytics").rate == 0.5
    assert lim.bucket("s1", "unknown-group").rate == 5


def test_waiters_get_distinct_slots_in_arrival_order() -> None:
    clock = FakeClock()
    b = TokenBucket(10, 1, clock=clock, sleep=clock.sleep)
    assert b.acquire()
    order: list[int] = []
    threads = []
    for i in range(8):
        t = threading.Thread(target=lambda i=i: (b.acquire(), order.append(i)))
        t.start()
        t.join()  # one at a time, so arrival order is known
        threads.append(t)
    # each waiter booked its own slot 0.1 s after the previous one: FIFO, no two share a token
    assert clock.sleeps == pytest.approx([0.1 * k for k in range(1, 9)])
    assert order == list(range(8))
