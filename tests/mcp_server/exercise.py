"""Call every served tool once through an MCP client, feeding ids from earlier answers into later calls.

Shared by the in-process and the stdio test so both transports are held to the same calls. The table
covers every served tool by name: a tool added to the server without a call here fails the tests.
"""

from __future__ import annotations

import json
from typing import Any

from mcp import Client

from ai_content_agents.agents.fence import unfence_json

PRODUCT, SKU = "1729000000000000001", "1730000000000000001"  # the fake shop's second product: 11.90 USD

def rows(answer: Any) -> list[Any]:
    """A list answer's rows, whether a tool returns a bare list or a model holding one list (e.g. `products`)."""
    if isinstance(answer, list):
        return answer
    lists = [v for v in answer.values() if isinstance(v, list)]
    assert len(lists) == 1, f"expected one list in {sorted(answer)}"
    return lists[0]


# name -> arguments, or a function of the answers so far
CALLS: dict[str, Any] = {
    "gather": {},
    "list_trends": {"limit": 3},
    "trend_detail": lambda got: {"cluster_id": got["list_trends"]["trends"][0]["cluster_id"]},
    "item_history": lambda got: {"source": got["trend_detail"]["trend"]["evidence"][0]["source"],
                                 "source_id": got["trend_detail"]["trend"]["evidence"][0]["key"].split(":", 1)[1]},
    "recently_featured": {"days": 28},
    "shop_status": {},
    "list_shops": {},
    "search_products": {"limit": 3},
    "inventory": lambda got: {"product_ids": [p["product_id"] for p in rows(got["search_products"])]},
    "orders_summary": {"days": 7},
    "shop_performance": {"days": 7},
    "product_performance": {"days": 7, "limit": 3},
    "video_performance": {"days": 7, "limit": 3},
    "propose_price_change": {"product_id": PRODUCT, "sku_id": SKU, "new_price": "12.50",
                             "reason": "a TikTok trend lifts demand for slides"},
    "propose_inventory_change": {"product_id": PRODUCT, "sku_id": SKU, "new_quantity": 40,
                                 "reason": "restock ahead of the trend"},
    "list_proposals": {},
}


async def call_every_tool(client: Client) -> tuple[list[Any], dict[str, Any], dict[str, str]]:
    """(the listed tools, each tool's parsed JSON answer, each tool's raw text). Fails on any error result."""
    listed = (await client.list_tools()).tools
    names = [t.name for t in listed]
    assert sorted(names) == sorted(CALLS), f"served tools and the test's calls differ: {sorted(set(names) ^ set(CALLS))}"
    got: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for name, args in CALLS.items():
        arguments = args(got) if callable(args) else args
        result = await client.call_tool(name, arguments)
        text = "".join(c.text for c in result.content if c.type == "text")
        assert not result.is_error, f"{name}({arguments}) failed: {text}"
        raw[name] = text
        got[name] = json.loads(unfence_json(text))  # trend results carry scraped text: fenced whole
    return listed, got, raw
