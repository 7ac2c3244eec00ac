"""Webhooks: HMAC(app_secret, app_key + raw body), constant-time compare, typed events."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.webhooks import (
    AuthorizationEvent,
    OrderStatusChange,
    WebhookEvent,
    handle,
    parse_event,
    verify,
)

KEY, SECRET = "fake-key", "fake-secret"
BODY = json.dumps({"type": 1, "shop_id": "7000000000000000001", "timestamp": 1795000000,
                   "tts_notification_id": "n-1",
                   "data": {"order_id": 5760000000000000001, "order_status": "IN_TRANSIT", "update_time": 1795000000}},
                  separators=(",", ":")).encode()


def header(body: bytes, key: str = KEY, secret: str = SECRET) -> str:
    # computed here independently from the reference: hex(HMAC-SHA256(key=secret, msg=app_key + raw_body))
    return hmac.new(secret.encode(), key.encode() + body, hashlib.sha256).hexdigest()


def test_valid_signature_parses_a_typed_event() -> None:
    ev = handle(KEY, SECRET, BODY, header(BODY))
    assert isinstance(ev, OrderStatusChange)
    assert (ev.name, ev.order_id, ev.order_status, ev.shop_id) == ("ORDER_STATUS_CHANGE", "5760000000000000001",
                                                                  "IN_TRANSIT", "7000000000000000001")
    assert ev.dedupe_key == "n-1"


@given(st.integers(min_value=0, max_value=len(BODY) - 1), st.integers(min_value=1, max_value=255))
def test_flipping_any_byte_fails_verification(pos: int, flip: int) -> None:
    tampered = bytearray(BODY)
    tampered[pos] ^= flip
    assert not verify(KEY, SECRET, bytes(tampered), header(BODY))


def test_wrong_key_secret_or_missing_header_fail() -> None:
    assert not verify(KEY, "other", BODY, header(BODY))
    assert not verify("other", SECRET, BODY, header(BODY))
    assert not verify(KEY, SECRET, BODY, None)
    assert not verify(KEY, SECRET, BODY, "nothex\u00e9")
    with pytest.raises(E.WebhookSignatureError):
        handle(KEY, SECRET, BODY, "0" * 64)


def test_request_signing_is_not_webhook_signing() -> None:
    wrapped = hmac.new(SECRET.encode(), SECRET.encode() + KEY.encode() + BODY + SECRET.encode(), hashlib.sha256)
    assert not verify(KEY, SECRET, BODY, wrapped.hexdigest())


def test_deauthorization_and_unknown_types() -> None:
    ev = parse_event(b'{"type":6,"shop_id":"1","timestamp":1795000000,"data":{}}')
    assert isinstance(ev, AuthorizationEvent) and ev.needs_reauthorization
    other = parse_event(b'{"type":99,"data":{"x":1}}')
    assert type(other) is WebhookEvent and other.name == "UNKNOWN_99"
    with pytest.raises(E.UnexpectedResponse):
        parse_event(b"not json")
    with pytest.raises(E.UnexpectedResponse):
        parse_event(b'{"type":"1"}')
