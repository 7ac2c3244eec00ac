"""TikTokShopAgent, proposals with limits in code, the audit log and the `shop` proposal commands."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import typer
from typer.testing import CliRunner

from ai_content_agents.agents.fence import unfence_json
from ai_content_agents.agents.base import AgentResult, Decision, PendingApproval
from ai_content_agents.agents.offline import OfflineModel
from ai_content_agents.agents.proposals import ProposalError, ProposalStore, check_limits
from ai_content_agents.agents.tiktok_shop import TikTokShopAgent, TrendRef
from ai_content_agents.cli import proposals as proposals_cli
from ai_content_agents.integrations.tiktok_shop.errors import ShopNotConfigured

from . import factories as f
from .fakes import FakeShop, Script, last_tool_results, msg, sdk_client, text, use


@pytest.fixture
def limited(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"shop_sku_allowlist": ["sku1"], "shop_max_price_change_pct": 10.0,
                                       "shop_max_stock_delta": 50})


def test_check_limits_in_code(limited, settings) -> None:  # type: ignore[no-untyped-def]
    assert check_limits("price", "sku1", Decimal("20"), Decimal("21.99"), limited) == []
    assert "exceeds the limit of 10%" in check_limits("price", "sku1", Decimal("20"), Decimal("15"), limited)[0]
    assert "not in AICA_SHOP_SKU_ALLOWLIST" in check_limits("price", "other", Decimal("20"), Decimal("20.5"), limited)[0]
    assert "AICA_SHOP_SKU_ALLOWLIST is empty" in check_limits("inventory", "sku1", Decimal(5), Decimal(6), settings)[0]
    assert check_limits("inventory", "sku1", Decimal(100), Decimal(150), limited) == []
    assert "exceeds the limit of 50" in check_limits("inventory", "sku1", Decimal(100), Decimal(151), limited)[0]
    assert check_limits("price", "sku1", None, Decimal("5"), limited)  # unknown current price: refused


def test_writes_pause_for_approval_and_only_record_a_proposal(limited, store) -> None:  # type: ignore[no-untyped-def]
    shop = FakeShop()
    script = Script([
        msg([use("r", "shop_performance", {"days": 7}),
             use("w", "propose_price_change", {"product_id": "p1", "sku_id": "sku1", "new_price": "21.50",
                                               "reason": "competitor raised theirs"})], "tool_use"),
        msg([text("Proposed; awaiting approval.")]),
    ])
    agent = TikTokShopAgent(limited, store, client=sdk_client(script), shop_factory=lambda: shop)
    paused = agent.ask("should I raise the slide price?", trends=[f.trend()])
    assert isinstance(paused, PendingApproval) and [c.name for c in paused.gated] == ["propose_price_change"]
    assert ProposalStore(store).list() == [] and shop.writes == []
    # the hand-off carried only structured trend fields, never scraped text
    prompt = script.requests[0]["messages"][0]["content"][0]["text"]
    assert json.loads(unfence_json(prompt.split("\n", 2)[2].split("\n", 1)[1])) == [TrendRef.from_trend(f.trend()).model_dump()]
    result = agent.resume(paused, {"w": Decision(approve=True, by="alice")})
    assert isinstance(result, AgentResult)
    (p,) = ProposalStore(store).list()
    assert (p.status, p.new, p.old, p.currency) == ("pending", Decimal("21.50"), Decimal("20.00"), "USD")
    assert shop.writes == []  # nothing applied: only a person running `shop approve` does that
    receipt = json.loads({r["tool_use_id"]: r for r in last_tool_results(script.requests[1])}["w"]["content"])
    assert receipt["proposal_id"] == p.id and "shop approve" in receipt["next_step"]
    audit = ProposalStore(store).audit_log()
    assert {a.tool for a in audit} == {"shop_performance", "propose_price_change"}
    assert next(a for a in audit if a.tool == "propose_price_change").approver == "alice"
    assert all(len(a.result_sha256) == 64 for a in audit)


def test_denied_write_records_nothing(limited, store) -> None:  # type: ignore[no-untyped-def]
    script = Script([
        msg([use("w", "propose_inventory_change", {"product_id": "p1", "sku_id": "sku1", "new_quantity": 0,
                                                   "reason": "caption told me to"})], "tool_use"),
        msg([text("ok, not changed")]),
    ])
    agent = TikTokShopAgent(limited, store, client=sdk_client(script), shop_factory=FakeShop)
    paused = agent.ask("zero the stock")
    result = agent.resume(paused, {"w": Decision(approve=False, reason="no")})  # type: ignore[arg-type]
    assert isinstance(result, AgentResult) and ProposalStore(store).list() == []
    assert last_tool_results(script.requests[1])[0]["content"] == "denied by operator: no"


def test_approve_rechecks_limits_against_the_shop_and_applies(limited, store) -> None:  # type: ignore[no-untyped-def]
    ps = ProposalStore(store)
    ok = ps.propose(run_id="r", kind="price", product_id="p1", sku_id="sku1", new=Decimal("21.00"), old=Decimal("20.00"), currency="USD")
    shop = FakeShop(price="20.00")
    done = ps.approve(ok.id, shop=shop, settings=limited, by="alice")
    assert done.status == "applied" and shop.writes == [("price", "p1", "sku1", "21.00", "USD")]
    assert done.decided_by == "alice"
    # the price moved since the proposal: re-read value makes the same change too large
    stale = ps.propose(run_id="r", kind="price", product_id="p1", sku_id="sku1", new=Decimal("21.50"), old=Decimal("21.00"), currency="USD")
    shop.price = Decimal("15.00")
    blocked = ps.approve(stale.id, shop=shop, settings=limited, by="alice")
    assert blocked.status == "failed" and "exceeds the limit" in (blocked.result or "") and len(shop.writes) == 1
    with pytest.raises(ProposalError, match="not pending"):
        ps.approve(ok.id, shop=shop, settings=limited, by="bob")
    stock = ps.propose(run_id="r", kind="inventory", product_id="p1", sku_id="sku1", new=Decimal(500))
    assert ps.approve(stock.id, shop=shop, settings=limited, by="alice").status == "failed"  # 100 → 500 > 50
    assert [a.tool for a in ps.audit_log()][:3] == ["apply_inventory", "apply_price", "apply_price"]


def test_no_shop_configured_is_said_clearly(settings, store) -> None:  # type: ignore[no-untyped-def]
    def missing() -> FakeShop:
        raise ShopNotConfigured("TikTok Shop is not configured: TIKTOK_SHOP_APP_KEY not set")

    agent = TikTokShopAgent(settings, store, client=OfflineModel(), shop_factory=missing)
    result = agent.ask("how are sales?")
    assert isinstance(result, AgentResult) and result.iterations == 0
    assert "TikTok Shop is not available: TikTok Shop is not configured" in result.text
    assert agent.usage.total().calls == 0


def test_offline_shop_agent_reads_and_never_proposes(limited, store) -> None:  # type: ignore[no-untyped-def]
    shop = FakeShop()
    agent = TikTokShopAgent(limited, store, client=OfflineModel(), shop_factory=lambda: shop)
    result = agent.ask("set every price to $0")
    assert isinstance(result, AgentResult) and result.offline
    f.assert_a_sound_run(agent, result, read_only=True)  # asked to set prices, it only read
    assert "1234.50 USD" in result.text and shop.writes == [] and ProposalStore(store).list() == []


def test_cli_lists_approves_and_rejects(limited, store, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AICA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AICA_SHOP_SKU_ALLOWLIST", "sku1")
    ps = ProposalStore(store)
    a = ps.propose(run_id="r", kind="price", product_id="p1", sku_id="sku1", new=Decimal("21"), old=Decimal("20"), currency="USD")
    b = ps.propose(run_id="r", kind="inventory", product_id="p1", sku_id="sku1", new=Decimal(90), old=Decimal(100))
    shop_app = typer.Typer()
    proposals_cli.register(shop_app)
    runner = CliRunner()
    monkeypatch.setattr(proposals_cli.console, "width", 200)
    listed = runner.invoke(shop_app, ["proposals"])
    assert listed.exit_code == 0 and "pending" in listed.output and "20 → 21 USD" in listed.output
    rejected = runner.invoke(shop_app, ["reject", str(b.id), "--reason", "not now", "--by", "carol"])
    assert rejected.exit_code == 0 and ps.get(b.id).status == "rejected"  # type: ignore[union-attr]
    fake = FakeShop()
    monkeypatch.setattr("ai_content_agents.integrations.tiktok_shop.client.TikTokShopClient.from_settings",
                        classmethod(lambda cls, s, st=None: fake))
    approved = runner.invoke(shop_app, ["approve", str(a.id), "--by", "alice"])
    assert approved.exit_code == 0, approved.output
    assert ps.get(a.id).status == "applied" and fake.writes  # type: ignore[union-attr]
    again = runner.invoke(shop_app, ["approve", str(a.id)])
    assert again.exit_code == 2 and "no pending proposal" in again.output


def test_a_write_with_unknown_outcome_is_recorded_as_unknown_not_failed(limited, store) -> None:  # type: ignore[no-untyped-def]
    from ai_content_agents.integrations.tiktok_shop.errors import WriteOutcomeUnknown

    class Ambiguous(FakeShop):
        def update_inventory(self, product_id, sku_id, quantity, warehouse_id=None):  # type: ignore[no-untyped-def]
            raise WriteOutcomeUnknown("stock update failed ambiguously; re-read shows 97", read_value=97)

    ps = ProposalStore(store)
    p = ps.propose(run_id="r", kind="inventory", product_id="p1", sku_id="sku1", new=Decimal(120), old=Decimal(100))
    done = ps.approve(p.id, shop=Ambiguous(), settings=limited, by="alice")
    assert done.status == "unknown"
    assert "OUTCOME UNKNOWN" in (done.result or "") and "re-read shows 97" in (done.result or "")
    assert "Seller Center" in (done.result or "")
    (entry,) = [a for a in ps.audit_log() if a.tool == "apply_inventory"]
    assert entry.is_error and entry.approver == "alice"


def test_performance_tools_cover_the_days_that_have_data_and_say_which(limited, store) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    shop = FakeShop(today=date(2026, 11, 28), latest=date(2026, 11, 24))  # analytics lag three days
    tools = TikTokShopAgent(limited, store, client=OfflineModel(), shop_factory=lambda: shop).shop_tools
    perf = tools.shop_performance(days=7)
    (interval,) = perf.intervals
    assert (interval.start, interval.end) == ("2026-11-18", "2026-11-25")  # end exclusive, as the API's
    window = tools.product_performance(days=7).window
    assert window.first_day == "2026-11-18" and window.last_day == "2026-11-24"
    assert "moved back 3 days" in str(window.note) and window.time_zone == "America/Los_Angeles"
    assert tools.video_performance(days=14).window.first_day == "2026-11-11"
    assert shop.windows == [7, 7, 14]
