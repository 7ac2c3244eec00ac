"""The MCP server in process: an SDK client session lists the tools, calls each one on the bundled sample
and the loopback fake shop, and reads both resources (issue 15, part 2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from agents import factories as f  # tests/agents (tests/ is on sys.path)
from mcp import Client
from mcp.shared.exceptions import MCPError

from ai_content_agents.agents.fence import unfence_json
from ai_content_agents import runs
from ai_content_agents.agents.proposals import ProposalStore
from ai_content_agents.agents.tiktok_shop import ShopTools
from ai_content_agents.agents.tools import Tool
from ai_content_agents.agents.trend import TrendTools
from ai_content_agents.config import Settings
from ai_content_agents.mcp.catalogue import SHOP_PROPOSAL_TOOLS, SHOP_READ_TOOLS, TREND_TOOLS, Catalogue, ServeOptions
from ai_content_agents.mcp.resources import LATEST_ISSUE_URI, RANKED_TRENDS_URI
from ai_content_agents.mcp.server import build_server
from ai_content_agents.newsletter import archive
from ai_content_agents.store import Store

from .conftest import CANARY_SECRET, text_of
from .exercise import CALLS, SKU, call_every_tool, rows


def serve(settings: Settings, store: Store, **options: Any) -> Any:
    return build_server(Catalogue(settings, store, ServeOptions(**options)), settings)


def run(fn: Any) -> Any:
    return anyio.run(fn)


def test_client_lists_every_tool_with_the_agents_own_schema(settings, store) -> None:  # type: ignore[no-untyped-def]
    async def go() -> list[Any]:
        async with Client(serve(settings, store, mode="sample")) as client:
            return (await client.list_tools()).tools

    listed = {t.name: t for t in run(go)}
    assert list(listed) == [*TREND_TOOLS, *SHOP_READ_TOOLS, *SHOP_PROPOSAL_TOOLS]
    # one source of truth: the schema and description Claude gets through `ask`, from the same typed methods
    trend = TrendTools(settings, store).registry()
    shop = ShopTools(settings, ProposalStore(store), lambda: None, run_id="x").registry()  # type: ignore[arg-type,return-value]
    for name, t in listed.items():
        spec: Tool | None = trend.get(name) or shop.get(name)
        assert spec is not None
        assert t.input_schema == spec.input_schema() and t.description == spec.description
        assert t.annotations.read_only_hint is (name in SHOP_READ_TOOLS or name in TREND_TOOLS[1:])
    assert listed["list_trends"].input_schema["properties"]["limit"]["maximum"] == 20


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # the 2026 per-request protocol, and the initialize handshake
def test_client_calls_every_tool_on_the_sample_and_the_fake_shop(shop_settings, fake_shop, mode) -> None:  # type: ignore[no-untyped-def]
    store = Store(shop_settings.db_path)

    async def go() -> Any:
        async with Client(serve(shop_settings, store, mode="sample"), mode=mode) as client:
            return await call_every_tool(client)

    try:
        _, got, raw = run(go)
        assert got["gather"]["sample"] is True and "SAMPLE DATA" in got["gather"]["note"]
        assert got["list_trends"]["sample"] is True and len(got["list_trends"]["trends"]) == 3
        assert got["trend_detail"]["trend"]["cluster_id"] == got["list_trends"]["trends"][0]["cluster_id"]
        assert got["shop_status"]["ready"] is True and got["shop_status"]["shop"]["name"] == "Glow Goods"
        products = rows(got["search_products"])
        assert [p["product_id"] for p in products][:2] == ["1729000000000000000", "1729000000000000001"]
        assert {i["product_id"] for i in rows(got["inventory"])} == {p["product_id"] for p in products}
        assert got["orders_summary"]["orders"] == 3
        price = got["propose_price_change"]
        assert price["status"] == "pending" and price["limit_problems"] == [] and "shop approve" in price["next_step"]
        proposals = rows(got["list_proposals"])
        assert [p["proposal_id"] for p in proposals] == [got["propose_inventory_change"]["proposal_id"], price["proposal_id"]]
        assert proposals[1]["sku_id"] == SKU and proposals[1]["new"] == "12.50"
        assert fake_shop.writes == []  # proposals only: approving stays a person's CLI step
        audit = ProposalStore(store).audit_log()
        assert {a.tool for a in audit if a.actor == "mcp"} >= {"shop_status", "propose_price_change"}
        assert all(CANARY_SECRET not in text for text in raw.values())  # the shop secret never reaches a client
    finally:
        store.close()


def test_refresh_follows_the_rules_of_ask(settings, store) -> None:  # type: ignore[no-untyped-def]
    calls: list[dict[str, Any]] = []

    def gather_fn(s, st, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw)
        return f.report(sample=False).model_copy(update={"run_id": f"run-{len(calls)}"})

    def server(allow: bool) -> Any:
        return build_server(Catalogue(settings, store, ServeOptions(allow_refresh=allow), gather_fn=gather_fn), settings)

    async def ask(allow: bool, name: str, args: dict[str, Any]) -> dict[str, Any]:
        async with Client(server(allow)) as client:
            return json.loads(unfence_json(text_of(await client.call_tool(name, args))))

    assert anyio.run(ask, False, "list_trends", {})["run_id"] == "run-1"  # nothing stored: gathers
    assert anyio.run(ask, False, "list_trends", {})["run_id"] == "run-1" and len(calls) == 1  # the stored run
    refused = anyio.run(ask, False, "gather", {"refresh": True})
    assert refused["run_id"] == "run-1" and "user's say-so" in refused["note"] and len(calls) == 1
    allowed = anyio.run(ask, True, "gather", {"refresh": True})
    assert allowed["run_id"] == "run-2" and allowed["stored"] is False and len(calls) == 2  # once, with --allow-refresh
    assert anyio.run(ask, False, "list_trends", {})["run_id"] == "run-2"  # later calls read the new stored run


def test_resources_latest_issue_and_ranked_trends(settings, store) -> None:  # type: ignore[no-untyped-def]
    async def read(uri: str) -> str:
        async with Client(serve(settings, store, mode="sample")) as client:
            listed = [r.uri for r in (await client.list_resources()).resources]
            assert listed == [LATEST_ISSUE_URI, RANKED_TRENDS_URI]
            try:
                result = await client.read_resource(uri)
            except MCPError as exc:
                return f"MCPError: {exc.message}"
            return result.contents[0].text  # type: ignore[union-attr]

    missing = anyio.run(read, LATEST_ISSUE_URI)
    assert missing.startswith("MCPError: no issue in ") and "\n" not in missing
    assert missing.endswith("yet: run `ai-content-agents newsletter` first")

    folder: Path = settings.out_dir / archive.ISSUES / "2026-11-20-run-test"
    folder.mkdir(parents=True)
    (folder / "newsletter.md").write_text("# SAMPLE DATA — DTC Trend Report\n\n1. Cloud slides\n", encoding="utf-8")
    archive.switch_latest(settings.out_dir, folder)
    assert anyio.run(read, LATEST_ISSUE_URI).startswith("# SAMPLE DATA — DTC Trend Report")

    ranked = json.loads(anyio.run(read, RANKED_TRENDS_URI))
    assert ranked["sample"] is True and "SAMPLE DATA" in ranked["run"] and len(ranked["trends"]) == 20
    assert [t["rank"] for t in ranked["trends"]] == sorted(t["rank"] for t in ranked["trends"])
    assert ranked["total"] > 20 and ranked["trends"][0]["evidence"][0]["figures"]


def test_bad_calls_get_one_clear_line(settings, store) -> None:  # type: ignore[no-untyped-def]
    async def go() -> list[Any]:
        async with Client(serve(settings, store, mode="sample")) as client:
            return [await client.call_tool("list_trends", {"limit": 99}),
                    await client.call_tool("trend_detail", {"cluster_id": "no-such-trend"}),
                    await client.call_tool("shop_status_typo", {}),
                    await client.call_tool("search_products", {})]  # no shop configured

    too_many, unknown_trend, unknown_tool, no_shop = run(go)
    for result in (too_many, unknown_trend, unknown_tool, no_shop):
        assert result.is_error and "\n" not in text_of(result) and "Traceback" not in text_of(result)
    assert text_of(too_many) == "invalid arguments: limit: Input should be less than or equal to 20"
    assert "no trend with cluster_id 'no-such-trend'" in text_of(unknown_trend)
    assert text_of(unknown_tool).startswith("unknown tool 'shop_status_typo'; available tools: gather, list_trends")
    assert text_of(no_shop) == "TikTok Shop is not configured for this workspace"


def test_only_allowlisted_tools_are_served(settings, store) -> None:  # type: ignore[no-untyped-def]
    trends_only = Catalogue(settings, store, ServeOptions(tools="trends"))
    assert [t.spec.name for t in trends_only.tools()] == list(TREND_TOOLS)  # no shop access beside scraped text
    shop_only = Catalogue(settings, store, ServeOptions(tools="shop"))
    assert [t.spec.name for t in shop_only.tools()] == [*SHOP_READ_TOOLS, *SHOP_PROPOSAL_TOOLS]
    full = Catalogue(settings, store)
    gated = {t.spec.name for t in full.tools() if t.spec.requires_approval}
    assert gated == set(SHOP_PROPOSAL_TOOLS) and all(not t.read_only for t in full.tools() if t.spec.name in gated)
    assert set(CALLS) == {t.spec.name for t in full.tools()}
    runs.save(store, f.report(), now=datetime.now(UTC))
    assert full.call("gather", {}).is_error is False
