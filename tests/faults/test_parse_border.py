"""The parse border (sources/clean.py): bad content costs at most its own row, never a source or a run.

Every source's real parser runs on its bundled sample rows with faults injected (half an emoji in every
string, 10**400 in every numeric field, megabyte titles, garbage rows) and the items go on through the real
pipeline into SQLite and the newsletter's JSON.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from ai_content_agents import pipeline
from ai_content_agents.models import FetchResult, Parsed, TrendItem
from ai_content_agents.sources import SOURCE_MODULES, load
from ai_content_agents.sources.clean import Limits, clean_item, clean_raw, parse_source
from ai_content_agents.sources.sample import load_sample

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SOURCES = list(SOURCE_MODULES)
HALF_EMOJI = "\ud83d"  # the first half of 😀: what a JavaScript scraper leaves when it cuts a string


def _strings(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))
    elif isinstance(value, str):
        yield path


def _numbers(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, (*path, i))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path


def _set(doc: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _live(name: str, rows: list[Any]) -> SimpleNamespace:
    """The real source module with its fetch replaced by `rows` (parse and score are the real ones)."""
    real = load(name)
    return SimpleNamespace(
        NAME=name,
        not_configured=lambda settings: None,
        fetch=lambda settings, store=None: FetchResult(raw_items=copy.deepcopy(rows)),
        parse=real.parse,
        score=real.score,
        SCORE_SETTINGS=getattr(real, "SCORE_SETTINGS", {}),
    )


def _no_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize("name", SOURCES)
def test_half_an_emoji_in_every_string_goes_through_parse_and_store(name, settings, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample(name)
    dirty = copy.deepcopy(rows)
    for row in dirty:
        for path in list(_strings(row)):
            _set(row, path, _get(row, path) + HALF_EMOJI)
    monkeypatch.setattr(pipeline, "load", lambda n: _live(n, dirty))
    report = pipeline.gather(settings, store, sources=[name], mode="live", now=NOW)
    rep = report.sources[0]
    assert rep.status == "ok" and rep.items > 0, rep
    assert not report.sample
    # everything that was stored, and everything an output would serialise, is valid UTF-8
    dump = json.dumps(report.model_dump(mode="json"), ensure_ascii=False)
    assert _no_surrogates(dump)
    with sqlite3.connect(settings.db_path) as db:
        titles = [r[0] for r in db.execute("SELECT title FROM observations WHERE source = ?", (name,))]
        cache = db.execute("SELECT items_json FROM source_cache WHERE source = ?", (name,)).fetchone()
    assert len(titles) == rep.items and cache is not None
    assert all(_no_surrogates(t) for t in titles)


@pytest.mark.parametrize("name", SOURCES)
def test_a_parser_that_lets_a_surrogate_through_is_cleaned_after_parse(name) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample(name)
    real = load(name)

    def leaky(raw: list, observed_at: datetime | None = None) -> Parsed:
        out = real.parse(raw, observed_at)
        for item in out:
            item.title += HALF_EMOJI
            item.text += "\x00" + HALF_EMOJI
            item.links.append("https://example.com/" + HALF_EMOJI)
        return out

    module = SimpleNamespace(NAME=name, parse=leaky)
    parsed = parse_source(module, copy.deepcopy(rows), NOW)  # type: ignore[arg-type]
    assert parsed and all(_no_surrogates(it.model_dump_json()) for it in parsed)
    assert all(it.raw is None for it in parsed)  # the raw row is not kept past the border


@pytest.mark.parametrize("name", SOURCES)
def test_ten_to_the_400_in_any_numeric_field_costs_at_most_that_row(name) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample(name)
    module = load(name)
    baseline = len(module.parse(copy.deepcopy(rows), NOW))
    paths = sorted({p for p in _numbers(rows[0])}, key=str)
    assert paths, f"{name}: the first sample row has no numeric field"
    for path in paths:
        for huge in (10**400, 1e400, -(10**400), "1" + "0" * 400):
            doc = copy.deepcopy(rows)
            _set(doc[0], path, huge)
            direct = module.parse(copy.deepcopy(doc), NOW)  # the parser alone never raises...
            assert len(direct) >= baseline - 1, (name, path, huge)
            bordered = parse_source(module, doc, NOW)  # ...and at the border a huge integer is only a missing field
            assert len(bordered) >= baseline - 1, (name, path, huge)
            assert all(all(abs(v) < 1e308 for v in it.metrics.values()) for it in bordered)


def test_a_parser_that_raises_costs_only_the_rows_that_make_it_raise() -> None:
    def parse(raw: list, observed_at: datetime | None = None) -> Parsed:
        out = Parsed()
        for row in raw:
            if row.get("boom"):
                raise OverflowError("int too large to convert to float")
            out.append(TrendItem(source="x", source_id=str(row["id"]), title="t", url="https://x.com/i",
                                 observed_at=NOW))
        return out

    module = SimpleNamespace(NAME="x", parse=parse)
    rows = [{"id": 1}, {"id": 2, "boom": True}, {"id": 3}]
    parsed = parse_source(module, rows, NOW)  # type: ignore[arg-type]
    assert [it.source_id for it in parsed] == ["1", "3"] and parsed.skipped == {"invalid row": 1}


def test_every_text_field_is_capped_and_the_cut_is_counted() -> None:
    limits = Limits(title_chars=50, text_chars=200, field_chars=120, items=3)
    item = TrendItem(
        source="amazon", source_id="B0X", title="T" * 16_000, url="https://www.amazon.com/dp/B0X", text="w" * 10_000,
        author="a" * 500, brand="b" * 500, links=["https://e.com/" + "x" * 500, "https://e.com/ok"],
        metrics={"position": 3.0, "price": float("inf")}, observed_at=NOW,
    )
    from collections import Counter

    cut: Counter[str] = Counter()
    kept = clean_item(item, limits, cut)
    assert isinstance(kept, TrendItem)
    assert len(kept.title) == 50 and kept.title.endswith("…") and len(kept.text) == 200
    assert len(kept.author or "") <= 120 and len(kept.brand or "") <= 120
    assert kept.links == ["https://e.com/ok"] and kept.metrics == {"position": 3.0}
    assert cut == {"titles shortened": 1, "texts shortened": 1, "fields shortened": 2, "links dropped": 1,
                   "non-finite metrics dropped": 1}
    too_long = item.model_copy(update={"url": "https://e.com/" + "u" * 500})
    assert clean_item(too_long, limits, Counter()) == "id or url too long"


def test_rows_over_the_item_cap_are_not_read_and_are_reported(settings, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("tiktok")
    settings.max_items_per_source = 5
    monkeypatch.setattr(pipeline, "load", lambda n: _live(n, rows))
    rep = pipeline.gather(settings, store, sources=["tiktok"], mode="live", now=NOW).sources[0]
    assert rep.status == "ok" and rep.items <= 5
    assert rep.cut["rows over the item cap"] == len(rows) - 5


def test_deep_nesting_and_huge_strings_are_bounded_before_parse() -> None:
    deep: Any = "leaf"
    for _ in range(5_000):
        deep = [deep]
    row = {"title": "x" * 1_000_000, "nested": deep, "n": 10**500, "k\ud83d": "v"}
    clean_raw(row, 1000)
    assert len(row["title"]) == 1000 and row["n"] is None and "k" in row
    depth, node = 0, row["nested"]
    while isinstance(node, list):
        node, depth = node[0], depth + 1
    assert depth < 40


def test_garbage_rows_dropped_before_parse_are_counted(monkeypatch, settings, store) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("tiktok")
    garbage = ["<html>", 42, None, [1, 2]]
    monkeypatch.setattr(pipeline, "load", lambda n: _live(n, [*rows, *garbage]))
    rep = pipeline.gather(settings, store, sources=["tiktok"], mode="live", now=NOW).sources[0]
    assert rep.skipped_reasons.get("not a dict") == len(garbage)
    assert rep.items + rep.skipped_items >= len(rows) + len(garbage) - rep.skipped_reasons.get("duplicate", 0)


def test_a_source_whose_rows_are_all_malformed_fails_and_falls_back(settings, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows, _ = load_sample("x")
    monkeypatch.setattr(pipeline, "load", lambda n: _live(n, rows))
    pipeline.gather(settings, store, sources=["x"], mode="live", now=NOW)  # a good run: cached
    monkeypatch.setattr(pipeline, "load", lambda n: _live(n, [{"junk": i} for i in range(4)]))
    rep = pipeline.gather(settings, store, sources=["x"], mode="live", now=NOW).sources[0]
    assert rep.status == "stale" and "no usable rows: 4 skipped" in rep.reason and rep.items > 0
