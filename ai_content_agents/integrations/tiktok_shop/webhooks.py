"""Inbound webhooks: verify the signature on the raw bytes, then parse into typed events.

WHY raw bytes first: the signature is HMAC-SHA256(key=app_secret, msg=app_key + raw_body) with no
wrapping and no path (unlike request signing), so it must be checked before any JSON parsing can
normalise the body. Deliveries repeat and arrive out of order: handlers must be idempotent
(`WebhookEvent.dedupe_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import UnexpectedResponse, WebhookSignatureError

EVENT_TYPES: dict[int, str] = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_ORDER_STATUS_CHANGE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    12: "RETURN_STATUS_CHANGE",
}
REAUTHORIZE_TYPES = frozenset({6, 7})


def compute_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + raw_body, hashlib.sha256).hexdigest()


def verify(app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """Constant-time check of the `Authorization` header (bare lowercase hex, no "Bearer")."""
    if not authorization:
        return False
    given = authorization.strip()
    if given.lower().startswith("bearer "):
        given = given[7:].strip()
    expected = compute_signature(app_key, app_secret, raw_body)
    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace"))


class WebhookEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: int
    name: str
    shop_id: str | None = None
    timestamp: datetime | None = None
    notification_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def needs_reauthorization(self) -> bool:
        return self.type in REAUTHORIZE_TYPES

    @property
    def dedupe_key(self) -> str:
        if self.notification_id:
            return self.notification_id
        digest = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()[:16]
        return f"{self.type}:{self.shop_id}:{int(self.timestamp.timestamp()) if self.timestamp else 0}:{digest}"


class OrderStatusChange(WebhookEvent):
    order_id: str | None = None
    order_status: str | None = None
    update_time: int | None = None


class ProductStatusChange(WebhookEvent):
    product_id: str | None = None
    status: str | None = None
    update_time: int | None = None


class PackageUpdate(WebhookEvent):
    order_id: str | None = None
    package_id: str | None = None


class AuthorizationEvent(WebhookEvent):
    """6 SELLER_DEAUTHORIZATION / 7 UPCOMING_AUTHORIZATION_EXPIRATION: the seller must consent again."""

    expires_at: datetime | None = None


_CLASSES: dict[int, type[WebhookEvent]] = {
    1: OrderStatusChange,
    4: PackageUpdate,
    5: ProductStatusChange,
    6: AuthorizationEvent,
    7: AuthorizationEvent,
}


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def parse_event(raw_body: bytes) -> WebhookEvent:
    """Parse a verified body. Unknown types become a plain `WebhookEvent` (never dropped silently)."""
    try:
        doc = json.loads(raw_body)
    except ValueError:
        raise UnexpectedResponse("webhook body is not JSON", action="reject the delivery (400)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), int):
        raise UnexpectedResponse("webhook body has no integer `type`", action="reject the delivery (400)")
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    etype = doc["type"]
    ts = doc.get("timestamp")
    fields: dict[str, Any] = {
        "type": etype,
        "name": EVENT_TYPES.get(etype, f"UNKNOWN_{etype}"),
        "shop_id": _str(doc.get("shop_id")),
        "timestamp": datetime.fromtimestamp(ts, UTC) if isinstance(ts, int) else None,
        "notification_id": _str(doc.get("tts_notification_id")),
        "data": data,
    }
    cls = _CLASSES.get(etype, WebhookEvent)
    if cls is OrderStatusChange:
        fields.update(order_id=_str(data.get("order_id")), order_status=data.get("order_status"),
                      update_time=data.get("update_time") if isinstance(data.get("update_time"), int) else None)
    elif cls is ProductStatusChange:
        fields.update(product_id=_str(data.get("product_id")), status=data.get("status"),
                      update_time=data.get("update_time") if isinstance(data.get("update_time"), int) else None)
    elif cls is PackageUpdate:
        fields.update(order_id=_str(data.get("order_id")), package_id=_str(data.get("package_id")))
    elif cls is AuthorizationEvent:
        exp = data.get("expiration_time")
        fields.update(expires_at=datetime.fromtimestamp(exp, UTC) if isinstance(exp, int) else None)
    try:
        return cls.model_validate(fields)
    except ValidationError:
        return WebhookEvent.model_validate({k: fields[k] for k in ("type", "name", "shop_id", "timestamp",
                                                                   "notification_id", "data")})


def handle(app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> WebhookEvent:
    """Verify then parse; raises `WebhookSignatureError` (answer 401) on a bad signature."""
    if not verify(app_key, app_secret, raw_body, authorization):
        raise WebhookSignatureError("webhook signature mismatch")
    return parse_event(raw_body)
