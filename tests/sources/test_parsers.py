"""Each source's parse on realistic and odd items: skips are counted, odd shapes are tolerated."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

from ai_content_agents.sources import amazon, reddit, tiktok, x, youtube
from ai_content_agents.sources.sample import load_sample, load_sample_history, names, sample_observations

OBS = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TT, _ = load_sample("tiktok")


def test_sample_loads_for_every_source_with_capture_time() -> None:
    assert set(names()) == {"tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop"}
    modules = {"tiktok": tiktok, "amazon": amazon, "x": x, "reddit": reddit, "youtube": youtube}
    for name, module in modules.items():
        raw, when = load_sample(name)
        assert when == OBS
        parsed = module.parse(raw, when)
        assert len(parsed) >= 20, name
        for item in parsed:
            assert item.observed_at == OBS and item.source == name and item.title and item.url.startswith("https://")
            assert item.published_at is None or OBS.timestamp() - item.published_at.timestamp() <= 7 * 86400


def test_sample_products_cross_sources() -> None:
    ids: dict[str, set[str]] = {}
    for name, module in {"tiktok": tiktok, "amazon": amazon, "x": x, "reddit": reddit, "youtube": youtube}.items():
        for item in module.parse(load_sample(name)[0], OBS):
            for cid in item.canonical_ids:
                ids.setdefault(cid, set()).add(name)
    assert {"tiktok", "amazon", "youtube"} <= ids["asin:B0EXBLEND1"]
    assert {"tiktok", "amazon"} <= ids["asin:B0EXLEDMSK"]
    assert {"reddit", "amazon", "youtube"} <= ids["asin:B0EXBENTO1"]
    assert {"x", "amazon", "youtube"} <= ids["asin:B0EXGRIP01"]
    captions = " ".join(r.get("text", "") for r in TT).lower()
    assert "ignore previous instructions" in captions


def test_tiktok_realistic_and_odd_rows() -> None:
    parsed = tiktok.parse(TT, OBS)
    assert parsed.skipped == {"follower row": 1}
    blender = next(i for i in parsed if "asin:B0EXBLEND1" in i.canonical_ids)
    assert blender.links[0] == "https://www.amazon.com/dp/B0EXBLEND1"  # tag/ref stripped
    assert blender.canonical_ids[0].startswith("tiktok_video:")
    slideshow = next(i for i in parsed if i.raw and i.raw.get("isSlideshow") and i.raw["text"] == "")
    assert slideshow.title.startswith("TikTok video by @") and slideshow.text == ""
    search_rows = [i for i in parsed if i.raw and "searchQuery" in i.raw]
    assert search_rows and all(i.group == "tiktok shop" for i in search_rows)
    assert {i.group for i in parsed} == {"tiktokmademebuyit", "amazonfinds", "kitchengadgets", "tiktok shop"}

    base = copy.deepcopy(TT[0])
    odd = [
        {"authorMeta.name": "x", "id": "7400000000000000009", "text": "flattened"},
        {"text": "no id anywhere"},
        "not a dict",
        {**base, "id": 7400000000000000123, "hashtags": [{"name": "a"}, "b", None], "playCount": "1.2M", "authorMeta": None},
        {**base, "id": None, "webVideoUrl": "https://www.tiktok.com/@x/video/7400000000000000456"},
        {**base, "id": "7400000000000000789", "text": "use code SAVE10", "createTime": None, "hasTikTokShopProduct": None, "createTimeISO": "2026-11-19T09:00:00.000Z",
         "authorMeta": {"name": "example", "ttSeller": False, "commerceUserInfo": {"commerceUser": False}, "bioLink": None}},
    ]
    parsed = tiktok.parse(odd, OBS)
    assert parsed.skipped == {"flattened row": 1, "no id": 1, "not a dict": 1}
    big, from_url, coded = parsed
    assert big.source_id == "7400000000000000123" and big.metrics["plays"] == 1_200_000 and big.author is None
    assert from_url.source_id == "7400000000000000456"
    assert coded.is_commerce and coded.commerce_reasons == ["phrase:use code"]
    assert coded.published_at == datetime(2026, 11, 19, 9, tzinfo=UTC)


def test_tiktok_rows_that_are_not_videos_are_counted_skips() -> None:
    """An Apify error row, and rows of another actor saved as tiktok.json: nothing to rank, nothing invented."""
    rows = [
        {"id": "7400000000000000555", "error": "Video is private", "url": "https://www.tiktok.com/@x/video/7400000000000000555"},
        {"id": "3300000000000000001", "shortCode": "C1a2b3", "url": "https://www.instagram.com/p/C1a2b3/",
         "likesCount": 120, "caption": "an Instagram post"},
        {"id": "1"},
        TT[0],
    ]
    parsed = tiktok.parse(rows, OBS)
    assert parsed.skipped == {"error row": 1, "not a video row": 2}
    assert [i.raw["id"] for i in parsed if i.raw] == [TT[0]["id"]]


def test_tiktok_commerce_detection() -> None:
    row = copy.deepcopy(TT[0])
    row.update(text="just a video", hasTikTokShopProduct=False, isAd=False)
    row["authorMeta"].update(ttSeller=False, commerceUserInfo={"commerceUser": False}, bioLink="https://example-store.com/x")
    (item,) = tiktok.parse([row], OBS)
    assert item.commerce_reasons == ["shop_link_in_bio"]
    assert "https://example-store.com/x" in item.links and not any(i.startswith("asin:") for i in item.canonical_ids)
    row["authorMeta"]["bioLink"] = None
    (item,) = tiktok.parse([row], OBS)
    assert not item.is_commerce


def test_amazon_generations_prices_and_dedup() -> None:
    raw, _ = load_sample("amazon")
    parsed = amazon.parse(raw, OBS)
    assert parsed.skipped == {"duplicate position": 1, "error row": 1}
    by_asin = {i.canonical_ids[0]: i for i in parsed}
    blender = by_asin["asin:B0EXBLEND1"]  # older generation, price string
    assert blender.price == Decimal("34.99") and blender.currency == "USD" and blender.url == "https://www.amazon.com/dp/B0EXBLEND1"
    assert blender.source_id == "B0EXBLEND1@amazon.com/gp/movers-and-shakers/home-garden"
    assert blender.group == "https://www.amazon.com/gp/movers-and-shakers/home-garden/"
    mask = by_asin["asin:B0EXLEDMSK"]  # current generation with page movement
    assert mask.metrics["percent_gain"] == 2340.0 and mask.metrics["previous_rank_page"] == 1489.0
    assert mask.metrics["sales_rank"] == 61.0 and mask.metrics["reviews"] == 2811.0  # the current rank is kept
    assert mask.thumbnail == "https://images-na.ssl-images-amazon.com/images/I/B0EXLEDMSK._AC_UL300_.jpg"
    assert all(i.thumbnail is None or i.thumbnail.startswith("https://") for i in parsed)
    assert mask.category == "Beauty & Personal Care"
    lip = by_asin["asin:B0EXLIPOIL"]
    assert "percent_gain" not in lip.metrics and lip.metrics["previously_unranked"] == 1.0 and lip.metrics["sales_rank"] == 1944.0

    legacy = [{"category": "Kitchen", "url": "https://www.amazon.co.uk/gp/bestsellers/kitchen/ref=zg_bs_nav_0",
               "items": {"0": {"name": "Example Kettle", "price": "£9.99", "url": "https://www.amazon.co.uk/Example/dp/B0EXAMPLE9/ref=zg", "position": 1},
                         "1": {"name": "No Asin Here", "url": "https://www.amazon.co.uk/", "position": 2},
                         "2": {"position": 3}}}]
    parsed = amazon.parse(legacy, OBS)
    (kettle,) = parsed
    assert kettle.price == Decimal("9.99") and kettle.currency == "GBP" and kettle.url == "https://www.amazon.co.uk/dp/B0EXAMPLE9"
    assert kettle.group == "https://www.amazon.co.uk/gp/bestsellers/kitchen/"
    assert parsed.skipped == {"no asin": 1, "no name": 1}


def test_x_odd_shapes() -> None:
    raw, _ = load_sample("x")
    parsed = x.parse(raw, OBS)
    assert parsed.skipped == {"retweet": 1}
    int_id = next(r for r in raw if isinstance(r["id"], int))
    item = next(i for i in parsed if i.source_id == str(int_id["id"]))
    assert item.url.endswith(f"/status/{int_id['id']}")
    no_views = next(i for i in parsed if i.raw and "viewCount" not in i.raw)
    assert "views" not in no_views.metrics
    str_views = next(i for i in parsed if i.raw and isinstance(i.raw.get("viewCount"), str))
    assert str_views.metrics["views"] == float(str_views.raw["viewCount"])
    grip = next(i for i in parsed if "asin:B0EXGRIP01" in i.canonical_ids)
    assert "https://www.amazon.com/dp/B0EXGRIP01" in grip.links and grip.published_at is not None
    odd = x.parse([{"id": 1.9e18, "text": "float id"}, {"type": "user", "id": "1"},
                   {"id": "1900000000000000001", "source:": "odd key", "author": {"username": "lower", "followers": "1.5K"}}], OBS)
    assert odd.skipped == {"no id": 1, "not a tweet": 1}
    assert odd[0].author == "lower" and odd[0].author_followers == 1500 and odd[0].published_at is None


def test_reddit_listing_and_odd_posts() -> None:
    raw, _ = load_sample("reddit")
    parsed = reddit.parse(raw, OBS)
    assert parsed.skipped == {"stickied": 1}
    escaped = next(i for i in parsed if i.source_id == "1qx3gh4")
    assert escaped.title == "Boots resoled for the 4th time & still going"
    int_created = next(i for i in parsed if i.source_id == "1qx0mn7")
    assert int_created.published_at is not None
    bento = next(i for i in parsed if i.source_id == "1qx7ab1")
    assert "asin:B0EXBENTO1" in bento.canonical_ids and bento.url.startswith("https://www.reddit.com/r/BuyItForLife/comments/1qx7ab1")
    shop = next(i for i in parsed if i.source_id == "1qxb444")
    assert shop.links == ["https://www.example-supplier.com/p/snapgrip"]
    odd = reddit.parse([{"kind": "Listing", "data": None}, {"kind": "t1", "data": {}}, {"id": "abc", "title": "bare post",
                        "created_utc": "1767312000.0", "upvote_ratio": 1, "score": None}, {"kind": "t3", "data": {"title": "no id"}}], OBS)
    assert odd.skipped == {"bad listing": 1, "not a post": 1, "no id": 1}
    assert odd[0].metrics == {"upvote_ratio": 1.0} and odd[0].published_at is not None


def test_youtube_strings_and_baselines() -> None:
    raw, _ = load_sample("youtube")
    parsed = youtube.parse(raw, OBS)
    titles = [i.title for i in parsed]
    assert "5 kitchen gadgets I'd buy again" in titles and not any("&#39;" in t or "&amp;" in t for t in titles)
    no_comments = next(i for i in parsed if i.raw and "commentCount" not in i.raw["statistics"])
    assert "comments" not in no_comments.metrics
    short = next(i for i in parsed if i.metrics.get("is_short"))
    assert short.group and short.group.endswith(":shorts")
    odd = youtube.parse([{"id": {"videoId": "AbCdEfGhIjK"}, "snippet": {"title": "search result"}},
                         {"id": "x", "snippet": {}}, {"kind": "youtube#channel", "id": "UC1", "snippet": {"title": "c"}},
                         {"id": "AbCdEfGhIj2", "snippet": {"title": "t"}, "statistics": {"viewCount": "12"}, "contentDetails": {"duration": "bogus"},
                          "_channel_recent": "not a list"}], OBS)
    assert odd.skipped == {"no title": 1, "not a video": 1}
    assert odd[0].metrics.get("views") is None and odd[1].metrics["views"] == 12.0


def test_amazon_sample_history() -> None:
    (snapshot, when), = load_sample_history("amazon")
    assert when == datetime(2026, 11, 19, 9, tzinfo=UTC) and len(snapshot) > 10
    hist = sample_observations("amazon")
    assert hist["B0EXBLEND1@amazon.com/gp/movers-and-shakers/home-garden"][0].metrics["position"] == 9.0


def test_thumbnails_are_http_urls_read_defensively() -> None:
    parsed = tiktok.parse(TT, OBS)
    covered = [i for i in parsed if i.raw and (i.raw.get("videoMeta") or {}).get("coverUrl")]
    assert covered and all(i.thumbnail == "https://p16-sign.tiktokcdn-us.com/example/cover.jpeg" for i in covered)
    assert all(i.thumbnail is None for i in parsed if i.raw and i.raw.get("isSlideshow"))  # slideshows: coverUrl ""
    base = copy.deepcopy(TT[0])
    rows = [
        {**base, "id": "7400000000000000201", "videoMeta": {"coverUrl": "data:image/png;base64,AAAA"}},
        {**base, "id": "7400000000000000202", "videoMeta": None, "covers": ["", "https://p16.example/cover-1.jpeg"]},
        {**base, "id": "7400000000000000203", "videoMeta": {"coverUrl": ""}, "covers": {"default": "https://p16.example/d.jpeg"}},
        {**base, "id": "7400000000000000204", "videoMeta": {"width": 0}, "covers": "https://not-a-list.example/x.jpeg"},
    ]
    assert [i.thumbnail for i in tiktok.parse(rows, OBS)] == [None, "https://p16.example/cover-1.jpeg", "https://p16.example/d.jpeg", None]

    video = {"id": "AbCdEfGhIjK", "snippet": {"title": "t", "thumbnails": {
        "default": {"url": "https://i.ytimg.com/vi/AbCdEfGhIjK/default.jpg"},
        "high": {"url": "https://i.ytimg.com/vi/AbCdEfGhIjK/hqdefault.jpg"}, "maxres": {"url": None}}}}
    (yt,) = youtube.parse([video], OBS)
    assert yt.thumbnail == "https://i.ytimg.com/vi/AbCdEfGhIjK/hqdefault.jpg"
    odd = youtube.parse([{**video, "snippet": {"title": "t", "thumbnails": "nope"}},
                         {**video, "id": "AbCdEfGhIj2", "snippet": {"title": "t", "thumbnails": {"custom": {"url": "http://x.example/c.jpg"}}}}], OBS)
    assert [i.thumbnail for i in odd] == [None, "http://x.example/c.jpg"]
    assert youtube.parse(load_sample("youtube")[0], OBS)[0].thumbnail == "https://i.ytimg.com/vi/Ex01mPl1Q_z/default.jpg"

    posts = reddit.parse([{"id": "a1", "title": "t", "thumbnail": "self"},
                          {"id": "a2", "title": "t", "thumbnail": "https://b.thumbs.redditmedia.com/x.jpg?a=1&amp;b=2"}], OBS)
    assert [p.thumbnail for p in posts] == [None, "https://b.thumbs.redditmedia.com/x.jpg?a=1&b=2"]
