"""Tokens and cost per call, per run and per agent.

WHY: every model call costs money, failed runs included; people need one line at the end of a run
that says what it cost, and the store keeps the history. Prices are a table keyed by model-family
prefix so new model versions are priced without code changes (settings can override it).
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel

from ..config import Settings
from ..store import Store


class Price(BaseModel):
    """USD per million tokens. Cache prices default to 0.1× (read), 1.25× (5-minute write) and 2× (1-hour
    write) of input."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None

    def cost(self, u: CallUsage) -> float:
        read = self.cache_read if self.cache_read is not None else self.input * 0.1
        write = self.cache_write if self.cache_write is not None else self.input * 1.25
        write_1h = self.cache_write_1h if self.cache_write_1h is not None else self.input * 2.0
        long = min(u.cache_write_1h_tokens, u.cache_write_tokens)
        return (
            u.input_tokens * self.input
            + u.output_tokens * self.output
            + u.cache_read_tokens * read
            + (u.cache_write_tokens - long) * write
            + long * write_1h
        ) / 1_000_000


# Check the current pricing page (https://docs.anthropic.com/en/docs/about-claude/pricing) before
# trusting these; override with AICA_MODEL_PRICES. Longest matching prefix wins.
DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus": Price(input=5.0, output=25.0),
    "claude-sonnet": Price(input=3.0, output=15.0),
    "claude-haiku": Price(input=1.0, output=5.0),
    "offline-model": Price(input=0.0, output=0.0),  # agents/offline.py: free, counted so runs look the same
}
BATCH_DISCOUNT = 0.5  # Message Batches are billed at half the price of ordinary calls (input, output and cache)


def price_table(settings: Settings | None) -> dict[str, Price]:
    table = dict(DEFAULT_PRICES)
    if settings is not None:
        for prefix, spec in settings.model_prices.items():
            table[prefix] = Price.model_validate(spec)
    return table


def price_for(model: str, table: dict[str, Price]) -> Price | None:
    matches = [p for p in table if model.startswith(p)]
    return table[max(matches, key=len)] if matches else None


class CallUsage(BaseModel):
    agent: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens written with the 1-hour TTL
    served_by: str | None = None  # the model id the server reported, when it differs from the configured one
    cost_usd: float = 0.0
    priced: bool = True
    calls: int = 1
    batch: bool = False  # a Message Batches entry: priced at BATCH_DISCOUNT


def _field(usage: Any, name: str) -> int:
    value = getattr(usage, name, None)
    if value is None and isinstance(usage, dict):
        value = usage.get(name)
    return int(value or 0)


class RunUsage:
    """Accumulates usage of one run (thread-safe: tools may run in parallel); persists each call."""

    def __init__(
        self, run_id: str, *, prices: dict[str, Price] | None = None, store: Store | None = None
    ) -> None:
        self.run_id = run_id
        self.prices = prices if prices is not None else dict(DEFAULT_PRICES)
        self.store = store
        self.calls: list[CallUsage] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, run_id: str, store: Store | None = None) -> RunUsage:
        return cls(run_id, prices=price_table(settings), store=store)

    def add(
        self, agent: str, model: str, usage: Any, served_by: str | None = None, *, batch: bool = False
    ) -> CallUsage:
        """Record one API response's `usage` (an SDK `Usage` or a dict with the same keys), priced by
        `model` (the configured id); `served_by` is the id the server reported when it differs;
        `batch`: the reply came from a Message Batch (half price)."""
        creation = getattr(usage, "cache_creation", None)
        if creation is None and isinstance(usage, dict):
            creation = usage.get("cache_creation")
        call = CallUsage(
            agent=agent,
            model=model,
            input_tokens=_field(usage, "input_tokens"),
            output_tokens=_field(usage, "output_tokens"),
            cache_read_tokens=_field(usage, "cache_read_input_tokens"),
            cache_write_tokens=_field(usage, "cache_creation_input_tokens"),
            cache_write_1h_tokens=_field(creation, "ephemeral_1h_input_tokens") if creation is not None else 0,
            served_by=served_by if served_by and served_by != model else None,
            batch=batch,
        )
        price = price_for(model, self.prices)
        call.priced = price is not None
        call.cost_usd = (price.cost(call) * (BATCH_DISCOUNT if batch else 1.0)) if price else 0.0
        with self._lock:
            self.calls.append(call)
        if self.store is not None:
            self.store.add_usage(
                self.run_id,
                agent,
                model,
                call.input_tokens,
                call.output_tokens,
                call.cache_read_tokens,
                call.cache_write_tokens,
                call.cost_usd,
            )
        return call

    def _sum(self, calls: list[CallUsage], agent: str, model: str) -> CallUsage:
        return CallUsage(
            agent=agent,
            model=model,
            input_tokens=sum(c.input_tokens for c in calls),
            output_tokens=sum(c.output_tokens for c in calls),
            cache_read_tokens=sum(c.cache_read_tokens for c in calls),
            cache_write_tokens=sum(c.cache_write_tokens for c in calls),
            cost_usd=sum(c.cost_usd for c in calls),
            priced=all(c.priced for c in calls),
            calls=len(calls),
        )

    def total(self) -> CallUsage:
        with self._lock:
            calls = list(self.calls)
        models = sorted({c.model for c in calls})
        return self._sum(calls, "all", ",".join(models))

    def by_agent(self) -> dict[str, CallUsage]:
        with self._lock:
            calls = list(self.calls)
        out: dict[str, CallUsage] = {}
        for agent in dict.fromkeys(c.agent for c in calls):
            mine = [c for c in calls if c.agent == agent]
            out[agent] = self._sum(mine, agent, ",".join(sorted({c.model for c in mine})))
        return out

    @property
    def cost_usd(self) -> float:
        return self.total().cost_usd

    def summary(self) -> str:
        """One line for the end of a CLI run."""
        t = self.total()
        if t.calls == 0:
            return "usage: no model calls"
        cost = f"${t.cost_usd:.4f}" if t.priced else f"${t.cost_usd:.4f} (+ unpriced model calls)"
        per_agent = ", ".join(f"{a} {u.calls} calls ${u.cost_usd:.4f}" for a, u in self.by_agent().items())
        with self._lock:
            served = sorted({c.served_by for c in self.calls if c.served_by})
        if served:
            per_agent += f"; priced as {t.model}, served as {', '.join(served)}"
        return (
            f"usage: {t.calls} model calls, {t.input_tokens:,} in / {t.output_tokens:,} out tokens"
            f" (cache read {t.cache_read_tokens:,}, cache write {t.cache_write_tokens:,}), cost {cost}"
            f" [{per_agent}]"
        )
