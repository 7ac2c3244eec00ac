"""The source registry (sources/__init__.py) is the one list everything else derives from.

A sixth source is one module plus one registry line: the toy source below is defined here, registered for the
test only, and gathers, ranks and appears in the newsletter with no edit anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from pydantic import TypeAdapter

from ai_content_agents import pipeline, sources
from ai_content_agents.agents.intent import read_intent
from ai_content_agents.config import Settings
from ai_content_agents.models import (
    ChartSpec,
    FetchResult,
    Observation,
    Signals,
    SourceMeta,
    SourceName,
    TrendItem,
)
from ai_content_agents.newsletter.compose import compose
from ai_content_agents.newsletter.evidence import source_label
from ai_content_agents.newsletter.render import render
from ai_content_agents.newsletter.template_writer import TemplateWriter, lead_metrics
from ai_content_agents.sources.base import parse_rows

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
BUILT_IN = ("tiktok", "amazon", "x", "reddit", "youtube", "tiktok_shop")


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", out_dir=tmp_path / "out", **kw)  # type: ignore[arg-type]


def test_registry_source_names_and_settings_agree(tmp_path: Path) -> None:
    assert sources.names() == BUILT_IN
    name_type = TypeAdapter(SourceName)
    switches = {f.removeprefix("enable_") for f in Settings.model_fields if f.startswith("enable_")}
    assert switches == set(sources.names())  # one AICA_ENABLE_<NAME> per registered source, no stray ones
    for name in sources.names():
        module = sources.load(name)
        assert module.NAME == name == module.META.name == name_type.validate_python(name)
    s = _settings(tmp_path)
    assert sources.enabled(s) == list(BUILT_IN)
    assert sources.enabled(_settings(tmp_path, enable_x=False)) == [n for n in BUILT_IN if n != "x"]
    config = pipeline.rank_config(s)
    assert set(config.weights) == set(BUILT_IN)
    assert config.same_story == {"tiktok_shop": "tiktok"}
    assert set(config.same_story.values()) <= set(sources.names())


def test_everything_that_names_a_source_reads_its_declaration() -> None:
    assert source_label("tiktok_shop") == "your TikTok Shop" and source_label("amazon") == "Amazon"
    assert lead_metrics("reddit") == ("score", "comments")
    assert read_intent("what is hot on twitter and in my shop?").sources == ["x", "tiktok_shop"]
    assert sources.meta("gone_now").label == "gone_now"  # an old stored run's retired source still reads


# --- a toy sixth source, defined entirely here -----------------------------------------------------


def _toy_parse_row(row: dict) -> TrendItem | str:
    if not row.get("id"):
        return "missing id"
    return TrendItem(
        source="toyland", source_id=str(row["id"]), title=row["title"], url=f"https://toyland.test/p/{row['id']}",
        metrics={"wishes": float(row["wishes"])}, observed_at=NOW, is_commerce=True,
        commerce_reasons=["a toy shop listing"], window="this week",
    )


def _toy_score(items: list[TrendItem], history: Mapping[str, list[Observation]] | None = None) -> list[TrendItem]:
    out = []
    for it in items:
        m = it.metrics["wishes"] / 100.0
        out.append(it.model_copy(update={"signals": Signals(
            metric="wishes", value=it.metrics["wishes"], baseline=100.0, baseline_kind="shop median", n_baseline=40,
            m=m, m_s=m, s=m, q=min(0.95, 1 - 2 / m) if m > 2 else 0.0, baseline_level="group",
        )}))
    return out


TOY = SimpleNamespace(
    NAME="toyland",
    META=SourceMeta(name="toyland", label="Toyland", tag="TOY", kind="listing", lead_metrics=("wishes",),
                    chart=ChartSpec(metric="wishes", label="Toyland wishes"), phrases=("toy land",)),
    not_configured=lambda settings: None,
    fetch=lambda settings, store=None: FetchResult(raw_items=[
        {"id": "w1", "title": "Wobble Penguin Stacking Game", "wishes": 4200},
        {"id": "w2", "title": "Glow Slime Kit", "wishes": 130},
        {"title": "no id"},
    ]),
    parse=lambda raw_items, observed_at=None: parse_rows(raw_items, _toy_parse_row),
    score=_toy_score,
)


def test_a_toy_sixth_source_gathers_ranks_and_appears_in_the_newsletter(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sources.SOURCE_MODULES, "toyland", TOY)
    off = {f"enable_{n}": False for n in BUILT_IN}
    settings = _settings(tmp_path, **off)
    assert sources.enabled(settings) == ["toyland"]  # no settings edit: a source without a switch is on

    report = pipeline.gather(settings, None, mode="live", now=NOW)
    assert [(r.source, r.status, r.items, r.skipped_items) for r in report.sources] == [("toyland", "ok", 2, 1)]
    lead = report.trends[0]
    assert lead.rank == 1 and lead.items[0].title == "Wobble Penguin Stacking Game"
    assert pipeline.rank_config(settings).weights["toyland"] == 1.0

    nl = compose(report, TemplateWriter(), now=NOW)
    md = render(nl, tmp_path / "issue")["md"].read_text()
    assert "Wobble Penguin" in md and "Toyland" in md and "https://toyland.test/p/w1" in md
    assert read_intent("what's new in toy land?").sources == ["toyland"]
    from ai_content_agents.agents.offline import OfflineModel
    from ai_content_agents.agents.trend import TrendAgent
    from ai_content_agents.store import Store

    agent = TrendAgent(settings, Store(tmp_path / "s.sqlite3"), report=report, client=OfflineModel())
    schema = next(t for t in agent.tools if t.name == "item_history").input_schema()
    assert "toyland" in schema["properties"]["source"]["enum"]  # the model is told the source exists
