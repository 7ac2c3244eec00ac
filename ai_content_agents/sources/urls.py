"""URL canonicalisation and product/post id extraction, shared by every source.

Clustering across sources starts from canonical ids ("asin:B0...", "youtube:...") found in URLs, so
the same product linked from a TikTok caption and listed on Amazon lands in one cluster. Pure functions.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_KEYS = {
    "ref", "ref_", "tag", "si", "fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "_encoding", "psc",
    "is_from_webapp", "sender_device", "_r", "_t", "feature", "s",
}
_ASIN_PATH = re.compile(r"/(?:dp|gp/product|gp/aw/d|product|exec/obidos/asin|o/asin)/([A-Z0-9]{10})(?=[/?#]|$)", re.I)
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_URL_IN_TEXT = re.compile(r"""(?i)\b((?:https?://|www\.)[^\s<>"'\)\]]+)""")
_BARE_DOMAIN = re.compile(r"(?i)\b((?:[a-z0-9-]+\.)+(?:com|co|shop|store|net|org|io|me|ly|link|page|bio)(?:/[^\s<>\"')]*)?)")
_TIKTOK_VIDEO = re.compile(r"/video/(\d{8,25})")
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_REDDIT_POST = re.compile(r"/comments/([a-z0-9]{4,12})", re.I)
_X_STATUS = re.compile(r"/status(?:es)?/(\d{5,25})")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_amazon_host(host: str) -> bool:
    host = host.lower().removeprefix("www.").removeprefix("smile.").removeprefix("m.")
    return host.startswith("amazon.") or host in {"amzn.to", "amzn.eu", "a.co"}


def amazon_tld(url: str) -> str:
    """'com', 'co.uk', 'de' ... from an Amazon URL; 'com' when unknown."""
    host = _host(url).removeprefix("www.").removeprefix("smile.").removeprefix("m.")
    return host.split("amazon.", 1)[1] if host.startswith("amazon.") and "amazon." in host else "com"


def extract_asin(url: object) -> str | None:
    """The ASIN from /dp/, /gp/product/, /gp/aw/d/, /product/ or ?asin= in an Amazon URL."""
    if not isinstance(url, str) or not url:
        return None
    match = _ASIN_PATH.search(url)
    if match:
        return match.group(1).upper()
    try:
        query = dict(parse_qsl(urlsplit(url).query))
    except ValueError:
        return None
    for key in ("asin", "ASIN"):
        value = query.get(key, "").upper()
        if _ASIN.match(value):
            return value
    return None


def valid_asin(value: object) -> str | None:
    if isinstance(value, str) and _ASIN.match(value.strip().upper()):
        return value.strip().upper()
    return None


def amazon_product_url(asin: str, tld: str = "com") -> str:
    return f"https://www.amazon.{tld}/dp/{asin}"


def tiktok_video_id(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    match = _TIKTOK_VIDEO.search(url)
    return match.group(1) if match and "tiktok.com" in _host(url) else None


def youtube_id(url: object) -> str | None:
    """The video id from watch?v=, youtu.be/<id>, /shorts/<id>, /embed/<id>, /live/<id>."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url if "://" in url else "https://" + url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    candidate: str | None = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host.endswith("youtube.com"):
        segments = [s for s in parts.path.split("/") if s]
        if segments and segments[0] == "watch":
            candidate = dict(parse_qsl(parts.query)).get("v")
        elif len(segments) >= 2 and segments[0] in {"shorts", "embed", "live", "v"}:
            candidate = segments[1]
    return candidate if candidate and _YT_ID.match(candidate) else None


def reddit_post_id(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    match = _REDDIT_POST.search(url)
    return match.group(1).lower() if match and "reddit" in _host(url) or (match and url.startswith("/r/")) else None


def x_status_id(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    host = _host(url)
    match = _X_STATUS.search(url)
    return match.group(1) if match and (host.endswith("x.com") or host.endswith("twitter.com")) else None


def canonicalize(url: object) -> str | None:
    """A stable form of a URL: https, lower-case host, no fragment, no tracking params.

    Known kinds collapse to their canonical page: Amazon → /dp/<ASIN>, YouTube → watch?v=<id>,
    X → x.com/i/status/<id>. Returns None for things that are not http(s) URLs.
    """
    if not isinstance(url, str):
        return None
    url = url.strip().rstrip(".,;:!?")
    if not url:
        return None
    if url.lower().startswith("www."):
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if is_amazon_host(host):
        asin = extract_asin(url)
        if asin:
            return amazon_product_url(asin, amazon_tld(url))
    vid = youtube_id(url)
    if vid:
        return f"https://www.youtube.com/watch?v={vid}"
    status = x_status_id(url)
    if status:
        return f"https://x.com/i/status/{status}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_KEYS
    ]
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    return urlunsplit(("https", host + port, path, urlencode(query), ""))


def canonical_ids_for(url: str | None) -> list[str]:
    """Cross-source ids a URL carries ("asin:B0..", "tiktok_video:..", "youtube:..", "reddit:..", "x:..")."""
    if not url:
        return []
    ids: list[str] = []
    if is_amazon_host(_host(url)):
        asin = extract_asin(url)
        if asin:
            ids.append(f"asin:{asin}")
    for prefix, fn in (
        ("tiktok_video", tiktok_video_id),
        ("youtube", youtube_id),
        ("reddit", reddit_post_id),
        ("x", x_status_id),
    ):
        value = fn(url)
        if value:
            ids.append(f"{prefix}:{value}")
    return ids


def find_links(*texts: object) -> list[str]:
    """Canonical outbound links found in free text (captions, bios, post bodies), de-duplicated, in order."""
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        candidates = [m.group(1) for m in _URL_IN_TEXT.finditer(text)]
        if not candidates:
            # bios often carry a bare domain ("shop.example.com/blender")
            candidates = ["https://" + m.group(1) for m in _BARE_DOMAIN.finditer(text) if "@" not in m.group(1)]
        for raw in candidates:
            link = canonicalize(raw)
            if link and link not in out:
                out.append(link)
    return out


def links_and_ids(*texts: object) -> tuple[list[str], list[str]]:
    """Links in the texts, and the canonical ids those links carry (so a caption's Amazon link adds its ASIN)."""
    links = find_links(*texts)
    ids: list[str] = []
    for link in links:
        for cid in canonical_ids_for(link):
            if cid not in ids:
                ids.append(cid)
    return links, ids


def domain(url: str | None) -> str:
    return _host(url or "").removeprefix("www.")
