"""The one redaction every error path uses: secrets never reach a message, a log, the store or an output.

WHY one function: a server may echo the request it got (its URL with the YouTube key, the Basic-auth
header Reddit's token call sends, a bearer token, a header chosen as a request id), and each error path
used to scrub only what it knew about. Here every configured secret is known in every encoding it could
travel in (raw, URL-encoded, base64 of itself and of `id:secret`, with or without padding), plus the
secrets a run obtains (Reddit's OAuth token, TikTok Shop tokens). A fragment of at least `PARTIAL`
characters of any of those forms is masked too, so an echo a server cut short still says nothing.
Redact first, truncate after: a cut secret cannot be recognised as well as a whole one.

`remember` is process-wide on purpose: a secret learnt by any thread is masked in every thread's output.
Values shorter than `MIN_SECRET` are ignored (they would mask ordinary words).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "<redacted>"
MIN_SECRET = 6
PARTIAL = 10  # an echoed fragment this long of any encoded form of a secret is masked

_lock = threading.Lock()
_secrets: set[str] = set()
_pairs: set[tuple[str, str]] = set()
_forms: tuple[str, ...] = ()  # every encoding of every secret, longest first
_grams: frozenset[str] = frozenset()
_runs: re.Pattern[str] | None = None  # runs of the characters secrets are made of, PARTIAL or longer

_GENERIC = (
    (re.compile(r"(https?://[^\s?\"'<>]+)\?[^\s\"'<>]*"), r"\1?" + MASK),  # query strings: keys, signatures
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._\-~+/=]{8,}"), r"\1 " + MASK),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{6,}"), MASK),
    (
        re.compile(
            r"(?i)\b(key|api_key|apikey|access_token|refresh_token|token|app_secret|client_secret|secret|sign|"
            r"password|auth)([=:]\s*)([^\s&\"',;]{4,})"
        ),
        r"\1\2" + MASK,
    ),
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,80}")


def _b64_forms(data: bytes) -> list[str]:
    std = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    return [std, std.rstrip("="), url, url.rstrip("=")]


def encodings(secret: str, ident: str | None = None) -> list[str]:
    """Every form a secret may travel in: raw, URL-encoded, base64 (of itself, and of `ident:secret`)."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = [secret, quote(secret, safe=""), quote_plus(secret), *_b64_forms(raw)]
    if ident:
        pair = f"{ident}:{secret}".encode("utf-8", "surrogatepass")
        for form in _b64_forms(pair):
            forms += [form, quote(form, safe="")]
    return forms


def _runs_of(forms: Iterable[str]) -> re.Pattern[str] | None:
    chars = sorted({c for f in forms for c in f})
    return re.compile("[" + "".join(re.escape(c) for c in chars) + f"]{{{PARTIAL},}}") if chars else None


def _rebuild() -> None:
    global _forms, _grams, _runs
    forms: set[str] = set()
    for s in _secrets:
        forms.update(encodings(s))
    for ident, s in _pairs:
        forms.update(encodings(s, ident))
    ordered = tuple(sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True))
    grams = {f[i : i + PARTIAL] for f in ordered for i in range(len(f) - PARTIAL + 1)}
    _forms, _grams, _runs = ordered, frozenset(grams), _runs_of(ordered)


def remember(*values: str | None, ident: str | None = None) -> None:
    """Add secrets to mask from now on; with `ident`, also their `ident:secret` Basic-auth forms."""
    with _lock:
        before = (len(_secrets), len(_pairs))
        for value in values:
            if value and len(value) >= MIN_SECRET:
                _secrets.add(value)
                if ident:
                    _pairs.add((ident, value))
        if (len(_secrets), len(_pairs)) != before:
            _rebuild()


def remember_settings(settings: object) -> None:
    """Every secret a `Settings` object holds (called when one is built)."""

    def plain(name: str) -> str | None:
        value: Any = getattr(settings, name, None)
        return value.get_secret_value() if hasattr(value, "get_secret_value") else value

    remember(plain("apify_token"), plain("youtube_api_key"), plain("anthropic_api_key"))
    remember(plain("tiktok_shop_app_secret"))
    remember(plain("reddit_client_secret"), ident=plain("reddit_client_id"))


def _mask_fragments(text: str, grams: frozenset[str], runs: re.Pattern[str] | None) -> str:
    """Mask every stretch of text covered by PARTIAL-long fragments of a secret form.

    Only runs of the characters secrets are made of are looked at (found by the regex engine), so ordinary
    prose costs next to nothing and this is cheap enough for scraped content too."""
    if not grams or runs is None or len(text) < PARTIAL:
        return text
    hits: list[tuple[int, int]] = []
    for run in runs.finditer(text):
        base, chunk = run.start(), run.group()
        for i in range(len(chunk) - PARTIAL + 1):
            if chunk[i : i + PARTIAL] in grams:
                start, end = base + i, base + i + PARTIAL
                if hits and start <= hits[-1][1]:
                    hits[-1] = (hits[-1][0], end)
                else:
                    hits.append((start, end))
    if not hits:
        return text
    out, last = [], 0
    for start, end in hits:
        out += [text[last:start], MASK]
        last = end
    out.append(text[last:])
    return "".join(out)


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """`text` with every known secret masked: whole, in any encoding, and fragments of them. Cheap on text
    that holds none, so it also runs over scraped content (a server may echo a request into its data)."""
    more = [f for s in extra if s and len(s) >= MIN_SECRET for f in encodings(s)]
    forms, grams, runs = _forms, _grams, _runs
    if not forms and not more:
        return text
    for form in (*sorted(more, key=len, reverse=True), *forms):
        if form in text:
            text = text.replace(form, MASK)
    if more:
        grams = grams | {f[i : i + PARTIAL] for f in more for i in range(len(f) - PARTIAL + 1)}
        runs = _runs_of((*forms, *more))
    return _mask_fragments(text, grams, runs)


def redact(text: object, extra: Iterable[str | None] = (), *, generic: bool = True) -> str:
    """A message safe to show, log or store: every known secret in every encoding, fragments of them, and
    (with `generic`) anything shaped like a credential: URL query strings, bearer/basic values, `key=value`."""
    out = scrub(str(text), extra)
    if generic:
        for pattern, repl in _GENERIC:
            out = pattern.sub(repl, out)
    return out


def request_id(value: object) -> str | None:
    """A server-chosen request id fit to print: redacted, and only if it looks like an id."""
    if value is None:
        return None
    text = redact(str(value), generic=False).strip()
    if MASK in text:
        return MASK
    return text if _REQUEST_ID.fullmatch(text) else "(not shown: not a plain id)"


def known() -> tuple[str, ...]:
    """The encoded forms currently masked (for tests that scan outputs)."""
    return _forms
