"""The numeric gate: invented or mis-rounded figures fail, faithful ones pass, links stay in the payload."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_content_agents.newsletter.evidence import Figure, SourceFacts, TrendPayload, trend_payload
from ai_content_agents.models import Section, Signals, SourceEvidence, Trend, TrendCopy, TrendItem
from ai_content_agents.newsletter import figures as fmt
from ai_content_agents.newsletter.factcheck import (
    allowed_urls,
    check_section,
    check_text,
    extract_figures,
    extract_links,
)

TIKTOK_A = "https://www.tiktok.com/@glowlab/video/7311000000000000001"
AMAZON_A = "https://www.amazon.com/dp/B0C1234567"
SHOP_A = "https://shop.tiktok.com/view/product/1729000000000000001"
TIKTOK_B = "https://www.tiktok.com/@wafflehaus/video/7322000000000000002"


# ---------------------------------------------------------------- factories


def _item(source: str, sid: str, title: str, url: str, **kw: object) -> TrendItem:
    kw.setdefault("observed_at", datetime(2026, 11, 20, 9, tzinfo=UTC))
    return TrendItem(source=source, source_id=sid, title=title, url=url, **kw)  # type: ignore[arg-type]


def _evidence(item: TrendItem, n_source: int, p: float) -> SourceEvidence:
    return SourceEvidence(
        source=item.source,
        item_keys=[item.key],
        best_key=item.key,
        s=1.0,
        p=p,
        n_source=n_source,
        weight=1.0,
        age_h=40.0,
        half_life_h=48.0,
        decay=0.56,
    )


def _trend(cluster_id: str, rank: int, title: str, items: list[TrendItem], n_sources: list[int]) -> Trend:
    return Trend(
        cluster_id=cluster_id,
        rank=rank,
        title=title,
        canonical_urls=[items[0].url],
        items=items,
        evidence=[_evidence(it, n, 0.973) for it, n in zip(items, n_sources, strict=True)],
        independent_sources=len(items),
        weighted_mean=0.9,
        score=0.8734,
    )


def trend_a() -> Trend:
    """A three-source trend: measured TikTok counts, Amazon rank/percent/price, estimated shop GMV."""
    tiktok = _item(
        "tiktok",
        "7311",
        "Glow Serum 6-Pack 380 ml",
        TIKTOK_A,
        metrics={"plays": 412_300, "saves": 312_400},
        window="48 h",
        published_at=datetime(2026, 11, 18, 14, tzinfo=UTC),
        signals=Signals(metric="plays", value=412_300, baseline=66_100, m_s=6.24, s=2.6, velocity=1523.4),
    )
    amazon = _item(
        "amazon",
        "B0C1234567",
        "Glow Serum 6-Pack, 380 ml",
        AMAZON_A,
        metrics={"position": 7, "rank_gain": 1234.4, "conversion_rate": 4.55},
        price=Decimal("18.99"),
        currency="USD",
        window="24 h rank change",
    )
    shop = _item(
        "tiktok_shop",
        "1729",
        "Glow Serum 6-Pack",
        SHOP_A,
        metrics={"gmv": 48_213.5, "units_sold": 2_140},
        currency="USD",
        signals=Signals(metric="units_sold", value=2_140, s=1.2, flags=["estimate"]),
    )
    return _trend("a", 1, "Glow Serum 6-Pack", [tiktok, amazon, shop], [412, 100, 38])


def trend_b() -> Trend:
    """A single-source trend whose multiplier (9.1×) is NOT true of trend A."""
    tiktok = _item(
        "tiktok",
        "7322",
        "Mini Waffle Maker",
        TIKTOK_B,
        metrics={"plays": 2_950_000},
        window="48 h",
        signals=Signals(metric="plays", value=2_950_000, baseline=324_000, m_s=9.1, s=3.2),
    )
    return _trend("b", 2, "Mini Waffle Maker", [tiktok], [412])


@pytest.fixture(scope="module")
def pa() -> TrendPayload:
    return trend_payload(trend_a())


def judge(text: str, payload: TrendPayload) -> list[tuple[str, bool, str | None]]:
    figures, _ = check_text(text, [payload], allowed_urls([payload]))
    return [(f.text, f.grounded, f.matched_field) for f in figures]


def grounded(text: str, payload: TrendPayload) -> bool:
    """True iff the text holds exactly one figure and it is grounded (guards against silent non-extraction)."""
    figures, _ = check_text(text, [payload], allowed_urls([payload]))
    assert len(figures) == 1, figures
    return figures[0].grounded


# ---------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,345 units", [("12,345", "number", 12345)]),
        ("312K and 1.2M and 3.4B and 12k", [("312K", "count", 312e3), ("1.2M", "count", 1.2e6),
                                           ("3.4B", "count", 3.4e9), ("12k", "count", 12e3)]),
        ("38%, 1,234% and +45%", [("38%", "percent", 38), ("1,234%", "percent", 1234), ("+45%", "percent", 45)]),
        ("6×, 6x, 6.2× and 6.2 times", [("6×", "multiplier", 6), ("6x", "multiplier", 6),
                                         ("6.2×", "multiplier", 6.2), ("6.2 times", "multiplier", 6.2)]),
        ("$18.99, £9.99, €12 and 18.99 USD", [("$18.99", "money", 18.99), ("£9.99", "money", 9.99),
                                              ("€12", "money", 12), ("18.99 USD", "money", 18.99)]),
        ("#7 on the list", [("#7", "rank", 7)]),
        ("10–20% of buyers", [("10", "percent", 10), ("20%", "percent", 20)]),
        ("three sources, a dozen creators, twice the median", [("three", "number", 3), ("a dozen", "number", 12),
                                                              ("twice", "multiplier", 2)]),
        ("over 300K plays", [("over 300K", "count", 300e3)]),
        ("more than 6×", [("more than 6×", "multiplier", 6)]),
        ("in 48 h since Nov 18", [("48 h", "window", 48), ("Nov 18", "date", 18)]),
        ("fell -12%", [("-12%", "percent", -12)]),
        ("10 to 20%, 1.2–1.5M", [("10", "percent", 10), ("20%", "percent", 20), ("1.2", "count", 1.2e6),
                                 ("1.5M", "count", 1.5e6)]),
        ("top 5 K-beauty serums", [("5", "number", 5)]),
        ("up 3% — 412 items", [("3%", "percent", 3), ("412", "number", 412)]),
    ],
)
def test_extracts_every_documented_form(text: str, expected: list[tuple[str, str, float]]) -> None:
    got = [(x.text, x.kind, x.value) for x in extract_figures(text)]
    assert got == [(t, k, pytest.approx(v)) for t, k, v in expected]


def test_extraction_records_qualifiers_precision_and_spans() -> None:
    text = "Views: over 312.4K (100K+ fans), under 5%."
    xs = extract_figures(text)
    assert [(x.qualifier, x.decimals, x.scale) for x in xs] == [("at_least", 1, 1000), ("at_least", 0, 1000),
                                                                ("below", 0, 1)]
    assert [text[x.start : x.end] for x in xs] == ["over 312.4K", "100K+", "under 5%"]


def test_numbers_inside_urls_handles_and_identifiers_are_not_figures() -> None:
    text = f"See [the video]({TIKTOK_A}) or {AMAZON_A}/ by @glowlab2026 #serum2026 (ASIN B0C1234567, Q4)."
    assert extract_figures(text) == []
    assert extract_links(text) == [TIKTOK_A, AMAZON_A + "/"]


def test_idiomatic_one_is_not_a_figure_but_a_counted_one_is() -> None:
    idioms = "No one saw it; one of the best; the one to watch; test it in one organic post; a one-off."
    assert [x.text for x in extract_figures(idioms)] == []
    assert [x.text for x in extract_figures("Only one creator posted it, on one other platform.")] == ["one", "one"]


def test_estimate_label_is_per_sentence() -> None:
    xs = extract_figures("GMV was est. $48,213.50 this week. Units hit 2,140.")
    assert [(x.text, x.estimate_label) for x in xs] == [("$48,213.50", True), ("2,140", False)]


# ---------------------------------------------------------------- Gate 1: invented and mis-rounded figures


@pytest.mark.parametrize(
    "text",
    [
        "9.1× the creator's median",  # invented multiplier
        "2.3M plays",  # payload has 412,300 plays
        "$19.99 on Amazon",  # payload price 18.99
        "17% rank gain",  # percent not in the payload
        "#3 in Beauty",  # invented rank (payload rank 7 and trend rank 1)
        "313K saves",  # wrong rounding of 312,400
        "300K saves",  # too few significant figures
        "0.3M saves",
        "6.3× the median",  # 6.24 rounds to 6.2
        "6× the median",  # 6.24 is outside [5.95, 6.05)
        "1,235% rank gain",  # 1234.4 rounds to 1,234
        "4.5% conversion",  # 4.55 rounds half-up to 4.6
        "5% conversion",  # under 10, 1 dp unless exact
        "€18.99 on Amazon",  # right number, wrong currency
        "$19 on Amazon",  # money is checked at 2 dp
        "over 500K plays",  # no count in the payload reaches 500K
        "under 2% conversion",  # nothing in the payload is under 2%
        "12-Pack",  # not a title number
        "posted Nov 19",  # not a payload day
        "in 72 h",  # not a payload window
        "four sources",  # independent_sources is 3
        "5 stars",
    ],
)
def test_invented_or_misrounded_figures_fail(text: str, pa: TrendPayload) -> None:
    assert grounded(text, pa) is False


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("312K saves", "tiktok.metrics.saves"),
        ("312.4K saves", "tiktok.metrics.saves"),
        ("312,400 saves", "tiktok.metrics.saves"),
        ("412K plays", "tiktok.metrics.plays"),
        ("6.2× the median", "tiktok.signals.ratio"),  # 412,300 / 66,100
        ("6.2 times the median", "tiktok.signals.ratio"),
        ("1,234% rank gain", "amazon.metrics.rank_gain"),
        ("4.6% conversion", "amazon.metrics.conversion_rate"),
        ("$18.99 on Amazon", "amazon.price"),
        ("18.99 USD on Amazon", "amazon.price"),
        ("#7 in Beauty", "amazon.metrics.position"),
        ("66.1K median plays", "tiktok.signals.baseline"),
        ("over 300K plays", "tiktok.metrics.plays"),
        ("more than 6× the median", "tiktok.signals.ratio"),
        ("under 5% conversion", "amazon.metrics.conversion_rate"),
        ("1,523 plays an hour", "tiktok.signals.velocity"),
        ("three sources", "independent_sources"),
        ("#1 this week", "rank"),
        ("97th percentile", "evidence.tiktok.percentile"),
        ("412 TikTok items", "evidence.tiktok.n_source"),
    ],
)
def test_faithful_figures_pass_with_their_field(text: str, field: str, pa: TrendPayload) -> None:
    assert judge(text, pa) == [(judge(text, pa)[0][0], True, field)]


@pytest.mark.parametrize("text", ["the 6-Pack", "380 ml bottles", "posted Nov 18", "in 48 h", "in 2 days",
                                  "1. Try it", "over the last 24 h"])
def test_whitelisted_title_numbers_dates_windows_and_numbering_pass(text: str, pa: TrendPayload) -> None:
    assert grounded(text, pa) is True


def test_over_x_is_a_lower_bound_not_a_rounding() -> None:
    p = _payload(Figure(field="tiktok.metrics.saves", label="saves", value=312_400, display="312K", kind="count",
                        source="tiktok"), far=0)
    assert judge("over 300K saves, over 400K saves, more than 312,400 saves, 312K+ saves", p) == [
        ("over 300K", True, "tiktok.metrics.saves"),
        ("over 400K", False, None),
        ("more than 312,400", True, "tiktok.metrics.saves"),
        ("312K+", True, "tiktok.metrics.saves"),
    ]


def test_rounding_boundaries_of_multipliers() -> None:
    def payload_with(m: float) -> TrendPayload:
        return _payload(Figure(field="tiktok.signals.m_s", label="m", value=m, display=fmt.multiplier(m),
                               kind="multiplier", source="tiktok"))

    assert grounded("6×", payload_with(5.95)) and grounded("6×", payload_with(6.0499))
    assert not grounded("6×", payload_with(5.9499)) and not grounded("6×", payload_with(6.05))
    assert grounded("6.2×", payload_with(6.15)) and not grounded("6.2×", payload_with(6.25))


def test_durations_match_durations_only() -> None:
    p = _payload(Figure(field="tiktok.metrics.age_h", label="age h", value=47.6, display="47.6", kind="number",
                        source="tiktok"))
    assert grounded("posted 2 days ago", p) and grounded("48 hours old", p) and grounded("under 2 days old", p)
    assert not grounded("posted 3 days ago", p) and not grounded("under 1 day old", p)
    assert not grounded("over 2 days old", p)


def test_a_duration_is_not_grounded_by_an_unrelated_small_number(pa: TrendPayload) -> None:
    assert grounded("under 2 days old", pa) is False  # score 0.87 < 2 must not count
    assert grounded("within two weeks", pa) is False


def test_a_signed_percent_must_match_the_sign() -> None:
    p = _payload(Figure(field="amazon.metrics.rank_gain", label="g", value=-12.0, display="-12%", kind="percent",
                        source="amazon"))
    assert grounded("fell 12%", p) and grounded("-12%", p)
    assert not grounded("+12%", p)


# ---------------------------------------------------------------- Gate 4: estimates


@pytest.mark.parametrize("text", ["GMV: est. $48,213.50.", "An estimated $48,213.50 in GMV.",
                                  "About $48.2K in GMV.", "~2,140 units sold."])
def test_labelled_estimates_pass(text: str, pa: TrendPayload) -> None:
    assert grounded(text, pa) is True


@pytest.mark.parametrize("text", ["GMV hit $48,213.50.", "2,140 units sold.", "Estimated, yes. GMV hit $48,213.50."])
def test_unlabelled_estimates_fail_but_name_the_estimate(text: str, pa: TrendPayload) -> None:
    figures, _ = check_text(text, [pa], set())
    assert [(f.grounded, f.matched_field) for f in figures] == [
        (False, "tiktok_shop.metrics.gmv" if "$" in text else "tiktok_shop.metrics.units_sold")
    ]


# ---------------------------------------------------------------- Gate 2: links


@pytest.mark.parametrize("url", [AMAZON_A, AMAZON_A + "/", TIKTOK_A, SHOP_A, "HTTPS://WWW.AMAZON.COM/dp/B0C1234567"])
def test_payload_links_pass(url: str, pa: TrendPayload) -> None:
    _, bad = check_text(f"Buy it: [Amazon]({url}) or {url}.", [pa], allowed_urls([pa]))
    assert bad == []


@pytest.mark.parametrize(
    "url",
    [
        "https://www.amaz0n.com/dp/B0C1234567",  # look-alike domain
        "https://www.amazon.com.deals.io/dp/B0C1234567",  # look-alike suffix
        "https://www.amazon.com/dp/B0C7654321",  # different ASIN
        "https://www.amazon.com/dp/b0c1234567",  # the path is case-sensitive
        "https://www.amazon.com/dp/B0C1234567?tag=affiliate-20",  # extra query
        "ftp://files.example/serum.pdf",
    ],
)
def test_links_outside_the_payload_are_rejected(url: str, pa: TrendPayload) -> None:
    _, bad = check_text(f"Buy it [here]({url}).", [pa], allowed_urls([pa]))
    assert bad == [url]


def test_bare_and_href_links_are_checked(pa: TrendPayload) -> None:
    text = 'Go to https://evil.example/x, or <a href="https://evil.example/y">here</a>, or www.evil.example/z.'
    _, bad = check_text(text, [pa], allowed_urls([pa]))
    assert bad == ["https://evil.example/x", "https://evil.example/y", "www.evil.example/z"]


# ---------------------------------------------------------------- sections: per-item attachment


def _copy(cluster_id: str, signal: str, links: list[str] | None = None) -> TrendCopy:
    return TrendCopy(
        cluster_id=cluster_id,
        headline="A serum everyone saves",
        signal=signal,
        why_it_matters="Saves signal purchase intent.",
        corroboration="Seen on three sources." if cluster_id == "a" else "TikTok only.",
        caveat="Shop sales are estimates." if cluster_id == "a" else "Single source.",
        action="Bundle it this week.",
        links=links or [],
    )


def test_a_clean_section_passes() -> None:
    a, b = trend_a(), trend_b()
    section = Section(
        key="quick_hits",
        title="Quick hits",
        intro="Two trends, 9.1× and 6.2× their medians.",
        items=[
            _copy("a", "412K plays in 48 h, 6.2× the median (TikTok, Nov 18–20); est. $48.2K GMV.", [AMAZON_A]),
            _copy("b", "2.95M plays in 48 h, 9.1× the median.", [TIKTOK_B + "/"]),
        ],
    )
    report = check_section(section, [a, b])
    assert report.passed, report
    assert report.section == "quick_hits" and len(report.figures) == 13


def test_a_figure_true_of_another_trend_fails_in_this_items_copy() -> None:
    a, b = trend_a(), trend_b()
    section = Section(key="quick_hits", title="Quick hits", items=[_copy("a", "9.1× the median.")])
    report = check_section(section, [a, b])
    assert not report.passed
    assert [(f.text, f.grounded) for f in report.figures if f.text == "9.1×"] == [("9.1×", False)]
    # the same words in trend B's copy are grounded
    report_b = check_section(section.model_copy(update={"items": [_copy("b", "9.1× the median.")]}), [a, b])
    assert report_b.passed, report_b


def test_item_links_must_belong_to_that_item() -> None:
    a, b = trend_a(), trend_b()
    section = Section(key="quick_hits", title="Quick hits", items=[_copy("a", "412K plays.", [TIKTOK_B])],
                      bullets=[f"Watch [B]({TIKTOK_B})"])
    report = check_section(section, [a, b])
    assert report.bad_links == [TIKTOK_B]  # the item's own links are per-trend; the bullet's link is fine


def test_unknown_cluster_grounds_nothing() -> None:
    section = Section(key="quick_hits", title="Quick hits", items=[_copy("zzz", "412K plays.", [AMAZON_A])])
    report = check_section(section, [trend_a()])
    assert [f.grounded for f in report.figures] == [False]
    assert report.bad_links == [AMAZON_A]


def test_action_list_bullets_use_the_union_and_still_catch_inventions() -> None:
    section = Section(key="action_list", title="This week's action list",
                      bullets=["Stock the 6-Pack before it passes 9.1×.", "Price under $17.49."])
    report = check_section(section, [trend_a(), trend_b()])
    assert [(f.text, f.grounded) for f in report.figures] == [("6", True), ("9.1×", True), ("under $17.49", False)]


def test_each_scope_is_collected_once_per_section(monkeypatch: pytest.MonkeyPatch) -> None:
    # the facts of a trend's payload were collected again for every line of its copy (81 times an issue):
    # with 16 KB titles that was most of the writing phase (issue 12)
    from ai_content_agents.newsletter import factcheck

    calls: list[int] = []
    real = factcheck._collect
    monkeypatch.setattr(factcheck, "_collect", lambda payloads: calls.append(len(payloads)) or real(payloads))
    a, b = trend_a(), trend_b()
    section = Section(key="quick_hits", title="Quick hits", intro="Two trends, 9.1× and 6.2× their medians.",
                      items=[_copy("a", "412K plays in 48 h."), _copy("b", "2.95M plays in 48 h.")],
                      bullets=["Stock the 6-Pack before it passes 9.1×."])
    report = check_section(section, [a, b])
    assert report.passed, report
    assert sorted(calls) == [1, 1, 2]  # each item's own trend, and everything (title, intro, bullets)


def test_normalise_text_drops_format_characters_and_folds_compatibility_forms() -> None:
    from ai_content_agents.newsletter.factcheck import normalise_text

    assert normalise_text("a\u200bb\u00adc &amp; \ufb01ne\u2060  \U0001f525 x") == "abc & fine \U0001f525 x"
    assert normalise_text("  plain   ascii\tonly ") == "plain ascii only"


def test_an_errored_section_has_nothing_to_check() -> None:
    section = Section(key="top_trend", title="The trend of the week", error="ERROR: no data")
    report = check_section(section, [])
    assert report.figures == [] and report.passed


# ---------------------------------------------------------------- property: figures.py output always passes


def _payload(fig: Figure, far: int = 10**15) -> TrendPayload:
    """One figure, and run-level counts (`far`) that no rounding of the figure's display can reach."""
    ev = SourceFacts(source=fig.source, source_label="X", item_title="Thing", url="https://example.com/i",
                     observed="", percentile=float("nan"), n_source=far, figures=[fig])
    return TrendPayload(cluster_id="p", rank=0, title="Thing", label="steady", score=float("nan"),
                        independent_sources=far, sources=[fig.source], canonical_urls=[],
                        evidence=[ev])


_UNIT = re.compile(r"(?P<n>[\d,]+(?:\.(?P<d>\d+))?)(?P<s>[KMB])?")
_SCALE = {None: 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


def _one_unit(display: str) -> Decimal:
    """The step of the last digit shown: moving the value by it leaves the display's rounding interval."""
    m = _UNIT.search(display)
    assert m is not None
    return Decimal(1).scaleb(-len(m.group("d") or "")) * _SCALE[m.group("s")]


def _check_roundtrip(kind: str, value: Decimal, display: str) -> None:
    def figure(v: Decimal) -> Figure:
        return Figure(
            field="f", label="l", value=float(v), display=display, kind=kind, source="amazon"  # type: ignore[arg-type]
        )

    assert grounded(display, _payload(figure(value))), (display, value)
    step = _one_unit(display)
    assert not grounded(display, _payload(figure(value + step))), (display, value + step)
    if value - step >= 0:
        assert not grounded(display, _payload(figure(value - step))), (display, value - step)


_dec = st.decimals(allow_nan=False, allow_infinity=False, places=3)


@settings(max_examples=150, deadline=None)
@given(_dec.filter(lambda d: 0 <= d <= 5_000_000_000))
def test_property_counts(value: Decimal) -> None:
    _check_roundtrip("count", value, fmt.count(float(value)))


@settings(max_examples=150, deadline=None)
@given(_dec.filter(lambda d: -500 <= d <= 50_000))
def test_property_percents(value: Decimal) -> None:
    _check_roundtrip("percent", value, fmt.percent(float(value)))


@settings(max_examples=150, deadline=None)
@given(_dec.filter(lambda d: 0 <= d <= 500))
def test_property_multipliers(value: Decimal) -> None:
    _check_roundtrip("multiplier", value, fmt.multiplier(float(value)))


@settings(max_examples=150, deadline=None)
@given(_dec.filter(lambda d: 0 <= d <= 10_000_000), st.sampled_from(["USD", "GBP", "EUR", "CAD", "AUD", None]))
def test_property_money(value: Decimal, currency: str | None) -> None:
    _check_roundtrip("money", value, fmt.money(value, currency))


_COPYISH = st.lists(st.sampled_from(list("0123456789,.%×x$£€#+-–~ KMBkhd()[]/:\n") + [
    " over ", " under ", " Nov ", " times ", " USD ", " twenty-one ", " one ", " a dozen ", " est. ", "https://",
    "No. ", " percent ", " weeks ", "th ", "[a](", "2026-11-18",
]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_COPYISH)
def test_property_arbitrary_copy_never_raises_and_spans_are_faithful(text: str) -> None:
    pa = trend_payload(trend_a())
    figures, bad = check_text(text, [pa], allowed_urls([pa]))
    xs = extract_figures(text)
    assert len(figures) == len(xs)
    assert all(text[x.start : x.end].strip() == x.text and x.text for x in xs)
    assert all(u in text for u in bad)


def test_numbers_inside_a_figure_label_are_payload_text() -> None:
    """A baseline described as "trailing 21 d" is data text, like a title or a window."""
    from ai_content_agents.newsletter.evidence import Figure, SourceFacts, TrendPayload
    from ai_content_agents.newsletter.factcheck import check_text

    fig = Figure(field="tiktok_shop.signals.m_s", label="units per day vs trailing 21 d before the window",
                 value=3.4, display="3.4×", kind="multiplier", source="tiktok_shop")
    payload = TrendPayload(
        cluster_id="c", rank=1, title="Blender", label="steady", score=0.5, independent_sources=1,
        sources=["tiktok_shop"], canonical_urls=[],
        evidence=[SourceFacts(source="tiktok_shop", source_label="your TikTok Shop", item_title="Blender",
                              url="u", observed="Nov 20", percentile=0.9, n_source=10, figures=[fig])],
    )
    ok, _ = check_text("3.4× the trailing 21 d before the window", [payload], set())
    assert all(f.grounded for f in ok)
    bad, _ = check_text("3.4× the trailing 28 d before the window", [payload], set())
    assert not all(f.grounded for f in bad)


def test_a_click_through_rate_given_as_a_fraction_reads_as_its_percent() -> None:
    """TikTok Shop's "click_through_rate": "0.068" was shown as "0.1%" (the bundled sample's 0.031 as "0%");
    it is 6.8% of views that clicked, and copy saying "6.8%" is grounded by that figure (and "0.1%" is not)."""
    import json
    from importlib import resources

    from ai_content_agents.newsletter.evidence import item_figures
    from ai_content_agents.sources import tiktok_shop

    from . import stories as S

    rows = json.loads(resources.files("ai_content_agents").joinpath("data/sample/tiktok_shop.json").read_text())
    shown = {}
    for rate in ("0.068", "0.031", "0.052"):
        item = tiktok_shop.parse([{**rows[0], "click_through_rate": rate}], S.NOW)[0]
        ctr = next(f for f in item_figures(item) if f.field == "tiktok_shop.metrics.click_through_rate")
        shown[rate] = ctr.display
    assert shown == {"0.068": "6.8%", "0.031": "3.1%", "0.052": "5.2%"}
    item = tiktok_shop.parse([{**rows[0], "click_through_rate": "0.068"}], S.NOW)[0]
    item.signals = S.item("tiktok_shop", "x", "x", {"units_sold": 412}, m_s=4.8, level="history", q=0.7).signals
    payload = trend_payload(S.story("story:shop", 1, [item], topic="portable blenders"))
    ok, _ = check_text("6.8% of shoppers who saw it clicked through.", [payload], set())
    bad, _ = check_text("0.1% of shoppers who saw it clicked through.", [payload], set())
    assert all(f.grounded for f in ok) and ok, ok
    assert not all(f.grounded for f in bad), bad
    post = S.item("reddit", "1qx1ab2", "a thread", {"score": 900, "upvote_ratio": 0.95}, m_s=4.0, level="group", q=0.7)
    assert next(f.display for f in item_figures(post) if f.field.endswith("upvote_ratio")) == "95%"
