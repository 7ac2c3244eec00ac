"""Seller OAuth: the consent URL, code exchange, refresh, and a token store that survives crashes.

WHY so careful: `*_expire_in` are absolute Unix timestamps (not durations), every refresh ROTATES the
refresh token (the old one must be assumed dead), and two processes or eight threads must not all
refresh at once. The token endpoints carry `app_secret` in the query string, so their URLs never
reach a log line or an exception.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets as pysecrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import requests
from pydantic import BaseModel, Field, SecretStr, field_serializer

from . import errors
from .models import Shop

log = logging.getLogger(__name__)

AUTHORIZE_HOSTS: dict[str, str] = {
    "US": "https://services.us.tiktokshop.com/open/authorize",
    "ROW": "https://services.tiktokshop.com/open/authorize",
}


def new_state() -> str:
    """A CSRF `state` for the consent URL; verify it on the callback."""
    return pysecrets.token_urlsafe(24)


def authorization_url(service_id: str, region: str = "ROW", state: str | None = None) -> str:
    """The seller consent URL (US or rest-of-world host). There is no redirect_uri: it is fixed in Partner Center."""
    host = AUTHORIZE_HOSTS.get(region.upper())
    if host is None:
        raise errors.ConfigError(f"unknown TikTok Shop region {region!r}; use US or ROW")
    params = {"service_id": service_id}
    if state:
        params["state"] = state
    return f"{host}?{urlencode(params)}"


class TokenSet(BaseModel):
    """Access + refresh token with absolute expiries, and the shops (ciphers) the token covers."""

    access_token: SecretStr
    access_expires_at: datetime
    refresh_token: SecretStr
    refresh_expires_at: datetime
    open_id: str | None = None
    seller_name: str | None = None
    seller_base_region: str | None = None
    user_type: int | None = None
    granted_scopes: list[str] = Field(default_factory=list)
    shops: list[Shop] = Field(default_factory=list)
    obtained_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_serializer("access_token", "refresh_token", when_used="json")
    def _reveal(self, v: SecretStr) -> str:  # only used when writing the 0600 token file
        return v.get_secret_value()

    @classmethod
    def from_response(cls, data: dict, shops: list[Shop] | None = None) -> TokenSet:
        """`*_expire_in` are ABSOLUTE Unix seconds, despite the name: never `now + value`."""
        try:
            return cls(
                access_token=SecretStr(str(data["access_token"])),
                access_expires_at=datetime.fromtimestamp(int(data["access_token_expire_in"]), UTC),
                refresh_token=SecretStr(str(data["refresh_token"])),
                refresh_expires_at=datetime.fromtimestamp(int(data["refresh_token_expire_in"]), UTC),
                open_id=data.get("open_id"),
                seller_name=data.get("seller_name"),
                seller_base_region=data.get("seller_base_region"),
                user_type=data.get("user_type"),
                granted_scopes=list(data.get("granted_scopes") or []),
                shops=shops or [],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.UnexpectedResponse(f"token response is missing or has a bad field ({type(exc).__name__})") from None

    def access_expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return (self.access_expires_at - now).total_seconds() <= seconds

    def refresh_expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.refresh_expires_at


class TokenStore:
    """The token set in one JSON file (mode 0600, atomic replace) with an fcntl lock for read-refresh-write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> TokenStore:
        return cls(Path(data_dir) / "tiktok_shop_tokens.json")

    def load(self) -> TokenSet | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return TokenSet.model_validate_json(text)
        except ValueError:
            raise errors.ShopNotAuthorized(f"the token file {self.path} is unreadable") from None

    def save(self, tokens: TokenSet) -> None:
        """Write-then-rename; the temp file is 0600 before a byte of secret goes into it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=str(self.path.parent))
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(tokens.model_dump_json(indent=2))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive inter-process lock, so two processes never both spend the same refresh token."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class AuthClient:
    """The two unsigned GETs on the auth host. Success is `code == 0`, whatever the HTTP status."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        auth_base: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        auth_url: str | None = None,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.auth_base = auth_base.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.auth_url = auth_url

    def exchange_code(self, auth_code: str) -> TokenSet:
        return self._token_call(
            "/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"}, [auth_code]
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token_call(
            "/api/v2/token/refresh", {"refresh_token": refresh_token, "grant_type": "refresh_token"}, [refresh_token]
        )

    # Token calls are never retried automatically: a refresh that timed out may already have rotated
    # the refresh token on the server, and a second attempt with the old one would then fail. So the
    # action text says exactly that instead of the generic "retried automatically" of a read.
    NOT_RETRIED = ("the token call was not retried automatically; run it again (`shop refresh`, or `shop exchange`"
                   " with a fresh code)")

    def _token_call(self, path: str, extra: dict[str, str], hide: list[str]) -> TokenSet:
        params = {"app_key": self.app_key, "app_secret": self._secret, **extra}
        secrets_ = [self._secret, *hide]
        failure: errors.TikTokShopError | None = None
        resp: requests.Response | None = None
        try:
            resp = self.session.get(self.auth_base + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            # requests puts the full URL (with app_secret) into its messages: keep only the class name
            # (or a fixed reason), and raise outside this block so the original exception is not
            # chained as __context__.
            failure = errors.transport_error(f"token request to {path} failed", exc)
            if not isinstance(failure, errors.NetworkUnreachable):
                failure.action = f"check connectivity; {self.NOT_RETRIED}"
                failure.args = (failure._text(),)
        if failure is not None:
            raise failure
        assert resp is not None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            exc_ = errors.from_response(
                None, f"token endpoint {path} returned non-JSON", request_id=None, http_status=resp.status_code
            )
            raise self._honest(exc_)
        code = body.get("code")
        request_id = body.get("request_id")
        if code == 0 and isinstance(body.get("data"), dict):
            data = body["data"]
            hide_more = [str(data.get("access_token", "")), str(data.get("refresh_token", ""))]
            try:
                return TokenSet.from_response(data)
            except errors.TikTokShopError as exc:
                failure = type(exc)(errors.redact(exc.message, secrets_ + hide_more))
            raise failure
        message = errors.redact(str(body.get("message") or "token call failed"), secrets_)
        raise self._honest(errors.from_response(
            code if isinstance(code, int) else None,
            f"{path}: {message}",
            request_id=request_id,
            http_status=resp.status_code,
            auth_url=self.auth_url,
        ))

    def _honest(self, exc: errors.TikTokShopError) -> errors.TikTokShopError:
        """A transient token-endpoint error must not promise an automatic retry that never happens."""
        if exc.retryable:
            exc.action = self.NOT_RETRIED
            exc.args = (exc._text(),)
        return exc


class TokenManager:
    """Hands out a valid access token; refreshes early (margin) and on demand, single-flight across threads and processes."""

    def __init__(
        self,
        auth: AuthClient,
        store: TokenStore,
        *,
        refresh_margin_s: float = 86_400,
        auth_url: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.auth = auth
        self.store = store
        self.refresh_margin_s = refresh_margin_s
        self.auth_url = auth_url
        self._now = now
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self.refresh_count = 0

    # --- reading -----------------------------------------------------------------------
    def tokens(self) -> TokenSet:
        with self._lock:
            if self._tokens is None:
                self._tokens = self.store.load()
            if self._tokens is None:
                raise errors.ShopNotAuthorized("no TikTok Shop token is stored", auth_url=self.auth_url)
            return self._tokens

    def access_token(self) -> str:
        """A token good for at least the refresh margin (refreshing first if needed)."""
        tokens = self.tokens()
        if tokens.access_expires_within(self.refresh_margin_s, self._now()):
            tokens = self.refresh(stale=tokens.access_token.get_secret_value())
        return tokens.access_token.get_secret_value()

    def secrets(self) -> list[str]:
        """Current token values, so the client can scrub them from anything it prints."""
        t = self._tokens
        if t is None:
            return []
        return [t.access_token.get_secret_value(), t.refresh_token.get_secret_value()]

    # --- writing -----------------------------------------------------------------------
    def save(self, tokens: TokenSet) -> None:
        with self._lock, self.store.locked():
            self.store.save(tokens)
            self._tokens = tokens

    def update_shops(self, shops: list[Shop]) -> None:
        with self._lock, self.store.locked():
            current = self.store.load() or self._tokens
            if current is None:
                return
            updated = current.model_copy(update={"shops": shops})
            self.store.save(updated)
            self._tokens = updated

    def refresh(self, stale: str | None = None) -> TokenSet:
        """Refresh once. If another thread/process already replaced `stale`, just use its result."""
        with self._lock, self.store.locked():
            current = self.store.load() or self._tokens
            if current is None:
                raise errors.ShopNotAuthorized("no TikTok Shop token is stored", auth_url=self.auth_url)
            fresh_enough = not current.access_expires_within(self.refresh_margin_s, self._now())
            if stale is not None and current.access_token.get_secret_value() != stale and fresh_enough:
                self._tokens = current  # someone else refreshed while we waited for the lock
                return current
            if current.refresh_expired(self._now()):
                raise errors.ReauthorizeRequired(
                    "the TikTok Shop refresh token has expired", code=36004001, auth_url=self.auth_url
                )
            started = time.monotonic()
            new = self.auth.refresh(current.refresh_token.get_secret_value())
            new = new.model_copy(update={"shops": current.shops})  # same authorisation, same shops
            self.store.save(new)  # persist the rotated refresh token before anyone uses it
            self._tokens = new
            self.refresh_count += 1
            log.info(
                "tiktok_shop token refreshed in %.2fs; access token valid until %s",
                time.monotonic() - started,
                new.access_expires_at.isoformat(),
            )
            return new


def load_state(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("state")
    except (FileNotFoundError, ValueError, AttributeError):
        return None


def save_state(path: Path, state: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"state": state, "created_at": datetime.now(UTC).isoformat()}), encoding="utf-8")


def consume_state(path: Path, got: str) -> bool:
    """True when `got` equals the saved CSRF state; the saved state is then deleted, so the same
    redirect cannot be exchanged twice. A mismatch leaves it in place (a forged link must not burn the
    seller's real one)."""
    import hmac

    expected = load_state(path)
    if not expected or not got or not hmac.compare_digest(expected.encode(), got.encode()):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True
