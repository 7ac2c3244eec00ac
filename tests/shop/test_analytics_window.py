"""Analytics windows end at the shop's latest available date, counted in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import make_client
from fake_server import FakeShop

from ai_content_agents.integrations.tiktok_shop import errors
from ai_content_agents.integrations.tiktok_shop.analytics import (
    analytics_window,
    shop_time_zone,
    shop_today,
)

TODAY = date(2026, 11, 28)


def test_next_day_data_gives_the_last_n_days_up_to_yesterday() -> None:
    w = analytics_window(7, TODAY, date(2026, 11, 27), "America/Los_Angeles")
    assert (w.start, w.end, w.last_day) == (date(2026, 11, 21), TODAY, date(2026, 11, 27))
    assert w.shifted_days == 0 and w.note is None


def test_lagging_data_moves_the_window_back_and_says_so() -> None:
    w = analytics_window(7, TODAY, date(2026, 11, 25), "America/Los_Angeles")
    assert (w.start, w.last_day) == (date(2026, 11, 19), date(2026, 11, 25))
    assert w.shifted_days == 2
    assert w.note == ("shop data is available up to 2026-11-25 (America/Los_Angeles); the 7-day window was moved "
                      "back 2 days to 2026-11-19 .. 2026-11-25")
    assert "moved back 1 day to" in (analytics_window(1, TODAY, date(2026, 11, 26), "UTC").note or "")


@pytest.mark.parametrize("latest", [TODAY, date(2026, 12, 3), None])
def test_a_latest_date_of_today_or_unknown_never_includes_today(latest: date | None) -> None:
    w = analytics_window(3, TODAY, latest, "UTC")
    assert w.end == TODAY and w.last_day == date(2026, 11, 27) and w.note is None


def test_today_is_the_shops_date_not_utcs() -> None:
    early_utc = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # still the 27th on the US west coast
    assert shop_today(early_utc, shop_time_zone("US")) == date(2026, 11, 27)
    assert shop_today(early_utc, shop_time_zone("JP")) == date(2026, 11, 28)
    assert shop_today(early_utc, shop_time_zone("US", "Asia/Tokyo")) == date(2026, 11, 28)  # the override wins
    assert shop_time_zone(None) == ZoneInfo("UTC") and shop_time_zone("ZZ") == ZoneInfo("UTC")
    with pytest.raises(errors.ConfigError, match="AICA_TIKTOK_SHOP_TIME_ZONE"):
        shop_time_zone("US", "Not/AZone")


def test_client_asks_once_per_shop_and_counts_days_in_the_shops_zone(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    instant = datetime(2026, 11, 28, 6, 0, tzinfo=UTC).timestamp()  # the 27th in Los Angeles, the 28th in UTC
    fake.now = lambda: instant
    fake.analytics_lag_days = 2
    client = make_client(shop_cfg)
    client._clock = lambda: instant
    first = client.analytics_window(7)
    again = client.analytics_window(30)
    assert fake.count("/analytics/") == 1  # one question for the run, then cached
    assert first.latest_available_date == again.latest_available_date == date(2026, 11, 25)
    assert (first.start, first.last_day, first.shifted_days) == (date(2026, 11, 19), date(2026, 11, 25), 1)
    assert first.time_zone == "America/Los_Angeles" and again.days == 30 and again.last_day == first.last_day
    (probe,) = [r for r in fake.api_records() if r.path.startswith("/analytics/")]
    assert (probe.query["start_date_ge"], probe.query["end_date_lt"]) == ("2026-11-26", "2026-11-27")
    assert fake.violations == []
    client.close()


def test_parallel_tools_share_one_question(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    fake.latency = 0.2  # the question takes a while: the second caller arrives while it is open
    client = make_client(shop_cfg)
    client.select_shop()
    with ThreadPoolExecutor(4) as pool:
        windows = list(pool.map(client.analytics_window, [7, 7, 14, 30]))
    assert fake.count("/analytics/") == 1 and len({w.latest_available_date for w in windows}) == 1
    client.close()


def test_a_failed_question_is_asked_again(fake: FakeShop, shop_cfg) -> None:  # type: ignore[no-untyped-def]
    client = make_client(shop_cfg)
    fake.inject("/analytics/", 200, code=105005, message="apply auth pkg for this api", times=1)
    with pytest.raises(errors.ScopeError):
        client.analytics_window(7)
    assert client.analytics_window(7).latest_available_date == date.fromisoformat(fake.latest_available_date)
    client.close()
