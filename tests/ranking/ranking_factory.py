"""Small builders for scored TrendItems (no sample files): each test states exactly what it feeds in."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ai_content_agents.models import Signals, TrendItem

NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)
_ids = itertools.count(1)


def item(
    source: str = "tiktok",
    title: str = "thing",
    s: float = 0.0,
    *,
    q: float = 0.0,
    sid: str | None = None,
    eligible: bool = True,
    flags: Sequence[str] = (),
    baseline: float | None = None,
    velocity: float | None = None,
    age_h: float | None = 0.0,
    canonical_ids: Sequence[str] = (),
    links: Sequence[str] = (),
    category: str | None = None,
    brand: str | None = None,
    price: str | None = None,
    currency: str | None = "USD",
    metrics: dict[str, float] | None = None,
    url: str | None = None,
    is_commerce: bool = False,
    commerce_reasons: Sequence[str] = (),
) -> TrendItem:
    sid = sid or f"id{next(_ids)}"
    return TrendItem(
        source=source,
        source_id=sid,
        title=title,
        url=url or f"https://example.com/{source}/{sid}",
        category=category,
        brand=brand,
        price=Decimal(price) if price is not None else None,
        currency=currency if price is not None else None,
        canonical_ids=list(canonical_ids),
        links=list(links),
        metrics=metrics or {},
        published_at=NOW - timedelta(hours=age_h) if age_h is not None else None,
        observed_at=NOW,
        is_commerce=is_commerce,
        commerce_reasons=list(commerce_reasons),
        signals=Signals(
            metric="x",
            value=1.0,
            baseline=baseline,
            s=s,
            q=q,
            velocity=velocity,
            eligible=eligible,
            flags=list(flags),
        ),
    )


def fillers(source: str, svals: Sequence[float], *, age_h: float = 0.0) -> list[TrendItem]:
    """Unrelated items with unique nonsense titles (they never merge with anything)."""
    out = []
    for k, s in enumerate(svals):
        tag = f"{source}{k}q{next(_ids)}"
        out.append(item(source, f"zz{tag}a yy{tag}b", s, age_h=age_h))
    return out


def population(source: str, targets: dict[str, float], n: int, make) -> list[TrendItem]:  # type: ignore[no-untyped-def]
    """n items of one source in which each target gets exactly percentile p (ties where p needs a
    half rank). `make(name, s)` builds the target item; the rest are fillers."""
    svals = [float(k) for k in range(1, n + 1)]  # s at rank position k (1-based) = k
    taken: dict[int, str] = {}
    for name, p in targets.items():
        r = round((p * n + 0.5) * 2) / 2
        if r.is_integer():
            taken[int(r)] = name
        else:  # half rank: the target ties with the filler just above it
            lo = int(r - 0.5)
            svals[lo] = svals[lo - 1]
            taken[lo] = name
    out: list[TrendItem] = []
    free = [svals[k - 1] for k in range(1, n + 1) if k not in taken]
    out += fillers(source, free)
    for pos, name in taken.items():
        out.append(make(name, svals[pos - 1]))
    return out


def listing(title: str, asin: str, q: float = 0.0, **kw) -> TrendItem:  # type: ignore[no-untyped-def]
    """An Amazon listing row (undated: aged from its capture)."""
    kw.setdefault("age_h", None)
    return item("amazon", title, q, q=q, sid=asin, canonical_ids=[f"asin:{asin}"],
                url=f"https://www.amazon.com/dp/{asin}", **kw)


def other_listings(n: int = 10) -> list[TrendItem]:
    """Unrelated listings (brand-led titles), so the run has enough listings to learn its brands from."""
    return [listing(f"Zorb{k}co Quilted Thing{k} Holder{k}", f"B0FILL{k:04d}") for k in range(n)]
