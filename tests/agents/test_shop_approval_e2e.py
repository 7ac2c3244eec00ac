"""The approval flow end to end, through the real CLI, the real TikTok Shop client and the loopback fake shop:

`ask --shop` with a scripted model (a loopback /v1/messages server) proposes a price change;
`shop proposals` lists it; `shop approve ID` applies it within the limits; a change beyond the
limits is refused and the shop is left alone; the audit log records every step.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from ai_content_agents.agents.proposals import ProposalStore
from ai_content_agents.cli import proposals as proposals_cli
from ai_content_agents.cli.app import app
from ai_content_agents.store import Store

from .fakes import TEST_KEY, FakeMessagesServer, msg, text, use

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shop"))
from fake_server import FakeShop

runner = CliRunner()
PRODUCT, SKU = "1729000000000000001", "1730000000000000001"  # the fake's second product: price 11.90 USD


def scripted_model(new_price: str, reason: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Looks at the shop's products, proposes `new_price` for the first SKU it was shown, then answers."""

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        last = body["messages"][-1]["content"]
        results = [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"] if isinstance(last, list) else []
        if not results:
            return msg([use("t1", "search_products", {"limit": 2})], "tool_use")
        if results[0]["tool_use_id"] == "t1":
            products = json.loads(results[0]["content"])
            target = next(p for p in products if p["product_id"] == PRODUCT)
            sku = target["skus"][0]
            return msg([use("t2", "propose_price_change", {"product_id": target["product_id"], "sku_id": sku["sku_id"],
                                                           "new_price": new_price, "reason": reason})], "tool_use")
        receipt = json.loads(results[0]["content"])
        return msg([text(f"Proposal {receipt['proposal_id']} recorded; a person must approve it.")])

    return reply


@pytest.fixture
def shop_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with FakeShop(app_secret="CANARY-e2e-secret-91c2", n_products=5, n_orders=3) as fake:
        env = {
            "AICA_DATA_DIR": str(tmp_path / "data"),
            "TIKTOK_SHOP_APP_KEY": fake.app_key,
            "TIKTOK_SHOP_APP_SECRET": fake.app_secret,
            "TIKTOK_SHOP_SERVICE_ID": "svc-123",
            "AICA_TIKTOK_SHOP_REGION": "US",
            "AICA_TIKTOK_SHOP_API_BASE": fake.url,
            "AICA_TIKTOK_SHOP_AUTH_BASE": fake.url,
            "AICA_TIKTOK_SHOP_RATE": "500",
            "AICA_TIKTOK_SHOP_BURST": "50",
            "AICA_SHOP_SKU_ALLOWLIST": SKU,
            "AICA_SHOP_MAX_PRICE_CHANGE_PCT": "10",
            "ANTHROPIC_API_KEY": TEST_KEY,
        }
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(proposals_cli.console, "width", 200)
        # the seller's consent, as a person does it: auth-url, then the redirect URL with its state
        r = runner.invoke(app, ["shop", "auth-url"])
        state = parse_qs(urlsplit(r.output.strip().splitlines()[0]).query)["state"][0]
        r = runner.invoke(app, ["shop", "exchange", f"https://my.app/cb?code=good-code&state={state}"])
        assert r.exit_code == 0, r.output
        from ai_content_agents.config import Settings

        yield fake, Settings().db_path


def _ask(monkeypatch: pytest.MonkeyPatch, responder: Callable[[dict[str, Any]], dict[str, Any]]) -> str:
    with FakeMessagesServer(responder) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        r = runner.invoke(app, ["ask", "Should I trim the price of my slides?", "--shop", "--record-proposals"])
    assert r.exit_code == 0, r.output
    return r.output


def _price(fake: FakeShop) -> str:
    return str(fake.products[PRODUCT]["skus"][0]["price"]["sale_price"])


def test_ask_proposes_a_person_approves_within_limits_and_beyond_them_is_refused(shop_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake, db = shop_env
    assert _price(fake) == "11.90"

    # 1. the model proposes -3.4%: a proposal is recorded, nothing is written to the shop
    out = _ask(monkeypatch, scripted_model("11.50", "a competitor sells the same slides for 11.49"))
    assert "→ propose_price_change" in out and "recorded; a person must approve it" in out
    assert fake.writes == [] and _price(fake) == "11.90"

    # 2. `shop proposals` lists it, with the current and the proposed price
    r = runner.invoke(app, ["shop", "proposals"])
    assert r.exit_code == 0 and "pending" in r.output and "11.90 → 11.50 USD" in r.output
    (first,) = ProposalStore(Store(db)).list("pending")

    # 3. a person approves: the limits are re-checked against the shop, then the price is written
    r = runner.invoke(app, ["shop", "approve", str(first.id), "--by", "alice"])
    assert r.exit_code == 0, r.output
    assert "applied" in r.output
    assert fake.writes == [("prices", {"skus": [{"id": SKU, "price": {"amount": "11.50", "currency": "USD"}}]})]
    assert _price(fake) == "11.50"

    # 4. the model proposes -57%: recorded (with the limit problem flagged), refused at approval, shop untouched
    _ask(monkeypatch, scripted_model("4.99", "clear the stock fast"))
    (second,) = ProposalStore(Store(db)).list("pending")
    r = runner.invoke(app, ["shop", "approve", str(second.id), "--by", "alice"])
    said = " ".join(r.output.split())  # the console wraps long lines
    assert r.exit_code == 1 and "blocked by limits" in said and "exceeds the limit of 10%" in said
    assert len(fake.writes) == 1 and _price(fake) == "11.50"
    r = runner.invoke(app, ["shop", "proposals"])
    assert "applied" in r.output and "failed" in r.output

    # 5. the audit log has every step: the model's reads and proposals, and both decisions
    ps = ProposalStore(Store(db))
    log = list(reversed(ps.audit_log()))
    assert [(a.actor, a.tool, a.is_error) for a in log] == [
        ("TikTokShopAgent", "search_products", False),
        ("TikTokShopAgent", "propose_price_change", False),
        ("operator", "apply_price", False),
        ("TikTokShopAgent", "search_products", False),
        ("TikTokShopAgent", "propose_price_change", False),
        ("operator", "apply_price", True),
    ]
    assert [a.approver for a in log if a.tool == "apply_price"] == ["alice", "alice"]
    assert log[1].input["new_price"] == "11.50" and log[4].input["new_price"] == "4.99"
    assert log[2].input == {"id": first.id, "product_id": PRODUCT, "sku_id": SKU, "new": "11.50"}
    assert log[2].run_id == first.run_id and log[5].run_id == second.run_id != first.run_id
    assert ps.get(first.id).status == "applied" and ps.get(second.id).status == "failed"  # type: ignore[union-attr]
    # and nothing secret reached the store
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert fake.app_secret.encode() not in raw
