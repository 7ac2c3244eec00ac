"""Editorial composition: each section holds what its name says, no story twice, fewer items rather than filler."""

from __future__ import annotations

from ai_content_agents.newsletter import story
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.sections import ACTIONS, AMAZON, CREATORS, SELLERS, TOP, featured_ids, select
from ai_content_agents.newsletter.template_writer import TemplateWriter

from . import stories as S


def ids(picks):  # type: ignore[no-untyped-def]
    return {k: [t.cluster_id for t in v] for k, v in picks.items()}


def test_the_trend_of_the_week_is_the_strongest_corroborated_story_not_rank_one() -> None:
    lone = S.forum_only()  # rank 1, single source
    rest = S.top_stories()
    for i, t in enumerate(rest, 2):
        t.rank = i
    picks = select([lone, *rest])
    assert ids(picks)[TOP] == ["story:led-masks"]
    assert lone.cluster_id not in featured_ids(ids(picks))  # a thread about no product is not a story to feature


def test_with_nothing_corroborated_the_strongest_named_story_leads_and_says_so() -> None:
    curlers = S.curlers()
    curlers.rank = 1
    nl = compose(S.report([curlers]), TemplateWriter(), now=S.NOW)
    top = nl.sections[0]
    assert [c.cluster_id for c in top.items] == ["story:curlers"]
    assert "second source" in top.intro and "Only Amazon shows it" in top.items[0].caveat


def test_creator_watch_holds_only_tiktok_and_youtube_videos_far_ahead_of_their_norm() -> None:
    picks = select(S.top_stories())
    assert ids(picks)[CREATORS] == ["story:walking-pads"]
    nl = compose(S.report(), TemplateWriter(), now=S.NOW)
    creators = next(s for s in nl.sections if s.key == CREATORS)
    for c in creators.items:
        assert c.focus_key.split(":")[0] in ("tiktok", "youtube")
        trend = next(t for t in S.top_stories() if t.cluster_id == c.cluster_id)
        video = next(it for it in trend.items if it.key == c.focus_key)
        assert story.multiple(video) >= story.CREATOR_MIN_MULTIPLE
    # a video at its creator's norm is not a creator outlier
    quiet = S.walking_pad_video()
    for it in quiet.items:
        assert it.signals is not None
        it.signals = it.signals.model_copy(update={"m_s": 1.4, "m": 1.4})
    assert story.creator_video(quiet) is None and CREATORS not in ids(select([quiet]))[CREATORS]


def test_amazon_movers_are_listings_that_moved_and_sellers_are_threads() -> None:
    picks = ids(select(S.top_stories()))
    assert picks[AMAZON] == ["story:blenders", "story:grips", "story:curlers"]
    # threads: attached to featured stories (masks, grips), or standing on their own product (lunch boxes)
    assert picks[SELLERS] == ["story:led-masks", "story:grips", "story:lunchboxes"]
    assert "x:1990504454232225428" not in picks[SELLERS]  # "first restock sold out": about no product


def test_no_story_is_written_up_twice_and_each_gets_one_distinct_action() -> None:
    nl = compose(S.report(), TemplateWriter(), now=S.NOW)
    written = [c.cluster_id for s in nl.sections for c in s.items if not c.see_also]
    assert len(written) == len(set(written)) == 6
    pointers = [c for s in nl.sections for c in s.items if c.see_also]
    assert {c.cluster_id for c in pointers} <= set(written) and all(not c.action for c in pointers)
    actions = next(s for s in nl.sections if s.key == ACTIONS)
    assert actions.bullet_ids == written
    assert len(set(actions.bullets)) == len(actions.bullets)
    bodies = [b.split(": ", 1)[1] for b in actions.bullets]
    assert len(set(bodies)) == len(bodies)  # not the same advice with a different name
    assert not any(c.action in s.intro for s in nl.sections for c in s.items if c.action)


def test_an_empty_section_says_so_instead_of_filling_up() -> None:
    only_amazon = [S.curlers()]
    only_amazon[0].rank = 1
    nl = compose(S.report(only_amazon), TemplateWriter(), now=S.NOW)
    creators = next(s for s in nl.sections if s.key == CREATORS)
    assert not creators.items and not creators.error and "No creator video" in creators.intro
    assert [len(s.items) for s in nl.sections if s.key != ACTIONS] == [1, 0, 0, 0]


def test_capped_and_ineligible_stories_are_never_featured() -> None:
    stories = S.top_stories()
    stories[1].flags.append("capped")
    stories[2].flags.append("ineligible")
    featured = featured_ids(ids(select(stories)))
    assert "story:blenders" not in featured and "story:grips" not in featured


def test_a_corroborated_story_led_by_a_thread_is_written_up_in_full_and_its_thread_attached() -> None:
    """A lunch box a Reddit thread leads and Amazon confirms is a story for Amazon movers, with the thread beside it
    in What sellers are saying, not only a thread."""
    masks, lunchboxes = S.masks(), S.lunchboxes()
    lunchboxes.rank = 2
    assert story.corroborated(lunchboxes) and story.lead_item(lunchboxes).source == "reddit"  # type: ignore[union-attr]
    picks = ids(select([masks, lunchboxes]))
    assert picks[AMAZON] == ["story:lunchboxes"]
    assert "story:lunchboxes" in picks[SELLERS]  # its thread, attached to the write-up


def test_a_thread_about_no_product_stays_out_even_when_ranking_made_it_a_product_of_its_own() -> None:
    """Ranking gives every story at least one product (a lone thread is one); that is no product to write about."""
    from ai_content_agents.models import ProductRef

    tweet = S.restock_tweet()
    tweet.products = [ProductRef(product_id=tweet.cluster_id, title=tweet.title, item_keys=[i.key for i in tweet.items],
                                 sources=["x"], score=0.8)]
    assert not story.product_anchor(tweet)
    assert tweet.cluster_id not in featured_ids(ids(select([S.masks(), tweet])))


def test_a_product_name_never_ends_on_a_pack_size() -> None:
    assert story.short_name("ZenShield Tempered Glass Screen Protector 2 Pack") == "ZenShield Tempered Glass Screen Protector"
    assert story.short_name("Vitamin C Brightening Serum 30ml") == "Vitamin C Brightening Serum"  # nor on a size
    assert story.short_name("Insulated Tumbler 40oz") == "Insulated Tumbler"
    # a long name keeps its brand and the words that end on its noun, not a cut mid-phrase
    assert story.short_name("Aurelle 14K Gold Plated Chunky Hoop Earrings for Women") == "Aurelle Gold Plated Chunky Hoop Earrings"
    assert story.short_name("StrideDesk Walking Pad Treadmill Under Desk, 2.5HP") == "StrideDesk Walking Pad Treadmill"
    assert story.short_name("StrapHaus Braided Solo Loop Band Compatible with Apple Watch") == "StrapHaus Braided Solo Loop Band"
    assert story.reference("Magnetic Clear Phone Case") == "Magnetic Clear Phone Case"  # not "Magnetic Clear"
    assert story.reference("LumaGlow LED Face Mask") == "LumaGlow"
