"""Typed TikTok Shop responses (pinned versions; see endpoints.py).

WHY lenient models: the API adds fields often, so unknown keys are ignored and every field is
optional except the id. Ids are strings (19-digit numbers must never become floats) and money is
`Decimal` (amounts arrive as decimal strings like "12.90").
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _to_str_id(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    return v


def _to_decimal(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, float):
        return Decimal(repr(v))  # never through binary float arithmetic
    if isinstance(v, (str, int)):
        try:
            return Decimal(str(v))
        except InvalidOperation:
            return None
    return v


def _to_rate(v: Any) -> Any:
    """A rate as the API's fraction ("0.068"); a percent string ("6.8%") becomes that fraction, not None."""
    if isinstance(v, str) and v.strip().endswith("%"):
        d = _to_decimal(v.strip()[:-1])
        return d / 100 if isinstance(d, Decimal) else None
    return _to_decimal(v)


def _to_int(v: Any) -> Any:
    if v is None or v == "":
        return None
    if isinstance(v, str):
        try:
            return int(Decimal(v))
        except InvalidOperation:
            return None
    return v


Id = Annotated[str, BeforeValidator(_to_str_id)]
Money = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
Rate = Annotated[Decimal | None, BeforeValidator(_to_rate)]  # a share of one
Count = Annotated[int | None, BeforeValidator(_to_int)]


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _lift_intervals(data: Any) -> Any:
    """Detail endpoints nest `performance.intervals`; accept that and a flat `intervals`."""
    if isinstance(data, dict) and "intervals" not in data and isinstance(data.get("performance"), dict):
        return {**data, "intervals": data["performance"].get("intervals") or []}
    return data


# --- shops --------------------------------------------------------------------------------------
class Shop(_M):
    id: Id
    name: str = ""
    region: str | None = None
    seller_type: str | None = None
    cipher: str = ""
    code: str | None = None


# --- products -----------------------------------------------------------------------------------
class Price(_M):
    currency: str | None = None
    sale_price: Money = None
    tax_exclusive_price: Money = None
    amount: Money = None  # some versions use {amount, currency}


class WarehouseStock(_M):
    warehouse_id: Id | None = None
    quantity: Count = None


class Sku(_M):
    id: Id
    seller_sku: str | None = None
    price: Price | None = None
    inventory: list[WarehouseStock] = Field(default_factory=list)
    sales_attributes: list[dict[str, Any]] = Field(default_factory=list)


class Product(_M):
    """A row of Search Products (no images: use `get_product` for those)."""

    id: Id
    title: str = ""
    status: str | None = None
    skus: list[Sku] = Field(default_factory=list)
    sales_regions: list[str] = Field(default_factory=list)
    create_time: Count = None
    update_time: Count = None


class Image(_M):
    uri: str | None = None
    urls: list[str] = Field(default_factory=list)
    width: Count = None
    height: Count = None


class ProductDetail(Product):
    description: str | None = None
    category_chains: list[dict[str, Any]] = Field(default_factory=list)
    brand: dict[str, Any] | None = None
    main_images: list[Image] = Field(default_factory=list)
    audit: dict[str, Any] | None = None


# --- inventory ----------------------------------------------------------------------------------
class WarehouseInventory(_M):
    warehouse_id: Id | None = None
    available_quantity: Count = None
    committed_quantity: Count = None


class InventorySku(_M):
    id: Id
    seller_sku: str | None = None
    total_available_quantity: Count = None
    total_committed_quantity: Count = None
    warehouse_inventory: list[WarehouseInventory] = Field(default_factory=list)


class InventoryItem(_M):
    product_id: Id
    skus: list[InventorySku] = Field(default_factory=list)


# --- orders -------------------------------------------------------------------------------------
class Payment(_M):
    currency: str | None = None
    total_amount: Money = None
    sub_total: Money = None
    shipping_fee: Money = None
    seller_discount: Money = None
    platform_discount: Money = None
    tax: Money = None


class LineItem(_M):
    id: Id
    product_id: Id | None = None
    sku_id: Id | None = None
    seller_sku: str | None = None
    product_name: str | None = None
    sku_name: str | None = None
    sale_price: Money = None
    original_price: Money = None
    package_id: Id | None = None
    display_status: str | None = None


class Order(_M):
    """An order. `recipient_address` and buyer fields are PII: never log them or send them to a model."""

    id: Id
    status: str | None = None
    create_time: Count = None
    update_time: Count = None
    paid_time: Count = None
    payment: Payment | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    user_id: Id | None = None
    is_sample_order: bool | None = None
    fulfillment_type: str | None = None
    delivery_option_name: str | None = None
    tracking_number: str | None = None
    shipping_provider: str | None = None
    recipient_address: dict[str, Any] | None = Field(default=None, repr=False)
    buyer_message: str | None = Field(default=None, repr=False)


# Buyer data on the 202309 order object (official Node SDK model GetOrderListResponseDataOrders): never
# stored, logged or sent to a model. `user_id` is the buyer's id. Any other top-level key starting with
# "buyer_" (a field TikTok adds later) is dropped too: see `is_pii_order_field`.
PII_ORDER_FIELDS: tuple[str, ...] = (
    "recipient_address", "buyer_message", "buyer_email", "buyer_nickname", "buyer_avatar", "cpf", "cpf_name",
    "user_id",
)


def is_pii_order_field(key: str) -> bool:
    return key in PII_ORDER_FIELDS or key.startswith(("buyer_", "recipient_"))


# --- analytics (pinned: shop 202405, products 202405, videos 202409) -----------------------------
class Amount(_M):
    amount: Money = None
    currency: str | None = None


class Breakdown(_M):
    type: str | None = None
    amount: Money = None


class ShopInterval(_M):
    start_date: date | None = None
    end_date: date | None = None
    gmv: Amount | None = None
    orders: Count = None
    sku_orders: Count = None
    units_sold: Count = None
    buyers: Count = None
    product_impressions: Count = None
    product_page_views: Count = None
    avg_product_page_visitors: Count = None
    avg_order_value: Amount | None = None
    refunds: Amount | None = None
    cancellations_and_returns: Count = None
    gmv_breakdowns: list[Breakdown] = Field(default_factory=list)


class ShopPerformanceSeries(_M):
    intervals: list[ShopInterval] = Field(default_factory=list)
    comparison_intervals: list[ShopInterval] = Field(default_factory=list)


class ShopPerformance(_M):
    latest_available_date: date | None = None
    performance: ShopPerformanceSeries = Field(default_factory=ShopPerformanceSeries)


class ProductPerformanceRow(_M):
    id: Id
    gmv: Amount | None = None
    orders: Count = None
    units_sold: Count = None
    click_through_rate: Rate = None


class ProductPerformanceInterval(_M):
    start_date: date | None = None
    end_date: date | None = None
    gmv: Amount | None = None
    orders: Count = None
    units_sold: Count = None
    click_through_rate: Rate = None


class ProductPerformance(_M):
    latest_available_date: date | None = None
    intervals: list[ProductPerformanceInterval] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, d: Any) -> Any:
        return _lift_intervals(d)


class VideoProduct(_M):
    id: Id
    name: str | None = None


class VideoPerformanceRow(_M):
    id: Id
    title: str | None = None
    username: str | None = None
    video_post_time: str | None = None
    views: Count = None
    gmv: Amount | None = None
    sku_orders: Count = None
    units_sold: Count = None
    click_through_rate: Rate = None
    products: list[VideoProduct] = Field(default_factory=list)


class EngagementData(_M):
    total_views: Count = None
    total_likes: Count = None
    total_comments: Count = None
    total_shares: Count = None


class VideoPerformance(_M):
    latest_available_date: date | None = None
    engagement_data: EngagementData | None = None
    intervals: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, d: Any) -> Any:
        return _lift_intervals(d)


class Page(_M):
    """One page of a list response; what `next_page_token` and `latest_available_date` said."""

    next_page_token: str | None = None
    total_count: Count = None
    latest_available_date: date | None = None
