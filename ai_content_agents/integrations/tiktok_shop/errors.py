"""Exceptions keyed on the body `code` of the TikTok Shop envelope.

WHY: the HTTP status is unreliable (401 means both "bad signature" and "token expired"; error codes
arrive with HTTP 200), and coarse prefixes are wrong (36009002 is a rate limit, not an auth error).
Every class carries the action a person should take, and nothing here ever holds a secret: messages
from the server are scrubbed by the client before they reach these constructors.
"""

from __future__ import annotations

import re

from ... import redact as _redact
from ...netfail import unreachable_reason


class TikTokShopError(Exception):
    """Base class. `str(e)` is one line: what happened, the code, the request id and what to do."""

    action: str = "see the TikTok Shop error code table in the docs"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        action: str | None = None,
    ) -> None:
        self.code = code
        self.message = _redact.redact(message, generic=False)
        self.request_id = _redact.request_id(request_id)  # chosen by the server: shown only if it is a plain id
        self.http_status = http_status
        if action is not None:
            self.action = action
        super().__init__(_redact.redact(self._text(), generic=False))

    def _text(self) -> str:
        parts = [self.message.strip() or type(self).__name__]
        meta = []
        if self.code is not None:
            meta.append(f"code {self.code}")
        if self.http_status is not None:
            meta.append(f"HTTP {self.http_status}")
        if self.request_id:
            meta.append(f"request_id {self.request_id}")
        if meta:
            parts.append(f"({', '.join(meta)})")
        return " ".join(parts) + f". Action: {self.action}"


# --- configuration / authorisation state (raised before any request) ---------------------
class ConfigError(TikTokShopError):
    action = "fix the TikTok Shop app configuration (app key, secret, IP allow list) in Partner Center / .env"


class ShopNotConfigured(ConfigError):
    action = "set TIKTOK_SHOP_APP_KEY, TIKTOK_SHOP_APP_SECRET and TIKTOK_SHOP_SERVICE_ID (env or .env)"


class ShopNotAuthorized(TikTokShopError):
    action = "run `ai-content-agents shop auth-url`, open the URL as the seller, then `shop exchange CODE`"

    def __init__(self, message: str, *, auth_url: str | None = None, **kw: object) -> None:
        self.auth_url = auth_url
        if auth_url:
            kw.setdefault("action", f"open {auth_url} as the seller, then run `ai-content-agents shop exchange CODE`")
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ShopSelectionError(ConfigError):
    action = "pass --shop ID_OR_NAME or set AICA_TIKTOK_SHOP_DEFAULT_SHOP to one of the authorised shops"


# --- auth -------------------------------------------------------------------------------------
class AuthError(TikTokShopError):
    action = "re-authorise the shop"


class AuthExpiredError(AuthError):
    """105002 (or an invalid access token): refresh once and retry once."""

    action = "the client refreshes the access token automatically; if this persists, run `shop refresh`"


class ReauthorizeRequired(ShopNotAuthorized):
    """36004001 / 36004005: the refresh token or the authorisation itself is gone; a human must consent again."""


class InvalidAuthCode(AuthError):
    action = "the auth code is single-use and valid ~30 min: run `shop auth-url` and start the consent again"


class ScopeError(AuthError):
    action = "enable the API package for this endpoint in Partner Center, then have the seller re-authorise"


class TokenMismatch(AuthError):
    action = "check the token belongs to a seller (user_type 0) and to this shop; re-authorise if needed"


# --- request problems (bugs: never retried) ----------------------------------------------------
class SignatureError(TikTokShopError):
    action = "a request canonicalisation bug (see signing.string_to_sign); do not retry, report it"


class TimestampError(TikTokShopError):
    action = "sync the system clock (NTP); timestamps must be Unix seconds within [now-5 min, now+30 s]"


class RequestShapeError(TikTokShopError):
    action = "a client bug or an unsupported parameter/version; do not retry, report it"


class RequestRejected(TikTokShopError):
    """36009004 whose message is none of the documented sub-cases: say only what we know."""

    action = "TikTok rejected a request parameter (36009004); read the message above. Not retried automatically"


ValidationError = RequestShapeError


class SearchLimitError(RequestShapeError):
    action = "product search stops at 10,000 results: narrow the search with update_time/create_time windows"


class NotFoundError(TikTokShopError):
    action = "the object does not exist or belongs to another shop; skip it"


class ShopInactive(TikTokShopError):
    action = "the shop or seller is inactive; check Seller Center and stop syncing this shop"


# --- transient (retried) -----------------------------------------------------------------------
class RateLimitedError(TikTokShopError):
    action = "wait and retry with backoff; ask the TikTok account manager for more quota before peak events"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class HourlyCapError(RateLimitedError):
    action = "test-shop hourly cap reached: wait for the next hour"
    retryable = False


class ServerError(TikTokShopError):
    action = "a TikTok-side error: retried automatically for reads; try again later if it persists"
    retryable = True


class TransportError(ServerError):
    action = "a network error or timeout talking to TikTok Shop; check connectivity and try again"

    def __init__(self, message: str, *, sent: bool = True, **kw: object) -> None:
        # sent=False: the connection was never made, so the server cannot have acted on the request.
        self.sent = sent
        super().__init__(message, **kw)  # type: ignore[arg-type]


class WriteOutcomeUnknown(TikTokShopError):
    """A write failed ambiguously and a re-read could not show whether it landed. Never retried blindly."""

    action = "check the SKU in Seller Center before trying again: the change may or may not have been applied"

    def __init__(self, message: str, *, read_value: object = None, **kw: object) -> None:
        self.read_value = read_value
        super().__init__(message, **kw)  # type: ignore[arg-type]


class NetworkUnreachable(TransportError):
    """Refused, no DNS answer or no route: it does not heal in a retry's wait, so it is not retried."""

    action = ("TikTok Shop cannot be reached; check the network (or proxy) and "
              "AICA_TIKTOK_SHOP_API_BASE / AICA_TIKTOK_SHOP_AUTH_BASE")
    retryable = False


def transport_error(message: str, exc: BaseException, *, sent: bool = True) -> TransportError:
    """A failed request: `NetworkUnreachable` when it cannot heal, else a retryable `TransportError`.

    Only the exception's class or a fixed reason is kept: requests' own messages carry the full URL.
    `sent=False` says the request never reached the server (an unreachable host never does).
    """
    reason = unreachable_reason(exc)
    if reason:
        return NetworkUnreachable(f"{message}: {reason}", sent=False)
    return TransportError(f"{message}: {type(exc).__name__}", sent=sent)


class UnexpectedResponse(TikTokShopError):
    action = "TikTok Shop returned something that is not its JSON envelope; try again later"


class WebhookSignatureError(TikTokShopError):
    action = "reject the webhook: its Authorization header does not match HMAC(app_secret, app_key + body)"


# --- classification ----------------------------------------------------------------------------
_BY_CODE: dict[int, type[TikTokShopError]] = {
    106001: SignatureError,
    105002: AuthExpiredError,
    105005: ScopeError,
    101000: TokenMismatch,
    106013: RequestShapeError,
    36004001: ReauthorizeRequired,
    36004005: ReauthorizeRequired,
    36004004: InvalidAuthCode,
    36009002: RateLimitedError,
    36009037: HourlyCapError,
    36009003: ServerError,
    36009007: ServerError,
    10006402: ServerError,
    12001000: ServerError,
    33001002: ServerError,
    36009009: RequestShapeError,
    36009010: RequestShapeError,
    36009014: RequestShapeError,
    36009021: RequestShapeError,
    36009022: RequestShapeError,
    36009023: RequestShapeError,
    36009033: ConfigError,
    36009043: ShopInactive,
    36009044: ShopInactive,
    12019150: NotFoundError,
    12052032: NotFoundError,
    21008111: NotFoundError,
    12052180: SearchLimitError,
    12019027: RequestShapeError,
}


# 36009004 is overloaded. Only the sub-cases the reference documents are recognised, by the way
# TikTok words them (anchored at the start of the message, as the gateway writes them:
# "Invalid credentials. Invalid 'app_key' query parameter.", "Invalid credentials. The
# 'x-tts-access-token' header is invalid", "Invalid timestamp ..."), never by a keyword found
# anywhere: "invalid param: create_time_ge must be a unix timestamp" is a request-shape problem, not
# a clock problem. Anything else gets a generic action (RequestRejected).
_CRED = r"^\s*(?:invalid credentials\.\s*)?"
_SUBCASES_36009004: tuple[tuple[re.Pattern[str], type[TikTokShopError]], ...] = (
    (re.compile(_CRED + r"(?:invalid timestamp\b|(?:the\s+)?'?timestamp'?(?:\s+query parameter)?\s+is\s+(?:invalid|expired))",
                re.IGNORECASE), TimestampError),
    (re.compile(_CRED + r"(?:invalid\s+'?(?:x-tts-access-token|access_token)'?"
                r"|(?:the\s+)?'(?:x-tts-access-token|access_token)'\s+(?:header|query parameter)\s+is\s+(?:invalid|expired))",
                re.IGNORECASE), AuthExpiredError),
    (re.compile(_CRED + r"(?:invalid\s+'?app_?key'?|(?:the\s+)?'app_key'\s+query parameter\s+is\s+invalid)", re.IGNORECASE),
     ConfigError),
    (re.compile(r"^\s*(?:missing credentials\b|(?:invalid credentials\.\s*)?(?:the\s+)?'sign'\s+query parameter\s+is\s+"
                r"(?:missing|invalid))", re.IGNORECASE), SignatureError),
    (re.compile(r"^\s*(?:unexpected identifier\b|invalid api version\b|invalid param\b|shop_id invalid\b"
                r"|shop_cipher invalid\b)|\bdate range\b.*\bexceeds\b", re.IGNORECASE), RequestShapeError),
)


_CALL_PREFIX = re.compile(r"^(?:(?:GET|POST) )?/\S*: ")


def _classify_36009004(message: str) -> type[TikTokShopError]:
    """The documented sub-case whose wording the message starts with; otherwise a generic rejection."""
    text = _CALL_PREFIX.sub("", message, count=1)  # "POST /product/...: " or "/api/v2/token/get: " added by us
    for pattern, cls in _SUBCASES_36009004:
        if pattern.search(text):
            return cls
    return RequestRejected


def error_class(code: int | None, message: str, http_status: int | None) -> type[TikTokShopError]:
    if code is not None:
        if code == 36009004:
            return _classify_36009004(message)
        cls = _BY_CODE.get(code)
        if cls is not None:
            return cls
    if http_status == 429:
        return RateLimitedError
    if http_status is not None and http_status >= 500:
        return ServerError
    if http_status == 404:
        return NotFoundError
    return TikTokShopError


def from_response(
    code: int | None,
    message: str,
    *,
    request_id: str | None,
    http_status: int | None,
    retry_after: float | None = None,
    auth_url: str | None = None,
) -> TikTokShopError:
    """Build the right exception for an error envelope (or a non-JSON reply when `code` is None)."""
    cls = error_class(code, message, http_status)
    kw: dict[str, object] = {"code": code, "request_id": request_id, "http_status": http_status}
    if issubclass(cls, RateLimitedError):
        kw["retry_after"] = retry_after
    if issubclass(cls, ShopNotAuthorized):
        kw["auth_url"] = auth_url
    return cls(message, **kw)  # type: ignore[arg-type]


_URL_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove every known secret (in any encoding, see `ai_content_agents.redact`) and every URL query string
    (token URLs carry `app_secret`)."""
    return _redact.redact(_URL_QUERY.sub(r"\1?<redacted>", text), secrets)


class _QueryRedactingFilter:
    """urllib3 logs request lines with the query string at DEBUG; token URLs carry app_secret there."""

    def filter(self, record: object) -> bool:
        args = getattr(record, "args", None)
        if isinstance(args, tuple) and args:
            record.args = tuple(  # type: ignore[attr-defined]
                (a.split("?", 1)[0] + "?<redacted>") if isinstance(a, str) and "?" in a else a for a in args
            )
        msg = getattr(record, "msg", None)
        if isinstance(msg, str) and "?" in msg and "://" in msg:
            record.msg = _URL_QUERY.sub(r"\1?<redacted>", msg)  # type: ignore[attr-defined]
        return True


_FILTER = _QueryRedactingFilter()


def install_log_redaction() -> None:
    """Idempotently strip query strings from urllib3's request log lines (they would show secrets)."""
    import logging

    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        lg = logging.getLogger(name)
        if _FILTER not in lg.filters:
            lg.addFilter(_FILTER)
