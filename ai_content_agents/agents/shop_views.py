"""What TikTokShopAgent's read tools return: small pydantic models, as the trend tools' are.

WHY models, not dicts: one shape crosses module borders (the tool result the model reads, the
offline plan that reads it back, tests), and a typo in a field name fails in mypy, not in a prompt.
Strings that a person typed into the shop (titles, seller SKUs, names) are cleaned by the tools.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ShopInfo(BaseModel):
    id: str
    name: str
    region: str | None = None


class ShopStatus(BaseModel):
    ready: bool
    detail: str
    shop: ShopInfo | None = None
    pending_proposals: int = 0


class SkuLine(BaseModel):
    sku_id: str
    seller_sku: str | None = None
    price: str | None = None
    currency: str | None = None
    stock: int = 0


class ProductLine(BaseModel):
    product_id: str
    title: str
    status: str | None = None
    skus: list[SkuLine] = Field(default_factory=list)


class SkuStock(BaseModel):
    sku_id: str
    available: int | None = None
    committed: int | None = None


class ProductStock(BaseModel):
    product_id: str
    skus: list[SkuStock] = Field(default_factory=list)


class OrdersSummary(BaseModel):
    window_days: int
    orders: int
    capped: bool  # True: 1,000 orders were read and there may be more
    by_status: dict[str, int] = Field(default_factory=dict)
    units: int = 0
    order_value: dict[str, str] = Field(default_factory=dict)  # currency → total, as a decimal string


class Window(BaseModel):
    """The days a figure covers, so an answer can say "to Nov 25" instead of assuming "this week"."""

    first_day: str
    last_day: str
    time_zone: str
    note: str | None = None


class Interval(BaseModel):
    start: str
    end: str  # exclusive, as the API's
    gmv: str | None = None
    orders: int | None = None
    units_sold: int | None = None
    buyers: int | None = None
    page_views: int | None = None


class ShopPerformance(BaseModel):
    window: Window
    latest_available_date: str
    intervals: list[Interval] = Field(default_factory=list)


class ProductPerf(BaseModel):
    product_id: str
    gmv: str | None = None
    orders: int | None = None
    units_sold: int | None = None


class ProductPerformance(BaseModel):
    window: Window
    products: list[ProductPerf] = Field(default_factory=list)


class VideoPerf(BaseModel):
    video_id: str
    views: int | None = None
    gmv: str | None = None
    units_sold: int | None = None
    product_ids: list[str] = Field(default_factory=list)


class VideoPerformance(BaseModel):
    window: Window
    videos: list[VideoPerf] = Field(default_factory=list)
