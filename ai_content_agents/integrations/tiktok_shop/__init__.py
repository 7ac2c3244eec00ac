"""TikTok Shop Partner API client: signing, OAuth + token store, rate limiting, retries, typed endpoints,
incremental sync and webhooks. See README.md in this folder for the seller's setup steps."""

from .client import RetryPolicy, TikTokShopClient
from .errors import ShopNotAuthorized, ShopNotConfigured, TikTokShopError

__all__ = ["RetryPolicy", "ShopNotAuthorized", "ShopNotConfigured", "TikTokShopClient", "TikTokShopError"]
