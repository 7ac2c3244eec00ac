"""Fencing untrusted scraped text before it reaches a model (reference claude_agents.md §11).

WHY: captions, tweets and posts are attacker-controlled. Spotlighting is a mitigation, not a
boundary, so the real protection is that TrendAgent has no write tools and no secrets; the fence
makes the data/instruction split explicit and stops text from closing its own fence or hiding
instructions in invisible characters.
"""

from __future__ import annotations

import re
import unicodedata

FENCE_TAG = "untrusted_content"
DEFAULT_LIMIT = 500

_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_ATTR_SAFE = re.compile(r"[^A-Za-z0-9_.:\-]")


def strip_invisible(text: str) -> str:
    """Drop format characters (zero-width, bidi controls, tag characters, BOM), variation selectors and
    control characters other than newline and tab."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue
        if cat == "Cc" and ch not in "\n\t":
            continue
        out.append(ch)
    return _VARIATION_SELECTORS.sub("", "".join(out))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _escape(text: str) -> str:
    """No tag can be formed inside the fence, so the text cannot close it or open a new one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clean(text: str | None, limit: int = 160) -> str:
    """Untrusted short text (titles, names) as a plain string: normalised, invisible characters
    stripped, whitespace collapsed, truncated and escaped. The strings of a result that reaches a model
    whole inside `fence_json` are cleaned with it; alone it is no fence."""
    if not text:
        return ""
    norm = strip_invisible(unicodedata.normalize("NFKC", text))
    norm = re.sub(r"\s+", " ", norm).strip()
    return _escape(_truncate(norm, limit))


def fence(text: str | None, *, source: str, item_id: str, limit: int = DEFAULT_LIMIT) -> str:
    """`<untrusted_content source=".." id="..">…</untrusted_content>` around cleaned, truncated text."""
    norm = strip_invisible(unicodedata.normalize("NFKC", text or ""))
    norm = re.sub(r"[ \t]+", " ", norm).strip()
    body = _escape(_truncate(norm, limit))
    return f"{_open_tag(source, item_id)}{body}</{FENCE_TAG}>"


def _open_tag(source: str, item_id: str) -> str:
    return f'<{FENCE_TAG} source="{_ATTR_SAFE.sub("", source)[:40]}" id="{_ATTR_SAFE.sub("", item_id)[:80]}">'


def fence_json(text: str, *, source: str, item_id: str) -> str:
    """A JSON document that carries scraped strings (titles, names, quotes, captions), fenced whole.

    `<` and `>` are written as JSON escapes (\\u003c, \\u003e): no tag can be formed inside, so nothing in
    it can close the fence, and the JSON still parses to the same values once the fence is taken off
    (`unfence_json`). The strings themselves stay plain, so copy never carries fence tags."""
    body = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{_open_tag(source, item_id)}{body}</{FENCE_TAG}>"


def unfence_json(text: str) -> str:
    """The JSON inside a `fence_json` fence (any other text is returned as it is)."""
    if text.startswith(f"<{FENCE_TAG} ") and text.endswith(f"</{FENCE_TAG}>"):
        start = text.find(">") + 1
        return text[start : -len(f"</{FENCE_TAG}>")]
    return text
