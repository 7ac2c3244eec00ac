"""`shop` sub-app end to end against the fake: auth-url → exchange → shops/products/orders/... → sync."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from conftest import CANARY_SECRET
from fake_server import FakeShop
from typer.testing import CliRunner

from ai_content_agents.cli.shop import app

runner = CliRunner()


def env(fake: FakeShop, data: Path) -> dict[str, str]:
    return {
        "AICA_DATA_DIR": str(data),
        "TIKTOK_SHOP_APP_KEY": fake.app_key,
        "TIKTOK_SHOP_APP_SECRET": fake.app_secret,
        "TIKTOK_SHOP_SERVICE_ID": "svc-123",
        "AICA_TIKTOK_SHOP_REGION": "US",
        "AICA_TIKTOK_SHOP_API_BASE": fake.url,
        "AICA_TIKTOK_SHOP_AUTH_BASE": fake.url,
        "AICA_TIKTOK_SHOP_RATE": "500",
        "AICA_TIKTOK_SHOP_BURST": "50",
        "AICA_TIKTOK_SHOP_ANALYTICS_RATE": "500",
    }


def test_not_configured_is_a_clear_message(tmp_path: Path) -> None:
    r = runner.invoke(app, ["shops"], env={"AICA_DATA_DIR": str(tmp_path)})
    assert r.exit_code == 2 and "TIKTOK_SHOP_APP_KEY" in r.output and "Traceback" not in r.output


def test_not_authorised_points_to_auth_url(fake: FakeShop, tmp_path: Path) -> None:
    r = runner.invoke(app, ["products"], env=env(fake, tmp_path))
    assert r.exit_code == 2 and "services.us.tiktokshop.com/open/authorize" in r.output


def test_seller_journey_auth_url_to_sync(fake: FakeShop, tmp_path: Path) -> None:
    e = env(fake, tmp_path)
    r = runner.invoke(app, ["auth-url"], env=e)
    assert r.exit_code == 0, r.output
    url = next(line for line in r.output.splitlines() if line.startswith("https://"))
    state = parse_qs(urlsplit(url).query)["state"][0]
    # a forged state is refused before the code is spent
    r = runner.invoke(app, ["exchange", "https://my.app/callback?code=good-code&state=forged"], env=e)
    assert r.exit_code != 0 and "state" in r.output
    r = runner.invoke(app, ["exchange", f"https://my.app/callback?code=good-code&state={state}"], env=e)
    assert r.exit_code == 0, r.output
    assert "Glow Goods" in r.output
    r = runner.invoke(app, ["shops", "--json"], env=e)
    assert json.loads(r.output)[0]["id"] == "7000000000000000001"
    r = runner.invoke(app, ["products", "--limit", "3", "--json"], env=e)
    rows = json.loads(r.output)
    assert len(rows) == 3 and rows[0]["price"] == "10.90 USD"
    r = runner.invoke(app, ["orders", "--days", "30", "--limit", "2"], env=e)
    assert r.exit_code == 0 and "Secret Lane" not in r.output and "PII Person" not in r.output
    r = runner.invoke(app, ["inventory", "--product", "1729000000000000001", "--json"], env=e)
    assert json.loads(r.output)[0]["available"] == 11
    r = runner.invoke(app, ["analytics", "--what", "shop", "--json"], env=e)
    (row,) = json.loads(r.stdout)
    assert row["gmv"] == "1234.50" and r.stderr == ""  # next-day data: the usual window, nothing to explain
    assert row["end"] == fake.today.isoformat() and row["start"] == (fake.today - timedelta(days=7)).isoformat()
    r = runner.invoke(app, ["refresh"], env=e)
    assert r.exit_code == 0 and "Refreshed" in r.output
    r = runner.invoke(app, ["sync", "--json"], env=e)
    assert r.exit_code == 0, r.output
    reports = json.loads(r.output)
    assert [(x["kind"], x["inserted"]) for x in reports] == [("products", 250), ("orders", 120)]
    tokens = json.loads((tmp_path / "tiktok_shop_tokens.json").read_text())
    everything = r.output + "".join(runner.invoke(app, ["shops"], env=e).output)
    for secret in (CANARY_SECRET, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in everything


def test_analytics_window_ends_at_the_latest_available_date_and_says_so(fake: FakeShop, tmp_path: Path) -> None:
    e = env(fake, tmp_path)
    runner.invoke(app, ["exchange", "good-code", "--no-state-check"], env=e)
    fake.analytics_lag_days = 3  # the seller's analytics lag two days more than usual
    fake.product_perf = [{"id": "1729000000000000001", "gmv": {"amount": "120.50", "currency": "USD"},
                          "orders": 10, "units_sold": 12}]
    r = runner.invoke(app, ["analytics", "--what", "products", "--days", "7", "--json"], env=e)
    assert r.exit_code == 0, r.output
    assert [row["id"] for row in json.loads(r.stdout)] == ["1729000000000000001"]  # not an empty table
    latest = fake.latest_available_date
    start = (fake.today - timedelta(days=3 + 6)).isoformat()
    assert f"available up to {latest}" in r.stderr and "moved back 2 days" in r.stderr and start in r.stderr
    listed = [x for x in fake.api_records() if x.path.endswith("/shop_products/performance")]
    assert [(x.query["start_date_ge"], x.query["end_date_lt"]) for x in listed] == [
        (start, (fake.today - timedelta(days=2)).isoformat())]
    assert fake.count("/analytics/202405/shop/performance") == 1 and fake.violations == []
    r = runner.invoke(app, ["analytics", "--what", "videos"], env=e)  # the table says which days it covers
    assert r.exit_code == 0 and f"{start} to {latest}" in " ".join(r.stdout.split())


def test_unknown_time_zone_is_a_clear_error(fake: FakeShop, tmp_path: Path) -> None:
    e = {**env(fake, tmp_path), "AICA_TIKTOK_SHOP_TIME_ZONE": "Mars/Olympus_Mons"}
    runner.invoke(app, ["exchange", "good-code", "--no-state-check"], env=e)
    r = runner.invoke(app, ["analytics", "--what", "shop"], env=e)
    assert r.exit_code == 2 and "Mars/Olympus_Mons" in r.output and "IANA" in r.output and "Traceback" not in r.output


def test_api_errors_are_one_line_with_an_action(fake: FakeShop, tmp_path: Path) -> None:
    e = env(fake, tmp_path)
    runner.invoke(app, ["exchange", "good-code", "--no-state-check"], env=e)
    fake.inject("/analytics/", 200, code=105005, message="apply auth pkg for this api", times=5)
    r = runner.invoke(app, ["analytics", "--what", "products"], env=e)
    assert r.exit_code == 1 and "105005" in r.output and "Partner Center" in r.output and "Traceback" not in r.output


def _auth_url_state(e: dict[str, str]) -> str:
    r = runner.invoke(app, ["auth-url"], env=e)
    assert r.exit_code == 0, r.output
    url = next(line for line in r.output.splitlines() if line.startswith("https://"))
    return parse_qs(urlsplit(url).query)["state"][0]


def test_bare_code_needs_the_state_or_an_explicit_no_state_check(fake: FakeShop, tmp_path: Path) -> None:
    e = env(fake, tmp_path)
    _auth_url_state(e)
    r = runner.invoke(app, ["exchange", "good-code"], env=e)
    assert r.exit_code != 0 and "--no-state-check" in r.output
    assert fake.token_calls == []  # refused before the single-use code was spent
    r = runner.invoke(app, ["exchange", "good-code", "--state", "forged"], env=e)
    assert r.exit_code != 0 and "state" in r.output and fake.token_calls == []
    r = runner.invoke(app, ["exchange", "good-code", "--no-state-check"], env=e)
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and "WITHOUT checking the CSRF" in r.output
    assert fake.token_calls == ["get"]


def test_state_is_consumed_so_a_redirect_cannot_be_replayed(fake: FakeShop, tmp_path: Path) -> None:
    e = env(fake, tmp_path)
    state = _auth_url_state(e)
    fake.auth_codes.add("second-code")
    r = runner.invoke(app, ["exchange", f"https://my.app/cb?code=good-code&state={state}"], env=e)
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "tiktok_shop_oauth_state.json").exists()  # used up
    # the same state again (a replayed or forged link carrying it) is refused without spending the code
    r = runner.invoke(app, ["exchange", f"https://my.app/cb?code=second-code&state={state}"], env=e)
    assert r.exit_code != 0 and "already used" in r.output
    assert fake.token_calls == ["get"] and "second-code" in fake.auth_codes
    # a state given with --state is checked the same way
    state2 = _auth_url_state(e)
    r = runner.invoke(app, ["exchange", "second-code", "--state", state2], env=e)
    assert r.exit_code == 0, r.output
    assert fake.token_calls == ["get", "get"]
