"""Analytics date windows: shop-local calendar days that end at the shop's `latest_available_date`.

WHY: analytics dates are calendar days in the shop's time zone, and the data is next-day at best and
sometimes lags more. A window computed as "the last N days up to today (UTC)" asks for days that have
no data yet, and the seller gets an empty table with no explanation. So a window ends where the data
ends, and says so when that moved it. Everything here is pure; the client asks the API for the date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from . import errors

# The reference gives no time zone per shop; these are the zones the seller centres report in.
# A shop elsewhere (or a US shop that reports in another zone) sets AICA_TIKTOK_SHOP_TIME_ZONE.
REGION_TIME_ZONES: dict[str, str] = {
    "US": "America/Los_Angeles",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "JP": "Asia/Tokyo",
    "ID": "Asia/Jakarta",
    "MY": "Asia/Kuala_Lumpur",
    "PH": "Asia/Manila",
    "SG": "Asia/Singapore",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
}
FALLBACK_TIME_ZONE = "UTC"


def shop_time_zone(region: str | None, override: str | None = None) -> ZoneInfo:
    """The zone the shop's analytics days are counted in: the override, else by region, else UTC."""
    name = override or REGION_TIME_ZONES.get((region or "").upper(), FALLBACK_TIME_ZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.ConfigError(
            f"unknown time zone {name!r}",
            action="set AICA_TIKTOK_SHOP_TIME_ZONE to an IANA name such as America/Los_Angeles",
        ) from None


def shop_today(now: datetime, zone: ZoneInfo) -> date:
    """Today's date where the shop is (`now` must be timezone-aware)."""
    return now.astimezone(zone).date()


class AnalyticsWindow(BaseModel):
    """`days` whole shop-local days: `start` inclusive, `end` exclusive, as the API's start_date_ge/end_date_lt."""

    start: date
    end: date
    days: int = Field(ge=1)
    time_zone: str
    latest_available_date: date | None = None
    requested_end: date  # where the window would have ended had the data been there (today, exclusive)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def shifted_days(self) -> int:
        """How many days the window was moved back to end at the latest available data."""
        return (self.requested_end - self.end).days

    @property
    def note(self) -> str | None:
        """One line for the output when the window is not the requested one, else None."""
        if self.shifted_days <= 0:
            return None
        return (
            f"shop data is available up to {self.latest_available_date} ({self.time_zone}); the {self.days}-day "
            f"window was moved back {self.shifted_days} day{'s' if self.shifted_days != 1 else ''} "
            f"to {self.start} .. {self.last_day}"
        )


def analytics_window(days: int, today: date, latest: date | None, time_zone: str) -> AnalyticsWindow:
    """The last `days` days of data: up to yesterday (data is next-day), or to `latest` when the data lags.

    A `latest` of today or later (a clock or zone mismatch) never makes the window include today.
    """
    requested_end = today
    end = min(requested_end, latest + timedelta(days=1)) if latest is not None else requested_end
    return AnalyticsWindow(
        start=end - timedelta(days=days), end=end, days=days, time_zone=time_zone,
        latest_available_date=latest, requested_end=requested_end,
    )
