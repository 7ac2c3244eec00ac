"""Webhooks: HMAC(app_secret, app_key + raw body), constant-time compare, typed events.

Expected signatures are the known-answer vectors of test_known_answers.py (EcomPHP's sample payload
and the docs' package-update example, hex computed outside this project); nothing here derives the
expected value from the formula under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_known_answers import (
    DOC_4_BODY,
    DOC_4_SIGNATURE,
    ECOMPHP_BODY,
    ECOMPHP_SIGNATURE,
)

from ai_content_agents.integrations.tiktok_shop import errors as E
from ai_content_agents.integrations.tiktok_shop.webhooks import (
    AuthorizationEvent,
    PackageUpdate,
    WebhookEvent,
    handle,
    parse_event,
    verify,
)

KEY, SECRET = "fake_app_key", "fake_app_secret"  # EcomPHP tests/WebhookTest.php


@given(st.integers(min_value=0, max_value=len(ECOMPHP_BODY) - 1), st.integers(min_value=1, max_value=255))
def test_flipping_any_byte_fails_verification(pos: int, flip: int) -> None:
    tampered = bytearray(ECOMPHP_BODY)
    tampered[pos] ^= flip
    assert not verify(KEY, SECRET, bytes(tampered), ECOMPHP_SIGNATURE)


def test_wrong_key_secret_or_missing_header_fail() -> None:
    assert verify(KEY, SECRET, ECOMPHP_BODY, ECOMPHP_SIGNATURE)
    assert verify(KEY, SECRET, ECOMPHP_BODY, ECOMPHP_SIGNATURE.upper())  # hex case is not meaningful
    assert not verify(KEY, "other", ECOMPHP_BODY, ECOMPHP_SIGNATURE)
    assert not verify("other", SECRET, ECOMPHP_BODY, ECOMPHP_SIGNATURE)
    assert not verify(KEY, SECRET, ECOMPHP_BODY, None)
    assert not verify(KEY, SECRET, ECOMPHP_BODY, "nothex\u00e9")
    with pytest.raises(E.WebhookSignatureError):
        handle(KEY, SECRET, ECOMPHP_BODY, "0" * 64)


def test_request_signing_is_not_webhook_signing() -> None:
    import hashlib
    import hmac

    # the request-signing wrap (secret + ... + secret) must NOT be accepted as a webhook signature
    wrapped = hmac.new(SECRET.encode(), SECRET.encode() + KEY.encode() + ECOMPHP_BODY + SECRET.encode(), hashlib.sha256)
    assert not verify(KEY, SECRET, ECOMPHP_BODY, wrapped.hexdigest())


def test_package_update_is_parsed_leniently() -> None:
    ev = handle(KEY, SECRET, DOC_4_BODY, DOC_4_SIGNATURE)
    assert isinstance(ev, PackageUpdate) and ev.order_ids == ["152523", "532123"]
    odd = parse_event(b'{"type":4,"shop_id":1,"timestamp":"1644412885","data":{"package_list":[{"package_id":7,'
                      b'"order_id_list":[1,"2"]},{"no_id":true},"junk"],"update_time":"x"}}')
    assert isinstance(odd, PackageUpdate)
    assert [(p.package_id, p.order_ids) for p in odd.packages] == [("7", ["1", "2"])]
    assert odd.update_time is None and odd.shop_id == "1" and odd.timestamp is not None
    empty = parse_event(b'{"type":4,"data":{"package_list":null}}')
    assert isinstance(empty, PackageUpdate) and empty.packages == []


def test_deauthorization_and_unknown_types() -> None:
    ev = parse_event(b'{"type":6,"shop_id":"1","timestamp":1795000000,"data":{}}')
    assert isinstance(ev, AuthorizationEvent) and ev.needs_reauthorization
    bad_time = parse_event(b'{"type":7,"data":{"expiration_time":"soon"}}')
    assert isinstance(bad_time, AuthorizationEvent) and bad_time.expires_at is None
    other = parse_event(b'{"type":99,"data":{"x":1}}')
    assert type(other) is WebhookEvent and other.name == "UNKNOWN_99"
    with pytest.raises(E.UnexpectedResponse):
        parse_event(b"not json")
    with pytest.raises(E.UnexpectedResponse):
        parse_event(b'{"type":"1"}')
