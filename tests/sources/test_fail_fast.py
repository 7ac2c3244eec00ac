"""No network fails fast: refused, no DNS answer or no route is one attempt; timeouts and 5xx still retry."""

from __future__ import annotations

import errno
import socket

import pytest
import requests

from ai_content_agents.netfail import unreachable_reason
from ai_content_agents.sources import reddit, youtube
from ai_content_agents.sources.apify import run_actor
from ai_content_agents.sources.base import SourceError, SourceUnreachable

from .conftest import TOKEN, YOUTUBE_KEY
from .fakes import FakeServer, Response

SUBS = ["shopify", "ecommerce", "dropship"]


# --- the classifier, on literal exceptions -------------------------------------------------------
def _wrapped(inner: BaseException) -> BaseException:
    """The way requests reports a socket error: ConnectionError ← MaxRetryError ← NewConnectionError ← OSError."""
    try:
        try:
            raise inner
        except OSError as exc:
            raise RuntimeError("Failed to establish a new connection") from exc
    except RuntimeError as mid:
        return requests.ConnectionError(mid)


@pytest.mark.parametrize(("exc", "reason"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "DNS lookup failed"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "DNS lookup failed"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
    (TimeoutError("timed out"), None),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), None),
])
def test_only_failures_that_cannot_heal_are_unreachable(exc: OSError, reason: str | None) -> None:
    assert unreachable_reason(exc) == reason
    assert unreachable_reason(_wrapped(exc)) == reason


def test_a_cyclic_exception_chain_ends() -> None:
    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    assert unreachable_reason(a) is None


# --- Reddit and YouTube (requests, httpjson) ----------------------------------------------------
def test_reddit_refused_is_one_attempt_for_all_subreddits(mk, refused) -> None:  # type: ignore[no-untyped-def]
    settings = mk(reddit_public_url=refused.url, reddit_subreddits=SUBS, http_retries=3, http_retry_max_wait_s=30)
    with pytest.raises(SourceUnreachable) as err:
        reddit.fetch(settings)
    assert str(err.value) == "reddit: r/shopify top (public) failed: connection refused (not retried)"
    assert refused.attempts == 1  # no retries, and the other subreddits (same host) are not tried


def test_reddit_dns_failure_and_no_route_are_one_attempt(mk, no_dns, no_route) -> None:  # type: ignore[no-untyped-def]
    for target, reason in ((no_dns, "DNS lookup failed"), (no_route, "network unreachable")):
        with pytest.raises(SourceUnreachable, match=reason):
            reddit.fetch(mk(reddit_public_url=target.url, reddit_subreddits=SUBS, http_retries=3))
        assert target.attempts == 1


def test_reddit_oauth_token_request_refused_is_one_attempt(mk, refused) -> None:  # type: ignore[no-untyped-def]
    settings = mk(reddit_client_id="cid", reddit_client_secret="reddit-secret-DoNotLeak456",
                  reddit_auth_url=refused.url + "/api/v1/access_token", http_retries=3)
    with pytest.raises(SourceUnreachable, match="token request failed: connection refused") as err:
        reddit.fetch(settings)
    assert refused.attempts == 1 and "DoNotLeak" not in str(err.value)


def test_timeouts_still_retry(mk) -> None:  # type: ignore[no-untyped-def]
    settings = mk(reddit_subreddits=["shopify"], http_timeout_s=0.1, http_retries=2)
    with FakeServer(lambda r: Response(200, {}, delay_s=0.5)) as fake, \
            pytest.raises(SourceError, match=r"timed out after 0.1s after 3 attempts"):
        reddit.fetch(settings.model_copy(update={"reddit_public_url": fake.url}))
    assert len(fake.requests) == 3


def test_youtube_refused_is_one_attempt_and_keeps_the_key_out(mk, refused) -> None:  # type: ignore[no-untyped-def]
    settings = mk(youtube_api_key=YOUTUBE_KEY, youtube_api_url=refused.url, youtube_queries=["a", "b", "c"],
                  http_retries=3)
    with pytest.raises(SourceUnreachable) as err:
        youtube.fetch(settings)
    assert str(err.value).startswith("youtube: search.list failed: connection refused (not retried)")
    assert refused.attempts == 1 and YOUTUBE_KEY not in str(err.value)


# --- Apify (apify-client's HTTPX2 transport) -----------------------------------------------------
@pytest.mark.parametrize("kind", ["refused", "no_dns", "no_route"])
def test_apify_unreachable_is_one_attempt(mk, kind: str, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    target = request.getfixturevalue(kind)
    with pytest.raises(SourceUnreachable, match=r"apify clockworks/tiktok-scraper: request failed: .* \(not retried\)") as err:
        run_actor(mk(apify_token=TOKEN, apify_api_url=target.url, apify_max_retries=4), "clockworks/tiktok-scraper", {})
    assert target.attempts == 1 and TOKEN not in str(err.value)


def test_apify_5xx_still_retries(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(503, "<html>unavailable</html>")) as fake, \
            pytest.raises(SourceError, match=r"server error \(503\)"):
        run_actor(mk(apify_token=TOKEN, apify_api_url=fake.url, apify_max_retries=1), "clockworks/tiktok-scraper", {})
    assert len(fake.requests) == 2  # the first try and one retry
