"""Reddit and YouTube fetch against loopback fakes: the requests they send, and their failure modes."""

from __future__ import annotations

import base64

import pytest

from ai_content_agents.sources import reddit, youtube
from ai_content_agents.sources.base import SourceError
from ai_content_agents.sources.sample import load_sample

from .conftest import REDDIT_SECRET, TOKEN, YOUTUBE_KEY
from .fakes import FakeServer, Request, Response, apify_handler

REDDIT_RAW, _ = load_sample("reddit")
LISTINGS = {lst["data"]["children"][0]["data"]["subreddit"].lower(): lst for lst in REDDIT_RAW}
ACCESS = "reddit-access-token-XYZ"


def reddit_handler(req: Request) -> Response:
    if req.path == "/api/v1/access_token":
        return Response(200, {"access_token": ACCESS, "token_type": "bearer", "expires_in": 86400, "scope": "*"})
    sub = req.path.split("/")[2].lower()
    if sub == "blocked":
        return Response(403, "<html><body>Blocked</body></html>")
    return Response(200, LISTINGS.get(sub, {"kind": "Listing", "data": {"children": []}}))


def _reddit_settings(mk, url: str, **kw):  # type: ignore[no-untyped-def]
    return mk(reddit_auth_url=url + "/api/v1/access_token", reddit_api_url=url, reddit_public_url=url, **kw)


def test_reddit_oauth_flow(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(reddit_handler) as fake:
        settings = _reddit_settings(
            mk, fake.url, reddit_client_id="cid", reddit_client_secret=REDDIT_SECRET,
            reddit_subreddits=["BuyItForLife", "TikTokShop"], reddit_limit=25, reddit_time_filter="week",
        )
        result = reddit.fetch(settings)
    token_req, *gets = fake.requests
    assert token_req.method == "POST" and token_req.body == b"grant_type=client_credentials"
    assert token_req.headers["authorization"] == "Basic " + base64.b64encode(f"cid:{REDDIT_SECRET}".encode()).decode()
    assert [g.path for g in gets] == ["/r/BuyItForLife/top", "/r/TikTokShop/top"]
    assert all(g.query == {"t": "week", "limit": "25", "raw_json": "1"} for g in gets)
    assert all(g.headers["authorization"] == f"bearer {ACCESS}" for g in gets)
    assert all(g.headers["user-agent"] == settings.reddit_user_agent for g in gets)
    assert not result.partial and "oauth" in result.note
    assert len(reddit.parse(result.raw_items)) == 9 + 8 - 1  # BIFL 9 posts (one hide_score); TikTokShop 8 minus 1 stickied


def test_reddit_public_fallback_and_partial(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(reddit_handler) as fake:
        result = reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["shopify", "blocked"]))
    assert [r.path for r in fake.requests] == ["/r/shopify/top.json", "/r/blocked/top.json"]
    assert result.partial and "forbidden (403)" in result.note


def test_reddit_all_blocked_is_one_clean_error(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(reddit_handler) as fake, pytest.raises(SourceError) as err:
        reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["blocked"]))
    assert str(err.value) == "reddit: r/blocked top (public) forbidden (403); check the credentials or access"


def test_reddit_bad_credentials(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(401, {"message": "Unauthorized", "error": 401})) as fake, pytest.raises(SourceError, match="token request unauthorized") as err:
        reddit.fetch(_reddit_settings(mk, fake.url, reddit_client_id="cid", reddit_client_secret=REDDIT_SECRET))
    assert REDDIT_SECRET not in str(err.value)


def test_reddit_429_storm_honours_retry_after_then_fails(mk) -> None:  # type: ignore[no-untyped-def]
    storm = Response(429, {"message": "Too Many Requests"}, {"x-ratelimit-reset": "0", "Retry-After": "0"})
    with FakeServer(lambda r: storm) as fake, pytest.raises(SourceError, match=r"rate limited \(429\) after 3 attempts"):
        reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["shopify"]))
    assert len(fake.requests) == 3


def test_reddit_429_then_success(mk) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def flaky(req: Request) -> Response:
        calls["n"] += 1
        return Response(429, {}, {"Retry-After": "0"}) if calls["n"] == 1 else reddit_handler(req)

    with FakeServer(flaky) as fake:
        result = reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["shopify"]))
    assert not result.partial and len(reddit.parse(result.raw_items)) == 6


def test_reddit_timeout(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(200, {}, delay_s=1.0)) as fake, pytest.raises(SourceError, match=r"timed out after 0.2s after 1 attempts"):
        reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["shopify"], http_timeout_s=0.2, http_retries=0))


def test_reddit_html_page_instead_of_json(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(200, "<!DOCTYPE html><html>whoa there, pardner!</html>")) as fake, pytest.raises(SourceError, match="HTML page instead of JSON"):
        reddit.fetch(_reddit_settings(mk, fake.url, reddit_subreddits=["shopify"]))


def test_reddit_apify_route_filters_comments(mk) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"dataType": "post", "id": "t3_1abcde", "parsedId": "1abcde", "title": "Leak-proof lunch box &amp; a review",
         "communityName": "r/BuyItForLife", "upVotes": 512, "numberOfComments": 40, "createdAt": "2026-11-19T10:00:00.000Z",
         "url": "https://www.reddit.com/r/BuyItForLife/comments/1abcde/leak_proof/", "username": "example_user"},
        {"dataType": "comment", "id": "t1_zzz", "body": "nice", "upVotes": 4},
    ]
    with FakeServer(apify_handler("SUCCEEDED", rows)) as fake:
        result = reddit.fetch(mk(apify_token=TOKEN, apify_api_url=fake.url, reddit_subreddits=["BuyItForLife"]))
    assert fake.requests[0].path == "/v2/actors/trudax~reddit-scraper-lite/runs"
    parsed = reddit.parse(result.raw_items)
    assert [p.source_id for p in parsed] == ["1abcde"] and parsed.skipped["comment"] == 1
    assert parsed[0].title == "Leak-proof lunch box & a review" and parsed[0].group == "r/BuyItForLife"


# --- YouTube -------------------------------------------------------------------------------

YT_RAW, _ = load_sample("youtube")
YT_VIDEOS = {v["id"]: {k: v[k] for k in ("kind", "id", "snippet", "contentDetails", "statistics")} for v in YT_RAW[:4]}
UPLOADS = {v["id"]: v for v in YT_RAW[0]["_channel_recent"]}


def youtube_handler(req: Request) -> Response:
    if req.query.get("key") != YOUTUBE_KEY:
        return Response(400, {"error": {"code": 400, "errors": [{"reason": "keyInvalid"}]}})
    if req.path.endswith("/search"):
        return Response(200, {"kind": "youtube#searchListResponse", "items": [
            {"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": vid}} for vid in YT_VIDEOS]})
    if req.path.endswith("/videos"):
        ids = req.query["id"].split(",")
        items = [YT_VIDEOS.get(i) or {"kind": "youtube#video", "id": i, **{k: UPLOADS[i][k] for k in ("snippet", "contentDetails", "statistics")}} for i in ids if i in YT_VIDEOS or i in UPLOADS]
        return Response(200, {"items": items})
    if req.path.endswith("/channels"):
        return Response(200, {"items": [{"id": cid, "contentDetails": {"relatedPlaylists": {"uploads": "UU" + cid[2:]}},
                                         "statistics": {"subscriberCount": "412000", "hiddenSubscriberCount": False}}
                                        for cid in req.query["id"].split(",")]})
    if req.path.endswith("/playlistItems"):
        return Response(200, {"items": [{"contentDetails": {"videoId": vid}} for vid in UPLOADS]})
    return Response(404, {"error": {"code": 404}})


def test_youtube_fetch_search_videos_and_channel_baselines(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(youtube_handler) as fake:
        settings = mk(youtube_api_key=YOUTUBE_KEY, youtube_api_url=fake.url, youtube_queries=["amazon finds"], youtube_search_cost_units=100)
        result = youtube.fetch(settings)
    paths = [r.path for r in fake.requests]
    assert paths[0] == "/search" and paths[1] == "/videos" and "/channels" in paths and "/playlistItems" in paths
    search = fake.requests[0].query
    assert search["type"] == "video" and search["order"] == "viewCount" and search["publishedAfter"].endswith("Z")
    assert all(len(r.query.get("id", "").split(",")) <= 50 for r in fake.requests)
    calls = len(fake.requests) - 1
    assert result.note.startswith(f"youtube quota: {100 + calls} units")
    assert YOUTUBE_KEY not in result.note
    items = youtube.score(youtube.parse(result.raw_items), {})
    assert len(items) == 4 and all(it.metrics.get("channel_baseline_n", 0) > 0 for it in items)


def test_youtube_quota_exceeded_is_clean(mk) -> None:  # type: ignore[no-untyped-def]
    body = {"error": {"code": 403, "message": "quota", "errors": [{"reason": "quotaExceeded"}]}}
    with FakeServer(lambda r: Response(403, body)) as fake, pytest.raises(SourceError) as err:
        youtube.fetch(mk(youtube_api_key=YOUTUBE_KEY, youtube_api_url=fake.url, youtube_queries=["a"]))
    assert "quotaExceeded" in str(err.value) and YOUTUBE_KEY not in str(err.value) and "\n" not in str(err.value)


def test_youtube_bad_key(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(youtube_handler) as fake, pytest.raises(SourceError, match="keyInvalid") as err:
        youtube.fetch(mk(youtube_api_key="wrong-key-123456", youtube_api_url=fake.url, youtube_queries=["a"]))
    assert "wrong-key" not in str(err.value)


def test_youtube_timeout_and_5xx(mk) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(lambda r: Response(503, "<html>unavailable</html>")) as fake, pytest.raises(SourceError, match=r"server error \(503\) after 3 attempts"):
        youtube.fetch(mk(youtube_api_key=YOUTUBE_KEY, youtube_api_url=fake.url, youtube_queries=["a"]))
    with FakeServer(lambda r: Response(200, {}, delay_s=1.0)) as fake, pytest.raises(SourceError, match="timed out") as err:
        youtube.fetch(mk(youtube_api_key=YOUTUBE_KEY, youtube_api_url=fake.url, youtube_queries=["a"], http_timeout_s=0.2, http_retries=0))
    assert YOUTUBE_KEY not in str(err.value)
