"""Small builders for synthetic trends and reports (no sample files, no network)."""

from __future__ import annotations

from typing import Any
from datetime import UTC, datetime

from ai_content_agents.models import GatherReport, Signals, SourceEvidence, SourceReport, Trend, TrendItem

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def item(
    source: str = "tiktok",
    source_id: str = "v1",
    title: str = "Cloud slides",
    text: str = "",
    plays: float = 412_300,
    m_s: float = 6.2,
) -> TrendItem:
    metrics = {"plays": plays} if source != "amazon" else {"rank": 4.0}
    return TrendItem(
        source=source,  # type: ignore[arg-type]
        source_id=source_id,
        title=title,
        url=f"https://example.com/{source}/{source_id}",
        text=text,
        author="creator1",
        group="#tiktokmademebuyit",
        metrics=metrics,
        window="since posting",
        observed_at=NOW,
        signals=Signals(metric="plays", value=plays, baseline=plays / m_s, baseline_kind="hashtag median",
                        n_baseline=30, m=m_s, m_s=m_s, s=2.6),
    )


def trend(cluster_id: str = "c1", rank: int = 1, items: list[TrendItem] | None = None, title: str = "Cloud slides") -> Trend:
    items = items or [item(title=title)]
    ev = [
        SourceEvidence(source=it.source, item_keys=[it.key], best_key=it.key, s=2.6, p=0.97, n_source=30,
                       weight=1.0, age_h=10, half_life_h=48, decay=0.9)
        for it in items
    ]
    return Trend(
        cluster_id=cluster_id, rank=rank, title=title, canonical_urls=[it.url for it in items], category="home",
        items=items, evidence=ev, independent_sources=len(ev), score=0.9,
        label="breakout",
    )


def report(trends: list[Trend] | None = None, sample: bool = False) -> GatherReport:
    trends = trends if trends is not None else [trend("c1", 1), trend("c2", 2, title="Mini waffle maker",
                                                                     items=[item(source_id="v2", title="Mini waffle maker")])]
    return GatherReport(
        run_id="run-test", started_at=NOW, finished_at=NOW, sample=sample,
        sources=[SourceReport(source="tiktok", status="ok", items=30)],
        items=[it for t in trends for it in t.items], trends=trends,
    )


def assert_a_sound_run(agent: Any, result: Any, *, read_only: bool = False) -> None:
    """What any agent run must show, whatever order its model chose: it used its own tools (and only those), none
    failed, the loop stayed inside its bound, scraped text came back fenced, and it rests on data it read.
    (Pinning the offline model's exact tool order would test its script, not the agent.)"""
    from ai_content_agents.agents.fence import FENCE_TAG

    records = result.tool_records
    assert records, "the answer rests on no tool call"
    assert {r.name for r in records} <= set(agent.tools.names)
    assert not [r.name for r in records if r.is_error]
    assert result.iterations <= agent.max_iterations + 1  # + the forced final turn
    assert len(records) <= 4 * result.iterations  # a few calls per turn at most
    if read_only:
        assert not [r for r in records if any(t.name == r.name and t.requires_approval for t in agent.tools)]
    untrusted = {t.name for t in agent.tools if t.untrusted}
    for r in records:
        if r.name in untrusted:  # a tool whose results carry scraped strings returns them fenced whole
            content = agent.tools.run(r.name, r.input).content
            assert content.startswith(f"<{FENCE_TAG} ") and content.endswith(f"</{FENCE_TAG}>"), content[:200]
