"""The bundled sample scores sensibly: its strong signals get a high q, items at their own norm get 0."""

from __future__ import annotations

import pytest

from ai_content_agents.models import TrendItem
from ai_content_agents.sources import load
from ai_content_agents.sources.sample import load_sample, names, sample_observations

LEVELS = {"author", "group", "run", "prior", "history", "page", "none"}


def scored(name: str) -> list[TrendItem]:
    module = load(name)
    raw, when = load_sample(name)
    return module.score(list(module.parse(raw, when)), sample_observations(name))


def q_of(items: list[TrendItem], title_start: str) -> float:
    (hit,) = [i for i in items if i.title.startswith(title_start)]
    assert hit.signals is not None
    return hit.signals.q


@pytest.mark.parametrize("name", names())
def test_every_item_has_a_strength_that_respects_its_floors(name: str) -> None:
    for item in scored(name):
        sig = item.signals
        assert sig is not None and 0.0 <= sig.q < 1.0 and sig.baseline_level in LEVELS, item.title
        if not sig.eligible or sig.m_s is None:
            assert sig.q == 0.0, item.title
        if sig.q > 0:
            assert sig.m_s is not None and sig.m_s > sig.components["floor"], item.title


def test_the_sample_strong_signals_get_a_high_q() -> None:
    amazon, tiktok, youtube, x = scored("amazon"), scored("tiktok"), scored("youtube"), scored("x")
    assert q_of(amazon, "LumaGlow LED Face Mask") > 0.85  # +2,340% at sales rank 61
    assert q_of(amazon, "SilkCurl Heatless") > 0.7  # +1,180% at sales rank 118
    assert q_of(tiktok, "tested the viral BlendGo") > 0.9  # 25× its author's other videos
    assert q_of(tiktok, "3 weeks with the LumaGlow") > 0.6
    assert q_of(youtube, "LumaGlow LED mask: 30-day results") > 0.8  # 16× its channel
    assert q_of(x, "ok the SnapGrip magnetic phone grip") > 0.6
    assert q_of(scored("tiktok_shop"), "Heatless Curling Ribbon Set") > 0.6  # 7.5× its own prior 21 days


def test_the_sample_items_at_their_norm_get_zero() -> None:
    tiktok = scored("tiktok")
    assert all(i.signals is not None and i.signals.q == 0.0 for i in tiktok if i.author == "demo_cozyhome")
    assert q_of(scored("youtube"), "Resistance band full body") == 0.0
    assert q_of(scored("x"), "holiday preorders are opening") == 0.0
    assert q_of(scored("reddit"), "Wool socks with a lifetime") == 0.0
    assert q_of(scored("amazon"), "Example Resistance Bands Set") == 0.0  # fell from 1 to 2 on Best Sellers
    assert q_of(scored("tiktok_shop"), "Vitamin C Glow Serum") == 0.0
    for name in names():
        items = scored(name)
        share = sum(1 for i in items if i.signals is not None and i.signals.q > 0) / len(items)
        assert share < 0.6, name  # most items of a run are at their norm
