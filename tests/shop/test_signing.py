"""Signing: the official vector, the exclusion rules, canonicalisation traps, and properties."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ai_content_agents.integrations.tiktok_shop.signing import (
    canonical_query,
    encode_query,
    sign,
    string_to_sign,
    stringify,
)

SECRET = "e59af819cc"
PATH = "/authorization/202309/shops"
QUERY = {"app_key": "29a39d", "timestamp": "1623812664"}
EXPECTED = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_official_vector() -> None:
    assert sign(SECRET, PATH, QUERY) == EXPECTED


def test_string_to_sign_matches_the_documented_wrapped_string() -> None:
    wrapped = SECRET.encode() + string_to_sign(PATH, QUERY) + SECRET.encode()
    assert wrapped == b"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664e59af819cc"


def test_sign_and_access_token_are_excluded() -> None:
    assert sign(SECRET, PATH, {**QUERY, "sign": "x", "access_token": "y"}) == EXPECTED


def test_multipart_body_is_excluded_by_media_type_not_header_equality() -> None:
    assert sign(SECRET, PATH, QUERY, b"--x\r\nbinary", "multipart/form-data; boundary=x") == EXPECTED
    assert sign(SECRET, PATH, QUERY, b"--x", "Multipart/Form-Data") == EXPECTED


def test_json_body_changes_the_signature() -> None:
    assert sign(SECRET, PATH, QUERY, b'{"a":1}', "application/json") != EXPECTED


def test_signature_is_lowercase_hex_64() -> None:
    s = sign(SECRET, PATH, QUERY)
    assert len(s) == 64 and s == s.lower() and int(s, 16) >= 0


def test_stringify_traps() -> None:
    assert stringify(True) == "true" and stringify(False) == "false"
    assert stringify(["1", 2, "3"]) == "1,2,3"
    assert stringify(date(2026, 11, 20)) == "2026-11-20"
    assert stringify(Decimal("12.90")) == "12.90"
    assert stringify(100) == "100"


def test_canonical_query_drops_empty_and_none() -> None:
    assert canonical_query({"a": None, "b": "", "c": [], "d": 0, "e": False}) == {"d": "0", "e": "false"}


def test_list_param_is_signed_as_one_comma_joined_pair() -> None:
    q = canonical_query({"ids": ["1", "2", "3"], "app_key": "k", "timestamp": 1})
    assert string_to_sign("/order/202309/orders", q) == b"/order/202309/ordersapp_keykids1,2,3timestamp1"


def test_page_tokens_are_signed_decoded_and_sent_percent_encoded() -> None:
    q = {"page_token": "ab+c/d==", "app_key": "k"}
    assert b"page_tokenab+c/d==" in string_to_sign("/p", q)
    assert encode_query(q) == "page_token=ab%2Bc%2Fd%3D%3D&app_key=k"


_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12)
_query = st.dictionaries(_text.filter(lambda k: k not in ("sign", "access_token")), _text, min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(secret=_text, path=_text, query=_query, body=st.binary(max_size=40), data=st.data())
def test_any_signed_input_change_changes_the_signature(secret, path, query, body, data) -> None:  # type: ignore[no-untyped-def]
    base = sign(secret, "/" + path, query, body, "application/json")
    key = data.draw(st.sampled_from(sorted(query)))
    changed_value = {**query, key: query[key] + "x"}
    assert sign(secret, "/" + path, changed_value, body, "application/json") != base
    assert sign(secret + "x", "/" + path, query, body, "application/json") != base
    assert sign(secret, "/" + path + "x", query, body, "application/json") != base
    assert sign(secret, "/" + path, query, body + b"x", "application/json") != base
    new_key = data.draw(_text.filter(lambda k: k not in query and k not in ("sign", "access_token")))
    assert sign(secret, "/" + path, {**query, new_key: "v"}, body, "application/json") != base


@settings(max_examples=150, deadline=None)
@given(secret=_text, path=_text, query=_query, body=st.binary(max_size=40), junk=_text, junk2=_text)
def test_excluded_inputs_never_change_the_signature(secret, path, query, body, junk, junk2) -> None:  # type: ignore[no-untyped-def]
    base = sign(secret, "/" + path, query)
    assert sign(secret, "/" + path, {**query, "sign": junk, "access_token": junk2}) == base
    assert sign(secret, "/" + path, query, body, f"multipart/form-data; boundary={junk}") == base
    # key order of the mapping is irrelevant (sorted)
    assert sign(secret, "/" + path, dict(reversed(list(query.items())))) == base


def test_body_is_signed_as_the_exact_bytes() -> None:
    compact = json.dumps({"a": 1, "b": [1, 2]}, separators=(",", ":")).encode()
    spaced = json.dumps({"a": 1, "b": [1, 2]}).encode()
    assert sign(SECRET, PATH, QUERY, compact, "application/json") != sign(SECRET, PATH, QUERY, spaced, "application/json")
