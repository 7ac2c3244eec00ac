"""Gate 1 (numeric fidelity), Gate 2 (links) and Gate 4 (estimates) for generated copy.

Deterministic and pure: copy text and trend payloads in, a report out. Nothing ships unless every
number in it is grounded, so these rules ARE the house's documented rounding rules (reference
trends_scoring.md §9; `figures.py` applies the same rules forwards).

What is extracted (`extract_figures`)
- Numbers: integers with comma thousands separators ("12,345"; never locale-dependent), decimals,
  K/M/B/bn scales ("312K", "1.2M", "3.4B", "12k", "3.1 M") and word scales ("2 million").
  Lower-case glued "m" is NOT read as million (it is minutes or metres as often).
- Percentages ("38%", "1,234%", "+45%", "12 percent", "5 percentage points", "97th percentile").
- Multipliers ("6×", "6x", "6.2×", "6.2 times", "three times", "twice" = 2×, "thrice" = 3×).
- Money: a symbol before ("$18.99", "£9.99", "€12", "CA$5", "US$5") or an ISO code before or after
  ("18.99 USD", "EUR 12"), optionally with a scale ("$1.23M").
- Ranks: "#7", "No. 7", ordinals ("7th").
- Ranges ("10–20%", "$10–20", "4–8 weeks"): both ends are checked; a bare end takes the other end's unit.
- Windows: a number followed by a time unit ("48 h", "7-day", "two weeks").
- Dates: "Nov 18", "Nov 18th", "18 Nov", "Mar 3–5", "2026-11-18" (each day is one figure).
- Spelled-out numbers: one..twenty, the tens, compounds ("twenty-one"), "N hundred/thousand/million",
  "a hundred", "a thousand", "a dozen", "half a dozen", "twice", "thrice". Vague quantities ("dozens",
  "hundreds", "a few", "several") are NOT extracted. "one" is extracted only before something the
  payload counts ("one source", "one other creator", "one video"), never in idioms ("no one", "the one
  to watch", "one of", "in one organic post", "one-off").
- Qualifiers: "over / more than / above / at least / upwards of / north of / in excess of X" and a
  trailing "+" ("100K+") mean value ≥ X; "under / less than / fewer than / below X" mean value < X.
- Section numbering ("1." or "1)" at a line start) is extracted and always accepted.
- Not numbers: digits inside URLs, e-mail addresses, @handles, #hashtags and words ("B0C1", "Q4").

When a figure is grounded (`check_text`)
A figure is accepted iff it equals a payload `Figure` of a compatible kind after rounding the payload
value HALF-UP to the precision shown in the copy:
- Counts written with a scale ("312K", "312.4K", "1.23M") are checked at ≥ 3 significant figures, so
  trailing zeros dropped by `figures.count` are implied ("1.2M" is read as 1.20M): 312,400 →
  "312K"/"312.4K" pass, "313K"/"300K"/"0.3M" fail; an exact value always passes ("300K" for 300,000).
- A bare number (no unit, digits or spelled) may match a count, rank or number Figure, or money
  whose payload has no currency. Plain number Figures (ratings, hours, scores, velocity) are checked at
  ≥ 2 significant figures ("4.6 stars" passes for 4.6, "5 stars" fails; "14 hours" passes for 14.2).
- Percentages: whole or 1 dp as shown; under 10 they are checked at 1 dp ("4%" means 4.0%, so 4.55 →
  "4.6%" passes and "5%" fails). An unsigned percentage may match a negative value ("fell 12%" for
  -12); an explicit sign must match.
- Multipliers are always checked at ≥ 1 dp: "6×" passes only for 5.95 ≤ m < 6.05, "6.2×" for 6.15 ≤ m < 6.25.
- Money is always checked at 2 dp: "€12" passes only for 12.00; the currency written must be the
  payload's (read from the Figure's display); money with a scale follows the count rule.
- Ranks must be exact.
- "Over X" requires value ≥ X; "under X" requires value < X (no rounding).
- Windows pass if the same duration (compared in hours: "1 day" = "24 h") appears in a payload
  window, or matches an hours Figure (field ending "_h"/"hours", label with "hour") at the precision
  shown (≥ 2 significant figures). Advice durations ("act within two weeks") are not in the payload
  and fail: write "this week" instead.
- Dates pass only if that month and day is a payload published/observed day, or the last day of a window
  (`window_end`), or in a payload title.
- Whitelist: numbers inside payload titles, categories, groups, authors, windows and figure labels
  ("6-Pack", "380 ml", "2026", "24 h"), compared by kind and value; section numbering; the trend's
  rank, independent_sources, each source's n_source and percentile (as "97th percentile"/"top 3%"),
  score. "two sources" passes because independent_sources is 2. Years are accepted only if
  they appear in a payload string (payload days carry no year).
- Estimates (Gate 4): a figure grounded only by a Figure with estimate=True must have a label in the
  same sentence ("est.", "estimated", "estimate", "about", "around", "roughly", "approx.",
  "approximately", "~", "≈"); otherwise it fails. Such a failure keeps `matched_field` set (it names
  the estimate) with grounded=False; an invented figure has matched_field None. Labels never loosen rounding.

Links (Gate 2): markdown link targets, bare http(s)/www URLs, href="..." and `TrendCopy.links` must be
one of the trend's canonical URLs or an evidence item URL. Comparison ignores trailing slashes and the
case of scheme and host (both case-insensitive by RFC 3986); nothing else is normalised, so a look-alike
domain, another path or a different ASIN is rejected.

Claims vs measurements (Gate 3 and the revised §9): numbers inside scraped free text (captions, post titles,
tweets) are third-party claims, never our figures. Only listing names (Amazon, TikTok Shop product titles), the
story's product names and topic, groups, authors, categories, windows and figure labels whitelist the numbers they
contain; a post's title or a caption whitelists nothing. A claim may appear only inside a quote (“…” or "…") that is
verbatim in the story's scraped text and attributed in the same sentence (the subreddit, the @handle, the channel or
the platform is named); its numbers are reported apart (`FactcheckReport.claims`), are never counted as grounded, and
a quote inside an action (or the action list) fails the section.

Per-item attachment (`check_section`): each TrendCopy is checked against ITS trend only (by
cluster_id; an unknown cluster_id grounds nothing); the section title, intro and bullets against the
union of the section's trends. A section that carries an `error` has no prose and is not checked.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from .evidence import TrendPayload, source_label, trend_payload
from ..models import FactcheckClaim, FactcheckFigure, FactcheckReport, Section, Trend
from . import story
from .figures import CURRENCY_SYMBOLS

ExtractedKind = Literal["count", "percent", "money", "multiplier", "rank", "number", "window", "date", "numbering"]
Qualifier = Literal["exact", "at_least", "below"]


class ExtractedNumber(BaseModel):
    """One number as written in copy, with what the fact-check needs to judge it."""

    model_config = ConfigDict(frozen=True)

    text: str  # the span as written, qualifier and unit included: "over 300K", "$18.99", "6.2×"
    start: int
    end: int
    kind: ExtractedKind
    value: float  # face value in base units: "312.4K" → 312400; "48 h" → 48; "Nov 18" → 18
    shown: Decimal  # the mantissa as written, signed when a sign is written: "312.4K" → 312.4
    decimals: int = 0  # digits after the point in the mantissa
    scale: int = 1  # 1, 1_000, 1_000_000, 1_000_000_000
    signed: bool = False  # an explicit + or - was written
    qualifier: Qualifier = "exact"
    currency: str | None = None  # ISO code for money
    hours: Decimal | None = None  # windows: the duration in hours
    month: int | None = None  # dates: 1..12
    spelled: bool = False
    estimate_label: bool = False  # the sentence says "est.", "about", "~", ...



# ---------------------------------------------------------------- extraction patterns

_ISO_CODES = (
    "USD", "GBP", "EUR", "JPY", "CAD", "AUD", "INR", "CHF", "CNY",
    "MXN", "SGD", "HKD", "NZD", "SEK", "NOK", "DKK", "BRL", "KRW",
)  # fmt: skip
_SYMBOL_TO_CODE: dict[str, str] = {sym: code for code, sym in CURRENCY_SYMBOLS.items()}
_SYMBOL_TO_CODE.update({"US$": "USD", "$": "USD"})
_SYMBOLS = sorted(_SYMBOL_TO_CODE, key=len, reverse=True)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATE_MD = re.compile(
    rf"\b(?P<m>{_MONTH_RE})\s+(?P<d>\d{{1,2}}){_ORD}(?![\d,.]\d)"
    rf"(?:\s*[–—-]\s*(?:(?P<m2>{_MONTH_RE})\s+)?(?P<d2>\d{{1,2}}){_ORD}(?![\d:]))?(?![\w%×])"
)
_DATE_DM = re.compile(rf"(?<![\w.,])(?P<d>\d{{1,2}}){_ORD}\s+(?P<m>{_MONTH_RE})(?![a-z])")
_DATE_ISO = re.compile(r"(?<![\w-])(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?![\w-])")

_MASKS = (
    re.compile(r"\[[^\]\n]*\]\((?P<u>[^)\s]*)(?:\s+\"[^\"]*\")?\)"),  # only the target is masked
    re.compile(r"\bhref\s*=\s*[\"'][^\"']*[\"']", re.I),
    re.compile(r"(?:https?://|www\.)[^\s<>\"'\])]+", re.I),
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+"),  # starts only where a run starts: linear
    re.compile(r"(?<![\w&])[@#][A-Za-z_][\w.]*"),
)
_NUMBERING = re.compile(r"(?m)^[ \t]*(?P<n>\d{1,2})[.)](?=[ \t])")
_NUM = re.compile(r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])(?!,\d{3})")

_SCALES = {"k": 1_000, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000, "bn": 1_000_000_000}
_WORD_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SCALE_AFTER = re.compile(r"(?:(?P<g>bn|k|K|M|B)(?![A-Za-z0-9])|\s(?P<s>[KMB])(?![A-Za-z0-9-]))|\s+(?P<w>thousand|million|billion)\b")
_PLUS_AFTER = re.compile(r"\+(?![\d])")
_PERCENT_AFTER = re.compile(r"\s?%|\s+(?:percent|per\s+cent|percentage\s+points?)\b|\s?pp\b", re.I)
_MULT_AFTER = re.compile(r"x(?![A-Za-z0-9])|\s?×|\s+times\b")
_ORDINAL_AFTER = re.compile(r"(?:st|nd|rd|th)\b(?P<p>\s+percentile\b)?")
_CODE_AFTER = re.compile(rf"\s?(?P<c>{'|'.join(_ISO_CODES)})\b")
_UNIT_HOURS: dict[str, Decimal | int] = {
    "min": Decimal(1) / 60, "mins": Decimal(1) / 60, "minute": Decimal(1) / 60, "minutes": Decimal(1) / 60,
    "h": 1, "hr": 1, "hrs": 1, "hour": 1, "hours": 1,
    "d": 24, "day": 24, "days": 24,
    "wk": 168, "wks": 168, "week": 168, "weeks": 168,
    "mo": 720, "mos": 720, "month": 720, "months": 720,
}  # fmt: skip
_UNIT_AFTER = re.compile(r"(?:\s|-)?(?P<u>" + "|".join(sorted(_UNIT_HOURS, key=len, reverse=True)) + r")\b")
_AT_LEAST_BEFORE = re.compile(
    r"(?:\b(?:over|more\s+than|above|at\s+least|upwards\s+of|north\s+of|in\s+excess\s+of))\s+$", re.I
)
_BELOW_BEFORE = re.compile(r"(?:\b(?:under|less\s+than|fewer\s+than|below))\s+$", re.I)
_CODE_BEFORE = re.compile(rf"\b(?P<c>{'|'.join(_ISO_CODES)})\s?$")
_RANK_BEFORE = re.compile(r"(?:#|\bNo\.\s?)$")

_UNITS_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}  # fmt: skip
_TENS_WORDS = {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SPELLED = re.compile(
    r"\b(?:(?P<half>half\s+a\s+dozen)|(?P<dozen>a\s+dozen)|(?P<twice>twice|thrice)"
    r"|(?P<a>a)\s+(?P<ahund>hundred|thousand)"
    r"|(?P<base>(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[-\s](?:one|two|three|four|five|six|seven|eight|nine)\b)?"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen)"
    r"(?:\s+(?P<mul>hundred|thousand|million|billion))?)\b(?!-)",
    re.I,
)
_ONE_IDIOM_BEFORE = re.compile(r"\b(?:no|any|every|the|this|that|which|each|some)\s+$", re.I)
_ONE_COUNTS = re.compile(
    r"^\s+(?:[a-z]+\s+)?(?:sources?|platforms?|creators?|channels?|lists?|videos?|listings?|sellers?|shops?"
    r"|stores?|subreddits?|hashtags?|communit(?:y|ies))\b",
    re.I,
)  # "one" is a figure only when it counts something the payload counts
_RANGE_SEP = re.compile(r"^(?:[–—-]|\s+–\s+|\s+to\s+)$")  # a spaced em dash is an aside, not a range
_ESTIMATE_LABEL = re.compile(
    r"~|≈|\best\.|\b(?:estimated?|estimates|about|around|roughly|approx\.?|approximately)\b", re.I
)
_ABBREV = re.compile(r"\b(?:est|approx|no|vs|e\.g|i\.e|etc|inc|mr|ms|dr|st|u\.s)\.$", re.I)


def _masked_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern in _MASKS:
        for m in pattern.finditer(text):
            spans.append(m.span("u") if "u" in pattern.groupindex else m.span())
    return spans


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split at . ! ? followed by whitespace (not after "est." and friends) and at newlines."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?]+(?=\s)|\n", text):
        if m.group() != "\n" and _ABBREV.search(text[max(0, m.end() - 8) : m.end()]):
            continue
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return bounds


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _dec(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _month(name: str) -> int:
    return _MONTHS[name.rstrip(".")[:3].lower()]


@dataclass
class _Tok:
    """A mutable draft of an ExtractedNumber while prefixes, suffixes and ranges are resolved."""

    start: int
    end: int
    kind: ExtractedKind
    shown: Decimal
    decimals: int
    scale: int = 1
    signed: bool = False
    qualifier: Qualifier = "exact"
    currency: str | None = None
    hours: Decimal | None = None
    month: int | None = None
    spelled: bool = False
    unit_end: int = 0  # where the number itself ends (before its unit), for range detection
    num_start: int = 0


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _read_suffix(text: str, tok: _Tok) -> None:
    """Look right of the number for a scale, percent, multiplier, ordinal, currency code or time unit."""
    pos = tok.end
    rest = text[pos:]
    m = _SCALE_AFTER.match(rest)
    if m:
        key = m.group("g") or m.group("s")
        tok.scale = _SCALES[key] if key else _WORD_SCALES[m.group("w").lower()]
        if tok.kind == "number":
            tok.kind = "count"
        pos += m.end()
        rest = text[pos:]
    m = _PLUS_AFTER.match(rest)
    if m:
        tok.qualifier = "at_least"
        pos += m.end()
        rest = text[pos:]
    if tok.kind in ("number", "count"):
        if m := _PERCENT_AFTER.match(rest):
            tok.kind = "percent"
            pos += m.end()
        elif m := _MULT_AFTER.match(rest):
            tok.kind = "multiplier"
            pos += m.end()
        elif tok.kind == "number" and (m := _ORDINAL_AFTER.match(rest)):
            tok.kind = "percent" if m.group("p") else "rank"
            pos += m.end()
        elif m := _CODE_AFTER.match(rest):
            tok.kind = "money"
            tok.currency = m.group("c")
            pos += m.end()
        elif tok.kind == "number" and (m := _UNIT_AFTER.match(rest)):
            tok.kind = "window"
            tok.hours = tok.shown * Decimal(_UNIT_HOURS[m.group("u")])
            pos += m.end()
    elif tok.kind == "money" and tok.currency is None and (m := _CODE_AFTER.match(rest)):
        tok.currency = m.group("c")
        pos += m.end()
    tok.end = pos


def _read_prefix(text: str, tok: _Tok) -> None:
    """Look left of the number for a sign, a currency, '#'/'No.' and over/under qualifiers."""
    pos = tok.start
    before = text[:pos]
    for sym in _SYMBOLS:
        if before.endswith(sym) and not (sym == "$" and before[:-1].endswith(("A", "CA", "US"))):
            tok.kind = "money"
            tok.currency = _SYMBOL_TO_CODE[sym]
            pos -= len(sym)
            break
    else:
        if m := _CODE_BEFORE.search(before):
            tok.kind = "money"
            tok.currency = m.group("c")
            pos = m.start()
        elif (m := _RANK_BEFORE.search(before)) and not tok.spelled:
            tok.kind = "rank"
            pos = m.start()
    before = text[:pos]
    if before.endswith(("+", "-", "−")):
        adjacent, prior = before[:-1], before[:-1].rstrip()
        # a sign stands after a space or bracket, and not after a number ("10 - 20" is a range)
        after_gap = not adjacent or adjacent[-1] in " \t\n([\"'/"
        after_number = bool(prior) and (prior[-1].isdigit() or prior[-1] in "%×")
        if after_gap and not after_number:
            tok.signed = True
            if before[-1] != "+":
                tok.shown = -tok.shown
            pos -= 1
            before = text[:pos]
    if m := _AT_LEAST_BEFORE.search(before):
        tok.qualifier = "at_least"
        pos = m.start()
    elif m := _BELOW_BEFORE.search(before):
        tok.qualifier = "below"
        pos = m.start()
    tok.start = pos


def _numeric_tokens(text: str, taken: list[tuple[int, int]]) -> Iterator[_Tok]:
    for m in _NUM.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        num = m.group("n")
        tok = _Tok(m.start(), m.end(), "number", _dec(num), _decimals(num), num_start=m.start())
        _read_prefix(text, tok)
        tok.unit_end = m.end()
        _read_suffix(text, tok)
        yield tok


def _spelled_value(m: re.Match[str]) -> tuple[Decimal, ExtractedKind]:
    if m.group("half"):
        return Decimal(6), "number"
    if m.group("dozen"):
        return Decimal(12), "number"
    if m.group("twice"):
        return Decimal(2 if m.group("twice").lower() == "twice" else 3), "multiplier"
    if m.group("ahund"):
        return Decimal(_WORD_SCALES.get(m.group("ahund").lower(), 100)), "number"
    parts = re.split(r"[-\s]+", m.group("base").lower())
    value = sum(_UNITS_WORDS.get(p, 0) + _TENS_WORDS.get(p, 0) for p in parts)
    return Decimal(value), "number"


def _spelled_tokens(text: str, taken: list[tuple[int, int]]) -> Iterator[_Tok]:
    for m in _SPELLED.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        base = (m.group("base") or "").lower()
        if base == "one" and not m.group("mul") and (
            _ONE_IDIOM_BEFORE.search(text[: m.start()]) or not _ONE_COUNTS.match(text[m.end() :])
        ):
            continue
        value, kind = _spelled_value(m)
        tok = _Tok(m.start(), m.end(), kind, value, 0, spelled=True, num_start=m.start())
        mul = m.group("mul")
        if mul and mul.lower() == "hundred":
            tok.shown = value * 100
        elif mul:
            tok.scale = _WORD_SCALES[mul.lower()]
            tok.kind = "count"
        _read_prefix(text, tok)
        tok.unit_end = m.end()
        if kind == "number":
            _read_suffix(text, tok)
        yield tok


def _date_tokens(text: str, taken: list[tuple[int, int]]) -> Iterator[_Tok]:
    for m in _DATE_ISO.finditer(text):
        mo, d = int(m.group("mo")), int(m.group("d"))
        if 1 <= mo <= 12 and 1 <= d <= 31 and not _overlaps(m.span(), taken):
            yield _Tok(m.start("mo"), m.end(), "date", Decimal(d), 0, month=mo)
    for pattern in (_DATE_MD, _DATE_DM):
        for m in pattern.finditer(text):
            if _overlaps(m.span(), taken) or not 1 <= int(m.group("d")) <= 31:
                continue
            month = _month(m.group("m"))
            span = (m.start(), m.end("d")) if pattern is _DATE_MD else m.span()
            yield _Tok(span[0], span[1], "date", Decimal(int(m.group("d"))), 0, month=month)
            if pattern is _DATE_MD and m.group("d2") and 1 <= int(m.group("d2")) <= 31:
                month2 = _month(m.group("m2")) if m.group("m2") else month
                start2 = m.start("m2") if m.group("m2") else m.start("d2")
                yield _Tok(start2, m.end("d2"), "date", Decimal(int(m.group("d2"))), 0, month=month2)


def _join_ranges(text: str, toks: list[_Tok]) -> None:
    """"10–20%" → both percent; "$10–20" → both money: a bare end takes the other end's unit."""
    for a, b in zip(toks, toks[1:], strict=False):
        if a.kind == "date" or b.kind == "date":
            continue
        if not _RANGE_SEP.match(text[a.unit_end if a.kind == "number" else a.end : b.start]):
            continue
        if a.kind == "number" and a.scale == 1 and b.kind not in ("number", "numbering", "rank"):
            a.kind, a.scale, a.currency = b.kind, b.scale, b.currency
            if b.hours is not None and b.shown:
                a.hours = a.shown * (b.hours / b.shown)
            a.end = a.unit_end
        elif b.kind == "number" and a.kind == "money" and b.scale == 1:
            b.kind, b.currency = "money", a.currency


def _finish(text: str, tok: _Tok, sentences: list[tuple[int, int]]) -> ExtractedNumber:
    sentence = next((text[s:e] for s, e in sentences if s <= tok.num_start < e), text)
    face = (abs(tok.shown) * tok.scale).copy_sign(tok.shown)
    return ExtractedNumber(
        text=text[tok.start : tok.end].strip(),
        start=tok.start,
        end=tok.end,
        kind=tok.kind,
        value=float(face),
        shown=tok.shown,
        decimals=tok.decimals,
        scale=tok.scale,
        signed=tok.signed,
        qualifier=tok.qualifier,
        currency=tok.currency,
        hours=tok.hours,
        month=tok.month,
        spelled=tok.spelled,
        estimate_label=bool(_ESTIMATE_LABEL.search(sentence)),
    )


def extract_figures(text: str) -> list[ExtractedNumber]:
    """Every number in `text`, in order, with its kind, shown precision and span (rules: module docstring)."""
    taken = _masked_spans(text)
    toks: list[_Tok] = []
    for m in _NUMBERING.finditer(text):
        toks.append(_Tok(m.start("n"), m.end("n") + 1, "numbering", Decimal(m.group("n")), 0, num_start=m.start("n")))
        taken.append(m.span("n"))
    for tok in _date_tokens(text, taken):
        toks.append(tok)
        tok.num_start = tok.start
        taken.append((tok.start, tok.end))
    for gen in (_numeric_tokens, _spelled_tokens):
        for tok in gen(text, taken):
            if _overlaps((tok.num_start, tok.unit_end), taken):
                continue
            toks.append(tok)
            taken.append((tok.num_start, tok.unit_end))
    toks.sort(key=lambda t: t.num_start)
    _join_ranges(text, toks)
    sentences = _sentences(text)
    return [_finish(text, t, sentences) for t in toks]


# ---------------------------------------------------------------- links

_LINK_PATTERNS = (
    re.compile(r"\[[^\]\n]*\]\((?P<u>[^)\s]*)(?:\s+\"[^\"]*\")?\)"),
    re.compile(r"\bhref\s*=\s*[\"'](?P<u>[^\"']*)[\"']", re.I),
    re.compile(r"(?P<u>(?:https?://|www\.)[^\s<>\"'\])]+)", re.I),
)


def extract_links(text: str) -> list[str]:
    """Markdown link targets, href targets and bare URLs, in order, without trailing punctuation."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _LINK_PATTERNS:
        for m in pattern.finditer(text):
            span = m.span("u")
            if _overlaps(span, taken):
                continue
            taken.append(span)
            url = m.group("u").rstrip(".,;:!?")
            found.append((span[0], url))
    return [u for _, u in sorted(found)]


def normalise_url(url: str) -> str:
    """Trailing slashes off, scheme and host lower-cased; path, query and fragment untouched."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme and parts.netloc:
        url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))
    return url.rstrip("/")


def allowed_urls(payloads: Iterable[TrendPayload]) -> set[str]:
    """The only URLs copy may link to: canonical URLs and evidence item URLs of these trends."""
    urls: set[str] = set()
    for p in payloads:
        urls.update(p.canonical_urls)
        urls.update(ev.url for ev in p.evidence if ev.url)
    return urls


def _bad_links(links: Iterable[str], allowed: set[str]) -> list[str]:
    ok = {normalise_url(u) for u in allowed}
    return [u for u in links if normalise_url(u) not in ok]


# ---------------------------------------------------------------- grounding

FigKind = Literal["count", "percent", "money", "multiplier", "rank", "number"]


@dataclass(frozen=True)
class _Fact:
    field: str
    kind: FigKind
    value: Decimal
    estimate: bool = False
    currency: str | None = None
    hours_like: bool = False  # a duration in hours (age_h, hours)


@dataclass(frozen=True)
class _Listed:
    """A number found in a payload string (title, window, date, ...): whitelisted by kind and value."""

    origin: str
    kind: ExtractedKind
    value: Decimal
    hours: Decimal | None = None
    month: int | None = None


@dataclass(frozen=True)
class _Facts:
    facts: tuple[_Fact, ...]
    listed: tuple[_Listed, ...]


def _to_dec(value: float) -> Decimal | None:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _display_currency(display: str) -> str | None:
    for sym in _SYMBOLS:
        if display.startswith(sym) or display.startswith("-" + sym):
            return _SYMBOL_TO_CODE[sym]
    m = re.search(r"\s([A-Z]{3})$", display)
    return m.group(1) if m else None


def _collect(payloads: Iterable[TrendPayload]) -> _Facts:
    facts: list[_Fact] = []
    listed: list[_Listed] = []

    def add(field: str, kind: FigKind, value: float, **kw: object) -> None:
        d = _to_dec(value)
        if d is not None:
            facts.append(_Fact(field, kind, d, **kw))  # type: ignore[arg-type]

    def scan(origin: str, text: str | None) -> None:
        for x in extract_figures(text or ""):
            listed.append(_Listed(origin, x.kind, abs(x.shown) * x.scale, x.hours, x.month))

    payloads = list(payloads)
    for p in payloads:  # the metrics first: a figure is credited to them before the run-level numbers
        for ev in p.evidence:
            for fig in ev.figures:
                hours_like = fig.field.endswith(("_h", "hours")) or "hour" in fig.label
                add(
                    fig.field,
                    fig.kind,
                    fig.value,
                    estimate=fig.estimate,
                    currency=_display_currency(fig.display) if fig.kind == "money" else None,
                    hours_like=hours_like,
                )
                scan(f"{fig.field}.window", fig.window)
                scan(f"{fig.field}.label", fig.label)
    for p in payloads:
        if p.rank > 0:
            add("rank", "rank", p.rank)
        add("independent_sources", "count", p.independent_sources)
        add("score", "number", p.score)
        if p.title_listing:  # a post's title is free text: its numbers are claims, not part of a name
            scan("title", p.title)
        for i, product in enumerate(p.products):
            scan(f"products.{i}", product)
        scan("name", p.name)
        scan("topic", p.topic)
        scan("category", p.category)
        for ev in p.evidence:
            pre = f"evidence.{ev.source}"
            add(f"{pre}.n_source", "count", ev.n_source)
            pct = _to_dec(ev.percentile)
            if pct is not None:
                facts.append(_Fact(f"{pre}.percentile", "percent", pct * 100))
                facts.append(_Fact(f"{pre}.top_share", "percent", (1 - pct) * 100))
            for origin, text in (
                ("item_title", ev.item_title if ev.listing else None),
                ("window", ev.window),
                ("group", ev.group),
                ("category", ev.category),
                ("author", ev.author),
                ("published", ev.published),
                ("observed", ev.observed),
                ("window_end", ev.window_end),
            ):
                scan(f"{pre}.{origin}", text)
    return _Facts(tuple(facts), tuple(listed))


def _quantize(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _compatible(x: ExtractedNumber, fact: _Fact) -> tuple[bool, int, int]:
    """Can this written kind be this fact's kind? Returns (ok, places, min significant figures)."""
    d = x.decimals
    if x.kind == "percent":
        return fact.kind == "percent", d, 0
    if x.kind == "multiplier":
        return fact.kind == "multiplier", max(d, 1), 0
    if x.kind == "money":
        if fact.kind != "money" or fact.currency != x.currency:
            return False, 0, 0
        return True, (2 if x.scale == 1 else d), (0 if x.scale == 1 else 3)
    if x.kind == "count":
        return fact.kind in ("count", "number"), d, 3
    if x.kind == "rank":
        return fact.kind == "rank", d, 0
    if x.kind == "window":  # a duration only matches a duration, compared in hours
        return fact.hours_like and x.hours is not None, d, 2
    if x.kind == "number":
        if fact.kind == "money":
            return fact.currency is None, 2, 0
        if fact.kind == "number":
            return True, d, 2
        return fact.kind in ("count", "rank"), d, 0
    return False, 0, 0


def _matches(x: ExtractedNumber, fact: _Fact) -> bool:
    ok, places, min_sig = _compatible(x, fact)
    if not ok:
        return False
    face = abs(x.shown) * x.scale
    value = fact.value if x.signed else abs(fact.value)
    if x.kind == "window" and x.hours is not None:
        face = x.hours
    target = face.copy_sign(x.shown) if x.signed else face
    if x.qualifier == "at_least":
        return value >= target
    if x.qualifier == "below":
        return value < target
    if value == target:
        return True
    if x.kind == "rank" or (fact.kind == "rank" and x.kind == "number"):
        return False  # ranks are exact
    if x.kind == "percent" and abs(x.shown) < 10:
        places = max(places, 1)  # under 10, "4%" means 4.0%
    places = max(places, _places_for(abs(face / x.scale), min_sig))
    return _quantize(value / x.scale, places) * x.scale == target


def _places_for(mantissa: Decimal, sig: int) -> int:
    """Decimal places that keep `sig` significant figures: "312K" → 0, "1.2M" → 2 (read as 1.20M), "0.3M" → 3."""
    if sig == 0 or mantissa == 0:
        return 0
    return max(0, sig - 1 - mantissa.adjusted())


def _listed_match(x: ExtractedNumber, facts: _Facts) -> str | None:
    if x.qualifier != "exact":
        return None
    face = abs(x.shown) * x.scale
    for entry in facts.listed:
        if x.kind == "date":
            if entry.kind == "date" and entry.month == x.month and entry.value == face:
                return entry.origin
        elif x.kind == "window":
            if entry.kind == "window" and entry.hours == x.hours:
                return entry.origin
        elif x.kind == "number":
            if entry.kind in ("number", "count", "rank") and entry.value == face:
                return entry.origin
        elif entry.kind == x.kind and entry.value == face:
            return entry.origin
    return None


_REPORT_KIND: dict[str, Literal["count", "percent", "money", "multiplier", "number"]] = {
    "count": "count",
    "percent": "percent",
    "money": "money",
    "multiplier": "multiplier",
}


def _judge(x: ExtractedNumber, facts: _Facts) -> FactcheckFigure:
    def out(grounded: bool, field: str | None) -> FactcheckFigure:
        return FactcheckFigure(
            text=x.text, value=x.value, kind=_REPORT_KIND.get(x.kind, "number"), grounded=grounded, matched_field=field
        )

    if x.kind == "numbering":
        return out(True, "numbering")
    matched = [f for f in facts.facts if x.kind != "date" and _matches(x, f)]
    measured = next((f for f in matched if not f.estimate), None)
    if measured is not None:
        return out(True, measured.field)
    listed = _listed_match(x, facts)
    if listed is not None:
        return out(True, listed)
    if matched:  # only estimates match: Gate 4 wants a label in the same sentence
        return out(x.estimate_label, matched[0].field)
    return out(False, None)


# ---------------------------------------------------------------- claims (quotes of scraped text)

_QUOTE = re.compile(r"“(?P<c>[^”\n]{2,300})”|\"(?P<s>[^\"\n]{2,300})\"")


@dataclass(frozen=True)
class QuoteSource:
    """One piece of scraped free text a copy may quote, and the names that attribute it."""

    text: str
    names: tuple[str, ...]


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_format_chars(m: re.Match[str]) -> str:
    return "".join(ch for ch in m.group() if unicodedata.category(ch) != "Cf")


def normalise_text(text: str) -> str:
    """For verbatim comparison: HTML entities undone, NFKC, invisible characters dropped, whitespace collapsed."""
    norm = html.unescape(text or "")
    if not norm.isascii():  # plain ASCII is already NFKC and holds no format (Cf) characters
        norm = unicodedata.normalize("NFKC", norm)
        norm = _NON_ASCII.sub(_drop_format_chars, norm)  # only non-ASCII runs can hold them
    return re.sub(r"\s+", " ", norm).strip()


def quote_sources(trends: Iterable[Trend]) -> list[QuoteSource]:
    out: list[QuoteSource] = []
    for t in trends:
        for it in t.items:
            if not story.is_free_text(it):
                continue
            names = {source_label(it.source)}
            if it.group:
                names |= {it.group, f"r/{it.group.removeprefix('r/')}"} if it.source == "reddit" else {it.group}
            if it.author:
                names |= {it.author, f"@{it.author}"}
            if it.source == "x":
                names.add("X")
            for text in (it.title, it.text):
                if text:
                    out.append(QuoteSource(normalise_text(text), tuple(sorted(n for n in names if n))))
    return out


def quote_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, quoted words) of every double-quoted span."""
    return [(m.start(), m.end(), m.group("c") or m.group("s")) for m in _QUOTE.finditer(text)]


def _judge_quote(text: str, start: int, end: int, quote: str, sources: list[QuoteSource], *, action: bool) -> FactcheckClaim:
    body = normalise_text(quote).strip(" .,;:…")
    found = next((s for s in sources if body and body in s.text), None)
    sentence = next((text[a:b] for a, b in _sentences(text) if a <= start < b), text)
    around = normalise_text(sentence.replace(text[start:end], " "))
    attributed = found is not None and any(
        re.search(rf"(?<![\w@/]){re.escape(n)}(?![\w])", around, re.I if len(n) > 2 else 0) for n in found.names
    )
    return FactcheckClaim(
        quote=quote,
        numbers=[x.text for x in extract_figures(quote) if x.kind != "numbering"],
        source_text=found is not None,
        attributed=attributed,
        in_action=action,
    )


def check_text(
    text: str, payloads: list[TrendPayload], allowed_urls: set[str]
) -> tuple[list[FactcheckFigure], list[str]]:
    """Judge every number in `text` against `payloads`, and every link against `allowed_urls` (quotes: `check_copy`)."""
    figures, links, _ = check_copy(text, payloads, allowed_urls)
    return figures, links


def check_copy(
    text: str,
    payloads: list[TrendPayload],
    allowed_urls: set[str],
    *,
    sources: list[QuoteSource] | None = None,
    action: bool = False,
    facts: _Facts | None = None,
) -> tuple[list[FactcheckFigure], list[str], list[FactcheckClaim]]:
    """Judge every number in `text` against `payloads`, every quote against `sources` (the scraped text that may be
    quoted) and every link against `allowed_urls`. Numbers inside a quote are claims, reported apart.
    `facts`: `payloads`' facts when the caller already collected them (one collection per scope, not per text)."""
    facts = facts if facts is not None else _collect(payloads)
    quotes = quote_spans(text)
    claims = [_judge_quote(text, a, b, q, sources or [], action=action) for a, b, q in quotes]
    figures = [
        _judge(x, facts) for x in extract_figures(text) if not any(a <= x.start < b for a, b, _ in quotes)
    ]
    return figures, _bad_links(extract_links(text), allowed_urls), claims


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def check_section(section: Section, trends: list[Trend]) -> FactcheckReport:
    """Check a written section: each item against its own trend, intro and bullets against them all."""
    report = FactcheckReport(section=section.key)
    if section.error is not None:
        return report
    payloads = {t.cluster_id: trend_payload(t) for t in trends}
    by_id = {t.cluster_id: t for t in trends}
    everything = list(payloads.values())
    all_sources = quote_sources(trends)
    bad: list[str] = []
    collected: dict[tuple[int, ...], tuple[_Facts, set[str]]] = {}  # per scope: its facts and links, once

    def run(text: str, scope: list[TrendPayload], sources: list[QuoteSource], action: bool = False) -> None:
        key = tuple(id(p) for p in scope)
        if key not in collected:
            collected[key] = (_collect(scope), allowed_urls(scope))
        facts, urls = collected[key]
        figures, links, claims = check_copy(text, scope, urls, sources=sources, action=action, facts=facts)
        report.figures.extend(figures)
        report.claims.extend(claims)
        bad.extend(links)

    for text in (section.title, section.intro):
        run(text, everything, all_sources)
    for item in section.items:
        own = [payloads[item.cluster_id]] if item.cluster_id in payloads else []
        own_sources = quote_sources([by_id[item.cluster_id]]) if item.cluster_id in by_id else []
        for text in (item.headline, item.signal, item.why_it_matters, item.corroboration, item.caveat, item.claim):
            run(text, own, own_sources)
        run(item.action, own, own_sources, action=True)
        bad.extend(_bad_links(item.links, allowed_urls(own)))
    for bullet in section.bullets:
        run(bullet, everything, all_sources, action=True)
    report.bad_links = _dedupe(bad)
    return report
