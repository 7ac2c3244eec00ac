"""The bundled sample, ranked as a new user sees it (`trends --sample`): the week's multi-platform stories
lead, each once. The sample files are a fixture users see; this test reads them and never edits them."""

from __future__ import annotations

from ai_content_agents import pipeline
from ai_content_agents.config import Settings

EXPECTED = {  # product type → the brand whose listing anchors it
    "LED face masks": "LumaGlow",
    "portable blenders": "BlendGo",
    "magnetic phone grips": "SnapGrip",
    "heatless curlers": "SilkCurl",
    "lunch boxes": "SealTight",
}


def _report():  # type: ignore[no-untyped-def]
    return pipeline.gather(Settings(_env_file=None), None, mode="sample")


def test_the_five_multi_platform_stories_lead_the_sample() -> None:
    top5 = _report().trends[:5]
    assert {t.topic for t in top5} == set(EXPECTED), [(t.topic, t.title) for t in top5]
    for t in top5:
        brand = EXPECTED[t.topic or ""]
        assert any(brand in p.title for p in t.products), (t.topic, [p.title for p in t.products])
        assert t.independent_sources >= 2 and "single_source" not in t.flags  # corroborated


def test_no_story_appears_twice_in_the_top_20() -> None:
    trends = _report().trends
    top20 = trends[:20]
    topics = [t.topic for t in top20 if t.topic]
    assert len(topics) == len(set(topics))
    # and no item about one of the five stories stands alone in the top 20 either
    five = [t for t in trends[:5]]
    lone = [t for t in top20[5:] if t.topic is None]
    for story in five:
        words = set((story.topic or "").lower().split()[-2:])
        for t in lone:
            title = t.title.lower()
            assert not all(w.rstrip("s") in title for w in words), (story.topic, t.title)


def test_amazon_strength_reflects_volume_and_stories_carry_their_products_figures() -> None:
    trends = _report().trends
    masks = next(t for t in trends if t.topic == "LED face masks")
    amazon = next(e for e in masks.evidence if e.source == "amazon")
    assert amazon.counted and amazon.q > 0.5
    lead = next(it for it in masks.items if it.key == masks.lead_key)
    assert masks.canonical_urls[0] == lead.url
