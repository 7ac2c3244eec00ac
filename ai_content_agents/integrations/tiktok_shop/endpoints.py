"""The endpoint table: one row per call we make, with its pinned version and its rules.

WHY a table: `shop_cipher` is required by some endpoints and REJECTED by others (36009004), versions
are pinned per endpoint, and analytics has a much lower rate limit. A per-row flag is the only way
to keep those facts from turning into global defaults that are wrong half the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

Method = Literal["GET", "POST"]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: Method
    path: str  # may contain {placeholders}
    needs_cipher: bool
    group: str = "default"  # rate-limit group: "default" (product/order reads), "analytics", "write"
    idempotent: bool = True  # safe to retry after a timeout / 5xx
    verified: bool = True  # False: shape confirmed neither by the reference nor by the official Node SDK

    def render(self, **params: str) -> str:
        return self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("authorized_shops", "GET", "/authorization/202309/shops", needs_cipher=False),
        Endpoint("products_search", "POST", "/product/202309/products/search", needs_cipher=True),
        Endpoint("product_detail", "GET", "/product/202309/products/{product_id}", needs_cipher=True),
        Endpoint("inventory_search", "POST", "/product/202309/inventory/search", needs_cipher=True),
        Endpoint("orders_search", "POST", "/order/202309/orders/search", needs_cipher=True),
        Endpoint("orders_detail", "GET", "/order/202309/orders", needs_cipher=True),
        Endpoint("shop_performance", "GET", "/analytics/202405/shop/performance", True, "analytics"),
        Endpoint("product_performance_list", "GET", "/analytics/202405/shop_products/performance", True, "analytics"),
        Endpoint(
            "product_performance", "GET", "/analytics/202405/shop_products/{product_id}/performance", True, "analytics"
        ),
        Endpoint("video_performance_list", "GET", "/analytics/202409/shop_videos/performance", True, "analytics"),
        Endpoint("video_performance", "GET", "/analytics/202409/shop_videos/{video_id}/performance", True, "analytics"),
        # Writes. Path, method, query (shop_cipher) and body shape confirmed by the official TikTok Shop
        # Node.js SDK (api/productV202309Api.ts, ProductsProductIdInventoryUpdatePost and
        # ProductsProductIdPricesUpdatePost); tests/shop/test_known_answers.py compares our bytes with it.
        # A stock SET is NOT idempotent in effect: re-sending it after an order took stock would undo
        # the sale, so it is never blindly retried (see TikTokShopClient.update_inventory). A price SET
        # is: orders do not move prices.
        Endpoint(
            "inventory_update",
            "POST",
            "/product/202309/products/{product_id}/inventory/update",
            True,
            "write",
            idempotent=False,
        ),
        Endpoint(
            "prices_update",
            "POST",
            "/product/202309/products/{product_id}/prices/update",
            True,
            "write",
            idempotent=True,
        ),
    )
}
