"""TikTok Shop request signing (HMAC-SHA256), pure functions only.

WHY a module of its own: the signature is the single most common cause of 106001, and every
canonicalisation trap (booleans, list params, page tokens with `+/=`, multipart bodies) lives here,
so it can be tested against the official vector without any I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from urllib.parse import quote

EXCLUDED_KEYS: frozenset[str] = frozenset({"sign", "access_token"})


def stringify(value: object) -> str:
    """The exact text a query value is signed and sent as.

    `str(True)` is `True`, which the server rejects; lists are one comma-joined value.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return stringify(value.value)
    if isinstance(value, (list, tuple)):
        return ",".join(stringify(v) for v in value)
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def canonical_query(params: Mapping[str, object]) -> dict[str, str]:
    """Stringify every value and drop empty ones (an empty `k=` would sign as `k`; never send them)."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        text = stringify(value)
        if text == "":
            continue
        out[key] = text
    return out


def media_type(content_type: str | None) -> str:
    """`multipart/form-data; boundary=x` -> `multipart/form-data` (compare media types, not headers)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def string_to_sign(path: str, query: Mapping[str, str], body: bytes = b"", content_type: str | None = None) -> bytes:
    """Path + sorted `key+value` pairs + body (unless multipart), WITHOUT the secret wrap.

    Safe to hash into a log line when debugging a 106001: it holds no secret.
    """
    pairs = sorted((k, v) for k, v in query.items() if k not in EXCLUDED_KEYS)
    text = path + "".join(k + v for k, v in pairs)
    payload = b"" if media_type(content_type) == "multipart/form-data" else (body or b"")
    return text.encode("utf-8") + payload


def sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes = b"",
    content_type: str | None = None,
) -> str:
    """The `sign` query value: lowercase hex HMAC-SHA256(secret, secret + string_to_sign + secret)."""
    secret = app_secret.encode("utf-8")
    message = secret + string_to_sign(path, query, body, content_type) + secret
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def encode_query(query: Mapping[str, str]) -> str:
    """RFC 3986 percent-encoding of every value (`+` -> %2B, never a space) in a stable order."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
