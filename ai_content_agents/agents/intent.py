"""A deterministic reader of intent for the offline model: which sources, which category or niche,
compare or not, movers or not, and whether the person wants advice (what to post / stock / do).

Pure: a question in, an `Intent` out. It knows words (the sources' names from their declared metadata), not agents
or tools.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from ..sources import meta, metas


def source_words() -> list[tuple[str, str]]:
    """phrase → source name, from each registered source's service name and `META.phrases`, longest first
    ("tiktok shop" before "tiktok"). A one-letter name ("X") is left to its phrases ("twitter", "x.com")."""
    pairs = {(p.lower(), m.name) for m in metas() for p in (m.service_name, *m.phrases) if len(p) > 1}
    return sorted(pairs, key=lambda pair: (-len(pair[0]), pair))


# a word → the category text it selects (a substring of the sources' category names)
CATEGORY_WORDS: dict[str, str] = {
    **dict.fromkeys(("beauty", "skincare", "skin", "makeup", "cosmetics", "hair", "haircare", "face", "serum"), "beauty"),
    **dict.fromkeys(("home", "kitchen", "cooking", "decor", "household"), "home"),
    **dict.fromkeys(("fitness", "sports", "sport", "workout", "gym", "outdoors", "outdoor"), "sports"),
}
MOVER_WORDS = frozenset({"climbing", "fastest", "rising", "growing", "movers", "moving", "surging", "breakout",
                         "breaking", "momentum", "accelerating", "up"})
COMPARE_WORDS = frozenset({"compare", "comparison", "versus", "vs", "between", "difference", "both"})
_ADVICE: tuple[tuple[Literal["post", "stock", "do"], re.Pattern[str]], ...] = (
    ("post", re.compile(r"\b(post|film|shoot|content|video|caption|make a video|upload)\b")),
    ("stock", re.compile(r"\b(stock|restock|sell|carry|list|inventory|source)\b")),
    ("do", re.compile(r"\bwhat should (i|we)\b|\bshould (i|we)\b|\bwhat (can|do) (i|we)\b|\brecommend")),
)
STOP = frozenset("""
a about all also an and any anything are as at be been best big brand brands by can could did do does doing for from
get give go going got has have how i i'm in is it it's its just know let like look looking make me most much
my new now of on or our out over please product products right see should show so some tell than that the
their them then there these they thing things this those to today top trend trending trends week what what's
whats when where which who why will with would you your hot popular right now lately currently items item
selling sells sell doing ones one fast fastest climbing rising growing compare versus vs between both post
stock do we us buy people viral moving movers up this month days day
""".split())


class Intent(BaseModel):
    sources: list[str] = Field(default_factory=list)  # in the order named
    category: str | None = None  # a category substring ("beauty")
    words: list[str] = Field(default_factory=list)  # niche words that are not a category or source ("curlers")
    compare: bool = False
    movers: bool = False
    advice: Literal["post", "stock", "do"] | None = None

    @property
    def subject(self) -> str:
        """How the answer names what was asked about: "beauty on TikTok", "Amazon products"."""
        what = " ".join(self.words) or self.category or ""
        where = " and ".join(meta(s).service_name for s in self.sources)
        if what and where:
            return f"{what} on {where}"
        return what or (f"{where} products" if where else "all sources")


def read_intent(question: str) -> Intent:
    q = " " + re.sub(r"\s+", " ", question.lower()) + " "
    sources: list[tuple[int, str]] = []
    rest = q
    for phrase, name in source_words():
        for m in re.finditer(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", rest):
            if name not in (s for _, s in sources):
                sources.append((m.start(), name))
        rest = re.sub(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", " ", rest)
    words = re.findall(r"[a-z][a-z'-]+", rest)
    category = next((CATEGORY_WORDS[w] for w in words if w in CATEGORY_WORDS), None)
    niche = [w for w in words if w not in STOP and w not in CATEGORY_WORDS and w not in MOVER_WORDS
             and w not in COMPARE_WORDS and len(w) > 2]
    # a niche word that is also a category word (skincare) keeps its own word for matching titles
    niche = [*[w for w in words if w in CATEGORY_WORDS and w != category], *niche]
    ordered = [s for _, s in sorted(sources)]
    advice = next((kind for kind, rx in _ADVICE if rx.search(q)), None)
    compare = len(ordered) >= 2 and (bool(COMPARE_WORDS & set(words)) or " and " in q)
    return Intent(
        sources=ordered,
        category=category,
        words=list(dict.fromkeys(niche))[:3],
        compare=compare,
        movers=bool(MOVER_WORDS & set(words)),
        advice=advice,
    )
