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


class PackageRef(BaseModel):
    package_id: str
    order_ids: list[str] = Field(default_factory=list)


class PackageUpdate(WebhookEvent):
    """4 PACKAGE_UPDATE: `data.package_list[]{package_id, order_id_list[]}` plus `sc_type` (COMBINE,
    SPLIT, ...) and `role_type` (docv2 page "(4) Package update"). One event can touch several packages,
    and one package several orders."""

    packages: list[PackageRef] = Field(default_factory=list)
    sc_type: str | None = None
    role_type: str | None = None
    update_time: int | None = None

    @property
    def order_ids(self) -> list[str]:
        return list(dict.fromkeys(o for p in self.packages for o in p.order_ids))


class AuthorizationEvent(WebhookEvent):
    """6 SELLER_DEAUTHORIZATION / 7 UPCOMING_AUTHORIZATION_EXPIRATION: the seller must consent again.

    Type 7 carries `message` and `expiration_time`, which arrives as a string of Unix seconds
    (e.g. "1627587506"); an int is accepted too."""

    expires_at: datetime | None = None
    message: str | None = None


_CLASSES: dict[int, type[WebhookEvent]] = {
    1: OrderStatusChange,
    4: PackageUpdate,
    5: ProductStatusChange,
    6: AuthorizationEvent,
    7: AuthorizationEvent,
}


def _str(v: Any) -> str | None:
    return None if v is None or isinstance(v, (dict, list, bool)) else str(v)


def _unix(v: Any) -> int | None:
    """Unix seconds from an int or a decimal string ("1627587506"); anything else is None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _packages(raw: Any) -> list[dict[str, Any]]:
    out = []
    for p in raw if isinstance(raw, list) else []:
        if not isinstance(p, dict) or _str(p.get("package_id")) is None:
            continue
        ids = p.get("order_id_list")
        out.append({"package_id": _str(p["package_id"]),
                    "order_ids": [str(i) for i in ids if _str(i) is not None] if isinstance(ids, list) else []})
    return out


def parse_event(raw_body: bytes) -> WebhookEvent:
    """Parse a verified body. Unknown types become a plain `WebhookEvent` (never dropped silently)."""
    try:
        doc = json.loads(raw_body)
    except ValueError:
        raise UnexpectedResponse("webhook body is not JSON", action="reject the delivery (400)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), int):
        raise UnexpectedResponse("webhook body has no integer `type`", action="reject the delivery (400)")
    raw_data = doc.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    etype = doc["type"]
    ts = _unix(doc.get("timestamp"))
    fields: dict[str, Any] = {
        "type": etype,
        "name": EVENT_TYPES.get(etype, f"UNKNOWN_{etype}"),
        "shop_id": _str(doc.get("shop_id")),
        "timestamp": datetime.fromtimestamp(ts, UTC) if ts is not None else None,
        "notification_id": _str(doc.get("tts_notification_id")),
        "data": data,
    }
    cls = _CLASSES.get(etype, WebhookEvent)
    if cls is OrderStatusChange:
        fields.update(order_id=_str(data.get("order_id")), order_status=_str(data.get("order_status")),
                      update_time=_unix(data.get("update_time")))
    elif cls is ProductStatusChange:
        fields.update(product_id=_str(data.get("product_id")), status=_str(data.get("status")),
                      update_time=_unix(data.get("update_time")))
    elif cls is PackageUpdate:
        fields.update(packages=_packages(data.get("package_list")), sc_type=_str(data.get("sc_type")),
                      role_type=_str(data.get("role_type")), update_time=_unix(data.get("update_time")))
    elif cls is AuthorizationEvent:
        exp = _unix(data.get("expiration_time"))
        fields.update(expires_at=datetime.fromtimestamp(exp, UTC) if exp is not None else None,
                      message=_str(data.get("message")))
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
