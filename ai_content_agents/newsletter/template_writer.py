"""The deterministic writer: copy an editor would write, built from a story's evidence payload. No model.

Every number it writes is a Figure's `display` (so the fact-check grounds it) and every quote is a `Claim`, quoted
verbatim and attributed. What varies is chosen by the evidence (which sources count, which figure leads, price
point, how fresh, whether the baseline is the creator's own) and by the story's slot in the issue, so the same input
gives the same issue and no stock sentence repeats down the page. The offline model reuses `write_json`.
"""

from __future__ import annotations


import html
import zlib
from urllib.parse import urlsplit
from collections.abc import Sequence

from .evidence import Claim, Figure, SourceFacts, TrendPayload, trend_payload
from ..models import GatherReport, Masthead, Section, Trend, TrendCopy
from ..sources import meta
from . import sections as S
from .sections import SectionSpec

INTROS: dict[str, str] = {
    S.CREATORS: "Videos beating their creator's own numbers by a wide margin, and the product in each.",
    S.AMAZON: "Listings climbing Amazon's Best Sellers and Movers & Shakers lists right now.",
    S.SELLERS: "What sellers and buyers say in threads. Their numbers are their claims, quoted as written.",
    S.ACTIONS: "One move per story, in the order above.",
}
EMPTY: dict[str, str] = {
    S.TOP: "No story named a product strongly enough to lead this issue.",
    S.CREATORS: "No creator video beyond the stories above ran far enough ahead of its norm this week.",
    S.AMAZON: "No Amazon listing moved enough this week to feature.",
    S.SELLERS: "No seller thread about a product stood out this week.",
    S.ACTIONS: "Nothing to act on this week.",
}



def lead_metrics(source: str) -> tuple[str, ...]:
    """The figure(s) a source leads with, first present wins (its `META.lead_metrics`)."""
    return meta(source).lead_metrics

_UNIT = {"score": "upvotes", "likes": "likes", "plays": "plays", "views": "views", "comments": "comments",
         "units_sold": "units sold", "gmv": "in sales", "orders": "orders", "reposts": "reposts"}


def _u(text: str | None) -> str:
    """Payload strings reach the offline model escaped for the prompt; copy shows them as written."""
    return html.unescape(text or "")


def _sentence(clause: str) -> str:
    """A clause as the start of a sentence: its first letter capitalised, except a name spelled as it is
    ("r/TikTokShop", "@handle", "iPhone")."""
    first = clause.split(" ", 1)[0]
    if first.startswith(("r/", "@")) or first[1:2].isupper():
        return clause
    return clause[:1].upper() + clause[1:]


def _poss(name: str) -> str:
    """A name's possessive: "Affordable Gold Reviews'", "@glowdiaries's" (a handle keeps its 's)."""
    return f"{name}'" if name.endswith("s") and not name.startswith("@") else f"{name}'s"


_PLURAL_FORMS = {"is": "are", "has": "have", "its": "their"}


def _agree(subject: str, verb: str) -> str:
    """`verb` (third person singular, or "its") as `subject` takes it: "Clippers jump", "Eyelashes are", "Mask jumps"."""
    last = subject.rsplit(" ", 1)[-1].casefold()
    if len(last) <= 3 or not last.endswith("s") or last.endswith(("ss", "us", "is")):
        return verb
    if verb in _PLURAL_FORMS:
        return _PLURAL_FORMS[verb]
    return verb[:-2] if verb.endswith(("ches", "shes", "sses", "xes")) else verb[:-1]


def _pick(options: Sequence[str], slot: int) -> str:
    return options[slot % len(options)]


class _Story:
    """One story's evidence, ready to be said: the lead facts, the other sources, the citable figures."""

    def __init__(self, p: TrendPayload, slot: int) -> None:
        self.p = p
        self.slot = slot
        self.name = _u(p.name) or _u(p.topic) or ""
        self.ref = (_u(p.ref) or self.name) if p.name else (_u(p.topic) or "the product")
        self.by_source = {ev.source: ev for ev in p.evidence}
        self.counted = {s for s, ev in self.by_source.items() if ev.counted}  # the sources that agree it is a trend
        # those whose numbers are the named product's own (not another product's, not the type's in general)
        self.own = {s for s in self.counted if not self.by_source[s].about}
        self.lead = p.facts(p.lead) or (p.evidence[0] if p.evidence else None)
        self.flags = set(p.flags) | {f for ev in p.evidence for f in ev.flags}

    # --- figures ---------------------------------------------------------------------------------------
    @staticmethod
    def metric(ev: SourceFacts | None, name: str) -> Figure | None:
        if ev is None:
            return None
        return next((f for f in ev.figures if f.field == f"{ev.source}.metrics.{name}"), None)

    @staticmethod
    def shown(f: Figure) -> str:
        return f"est. {f.display}" if f.estimate else f.display

    def primary(self, ev: SourceFacts) -> Figure | None:
        for name in (*lead_metrics(ev.source), ev.metric):
            found = self.metric(ev, name)
            if found is not None:
                return found
        return None

    @staticmethod
    def multiple(ev: SourceFacts | None) -> Figure | None:
        if ev is None:
            return None
        return next((f for f in ev.figures if f.field == f"{ev.source}.signals.ratio"), None)  # value / baseline

    def when(self, ev: SourceFacts, k: int = 0) -> str:
        """The window and date of a source's numbers, in words the fact-check can ground."""
        if ev.window.startswith("since") and ev.published:
            # short variants, rotated by story and clause: any five words in a row then include the date or
            # the item's own words, so no phrase repeats across an issue
            return _pick((f"since {ev.published}", f"(posted {ev.published})", f"(up since {ev.published})",
                          f"(published {ev.published})", f"(online since {ev.published})"), self.slot * 3 + k)
        if _timed(ev.window) and ev.window_end:  # a window with a last day of its own (the shop's, a day before
            span = " ".join(ev.window.split()[:2])  # it is read): that day, which it includes
            return _pick((f"in the {span} through {ev.window_end}", f"over the {span} ending {ev.window_end}",
                          f"in {span} up to and including {ev.window_end}"), self.slot)
        if _timed(ev.window) and ev.observed:
            span = " ".join(ev.window.split()[:2])
            # by story only: each story's slot is its own, so consecutive stories say a window three ways
            return _pick((f"in the {span} to {ev.observed}", f"over the {span} ending {ev.observed}",
                          f"in {span}, as of {ev.observed}"), self.slot)
        return f"as of {ev.observed}" if ev.observed else ""

    # --- sentences -------------------------------------------------------------------------------------
    @staticmethod
    def whose(ev: SourceFacts) -> str:
        """Whose numbers these are when they are not the named product's: another product's, or the type's."""
        if not ev.about:
            return ""
        if ev.about_product:
            return f" for your {_u(ev.about)}" if ev.source == "tiktok_shop" else f" for {_u(ev.about)}"
        return f", on {_u(ev.about)} in general"

    def fact(self, ev: SourceFacts, *, long: bool = True, k: int = 0, about: bool = True) -> str:
        """One source's numbers with its source and window, as a clause (`k` varies the wording within a line);
        `about`: say whose numbers they are when they are not the named product's."""
        whose = self.whose(ev) if about else ""
        if ev.source == "amazon":
            return self._amazon(ev, long, k) + whose
        lead = self.primary(ev)
        mult = self.multiple(ev)
        parts = []
        if lead is not None:
            parts.append(f"{self.shown(lead)} {_UNIT.get(lead.field.rsplit('.', 1)[-1], lead.label)}")
        if ev.source == "reddit" and (c := self.metric(ev, "comments")) is not None and lead and "comments" not in lead.field:
            parts.append(f"{c.display} comments")
        numbers = " and ".join(parts) or "a standout showing"
        when = self.when(ev, k)
        if ev.source == "tiktok_shop" and ev.key.startswith("tiktok_shop:video:"):  # a video's sales, not the product's
            text = _pick((f"{numbers} through one video in your TikTok Shop {when}",
                          f"one video in your TikTok Shop drove {numbers} {when}"), self.slot + k)
        elif ev.source == "tiktok_shop":
            text = _pick((f"{numbers} in your TikTok Shop {when}", f"your TikTok Shop logged {numbers} {when}"), self.slot + k)
        elif ev.source == "reddit":
            sub = f"r/{_u(ev.group).removeprefix('r/')}" if ev.group else "Reddit"
            a_sub = f"an {sub}" if sub.startswith("r/") else f"a {sub}"  # "an r/…", said "an ar-slash"
            text = _pick((f"{numbers} on {sub} {when}", f"{a_sub} thread drew {numbers} {when}",
                          f"{numbers} for a post on {sub} {when}", f"{sub} gave a post {numbers} {when}"),
                         self.slot + k + zlib.crc32(ev.key.encode()))  # spread by the post too
        else:
            who = _u(ev.author)
            handle = (f"@{who}" if ev.source in ("tiktok", "x") else who) if who else ""
            kind = "post" if ev.source == "x" else "video"
            if handle:
                text = _pick((f"{numbers} on {_poss(handle)} {ev.source_label} {kind} {when}",
                              f"{_poss(handle)} {kind} on {ev.source_label} drew {numbers} {when}",
                              f"{numbers} for {handle} on {ev.source_label} {when}"), self.slot + k)
            else:
                text = f"{numbers} on {ev.source_label} {when}"
        text = text.strip() + whose
        if long and mult is not None and ev.baseline_label:
            text += f", {mult.display} {ev.baseline_label}"
        return text

    def _amazon(self, ev: SourceFacts, long: bool, k: int = 0) -> str:
        gain = self.metric(ev, "percent_gain")
        pos = self.metric(ev, "position")
        vel = next((f for f in ev.figures if f.field == "amazon.signals.velocity"), None)
        cat = _u(ev.category) or "its category"
        if "movers" in (ev.group or "").casefold():  # a place on Movers & Shakers, not a sales rank
            cat = _pick((f"{cat} Movers & Shakers", f"the {cat} movers list", f"{cat} movers"), self.slot + k)
        when = self.when(ev, k + 1)
        if gain is not None and pos is not None:
            if not long:
                return _pick((f"{pos.display} in {cat} on Amazon, up {gain.display}",
                              f"Amazon has it at {pos.display} in {cat} after a jump of {gain.display}"), self.slot + k)
            return _pick((
                f"a sales-rank gain of {gain.display} on Amazon {when}, now {pos.display} in {cat}",
                f"{pos.display} in {cat} on Amazon after its rank rose {gain.display} {when}",
                f"up {gain.display} in Amazon sales rank {when}, reaching {pos.display} in {cat}",
            ), self.slot + k)
        if pos is not None and vel is not None:
            return _pick((f"{pos.display} in {cat} on Amazon as of {ev.observed}, its rank up {vel.display} on our previous snapshot",
                          f"a rank up {vel.display} on our previous snapshot of Amazon's list, now {pos.display} in {cat} "
                          f"({ev.observed})",
                          f"Amazon lists it at {pos.display} in {cat} on {ev.observed}, its rank {vel.display} better than "
                          "in our last snapshot",
                          f"{pos.display} in {cat} on Amazon by {ev.observed}: {vel.display} up on the rank we last stored"),
                         self.slot * 7 + k)  # 7 ≡ 3 (mod 4): consecutive stories take all four wordings
        new, rank = self.metric(ev, "previously_unranked"), self.metric(ev, "sales_rank")
        if pos is not None and new is not None and rank is not None:  # a breakout: on the list, unranked before
            return _pick((f"{pos.display} in {cat} on Amazon, a new entry at sales rank {rank.display} (unranked "
                          f"before, {ev.observed})",
                          f"new to Amazon's charts: {pos.display} in {cat} at sales rank {rank.display}, unranked "
                          f"before ({ev.observed})"), self.slot + k)
        if pos is not None:
            return f"{pos.display} in {cat} on Amazon as of {ev.observed}"
        return f"listed in {cat} on Amazon as of {ev.observed}"

    def others(self, exclude: set[str]) -> list[SourceFacts]:
        seen: set[str] = set()
        out = []
        for ev in self.p.evidence:
            if ev.key in exclude or ev.source in seen or ev.source in {self.by_source_of(k) for k in exclude}:
                continue
            if self.primary(ev) is None and ev.source != "amazon":
                continue
            seen.add(ev.source)
            out.append(ev)
        return out

    def by_source_of(self, key: str) -> str:
        return key.split(":", 1)[0]

    def cited(self, exclude: set[str]) -> tuple[list[SourceFacts], list[SourceFacts]]:
        """The other sources whose numbers corroboration cites (three at most): those that count as agreeing,
        then those that do not (near their norm)."""
        others = self.others(exclude)
        agree = [ev for ev in others if ev.counted][:3]
        return agree, [ev for ev in others if not ev.counted][: 3 - len(agree)]

    def corroboration(self, agree: list[SourceFacts], quiet: list[SourceFacts]) -> str:
        """The other sources' numbers (`cited`: agreeing, then near their norm), as a sentence or two."""
        out = []
        if agree:
            lead = _pick(("Also showing up", "Not confined to a single platform", "Elsewhere", "The other sources agree",
                          "Backing it up"), self.slot)
            out.append(self._clauses(lead, agree, 1))
        if quiet:
            lead = _pick(("Also in the data, near usual numbers", "Seen too, without beating the norm",
                          "At ordinary levels"), self.slot)
            out.append(self._clauses(lead, quiet, len(agree) + 1))
        return " ".join(out)

    def _clauses(self, lead: str, evs: list[SourceFacts], k: int) -> str:
        """`lead`: clause; clause. Numbers about the story's type rather than a product come last, under one
        "on <type> in general"."""
        general = [ev for ev in evs if ev.about and not ev.about_product]
        specific = [ev for ev in evs if ev not in general]
        out = []
        if specific:
            out.append(f"{lead}: " + "; ".join(self.fact(ev, long=False, k=k + i) for i, ev in enumerate(specific)) + ".")
        if general:
            topic = _u(general[0].about)
            head = f"On {topic} in general" if specific else f"{lead}, on {topic} in general"
            clauses = [self.fact(ev, long=False, k=k + len(specific) + i, about=False) for i, ev in enumerate(general)]
            out.append(f"{head}: " + "; ".join(clauses) + ".")
        return " ".join(out)

    def commerce(self) -> bool:
        return "amazon" in self.by_source or "tiktok_shop" in self.by_source

    def price_line(self) -> str:
        price = self.p.price
        if not price:
            return ""
        value = _money_value(price)
        if value is None:
            return ""
        if value < 20:
            return _pick((f"At {price} it is an impulse buy: easy to try, easy to gift.",
                          f"A {price} price tag needs no deliberation, which is why it travels on social.",
                          f"At {price}, {self.ref} {_agree(self.ref, 'sits')} squarely in add-to-cart territory."), self.slot)
        if value < 60:
            return _pick((f"At {price} it is a considered but easy purchase, squarely in gifting range.",
                          f"{price} puts {self.ref} in the upgrade-and-gift bracket heading into the holidays.",
                          f"At {price} shoppers compare a little, then buy; reviews will decide the winner."), self.slot)
        return _pick((f"At {price} buyers research first, so reviews and comparison content will carry the sale.",
                      f"{price} is a premium ticket: expect buyers to watch long reviews before they commit.",
                      f"At {price}, {self.ref} {_agree(self.ref, 'sells')} on proof, not impulse."), self.slot)

    def why(self, section: str) -> str:
        srcs = self.counted
        # platforms talking about the named product itself (not about its type in general)
        social = [self.by_source[s].source_label for s in ("tiktok", "youtube", "reddit", "x") if s in self.own]
        if section == S.CREATORS and self.lead is not None:
            video = self.p.facts(self.p.video) or self.lead
            ref = _u(video.about) or self.ref  # what the video shows: the named product, another, or the type
            if video.creator_relative:
                return _pick(("When a video beats its own creator's norm this far, the product did the work, not the "
                              "account's size.",
                              f"The creator's usual audience cannot explain this one; {ref} {_agree(ref, 'is')} pulling views.",
                              "An account outperforming itself is the earliest sign a product format is catching on."),
                             self.slot)
            return _pick((f"It outruns the other videos in its hashtag, so {ref} is getting attention on its own merits.",
                          "Beating the hashtag's usual numbers this clearly is how product formats start to spread.",
                          f"Among many similar posts, the one about {ref} is the one people stop for."), self.slot)
        if section == S.AMAZON:
            line = self.price_line()
            if line:
                return line
        shop = self.by_source.get("tiktok_shop")
        if shop is not None and shop.counted and shop.about and self.p.corroborated:
            own = f"its own {_u(shop.about)}" if shop.about_product else "one of these"
            where = social[0] if social else "Amazon"
            return _pick((f"Your shop already sells {own} while {where} keeps {self.ref} in view: a ready answer to the demand.",
                          f"With {own} in your shop already, the attention {where} gives {self.ref} can land on your listing."),
                         self.slot)
        if "tiktok_shop" in srcs and self.p.corroborated:
            return _pick((f"It is already selling in your shop while {social[0] if social else 'Amazon'} keeps the attention "
                          "coming: stock matters more than awareness now.",
                          "Your own shop confirms what the feeds suggest: people pay for it, not just watch it."), self.slot)
        if self.commerce() and social and self.p.corroborated:
            return _pick((f"People are buying it on Amazon while {social[0]} is still talking about it: demand with a "
                          "checkout attached, not just views.",
                          f"The sales rank and the {social[0]} attention moved together, which is what real demand looks like.",
                          f"Checkout data and {social[0]} chatter agree on {self.ref}; that pairing rarely fades within days."),
                         self.slot)
        if self.commerce():
            return self.price_line() or "A shoppable listing is attached, so attention can turn into orders."
        return _pick(("It is beating its own source's usual numbers by a wide margin, which is how product trends start.",
                      f"Interest in {self.ref} is running well ahead of the norm for where it was posted."), self.slot)

    def caveat(self, section: str) -> str:
        if self.p.label == "peaked":  # a replay weeks on, or a story kept alive by old numbers
            return _pick((f"The numbers behind {self.ref} are old by now, so it may have peaked: check it still moves first.",
                          f"Stale signal: {self.ref} may be past its peak, so recheck the curve before you commit stock.",
                          f"These figures on {self.ref} have aged; treat it as a story that may already be fading."),
                         self.slot)
        if "too_recent" in self.flags:
            return _pick(("It is very fresh, so early numbers can still swing either way.",
                          "Posted within the last day or so: confirm the curve before you commit stock."), self.slot)
        if "estimate" in self.flags:
            return "Shop figures marked est. are TikTok's own estimates, not settled orders."
        if section == S.TOP and not self.p.corroborated:
            src = self.lead.source_label if self.lead else "one source"
            return f"Only {src} shows it so far; a second platform would make it a safer bet."
        if "thin" in self.flags and self.lead is not None and self.lead.source in ("tiktok", "youtube", "x", "reddit"):
            # only where the lead figure is a multiple of a creator's or community's norm
            return _pick(("The baseline behind the multiple is thin, so read the multiple as indicative.",
                          "Few earlier posts to compare with, so treat the multiple as a rough guide.",
                          "The norm it beats rests on a handful of posts; the size of the jump may shrink."), self.slot)
        return ""


def _excerpt(text: str, words: int = 14) -> str:
    """The start of a caption, verbatim, at most `words` words (ends at a word boundary)."""
    parts = text.split()
    cut = parts[:words]
    return " ".join(cut).rstrip(" ,;:-–—") if cut else ""


def _timed(window: str) -> bool:
    parts = window.split(" ", 2)
    return len(parts) >= 2 and parts[0].replace(".", "").isdigit() and parts[1] in ("h", "d", "wk", "days", "hours")


def _money_value(display: str) -> float | None:
    digits = "".join(ch for ch in display if ch.isdigit() or ch == ".")
    try:
        return float(digits)
    except ValueError:
        return None


# --- per section ---------------------------------------------------------------------------------------
def _links(p: TrendPayload, cited: Sequence[SourceFacts] = ()) -> list[str]:
    """One link per site. A site whose figure the copy cites links to that item, whoever's it is (a link under
    "2,100 upvotes on r/CatAdvice" is that post, not another post of the story); then, up to two links in all, the
    lead item and the story's canonical URLs for sites the copy cites nothing from, never another product's page
    (a bare "View on Amazon" under a story is taken to be its product's listing)."""
    out: dict[str, str] = {}  # site → its link
    for ev in cited:
        if ev.url:
            out.setdefault(_site(ev.url), ev.url)
    others = {ev.url for ev in p.evidence if ev.about_product}  # another product's page is not this one's
    spare = [ev.url for ev in p.evidence if ev.key == p.lead] + list(p.canonical_urls)
    for u in spare:
        if u and u not in others and _site(u) not in out and len(out) < 2:
            out[_site(u)] = u
    return list(out.values())


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _headline(st: _Story, section: str) -> str:
    p, name = st.p, st.name
    amz = st.by_source.get("amazon")

    def says(verb: str) -> str:
        return _agree(name, verb)

    gain = st.metric(amz, "percent_gain")
    pos = st.metric(amz, "position")
    srcs = st.own  # a headline says what the named product itself does
    if section == S.TOP or (section == S.AMAZON and amz is not None):
        if p.corroborated and st.commerce() and srcs & {"tiktok", "youtube"}:
            social = "TikTok" if "tiktok" in srcs else "YouTube"
            return _pick((f"{name} {says('is')} selling on Amazon and spreading on {social}",
                          f"{name} {says('takes')} off on {social} and Amazon at once",
                          f"{social} talks up {name} while Amazon sales climb",
                          f"{name}: Amazon buyers and {social} viewers move together"), st.slot)
        if p.corroborated and "tiktok_shop" in srcs and len(srcs) > 1:  # the named product's own numbers, twice
            return f"{name} {says('is')} selling in your shop and beyond"
        if gain is not None:
            return _pick((f"{name} {says('jumps')} {gain.display} on Amazon",
                          f"{name} {says('climbs')} {gain.display} in Amazon sales rank",
                          f"{name} {says('surges')} {gain.display} up Amazon's list"), st.slot)
        if pos is not None:
            return _pick((f"{name} {says('reaches')} {pos.display} on Amazon",
                          f"{name} {says('moves')} up to {pos.display} on Amazon"), st.slot)
        if p.corroborated:
            return f"{name} {says('is')} moving on more than one platform"
        return f"{name} {says('is')} outrunning {says('its')} norm"
    if section == S.CREATORS:
        video = p.facts(p.video) or st.lead
        mult = st.multiple(video)
        who = f"@{_u(video.author)}" if video and video.author and video.source == "tiktok" else (
            _u(video.author) if video and video.author else "A creator")
        subject = (_u(video.about) if video is not None and video.about else "") or name or "a product video"
        unit = "plays" if video is not None and video.source == "tiktok" else "views"
        if not name and mult is not None:
            return _pick((f"{_poss(who)} latest video runs {mult.display} the usual {unit}",
                          f"{who} posts a video at {mult.display} the usual {unit}"), st.slot)
        if mult is not None:
            return _pick((f"{subject}: {_poss(who)} video runs {mult.display} its norm",
                          f"{who} gets {mult.display} the usual {unit} with {subject}",
                          f"{subject} {_agree(subject, 'lifts')} {who} to {mult.display} the usual {unit}"), st.slot)
        return f"{_poss(who)} {subject} video is pulling ahead"
    return f"{name} {says('is')} outrunning {says('its')} norm"


def story_copy(p: TrendPayload, section: str, slot: int) -> TrendCopy:
    """One story written up for `section` (the trend of the week, Creator watch or Amazon movers)."""
    st = _Story(p, slot)
    if section == S.CREATORS:
        focus = p.facts(p.video) or st.lead
    elif section == S.AMAZON:
        focus = st.by_source.get("amazon") or st.lead
    else:
        focus = st.lead
    signal = ""
    if focus is not None:
        clause = st.fact(focus)
        signal = _sentence(clause) + "."
    exclude = {focus.key} if focus else set()
    agree, quiet = st.cited(exclude)
    claim = ""
    if section == S.CREATORS and focus is not None and not st.name:  # no product we can name: let the caption say it
        caption = _excerpt(_u(focus.item_title))
        who = f"@{_u(focus.author)}" if focus.author and focus.source == "tiktok" else _u(focus.author) or focus.source_label
        if caption:
            label = {"youtube": "The title", "x": "The post", "reddit": "The post"}.get(focus.source, "The caption")
            claim = f"{label}, by {who}: “{caption}”"
    return TrendCopy(
        cluster_id=p.cluster_id,
        claim=claim,
        headline=_sentence(_headline(st, section)),
        signal=signal,
        why_it_matters=st.why(section),
        corroboration=st.corroboration(agree, quiet),
        caveat=st.caveat(section),
        action=action(st, section, focus),
        links=_links(p, [*([focus] if focus else []), *agree, *quiet]),
        focus_key=focus.key if focus else "",
    )


def action(st: _Story, section: str, focus: SourceFacts | None) -> str:
    """One concrete move for this story, built from its own evidence (so two stories never share one)."""
    p, ref = st.p, st.ref
    srcs = set(st.by_source)
    if "tiktok_shop" in srcs:
        shop = st.by_source["tiktok_shop"]
        if shop.about:  # the shop sells another product of the story: act on that one
            ref = f"your {_u(shop.about)}" if shop.about_product else f"your own {_u(shop.about)}"
        # as many wordings as an issue has slots (1 + 3 + 3 + 3), so no two stories share one
        return _pick((f"Check stock and ad budget on {ref} in your shop today; it is selling now.",
                      f"Keep {ref} in stock in your shop and pin the best-performing video this week.",
                      f"Raise the reorder point on {ref} before the weekend and line up another creator video.",
                      f"Put {ref} at the top of your shop showcase and test a bundle with your best seller.",
                      f"Send {ref} samples to your best affiliates this week while demand is rising.",
                      f"Turn the best {ref} clip into a Spark Ad and cap the daily spend while it proves itself.",
                      f"Add {ref} to a shop flash deal for the weekend and watch conversion against last week.",
                      f"Ask your top affiliate for a fresh {ref} video with a different opening.",
                      f"Check your {ref} listing photos against the videos driving traffic, and match the best angle.",
                      f"Set a low-stock alert on {ref} so a sell-out does not stall the momentum."), st.slot)
    if section == S.CREATORS and focus is not None and not st.name:
        handle = f"@{_u(focus.author)}" if focus.author and focus.source == "tiktok" else _u(focus.author) or "the creator"
        return _pick((f"Recreate {_poss(handle)} hook with your own product and post it once to see if it holds.",
                      f"Ask {handle} what they would charge to feature your product in the same format.",
                      f"Save {_poss(handle)} video as a reference and brief your next creator on its first seconds."), st.slot)
    if section == S.CREATORS and focus is not None:
        handle = f"@{_u(focus.author)}" if focus.author and focus.source == "tiktok" else _u(focus.author) or "the creator"
        tag = f" in #{_u(focus.group)}" if focus.group and focus.source == "tiktok" and " " not in focus.group else ""
        return _pick((f"Brief a few creators{tag} on the hook {handle} used, linking your own {ref} alternative.",
                      f"Study {_poss(handle)} opening seconds and test the same demo of {ref} in a single post this week.",
                      f"Offer {handle} a paid repost or a sample of your closest product while the video is hot."), st.slot)
    if "amazon" in srcs and p.price:
        # as many wordings as an issue has slots, so no two stories share one
        return _pick((f"Put your closest product next to the {p.price} {ref} listing and close the gap in price or bundle.",
                      f"Decide this week whether to undercut {ref} at {p.price} or outbundle it.",
                      f"Match the {ref} listing's main photo angle and test a price near {p.price}.",
                      f"Read the one-star reviews of {ref} ({p.price}) and fix those gaps in your own listing first.",
                      f"Price a bundle against {ref} at {p.price} and run it as a limited offer this week.",
                      f"List the questions buyers ask about {ref} ({p.price}) and answer them in your own images.",
                      f"Check whether your ads show up on searches for {ref} ({p.price}), and bid on its name.",
                      f"Source or shortlist a product like {ref} before its {p.price} price becomes the norm.",
                      f"Compare your delivery promise with {ref}'s at {p.price}; faster shipping can beat a lower price.",
                      f"Write a comparison post of your product and {ref} ({p.price}) for the people searching for it."),
                     st.slot)
    if "amazon" in srcs:
        return f"Compare your listing with {ref}'s title, images and reviews, and fix the biggest gap this week."
    if "reddit" in srcs:
        ev = st.by_source["reddit"]
        return f"Answer the objections raised on r/{_u(ev.group).removeprefix('r/')} on your own {ref} product page."
    if "x" in srcs:
        return _pick((f"Reply with your own {ref} offer under the X post while it is still being shared.",
                      f"Quote the X post with your take on {ref} and a link to your listing today.",
                      f"Follow up with the people replying on X about {ref}; they are asking where to buy."), st.slot)
    return f"Test {ref} in a single organic post this week and watch saves before paying to boost it."


def _claim_line(c: Claim, slot: int) -> str:
    who = _u(c.who)
    quote = _u(c.quote)
    verb = _pick(("reports", "writes", "says", "claims"), slot)
    tail = _pick(("that is their claim, not our measurement", "their figure, not our measurement",
                  "a claim we report, not our measurement"), slot)
    return f"{_sentence(who)} {verb} “{quote}”; {tail}."


def thread_copy(p: TrendPayload, slot: int, attached_to: str | None) -> TrendCopy:
    """A Reddit/X thread about a story: measured engagement, the poster's claim quoted, and (when the story stands on
    its own here) one action. `attached_to` is the title of the section where the story itself is written up."""
    st = _Story(p, slot)
    listed = [ev for ev in (p.facts(k) for k in p.threads) if ev is not None]
    claimed = {c.key for c in p.claims}
    thread = next((ev for ev in listed if ev.key in claimed), None) or (listed[0] if listed else None)
    name = (_u(thread.about) if thread is not None and thread.about else "") or st.name or st.ref
    where = "X"
    if thread is not None and thread.source == "reddit" and thread.group:
        where = f"r/{_u(thread.group).removeprefix('r/')}"
    elif thread is not None and thread.author:
        where = f"X (@{_u(thread.author)})"
    headline = _sentence(_pick((f"On {where}: {name}", f"{where} weighs in on {name}", f"{name}, as {where} sees it"), slot))
    signal = ""
    # the thread's own claim: never another item's quoted under this thread's name
    claim = next((c for c in p.claims if thread is None or c.key == thread.key), None)
    if thread is not None:
        signal = _sentence(st.fact(thread)) + "."
        title = " ".join(_u(thread.item_title).split())
        if claim is None and 0 < len(title) <= 120 and not any(ch.isdigit() for ch in title) and "www." not in title \
                and "://" not in title:  # no figure of theirs to quote, no link, short enough to quote whole
            said = _pick((f"The post on {where} reads “{title}”.", f"On {where}, in its own words: “{title}”.",
                          f"Its title on {where}: “{title}”."), slot)  # quoted and attributed
            # a story written up above gave its numbers there: the thread's own words are what is new here
            signal = said if attached_to else f"{signal} {said}"
    if attached_to:
        there = attached_to[0].lower() + attached_to[1:] if attached_to.startswith("The ") else attached_to
        why = _pick((f"This is the view from the thread on {st.ref}, written up above in {there}.",
                     f"Read it next to the entry on {st.ref} in {there}: it shows how people who buy and sell it talk.",
                     f"It adds a first-hand view to {st.ref}, covered in {there}."), slot)
    else:
        why = _pick(("Seller threads show where supply and margins are heading before the listings do.",
                     f"People who stock {st.ref} are comparing notes in public, which usually comes before a wave of copies."),
                    slot)
    return TrendCopy(
        cluster_id=p.cluster_id,
        headline=headline,
        signal=signal,
        why_it_matters=why,
        corroboration="",
        caveat="",
        claim=_claim_line(claim, slot) if claim else "",
        action="" if attached_to else action(st, S.SELLERS, thread),
        links=_links(p, [thread] if thread else []),
        focus_key=thread.key if thread else "",
        see_also=attached_to or "",
    )


def section_intro(key: str, payloads: Sequence[TrendPayload]) -> str:
    if not payloads:
        return EMPTY.get(key, "Nothing cleared the bar this week.")
    if key == S.TOP:
        p = payloads[0]
        if p.corroborated:
            labels = [ev.source_label for ev in p.evidence if ev.counted]  # a source near its norm confirms nothing
            uniq = list(dict.fromkeys(labels))
            every = "both show it" if len(uniq) == 2 else "all show it"
            return f"The strongest story that more than one source confirms: {', '.join(uniq[:-1])} and {uniq[-1]} {every}."
        return "No story was confirmed by a second source this run, so this is the strongest single-source one."
    return INTROS.get(key, "")


def audience_line(audience: str) -> str:
    """The lead section's second sentence when a profile names its readers ("Picked for: …")."""
    text = " ".join(audience.split()).rstrip(".")
    return f"Picked for: {text}." if text else ""


def write_json(key: str, payloads: Sequence[TrendPayload], *, first_slot: int = 0,
               attached: dict[str, str] | None = None, audience: str = "") -> dict:
    """One section as the writer's JSON shape (intro, items, bullets): what the offline model answers.
    `audience` (a profile's note on who reads it) is named under the lead story's intro."""
    attached = attached or {}
    items: list[TrendCopy] = []
    for i, p in enumerate(payloads):
        slot = first_slot + i
        if key == S.SELLERS:
            items.append(thread_copy(p, slot, attached.get(p.cluster_id)))

        elif key != S.ACTIONS:
            items.append(story_copy(p, key, slot))
    intro = section_intro(key, payloads)
    if key == S.TOP and payloads and audience_line(audience):
        intro = f"{intro} {audience_line(audience)}"
    return {"intro": intro, "items": [c.model_dump() for c in items], "bullets": []}


class TemplateWriter:
    """Writes every section from the evidence. Deterministic, free, always grounded: never worth a retry."""

    name = "templates"
    offline = True
    can_revise = False

    masthead = Masthead()  # its audience note is named under the lead story (subclasses may skip __init__)

    def __init__(self, masthead: Masthead | None = None) -> None:
        if masthead is not None:
            self.masthead = masthead

    def write_section(self, spec: SectionSpec, trends: list[Trend], report: GatherReport) -> Section:
        body = write_json(spec.key, [trend_payload(t) for t in trends], first_slot=spec.first_slot,
                          attached=spec.attached, audience=self.masthead.audience)
        return Section(key=spec.key, title=spec.title, intro=body["intro"],
                       items=[TrendCopy.model_validate(c) for c in body["items"]])
