"""Which agent tools the MCP server serves, and how each call is bound.

WHY no schemas here: every tool is the agents' own `agents.tools.Tool`, built from the typed method
the agent itself calls, so its name, description, input schema, argument validation, safe error text
and result serialisation are the ones Claude sees through `ask` (one source of truth).

WHY explicit allowlists: a write tool added to an agent later is not served until it is listed here.
Shop writes stay proposals: `propose_*` only records one, approving is a person's CLI step.

Refresh rules are `ask`'s (agents/trend.py): each call reads the latest stored run younger than
`AICA_RUN_MAX_AGE_H` and gathers only when there is none; a model-initiated `gather(refresh=true)`
re-gathers at most once per call, and for live sources only when the server was started with
`--allow-refresh` (the user's say-so).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from ..agents.proposals import ProposalStore
from ..agents.tiktok_shop import ShopReader, ShopTools, default_shop_factory
from ..agents.tools import Tool, ToolOutcome
from ..agents.trend import GatherFn, TrendTools
from ..config import Settings
from ..store import Store

TREND_TOOLS = ("gather", "list_trends", "trend_detail", "item_history", "recently_featured")
SHOP_READ_TOOLS = ("shop_status", "list_shops", "search_products", "inventory", "orders_summary",
                   "shop_performance", "product_performance", "video_performance", "list_proposals")
SHOP_PROPOSAL_TOOLS = ("propose_price_change", "propose_inventory_change")
ACTOR = "mcp"  # the audit log's actor for shop tool calls made through the MCP server


class ServeOptions(BaseModel):
    """How `ai-content-agents mcp` was started."""

    mode: Literal["auto", "sample", "live"] = "auto"
    allow_refresh: bool = False  # the user's say-so for model-initiated live re-gathers
    tools: Literal["all", "trends", "shop"] = "all"


class ServedTool(BaseModel):
    """What a client is told about one tool; `spec` is the agent's own definition."""

    model_config = {"arbitrary_types_allowed": True}

    spec: Tool
    group: Literal["trends", "shop"]
    read_only: bool


class Catalogue:
    """The served tools over one settings/store. Trend calls get a fresh `TrendTools` each (so a long-running
    server sees newer stored runs); shop calls share one `ShopTools` (one client, one rate limiter)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        options: ServeOptions | None = None,
        *,
        gather_fn: GatherFn | None = None,
        shop_factory: Callable[[], ShopReader] | None = None,
        run_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.options = options or ServeOptions()
        self._gather_fn = gather_fn
        self.run_id = run_id or f"mcp-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        self.proposals = ProposalStore(store)
        self._shop = ShopTools(settings, self.proposals, shop_factory or default_shop_factory(settings, store),
                               run_id=self.run_id)
        self._shop_registry = self._shop.registry()
        self._trend_lock = threading.Lock()  # one gather at a time: two clients never pay for two runs
        self._shop_lock = threading.Lock()  # one client, one token store, one rate limiter
        self._served: dict[str, ServedTool] = {}
        if self.options.tools in ("all", "trends"):
            trend_registry = self.trend_tools().registry()
            for name in TREND_TOOLS:
                self._add(trend_registry.get(name), "trends", read_only=name != "gather")
        if self.options.tools in ("all", "shop"):
            for name in (*SHOP_READ_TOOLS, *SHOP_PROPOSAL_TOOLS):
                self._add(self._shop_registry.get(name), "shop", read_only=name in SHOP_READ_TOOLS)

    def _add(self, spec: Tool | None, group: Literal["trends", "shop"], *, read_only: bool) -> None:
        if spec is None:  # pragma: no cover - an allowlisted name the agent no longer has
            raise LookupError("an allowlisted tool is missing from its agent")
        self._served[spec.name] = ServedTool(spec=spec, group=group, read_only=read_only)

    def trend_tools(self) -> TrendTools:
        """A fresh `TrendTools` bound like `ask`'s (no forced refresh; model refresh only when allowed)."""
        return TrendTools(self.settings, self.store, gather_fn=self._gather_fn, mode=self.options.mode,
                          refresh=False, allow_model_refresh=self.options.allow_refresh)

    def tools(self) -> list[ServedTool]:
        return list(self._served.values())

    def get(self, name: str) -> ServedTool | None:
        return self._served.get(name)

    def call(self, name: str, arguments: object) -> ToolOutcome:
        """Validate, run and serialise one call. Never raises: failures are short, fixed `is_error` texts."""
        served = self._served.get(name)
        if served is None:
            shown = "".join(ch for ch in str(name) if ch.isalnum() or ch in "_-")[:64]
            return ToolOutcome(content=f"unknown tool '{shown}'; available tools: {', '.join(self._served)}",
                               is_error=True)
        if served.group == "trends":
            with self._trend_lock:
                registry = self.trend_tools().registry()
                return registry.run(name, arguments)
        with self._shop_lock:
            outcome = self._shop_registry.run(name, arguments)
            self.proposals.audit(run_id=self.run_id, actor=ACTOR, tool=name,
                                 input=arguments if isinstance(arguments, dict) else {}, result=outcome.content,
                                 is_error=outcome.is_error, approver=None if served.read_only else "mcp client")
        return outcome
