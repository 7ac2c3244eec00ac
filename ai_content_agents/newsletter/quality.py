"""How much an issue repeats itself, measured on its content lines. Pure.

A content line is one piece of copy a reader reads: a section intro, a headline, a signal, a "why it matters", a
corroboration, a caveat, a quoted claim, an action. Two figures, both written to newsletter.json:
- `distinct_line_share`: distinct content lines / content lines (target ≥ 0.90);
- `max_phrase_repeats`: how often the most repeated 5-word phrase occurs in the whole issue (target ≤ 2).
"""

from __future__ import annotations

import re
from collections import Counter

from ..models import Newsletter, Section

PHRASE_WORDS = 5
_WORD = re.compile(r"[a-z0-9$£€#@%×.'/-]+")


def content_lines(sections: list[Section]) -> list[str]:
    lines: list[str] = []
    for s in sections:
        if s.error:
            continue
        if s.intro:
            lines.append(s.intro)
        for c in s.items:
            lines += [t for t in (c.headline, c.signal, c.why_it_matters, c.corroboration, c.caveat, c.claim) if t]
        lines += s.bullets
    return [re.sub(r"\s+", " ", line).strip() for line in lines if line.strip()]


def _words(line: str) -> list[str]:
    return [w.strip(".'") for w in _WORD.findall(line.lower()) if w.strip(".'")]


def phrase_counts(lines: list[str], n: int = PHRASE_WORDS) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        words = _words(line)
        counts.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return counts


def measure(nl: Newsletter) -> dict[str, float]:
    lines = content_lines(nl.sections)
    counts = phrase_counts(lines)
    top = counts.most_common(1)
    return {
        "content_lines": float(len(lines)),
        "distinct_lines": float(len(set(lines))),
        "distinct_line_share": round(len(set(lines)) / len(lines), 4) if lines else 1.0,
        "max_phrase_repeats": float(top[0][1]) if top else 0.0,
        "withheld_sections": float(len(nl.withheld)),
    }


def repeated_phrases(nl: Newsletter, above: int = 2) -> list[tuple[str, int]]:
    """The 5-word phrases used more than `above` times, most repeated first (for tests and diagnostics)."""
    return [(p, n) for p, n in phrase_counts(content_lines(nl.sections)).most_common() if n > above]
