"""compose runs the fact-check gate around any writer; render writes labelled md/html/json atomically."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ai_content_agents.models import (
    GatherReport,
    Section,
    Signals,
    SourceEvidence,
    SourceReport,
    Trend,
    TrendCopy,
    TrendItem,
)
from ai_content_agents.newsletter import factcheck
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.render import render
from ai_content_agents.newsletter.sections import SECTION_SPECS, select
from ai_content_agents.newsletter.template_writer import TemplateWriter

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _item(source: str, sid: str, title: str, metrics: dict[str, float], **kw) -> TrendItem:  # type: ignore[no-untyped-def]
    sig = kw.pop("signals", None) or Signals(
        metric=next(iter(metrics)), value=next(iter(metrics.values())), baseline=10_000.0,
        baseline_kind="hashtag median", n_baseline=12, m=41.2, m_s=28.5, s=4.8,
    )
    return TrendItem(
        source=source, source_id=sid, title=title, url=kw.pop("url", f"https://example.com/{source}/{sid}"),
        metrics=metrics, window=kw.pop("window", "since posting"), observed_at=NOW,
        published_at=NOW - timedelta(hours=36), signals=sig, **kw,
    )


def _trend(cid: str, rank: int, items: list[TrendItem], title: str) -> Trend:
    return Trend(
        cluster_id=cid, rank=rank, title=title, canonical_urls=[it.url for it in items], items=items,
        evidence=[
            SourceEvidence(source=it.source, item_keys=[it.key], best_key=it.key, s=it.signals.s, p=0.97 - 0.01 * i,
                           n_source=40, weight=1.0, age_h=36, half_life_h=36, decay=0.5)
            for i, it in enumerate(items)
        ],
        independent_sources=len({it.source for it in items}),
        score=0.9, label="breakout" if rank == 1 else "climbing",
    )


def trends() -> list[Trend]:
    blender_tt = _item("tiktok", "7400000000000000001", "this mini blender changed my mornings",
                       {"plays": 412_300, "likes": 28_100}, author="examplecook", group="#kitchengadgets")
    blender_amz = _item(
        "amazon", "B0EXAMPLE1", "Portable Blender, 6 Blades, 380 ml", {"position": 7, "percent_gain": 1234.4},
        url="https://www.amazon.com/dp/B0EXAMPLE1", price=Decimal("18.99"), currency="USD",
        group="Movers & Shakers in Kitchen", window="24 h",
        signals=Signals(metric="percent_gain", value=1234.4, s=3.1, velocity=1234.4),
    )
    shop = _item("tiktok_shop", "1729000000000000001", "LED Face Mask", {"units_sold": 2140, "gmv": 64_200.0},
                 currency="USD", window="7 d to Nov 19",
                 signals=Signals(metric="units_sold", value=2140, baseline=300.0, baseline_kind="trailing median",
                                 m_s=7.1, s=2.8, flags=["estimate"]))
    mask_rd = _item("reddit", "abc123", "Finally an LED mask that isn't a gimmick", {"score": 2310, "comments": 188},
                    group="r/SkincareAddiction")
    grip = _item("youtube", "AbCdEfGhIjK", "I tested 5 viral phone grips", {"views": 184_220},
                 group="Example Tech", window="since upload")
    return [
        _trend("asin:B0EXAMPLE1", 1, [blender_amz, blender_tt], "Portable Blender, 6 Blades, 380 ml"),
        _trend("tiktok_product:1729000000000000001", 2, [shop, mask_rd], "LED Face Mask"),
        _trend("youtube:AbCdEfGhIjK", 3, [grip], "Magnetic phone grip"),
    ]


def report(sample: bool = True) -> GatherReport:
    ts = trends()
    return GatherReport(
        run_id="r-test", started_at=NOW, sample=sample, trends=ts, items=[i for t in ts for i in t.items],
        sources=[SourceReport(source="tiktok", status="ok", items=1), SourceReport(source="x", status="skipped",
                                                                                    reason="no APIFY_TOKEN")],
    )


def test_template_copy_is_fully_grounded() -> None:
    nl = compose(report(), TemplateWriter(), now=NOW)
    assert [s.key for s in nl.sections] == [s.key for s in SECTION_SPECS]
    assert not [s.key for s in nl.sections if s.error]
    assert all(c.passed for c in nl.factcheck), [
        (c.section, [f.text for f in c.figures if not f.grounded], c.bad_links) for c in nl.factcheck
    ]
    assert sum(len(c.figures) for c in nl.factcheck) >= 6  # the copy does cite numbers
    top = nl.sections[0].items[0]
    assert top.cluster_id == "asin:B0EXAMPLE1" and "#7" in top.signal and "1,234%" in top.signal
    assert "412K" in top.corroboration  # the TikTok evidence, with its own source


def test_each_trend_appears_in_one_section_and_the_action_list_covers_them() -> None:
    picks = select(trends())
    featured = [t.cluster_id for key, ts in picks.items() if key != "action_list" for t in ts]
    assert len(featured) == len(set(featured)) == 3
    assert [t.cluster_id for t in picks["action_list"]] == featured
    nl = compose(report(), TemplateWriter(), now=NOW)
    assert nl.sections[-1].bullet_ids == featured


class InventingWriter(TemplateWriter):
    """Writes a made-up figure; optionally fixes it when told what was wrong."""

    name = "test-writer"
    can_revise = True

    def __init__(self, fixes_after: int | None) -> None:
        self.fixes_after = fixes_after
        self.revisions = 0

    def write_section(self, spec, trends, report):  # type: ignore[no-untyped-def]
        section = super().write_section(spec, trends, report)
        if section.items:
            first = section.items[0]
            section.items[0] = first.model_copy(update={"signal": first.signal + " — up 9.1× in a day"})
        return section

    def revise_section(self, spec, trends, report, draft, check):  # type: ignore[no-untyped-def]
        assert [f.text for f in check.figures if not f.grounded] == ["9.1×"]
        self.revisions += 1
        if self.fixes_after is not None and self.revisions >= self.fixes_after:
            return super().write_section(spec, trends, report)
        return draft


def test_a_section_with_an_invented_figure_is_revised_then_passes() -> None:
    writer = InventingWriter(fixes_after=1)
    nl = compose(report(), writer, now=NOW)
    top = nl.factcheck[0]
    assert top.passed and top.attempts == 2
    assert not nl.sections[0].error


def test_a_section_that_stays_ungrounded_is_withheld_loudly() -> None:
    writer = InventingWriter(fixes_after=None)
    nl = compose(report(), writer, now=NOW)
    assert nl.factcheck[0].attempts == 3  # the draft plus two revisions, no more
    assert nl.sections[0].error and "9.1×" in nl.sections[0].error
    assert not nl.sections[0].items


def test_render_writes_four_formats_labelled_sample(tmp_path) -> None:  # type: ignore[no-untyped-def]
    nl = compose(report(sample=True), TemplateWriter(), now=NOW)
    paths = render(nl, tmp_path)
    md = paths["md"].read_text()
    html = paths["html"].read_text()
    data = json.loads(paths["json"].read_text())
    assert md.lstrip().startswith("> **SAMPLE DATA**")
    assert "SAMPLE DATA" in html[: html.index("<h1")]
    assert data["sample"] is True and data["banner"] == "SAMPLE DATA" and data["title"].startswith("SAMPLE DATA")
    figs = [f for t in data["trends"] for ev in t["evidence"] for f in ev["figures"]]
    assert figs and all(f["source"] and f["field"] for f in figs)  # every number carries its source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images", "newsletter.html", "newsletter.json", "newsletter.md",
                                                          "newsletter.txt"]
    assert paths["txt"].read_text().startswith("*** SAMPLE DATA")


def test_live_output_has_no_sample_banner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = render(compose(report(sample=False), TemplateWriter(), now=NOW), tmp_path)
    assert "SAMPLE DATA" not in paths["md"].read_text()
    assert "SAMPLE DATA" not in paths["html"].read_text()


def test_html_escapes_scraped_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = report()
    r.trends[2].title = 'Grip <script>alert("x")</script>'
    r.trends[2].items[0].title = 'Grip <script>alert("x")</script>'  # a caption: quoted in Creator watch
    paths = render(compose(r, TemplateWriter(), now=NOW), tmp_path)
    html = paths["html"].read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_failed_render_keeps_the_previous_files(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    nl = compose(report(), TemplateWriter(), now=NOW)
    render(nl, tmp_path)
    before = (tmp_path / "newsletter.json").read_text()
    from ai_content_agents.newsletter import render as render_mod

    monkeypatch.setattr(render_mod, "as_json", lambda nl: {"bad": object()})
    with pytest.raises(TypeError):
        render(nl, tmp_path)
    assert (tmp_path / "newsletter.json").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no half-written temp files


def test_factcheck_is_the_same_gate_compose_uses() -> None:
    t = trends()[0]
    bad = Section(key="x", title="x", items=[TrendCopy(cluster_id=t.cluster_id, headline="h", signal="413K plays",
                                                       why_it_matters="", corroboration="", caveat="", action="")])
    assert not factcheck.check_section(bad, [t]).passed
