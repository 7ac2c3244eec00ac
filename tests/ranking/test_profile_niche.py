"""A profile's niche in ranking: with niche_only a story must name a keyword (every word of it), and an
exclude term keeps a story out of the top N even when it is the strongest."""

from __future__ import annotations

from ranking_factory import NOW, item

from ai_content_agents.ranking import RankConfig, rank_with_stats


def _top_titles(items, config):  # type: ignore[no-untyped-def]
    res = rank_with_stats(items, config, NOW)
    return [t.title for t in res.trends[: res.top_count]], res


def test_niche_only_keeps_products_outside_the_niche_out_and_matches_whole_phrases() -> None:
    roller = item("reddit", "this ice roller fixed my puffy eyes", q=0.5, is_commerce=True)
    foam = item("reddit", "the foam roller that saved my back", q=0.9, is_commerce=True)
    serum = item("youtube", "niacinamide serum after thirty days", q=0.4, is_commerce=True)
    loose, _ = _top_titles([roller, foam, serum], RankConfig(top_n=5, niche_terms=("ice roller", "serum")))
    assert loose[0] == foam.title  # without niche_only a product signal is enough: the strongest leads
    strict, res = _top_titles([roller, foam, serum], RankConfig(top_n=5, niche_terms=("ice roller", "serum"),
                                                                 niche_only=True))
    assert strict == [roller.title, serum.title]  # "ice roller" does not match a foam roller
    assert "off_topic" in next(t for t in res.trends if t.title == foam.title).flags


def test_an_exclude_term_keeps_even_the_strongest_story_out() -> None:
    grip = item("x", "magnetic phone grip sold out again", q=0.95, is_commerce=True)
    mask = item("x", "led face mask restocked", q=0.3, is_commerce=True)
    phone = item("x", "phone case restock", q=0.5, is_commerce=True)
    top, res = _top_titles([grip, mask, phone], RankConfig(top_n=5, exclude_terms=("phone grip",)))
    assert grip.title not in top and mask.title in top
    assert phone.title in top  # only every word of the term excludes: "phone" alone does not
    assert "excluded" in next(t for t in res.trends if t.title == grip.title).flags
