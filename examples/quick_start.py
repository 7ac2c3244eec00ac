"""Quick start: both agents, a tool call, a newsletter section and the approval flow.

Runs offline by default (no ANTHROPIC_API_KEY → the offline model; no shop keys → a stand-in shop
object defined below) on the bundled SAMPLE DATA, in a temporary data dir. Set ANTHROPIC_API_KEY to
use Claude instead; nothing else changes.

    python examples/quick_start.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ai_content_agents import pipeline
from ai_content_agents.agents.base import Decision, PendingApproval, make_client
from ai_content_agents.agents.proposals import ProposalStore
from ai_content_agents.agents.tiktok_shop import TikTokShopAgent
from ai_content_agents.agents.trend import TrendAgent
from ai_content_agents.agents.usage import RunUsage
from ai_content_agents.config import Settings
from ai_content_agents.integrations.tiktok_shop.analytics import AnalyticsWindow, analytics_window
from ai_content_agents.agents.claude_writer import ClaudeWriter
from ai_content_agents.newsletter.sections import SECTION_SPECS, select
from ai_content_agents.store import Store


class DemoShop:
    """A stand-in for TikTokShopClient so the approval flow runs without a real shop."""

    def __init__(self) -> None:
        self.price = Decimal("24.00")

    def select_shop(self, id_or_name: str | None = None) -> Any:
        return SimpleNamespace(id="demo", name="Demo shop", region="US")

    def get_product(self, product_id: str) -> Any:
        sku = SimpleNamespace(id="sku-1", price=SimpleNamespace(currency="USD", sale_price=self.price, amount=None,
                                                                tax_exclusive_price=None), inventory=[])
        return SimpleNamespace(id=product_id, skus=[sku])

    def analytics_window(self, days: int) -> AnalyticsWindow:
        today = datetime.now(UTC).date()  # a real shop asks the API for its latest day with data
        return analytics_window(days, today, today - timedelta(days=1), "UTC")

    def shop_performance(self, start: Any, end: Any, **kw: Any) -> Any:
        gmv = SimpleNamespace(amount=Decimal("1520.00"), currency="USD")
        row = SimpleNamespace(start_date=start, end_date=end, gmv=gmv, orders=61, units_sold=70, buyers=58,
                              product_page_views=2400)
        return SimpleNamespace(latest_available_date=end - timedelta(days=1), performance=SimpleNamespace(intervals=[row]))

    def product_performance_list(self, start: Any, end: Any, **kw: Any) -> list[Any]:
        gmv = SimpleNamespace(amount=Decimal("980.00"), currency="USD")
        return [SimpleNamespace(id="prod-1", gmv=gmv, orders=40, units_sold=44)]

    def update_price(self, product_id: str, sku_id: str, amount: Decimal, currency: str) -> Any:
        self.price = amount
        return SimpleNamespace(errors=[])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), out_dir=Path(tmp) / "out", shop_sku_allowlist=["sku-1"])
        store = Store(settings.db_path)
        usage = RunUsage.from_settings(settings, "quick-start", store)
        client = make_client(settings)

        # 1. TrendAgent answers a question (gather → list → detail → answer)
        report = pipeline.gather(settings, store, mode="sample")
        trend_agent = TrendAgent(settings, store, client=client, usage=usage, report=report)
        print(trend_agent.ask("What is breaking out on TikTok this week?").text, "\n")

        # 2. One tool call by hand: the compact, fenced view the model sees
        print(trend_agent.tools.run("list_trends", {"limit": 3}).content[:400], "\n")

        # 3. One newsletter section (compose.py adds the fact-check gate around this in the real run)
        writer = ClaudeWriter(client, settings, usage=usage)
        spec = SECTION_SPECS[0]
        section = writer.write_section(spec, select(report.trends)[spec.key], report)
        for item in section.items:
            print(f"{item.headline}\n{item.signal}\n{item.action}\n")

        # 4. The approval flow: the model proposes, a person approves, code applies within limits
        shop = DemoShop()
        shop_agent = TikTokShopAgent(settings, store, client=client, usage=usage, shop_factory=lambda: shop)
        receipt = shop_agent.shop_tools.propose_price_change("prod-1", "sku-1", Decimal("25.00"), "matches the market")
        print("proposal recorded:", receipt.model_dump())
        out = shop_agent.ask("How is the shop doing?")
        if isinstance(out, PendingApproval):  # a real model may propose; decide like `ask --shop` does
            out = shop_agent.resume(out, {c.id: Decision(approve=False, reason="demo") for c in out.gated})
        print(out.text[:300])
        applied = ProposalStore(store).approve(receipt.proposal_id, shop=shop, settings=settings, by="you")
        print(f"proposal {applied.id}: {applied.status} ({applied.result})")

        print("\n" + usage.summary())
        store.close()


if __name__ == "__main__":
    main()
