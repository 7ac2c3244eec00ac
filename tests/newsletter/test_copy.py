"""The offline writer writes like an editor from the evidence: named products, numbers with source and window,
a specific "why", caveats only when they add something, no stock sentence repeated down the page."""

from __future__ import annotations

import json
import re

from ai_content_agents.newsletter import factcheck, quality
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.sections import SECTION_SPECS, TOP
from ai_content_agents.newsletter.template_writer import TemplateWriter

from . import stories as S


def issue():  # type: ignore[no-untyped-def]
    return compose(S.report(), TemplateWriter(), now=S.NOW)


def test_lines_are_distinct_and_no_five_word_phrase_repeats_more_than_twice() -> None:
    nl = issue()
    q = nl.quality
    assert q["content_lines"] >= 30
    assert q["distinct_line_share"] >= 0.9, q
    assert q["max_phrase_repeats"] <= 2, quality.repeated_phrases(nl)


def test_same_evidence_same_issue() -> None:
    a, b = issue(), issue()
    assert json.dumps([s.model_dump() for s in a.sections]) == json.dumps([s.model_dump() for s in b.sections])


def test_headlines_name_the_product_and_never_reuse_a_post_title() -> None:
    nl = issue()
    post_titles = {it.title for t in S.top_stories() for it in t.items if it.source in ("reddit", "x", "tiktok", "youtube")}
    for s in nl.sections:
        for c in s.items:
            assert c.headline not in post_titles and not any(p in c.headline for p in post_titles)
            assert len(c.headline.split()) <= 14
    top = nl.sections[0].items[0]
    assert top.headline.startswith("LumaGlow LED Face Mask")
    assert "Amazon" in top.signal and "Nov 20" in top.signal and "2,340%" in top.signal  # number, source, window


def test_why_it_matters_is_specific_and_caveats_appear_only_when_they_add_something() -> None:
    nl = issue()
    whys = [c.why_it_matters for s in nl.sections for c in s.items]
    assert all(whys) and len(set(whys)) == len(whys)
    caveats = [c.caveat for s in nl.sections for c in s.items if c.caveat]
    assert 0 < len(caveats) < len(whys)
    blenders = next(c for s in nl.sections for c in s.items if c.cluster_id == "story:blenders")
    assert "estimate" in blenders.caveat  # the shop figures are TikTok's estimates
    assert "est. 412" in blenders.corroboration


def test_every_variant_the_writer_can_choose_passes_the_fact_check() -> None:
    for injected in (False, True):
        report = S.report(S.top_stories(injected))
        for spec in SECTION_SPECS[:-1]:
            for slot in range(10):
                for t in report.trends:
                    attached = {t.cluster_id: "Amazon movers"} if slot % 2 else {}
                    issue_spec = spec.model_copy(update={"first_slot": slot, "attached": attached})
                    section = TemplateWriter().write_section(issue_spec, [t], report)
                    check = factcheck.check_section(section, [t])
                    assert check.passed, (spec.key, slot, t.cluster_id, [f.text for f in check.figures if not f.grounded],
                                          check.bad_claims, check.bad_links)


def test_quality_figures_are_in_the_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.newsletter.render import render

    paths = render(issue(), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["quality"]["distinct_line_share"] >= 0.9 and data["quality"]["max_phrase_repeats"] <= 2


def _mask_story_with_a_shop_product_of_its_own():  # type: ignore[no-untyped-def]
    """LED face masks: LumaGlow's listing; the user's own shop mask, a product of its own; a thread on
    LED masks that names no brand; an X post at its usual numbers (not counted)."""
    from ai_content_agents.models import ProductRef

    lumaglow = [
        S.item("amazon", "B0EXLEDMSK", "LumaGlow LED Face Mask, 7-Color Red Light Therapy Mask",
               {"position": 1, "percent_gain": 2340}, m_s=18.0, level="page", q=0.9, price="89.99",
               category="Beauty & Personal Care", window="24 h sales-rank change", asin="B0EXLEDMSK"),
    ]
    shop = S.item("tiktok_shop", "product:1729384756102938002", "Glow Goods LED Face Mask", {"units_sold": 96},
                  m_s=3.0, level="history", q=0.5, price="59.00", window="7 d to Nov 20")
    thread = S.item("reddit", "1qx9aa1", "are LED face masks worth it?", {"score": 940, "comments": 310}, m_s=7.7,
                    level="group", q=0.7, kind="median upvotes/hour of the subreddit", group="SkincareAddiction")
    quiet = S.item("x", "1990402934276321999", "LED mask flash deal is live", {"likes": 41}, m_s=1.1, level="author",
                   q=0.0, kind="the author's median likes", author="someone_else")
    t = S.story("story:led-masks", 1, [*lumaglow, shop, thread, quiet], topic="LED face masks",
                counted={"amazon", "tiktok_shop", "reddit"}, score=0.99)
    t.products = [
        ProductRef(product_id="asin:B0EXLEDMSK", title=lumaglow[0].title, listing=True, brand="LumaGlow",
                   item_keys=[i.key for i in lumaglow], sources=["amazon"], score=0.99),
        ProductRef(product_id="tiktok_product:1729384756102938002", title=shop.title, listing=True, brand="Glow Goods",
                   item_keys=[shop.key], sources=["tiktok_shop"], score=0.5),
        ProductRef(product_id="reddit:1qx9aa1", title=thread.title, item_keys=[thread.key], sources=["reddit"], score=0.7),
        ProductRef(product_id="x:1990402934276321999", title=quiet.title, item_keys=[quiet.key], sources=["x"], score=0.0),
    ]
    return t


def test_a_story_of_several_products_keeps_each_products_figures_its_own() -> None:
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    trend = _mask_story_with_a_shop_product_of_its_own()
    for slot in range(10):  # every wording the writer can choose
        copy = story_copy(trend_payload(trend), TOP, slot)
        assert copy.headline.startswith("LumaGlow") and "your shop" not in copy.headline, copy.headline
        text = copy.corroboration
        shop_clause = next(c for c in text.replace(". ", "; ").split("; ") if "96" in c)
        assert "Glow Goods LED Face Mask" in shop_clause, text  # the shop's units are its own mask's, not LumaGlow's
        thread_clause = next(c for c in text.replace(". ", "; ").split("; ") if "940" in c)
        assert "LED face masks in general" in thread_clause or "on LED face masks in general:" in text, text
        agree, _, rest = text.partition(". ")
        assert "41 likes" not in agree and "41 likes" in rest, text  # not counted: never said to agree
        why = copy.why_it_matters  # your shop sells its own mask, not LumaGlow's
        assert "already selling in your shop" not in why and ("your shop" not in why or "Glow Goods" in why), why
        assert "Glow Goods LED Face Mask" in copy.action and "LumaGlow" not in copy.action, copy.action
        section = TemplateWriter().write_section(
            SECTION_SPECS[0].model_copy(update={"first_slot": slot}), [trend], S.report([trend])
        )
        assert "Amazon, Reddit and your TikTok Shop all show it" in section.intro, section.intro  # X did not count
        check = factcheck.check_section(section, [trend])
        assert check.passed, [f.text for f in check.figures if not f.grounded]


def test_a_story_whose_strongest_signal_is_old_says_it_may_have_peaked() -> None:
    """A replay weeks after its snapshot: ranking labels the stories peaked, and the copy must not read as news."""
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    old = S.masks().model_copy(update={"label": "peaked", "label_reason": "amazon: the strongest signal is 49 days old"})
    for slot in range(6):
        caveat = story_copy(trend_payload(old), TOP, slot).caveat
        assert "peak" in caveat or "fading" in caveat, caveat
    assert "peak" not in story_copy(trend_payload(S.masks()), TOP, 0).caveat


def test_a_headline_credits_a_platform_only_with_the_named_products_own_numbers() -> None:
    """A TikTok video on LED masks in general that never names LumaGlow: LumaGlow is not "spreading on TikTok"."""
    from ai_content_agents.models import ProductRef
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    base = _mask_story_with_a_shop_product_of_its_own()
    video = S.item("tiktok", "7438100000069516999", "LED masks: worth it?", {"plays": 940_000}, m_s=9.0,
                   level="author", q=0.8, kind="the creator's median plays", author="skin_by_sam")
    trend = S.story("story:led-masks", 1, [*base.items, video], topic="LED face masks",
                    counted={"amazon", "tiktok_shop", "reddit", "tiktok"}, score=0.99)
    trend.products = [*base.products, ProductRef(product_id=video.key, title=video.title, item_keys=[video.key],
                                                 sources=["tiktok"], score=0.8)]
    for slot in range(6):
        copy = story_copy(trend_payload(trend), TOP, slot)
        assert "TikTok" not in copy.headline, copy.headline


def test_a_plural_product_name_takes_a_plural_verb_and_a_subreddit_takes_an() -> None:
    """"ClawCare Cat Nail Clippers jump", not "jumps"; "an r/cats thread", not "a r/cats thread"."""
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    clippers = S.story("story:clippers", 1, [
        S.item("amazon", "B0PET00003", "ClawCare Cat Nail Clippers with Guard", {"position": 4, "percent_gain": 650},
               m_s=6.0, level="page", q=0.83, price="12.99", category="Pet Supplies", window="24 h sales-rank change",
               asin="B0PET00003"),
        S.item("reddit", "1k30100", "ClawCare clippers finally made nail day painless", {"score": 820, "comments": 95},
               m_s=5.0, level="group", q=0.6, kind="median upvotes/hour of the subreddit", group="cats",
               author="example_redditor"),
    ], topic="cat nail clippers", product="ClawCare Cat Nail Clippers", brand="ClawCare", score=0.9)
    texts = []
    for slot in range(12):  # every wording the writer can choose
        copy = story_copy(trend_payload(clippers), TOP, slot)
        texts.append(" ".join([copy.headline, copy.signal, copy.corroboration, copy.why_it_matters, copy.action]))
    said = " | ".join(texts)
    assert not re.search(r"Clippers (is|jumps|climbs|surges|reaches|moves|takes)\b", said), said
    assert re.search(r"Clippers (jump|climb|surge)\b", said), said
    assert not re.search(r"\ba r/", said, re.I) and "an r/cats thread" in said, said


def test_amazon_places_links_and_shop_videos_say_what_they_are() -> None:
    """A place on Movers & Shakers is no sales rank; a second "View on Amazon" would be the look-alike's listing;
    units a shop video drove are the video's, not the product's."""
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    pad = S.item("amazon", "B0FWALKPD1", "StrideDesk Walking Pad Treadmill Under Desk, 2.5HP Portable",
                 {"position": 1, "percent_gain": 2639}, m_s=20.0, level="page", q=0.9, price="229.99",
                 category="Sports & Outdoors", window="24 h sales-rank change", asin="B0FWALKPD1")
    pad.group = "movers-and-shakers/sporting-goods"
    other = S.item("amazon", "B0FWALKEZ1", "WalkEase Under Desk Treadmill, Portable Mini Treadmill",
                   {"position": 9, "percent_gain": 150}, m_s=2.0, level="page", q=0.3, price="199.99",
                   category="Sports & Outdoors", window="24 h sales-rank change", asin="B0FWALKEZ1")
    video = S.item("tiktok_shop", "video:7449000000000000201", "my 3pm walking pad reset", {"units_sold": 180},
                   m_s=3.0, level="history", q=0.6, kind="trailing 21 d before the window", window="7 d to Nov 20")
    trend = S.story("story:pads", 1, [pad, other, video], topic="walking pads", product=pad.title, brand="StrideDesk",
                    score=0.99)
    for slot in range(6):
        copy = story_copy(trend_payload(trend), TOP, slot)
        text = " ".join([copy.signal, copy.corroboration])
        assert "Movers & Shakers" in text or "movers" in text, text
        assert not re.search(r"#1 in Sports & Outdoors(?! [Mm]overs)", text), text
        assert sum("amazon.com" in u for u in copy.links) <= 1, copy.links
        assert "180 units sold" not in text or "video" in text, text


def test_the_footer_counts_claims_and_withheld_sections_in_words_that_agree() -> None:
    from ai_content_agents.newsletter.render import footer

    nl = issue()
    claims = sum(len(c.claims) for c in nl.factcheck)
    assert claims >= 1
    text = footer(nl)
    assert "(s)" not in text
    assert (f"{claims} third-party claims quoted" if claims > 1 else "1 third-party claim quoted") in text
    one = nl.model_copy(deep=True)
    one.sections[0].error = "the writer timed out"
    assert "1 section withheld." in footer(one) and "(s)" not in footer(one)


def test_each_link_goes_to_the_item_whose_figure_the_copy_cites() -> None:
    """The trend of the week cited a post's upvotes but its "Read on Reddit" went to another post of the story (the
    first in its canonical URLs), and the TikTok video whose plays it cited had no link at all."""
    from urllib.parse import urlsplit

    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    fountain = S.item("amazon", "B0PFOUNT01", "PawPal Cat Water Fountain, 2.5L Ultra-Quiet Pet Fountain",
                      {"position": 3, "percent_gain": 2111}, m_s=20.0, level="page", q=0.95, price="29.99",
                      category="Pet Supplies", window="24 h sales-rank change", asin="B0PFOUNT01")
    faucet = S.item("reddit", "1r57c4f", "My cat only drinks from the faucet, any ideas?", {"score": 150, "comments": 40},
                    m_s=1.5, level="group", q=0.2, kind="median upvotes/hour of the subreddit", group="CatAdvice")
    switched = S.item("reddit", "1r1a43c", "Switched to the PawPal fountain and my cat finally drinks",
                      {"score": 2100, "comments": 340}, m_s=5.9, level="group", q=0.8,
                      kind="median upvotes/hour of the subreddit", group="CatAdvice")
    video = S.item("tiktok", "7440000000000000001", "PawPal fountain changed everything", {"plays": 4_200_000},
                   m_s=9.0, level="author", q=0.85, kind="the creator's median plays", author="catladyjess")
    trend = S.story("story:fountains", 1, [fountain, faucet, switched, video], topic="cat water fountains",
                    product=fountain.title, brand="PawPal", score=0.99)
    for slot in range(6):
        copy = story_copy(trend_payload(trend), TOP, slot)
        said = " ".join([copy.signal, copy.corroboration])
        assert "2,100 upvotes" in said and "4.2M plays" in said, said
        by_site = {(urlsplit(u).hostname or "").removeprefix("www."): u for u in copy.links}
        assert len(by_site) == len(copy.links), copy.links  # one per site
        assert by_site.get("reddit.com") == switched.url, copy.links
        assert by_site.get("tiktok.com") == video.url, copy.links
        assert by_site.get("amazon.com") == fountain.url, copy.links


def test_a_shop_window_is_said_to_end_on_its_last_day_not_the_day_it_was_read() -> None:
    """The shop's analytics are next-day: read on Dec 11, its 7 days run Dec 4-10 ("7 d to 2026-12-10"). Copy said
    "over the 7 d ending Dec 11"; the window's own last day is the one to name."""
    import json
    from importlib import resources

    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy
    from ai_content_agents.sources import tiktok_shop

    rows = json.loads(resources.files("ai_content_agents").joinpath("data/sample/tiktok_shop.json").read_text())
    row = {**rows[0], "window_start": "2026-11-13", "window_end": "2026-11-19", "latest_available_date": "2026-11-19"}
    shop = tiktok_shop.parse([row], S.NOW)[0]  # read on Nov 20, the window's last day Nov 19
    assert shop.window == "7 d to 2026-11-19"
    shop.signals = S.item("tiktok_shop", "x", "x", {"units_sold": 412}, m_s=4.8, level="history", q=0.7).signals
    listing = S.blenders().items[0]
    with_listing = S.story("story:blenders", 1, [listing, shop], topic="portable blenders", product=listing.title,
                           brand="BlendGo", score=0.97)
    alone = S.story("story:shop", 1, [shop], topic="portable blenders", product=shop.title, score=0.9)
    for slot in range(6):
        for trend in (with_listing, alone):
            copy = story_copy(trend_payload(trend), TOP, slot)
            said = next(c for c in re.split(r"[.;] ", " ".join([copy.signal, copy.corroboration])) if "TikTok Shop" in c)
            assert "Nov 19" in said and "Nov 20" not in said, said


def test_a_multiple_said_against_a_median_is_the_plain_ratio_a_reader_can_check() -> None:
    """1.8M plays against the creator's median of 90,000 is 20.0×; copy printed the shrunk multiple (17.1×) as
    "17.1× the creator's median". And a baseline that is no median is not called one."""
    from ai_content_agents.models import Section
    from ai_content_agents.newsletter.evidence import baseline_label, trend_payload
    from ai_content_agents.newsletter.sections import CREATORS
    from ai_content_agents.newsletter.template_writer import story_copy

    video = S.item("tiktok", "7440272314053835355", "fridge reset with the clear bins", {"plays": 1_800_000},
                   m_s=20.0, level="author", q=0.9, kind="median plays of the author's other videos this run",
                   author="resetwithrae", group="fridgeorganization")
    assert video.signals is not None
    video.signals = video.signals.model_copy(update={"baseline": 90_000.0, "m": 20.0, "m_s": 17.119})
    listing = S.item("amazon", "B0KFRIDG01", "Stackwell Clear Fridge Organizer Bins, 8 Pack",
                     {"position": 4, "percent_gain": 856}, m_s=6.0, level="page", q=0.8, price="24.99",
                     category="Kitchen & Dining", window="24 h sales-rank change", asin="B0KFRIDG01")
    trend = S.story("story:bins", 1, [video, listing], topic="fridge organizer bins", product=listing.title,
                    brand="Stackwell", score=0.95)
    for slot in range(6):
        copy = story_copy(trend_payload(trend), CREATORS, slot)
        said = " ".join([copy.headline, copy.signal, copy.corroboration])
        assert "20.0× the creator's median" in copy.signal and "20.0×" in copy.headline, said
        assert "17.1" not in said, said
        check = factcheck.check_section(Section(key=CREATORS, title="Creator watch", items=[copy]), [trend])
        assert check.passed, [f.text for f in check.figures if not f.grounded]
    post = S.item("x", "1990203091020811911", "these bins", {"likes": 900, "views": 40_000}, m_s=1.1, level="author",
                  q=0.1, kind="author's followers × the run's median engagement per follower (0.0284)", author="a")
    assert "median" not in baseline_label(post)
    thread = S.item("reddit", "1rcccd8", "a thread", {"score": 1300, "comments": 280}, m_s=2.8, level="group", q=0.6,
                    kind="median upvotes/hour of the other posts from the same subreddit this run", group="chefknives")
    assert baseline_label(thread) == "the subreddit's median pace"  # upvotes per hour, not upvotes


def test_a_new_entry_on_amazon_says_it_is_new_and_where_it_came_in() -> None:
    """A mover with no percentage ("previously unranked") is new to the list: the copy says so, with the sales rank
    it came in at, not just its place."""
    from ai_content_agents.newsletter import factcheck
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    sprayer = S.item("amazon", "B0KOILSP01", "Mistique Oil Sprayer for Cooking, 7oz Glass Olive Oil Mister",
                     {"position": 1, "sales_rank": 140, "previously_unranked": 1}, m_s=12.0, level="page", q=0.9,
                     price="12.99", category="Home & Kitchen", window="24 h sales-rank change", asin="B0KOILSP01")
    sprayer.group = "movers-and-shakers/kitchen"
    trend = S.story("story:sprayers", 1, [sprayer], topic="oil sprayers", product=sprayer.title, brand="Mistique",
                    score=0.97)
    for slot in range(4):
        copy = story_copy(trend_payload(trend), TOP, slot)
        text = " ".join([copy.signal, copy.corroboration])
        assert re.search(r"\bnew\b", text, re.IGNORECASE) and "140" in text, text
        section = TemplateWriter().write_section(SECTION_SPECS[0].model_copy(update={"first_slot": slot}), [trend],
                                                 S.report())
        assert factcheck.check_section(section, [trend]).passed


def test_no_two_stories_of_an_issue_get_the_same_amazon_action() -> None:
    """An issue has ten slots; Amazon-only stories with a price each get their own move (five wordings repeated one
    in two issues)."""
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import story_copy

    mask = S.item("amazon", "B0EXLEDMSK", "LumaGlow LED Face Mask, 7-Color Red Light Therapy Mask",
                  {"position": 3, "percent_gain": 240}, m_s=4.0, level="page", q=0.6, price="89.99",
                  category="Beauty & Personal Care", window="24 h sales-rank change", asin="B0EXLEDMSK")
    trend = S.story("story:masks", 1, [mask], topic="LED face masks", product=mask.title, brand="LumaGlow", score=0.6)
    moves = [story_copy(trend_payload(trend), TOP, slot).action for slot in range(10)]
    openings = [" ".join(m.split()[:4]) for m in moves]
    assert len(set(openings)) == 10, moves


def test_a_thread_with_no_claim_says_what_it_is_about_and_does_not_repeat_the_story_s_figures() -> None:
    """A thread attached to a story written up above had only its upvotes, the same figure the story gave: the reader
    learned nothing. It says what the thread is about, in its own words, quoted."""
    from ai_content_agents.newsletter.evidence import trend_payload
    from ai_content_agents.newsletter.template_writer import thread_copy

    kit = S.item("amazon", "B0KSHARP01", "SharpRoll Rolling Knife Sharpener Kit, Magnetic Angle Holder",
                 {"position": 2, "percent_gain": 2033}, m_s=20.0, level="page", q=0.9, price="69.99",
                 category="Home & Kitchen", window="24 h sales-rank change", asin="B0KSHARP01")
    thread = S.item("reddit", "1rcccd8", "SharpRoll vs RollSharp: one is a clone, here's how to tell",
                    {"score": 1300, "comments": 280}, m_s=3.3, level="group", q=0.6,
                    kind="median upvotes/hour of the subreddit", group="chefknives")
    trend = S.story("story:sharp", 2, [kit, thread], topic="rolling knife sharpeners", product=kit.title,
                    brand="SharpRoll", score=0.96)
    payload = trend_payload(trend)
    assert payload.threads, "the thread is quotable"
    for slot in range(3):
        copy = thread_copy(payload, slot, "Creator watch")
        assert "“SharpRoll vs RollSharp: one is a clone, here's how to tell”" in copy.signal, copy.signal
        assert "1,300" not in copy.signal, copy.signal
    # a title with a link in it is not quoted (the fact-check would read it as a link of the story's)
    thread.title = "the SharpRoll is a scam, get it at www.sharproll.com instead"
    payload = trend_payload(S.story("story:sharp", 2, [kit, thread], topic="rolling knife sharpeners",
                                    product=kit.title, brand="SharpRoll", score=0.96))
    assert all("www." not in thread_copy(payload, slot, "Creator watch").signal for slot in range(3))
