"""Scenario tests for the per-source evidence strength q (trends_scoring §1.1, §2; issue 9).

Raw rows are in the real actor/API shapes (clockworks/tiktok-scraper, junglee/amazon-bestsellers,
apidojo/tweet-scraper, YouTube videos.list + the channel baselines fetch attaches) and go through each
source's own `parse` and `score`, with an explicit observed_at: no network, no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from zlib import crc32

from ai_content_agents.models import TrendItem
from ai_content_agents.sources import amazon, tiktok, x, youtube

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_ids = count(7438100000000000001)


def _q(item: TrendItem) -> float:
    assert item.signals is not None
    return item.signals.q


# --- TikTok ----------------------------------------------------------------------------------------


def tiktok_row(handle: str, plays: int, hashtag: str, *, fans: int | None, hours: float = 40.0, text: str = "") -> dict:
    vid = str(next(_ids))
    created = NOW - timedelta(hours=hours)
    author: dict = {"id": f"69{crc32(handle.encode()):017d}", "name": handle, "nickName": handle.title(),
                    "profileUrl": f"https://www.tiktok.com/@{handle}", "verified": False, "signature": "",
                    "bioLink": None, "privateAccount": False, "following": 300, "heart": plays * 40, "video": 180, "digg": 900}
    if fans is not None:
        author["fans"] = fans
    return {
        "id": vid, "text": f"{text or 'my honest take'} #{hashtag}", "textLanguage": "en",
        "createTime": int(created.timestamp()), "createTimeISO": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "isAd": False, "isPinned": False, "isSlideshow": False,
        "playCount": plays, "diggCount": plays // 12, "shareCount": plays // 400, "commentCount": plays // 700,
        "collectCount": plays // 90, "repostCount": 0,
        "hashtags": [{"id": "1606839", "name": hashtag, "title": "", "cover": ""}],
        "authorMeta": author,
        "musicMeta": {"musicName": "original sound", "musicAuthor": handle, "musicOriginal": True, "musicId": "0"},
        "videoMeta": {"height": 1024, "width": 576, "duration": 21, "coverUrl": f"https://p16-sign.tiktokcdn-us.com/example/{vid}.jpeg"},
        "webVideoUrl": f"https://www.tiktok.com/@{handle}/video/{vid}",
        "mentions": [], "detailedMentions": [], "effectStickers": [], "mediaUrls": [], "input": hashtag,
    }


def _niche_vs_big(with_fans: bool) -> tuple[TrendItem, list[TrendItem]]:
    big = [  # ordinary videos of a big hashtag: big absolute numbers, each at its creator's norm
        tiktok_row(f"skin{i}", plays, "skincare", fans=fans if with_fans else None)
        for i, (plays, fans) in enumerate([(1_900_000, 2_000_000), (1_100_000, 1_200_000), (640_000, 700_000),
                                           (820_000, 800_000), (450_000, 500_000), (2_300_000, 2_100_000),
                                           (380_000, 420_000), (990_000, 900_000), (1_400_000, 1_500_000),
                                           (560_000, 610_000)])
    ]
    niche = [
        tiktok_row(f"mask{i}", plays, "ledmaskreview", fans=fans if with_fans else None)
        for i, (plays, fans) in enumerate([(9_800, 10_000), (12_400, 11_000), (8_100, 9_000), (10_900, 12_000),
                                           (11_500, 10_500), (7_600, 8_000)])
    ]
    spike = tiktok_row("maskdiaries", 205_000, "ledmaskreview", fans=10_200 if with_fans else None,
                       text="3 weeks with the LumaGlow LED mask")
    items = tiktok.score(list(tiktok.parse(big + niche + [spike], NOW)), {})
    by_handle = {i.author: i for i in items}
    return by_handle["maskdiaries"], [by_handle[f"skin{i}"] for i in range(10)]


def test_tiktok_niche_hashtag_spike_beats_ordinary_videos_of_a_big_hashtag() -> None:
    for with_fans in (True, False):  # audience baseline from author stats, and the hashtag when rows lack fans
        spike, big = _niche_vs_big(with_fans)
        assert spike.signals is not None and spike.signals.m is not None and spike.signals.m > 15
        assert _q(spike) > 0.75
        assert all(_q(b) < _q(spike) for b in big), with_fans
        # at their creators' norm: no evidence, however many plays; against the hashtag alone (no author stats)
        # the biggest one is 2.8× the hashtag's median, which is barely above the floor
        assert max(_q(b) for b in big) == 0.0 if with_fans else max(_q(b) for b in big) < 0.1
        assert spike.signals.baseline_level == ("author" if with_fans else "group")


def test_tiktok_mega_account_at_its_norm_vs_a_small_creator_far_above_hers() -> None:
    mega = [tiktok_row("megastar", p, "tiktokmademebuyit", fans=24_000_000) for p in (2_100_000, 1_900_000, 2_400_000)]
    small_norm = [tiktok_row("tinykitchen", p, "tiktokmademebuyit", fans=15_000) for p in (12_000, 18_000)]
    small_hit = tiktok_row("tinykitchen", 760_000, "tiktokmademebuyit", fans=15_000, text="this mini blender")
    mid = [tiktok_row(f"mid{i}", f, "tiktokmademebuyit", fans=f) for i, f in enumerate((60_000, 120_000, 250_000, 90_000, 400_000))]
    items = tiktok.score(list(tiktok.parse(mega + small_norm + [small_hit] + mid, NOW)), {})
    hit = next(i for i in items if i.metrics["plays"] == 760_000)
    megas = [i for i in items if i.author == "megastar"]
    assert all(_q(m) == 0.0 for m in megas)  # the mega-account's plays top the hashtag, but they are its norm
    assert all(m.metrics["plays"] > hit.metrics["plays"] for m in megas)
    assert _q(hit) > 0.9 and hit.signals is not None and hit.signals.baseline_level == "author"
    alone = tiktok.score(list(tiktok.parse([mega[0], *mid], NOW)), {})  # no other video of its own in the run
    assert _q(alone[0]) == 0.0 and alone[0].signals is not None and "plays per fan" in alone[0].signals.baseline_kind


# --- Amazon ----------------------------------------------------------------------------------------

MS_BEAUTY = "https://www.amazon.com/gp/movers-and-shakers/beauty/"


def amazon_row(asin: str, position: int, *, percent: str | None, movement: str | None, reviews: int,
               list_url: str = MS_BEAUTY) -> dict:
    row = {
        "name": f"Example Product {asin}", "url": f"https://www.amazon.com/Example/dp/{asin}/ref=zg_bsms_c_beauty_d_sccl_{position}",
        "asin": asin, "position": position, "price": {"value": 24.99, "currency": "$"}, "currency": "$",
        "numberOfOffers": 2, "stars": 4.4, "reviewsCount": reviews,
        "thumbnailUrl": f"https://images-na.ssl-images-amazon.com/images/I/{asin}._AC_UL300_.jpg",
        "categoryUrl": list_url, "categoryName": "Beauty & Personal Care",
        "categoryFullName": "Movers & Shakers in Beauty & Personal Care", "subcategories": [], "input": list_url,
    }
    if percent is not None:
        row["percentageChange"] = percent
    if movement is not None:
        row["salesMovement"] = movement
    return row


FILLER = [
    amazon_row("B0FILLER01", 3, percent="612%", movement="Sales rank: 402 (previously 2,862)", reviews=40_122),
    amazon_row("B0FILLER02", 4, percent="405%", movement="Sales rank: 880 (previously 4,444)", reviews=3_902),
    amazon_row("B0FILLER03", 5, percent="290%", movement="Sales rank: 221 (previously 862)", reviews=61_870),
    amazon_row("B0FILLER04", 6, percent="188%", movement="Sales rank: 455 (previously 1,310)", reviews=22_870),
]


def test_amazon_jump_from_a_low_volume_rank_scores_below_a_solid_climb_in_a_top_category() -> None:
    rows = [
        amazon_row("B0LOWVOL01", 1, percent="3,000%", movement="Sales rank: 3,000 (previously 93,000)", reviews=41),
        amazon_row("B0TOPCAT01", 2, percent="300%", movement="Sales rank: 45 (previously 180)", reviews=12_400),
        *FILLER,
    ]
    items = {i.canonical_ids[0]: i for i in amazon.score(list(amazon.parse(rows, NOW)), {})}
    low, top = items["asin:B0LOWVOL01"], items["asin:B0TOPCAT01"]
    assert low.signals is not None and top.signals is not None
    assert low.signals.m is not None and top.signals.m is not None and low.signals.m > 7 * top.signals.m  # raw gain: 31× vs 4×
    assert _q(top) > 0.3 and _q(low) < _q(top)
    assert low.metrics["sales_rank"] == 3_000 and top.metrics["sales_rank"] == 45
    # the same +3,000% with no review count still loses to the climb in the top category
    bare = [dict(rows[0]), *rows[1:]]
    del bare[0]["reviewsCount"]
    items = {i.canonical_ids[0]: i for i in amazon.score(list(amazon.parse(bare, NOW)), {})}
    assert _q(items["asin:B0LOWVOL01"]) < _q(items["asin:B0TOPCAT01"])


def test_amazon_previously_unranked_at_a_strong_rank_is_a_breakout() -> None:
    rows = [
        amazon_row("B0NEWENTRY", 1, percent="previously unranked", movement="Sales rank: 85 (previously unranked)", reviews=640),
        amazon_row("B0WEAKNEW1", 2, percent="previously unranked", movement="Sales rank: 40,000 (previously unranked)", reviews=12),
        *FILLER,
    ]
    items = {i.canonical_ids[0]: i for i in amazon.score(list(amazon.parse(rows, NOW)), {})}
    new = items["asin:B0NEWENTRY"].signals
    assert new is not None and new.eligible and "breakout" in new.flags and new.q > 0.3
    assert new.baseline_level == "prior" and new.m is not None and new.m > 3  # the list's median gain, not "m = 1"
    weak = items["asin:B0WEAKNEW1"].signals  # one or two sales: no breakout
    assert weak is not None and not weak.eligible and "breakout" not in weak.flags and weak.q == 0.0


def test_amazon_previously_unranked_at_a_strong_rank_leads_a_list_of_modest_movers() -> None:
    """It had no sales rank at all and now sells at rank 85: a bigger move than +60% to +150% rows show,
    however little the rest of its list moved."""
    modest = [
        amazon_row(f"B0MODEST0{k}", k + 2, percent=f"{pct}%", movement=f"Sales rank: {now} (previously {prev})", reviews=1_500)
        for k, (pct, now, prev) in enumerate([(150, 300, 750), (90, 800, 1_520), (60, 1_500, 2_400), (120, 200, 440)])
    ]
    rows = [amazon_row("B0NEWENTRY", 1, percent="previously unranked", movement="Sales rank: 85 (previously unranked)",
                       reviews=640), *modest]
    items = {i.canonical_ids[0]: i for i in amazon.score(list(amazon.parse(rows, NOW)), {})}
    new = items["asin:B0NEWENTRY"].signals
    assert new is not None and new.eligible and "breakout" in new.flags
    assert new.q > 0.3 and all(new.q > items[f"asin:B0MODEST0{k}"].signals.q for k in range(4))  # type: ignore[union-attr]


# --- YouTube ---------------------------------------------------------------------------------------


def yt_video(vid: str, channel: str, views: int, *, hours: float, uploads: list[int], duration: str = "PT11M20S") -> dict:
    published = (NOW - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = [{"id": vid, "snippet": {"publishedAt": published}, "contentDetails": {"duration": duration},
               "statistics": {"viewCount": str(views)}}]
    recent += [{"id": f"{channel[-4:]}up{k:05d}", "snippet": {"publishedAt": (NOW - timedelta(days=5 + 3 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")},
                "contentDetails": {"duration": "PT12M"}, "statistics": {"viewCount": str(v)}} for k, v in enumerate(uploads)]
    return {
        "kind": "youtube#video", "etag": "e", "id": vid,
        "snippet": {"publishedAt": published, "channelId": channel, "title": f"video {vid}", "description": "",
                    "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{vid}/default.jpg", "width": 120, "height": 90},
                                   "high": {"url": f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg", "width": 480, "height": 360}},
                    "channelTitle": channel, "categoryId": "26", "liveBroadcastContent": "none"},
        "contentDetails": {"duration": duration, "definition": "hd", "caption": "false"},
        "statistics": {"viewCount": str(views), "likeCount": str(views // 30), "favoriteCount": "0"},
        "_channel": {"viewCount": str(sum(uploads) + views), "subscriberCount": "2100" if not uploads else "250000",
                     "hiddenSubscriberCount": False, "videoCount": str(len(uploads) + 1)},
        "_channel_recent": recent,
    }


def test_youtube_brand_new_channel_breakout_uses_the_population_prior() -> None:
    rows = [
        yt_video("EstabChan01", "UCestablished0000000000001", 70_000, hours=90, uploads=[60_000, 55_000, 72_000, 61_000, 58_000, 66_000]),
        yt_video("EstabChan02", "UCestablished0000000000002", 85_000, hours=80, uploads=[80_000, 91_000, 77_000, 84_000, 79_000]),
        yt_video("EstabChan03", "UCestablished0000000000003", 240_000, hours=70, uploads=[250_000, 230_000, 270_000, 260_000, 245_000]),
        yt_video("BrandNew001", "UCbrandnewchannel000000001", 1_400_000, hours=60, uploads=[]),
        yt_video("TinyChan001", "UCtinychannel0000000000001", 2_000, hours=90, uploads=[40, 35, 45]),
    ]
    items = {i.source_id: i for i in youtube.score(list(youtube.parse(rows, NOW)), {})}
    new = items["BrandNew001"].signals
    assert new is not None and new.eligible and "breakout" in new.flags and new.baseline_level == "prior"
    assert new.baseline == (60_500 + 80_000) / 2 and new.n_baseline == 4  # the median of the peers' channel medians
    assert new.m is not None and new.m > 15  # not "m = 1"
    assert new.q > 0.6 and new.q > max(_q(items[f"EstabChan0{k}"]) for k in (1, 2, 3))
    assert all(_q(items[f"EstabChan0{k}"]) == 0.0 for k in (1, 2, 3))  # at their channels' norms
    tiny = items["TinyChan001"].signals  # 50× a 40-view median: noise, kept out by the volume floor
    assert tiny is not None and tiny.m is not None and tiny.m > 40 and tiny.q == 0.0 and not tiny.eligible
    assert items["BrandNew001"].thumbnail == "https://i.ytimg.com/vi/BrandNew001/hqdefault.jpg"


# --- X -----------------------------------------------------------------------------------------------


def tweet(handle: str, followers: int, likes: int, *, hours: float, text: str = "restocked again this week") -> dict:
    tid = str(next(_ids) + 10**18)
    return {
        "type": "tweet", "id": tid, "url": f"https://x.com/{handle}/status/{tid}", "twitterUrl": f"https://twitter.com/{handle}/status/{tid}",
        "text": text, "source": "Twitter for iPhone", "retweetCount": likes // 8, "replyCount": likes // 25,
        "likeCount": likes, "quoteCount": likes // 60, "bookmarkCount": likes // 30,
        "createdAt": (NOW - timedelta(hours=hours)).strftime("%a %b %d %H:%M:%S +0000 %Y"), "lang": "en",
        "isReply": False, "isRetweet": False, "isQuote": False,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
        "author": {"type": "user", "userName": handle, "url": f"https://x.com/{handle}", "id": str(10**17 + crc32(handle.encode())),
                   "name": handle.title(), "isVerified": False, "isBlueVerified": False, "followers": followers,
                   "following": 400, "favouritesCount": 5000, "mediaCount": 300, "statusesCount": 12000},
        "viewCount": likes * 40,
    }


def test_x_flooding_by_mediocre_posts_never_counts_and_one_real_spike_does() -> None:
    rows: list[dict] = []
    # 9 accounts × 5 posts, each post within ±20% of its account's usual likes (≈1.2× at most); the accounts'
    # likes per follower differ 3× from one another, as real accounts do
    accounts = [("dealsdaily", 41_000, 300), ("growthnotes", 65_000, 700), ("retailwatch", 212_000, 1_500),
                ("dtcfounder", 18_000, 400), ("kitchenpro", 90_000, 650), ("beautyedit", 150_000, 1_900),
                ("gadgetnews", 300_000, 2_100), ("shopowner", 2_500, 60), ("homefinds", 33_000, 310)]
    for handle, followers, usual in accounts:
        for k, factor in enumerate((0.85, 1.0, 1.2, 0.9, 1.1)):
            rows.append(tweet(handle, followers, int(usual * factor), hours=6 + 9 * k))
    spike_rows = [tweet("gadgetguy", 3_100, likes, hours=10 + 12 * k) for k, likes in enumerate((52, 61, 47, 58))]
    spike_rows.append(tweet("gadgetguy", 3_100, 2_410, hours=14, text="the SnapGrip magnetic grip sold out twice"))
    items = x.score(list(x.parse(rows + spike_rows, NOW)), {})
    flood = [i for i in items if i.author != "gadgetguy"]
    assert len(flood) == 45 and all(_q(i) == 0.0 for i in flood)
    spike = next(i for i in items if "SnapGrip" in i.title)
    assert spike.signals is not None and spike.signals.m is not None and spike.signals.m > 30
    assert _q(spike) > 0.8 and spike.signals.baseline_level == "author"
    assert all(_q(i) == 0.0 for i in items if i.author == "gadgetguy" and i is not spike)
